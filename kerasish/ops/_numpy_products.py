"""Product `keras.ops`: matrix and tensor products, `einsum`, correlation and `slogdet`.

As in Keras's JAX backend, int8 x int8 products (`matmul`, `einsum`) accumulate and return int32 so
that XLA can use integer matrix units; everything else follows JAX's promotion.
"""

from __future__ import annotations

from typing import Any, Sequence

import jax
import jax.numpy as jnp

from kerasish.ops._numpy_base import ArrayLike, as_array, binary, dtype_of

__all__ = ["correlate", "cross", "dot", "einsum", "inner", "kron", "matmul", "outer", "slogdet", "tensordot",
           "vdot"]

dot = binary("dot", jnp.dot, "Dot product: matrix product for 2-D, sum over the last/second-last axes in general.")
inner = binary("inner", jnp.inner, "Sum of products over the last axes of `x1` and `x2`.")
outer = binary("outer", jnp.outer, "Outer product of the flattened `x1` and `x2`.")
vdot = binary("vdot", jnp.vdot, "Dot product of the flattened arrays (conjugating `x1`).")
kron = binary("kron", jnp.kron, "Kronecker product: blocks of `x2` scaled by the elements of `x1`.")


def _int8_accumulator(*arrays: jax.Array) -> str | None:
    """int32 when every operand is int8 (XLA's integer matmul path), else None (JAX's choice)."""
    return "int32" if all(dtype_of(a) == "int8" for a in arrays) else None


def matmul(x1: ArrayLike, x2: ArrayLike) -> jax.Array:
    """Matrix product with NumPy's batching and 1-D rules; int8 x int8 gives int32."""
    x1, x2 = as_array(x1), as_array(x2)
    return jnp.matmul(x1, x2, preferred_element_type=_int8_accumulator(x1, x2))


def einsum(subscripts: str, *operands: ArrayLike, **kwargs: Any) -> jax.Array:
    """Einstein summation over `operands` as spelled by `subscripts` ("ij,jk->ik").

    Keyword arguments go to `jnp.einsum` (`optimize`, `precision`, `preferred_element_type`); when
    every operand is int8 and no `preferred_element_type` is given, the result is int32.
    """
    operands = [as_array(x) for x in operands]
    kwargs.setdefault("preferred_element_type", _int8_accumulator(*operands))
    return jnp.einsum(subscripts, *operands, **kwargs)


def tensordot(x1: ArrayLike, x2: ArrayLike, axes: int | Sequence = 2) -> jax.Array:
    """Sum of products over the last `axes` axes of `x1` and first of `x2`, or over the axes pairs given."""
    return jnp.tensordot(as_array(x1), as_array(x2), axes=axes)


def cross(x1: ArrayLike, x2: ArrayLike, axisa: int = -1, axisb: int = -1, axisc: int = -1,
          axis: int | None = None) -> jax.Array:
    """Cross product of 2- or 3-vectors along `axisa` / `axisb`, written along `axisc` (`axis` sets all three)."""
    return jnp.cross(as_array(x1), as_array(x2), axisa=axisa, axisb=axisb, axisc=axisc, axis=axis)


def correlate(x1: ArrayLike, x2: ArrayLike, mode: str = "valid") -> jax.Array:
    """Cross-correlation of two 1-D arrays; `mode` "valid", "same" or "full"."""
    return jnp.correlate(as_array(x1), as_array(x2), mode=mode)


def slogdet(x: ArrayLike) -> tuple[jax.Array, jax.Array]:
    """`(sign, log|det|)` of the square matrices in the last two axes of `x`."""
    return tuple(jnp.linalg.slogdet(as_array(x)))
