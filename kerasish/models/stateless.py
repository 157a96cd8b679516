"""Keras 3's stateless model API for JAX, inherited by every `Model`.

`stateless_call(trainable_variables, non_trainable_variables, *args, ...)` runs the model on the
given values and returns the outputs and the new non-trainable values, without changing the model:
it merges a copy of the model's NNX graph (new variable objects, so it works inside any JAX
trace), puts the values in, calls the copy, and reads the non-trainable values back. Together with
`optimizer.stateless_apply` and the metrics' stateless methods, that is what a Keras-style
`train_step(self, state, data)` and a training loop written with `jax.jit` rely on.

Owns: `stateless_call`, `stateless_compute_loss`, Keras's `metrics` list (loss tracker, compiled
metrics, then the metric attributes of the model and its layers), `metrics_variables`,
`reset_metrics`, `get_metrics_result`, and the losses a stateless call leaves for `compute_loss`.
Must not: compile or run training loops (`kerasish.training.custom_step` does).
"""

from __future__ import annotations

from typing import Any, Sequence

import jax
import jax.numpy as jnp
from flax import nnx
from flax.nnx import tracers

from kerasish import metrics as metrics_lib
from kerasish.layers import context
from kerasish.metrics.compile_metrics import CompileMetrics
from kerasish.metrics.stateless_scope import value_of
from kerasish.utils import unpack_x_y_sample_weight


class _ForwardLosses:
    """The losses of the last `stateless_call`, valid in the JAX trace that made them (a static,
    by-identity attribute: not part of the model's graph)."""
    __slots__ = ("trace", "values")

    def __init__(self):
        self.trace, self.values = None, []


def _set(variable: nnx.Variable, value: Any) -> None:
    old = variable.get_value()
    value = jnp.asarray(value_of(value), dtype=old.dtype)
    if value.shape != old.shape:
        raise ValueError(f"Expected a value of shape {old.shape} for variable "
                         f"{variable.get_metadata('path', '?')!r}. Received shape {value.shape}.")
    variable.set_value(value)


def _metrics_in(layer) -> list:
    """Metric objects held by `layer`'s own attributes (also inside lists, tuples and dicts), in
    assignment order."""
    def is_metric(value) -> bool:
        return isinstance(value, (metrics_lib.Metric, CompileMetrics))
    held = [value for key, value in vars(layer).items()
            if key not in ("_loss_tracker", "_compile_metrics") and not key.startswith("_pytree__")]
    found: list = []
    for leaf in jax.tree.leaves(held, is_leaf=is_metric):
        if is_metric(leaf) and all(leaf is not m for m in found):
            found.append(leaf)
    return found


class StatelessModel:
    """The stateless API of `keras.Model` on JAX (mixed into `Model`)."""

    # -- calling on given values -------------------------------------------------------------
    def stateless_call(self, trainable_variables: Sequence[Any], non_trainable_variables: Sequence[Any], *args,
                       return_losses: bool = False, **kwargs):
        """Calls the model with its variables set to the given values; the model is unchanged.

        Args:
            trainable_variables: values (or variables) in the order of `model.trainable_variables`.
            non_trainable_variables: values in the order of `model.non_trainable_variables`.
            *args, **kwargs: what `model(...)` takes (e.g. `x, training=True`).
            return_losses: also return the losses of this call (`add_loss`, activity and weight
                regularization, computed with the given values).
        Returns:
            `(outputs, non_trainable_variables)`, or `(outputs, non_trainable_variables, losses)`:
            the non-trainable values after the call (moving statistics, seed states), as a list.
        Raises:
            ValueError: if the model is not built, or a list does not match the model's variables.
        """
        if not self.built:
            raise ValueError(f"To call stateless_call, {type(self).__name__} must be built (i.e. its variables "
                             "must have been already created). You can build it by calling it on some data.")
        own_trainable, own_rest = self.trainable_variables, self.non_trainable_variables
        for label, given, own in (("trainable_variables", trainable_variables, own_trainable),
                                  ("non_trainable_variables", non_trainable_variables, own_rest)):
            if len(given) != len(own):
                raise ValueError(f"Argument `{label}` must be a list of tensors corresponding 1:1 to "
                                 f"{type(self).__name__}().{label}. Received list with length {len(given)}, "
                                 f"but expected {len(own)} variables.")
        paths = {id(node): path for path, node in nnx.iter_graph(self) if isinstance(node, nnx.Variable)}
        copy = nnx.merge(*nnx.split(self), copy=True)  # new variable objects, writable in this trace
        nodes = dict(nnx.iter_graph(copy))
        for variable, value in zip(own_trainable, trainable_variables):
            _set(nodes[paths[id(variable)]], value)
        for variable, value in zip(own_rest, non_trainable_variables):
            _set(nodes[paths[id(variable)]], value)
        with context.scope(context.CallContext(training=kwargs.get("training"))):
            outputs = copy(*args, **kwargs)
            losses = list(super(StatelessModel, copy).losses)  # this call's, not a previous call's
        holder = self._forward_losses()
        holder.trace, holder.values = tracers.TraceState(), losses
        new_rest = [nodes[paths[id(variable)]].get_value() for variable in own_rest]
        if return_losses:
            return outputs, new_rest, losses
        return outputs, new_rest

    def _forward_losses(self) -> _ForwardLosses:
        holder = vars(self).get("_stateless_losses")
        if holder is None:
            holder = _ForwardLosses()
            self._stateless_losses = holder
        return holder

    @property
    def losses(self) -> list:
        """Keras's `losses`; outside a forward pass and in the JAX trace of a `stateless_call` (a
        custom `train_step`), the losses of that call, computed with the values it was given."""
        holder = vars(self).get("_stateless_losses")
        if context.current() is None and holder is not None and holder.trace is not None and holder.trace.is_valid():
            return list(holder.values)
        return super().losses

    def stateless_compute_loss(self, trainable_variables, non_trainable_variables, metrics_variables, x=None,
                               y=None, y_pred=None, sample_weight=None, training: bool = True):
        """`compute_loss` in Keras's stateless form: `(loss, (trainable, non_trainable, metrics values))`.
        The loss adds the losses of the `stateless_call` made just before in the same trace."""
        loss = self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=training)
        return loss, (list(trainable_variables), list(non_trainable_variables), list(metrics_variables))

    # -- Keras's default steps in the stateless form -------------------------------------------
    # `fit` runs the engine's compiled step unless a subclass overrides these; they are here so an
    # override can call `super().train_step(state, data)` as in Keras.
    def train_step(self, state, data):
        """One optimizer step: `((trainable, non_trainable, optimizer, metrics values), data) -> (logs, state)`."""
        trainable, rest, optimizer_values, metric_values = state
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        scale = getattr(self.optimizer, "scale_loss", None) or (lambda loss: loss)

        def loss_fn(trainable, rest):
            y_pred, rest = self.stateless_call(trainable, rest, x, training=True)
            loss = self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=True)
            return scale(loss), (loss, y_pred, rest)
        (_, (loss, y_pred, rest)), grads = jax.value_and_grad(loss_fn, has_aux=True)(list(trainable), list(rest))
        trainable, optimizer_values = self.optimizer.stateless_apply(optimizer_values, grads, trainable)
        logs, metric_values = self._stateless_update_metrics(metric_values, loss, x, y, y_pred, sample_weight)
        return logs, (trainable, rest, optimizer_values, metric_values)

    def test_step(self, state, data):
        """The loss and metrics in inference mode: `((trainable, non_trainable, metrics values), data)`."""
        trainable, rest, metric_values = state
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        y_pred, rest = self.stateless_call(trainable, rest, x, training=False)
        loss = self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=False)
        logs, metric_values = self._stateless_update_metrics(metric_values, loss, x, y, y_pred, sample_weight)
        return logs, (trainable, rest, metric_values)

    def predict_step(self, state, data):
        """`((trainable, non_trainable), data) -> (outputs, non_trainable)`."""
        x, _, _ = unpack_x_y_sample_weight(data)
        return self.stateless_call(state[0], state[1], x, training=False)

    def _stateless_update_metrics(self, metric_values, loss, x, y, y_pred, sample_weight):
        """Keras's default metric update: the loss tracker (weighted by the batch size), the compiled
        metrics and loss trackers; the logs are every metric's result."""
        compiled = self._compiled_metric_objects()
        batch = jnp.asarray(jax.tree.leaves(x)[0].shape[0], jnp.float32)
        new, logs = [], {}
        for metric in self.metrics:
            values = list(metric_values[len(new):len(new) + len(metric.variables)])
            if metric is getattr(self, "_loss_tracker", None):
                values = metric.stateless_update_state(values, loss, sample_weight=batch)
            elif any(metric is m for m in compiled):
                values = metric.stateless_update_state(values, y, y_pred, sample_weight)
            result = metric.stateless_result(values)
            logs.update(result if isinstance(result, dict) else {metric.name: result})
            new += values
        return logs, new

    # -- metrics -----------------------------------------------------------------------------------
    def _compiled_metric_objects(self) -> list:
        """The loss tracker, the compiled metrics, and the per-output loss trackers (Keras's order)."""
        engine = getattr(self, "_engine", None)
        if engine is None:
            return []
        if vars(self).get("_compile_metrics") is None or self._compile_metrics_engine is not engine:
            self._compile_metrics_engine = engine
            self._loss_tracker = metrics_lib.Mean(name="loss")
            self._compile_metrics = CompileMetrics(lambda: _compiled(engine))
        objects = [self._loss_tracker]
        if engine.metric_ids:
            objects.append(self._compile_metrics)
        return objects + _output_trackers(engine)

    @property
    def metrics(self) -> list:
        """Keras's order: the loss tracker, the compiled metrics (one `CompileMetrics`), then the
        metrics held by the model and by its layers (not by nested models)."""
        from kerasish.models.model import Model
        found = self._compiled_metric_objects() + _metrics_in(self)
        for layer in self._flatten_layers(include_self=False):
            if not isinstance(layer, Model):
                found += [m for m in _metrics_in(layer) if all(m is not f for f in found)]
        return found

    @property
    def metrics_variables(self) -> list:
        return [v for metric in self.metrics for v in metric.variables]

    def reset_metrics(self) -> None:
        for metric in self.metrics:
            metric.reset_state()

    def get_metrics_result(self) -> dict[str, Any]:
        """Each metric's result by name; a metric whose result is a dict adds its items."""
        results: dict[str, Any] = {}
        for metric in self.metrics:
            value = metric.result()
            if isinstance(value, dict):
                results.update(value)
            else:
                results[metric.name] = value
        return results

    def _flatten_logs_in_order(self, logs: dict):
        """Keras's list form of `evaluate` / `*_on_batch` results: values of `metrics` names first, then
        the other keys sorted; a single value alone."""
        names = []
        for metric in self.metrics:
            names += [m.name for m in metric.metrics] if isinstance(metric, CompileMetrics) else [metric.name]
        values = [logs[name] for name in names if name in logs]
        values += [logs[key] for key in sorted(logs) if key not in names]
        return values[0] if len(values) == 1 else values


def _compiled(engine) -> list:
    """The engine's resolved metrics without its per-output loss trackers."""
    trackers = _output_trackers(engine)
    return [m for m in (engine.metrics or []) if all(m is not t for t in trackers)]


def _output_trackers(engine) -> list:
    compiled_loss = getattr(engine, "compiled_loss", None)
    return list(getattr(compiled_loss, "trackers", None) or [])
