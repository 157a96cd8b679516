"""The Callback base class (every Keras hook) and CallbackList, which the training loop calls.

A callback sees `self.model`, whose weights and optimizer state were synced from the compiled
state before the hook runs. Batch hooks are only dispatched when some callback overrides them,
so plain training reads nothing back from the device per step.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

_BATCH_HOOKS = ("on_train_batch_begin", "on_train_batch_end", "on_test_batch_begin",
                "on_test_batch_end", "on_predict_batch_begin", "on_predict_batch_end")


class Callback:
    """Base class: override any hook. `self.model` and `self.params` are set by `fit`."""

    def __init__(self):
        self.model = None
        self.params: dict = {}

    def set_model(self, model) -> None:
        self.model = model

    def set_params(self, params: dict) -> None:
        self.params = params

    def on_train_begin(self, logs=None): pass
    def on_train_end(self, logs=None): pass
    def on_epoch_begin(self, epoch, logs=None): pass
    def on_epoch_end(self, epoch, logs=None): pass
    def on_train_batch_begin(self, batch, logs=None): pass
    def on_train_batch_end(self, batch, logs=None): pass
    def on_test_begin(self, logs=None): pass
    def on_test_end(self, logs=None): pass
    def on_test_batch_begin(self, batch, logs=None): pass
    def on_test_batch_end(self, batch, logs=None): pass
    def on_predict_begin(self, logs=None): pass
    def on_predict_end(self, logs=None): pass
    def on_predict_batch_begin(self, batch, logs=None): pass
    def on_predict_batch_end(self, batch, logs=None): pass

    # Keras 2 names, still called by Keras 3
    def on_batch_begin(self, batch, logs=None): pass
    def on_batch_end(self, batch, logs=None): pass

    def overrides(self, hook: str) -> bool:
        return getattr(type(self), hook) is not getattr(Callback, hook)

    #: True for callbacks that only need batch logs now and then (the progress bar)
    lazy_batch_logs = False


class CallbackList:
    """Calls every callback's hook in order; knows which hooks anyone listens to."""

    def __init__(self, callbacks: Iterable[Callback] | None = None, model=None, **params: Any):
        callbacks = list(callbacks or [])
        for cb in callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"Expected every callback to be a keras.callbacks.Callback instance. "
                                f"Received: {cb!r} of type {type(cb).__name__}")
        self.callbacks = callbacks
        self.model = model
        for cb in callbacks:
            cb.set_model(model)
            cb.set_params(dict(params))
        self._sync = None
        self._cache: dict = {}

    def append(self, callback: Callback) -> None:
        self.callbacks.append(callback)
        self._cache.clear()
        callback.set_model(self.model)
        if self.callbacks:
            callback.set_params(self.callbacks[0].params)

    def set_sync(self, sync) -> None:
        """`sync()` pushes the compiled state into the model before a hook that may look at it."""
        self._sync = sync

    def wants(self, hook: str) -> bool:
        """Whether any callback overrides `hook` (or its Keras 2 alias); asked per batch, so cached."""
        key = ("wants", hook)
        if key not in self._cache:
            alias = {"on_train_batch_end": "on_batch_end", "on_train_batch_begin": "on_batch_begin"}.get(hook)
            self._cache[key] = any(cb.overrides(hook) or (alias is not None and cb.overrides(alias))
                                   for cb in self.callbacks)
        return self._cache[key]

    def needs_model_per_batch(self, hook: str) -> bool:
        """Whether a callback other than the lazy progress bar listens to a batch hook."""
        key = ("model", hook)
        if key not in self._cache:
            self._cache[key] = any((cb.overrides(hook) or cb.overrides(hook.replace("train_", "")))
                                   and not cb.lazy_batch_logs for cb in self.callbacks)
        return self._cache[key]

    def _call(self, hook: str, *args) -> None:
        # Every hook receives a logs mapping, `{}` when the loop has none (as Keras's CallbackList
        # does): user callbacks call `logs.keys()` / `logs.get(...)` without checking for None.
        n = 1 if hook in _BATCH_HOOKS or hook in ("on_epoch_begin", "on_epoch_end") else 0
        if len(args) <= n or args[n] is None:
            args = (*args[:n], {})
        if self._sync is not None and (hook not in _BATCH_HOOKS or self.needs_model_per_batch(hook)):
            self._sync()
        # Keras passes a batch hook's logs by keyword, the others' by position.
        args, kwargs = (args[:1], {"logs": args[1]}) if hook in _BATCH_HOOKS else (args, {})
        for cb in self.callbacks:
            getattr(cb, hook)(*args, **kwargs)
            if hook == "on_train_batch_begin":
                cb.on_batch_begin(*args, **kwargs)
            elif hook == "on_train_batch_end":
                cb.on_batch_end(*args, **kwargs)

    def __getattr__(self, hook: str):
        if hook.startswith("on_"):
            return lambda *args: self._call(hook, *args)
        raise AttributeError(hook)


class LazyLogs(Mapping):
    """Batch logs read from the device only if a callback looks at them."""

    def __init__(self, read):
        self._read, self._values = read, None

    def _get(self) -> dict:
        if self._values is None:
            self._values = self._read()
        return self._values

    def __getitem__(self, key):
        return self._get()[key]

    def __iter__(self):
        return iter(self._get())

    def __len__(self):
        return len(self._get())

    def expire(self) -> None:
        """Called after the hooks: the device buffers behind unread values are about to be reused."""
        if self._values is None:
            def gone():
                raise RuntimeError("Batch logs can only be read during the callback hook they were passed to.")
            self._read = gone
