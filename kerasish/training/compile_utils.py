"""What `compile(loss=, loss_weights=, metrics=)` means for a model's outputs, as Keras 3 reads it.

One output: one loss, a flat list of metrics. Several outputs (a list or a dict of them): `loss` is
one loss for every output, a list in output order, or a dict keyed by output name; `loss_weights`
likewise; `metrics` a list of lists or a dict of lists. Each output with a loss gets a loss tracker
named `<output>_loss` (the unweighted loss), and each metric is named `<output>_<metric>`, so
History keys are Keras's (`loss`, `priority_loss`, `department_accuracy`, `val_...`).

An output that carries a timestep mask (`Embedding(mask_zero=True)`, `Masking`, an RNN with
`return_sequences`) has its loss averaged over the unmasked steps only, and its metrics weighted by
the mask, as Keras 3's losses and metrics read `_keras_mask`.

Owns: resolving those arguments against the output structure once the shapes are known, the
compiled loss (pure, jit-safe), and the per-output metric wrappers. Must not: know about models.
"""

from __future__ import annotations

from typing import Any, Sequence

import jax
import jax.numpy as jnp

from kerasish import losses as losses_lib
from kerasish import metrics as metrics_lib
from kerasish.layers.masks import get_keras_mask


def is_shape(value: Any) -> bool:
    return isinstance(value, tuple) and all(d is None or isinstance(d, int) for d in value)


class OutputStructure:
    """The model's outputs: `keys` (None for one output; else dict keys or list indices) and names."""

    def __init__(self, output_shapes: Any, names: Sequence[str] | None):
        self.single = is_shape(output_shapes)
        if self.single:
            self.keys, self.names, self.shapes = None, [], [output_shapes]
        elif isinstance(output_shapes, dict):
            self.keys = list(output_shapes)
            self.names = [str(k) for k in self.keys]
            self.shapes = [output_shapes[k] for k in self.keys]
        else:
            self.keys = list(range(len(output_shapes)))
            self.names = list(names) if names and len(names) == len(self.keys) else \
                [f"output_{i}" for i in self.keys]
            self.shapes = list(output_shapes)

    def pick_weight(self, sample_weight: Any, position: int) -> Any:
        """Output `position`'s sample weights: one array for every output, or one per output."""
        if sample_weight is None or hasattr(sample_weight, "shape"):
            return sample_weight
        return self.pick(sample_weight, position, "sample weights")

    def pick(self, tree: Any, position: int, what: str) -> Any:
        """Output `position`'s part of `tree` (targets or predictions, given as a list or a dict)."""
        if self.single:
            if isinstance(tree, (list, tuple)) and len(tree) == 1:
                return tree[0]
            return tree
        key, name = self.keys[position], self.names[position]
        if isinstance(tree, dict):
            if key in tree:
                return tree[key]
            if name in tree:
                return tree[name]
            raise ValueError(f"Missing {what} for output '{name}': expected a dict with the keys {self.names}, "
                             f"received the keys {sorted(map(str, tree))}.")
        if isinstance(tree, (list, tuple)):
            if len(tree) != len(self.keys):
                raise ValueError(f"Expected {what} for {len(self.keys)} outputs {self.names}; received a "
                                 f"{type(tree).__name__} of {len(tree)}.")
            return tree[position]
        raise ValueError(f"The model has {len(self.keys)} outputs {self.names}: pass {what} as a list or a dict "
                         f"keyed by output name. Received a single array.")


def _per_output(argument: Any, outputs: OutputStructure, what: str, single_ok: bool) -> list:
    """`argument` spread over the outputs (Keras's list/dict rules and errors)."""
    n = len(outputs.keys)
    if isinstance(argument, dict):
        unknown = [k for k in argument if k not in outputs.names and k not in outputs.keys]
        if unknown:
            raise ValueError(f"In the dict argument `{what}`, key '{unknown[0]}' does not correspond to any model "
                             f"output. Received: {what}={argument}")
        return [argument.get(name, argument.get(key)) for key, name in zip(outputs.keys, outputs.names)]
    if isinstance(argument, (list, tuple)):
        if len(argument) != n:
            raise ValueError(f"For a model with multiple outputs, when providing the `{what}` argument as a list, it "
                             f"should have as many entries as the model has outputs. Received: {what}={argument} "
                             f"of length {len(argument)} whereas the model has {n} outputs.")
        return list(argument)
    if single_ok:
        return [argument] * n
    raise ValueError(f"`{what}` should be a list or a dict with one entry per output {outputs.names} for a model "
                     f"with several outputs. Received: {what}={argument}")


class CompiledLoss:
    """The compiled loss of a model: per-output losses, their weights, and the loss trackers."""

    def __init__(self, loss: Any, loss_weights: Any, outputs: OutputStructure):
        self.outputs = outputs
        if outputs.single:
            if isinstance(loss, dict) or (isinstance(loss, (list, tuple)) and len(loss) != 1):
                raise ValueError(f"The model has a single output; `loss` should be one loss. Received: loss={loss}")
            if isinstance(loss, (list, tuple)):
                loss = loss[0]
            if loss_weights is not None and not isinstance(loss_weights, (int, float)):
                loss_weights = _per_output(loss_weights, OutputStructure(((None,),), None), "loss_weights", True)[0]
            self.entries = [] if loss is None else [(0, losses_lib.get(loss), float(loss_weights or 1.0))]
            self.trackers = []
            return
        per_loss = _per_output(loss, outputs, "loss", single_ok=True)
        weights = [1.0] * len(outputs.keys) if loss_weights is None else \
            _per_output(loss_weights, outputs, "loss_weights", single_ok=False)
        self.entries = [(i, losses_lib.get(fn), 1.0 if w is None else float(w))
                        for i, (fn, w) in enumerate(zip(per_loss, weights)) if fn is not None]
        self.trackers = [OutputLoss(self, i, fn, f"{outputs.names[i]}_loss") for i, fn, _ in self.entries]

    def __call__(self, y, y_pred, sample_weight, mask):
        """The weighted sum of the outputs' losses, each averaged over the real rows of the batch."""
        total = jnp.zeros((), jnp.float32)
        for position, fn, weight in self.entries:
            total = total + weight * self.output_loss(position, fn, y, y_pred, sample_weight, mask)
        return total

    def output_loss(self, position, fn, y, y_pred, sample_weight, mask):
        target = self.outputs.pick(y, position, "targets")
        prediction = self.outputs.pick(y_pred, position, "predictions")
        steps = get_keras_mask(prediction)
        per_sample = fn.call(target, prediction.astype(jnp.float32)).astype(jnp.float32)
        sample_weight = self.outputs.pick_weight(sample_weight, position)
        weights = jnp.ones(per_sample.shape[:1], jnp.float32) if sample_weight is None else sample_weight
        if steps is not None and jnp.ndim(steps) <= per_sample.ndim:  # the mean over the unmasked steps
            steps = _like(steps, per_sample) * _like(weights != 0 if mask is None else mask, per_sample)
            return jnp.sum(per_sample * _like(weights, per_sample) * steps) / jnp.maximum(jnp.sum(steps), 1.0)
        if per_sample.ndim > 1:  # e.g. mse on (batch, h, w): Keras averages over every element
            per_sample = jnp.mean(per_sample, axis=tuple(range(1, per_sample.ndim)))
        count = jnp.sum(mask) if mask is not None else jnp.asarray(per_sample.shape[0], jnp.float32)
        return jnp.sum(per_sample * weights) / jnp.maximum(count, 1.0)


def _like(values, target):
    """`values` (batch, ...) as float32 broadcast against `target`'s shape (trailing axes added)."""
    values = jnp.asarray(values, jnp.float32)
    values = values.reshape(values.shape + (1,) * (target.ndim - values.ndim))
    return jnp.broadcast_to(values, target.shape)


class OutputLoss(metrics_lib.Mean):
    """`<output>_loss`: the mean unweighted loss of one output (a functional metric for the step)."""

    def __init__(self, compiled: CompiledLoss, position: int, fn, name: str):
        self._compiled, self._position, self._fn = compiled, position, fn
        super().__init__(name=name)

    def update(self, state, y_true, y_pred, sample_weight=None):
        sample_weight = self._compiled.outputs.pick_weight(sample_weight, self._position)
        mask = None if sample_weight is None else (sample_weight != 0).astype(jnp.float32)
        value = self._compiled.output_loss(self._position, self._fn, y_true, y_pred, sample_weight, mask)
        count = jnp.sum(mask) if mask is not None else jnp.asarray(jax.tree.leaves(y_pred)[0].shape[0], jnp.float32)
        return super().update(state, value * jnp.ones((1,)), sample_weight=count * jnp.ones((1,)))


class OnOutput:
    """A metric applied to one output of a multi-output model, named `<output>_<metric>`."""

    def __init__(self, metric, outputs: OutputStructure, position: int):
        self.metric, self.outputs, self.position = metric, outputs, position
        self.name = f"{outputs.names[position]}_{metric.name}"

    def init(self):
        return self.metric.init()

    def update(self, state, y_true, y_pred, sample_weight=None):
        return self.metric.update(state, self.outputs.pick(y_true, self.position, "targets"),
                                  self.outputs.pick(y_pred, self.position, "predictions"),
                                  self.outputs.pick_weight(sample_weight, self.position))

    def compute(self, state):
        return self.metric.compute(state)


def resolve_metrics(identifiers: Any, outputs: OutputStructure, y_shapes: Any) -> list:
    """The metric objects of `compile(metrics=...)` for these outputs (shapes decide "accuracy")."""
    if not identifiers:
        return []
    if outputs.single:
        if isinstance(identifiers, dict):
            raise ValueError("The model has a single output: pass `metrics` as a list. Received a dict.")
        y_shape = y_shapes if is_shape(y_shapes) or y_shapes is None else outputs.pick(y_shapes, 0, "targets")
        return [_built(metrics_lib.get(m, y_shape, outputs.shapes[0]), y_shape, outputs.shapes[0])
                for m in identifiers]
    per_output = _per_output(identifiers, outputs, "metrics", single_ok=False)
    resolved = []
    for position, group in enumerate(per_output):
        if group is None:
            continue
        group = group if isinstance(group, (list, tuple)) else [group]
        y_shape = None if y_shapes is None else outputs.pick(y_shapes, position, "targets")
        for identifier in group:
            metric = _built(metrics_lib.get(identifier, y_shape, outputs.shapes[position]), y_shape,
                            outputs.shapes[position])
            resolved.append(OnOutput(metric, outputs, position))
    return resolved


def _built(metric, y_shape, y_pred_shape):
    """Metrics whose state size depends on the data (per-class F1, R2, multi-label AUC) are built for
    these shapes before the compiled step needs their state."""
    if getattr(metric, "built", True) is False and y_shape is not None:
        metric.build(y_shape, y_pred_shape)
    return metric
