"""`CompileMetrics`: the metrics of `compile(metrics=[...])` seen as one Keras metric.

Keras 3 lists a compiled model's metrics as `[loss tracker, CompileMetrics, ...]`, where
`CompileMetrics` (named "compile_metrics") holds every compiled metric: its `variables` are theirs,
concatenated; `update_state(y_true, y_pred, sample_weight)` updates each; `result()` is a dict
`{metric name: value}`. A custom `train_step` loops over `model.metrics` and calls their stateless
methods, so this object must behave like any other metric.

Owns: that view. The metric objects themselves are resolved by the training engine once the data's
shapes are known ("accuracy" depends on them); until then the view is empty, as Keras's is before
it is built. Must not: resolve or create metrics.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from kerasish.metrics.base import Metric

__all__ = ["CompileMetrics"]


def _state_owner(metric: Any) -> Metric:
    """The `Metric` that holds `metric`'s state: itself, or the metric a per-output wrapper applies."""
    if isinstance(metric, Metric):
        return metric
    inner = getattr(metric, "metric", None)
    if isinstance(inner, Metric):
        return inner
    raise TypeError(f"Expected a kerasish Metric among the compiled metrics. Received: {metric!r}")


class CompileMetrics:
    """The compiled metrics as one metric. `resolve()` returns the metric objects (each with the
    functional core `init` / `update` / `compute`, and a `Metric` holding its variables)."""

    def __init__(self, resolve: Callable[[], Sequence[Any]], name: str = "compile_metrics"):
        self._resolve = resolve
        self.name = name

    @property
    def metrics(self) -> list:
        return list(self._resolve())

    @property
    def built(self) -> bool:
        return bool(self.metrics)

    @property
    def variables(self) -> list:
        return [v for m in self.metrics for v in _state_owner(m).variables]

    def _split(self, values: Sequence[Any]) -> list[tuple[Any, list]]:
        """(metric, its slice of `values`) for each compiled metric."""
        out, start = [], 0
        for metric in self.metrics:
            n = len(_state_owner(metric).variables)
            out.append((metric, list(values[start:start + n])))
            start += n
        if start != len(values):
            raise ValueError(f"`compile_metrics` has {start} variables; received {len(values)} values.")
        return out

    # -- stateless API --------------------------------------------------------------------------
    def stateless_update_state(self, metric_variables: Sequence[Any], y_true, y_pred, sample_weight=None) -> list:
        """As Keras's: `compile(metrics=...)` are unweighted metrics, so `sample_weight` is not passed
        on (`weighted_metrics` would take it)."""
        del sample_weight
        new = []
        for metric, values in self._split(metric_variables):
            owner = _state_owner(metric)
            state = metric.update(owner._as_state(values), y_true, y_pred, None)
            new += owner._as_values(state)
        return new

    def stateless_result(self, metric_variables: Sequence[Any]) -> dict[str, Any]:
        return {metric.name: metric.compute(_state_owner(metric)._as_state(values))
                for metric, values in self._split(metric_variables)}

    def stateless_reset_state(self) -> list:
        return [value for metric in self.metrics for value in _state_owner(metric)._as_values(metric.init())]

    # -- stateful API ---------------------------------------------------------------------------
    def _values(self) -> list:
        return [v.get_value() for v in self.variables]

    def _assign(self, values: Sequence[Any]) -> None:
        for variable, value in zip(self.variables, values):
            variable.assign(value)

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        self._assign(self.stateless_update_state(self._values(), y_true, y_pred, sample_weight))

    def result(self) -> dict[str, Any]:
        return self.stateless_result(self._values())

    def reset_state(self) -> None:
        self._assign(self.stateless_reset_state())

    def __repr__(self) -> str:
        return f"<CompileMetrics name={self.name}>"
