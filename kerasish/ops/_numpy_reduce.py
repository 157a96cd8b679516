"""Reducing `keras.ops`: sums, extrema, means and spreads, order statistics, cumulative ops.

Most are the `jnp` reduction of the same name with `axis` (an int, or a tuple or list of ints) and
`keepdims`. Keras's dtype rules that differ from plain NumPy live here: `mean` of integers or
bools is float32 and low-precision floats are averaged in float32 and cast back; `var` is the
same; `average` computes in Keras's float result type of `x` and `weights`; `count_nonzero` is
int32.
"""

from __future__ import annotations

from typing import Callable, Sequence

import jax
import jax.numpy as jnp

from kerasish.ops._numpy_base import (ArrayLike, DTypeLike, as_array, dtype_of, is_int_or_bool, name_op,
                                      optional_dtype, result_type)

__all__ = [
    "all", "allclose", "amax", "amin", "any", "average", "corrcoef", "count_nonzero", "cumprod", "cumsum", "max",
    "mean", "median", "min", "nancumprod", "nancumsum", "nanmax", "nanmean", "nanmedian", "nanmin",
    "nanpercentile", "nanprod", "nanquantile", "nanstd", "nansum", "nanvar", "percentile", "prod", "ptp",
    "quantile", "std", "sum", "trapezoid", "var",
]

Axis = int | Sequence[int] | None


def _axis(axis: Axis) -> int | tuple[int, ...] | None:
    """`axis` as `jnp` wants it: a list of axes becomes a tuple."""
    return tuple(axis) if isinstance(axis, list) else axis


def _reduction(name: str, jnp_fn: Callable, doc: str) -> Callable:
    """A reduction `op(x, axis=None, keepdims=False)` over the `jnp` one."""
    def op(x: ArrayLike, axis: Axis = None, keepdims: bool = False) -> jax.Array:
        return jnp_fn(as_array(x), axis=_axis(axis), keepdims=keepdims)
    return name_op(op, name, doc)


all = _reduction("all", jnp.all, "True where every element along `axis` is true (all axes by default).")
any = _reduction("any", jnp.any, "True where some element along `axis` is true (all axes by default).")
amax = _reduction("amax", jnp.amax, "Largest value along `axis`.")
amin = _reduction("amin", jnp.amin, "Smallest value along `axis`.")
sum = _reduction("sum", jnp.sum, "Sum along `axis`; bools and small integers sum as int32.")
ptp = _reduction("ptp", jnp.ptp, "Range (max - min) along `axis`.")
std = _reduction("std", jnp.std, "Population standard deviation along `axis` (integers in float32).")
median = _reduction("median", jnp.median, "Median along `axis` (integers in float32).")
nanmax = _reduction("nanmax", jnp.nanmax, "Largest value along `axis`, ignoring NaNs.")
nanmin = _reduction("nanmin", jnp.nanmin, "Smallest value along `axis`, ignoring NaNs.")
nansum = _reduction("nansum", jnp.nansum, "Sum along `axis`, counting NaNs as zero.")
nanprod = _reduction("nanprod", jnp.nanprod, "Product along `axis`, counting NaNs as one.")
nanmean = _reduction("nanmean", jnp.nanmean, "Mean along `axis` of the values that are not NaN.")
nanmedian = _reduction("nanmedian", jnp.nanmedian, "Median along `axis` of the values that are not NaN.")
nanstd = _reduction("nanstd", jnp.nanstd, "Standard deviation along `axis`, ignoring NaNs.")
nanvar = _reduction("nanvar", jnp.nanvar, "Variance along `axis`, ignoring NaNs.")


def max(x: ArrayLike, axis: Axis = None, keepdims: bool = False, initial: ArrayLike | None = None) -> jax.Array:
    """Largest value along `axis`; `initial` is a lower bound included in every reduction."""
    return jnp.max(as_array(x), axis=_axis(axis), keepdims=keepdims, initial=initial)


def min(x: ArrayLike, axis: Axis = None, keepdims: bool = False, initial: ArrayLike | None = None) -> jax.Array:
    """Smallest value along `axis`; `initial` is an upper bound included in every reduction."""
    return jnp.min(as_array(x), axis=_axis(axis), keepdims=keepdims, initial=initial)


def prod(x: ArrayLike, axis: Axis = None, keepdims: bool = False, dtype: DTypeLike = None) -> jax.Array:
    """Product along `axis`, accumulated in `dtype` if given."""
    return jnp.prod(as_array(x), axis=_axis(axis), keepdims=keepdims, dtype=optional_dtype(dtype))


def mean(x: ArrayLike, axis: Axis = None, keepdims: bool = False) -> jax.Array:
    """Arithmetic mean along `axis`.

    Integers and bools give float32 (Keras's float for them); float16 and bfloat16 are summed in
    float32, so large sums do not overflow, and the result is cast back to the input dtype.
    """
    x = as_array(x)
    dtype = dtype_of(x)
    compute = result_type(dtype, "float32")
    out = jnp.mean(x, axis=_axis(axis), keepdims=keepdims, dtype=compute)
    return out.astype(compute if is_int_or_bool(dtype) else dtype)


def var(x: ArrayLike, axis: Axis = None, keepdims: bool = False) -> jax.Array:
    """Population variance along `axis`, computed in float32 at least; integers give float32."""
    x = as_array(x)
    out = jnp.var(x, axis=_axis(axis), keepdims=keepdims, dtype=result_type(x.dtype, "float32"))
    return out.astype(result_type(x.dtype, float))


def average(x: ArrayLike, axis: int | None = None, weights: ArrayLike | None = None) -> jax.Array:
    """Weighted mean along `axis` (plain mean without `weights`), in the float result type of both."""
    x = as_array(x)
    dtypes = [x.dtype, float]
    if weights is not None:
        weights = as_array(weights)
        dtypes.append(weights.dtype)
    dtype = result_type(*dtypes)
    weights = None if weights is None else weights.astype(dtype)
    return jnp.average(x.astype(dtype), axis=axis, weights=weights)


def count_nonzero(x: ArrayLike, axis: Axis = None) -> jax.Array:
    """Number of non-zero (true) elements along `axis`, as int32."""
    return jnp.count_nonzero(as_array(x), axis=_axis(axis)).astype("int32")


def _quantile_op(name: str, jnp_fn: Callable, doc: str) -> Callable:
    """`op(x, q, axis=None, method="linear", keepdims=False)` over a `jnp` quantile function."""
    def op(x: ArrayLike, q: ArrayLike, axis: Axis = None, method: str = "linear",
           keepdims: bool = False) -> jax.Array:
        return jnp_fn(as_array(x), as_array(q), axis=_axis(axis), method=method, keepdims=keepdims)
    return name_op(op, name, doc)


quantile = _quantile_op("quantile", jnp.quantile, "The `q`-th quantiles (q in [0, 1]) along `axis`.")
percentile = _quantile_op("percentile", jnp.percentile, "The `q`-th percentiles (q in [0, 100]) along `axis`.")
nanquantile = _quantile_op("nanquantile", jnp.nanquantile, "`quantile` ignoring NaNs.")
nanpercentile = _quantile_op("nanpercentile", jnp.nanpercentile, "`percentile` ignoring NaNs.")


def _cumulative_op(name: str, jnp_fn: Callable, doc: str) -> Callable:
    """`op(x, axis=None, dtype=None)` over a `jnp` cumulative function (flattened when axis is None)."""
    def op(x: ArrayLike, axis: int | None = None, dtype: DTypeLike = None) -> jax.Array:
        return jnp_fn(as_array(x), axis=axis, dtype=optional_dtype(dtype))
    return name_op(op, name, doc)


cumsum = _cumulative_op("cumsum", jnp.cumsum, "Running sum along `axis` (of the flattened array by default).")
cumprod = _cumulative_op("cumprod", jnp.cumprod, "Running product along `axis` (flattened by default).")
nancumsum = _cumulative_op("nancumsum", jnp.nancumsum, "Running sum along `axis`, counting NaNs as zero.")
nancumprod = _cumulative_op("nancumprod", jnp.nancumprod, "Running product along `axis`, NaNs as one.")


def trapezoid(y: ArrayLike, x: ArrayLike | None = None, dx: ArrayLike = 1.0, axis: int = -1) -> jax.Array:
    """Integral of `y` along `axis` by the trapezoidal rule, at points `x` or spacing `dx`."""
    return jnp.trapezoid(as_array(y), None if x is None else as_array(x), dx=as_array(dx), axis=axis)


def allclose(x1: ArrayLike, x2: ArrayLike, rtol: float = 1e-5, atol: float = 1e-8,
             equal_nan: bool = False) -> jax.Array:
    """True (a scalar bool array) when `isclose(x1, x2, ...)` holds everywhere."""
    return jnp.allclose(as_array(x1), as_array(x2), rtol=rtol, atol=atol, equal_nan=equal_nan)


def corrcoef(x: ArrayLike) -> jax.Array:
    """Pearson correlation coefficients between the rows (variables) of `x`."""
    return jnp.corrcoef(as_array(x))
