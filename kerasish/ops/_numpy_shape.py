"""Shape-changing `keras.ops`: reshaping, axis moves, joining and splitting, tiling, flipping, padding.

Values are never changed here, only rearranged, so every op keeps the input dtype. Argument names
follow Keras (`reshape(x, newshape)`, `stack(x, axis)`, `concatenate(xs, axis)`), and the argument
checks that Keras makes eagerly (`reshape` with two -1s, `rot90` on a vector, `pad` widths that do
not match the rank, `array_split` with a non-int count) raise the same error types here.
"""

from __future__ import annotations

from typing import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from kerasish.ops._numpy_base import ArrayLike, DTypeLike, as_array, optional_dtype

__all__ = [
    "append", "array_split", "broadcast_to", "concatenate", "diff", "dsplit", "dstack", "expand_dims", "flip",
    "fliplr", "flipud", "hsplit", "hstack", "moveaxis", "ndim", "pad", "ravel", "repeat", "reshape", "roll",
    "rot90", "size", "split", "squeeze", "stack", "swapaxes", "tile", "transpose", "view", "vsplit", "vstack",
]

Sections = int | Sequence[int]


def reshape(x: ArrayLike, newshape: int | Sequence[int]) -> jax.Array:
    """`x` with shape `newshape`; one dimension may be -1 (inferred).

    Raises:
        ValueError: a dimension below -1, or more than one -1.
    """
    if isinstance(newshape, (np.ndarray, jax.Array)):   # a shape held in an array must be concrete
        newshape = tuple(int(d) for d in np.asarray(newshape).reshape(-1))
    newshape = tuple(newshape) if isinstance(newshape, (list, tuple)) else (newshape,)
    dims = [d for d in newshape if isinstance(d, (int, np.integer))]
    if any(d < -1 for d in dims) or dims.count(-1) > 1:
        raise ValueError("Each dimension in `newshape` must be a non-negative integer, or `-1` for a single "
                         f"unknown dimension. Received: newshape={newshape}.")
    return jnp.reshape(as_array(x), newshape)


def ravel(x: ArrayLike) -> jax.Array:
    """`x` flattened to 1-D (row-major)."""
    return jnp.ravel(as_array(x))


def transpose(x: ArrayLike, axes: Sequence[int] | None = None) -> jax.Array:
    """`x` with its axes permuted by `axes` (reversed by default)."""
    return jnp.transpose(as_array(x), axes)


def swapaxes(x: ArrayLike, axis1: int, axis2: int) -> jax.Array:
    """`x` with axes `axis1` and `axis2` exchanged."""
    return jnp.swapaxes(as_array(x), axis1, axis2)


def moveaxis(x: ArrayLike, source: int | Sequence[int], destination: int | Sequence[int]) -> jax.Array:
    """`x` with the axes at `source` moved to `destination`, the others kept in order."""
    return jnp.moveaxis(as_array(x), source, destination)


def expand_dims(x: ArrayLike, axis: int | Sequence[int]) -> jax.Array:
    """`x` with new size-1 axes inserted at `axis` (an int or a tuple of ints)."""
    return jnp.expand_dims(as_array(x), axis)


def squeeze(x: ArrayLike, axis: int | Sequence[int] | None = None) -> jax.Array:
    """`x` without its size-1 axes (only those in `axis` if given; others there raise ValueError)."""
    return jnp.squeeze(as_array(x), axis)


def broadcast_to(x: ArrayLike, shape: Sequence[int]) -> jax.Array:
    """`x` broadcast to `shape` by NumPy's rules."""
    return jnp.broadcast_to(as_array(x), shape)


def concatenate(xs: Sequence[ArrayLike], axis: int | None = 0) -> jax.Array:
    """The arrays `xs` joined along the existing `axis` (flattened first when axis is None)."""
    return jnp.concatenate([as_array(x) for x in xs], axis=axis)


def stack(x: Sequence[ArrayLike], axis: int = 0) -> jax.Array:
    """The same-shaped arrays `x` joined along a new `axis`."""
    return jnp.stack([as_array(v) for v in x], axis=axis)


def hstack(xs: Sequence[ArrayLike]) -> jax.Array:
    """Arrays joined column-wise (along axis 1, or axis 0 for 1-D arrays)."""
    return jnp.hstack([as_array(x) for x in xs])


def vstack(xs: Sequence[ArrayLike]) -> jax.Array:
    """Arrays joined row-wise (1-D arrays become rows)."""
    return jnp.vstack([as_array(x) for x in xs])


def dstack(xs: Sequence[ArrayLike]) -> jax.Array:
    """Arrays joined along the third axis (lower-rank arrays are first made 3-D)."""
    return jnp.dstack([as_array(x) for x in xs])


def append(x1: ArrayLike, x2: ArrayLike, axis: int | None = None) -> jax.Array:
    """`x2` joined after `x1` along `axis` (both flattened when axis is None)."""
    return jnp.append(as_array(x1), as_array(x2), axis=axis)


def split(x: ArrayLike, indices_or_sections: Sections, axis: int = 0) -> list[jax.Array]:
    """`x` cut along `axis` into equal sections (an int that divides the size) or at the given indices."""
    return jnp.split(as_array(x), indices_or_sections, axis=axis)


def array_split(x: ArrayLike, indices_or_sections: int, axis: int = 0) -> list[jax.Array]:
    """`x` cut along `axis` into `indices_or_sections` nearly equal parts (the first ones one longer).

    Raises:
        TypeError: `indices_or_sections` or `axis` is not an int.
        ValueError: `indices_or_sections` is not positive.
    """
    if not isinstance(indices_or_sections, int):
        raise TypeError("Argument `indices_or_sections` must be of type `int`. "
                        f"Received: indices_or_sections={indices_or_sections}")
    if indices_or_sections <= 0:
        raise ValueError("Argument `indices_or_sections` must be a positive integer. "
                         f"Received: indices_or_sections={indices_or_sections}")
    if not isinstance(axis, int):
        raise TypeError(f"Argument `axis` must be of type `int`. Received: {axis}")
    return jnp.array_split(as_array(x), indices_or_sections, axis=axis)


def hsplit(x: ArrayLike, indices_or_sections: Sections) -> list[jax.Array]:
    """`split` along axis 1 (axis 0 for 1-D arrays)."""
    return jnp.hsplit(as_array(x), indices_or_sections)


def vsplit(x: ArrayLike, indices_or_sections: Sections) -> list[jax.Array]:
    """`split` along axis 0."""
    return jnp.vsplit(as_array(x), indices_or_sections)


def dsplit(x: ArrayLike, indices_or_sections: Sections) -> list[jax.Array]:
    """`split` along axis 2."""
    return jnp.dsplit(as_array(x), indices_or_sections)


def tile(x: ArrayLike, repeats: int | Sequence[int]) -> jax.Array:
    """`x` repeated `repeats` times along each axis."""
    return jnp.tile(as_array(x), repeats)


def repeat(x: ArrayLike, repeats: int | ArrayLike, axis: int | None = None) -> jax.Array:
    """Each element (slice along `axis`) of `x` repeated `repeats` times; flattened when axis is None."""
    return jnp.repeat(as_array(x), repeats, axis=axis)


def flip(x: ArrayLike, axis: int | Sequence[int] | None = None) -> jax.Array:
    """`x` with the order of elements reversed along `axis` (all axes by default)."""
    return jnp.flip(as_array(x), axis=axis)


def fliplr(x: ArrayLike) -> jax.Array:
    """`x` reversed along axis 1 (left/right)."""
    return jnp.fliplr(as_array(x))


def flipud(x: ArrayLike) -> jax.Array:
    """`x` reversed along axis 0 (up/down)."""
    return jnp.flipud(as_array(x))


def roll(x: ArrayLike, shift: int | Sequence[int], axis: int | Sequence[int] | None = None) -> jax.Array:
    """Elements of `x` shifted by `shift` along `axis`, wrapping around (flattened when axis is None)."""
    return jnp.roll(as_array(x), shift, axis=axis)


def rot90(array: ArrayLike, k: int = 1, axes: tuple[int, int] = (0, 1)) -> jax.Array:
    """`array` rotated by 90 degrees `k` times in the plane of `axes` (from the first axis to the second).

    Raises:
        ValueError: `array` has fewer than 2 dimensions, or `axes` is not two different axes.
    """
    array = as_array(array)
    if array.ndim < 2:
        raise ValueError(f"Input array must have at least 2 dimensions. Received: array.ndim={array.ndim}")
    if len(axes) != 2 or axes[0] == axes[1]:
        raise ValueError(f"Invalid axes: {axes}. Axes must be a tuple of two different dimensions.")
    return jnp.rot90(array, k=k, axes=axes)


def _pad_pairs(pad_width) -> tuple[tuple[int, int], ...]:
    """Keras's `pad_width` spellings as (before, after) pairs: 2, (1, 2), [(1,), (2, 3)], ..."""
    if isinstance(pad_width, (int, np.integer)):
        return ((int(pad_width), int(pad_width)),)
    if isinstance(pad_width[0], (int, np.integer)):
        return (tuple(pad_width),)
    if len({len(pair) for pair in pad_width}) != 1:
        raise ValueError(f"`pad_width` should be a list of tuples of length 1 or 2. Received: pad_width={pad_width}")
    return tuple((pair[0], pair[0]) if len(pair) == 1 else tuple(pair) for pair in pad_width)


def pad(x: ArrayLike, pad_width, mode: str = "constant", constant_values: ArrayLike | None = None) -> jax.Array:
    """`x` padded by `pad_width` (an int, one (before, after) pair for all axes, or one pair per axis).

    `mode` is one of NumPy's ("constant", "edge", "reflect", "symmetric", "wrap", ...);
    `constant_values` (default 0) is only allowed with mode "constant".

    Raises:
        ValueError: per-axis widths whose count differs from the rank, or `constant_values` with
            another mode.
    """
    x = as_array(x)
    pairs = _pad_pairs(pad_width)
    if len(pairs) > 1 and len(pairs) != x.ndim:
        raise ValueError(f"`pad_width` must have the same length as `x.shape`. Received: pad_width={pairs} "
                         f"(of length {len(pairs)}) and x.shape={x.shape} (of length {x.ndim})")
    if constant_values is None:
        return jnp.pad(x, pairs, mode=mode)
    if mode != "constant":
        raise ValueError(f"Argument `constant_values` can only be provided when `mode == 'constant'`. "
                         f"Received: mode={mode}")
    return jnp.pad(x, pairs, mode=mode, constant_values=constant_values)


def diff(a: ArrayLike, n: int = 1, axis: int = -1) -> jax.Array:
    """The `n`-th discrete difference `a[i+1] - a[i]` along `axis`."""
    return jnp.diff(as_array(a), n=n, axis=axis)


def view(x: ArrayLike, dtype: DTypeLike = None) -> jax.Array:
    """The bits of `x` reinterpreted as `dtype` (the last axis rescales when the item sizes differ)."""
    return as_array(x).view(optional_dtype(dtype))


def ndim(x: ArrayLike) -> int:
    """The number of dimensions of `x`, as a Python int."""
    return jnp.ndim(as_array(x))


def size(x: ArrayLike) -> int:
    """The number of elements of `x`, as a Python int."""
    return jnp.size(as_array(x))
