"""MonitorCallback: what EarlyStopping, ModelCheckpoint and ReduceLROnPlateau share — a monitored
log key, whether lower or higher is better, and when a value counts as an improvement (Keras 3's
`keras.src.callbacks.monitor_callback`)."""

from __future__ import annotations

import operator
import warnings

from kerasish.callbacks.callback import Callback

# Keras metrics say which way is better (`_direction`); names are the fallback for metrics that don't.
_HIGHER_IS_BETTER = ("acc", "precision", "recall", "auc", "f1", "iou", "fmeasure")
_LOWER_IS_BETTER = ("loss", "error", "crossentropy", "hinge", "divergence", "poisson", "cosh")


class MonitorCallback(Callback):
    """Base class for callbacks that watch `logs[monitor]`.

    Args:
        monitor: the log key, e.g. `"val_loss"` or `"accuracy"`.
        mode: `"min"`, `"max"`, or `"auto"` (from the metric: loss and errors down, accuracy up).
        baseline: the initial best value (None: the first value seen).
        min_delta: the smallest change that counts as an improvement.

    Raises:
        ValueError: in `"auto"` mode, when the direction of `monitor` cannot be inferred.
    """

    def __init__(self, monitor: str = "val_loss", mode: str = "auto", baseline=None, min_delta=0):
        super().__init__()
        if mode not in ("auto", "min", "max"):
            warnings.warn(f"{type(self).__name__} mode '{mode}' is unknown, fallback to auto mode.", stacklevel=2)
            mode = "auto"
        self.monitor = monitor
        self.mode = mode
        self.best = baseline
        self.min_delta = abs(min_delta)
        self.monitor_op = None

    def _set_monitor_op(self) -> None:
        if self.mode == "min":
            self.monitor_op = operator.lt
        elif self.mode == "max":
            self.monitor_op = operator.gt
        else:
            higher = _higher_is_better(self.model, self.monitor.removeprefix("val_"))
            if higher is None:
                raise ValueError(
                    f"{type(self).__name__} callback received monitor={self.monitor}, but Keras isn't able "
                    "to automatically determine whether that metric should be maximized or minimized. Pass "
                    "`mode='max'` in order to monitor based on the highest metric value, or pass "
                    "`mode='min'` in order to use the lowest value.")
            self.monitor_op = operator.gt if higher else operator.lt
        if self.monitor_op is operator.lt:
            self.min_delta *= -1

    def _is_improvement(self, monitor_value, reference_value) -> bool:
        if reference_value is None:
            return True
        return bool(self.monitor_op(monitor_value - self.min_delta, reference_value))


def _higher_is_better(model, metric_name: str) -> bool | None:
    if metric_name == "loss":
        return False
    engine = getattr(model, "_engine", None)
    for metric in getattr(engine, "metrics", None) or ():
        if metric.name == metric_name:
            direction = getattr(metric, "_direction", None)
            if direction is not None:
                return direction == "up"
            metric_name = type(metric).__name__.lower()  # e.g. "acc" -> "sparsecategoricalaccuracy"
            break
    name = metric_name.lower()
    if any(word in name for word in _HIGHER_IS_BETTER):
        return True
    if any(word in name for word in _LOWER_IS_BETTER) or name in ("mse", "mae", "mape", "msle", "rmse"):
        return False
    return None
