"""BackupAndRestore: a `fit` that was killed resumes where its last backup left it.

The backup is one Keras 3 weights file (`<backup_dir>/latest.weights.h5`, as Keras names it) holding
the weights, the optimizer state and, in kerasish's group of that file, how far training got (epoch,
and steps of that epoch when `save_freq` is an integer) and the seed-generator state, written atomically: a kill during a write leaves the previous backup whole. On restart,
`fit` (with the same arguments) loads it and continues from that epoch and step, so with the same
seed the final weights are those of an uninterrupted run.
"""

from __future__ import annotations

import os
import shutil

from kerasish.callbacks.callback import Callback
from kerasish.saving import saving_api


class BackupAndRestore(Callback):
    """Backs up training state every epoch (or every `save_freq` batches) and restores it on restart.

    Args:
        backup_dir: a directory used only by this callback.
        save_freq: `"epoch"` or an integer number of batches between backups.
        double_checkpoint: also keep the previous backup (`latest.weights.h5.bkp`), used if the
            latest one cannot be read.
        delete_checkpoint: delete `backup_dir` when training finishes.

    Raises:
        ValueError: for an empty `backup_dir` or an invalid `save_freq`; at the start of `fit`, if
            the model is not built.

    Example:
        >>> model.fit(x, y, epochs=10, callbacks=[keras.callbacks.BackupAndRestore("/tmp/backup")])
    """

    def __init__(self, backup_dir, save_freq="epoch", double_checkpoint: bool = False,
                 delete_checkpoint: bool = True):
        super().__init__()
        if not backup_dir:
            raise ValueError("Empty `backup_dir` argument passed")
        if save_freq != "epoch" and (isinstance(save_freq, bool) or not isinstance(save_freq, int)):
            raise ValueError(f"Invalid value for argument `save_freq`. Received: save_freq={save_freq}. "
                             "Expected either 'epoch' or an integer value.")
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq
        self.double_checkpoint = double_checkpoint
        self.delete_checkpoint = delete_checkpoint
        self._path = os.path.join(self.backup_dir, "latest.weights.h5")
        self._prev_path = self._path + ".bkp"
        self._current_epoch = 0
        self._last_saved_step = 0  # steps of the current epoch done at the last backup

    def overrides(self, hook: str) -> bool:
        if hook in ("on_train_batch_end", "on_batch_end") and self.save_freq == "epoch":
            return False
        return super().overrides(hook)

    def on_train_begin(self, logs=None):
        if not self.model.built:
            raise ValueError("To use the BackupAndRestore callback, you model must be built before you call "
                             f"`fit()`. Model {self.model} is unbuilt. You can build it beforehand by calling it "
                             "on a batch of data.")
        self._last_saved_step = 0
        for path in (self._path, self._prev_path):
            if not os.path.exists(path):
                continue
            try:
                info = saving_api.restore_state(self.model, path)
            except ValueError:
                if path == self._prev_path or not (self.double_checkpoint and os.path.exists(self._prev_path)):
                    raise
                continue  # the latest backup is unreadable: fall back to the previous one
            training = info.get("training") or {}
            self.model._initial_epoch = int(training.get("epoch", 0))
            self.model._initial_step = self._last_saved_step = int(training.get("step", 0))
            return

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        self._last_saved_step = 0
        if self.save_freq == "epoch":
            self._save(epoch + 1, 0)

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch":
            return
        if batch + 1 - self._last_saved_step >= self.save_freq:  # batch: index of the last step done
            self._last_saved_step = batch + 1
            self._save(self._current_epoch, batch + 1)

    def _save(self, epoch: int, step: int) -> None:
        os.makedirs(self.backup_dir, exist_ok=True)
        if self.double_checkpoint and os.path.exists(self._path):
            shutil.copyfile(self._path, self._prev_path)
        saving_api.save_state(self.model, self._path, training={"epoch": epoch, "step": step})

    def on_train_end(self, logs=None):
        if self.delete_checkpoint and os.path.exists(self.backup_dir):
            shutil.rmtree(self.backup_dir)
