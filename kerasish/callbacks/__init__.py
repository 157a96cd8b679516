"""kerasish.callbacks: Keras's callback classes."""

from kerasish.callbacks.callback import Callback, CallbackList
from kerasish.callbacks.history import History, ProgbarLogger

__all__ = ["Callback", "CallbackList", "History", "ProgbarLogger"]
