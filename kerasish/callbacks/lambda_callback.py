"""LambdaCallback: a callback made of plain functions passed as hook arguments."""

from __future__ import annotations

from kerasish.callbacks.callback import Callback


class LambdaCallback(Callback):
    """Calls the given functions from the matching hooks.

    `on_epoch_begin` / `on_epoch_end` take `(epoch, logs)`, `on_train_batch_*` take `(batch, logs)`,
    `on_train_begin` / `on_train_end` take `(logs)`. Other hooks can be passed by name as keyword
    arguments (e.g. `on_test_end=...`), as in Keras.

    Example:
        >>> keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: print(epoch, logs["loss"]))
    """

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_train_begin=None, on_train_end=None,
                 on_train_batch_begin=None, on_train_batch_end=None, **kwargs):
        super().__init__()
        self.__dict__.update(kwargs)
        hooks = {"on_epoch_begin": on_epoch_begin, "on_epoch_end": on_epoch_end, "on_train_begin": on_train_begin,
                 "on_train_end": on_train_end, "on_train_batch_begin": on_train_batch_begin,
                 "on_train_batch_end": on_train_batch_end}
        for name, fn in hooks.items():
            if fn is not None:
                setattr(self, name, fn)

    def overrides(self, hook: str) -> bool:
        # The hooks are instance attributes, not methods of the class.
        return hook in self.__dict__ or super().overrides(hook)
