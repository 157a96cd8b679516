"""ModelCheckpoint: save the model or its weights every epoch or every N batches (Keras 3 semantics).

One deliberate difference from Keras: a save whose logs report a NaN or infinite `loss` is skipped
with a warning, so a diverged run never overwrites the last good checkpoint (Keras skips it only
with `save_best_only=True`).
"""

from __future__ import annotations

import math
import os
import warnings

import numpy as np

from kerasish.callbacks.monitor import MonitorCallback


class ModelCheckpoint(MonitorCallback):
    """Saves `model.save(filepath)` (a `.keras` path) or `model.save_weights(filepath)` (a
    `.weights.h5` path) during `fit`.

    Args:
        filepath: may hold format fields filled from the epoch (1-based) and the logs, e.g.
            `"ckpt-{epoch:02d}-{val_loss:.2f}.keras"`; with `save_freq` an integer, `{batch}` too.
        monitor, mode, initial_value_threshold: what "best" means for `save_best_only`.
        verbose: 1 prints a line per save. save_best_only: save only when `monitor` improves.
        save_weights_only: save weights (`.weights.h5`) instead of the whole model (`.keras`).
        save_freq: `"epoch"`, or an integer number of batches between saves.

    Raises:
        ValueError: for a `save_freq` that is neither "epoch" nor an integer, or a filepath whose
            suffix does not match `save_weights_only`.
    """

    def __init__(self, filepath, monitor: str = "val_loss", verbose: int = 0, save_best_only: bool = False,
                 save_weights_only: bool = False, mode: str = "auto", save_freq="epoch",
                 initial_value_threshold=None):
        super().__init__(monitor, mode, initial_value_threshold)
        self.verbose = verbose
        self.filepath = os.fspath(filepath)
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.save_freq = save_freq
        self._batches_seen_since_last_saving = 0
        self._last_batch_seen = None
        self._current_epoch = 0
        if save_freq != "epoch" and not isinstance(save_freq, int):
            raise ValueError(f"Unrecognized save_freq: {save_freq}. Expected save_freq are 'epoch' or integer values")
        if save_weights_only and not self.filepath.endswith(".weights.h5"):
            raise ValueError("When using `save_weights_only=True` in `ModelCheckpoint`, the filepath provided "
                             f"must end in `.weights.h5` (Keras weights format). Received: filepath={self.filepath}")
        if not save_weights_only and not self.filepath.endswith(".keras"):
            raise ValueError("The filepath provided must end in `.keras` (Keras model format). "
                             f"Received: filepath={self.filepath}")

    def overrides(self, hook: str) -> bool:
        # Per-batch hooks only when saving per batch: an epoch-wise checkpoint costs nothing per step.
        if hook in ("on_train_batch_end", "on_batch_end") and self.save_freq == "epoch":
            return False
        return super().overrides(hook)

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self._should_save_on_batch(batch):
            self._save_model(self._current_epoch, batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor_op is None:
            self._set_monitor_op()
        if self.save_freq == "epoch":
            self._save_model(epoch, None, logs)

    def _should_save_on_batch(self, batch: int) -> bool:
        if self.save_freq == "epoch":
            return False
        if self._last_batch_seen is None or batch <= self._last_batch_seen:
            add_batches = batch + 1  # a new epoch started
        else:
            add_batches = batch - self._last_batch_seen
        self._batches_seen_since_last_saving += add_batches
        self._last_batch_seen = batch
        if self._batches_seen_since_last_saving >= self.save_freq:
            self._batches_seen_since_last_saving = 0
            return True
        return False

    def _should_save_model(self, epoch: int, logs: dict, filepath: str) -> bool:
        loss = logs.get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            warnings.warn(f"Epoch {epoch + 1}: not saving to {filepath}: the loss is {loss}.", stacklevel=3)
            return False
        if not self.save_best_only:
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: saving model to {filepath}")
            return True
        if self.monitor_op is None:
            self._set_monitor_op()
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(f"Can save best model only with {self.monitor} available.", stacklevel=3)
            return True
        if isinstance(current, np.ndarray) and current.ndim > 0:
            warnings.warn(f"Can save best model only when `monitor` is a scalar value. Received: {current}. "
                          "Falling back to `save_best_only=False`.", stacklevel=3)
            return True
        best_str = "None" if self.best is None else f"{self.best:.5f}"
        if self._is_improvement(current, self.best):
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: {self.monitor} improved from {best_str} to {current:.5f}, "
                      f"saving model to {filepath}")
            self.best = current
            return True
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {best_str}")
        return False

    def _save_model(self, epoch: int, batch: int | None, logs) -> None:
        logs = dict(logs or {})
        filepath = self._get_file_path(epoch, batch, logs)
        if os.path.isdir(filepath):
            raise IOError("Please specify a non-directory filepath for ModelCheckpoint. Filepath used is an "
                          f"existing directory: {filepath}")
        if not self._should_save_model(epoch, logs, filepath):
            return
        dirname = os.path.dirname(filepath)
        if dirname:
            os.makedirs(dirname, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(filepath, overwrite=True)
        else:
            self.model.save(filepath, overwrite=True)
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: finished saving model to {filepath}")

    def _get_file_path(self, epoch: int, batch: int | None, logs: dict) -> str:
        try:
            if batch is None or "batch" in logs:
                return self.filepath.format(epoch=epoch + 1, **logs)
            return self.filepath.format(epoch=epoch + 1, batch=batch + 1, **logs)
        except KeyError as e:
            raise KeyError(f'Failed to format this callback filepath: "{self.filepath}". Reason: {e}') from None
