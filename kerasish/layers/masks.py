"""Timestep masks attached to tensors, as Keras 3 attaches `_keras_mask`.

A mask is a boolean array with the leading (batch, time) shape of the tensor it belongs to: True
where the step is real, False where it is padding. `Layer.__call__` reads the mask of a layer's
inputs into its `mask=` (and `<name>_mask=`) arguments and attaches `compute_mask`'s answer to its
outputs; `Masking` and `Embedding(mask_zero=True)` create masks; the losses and metrics of a
compiled step weight by the mask of each output.

JAX arrays take the attribute directly (`y._keras_mask`, as a Keras user reads it); tracers do not,
so for them the mask is kept in a table keyed by the tracer's id and dropped when the tracer is
garbage collected (what Keras's `set_tensor_attr` does).

Must not: decide anything about masks. It only stores and finds them.
"""

from __future__ import annotations

import weakref
from typing import Any

ATTRIBUTE = "_keras_mask"
_table: dict[int, Any] = {}


def _forget(key: int) -> None:
    _table.pop(key, None)


def set_keras_mask(x: Any, mask: Any) -> None:
    """Attaches `mask` to `x` (`None` removes it)."""
    try:
        setattr(x, ATTRIBUTE, mask)
        return
    except AttributeError:
        pass
    key = id(x)
    if mask is None:
        _table.pop(key, None)
        return
    if key not in _table:
        try:
            weakref.finalize(x, _forget, key)
        except TypeError:  # an object that takes neither attributes nor weak references: no mask
            return
    _table[key] = mask


def get_keras_mask(x: Any) -> Any:
    """The mask attached to `x`, or None."""
    mask = getattr(x, ATTRIBUTE, None)
    if mask is None:
        mask = _table.get(id(x))
    return mask
