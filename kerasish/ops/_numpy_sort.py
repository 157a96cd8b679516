"""Ordering and counting `keras.ops`: arg-extrema, sorting, searching, set membership, histograms.

`argmax` / `argmin` order -0.0 below +0.0 (as Keras's JAX backend does on CPU, where XLA would
otherwise treat them as equal), on every platform. Ops whose output size depends on the values
(`unique` without `size`, `bincount`, `histogram` bin edges from data, `nonzero`) need concrete
inputs, so they run eagerly but not under `jax.jit`, as in Keras.
"""

from __future__ import annotations

import builtins

import jax
import jax.numpy as jnp

from kerasish.ops._numpy_base import ArrayLike, as_array, dtype_of, result_type

__all__ = [
    "argmax", "argmin", "argpartition", "argsort", "bincount", "digitize", "histogram", "isin", "nanargmax",
    "nanargmin", "nonzero", "searchsorted", "sort", "unique",
]


def _negative_zero_below_zero(x: jax.Array) -> jax.Array:
    """Float `x` (at least float32) with -0.0 replaced by the negative of the smallest normal number."""
    x = x.astype(result_type(x.dtype, "float32"))
    return jnp.where((x == 0.0) & jnp.signbit(x), -jnp.finfo(x.dtype).tiny, x)


def _arg_extremum(jnp_fn, x: ArrayLike, axis: int | None, keepdims: bool) -> jax.Array:
    x = as_array(x)
    if "float" in dtype_of(x) and x.ndim > 0:
        x = _negative_zero_below_zero(x)
    return jnp_fn(x, axis=axis, keepdims=keepdims)


def argmax(x: ArrayLike, axis: int | None = None, keepdims: bool = False) -> jax.Array:
    """Index of the largest value along `axis` (of the flattened array by default), first on ties."""
    return _arg_extremum(jnp.argmax, x, axis, keepdims)


def argmin(x: ArrayLike, axis: int | None = None, keepdims: bool = False) -> jax.Array:
    """Index of the smallest value along `axis` (of the flattened array by default), first on ties."""
    return _arg_extremum(jnp.argmin, x, axis, keepdims)


def nanargmax(x: ArrayLike, axis: int | None = None, keepdims: bool = False) -> jax.Array:
    """`argmax` ignoring NaNs (-1 where a slice is all NaN)."""
    return jnp.nanargmax(as_array(x), axis=axis, keepdims=keepdims)


def nanargmin(x: ArrayLike, axis: int | None = None, keepdims: bool = False) -> jax.Array:
    """`argmin` ignoring NaNs (-1 where a slice is all NaN)."""
    return jnp.nanargmin(as_array(x), axis=axis, keepdims=keepdims)


def sort(x: ArrayLike, axis: int | None = -1) -> jax.Array:
    """`x` sorted ascending along `axis` (the flattened array when axis is None)."""
    return jnp.sort(as_array(x), axis=axis)


def argsort(x: ArrayLike, axis: int | None = -1) -> jax.Array:
    """Indices that sort `x` ascending along `axis` (stable); a scalar gives `[0]`."""
    x = as_array(x)
    return jnp.argsort(x, axis=None if x.ndim == 0 else axis)


def argpartition(x: ArrayLike, kth: int, axis: int | None = -1) -> jax.Array:
    """Indices that put the `kth` smallest element in place along `axis`, smaller ones before it."""
    x = as_array(x)
    if axis is None:
        return jnp.argpartition(jnp.ravel(x), kth, axis=0)
    return jnp.argpartition(x, kth, axis=axis)


def searchsorted(sorted_sequence: ArrayLike, values: ArrayLike, side: str = "left") -> jax.Array:
    """Indices where `values` would be inserted into the 1-D `sorted_sequence` to keep it sorted.

    Raises:
        ValueError: `sorted_sequence` is not 1-D (map over rows with `vectorized_map`).
    """
    sorted_sequence = as_array(sorted_sequence)
    if sorted_sequence.ndim != 1:
        raise ValueError("`searchsorted` only supports 1-D sorted sequences. You can use "
                         "`keras.ops.vectorized_map` to extend it to N-D sequences. Received: "
                         f"sorted_sequence.shape={sorted_sequence.shape}")
    return jnp.searchsorted(sorted_sequence, as_array(values), side=side)


def digitize(x: ArrayLike, bins: ArrayLike) -> jax.Array:
    """Index of the bin of `bins` (monotonic edges) each value of `x` falls in, as int32."""
    return jnp.digitize(as_array(x), as_array(bins))


def isin(x1: ArrayLike, x2: ArrayLike, assume_unique: bool = False, invert: bool = False) -> jax.Array:
    """True where an element of `x1` occurs in `x2` (false there with `invert`)."""
    return jnp.isin(as_array(x1), as_array(x2), assume_unique=assume_unique, invert=invert)


def nonzero(x: ArrayLike) -> tuple[jax.Array, ...]:
    """Indices of the non-zero elements, one int32 array per dimension of `x`."""
    return jnp.nonzero(as_array(x))


def unique(x: ArrayLike, sorted: bool = True, return_index: bool = False, return_inverse: bool = False,
           return_counts: bool = False, axis: int | None = None, size: int | None = None,
           fill_value: ArrayLike | None = None) -> jax.Array | tuple[jax.Array, ...]:
    """The distinct elements of `x` (slices along `axis`), with the requested index/inverse/counts arrays.

    Give `size` (and optionally `fill_value` for the padding) to get a fixed-size result that works
    under `jax.jit`. NaNs count as distinct from each other, as in Keras.
    """
    return jnp.unique(as_array(x), return_index=return_index, return_inverse=return_inverse,
                      return_counts=return_counts, axis=axis, equal_nan=False, size=size, sorted=sorted,
                      fill_value=fill_value)


def histogram(x: ArrayLike, bins: int = 10, range: tuple[float, float] | None = None) -> tuple[jax.Array, jax.Array]:
    """Counts of the 1-D `x` in `bins` equal bins over `range` (min..max of x by default), and the edges.

    Raises:
        TypeError: `bins` is not an int.
        ValueError: `bins` is negative, `range` is not an increasing pair, or `x` is not 1-D.
    """
    if not isinstance(bins, int):
        raise TypeError(f"Argument `bins` must be of type `int`. Received: bins={bins}")
    if bins < 0:
        raise ValueError(f"Argument `bins` should be a non-negative integer. Received: bins={bins}")
    if range:
        if not isinstance(range, tuple) or len(range) < 2:
            raise ValueError(f"Argument `range` must be a tuple of two elements. Received: range={range}")
        if range[1] < range[0]:
            raise ValueError("The second element of `range` must be greater than the first. "
                             f"Received: range={range}")
    x = as_array(x)
    if x.ndim > 1:
        raise ValueError(f"Input tensor must be 1-dimensional. Received: input.shape={x.shape}")
    return jnp.histogram(x, bins=bins, range=range)


def bincount(x: ArrayLike, weights: ArrayLike | None = None, minlength: int = 0,
             sparse: bool = False) -> jax.Array:
    """Occurrences of each non-negative integer in `x` (summed `weights` if given), at least `minlength` long.

    A 2-D `x` counts each row; all rows share one length, that of the largest value.

    Raises:
        ValueError: `sparse=True` (kerasish has no sparse tensors).
    """
    if sparse:
        raise ValueError("bincount(sparse=True) needs sparse tensors, which kerasish does not have; "
                         "call it with sparse=False. Received: sparse=True")
    x = as_array(x)
    weights = None if weights is None else as_array(weights)
    if x.ndim != 2:
        return jnp.bincount(x, weights=weights, minlength=minlength)
    length = builtins.max(minlength, int(jnp.max(x)) + 1 if x.size else 0)
    if weights is None:
        return jax.vmap(lambda row: jnp.bincount(row, length=length))(x)
    return jax.vmap(lambda row, w: jnp.bincount(row, w, length=length))(x, weights)
