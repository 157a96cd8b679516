"""EarlyStopping: stop `fit` when a monitored value stops improving (Keras 3 semantics)."""

from __future__ import annotations

import warnings

from kerasish.callbacks.monitor import MonitorCallback


class EarlyStopping(MonitorCallback):
    """Stops training when `monitor` has not improved for `patience` epochs.

    Args:
        monitor: log key to watch. min_delta: smallest change that counts as an improvement.
        patience: epochs without improvement before stopping. verbose: 1 prints when it acts.
        mode: "auto", "min" or "max". baseline: training stops unless `monitor` beats it.
        restore_best_weights: at the end of training, set the weights of the best epoch.
        start_from_epoch: epochs to wait before watching (a warm-up).

    Example:
        >>> cb = keras.callbacks.EarlyStopping(monitor="loss", patience=3)
        >>> model.fit(x, y, epochs=100, callbacks=[cb])
    """

    def __init__(self, monitor: str = "val_loss", min_delta=0, patience: int = 0, verbose: int = 0,
                 mode: str = "auto", baseline=None, restore_best_weights: bool = False,
                 start_from_epoch: int = 0):
        super().__init__(monitor, mode, min_delta=min_delta)
        self.patience = patience
        self.verbose = verbose
        self.baseline = baseline
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = start_from_epoch
        self.wait = 0
        self.stopped_epoch = 0
        self.best_weights = None
        self.best_epoch = 0

    def on_train_begin(self, logs=None):
        # Instances can be reused across fit() calls.
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_weights = None
        self.best_epoch = 0

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor_op is None:
            self._set_monitor_op()
        current = self.get_monitor_value(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.get_weights()
            self.best_epoch = epoch
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            # The wait only restarts when the value beats both the baseline and the previous best.
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)

    def get_monitor_value(self, logs):
        logs = logs or {}
        value = logs.get(self.monitor)
        if value is None:
            warnings.warn(f"Early stopping conditioned on metric `{self.monitor}` which is not available. "
                          f"Available metrics are: {','.join(list(logs.keys()))}", stacklevel=2)
        return value
