"""Pure training, evaluation and prediction steps.

Owns: the maths of one step (forward through the model's NNX graph, `model.compute_loss`, gradient,
optimizer update, constraints, metric update) and the scheme that runs `k` steps in one compiled call, gathering each batch from data
already on the device. Must not: touch Python objects' state, read values back to the host, or
import `kerasish.models`. Everything here is a function of pytrees, built once per compiled model
and handed to `jax.jit` by `training.compiled`.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple, Sequence

import jax
import jax.numpy as jnp
import optax
from flax import nnx

from kerasish.layers import context
from kerasish.layers.masks import get_keras_mask
from kerasish.mixed_precision import loss_scale


class TrainState(NamedTuple):
    """Everything a training step changes: trainable params, the rest of the model's variables
    (non-trainable weights, batch statistics, seed generator states) and the optimizer state."""
    params: Any
    rest: Any
    opt_state: Any


class StepSpec(NamedTuple):
    """What a step needs to know about the model; all static (hashable or closed over)."""
    graph: Any                # nnx GraphDef of the model, split as (graph, params, rest)
    metrics: Sequence[Any]    # functional metrics: init / update / compute
    trainable: Any            # nnx filter selecting the trainable parameters
    scale_loss: Callable[[jax.Array], jax.Array]  # the optimizer's `loss_scale_factor`
    constrained: bool         # whether some parameter has a constraint to apply after each update


def init_metric_state(metrics: Sequence[Any]) -> dict:
    """Loss tracker (weighted sum, count) plus each metric's own state, all on the device."""
    return {"loss": (jnp.zeros((), jnp.float32), jnp.zeros((), jnp.float32)),
            "metrics": [m.init() for m in metrics]}


def _update_metrics(spec, mstate, loss_value, count, y, y_pred, weights, steps):
    weights = timestep_weights(y_pred, weights, steps)
    total, n = mstate["loss"]
    return {"loss": (total + loss_value * count, n + count),
            "metrics": [m.update(s, y, y_pred, weights) for m, s in zip(spec.metrics, mstate["metrics"])]}


def _forward(spec: StepSpec, params, rest, batch, training: bool):
    """The model on one batch: (loss from `model.compute_loss`, y_pred, the model's new `rest`, the
    timestep masks of y_pred's leaves).

    The padded rows' mask is the call context's `row_mask` (BatchNormalization's statistics skip
    them) and multiplies the sample weights (losses and metrics skip them)."""
    x, y, sample_weight, mask = batch
    model = nnx.merge(spec.graph, params, rest, copy=True)
    with context.scope(context.CallContext(training=training, row_mask=mask)):
        y_pred = model(x, training=training)
        loss = model.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=masked(sample_weight, mask),
                                  training=training)
    _, _, rest = nnx.split(model, spec.trainable, ...)
    steps = [get_keras_mask(leaf) for leaf in jax.tree.leaves(y_pred)]
    return jnp.asarray(loss, jnp.float32), y_pred, rest, steps


def timestep_weights(y_pred, weights, steps: list):
    """The metrics' sample weights: `weights`, or, where outputs carry timestep masks (`steps`,
    one per leaf of `y_pred`), per-output weights with the mask multiplied in, shaped like
    `y_pred` (Keras's metrics weight by `_keras_mask`)."""
    if all(m is None for m in steps):
        return weights
    leaves, treedef = jax.tree.flatten(y_pred)
    per_leaf = [weights] * len(leaves) if weights is None or hasattr(weights, "shape") else jax.tree.leaves(weights)
    combined = []
    for w, m in zip(per_leaf, steps):
        if m is not None:
            m = jnp.asarray(m, jnp.float32)
            w = m if w is None else jnp.reshape(w, w.shape + (1,) * (m.ndim - w.ndim)) * m
        combined.append(w)
    return treedef.unflatten(combined)


def adds_batch_losses(graph, params, rest, x) -> bool:
    """Whether the model's forward pass in training adds losses computed from the batch
    (`add_loss`, activity regularizers): those must never see padded rows. Found by tracing the
    forward pass abstractly (`jax.eval_shape`, nothing runs)."""
    found = []

    def forward(params, rest, x):
        model = nnx.merge(graph, params, rest, copy=True)
        ctx = context.CallContext(training=True)
        with context.scope(ctx):
            model(x, training=True)
        found.append(any(ctx.losses.values()))
        return jnp.zeros(())
    jax.eval_shape(forward, params, rest, x)
    return found[0]


def masked(sample_weight, mask):
    """The sample weights (one array, or one per output) times the real-rows mask."""
    return jax.tree.map(lambda w: w * mask, sample_weight)


def apply_constraints(params):
    """Each parameter with a `constraint` (Keras: applied after the optimizer step) projected by it."""
    def project(variable):
        constraint = variable.get_metadata("constraint", None) if isinstance(variable, nnx.Variable) else None
        return variable if constraint is None else variable.replace(constraint(variable.get_value()))
    return jax.tree.map(project, params, is_leaf=lambda v: isinstance(v, nnx.Variable))


def train_step(spec: StepSpec, tx: optax.GradientTransformation, state: TrainState, mstate: dict, batch):
    """One optimizer step on `batch = (x, y, sample_weight, mask)`; mask is 0 on padded rows."""
    x, y, sample_weight, mask = batch
    scale = loss_scale(state.opt_state)  # float16 training: scale the loss, unscale the gradients

    def loss_fn(params, rest):
        loss, y_pred, rest, steps = _forward(spec, params, rest, batch, training=True)
        scaled = spec.scale_loss(loss)
        return (scaled if scale is None else scaled * scale), (loss, y_pred, rest, steps)

    (_, (loss_value, y_pred, rest, steps)), grads = jax.value_and_grad(loss_fn, has_aux=True)(state.params, state.rest)
    if scale is not None:
        grads = jax.tree.map(lambda g: g / scale, grads)
    updates, opt_state = tx.update(grads, state.opt_state, state.params)
    params = optax.apply_updates(state.params, updates)
    if spec.constrained:
        params = apply_constraints(params)
    mstate = _update_metrics(spec, mstate, loss_value, jnp.sum(mask), y, _as_float32(y_pred),
                             masked(sample_weight, mask), steps)
    return TrainState(params, rest, opt_state), mstate


def eval_step(spec: StepSpec, state: TrainState, mstate: dict, batch):
    """Loss and metrics of the model in inference mode; the state is not changed."""
    x, y, sample_weight, mask = batch
    loss_value, y_pred, _, steps = _forward(spec, state.params, state.rest, batch, training=False)
    return _update_metrics(spec, mstate, loss_value, jnp.sum(mask), y, _as_float32(y_pred),
                           masked(sample_weight, mask), steps)


def predict_step(spec: StepSpec, state: TrainState, x):
    model = nnx.merge(spec.graph, state.params, state.rest, copy=True)
    with context.scope(context.CallContext(training=False)):
        return model(x, training=False)


def _as_float32(tree):
    return jax.tree.map(lambda a: a.astype(jnp.float32) if jnp.issubdtype(a.dtype, jnp.floating) else a, tree)


# -- several steps per compiled call --------------------------------------------------------

def gather(data, index):
    """Rows `index` of every array in `data` (a tuple of device arrays, or of pytrees of them)."""
    return tuple(jax.tree.map(lambda a: a[index], part) for part in data)


def run_steps(body: Callable, carry, data, indices, masks, *, use_scan: bool, skip_empty: bool):
    """Runs `body(carry, batch) -> carry` for each row of `indices` (shape [k, batch]).

    With `indices=None`, `data` already holds the k batches stacked ([k, batch, ...], the layout of
    sharded batches) and step i takes `data[i]`.

    `use_scan` compiles one loop body (`lax.scan`); otherwise the k steps are unrolled, which XLA's
    CPU backend runs faster for convolutions. `skip_empty` leaves the carry untouched for a step
    whose mask is all zero (padding steps of the last chunk), so optimizer counters do not move.
    """
    def one(carry, inputs):
        index, mask = inputs
        batch = (*(gather(data, index) if indices is not None else index), mask)
        if skip_empty:
            return jax.lax.cond(jnp.any(mask > 0), body, lambda c, _b: c, carry, batch)
        return body(carry, batch)

    per_step = indices if indices is not None else data
    if use_scan:
        carry, _ = jax.lax.scan(lambda c, i: (one(c, i), None), carry, (per_step, masks))
        return carry
    for k in range(masks.shape[0]):
        carry = one(carry, (jax.tree.map(lambda a, k=k: a[k], per_step), masks[k]))
    return carry
