"""keras.ops statistics, normalizations, attention and small nn helpers over `jax.numpy` / `jax.nn`.

Owns `moments`, `batch_normalization`, `normalize`, `rms_normalization`, `layer_normalization`,
`dot_product_attention`, `psnr` and `polar` with Keras 3's defaults and dtype rules (half precision
statistics computed in float32). Computes no gradients by hand; holds no state.
"""

from __future__ import annotations

import warnings
from typing import Sequence

import jax
import jax.numpy as jnp
from jax import lax

from kerasish.backend import epsilon as _epsilon
from kerasish.ops.dtypes import result_type, standardize_dtype

Axes = int | Sequence[int]


def _axes(axis: Axes) -> int | tuple[int, ...]:
    return axis if isinstance(axis, int) else tuple(sorted(axis))


def moments(x, axes: Axes, keepdims: bool = False, synchronized: bool = False):
    """Mean and variance of `x` over `axes`; float16/bfloat16 inputs are reduced in float32.

    Raises:
        NotImplementedError: `synchronized=True` (cross-replica statistics), as on Keras's JAX
            backend.
    """
    if synchronized:
        raise NotImplementedError("Argument synchronized=True is not supported with JAX.")
    x = jnp.asarray(x)
    axes, dtype = _axes(axes), standardize_dtype(x.dtype)
    half = dtype in ("float16", "bfloat16")
    if half:
        x = x.astype("float32")
    mean = jnp.mean(x, axes, keepdims=keepdims)
    variance = jnp.var(x, axis=axes, keepdims=keepdims)
    if half:
        limit = jnp.finfo(jnp.float16).max  # keep half-precision casts finite
        mean, variance = (jnp.clip(v, -limit, limit).astype(dtype) for v in (mean, variance))
    return mean, variance


def batch_normalization(x, mean, variance, axis: int, offset=None, scale=None,
                        epsilon: float = 1e-3) -> jax.Array:
    """`(x - mean) / sqrt(variance + epsilon) * scale + offset`, the statistics laid along `axis`."""
    x = jnp.asarray(x)
    shape = [1] * x.ndim
    shape[axis] = jnp.shape(mean)[0]
    mean, variance, offset, scale = (None if v is None else jnp.asarray(v).reshape(shape)
                                     for v in (mean, variance, offset, scale))
    return _standardize(x, mean, variance, scale, offset, epsilon)


def _standardize(x, mean, variance, scale, offset, epsilon) -> jax.Array:
    """`(x - mean) / sqrt(variance + epsilon) * scale + offset` (statistics and parameters
    broadcastable against `x`; `scale` / `offset` may be None) as one multiply-add."""
    inv = lax.rsqrt(variance + epsilon)
    if scale is not None:
        inv = inv * scale
    shift = -mean * inv
    return x * inv + (shift if offset is None else shift + offset)


def normalize(x, axis: Axes = -1, order: int = 2, epsilon: float | None = None) -> jax.Array:
    """`x` divided by its `order`-norm along `axis` (norms below `epsilon` count as `epsilon`)."""
    if not isinstance(order, int) or order < 1:
        raise ValueError(f"Argument `order` must be an int >= 1. Received: order={order}")
    x = jnp.asarray(x)
    if x.ndim == 0:
        x = x[None]
    epsilon = _epsilon() if epsilon is None else epsilon
    if order == 2:
        inv_norm = lax.rsqrt(jnp.sum(jnp.square(x), axis=axis, keepdims=True))
        return x * jnp.minimum(inv_norm, 1.0 / epsilon)
    if not jnp.issubdtype(x.dtype, jnp.inexact):
        x = x.astype(result_type(x.dtype, float))
    norm = jnp.linalg.norm(x, ord=order, axis=axis, keepdims=True)
    return x / jnp.maximum(norm, epsilon)


def _in_float32(x, *others):
    """`x` and `others` in `result_type(x, "float32")`, and x's original dtype to cast back to."""
    x = jnp.asarray(x)
    original, compute = standardize_dtype(x.dtype), result_type(x.dtype, "float32")
    converted = [None if v is None else jnp.asarray(v, compute) for v in others]
    return x.astype(compute), converted, original


def rms_normalization(x, scale=None, axis: Axes = -1, epsilon: float | None = None) -> jax.Array:
    """`x / sqrt(mean(x**2, axis) + epsilon) * scale`, computed in at least float32."""
    x, (scale,), original = _in_float32(x, scale)
    epsilon = _epsilon() if epsilon is None else epsilon
    if x.ndim == 0:
        x = x[None]
    out = x * lax.rsqrt(jnp.mean(jnp.square(x), axis=_axes(axis), keepdims=True) + epsilon)
    return (out if scale is None else out * scale).astype(original)


def layer_normalization(x, gamma=None, beta=None, axis: Axes = -1, epsilon: float | None = None,
                        **kwargs) -> jax.Array:
    """`(x - mean) / sqrt(var + epsilon) * gamma + beta` over `axis`, in at least float32.

    `rms_scaling=True` (deprecated in Keras, warned about) scales by the variance instead and
    ignores `beta`, as Keras does.
    """
    rms_scaling = kwargs.pop("rms_scaling", False)
    if kwargs:
        raise TypeError(f"layer_normalization got unexpected keyword arguments: {sorted(kwargs)}")
    if rms_scaling:
        warnings.warn("You passed `rms_scaling=True`, which is deprecated: it scales by the variance, "
                      "not the root mean square. Use `keras.ops.rms_normalization` instead.",
                      stacklevel=2)
    x, (gamma, beta), original = _in_float32(x, gamma, beta)
    epsilon = _epsilon() if epsilon is None else epsilon
    axes = sorted([axis] if isinstance(axis, int) else axis)
    axes = [a % x.ndim for a in axes]
    shape = [x.shape[a] if a in axes else 1 for a in range(x.ndim)]

    def laid_out(v):  # parameters given for the normalized axes only are laid along them
        return v if v is None or v.ndim == x.ndim or axes == [x.ndim - 1] else v.reshape(shape)

    gamma, beta = laid_out(gamma), laid_out(beta)
    if rms_scaling:
        out = x * lax.rsqrt(jnp.var(x, axis=tuple(axes), keepdims=True) + epsilon)
        return (out if gamma is None else out * gamma).astype(original)
    mean, variance = moments(x, tuple(axes), keepdims=True)
    return _standardize(x, mean, variance, gamma, beta, epsilon).astype(original)


def dot_product_attention(query, key, value, bias=None, mask=None, scale=None,
                          is_causal: bool = False, flash_attention: bool | None = None,
                          attn_logits_soft_cap: float | None = None) -> jax.Array:
    """Scaled dot-product attention over `(batch, time, heads, depth)` inputs (`jax.nn`'s).

    `key`/`value` may have fewer heads than `query` (grouped-query attention). Inputs are
    promoted to one dtype; `bias` follows it. `flash_attention=True` asks for the cuDNN kernel
    (GPU only); `None` lets JAX pick.

    Raises:
        ValueError: inputs are not rank 4, or `attn_logits_soft_cap` is given (Keras supports it
            only through TPU splash attention, which kerasish does not call).
        RuntimeError: `flash_attention=True` where no GPU is available.
    """
    if attn_logits_soft_cap is not None:
        raise ValueError("attn_logits_soft_cap is only supported for JAX on TPU in Keras, and not by "
                         "kerasish. Set attn_logits_soft_cap=None.")
    query, key, value = jnp.asarray(query), jnp.asarray(key), jnp.asarray(value)
    if query.ndim != 4 or key.ndim != 4 or value.ndim != 4:
        raise ValueError("`dot_product_attention` only supports 4D inputs. Received: "
                         f"query.shape={query.shape}, key.shape={key.shape}, value.shape={value.shape}.")
    dtype = result_type(query.dtype, key.dtype, value.dtype)
    query, key, value = query.astype(dtype), key.astype(dtype), value.astype(dtype)
    implementation = None
    if flash_attention:
        if jax.default_backend() != "gpu":
            raise RuntimeError("flash_attention=True needs a cuDNN GPU; the default backend is "
                               f"{jax.default_backend()!r}. Use flash_attention=None or False.")
        implementation = "cudnn"
    elif flash_attention is False:
        implementation = "xla"
    return jax.nn.dot_product_attention(
        query, key, value, bias=None if bias is None else jnp.asarray(bias, dtype),
        mask=None if mask is None else jnp.asarray(mask, bool), scale=scale, is_causal=is_causal,
        implementation=implementation)


def psnr(x1, x2, max_val) -> jax.Array:
    """Peak signal-to-noise ratio `20 log10(max_val) - 10 log10(mse)` over all elements."""
    x1, x2 = jnp.asarray(x1), jnp.asarray(x2)
    if x1.shape != x2.shape:
        raise ValueError(f"Input shapes {x1.shape} and {x2.shape} must match for PSNR calculation.")
    mse = jnp.mean(jnp.square(x1 - x2))
    return 20 * jnp.log10(jnp.asarray(max_val, x2.dtype)) - 10 * jnp.log10(mse)


def polar(abs_, angle) -> jax.Array:
    """The complex number `abs_ * (cos(angle) + i sin(angle))` from real inputs."""
    abs_, angle = jnp.asarray(abs_), jnp.asarray(angle)
    if jnp.issubdtype(abs_.dtype, jnp.complexfloating) or jnp.issubdtype(angle.dtype, jnp.complexfloating):
        raise ValueError(f"`abs_` and `angle` must be real. Received dtypes {abs_.dtype}, {angle.dtype}")
    real, imag = abs_ * jnp.cos(angle), abs_ * jnp.sin(angle)
    return lax.complex(real, imag)
