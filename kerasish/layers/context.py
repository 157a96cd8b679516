"""What a layer call knows about its surroundings, as Keras 3's call context does.

The outermost `Layer.__call__` opens a `CallContext`; nested calls share it. It carries:
the `training` flag inherited by sublayers that were not given one; the losses that `add_loss`
and activity regularizers add during this forward pass (collected per layer, so a compiled step
reads them on the traced copy of the model); whether the call is *symbolic* (shape inference of
the functional API: variable assignments are not applied); the 0/1 mask of real rows of a padded
batch (`row_mask`, set by the training engine so padding never enters BatchNormalization's
statistics; distinct from Keras's timestep masks); and, per layer, the dtype variables autocast to.

Must not: hold arrays between calls. Everything here lives only while a call runs.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any, Iterator

_local = threading.local()


class CallContext:
    def __init__(self, training: bool | None = None, symbolic: bool = False, row_mask: Any = None):
        self.training = training
        self.symbolic = symbolic
        self.row_mask = row_mask
        self.losses: dict[int, list] = {}
        self.called: dict[int, Any] = {}

    def add_loss(self, layer: Any, value: Any) -> None:
        self.losses.setdefault(id(layer), []).append(value)
        self.called[id(layer)] = layer

    def losses_of(self, layer: Any) -> list:
        return self.losses.get(id(layer), [])


def current() -> CallContext | None:
    stack = getattr(_local, "stack", None)
    return stack[-1] if stack else None


@contextlib.contextmanager
def scope(context: CallContext) -> Iterator[CallContext]:
    """Makes `context` the current one for the duration of the block."""
    stack = getattr(_local, "stack", None)
    if stack is None:
        stack = _local.stack = []
    stack.append(context)
    try:
        yield context
    finally:
        stack.pop()


def is_symbolic() -> bool:
    context = current()
    return context is not None and context.symbolic


def row_mask() -> Any:
    context = current()
    return None if context is None else context.row_mask


@contextlib.contextmanager
def autocast(dtype: str | None) -> Iterator[None]:
    """Inside: float variables read through `variable.value` come out in `dtype` (None: as stored)."""
    stack = getattr(_local, "autocast", None)
    if stack is None:
        stack = _local.autocast = []
    stack.append(dtype)
    try:
        yield
    finally:
        stack.pop()


def autocast_dtype() -> str | None:
    stack = getattr(_local, "autocast", None)
    return stack[-1] if stack else None
