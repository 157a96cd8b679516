"""TensorBoard: epoch (and, on request, batch) scalars as TensorBoard event files, as Keras 3 writes them.

Owns: which scalars go where, with Keras's names and steps: `<log_dir>/train` gets `epoch_<metric>`
(plus `epoch_learning_rate`) at step `epoch`, and with `update_freq` N `batch_<metric>` (the running
epoch values) every N-th training batch, counted over the whole run; `<log_dir>/validation` gets
`epoch_<metric>` for the `val_` logs and `evaluation_<metric>_vs_iterations` after each evaluation,
at the optimizer's iteration count. `histogram_freq` adds weight histograms, `write_graph` the model's
JSON config as the "keras" text summary (what Keras's JAX backend writes for a graph).
The event files are written by tensorboardX (`pip install kerasish[tensorboard]`), imported only
when the first file is opened. Must not: train, or read from the device more than the logs it writes.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

import numpy as np

from kerasish.callbacks.callback import Callback

__all__ = ["TensorBoard"]

_BATCH_HOOKS = ("on_train_batch_begin", "on_train_batch_end", "on_test_batch_begin")


def _summary_writer(logdir: str):
    try:
        from tensorboardX import SummaryWriter
    except ImportError:
        raise ImportError("The TensorBoard callback writes event files with tensorboardX, which is an optional extra "
                          "of kerasish. Install it with `pip install kerasish[tensorboard]` (or "
                          "`pip install tensorboardX`).") from None
    return SummaryWriter(logdir=logdir)


class TensorBoard(Callback):
    """Logs training to TensorBoard event files (`tensorboard --logdir <log_dir>` shows them).

    Args:
        log_dir: where the `train` and `validation` runs are written.
        histogram_freq: every how many epochs to write weight histograms (0: never).
        write_graph: write the model's config (Functional and Sequential models) as a text summary.
        write_images: not supported; must stay False.
        write_steps_per_second: also log training steps per second (per epoch, and per batch with `update_freq`).
        update_freq: "epoch", "batch" (= 1), or N: write `batch_*` scalars every N training batches.
            Per-batch logging runs the training loop one step per compiled call.
        profile_batch: not supported; must be 0 (Keras 3 on JAX needs Python >= 3.12 for it).
        embeddings_freq, embeddings_metadata: not supported; must be 0 / None.

    Raises:
        ValueError: for an unknown `update_freq`, or a negative `histogram_freq`.
        NotImplementedError: for `write_images`, `profile_batch` or `embeddings_freq`.
        ImportError: (at the first write) when tensorboardX is not installed.

    Example:
        >>> model.fit(x, y, epochs=5, callbacks=[keras.callbacks.TensorBoard("logs", update_freq=10)])
    """

    def __init__(self, log_dir: str | os.PathLike = "logs", histogram_freq: int = 0, write_graph: bool = True,
                 write_images: bool = False, write_steps_per_second: bool = False, update_freq: str | int = "epoch",
                 profile_batch: int = 0, embeddings_freq: int = 0, embeddings_metadata: Any = None):
        super().__init__()
        if update_freq not in ("epoch", "batch") and (isinstance(update_freq, bool) or not isinstance(update_freq, int)
                                                      or update_freq < 1):
            raise ValueError(f"`update_freq` must be 'epoch', 'batch' or a positive integer. "
                             f"Received: update_freq={update_freq!r}")
        if isinstance(histogram_freq, bool) or not isinstance(histogram_freq, int) or histogram_freq < 0:
            raise ValueError(f"`histogram_freq` must be a non-negative integer. Received: histogram_freq={histogram_freq!r}")
        for name, value, off in (("write_images", write_images, False), ("profile_batch", profile_batch, 0),
                                 ("embeddings_freq", embeddings_freq, 0), ("embeddings_metadata", embeddings_metadata, None)):
            if value != off:
                raise NotImplementedError(f"kerasish's TensorBoard callback does not support `{name}` (it writes scalars, "
                                          f"histograms and the model config). Received: {name}={value!r}; leave it "
                                          f"at {off!r}.")
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq, self.write_graph = histogram_freq, write_graph
        self.write_images, self.write_steps_per_second = write_images, write_steps_per_second
        self.update_freq = 1 if update_freq == "batch" else update_freq
        self.embeddings_freq, self.embeddings_metadata = embeddings_freq, embeddings_metadata
        self._writers: dict[str, Any] = {}
        self._global_train_batch = self._global_test_batch = 0
        self._epoch_start_time = self._batch_start_time = 0.0
        self._epoch_start_iterations = 0

    # Per-batch hooks only when batches are logged: otherwise training keeps its chunks of steps.
    lazy_batch_logs = True  # batch logs are read on the steps that are written; the model is not needed

    def overrides(self, hook: str) -> bool:
        if hook in _BATCH_HOOKS and self.update_freq == "epoch":
            return False
        return super().overrides(hook)

    # -- writers --------------------------------------------------------------------------------
    def _writer(self, run: str):
        if run not in self._writers:
            self._writers[run] = _summary_writer(os.path.join(self.log_dir, run))
        return self._writers[run]

    def _close_writers(self) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers = {}

    def set_model(self, model) -> None:
        super().set_model(model)
        self._close_writers()

    # -- hooks ----------------------------------------------------------------------------------
    def on_train_begin(self, logs=None):
        self._global_train_batch = 0
        if self.write_graph and type(self.model).__name__ in ("Functional", "Sequential"):
            self._write_model_config()

    def on_train_end(self, logs=None):
        self._close_writers()

    def on_epoch_begin(self, epoch, logs=None):
        if self.write_steps_per_second:
            self._epoch_start_time, self._epoch_start_iterations = time.time(), self._iterations()

    def on_epoch_end(self, epoch, logs=None):
        logs = dict(logs or {})
        train = {k: v for k, v in logs.items() if not k.startswith("val_")}
        validation = {k[4:]: v for k, v in logs.items() if k.startswith("val_")}
        rate = self._learning_rate()
        if rate is not None:
            train["learning_rate"] = rate
        if self.write_steps_per_second:
            elapsed = time.time() - self._epoch_start_time
            train["steps_per_second"] = (self._iterations() - self._epoch_start_iterations) / max(elapsed, 1e-9)
        for run, values in (("train", train), ("validation", validation)):
            for name, value in values.items():
                self._writer(run).add_scalar(f"epoch_{name}", float(value), global_step=epoch)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._write_histograms(epoch)
        for writer in self._writers.values():
            writer.flush()

    def on_train_batch_begin(self, batch, logs=None):
        if self.update_freq == "epoch":  # called only because another callback listens to batches
            return
        self._global_train_batch += 1
        if self.write_steps_per_second:
            self._batch_start_time = time.time()

    def on_train_batch_end(self, batch, logs=None):
        if self.update_freq == "epoch" or self._global_train_batch % self.update_freq:
            return
        writer, step = self._writer("train"), self._global_train_batch
        if self.write_steps_per_second:
            writer.add_scalar("batch_steps_per_second", 1.0 / max(time.time() - self._batch_start_time, 1e-9),
                              global_step=step)
        for name, value in (logs or {}).items():
            writer.add_scalar(f"batch_{name}", float(value), global_step=step)

    def on_test_batch_begin(self, batch, logs=None):
        self._global_test_batch += 1

    def on_test_end(self, logs=None):
        if getattr(self.model, "optimizer", None) is None or not logs:
            return
        writer, step = self._writer("validation"), self._iterations()
        for name, value in logs.items():
            writer.add_scalar(f"evaluation_{name}_vs_iterations", float(value), global_step=step)
        writer.flush()

    # -- what is written ------------------------------------------------------------------------
    def _iterations(self) -> int:
        return int(getattr(getattr(self.model, "optimizer", None), "iterations", 0) or 0)

    def _learning_rate(self) -> float | None:
        rate = getattr(getattr(self.model, "optimizer", None), "learning_rate", None)
        return float(rate) if isinstance(rate, (int, float, np.floating, np.integer)) else None

    def _write_histograms(self, epoch: int) -> None:
        writer = self._writer("train")
        for layer in self.model.layers:
            for weight in layer.weights:
                writer.add_histogram(f"{weight.path.replace(':', '_')}/histogram", np.asarray(weight), global_step=epoch)

    def _write_model_config(self) -> None:
        try:
            config = self.model.get_config()
        except NotImplementedError:
            return
        text = json.dumps({"class_name": type(self.model).__name__, "config": config}, default=str)
        self._writer("train").add_text("keras", text, global_step=0)
