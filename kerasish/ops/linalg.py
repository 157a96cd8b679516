"""keras.ops linalg group: factorizations, solves, inverses, norms and `jvp`, over jnp.linalg / jax.scipy.

Keras 3's names, arguments and input checks (rank, squareness, matching dimensions) at the
boundary; the maths is JAX's. Matrices are the last two axes; leading axes are a batch.
"""

from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp
import jax.scipy.linalg as jsl

from kerasish.ops.core import cast, convert_to_tensor
from kerasish.ops.dtypes import result_type

__all__ = ["cholesky", "cholesky_inverse", "det", "eig", "eigh", "inv", "jvp", "lstsq", "lu_factor",
           "matrix_rank", "norm", "pinv", "qr", "solve", "solve_triangular", "svd"]

_QR_MODES = ("reduced", "complete")


def _matrices(x: Any, square: bool = False, name: str = "x") -> jax.Array:
    """`x` as an array of matrices: rank >= 2 and, if `square`, square."""
    x = convert_to_tensor(x)
    if x.ndim < 2:
        raise ValueError(f"Expected `{name}` to have rank >= 2. Received: {name}.shape={x.shape}")
    if square and x.shape[-1] != x.shape[-2]:
        raise ValueError(f"Expected `{name}` to hold square matrices. Received: {name}.shape={x.shape}")
    return x


def _system(a: Any, b: Any) -> tuple[jax.Array, jax.Array]:
    """`a` (square matrices) and `b` (right-hand sides) of `a @ x = b`, with compatible shapes."""
    a, b = _matrices(a, square=True, name="a"), convert_to_tensor(b)
    if b.ndim < 1:
        raise ValueError(f"Expected `b` to have rank >= 1. Received a scalar: b={b}")
    rows = b.shape[-2] if b.ndim == a.ndim else b.shape[-1]
    if b.ndim in (a.ndim, a.ndim - 1) and rows != a.shape[-1]:
        raise ValueError("`a` and `b` do not match: `b` needs a.shape[-1] rows. Received: "
                         f"a.shape={a.shape}, b.shape={b.shape}")
    return a, b


def _is_traced(x: jax.Array) -> bool:
    return isinstance(x, jax.core.Tracer)


def cholesky(x: Any, upper: bool = False) -> jax.Array:
    """The Cholesky factor of symmetric positive-definite `x`: lower (`L @ L.T == x`) or upper.

    Raises:
        ValueError: eagerly, when `x` is not positive definite (the factor holds NaNs). Under
            `jax.jit` the NaNs are returned instead.
    """
    factor = jnp.linalg.cholesky(_matrices(x, square=True), upper=upper)
    if not _is_traced(factor) and bool(jnp.any(jnp.isnan(factor))):
        raise ValueError("Cholesky decomposition failed: the input is not a positive-definite matrix.")
    return factor


def cholesky_inverse(x: Any, upper: bool = False) -> jax.Array:
    """The inverse of `A` given its Cholesky factor `x` (lower, or upper with `upper=True`)."""
    x = _matrices(x, square=True)
    identity = jnp.broadcast_to(jnp.eye(x.shape[-1], dtype=x.dtype), x.shape)
    return jsl.cho_solve((x, not upper), identity)


def det(x: Any) -> jax.Array:
    """Determinants of square matrices."""
    return jnp.linalg.det(_matrices(x, square=True))


def eig(x: Any) -> tuple[jax.Array, jax.Array]:
    """`(eigenvalues, eigenvectors)` of general square matrices, complex (JAX computes it on CPU only)."""
    return jnp.linalg.eig(_matrices(x, square=True))


def eigh(x: Any) -> tuple[jax.Array, jax.Array]:
    """`(eigenvalues ascending, eigenvectors)` of symmetric / Hermitian matrices (lower triangle read)."""
    return jnp.linalg.eigh(_matrices(x, square=True))


def inv(x: Any) -> jax.Array:
    """Inverses of square matrices."""
    return jnp.linalg.inv(_matrices(x, square=True))


def lu_factor(x: Any) -> tuple[jax.Array, jax.Array]:
    """`(lu, pivots)`: L and U packed in one matrix, and the int32 row pivots (LAPACK's getrf)."""
    return jsl.lu_factor(_matrices(x))


def norm(x: Any, ord: Any = None, axis: int | tuple[int, int] | None = None, keepdims: bool = False
         ) -> jax.Array:
    """Vector or matrix norm (`jnp.linalg.norm`), in the float dtype Keras promotes `x` to."""
    x = convert_to_tensor(x)
    return jnp.linalg.norm(cast(x, result_type(x.dtype, float)), ord=ord, axis=axis, keepdims=keepdims)


def qr(x: Any, mode: str = "reduced") -> tuple[jax.Array, jax.Array]:
    """`(q, r)` with orthonormal `q` and upper-triangular `r`; `mode` "reduced" or "complete"."""
    if mode not in _QR_MODES:
        raise ValueError(f"`mode` must be one of {_QR_MODES}. Received: mode={mode!r}")
    return jnp.linalg.qr(convert_to_tensor(x), mode=mode)


def solve(a: Any, b: Any) -> jax.Array:
    """`x` with `a @ x == b` for square `a`."""
    return jnp.linalg.solve(*_system(a, b))


def solve_triangular(a: Any, b: Any, lower: bool = False) -> jax.Array:
    """`x` with `a @ x == b` for triangular `a` (upper unless `lower=True`)."""
    return jsl.solve_triangular(*_system(a, b), lower=lower)


def svd(x: Any, full_matrices: bool = True, compute_uv: bool = True) -> Any:
    """`(u, s, vh)` with `x == u @ diag(s) @ vh`, or only the singular values `s` if not `compute_uv`."""
    return jnp.linalg.svd(_matrices(x), full_matrices=full_matrices, compute_uv=compute_uv)


def lstsq(a: Any, b: Any, rcond: float | None = None) -> jax.Array:
    """The least-squares solution `x` of `a @ x ≈ b`; singular values below `rcond` (relative) are cut."""
    return jnp.linalg.lstsq(convert_to_tensor(a), convert_to_tensor(b), rcond=rcond)[0]


def matrix_rank(x: Any, tol: float | None = None) -> jax.Array:
    """The number of singular values above `tol` (default: from the dtype's precision), as int32."""
    return jnp.linalg.matrix_rank(_matrices(x), rtol=tol).astype(jnp.int32)


def pinv(x: Any, rcond: float | None = None) -> jax.Array:
    """The Moore-Penrose pseudo-inverse; singular values below `rcond` times the largest are cut."""
    return jnp.linalg.pinv(_matrices(x), rtol=rcond)


def jvp(fun: Callable, primals: Any, tangents: Any, has_aux: bool = False) -> tuple:
    """`(fun(*primals), J @ tangents)` (plus the aux output with `has_aux=True`), by `jax.jvp`."""
    return jax.jvp(fun, primals, tangents, has_aux=has_aux)
