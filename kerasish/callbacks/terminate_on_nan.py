"""TerminateOnNaN: stop training at the first batch whose loss is NaN or infinite.

It reads the loss after every batch, so it is the one built-in callback that makes `fit` wait for
the device each step.
"""

from __future__ import annotations

import numpy as np

from kerasish.callbacks.callback import Callback


class TerminateOnNaN(Callback):
    """Sets `model.stop_training` (or raises, with `raise_error=True`) when the loss is NaN or Inf.

    Args:
        raise_error: raise RuntimeError at once instead of stopping gracefully, so no other
            callback's `on_epoch_end` / `on_train_end` runs on the bad weights.
    """

    def __init__(self, raise_error: bool = False):
        super().__init__()
        self.raise_error = raise_error

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is None or np.isfinite(loss):
            return
        if self.raise_error:
            raise RuntimeError(f"NaN or Inf loss encountered at batch {batch}. Loss value: {loss}. "
                               "Terminating training immediately.")
        print(f"Batch {batch}: Invalid loss, terminating training")
        self.model.stop_training = True
