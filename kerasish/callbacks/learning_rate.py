"""LearningRateScheduler and ReduceLROnPlateau: change the learning rate between epochs.

Both write `model.optimizer.learning_rate`, which replaces the learning-rate array inside the
optax state (same dtype and shape), so the compiled training step is reused, not retraced.
Both add `learning_rate` to the epoch logs, as Keras 3 does.
"""

from __future__ import annotations

import warnings

import numpy as np

from kerasish.callbacks.callback import Callback
from kerasish.callbacks.monitor import MonitorCallback


def _current_lr(optimizer) -> float:
    if optimizer is None or not hasattr(optimizer, "learning_rate"):
        raise ValueError('Optimizer must have a "learning_rate" attribute.')
    return float(optimizer.learning_rate)


class LearningRateScheduler(Callback):
    """At the start of each epoch sets the learning rate to `schedule(epoch, lr)` (or `schedule(epoch)`).

    Args:
        schedule: a function of the epoch index (0-based) and the current rate, returning a float.
        verbose: 1 prints the new rate each epoch.

    Raises:
        ValueError: if `schedule` returns something other than a float.

    Example:
        >>> cb = keras.callbacks.LearningRateScheduler(lambda epoch, lr: lr if epoch < 10 else lr * 0.9)
    """

    def __init__(self, schedule, verbose: int = 0):
        super().__init__()
        self.schedule = schedule
        self.verbose = verbose

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = self.model.optimizer
        try:
            learning_rate = self.schedule(epoch, _current_lr(optimizer))
        except TypeError:  # a schedule of the epoch alone (Keras 2 style)
            learning_rate = self.schedule(epoch)
        if not isinstance(learning_rate, (float, np.float32, np.float64)):
            raise ValueError(f"The output of the `schedule` function should be a float. Got: {learning_rate}")
        optimizer.learning_rate = float(learning_rate)
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {learning_rate}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = _current_lr(self.model.optimizer)


class ReduceLROnPlateau(MonitorCallback):
    """Multiplies the learning rate by `factor` when `monitor` has not improved for `patience` epochs.

    Args:
        monitor, mode, min_delta: what counts as an improvement (see MonitorCallback).
        factor: the multiplier, < 1. patience: epochs without improvement before reducing.
        verbose: 1 prints each reduction. cooldown: epochs to wait after a reduction.
        min_lr: the rate never goes below this.

    Raises:
        ValueError: if `factor >= 1.0`.
    """

    def __init__(self, monitor: str = "val_loss", factor: float = 0.1, patience: int = 10, verbose: int = 0,
                 mode: str = "auto", min_delta: float = 1e-4, cooldown: int = 0, min_lr: float = 0.0, **kwargs):
        super().__init__(monitor, mode, min_delta=min_delta)
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau does not support a factor >= 1.0. Received factor={factor}")
        if kwargs:  # Keras 3 accepts and ignores them (Keras 2's `epsilon`)
            warnings.warn(f"ReduceLROnPlateau ignores the keyword arguments {sorted(kwargs)}.", stacklevel=2)
        self.factor = factor
        self.min_lr = min_lr
        self.patience = patience
        self.verbose = verbose
        self.cooldown = cooldown
        self.cooldown_counter = 0
        self.wait = 0

    def _reset(self) -> None:
        self.best = None
        self.cooldown_counter = 0
        self.wait = 0

    def on_train_begin(self, logs=None):
        self._reset()

    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor_op is None:
            self._set_monitor_op()
        logs = logs if logs is not None else {}
        logs["learning_rate"] = _current_lr(self.model.optimizer)
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(f"Learning rate reduction is conditioned on metric `{self.monitor}` which is not "
                          f"available. Available metrics are: {','.join(list(logs.keys()))}.", stacklevel=2)
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self._is_improvement(current, self.best):
            self.best = current
            self.wait = 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience and self._reduce(epoch):
                self.cooldown_counter = self.cooldown
                self.wait = 0

    def _reduce(self, epoch: int) -> bool:
        optimizer = self.model.optimizer
        old_lr = _current_lr(optimizer)
        if old_lr <= np.float32(self.min_lr):
            return False
        new_lr = max(old_lr * self.factor, self.min_lr)
        optimizer.learning_rate = new_lr
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new_lr}.")
        return True
