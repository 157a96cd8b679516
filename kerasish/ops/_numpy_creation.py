"""Array-creating `keras.ops`: filled arrays, ranges, grids and window functions.

Keras's defaults differ from NumPy's in one place that matters: an array created without a `dtype`
is floatx (float32), not float64, and `arange` infers int32 or float32 from its arguments the way
Keras's promotion does. Window functions (`bartlett`, `hamming`, ...) return floatx.
"""

from __future__ import annotations

from typing import Sequence

import jax
import jax.numpy as jnp

from kerasish.ops._numpy_base import ArrayLike, DTypeLike, as_array, floatx, optional_dtype, result_type

__all__ = [
    "arange", "array", "bartlett", "blackman", "empty", "empty_like", "eye", "full", "full_like", "geomspace",
    "hamming", "hanning", "identity", "kaiser", "linspace", "logspace", "meshgrid", "ones", "ones_like", "tri",
    "vander", "zeros", "zeros_like",
]

Shape = int | Sequence[int]


def _dtype_or_floatx(dtype: DTypeLike) -> str:
    return optional_dtype(dtype) or floatx()


def zeros(shape: Shape, dtype: DTypeLike = None) -> jax.Array:
    """An array of zeros of `shape`; `dtype` defaults to floatx."""
    return jnp.zeros(shape, _dtype_or_floatx(dtype))


def ones(shape: Shape, dtype: DTypeLike = None) -> jax.Array:
    """An array of ones of `shape`; `dtype` defaults to floatx."""
    return jnp.ones(shape, _dtype_or_floatx(dtype))


def empty(shape: Shape, dtype: DTypeLike = None) -> jax.Array:
    """An array of `shape` whose values are unspecified (zeros on JAX); `dtype` defaults to floatx."""
    return jnp.empty(shape, _dtype_or_floatx(dtype))


def full(shape: Shape, fill_value: ArrayLike, dtype: DTypeLike = None) -> jax.Array:
    """An array of `shape` filled with `fill_value`; `dtype` defaults to floatx (not the fill's type)."""
    return jnp.full(shape, as_array(fill_value), _dtype_or_floatx(dtype))


def zeros_like(x: ArrayLike, dtype: DTypeLike = None) -> jax.Array:
    """Zeros with the shape of `x` and its dtype unless `dtype` is given."""
    return jnp.zeros_like(as_array(x), optional_dtype(dtype))


def ones_like(x: ArrayLike, dtype: DTypeLike = None) -> jax.Array:
    """Ones with the shape of `x` and its dtype unless `dtype` is given."""
    return jnp.ones_like(as_array(x), optional_dtype(dtype))


def empty_like(x: ArrayLike, dtype: DTypeLike = None) -> jax.Array:
    """An unspecified-valued array (zeros on JAX) like `x`."""
    return jnp.empty_like(as_array(x), optional_dtype(dtype))


def full_like(x: ArrayLike, fill_value: ArrayLike, dtype: DTypeLike = None) -> jax.Array:
    """`fill_value` with the shape of `x` and its dtype unless `dtype` is given."""
    return jnp.full_like(as_array(x), as_array(fill_value), optional_dtype(dtype))


def _is_float(value) -> bool:
    return isinstance(value, float) or "float" in str(getattr(value, "dtype", ""))


def eye(N: int, M: int | None = None, k: int = 0, dtype: DTypeLike = None) -> jax.Array:
    """An `N x M` matrix (M defaults to N) with ones on diagonal `k`; `dtype` defaults to floatx.

    Raises:
        TypeError: `N` or `M` is a float.
    """
    if _is_float(N):
        raise TypeError(f"Argument `N` must be an integer or an integer tensor. Received: N={N}")
    if _is_float(M):
        raise TypeError(f"Argument `M` must be an integer, an integer tensor, or `None`. Received: M={M}")
    return jnp.eye(N, M, k, _dtype_or_floatx(dtype))


def identity(n: int, dtype: DTypeLike = None) -> jax.Array:
    """The `n x n` identity matrix; `dtype` defaults to floatx."""
    return jnp.identity(n, _dtype_or_floatx(dtype))


def tri(N: int, M: int | None = None, k: int = 0, dtype: DTypeLike = None) -> jax.Array:
    """`N x M` matrix with ones at and below diagonal `k`, zeros above; `dtype` defaults to floatx."""
    return jnp.tri(N, M, k, _dtype_or_floatx(dtype))


def _dtype_of_value(value) -> object:
    return value.dtype if hasattr(value, "dtype") else type(value)


def arange(start: ArrayLike, stop: ArrayLike | None = None, step: ArrayLike | None = None,
           dtype: DTypeLike = None) -> jax.Array:
    """Evenly spaced values in [start, stop) (or [0, start) with one argument).

    Without `dtype`: int32 for integer arguments, float32 when any is a float (Keras's promotion).
    """
    if dtype is None:
        dtype = result_type(*[_dtype_of_value(v) for v in (start, stop, step) if v is not None])
    return jnp.arange(start, stop, step, dtype=optional_dtype(dtype))


def linspace(start: ArrayLike, stop: ArrayLike, num: int = 50, endpoint: bool = True, retstep: bool = False,
             dtype: DTypeLike = None, axis: int = 0) -> jax.Array | tuple[jax.Array, jax.Array]:
    """`num` evenly spaced values from `start` to `stop` (`stop` excluded without `endpoint`).

    With `retstep=True`, returns `(values, step)`.
    """
    return jnp.linspace(start, stop, num=num, endpoint=endpoint, retstep=retstep, dtype=optional_dtype(dtype),
                        axis=axis)


def logspace(start: ArrayLike, stop: ArrayLike, num: int = 50, endpoint: bool = True, base: float = 10,
             dtype: DTypeLike = None, axis: int = 0) -> jax.Array:
    """`base ** linspace(start, stop, num)`."""
    return jnp.logspace(start, stop, num=num, endpoint=endpoint, base=base, dtype=optional_dtype(dtype),
                        axis=axis)


def geomspace(start: ArrayLike, stop: ArrayLike, num: int = 50, endpoint: bool = True,
              dtype: DTypeLike = None, axis: int = 0) -> jax.Array:
    """`num` values from `start` to `stop` evenly spaced on a log scale (a geometric progression)."""
    return jnp.geomspace(start, stop, num=num, endpoint=endpoint, dtype=optional_dtype(dtype), axis=axis)


def meshgrid(*x: ArrayLike, indexing: str = "xy") -> list[jax.Array]:
    """Coordinate grids from 1-D arrays; `indexing` "xy" (Cartesian) or "ij" (matrix)."""
    return jnp.meshgrid(*[as_array(v) for v in x], indexing=indexing)


def array(x: ArrayLike, dtype: DTypeLike = None) -> jax.Array:
    """A JAX array holding `x` (a nested list, NumPy array, scalar, ...), cast to `dtype` if given."""
    return jnp.array(x, dtype=optional_dtype(dtype))


def vander(x: ArrayLike, N: int | None = None, increasing: bool = False) -> jax.Array:
    """The Vandermonde matrix of the 1-D `x`: columns are powers of `x` (decreasing unless `increasing`).

    Raises:
        ValueError: `x` is not 1-D, or `N` is negative.
        TypeError: `N` is not an int or `increasing` not a bool.
    """
    x = as_array(x)
    if x.ndim != 1:
        raise ValueError(f"Input tensor must be 1-dimensional. Received: input.shape={x.shape}")
    if N is not None and not isinstance(N, int):
        raise TypeError(f"Argument `N` must be of type `int`. Received: N={N} of type {type(N)}")
    if N is not None and N < 0:
        raise ValueError(f"Argument 'N' must be nonnegative. Received: N={N}")
    if not isinstance(increasing, bool):
        raise TypeError(f"Argument `increasing` must be of type `bool`. Received: increasing={increasing} "
                        f"of type {type(increasing)}")
    return jnp.vander(x, N=N, increasing=increasing)


def _window(jnp_fn, length: int, *args) -> jax.Array:
    return jnp_fn(length, *args).astype(floatx())


def bartlett(x: int) -> jax.Array:
    """The Bartlett (triangular) window of `x` points, in floatx."""
    return _window(jnp.bartlett, x)


def blackman(x: int) -> jax.Array:
    """The Blackman window of `x` points, in floatx."""
    return _window(jnp.blackman, x)


def hamming(x: int) -> jax.Array:
    """The Hamming window of `x` points, in floatx."""
    return _window(jnp.hamming, x)


def hanning(x: int) -> jax.Array:
    """The Hann window of `x` points, in floatx."""
    return _window(jnp.hanning, x)


def kaiser(x: int, beta: float) -> jax.Array:
    """The Kaiser window of `x` points with shape parameter `beta`, in floatx."""
    return _window(jnp.kaiser, x, beta)
