"""Pure training, evaluation and prediction steps.

Owns: the maths of one step (forward, loss, regularization, gradient, optimizer update, metric
update) and the scheme that runs `k` steps in one compiled call, gathering each batch from data
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

from kerasish.mixed_precision import loss_scale


class TrainState(NamedTuple):
    """Everything a training step changes: trainable params, the rest of the model's variables
    (non-trainable weights, batch statistics, RNG counters) and the optimizer state."""
    params: Any
    rest: Any
    opt_state: Any


class StepSpec(NamedTuple):
    """What a step needs to know about the model; all static (hashable or closed over)."""
    train_graph: Any          # nnx GraphDef in training mode
    eval_graph: Any           # nnx GraphDef in inference mode
    loss: Any                 # Loss with .call(y_true, y_pred) -> per-sample
    metrics: Sequence[Any]    # functional metrics: init / update / compute
    regularization: Callable[[nnx.Module], jax.Array]
    trainable: Any            # nnx filter selecting the trainable parameters
    compute_dtype: Any        # dtype inputs are cast to


def _as_inputs(x, dtype):
    return x.astype(dtype) if jnp.issubdtype(x.dtype, jnp.integer) or x.dtype != dtype else x


def init_metric_state(spec: StepSpec) -> dict:
    """Loss tracker (weighted sum, count) plus each metric's own state, all on the device."""
    return {"loss": (jnp.zeros((), jnp.float32), jnp.zeros((), jnp.float32)),
            "metrics": [m.init() for m in spec.metrics]}


def _update_metrics(spec, mstate, loss_value, count, y, y_pred, weights):
    total, n = mstate["loss"]
    return {"loss": (total + loss_value * count, n + count),
            "metrics": [m.update(s, y, y_pred, weights) for m, s in zip(spec.metrics, mstate["metrics"])]}


def _weighted_loss(spec, y, y_pred, sample_weight, mask):
    per_sample = spec.loss.call(y, y_pred.astype(jnp.float32)).astype(jnp.float32)
    count = jnp.sum(mask)
    return jnp.sum(per_sample * sample_weight * mask) / jnp.maximum(count, 1.0), count


def train_step(spec: StepSpec, tx: optax.GradientTransformation, state: TrainState, mstate: dict, batch):
    """One optimizer step on `batch = (x, y, sample_weight, mask)`; mask is 0 on padded rows."""
    x, y, sample_weight, mask = batch

    def loss_fn(params, rest):
        model = nnx.merge(spec.train_graph, params, rest, copy=True)
        y_pred = model(_as_inputs(x, spec.compute_dtype), mask=mask)
        data_loss, count = _weighted_loss(spec, y, y_pred, sample_weight, mask)
        total = data_loss + spec.regularization(model)
        _, _, rest = nnx.split(model, spec.trainable, ...)
        scaled = total if scale is None else total * scale
        return scaled, (total, y_pred, rest, count)

    scale = loss_scale(state.opt_state)  # float16 training: scale the loss, unscale the gradients
    (_, (loss_value, y_pred, rest, count)), grads = jax.value_and_grad(loss_fn, has_aux=True)(
        state.params, state.rest)
    if scale is not None:
        grads = jax.tree.map(lambda g: g / scale, grads)
    updates, opt_state = tx.update(grads, state.opt_state, state.params)
    params = optax.apply_updates(state.params, updates)
    mstate = _update_metrics(spec, mstate, loss_value, count, y, y_pred.astype(jnp.float32), sample_weight * mask)
    return TrainState(params, rest, opt_state), mstate


def eval_step(spec: StepSpec, state: TrainState, mstate: dict, batch):
    """Loss and metrics of the model in inference mode; the state is not changed."""
    x, y, sample_weight, mask = batch
    model = nnx.merge(spec.eval_graph, state.params, state.rest, copy=True)
    y_pred = model(_as_inputs(x, spec.compute_dtype))
    data_loss, count = _weighted_loss(spec, y, y_pred, sample_weight, mask)
    loss_value = data_loss + spec.regularization(model)
    return _update_metrics(spec, mstate, loss_value, count, y, y_pred.astype(jnp.float32), sample_weight * mask)


def predict_step(spec: StepSpec, state: TrainState, x):
    model = nnx.merge(spec.eval_graph, state.params, state.rest, copy=True)
    return model(_as_inputs(x, spec.compute_dtype))


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
