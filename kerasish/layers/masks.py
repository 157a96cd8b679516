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

import jax

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


def _map(fn, tree):
    """`fn` on every tensor of a list / tuple / dict nest, None entries included (a missing mask)."""
    return jax.tree.map(fn, tree, is_leaf=lambda v: v is None)


def _leaves(tree) -> list:
    return jax.tree.leaves(tree, is_leaf=lambda v: v is None)


def masks_of(tree) -> Any:
    """The masks of `tree`'s tensors in the same nesting, or None when none has one."""
    masks = _map(get_keras_mask, tree)
    return masks if any(m is not None for m in _leaves(masks)) else None


def fill_mask_arguments(parameters: list[str], args: tuple, kwargs: dict) -> Any:
    """Keras's mask arguments of a layer call, filled in `kwargs` from the inputs' masks where
    `call` takes them and the caller did not give them: `mask` from the only tensor argument, or
    `<name>_mask` from argument `<name>` when there are several. Returns the *previous mask*: the
    `mask` argument if there is one, else the mask of the first argument."""
    named = dict(zip(parameters, args))
    named.update({k: v for k, v in kwargs.items() if k in parameters})
    tensors = {k: v for k, v in named.items() if k not in ("mask", "training") and not k.endswith("_mask")
               and any(hasattr(leaf, "shape") for leaf in _leaves(v))}
    if len(tensors) == 1 and "mask" in parameters and kwargs.get("mask") is None:
        mask = masks_of(next(iter(tensors.values())))
        if mask is not None:
            kwargs["mask"] = mask
    elif len(tensors) > 1:
        for name, value in tensors.items():
            key = f"{name}_mask"
            if key in parameters and kwargs.get(key) is None and (key not in named or named[key] is None):
                mask = masks_of(value)
                if mask is not None:
                    kwargs[key] = mask
    if kwargs.get("mask") is not None:
        return kwargs["mask"]
    first = args[0] if args else (next(iter(named.values())) if named else None)
    return masks_of(first)


def attach_output_masks(layer: Any, inputs: Any, outputs: Any, previous_mask: Any) -> None:
    """After a call of a layer that supports masking: `layer.compute_mask(inputs, previous_mask)`
    attached to the outputs that have no mask yet."""
    flat_outputs = _leaves(outputs)
    if all(get_keras_mask(x) is not None for x in flat_outputs):
        return
    output_masks = layer.compute_mask(inputs, previous_mask)
    if output_masks is None:
        return
    flat_masks = _leaves(output_masks)
    for tensor, mask in zip(flat_outputs, flat_masks):
        if mask is not None and get_keras_mask(tensor) is None:
            set_keras_mask(tensor, mask)
