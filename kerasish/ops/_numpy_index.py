"""Indexing `keras.ops`: gathering, choosing between arrays, diagonals and triangles.

`where` with one argument is `nonzero`; with three it chooses elementwise. `take` and
`take_along_axis` gather with out-of-range indices clamped, as JAX does (Keras's JAX backend calls
the same functions). `get_item(x, key)` is `x[key]`.
"""

from __future__ import annotations

from typing import Any, Sequence

import jax
import jax.numpy as jnp

from kerasish.ops._numpy_base import ArrayLike, as_array

__all__ = [
    "diag", "diagflat", "diagonal", "get_item", "select", "take", "take_along_axis", "trace", "tril", "triu",
    "unravel_index", "where",
]


def take(x: ArrayLike, indices: ArrayLike, axis: int | None = None) -> jax.Array:
    """Elements (slices along `axis`) of `x` at `indices`; `x` is flattened when axis is None."""
    return jnp.take(as_array(x), as_array(indices), axis=axis)


def take_along_axis(x: ArrayLike, indices: ArrayLike, axis: int | None = None) -> jax.Array:
    """Values of `x` at `indices` matched along `axis` (as from `argsort`); flattened when axis is None."""
    return jnp.take_along_axis(as_array(x), as_array(indices), axis=axis)


def get_item(x: ArrayLike, key: Any) -> jax.Array:
    """`x[key]`: NumPy-style indexing with ints, slices, arrays, `None` and `...`."""
    return as_array(x)[key]


def where(condition: ArrayLike, x1: ArrayLike | None = None,
          x2: ArrayLike | None = None) -> jax.Array | tuple[jax.Array, ...]:
    """`x1` where `condition` is true, else `x2`, with broadcasting; with `condition` only, its `nonzero`.

    Raises:
        ValueError: only one of `x1`, `x2` is given.
    """
    if (x1 is None) != (x2 is None):
        raise ValueError("`x1` and `x2` either both should be `None` or both should have non-None value.")
    if x1 is None:
        return jnp.where(as_array(condition))
    return jnp.where(as_array(condition), as_array(x1), as_array(x2))


def select(condlist: Sequence[ArrayLike], choicelist: Sequence[ArrayLike], default: ArrayLike = 0) -> jax.Array:
    """Elementwise, the entry of `choicelist` whose condition in `condlist` is the first true one, else `default`.

    Raises:
        ValueError: `condlist` or `choicelist` is not a non-empty list or tuple.
    """
    if not isinstance(condlist, (list, tuple)) or not isinstance(choicelist, (list, tuple)):
        raise ValueError("condlist and choicelist must be lists. Received: "
                         f"type(condlist) = {type(condlist)}, type(choicelist) = {type(choicelist)}")
    if not condlist or not choicelist:
        raise ValueError("condlist and choicelist must not be empty. Received: "
                         f"condlist = {condlist}, choicelist = {choicelist}")
    return jnp.select([as_array(c) for c in condlist], [as_array(c) for c in choicelist], default)


def unravel_index(indices: ArrayLike, shape: Sequence[int]) -> tuple[jax.Array, ...]:
    """Flat `indices` into an array of `shape` as one coordinate array per dimension."""
    return jnp.unravel_index(as_array(indices), shape)


def diag(x: ArrayLike, k: int = 0) -> jax.Array:
    """The `k`-th diagonal of a matrix, or a square matrix with the vector `x` on diagonal `k`."""
    return jnp.diag(as_array(x), k=k)


def diagflat(x: ArrayLike, k: int = 0) -> jax.Array:
    """A square matrix with the flattened `x` on diagonal `k`."""
    return jnp.diagflat(as_array(x), k=k)


def diagonal(x: ArrayLike, offset: int = 0, axis1: int = 0, axis2: int = 1) -> jax.Array:
    """The diagonal `offset` of the matrices in the plane (`axis1`, `axis2`), as a last axis.

    Raises:
        ValueError: `axis1` and `axis2` name the same axis.
    """
    x = as_array(x)
    if axis1 % max(x.ndim, 1) == axis2 % max(x.ndim, 1):
        raise ValueError(f"`axis1` and `axis2` cannot be the same. Received: axis1={axis1}, axis2={axis2}")
    return jnp.diagonal(x, offset=offset, axis1=axis1, axis2=axis2)


def trace(x: ArrayLike, offset: int = 0, axis1: int = 0, axis2: int = 1) -> jax.Array:
    """Sum along the diagonal `offset` of the matrices in the plane (`axis1`, `axis2`)."""
    return jnp.trace(as_array(x), offset=offset, axis1=axis1, axis2=axis2)


def tril(x: ArrayLike, k: int = 0) -> jax.Array:
    """`x` with the elements above diagonal `k` of its last two axes zeroed."""
    return jnp.tril(as_array(x), k=k)


def triu(x: ArrayLike, k: int = 0) -> jax.Array:
    """`x` with the elements below diagonal `k` of its last two axes zeroed."""
    return jnp.triu(as_array(x), k=k)
