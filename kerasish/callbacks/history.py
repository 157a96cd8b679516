"""History (what `fit` returns) and ProgbarLogger (the progress bar as a callback)."""

from __future__ import annotations

from kerasish.callbacks.callback import Callback
from kerasish.utils.progbar import Progbar


class History(Callback):
    """Records each epoch's logs: `history.history["loss"]`, `history.epoch`, `history.params`."""

    def __init__(self):
        super().__init__()
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
        self.model.history = self


class ProgbarLogger(Callback):
    """Prints `Epoch i/n` and a bar per epoch (verbose=1) or one line per epoch (verbose=2)."""

    lazy_batch_logs = True

    def __init__(self, count_mode: str = "steps"):
        super().__init__()
        self.verbose, self.epochs, self.target = 1, 1, None
        self._bar = None
        self._seen = 0

    def set_params(self, params):
        super().set_params(params)
        self.verbose = params.get("verbose", 1)
        self.epochs = params.get("epochs", 1)
        self.target = params.get("steps")

    def _reset(self, target):
        self._bar = Progbar(target, verbose=self.verbose) if self.verbose else None
        self._seen = 0

    def on_epoch_begin(self, epoch, logs=None):
        if self.verbose and self.epochs > 1:
            print(f"Epoch {epoch + 1}/{self.epochs}", flush=True)
        self._reset(self.target)

    def on_train_batch_end(self, batch, logs=None):
        self._seen = batch + 1
        if self._bar is not None:
            self._bar.update(self._seen, lambda: _sorted(logs), finalize=False)

    def on_epoch_end(self, epoch, logs=None):
        if self._bar is not None:
            self._bar.target = self._bar.target or self._seen
            self._bar.update(self._seen or self._bar.target, _sorted(logs), finalize=True)

    def on_test_begin(self, logs=None):
        if not self.model or getattr(self.model, "_in_fit", False):
            return
        self._reset(self.params.get("steps"))

    def on_test_batch_end(self, batch, logs=None):
        if not getattr(self.model, "_in_fit", False) and self._bar is not None:
            self._seen = batch + 1
            self._bar.update(self._seen, lambda: _sorted(logs), finalize=False)

    def on_test_end(self, logs=None):
        if not getattr(self.model, "_in_fit", False) and self._bar is not None:
            self._bar.update(self._seen or 1, _sorted(logs), finalize=True)

    def on_predict_begin(self, logs=None):
        self._reset(self.params.get("steps"))

    def on_predict_batch_end(self, batch, logs=None):
        self._seen = batch + 1
        if self._bar is not None:
            self._bar.update(self._seen, {}, finalize=False)

    def on_predict_end(self, logs=None):
        if self._bar is not None:
            self._bar.update(self._seen or 1, {}, finalize=True)


def _sorted(logs) -> dict:
    return dict(sorted(dict(logs or {}).items()))
