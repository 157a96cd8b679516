"""keras.ops convolutions and pools (1D/2D/3D, channels_last or channels_first) over `jax.lax`.

Owns `conv`, `conv_transpose`, `depthwise_conv`, `separable_conv`, `max_pool`, `average_pool`,
`adaptive_max_pool`, `adaptive_average_pool`, `unfold`, `fold`, `depth_to_space`, `space_to_depth`
with Keras 3's kernel layouts, padding rules and results. 2-D channels_last convolutions (float32)
and 1-D/2-D max pools (floating, either data format) go through the CPU-fast lowerings of
`kerasish.kernels`, which give the same values to rounding with faster gradients on CPU; everything
else is `lax.conv_general_dilated` / `lax.conv_transpose` / `lax.reduce_window`. Every pool traces
and differentiates under `jax.jit` (its `reduce_window` init values are NumPy scalars).
"""

from __future__ import annotations

import functools
import math
from typing import Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from kerasish import kernels
from kerasish.backend import standardize_data_format
from kerasish.kernels.conv import normalize_padding
from kerasish.kernels.pooling import lowest

IntOrSeq = int | Sequence[int]


# ops/image.py and ops/_image_warp.py still import the check under this name.
data_format_of = standardize_data_format


def _spatial(value: IntOrSeq, n: int, name: str) -> tuple[int, ...]:
    out = (value,) * n if isinstance(value, int) else tuple(value)
    if len(out) != n:
        raise ValueError(f"`{name}` must be an int or a sequence of {n} ints for {n}-D inputs. "
                         f"Received: {name}={value!r}")
    return out


def _dimension_numbers(n: int, data_format: str) -> lax.ConvDimensionNumbers:
    spatial = tuple(range(1, n + 1)) if data_format == "channels_last" else tuple(range(2, n + 2))
    lhs = (0, n + 1) + spatial if data_format == "channels_last" else (0, 1) + spatial
    return lax.ConvDimensionNumbers(lhs_spec=lhs, rhs_spec=(n + 1, n) + tuple(range(n)), out_spec=lhs)


def _channels(x: jax.Array, data_format: str) -> int:
    return x.shape[-1] if data_format == "channels_last" else x.shape[1]


def _check_channels(x, kernel, data_format, kernel_axis=-2):
    if _channels(x, data_format) != kernel.shape[kernel_axis]:
        raise ValueError("The number of input channels must match the kernel's input channels. "
                         f"Received: input channels={_channels(x, data_format)}, kernel input "
                         f"channels={kernel.shape[kernel_axis]}, data_format='{data_format}'.")


def _grouped_conv(x, kernel, strides, padding, data_format, dilation, groups):
    n = x.ndim - 2
    strides, dilation = _spatial(strides, n, "strides"), _spatial(dilation, n, "dilation_rate")
    # kerasish.kernels' 2-D lowering, where it computes the same convolution (float32, NHWC, one
    # group, no strides with dilation, an output that is not empty).
    if (n == 2 and data_format == "channels_last" and groups == 1 and x.dtype == jnp.float32
            and (strides == (1, 1) or dilation == (1, 1))
            and (padding == "same" or all(size >= (k - 1) * d + 1 for size, k, d in
                                          zip(x.shape[1:3], kernel.shape[:2], dilation)))):
        return kernels.conv2d(x, kernel, strides, padding, dilation)
    out = lax.conv_general_dilated(x, kernel, strides, padding.upper(), rhs_dilation=dilation,
                                   dimension_numbers=_dimension_numbers(n, data_format),
                                   feature_group_count=groups)
    if out.size == 0 and x.size != 0:
        raise ValueError("The convolution produced an empty output: the input is smaller than the "
                         f"dilated kernel. Received: inputs.shape={x.shape}, kernel.shape="
                         f"{kernel.shape}, strides={strides}, dilation_rate={dilation}, "
                         f"padding='{padding}'.")
    return out


def conv(inputs, kernel, strides: IntOrSeq = 1, padding: str = "valid",
         data_format: str | None = None, dilation_rate: IntOrSeq = 1) -> jax.Array:
    """N-D convolution; kernel `(*spatial, in_channels // groups, out_channels)`.

    The group count is `channels // kernel.shape[-2]`; inputs are cast to the kernel's dtype.
    """
    data_format, padding = standardize_data_format(data_format), normalize_padding(padding)
    kernel = jnp.asarray(kernel)
    x = jnp.asarray(inputs, kernel.dtype)
    channels, per_group = _channels(x, data_format), kernel.shape[-2]
    if channels % per_group:
        raise ValueError("The number of input channels must be evenly divisible by the kernel's "
                         f"in_channels. Received input channels {channels} and kernel in_channels "
                         f"{per_group}.")
    return _grouped_conv(x, kernel, strides, padding, data_format, dilation_rate, channels // per_group)


def depthwise_conv(inputs, kernel, strides: IntOrSeq = 1, padding: str = "valid",
                   data_format: str | None = None, dilation_rate: IntOrSeq = 1) -> jax.Array:
    """Depthwise convolution; kernel `(*spatial, in_channels, depth_multiplier)`."""
    data_format, padding = standardize_data_format(data_format), normalize_padding(padding)
    x, kernel = jnp.asarray(inputs), jnp.asarray(kernel)
    _check_channels(x, kernel, data_format)
    channels = _channels(x, data_format)
    kernel = kernel.reshape(kernel.shape[:-2] + (1, channels * kernel.shape[-1]))
    return _grouped_conv(x, kernel, strides, padding, data_format, dilation_rate, channels)


def separable_conv(inputs, depthwise_kernel, pointwise_kernel, strides: IntOrSeq = 1,
                   padding: str = "valid", data_format: str | None = None,
                   dilation_rate: IntOrSeq = 1) -> jax.Array:
    """A depthwise convolution followed by a pointwise (1x1) one."""
    depthwise = depthwise_conv(inputs, depthwise_kernel, strides, padding, data_format, dilation_rate)
    return conv(depthwise, pointwise_kernel, 1, "valid", data_format, dilation_rate)


def _transpose_pads(kernel_size: int, stride: int, dilation: int, padding: str,
                    output_padding: int | None) -> tuple[int, int]:
    """Keras's output size for a transposed convolution as `lax.conv_transpose` edge pads."""
    size = (kernel_size - 1) * dilation + 1
    if padding == "valid":
        extra = max(size, stride) - size if output_padding is None else output_padding
        return size - 1, size - 1 + extra
    total = stride + size - 2 if output_padding is None else size + size % 2 - 2 + output_padding
    left = min(total // 2 + total % 2, size - 1)
    return left, total - left


def conv_transpose(inputs, kernel, strides: IntOrSeq = 1, padding: str = "valid",
                   output_padding: IntOrSeq | None = None, data_format: str | None = None,
                   dilation_rate: IntOrSeq = 1) -> jax.Array:
    """Transposed convolution; kernel `(*spatial, out_channels, in_channels)`.

    Output size per axis: `"same"` gives `size * stride`, `"valid"` gives
    `(size - 1) * stride + max(kernel, stride)`, plus `output_padding` when given.
    """
    data_format, padding = standardize_data_format(data_format), normalize_padding(padding)
    x, kernel = jnp.asarray(inputs), jnp.asarray(kernel)
    _check_channels(x, kernel, data_format, kernel_axis=-1)
    n = x.ndim - 2
    strides, dilation = _spatial(strides, n, "strides"), _spatial(dilation_rate, n, "dilation_rate")
    extra = (None,) * n if output_padding is None else _spatial(output_padding, n, "output_padding")
    pads = [_transpose_pads(k, s, d, padding, o)
            for k, s, d, o in zip(kernel.shape[:n], strides, dilation, extra)]
    return lax.conv_transpose(x, kernel, strides, pads, rhs_dilation=dilation,
                              dimension_numbers=_dimension_numbers(n, data_format),
                              transpose_kernel=True)


def _window(x, pool_size, strides, data_format):
    n = x.ndim - 2
    pool = _spatial(pool_size, n, "pool_size")
    step = pool if strides is None else _spatial(strides, n, "strides")
    full = (lambda s: (1,) + s + (1,)) if data_format == "channels_last" else (lambda s: (1, 1) + s)
    return pool, step, full(pool), full(step)


def _as_image_pool(pool2d, x, pool, step, padding, data_format) -> jax.Array:
    """A 1-D or 2-D pool run as a `kerasish.kernels` NHWC 2-D pool (`pool2d`): channels are moved
    last and back, and a 1-D input is an image of height 1."""
    image = x if data_format == "channels_last" else jnp.moveaxis(x, 1, -1)
    if x.ndim == 3:
        image, pool, step = image[:, None], (1, *pool), (1, *step)
    out = pool2d(image, pool, step, padding)
    out = out[:, 0] if x.ndim == 3 else out
    return out if data_format == "channels_last" else jnp.moveaxis(out, -1, 1)


def _pool(inputs, pool_size, strides, padding, data_format, mode: str) -> jax.Array:
    """Keras's max (`mode="max"`) or average pool of any rank on `lax.reduce_window`, except
    floating 1-D and 2-D max pools: `kerasish.kernels.max_pool2d`, whose compiled gradient is
    2.3-2.8x faster on CPU, transposes included (`benchmarks/pool_lowering.py`). Elsewhere that
    kernel is `reduce_window` itself, so channels_first inputs are not transposed for it there;
    its average pool is `reduce_window` on every backend, so average pools stay in their layout."""
    data_format, padding = standardize_data_format(data_format), normalize_padding(padding)
    x = jnp.asarray(inputs)
    pool, step, window, window_strides = _window(x, pool_size, strides, data_format)
    if (mode == "max" and x.ndim in (3, 4) and jnp.issubdtype(x.dtype, jnp.floating)
            and (data_format == "channels_last" or jax.default_backend() == "cpu")):
        return _as_image_pool(kernels.max_pool2d, x, pool, step, padding, data_format)
    if mode == "max":
        return lax.reduce_window(x, lowest(x.dtype), lax.max, window, window_strides, padding.upper())
    zero = np.zeros((), x.dtype)
    total = lax.reduce_window(x, zero, lax.add, window, window_strides, padding.upper())
    if padding == "valid":
        return total / math.prod(pool)
    # "same": each window counts only the real (unpadded) entries it covers
    ones = np.ones([n if w != 1 else 1 for n, w in zip(x.shape, window)], x.dtype)
    return total / lax.reduce_window(ones, zero, lax.add, window, window_strides, "SAME")


def max_pool(inputs, pool_size: IntOrSeq, strides: IntOrSeq | None = None, padding: str = "valid",
             data_format: str | None = None) -> jax.Array:
    """Max over windows of `pool_size` (strides default to `pool_size`)."""
    return _pool(inputs, pool_size, strides, padding, data_format, "max")


def average_pool(inputs, pool_size: IntOrSeq, strides: IntOrSeq | None = None,
                 padding: str = "valid", data_format: str | None = None) -> jax.Array:
    """Mean over windows of `pool_size`; with `"same"` padding only real entries are counted."""
    return _pool(inputs, pool_size, strides, padding, data_format, "average")


def _adaptive_membership(size: int, out: int) -> np.ndarray:
    """`(out, size)` bools: output cell i covers `[floor(i*size/out), ceil((i+1)*size/out))`."""
    starts = (np.arange(out) * size) // out
    ends = -((-(np.arange(1, out + 1) * size)) // out)
    cells = np.arange(size)
    return (cells >= starts[:, None]) & (cells < ends[:, None])


def _adaptive_pool(inputs, output_size, data_format, reduce: str) -> jax.Array:
    data_format = standardize_data_format(data_format)
    x = jnp.asarray(inputs)
    n = x.ndim - 2
    if n not in (1, 2, 3):
        raise ValueError(f"adaptive pooling supports 1D/2D/3D inputs (rank 3-5). Received: "
                         f"inputs.shape={x.shape}")
    sizes = _spatial(output_size, n, "output_size")
    first = 1 if data_format == "channels_last" else 2
    for i, out in enumerate(sizes):
        axis = first + i
        member = _adaptive_membership(x.shape[axis], out)
        moved = jnp.moveaxis(x, axis, -1)
        if reduce == "max":
            pooled = jnp.max(jnp.where(member, moved[..., None, :], lowest(x.dtype)), axis=-1)
        else:
            weights = jnp.asarray(member / member.sum(axis=1, keepdims=True), x.dtype)
            pooled = jnp.einsum("...l,ol->...o", moved, weights, precision=lax.Precision.HIGHEST)
        x = jnp.moveaxis(pooled, -1, axis)
    return x


def adaptive_max_pool(inputs, output_size: IntOrSeq, data_format: str | None = None) -> jax.Array:
    """Max pool to a fixed `output_size`; cell i spans `[floor(i*n/out), ceil((i+1)*n/out))`."""
    return _adaptive_pool(inputs, output_size, data_format, "max")


def adaptive_average_pool(inputs, output_size: IntOrSeq, data_format: str | None = None) -> jax.Array:
    """Average pool to a fixed `output_size` (PyTorch's adaptive windows)."""
    return _adaptive_pool(inputs, output_size, data_format, "mean")


def _pair(value: IntOrSeq, name: str) -> tuple[int, int]:
    return _spatial(value, 2, name)


def unfold(x, kernel_size: IntOrSeq, dilation: IntOrSeq = 1, padding: IntOrSeq = 0,
           stride: IntOrSeq = 1) -> jax.Array:
    """Sliding blocks of an NCHW batch: `(N, C, H, W) -> (N, C*kh*kw, L)` (PyTorch's unfold)."""
    x = jnp.asarray(x)
    if x.ndim != 4:
        raise ValueError(f"Input must be a 4D tensor. Received: input.shape={x.shape}")
    (ph, pw) = _pair(padding, "padding")
    patches = lax.conv_general_dilated_patches(
        x, _pair(kernel_size, "kernel_size"), _pair(stride, "stride"), [(ph, ph), (pw, pw)],
        rhs_dilation=_pair(dilation, "dilation"), dimension_numbers=("NCHW", "OIHW", "NCHW"))
    return patches.reshape(patches.shape[:2] + (-1,))


def fold(x, output_size: IntOrSeq, kernel_size: IntOrSeq, dilation: IntOrSeq = 1,
         padding: IntOrSeq = 0, stride: IntOrSeq = 1) -> jax.Array:
    """The adjoint of `unfold`: blocks `(N, C*kh*kw, L)` summed back into `(N, C, H, W)`."""
    x = jnp.asarray(x)
    if x.ndim != 3:
        raise ValueError(f"Input must be a 3D tensor. Received: input.shape={x.shape}")
    kh, kw = _pair(kernel_size, "kernel_size")
    image = jax.ShapeDtypeStruct((x.shape[0], x.shape[1] // (kh * kw), *_pair(output_size, "output_size")),
                                 x.dtype)
    blocks = functools.partial(unfold, kernel_size=(kh, kw), dilation=dilation, padding=padding,
                               stride=stride)
    return jax.linear_transpose(blocks, image)(x)[0]


def depth_to_space(x, block_size: int, data_format: str = "channels_last") -> jax.Array:
    """Moves channel blocks into `block_size x block_size` spatial tiles (pixel shuffle)."""
    data_format, b = standardize_data_format(data_format), _block(block_size)
    x = jnp.asarray(x)
    if data_format == "channels_last":
        n, h, w, c = x.shape
        tiles = x.reshape(n, h, w, b, b, c // (b * b)).transpose(0, 1, 3, 2, 4, 5)
        return tiles.reshape(n, h * b, w * b, c // (b * b))
    n, c, h, w = x.shape
    tiles = x.reshape(n, c // (b * b), b, b, h, w).transpose(0, 1, 4, 2, 5, 3)
    return tiles.reshape(n, c // (b * b), h * b, w * b)


def space_to_depth(x, block_size: int, data_format: str = "channels_last") -> jax.Array:
    """Moves `block_size x block_size` spatial tiles into channels (pixel unshuffle)."""
    data_format, b = standardize_data_format(data_format), _block(block_size)
    x = jnp.asarray(x)
    if data_format == "channels_last":
        n, h, w, c = x.shape
        tiles = x.reshape(n, h // b, b, w // b, b, c).transpose(0, 1, 3, 2, 4, 5)
        return tiles.reshape(n, h // b, w // b, c * b * b)
    n, c, h, w = x.shape
    tiles = x.reshape(n, c, h // b, b, w // b, b).transpose(0, 1, 3, 5, 2, 4)
    return tiles.reshape(n, c * b * b, h // b, w // b)


def _block(block_size: int) -> int:
    if not isinstance(block_size, int) or block_size < 2:
        raise ValueError(f"`block_size` must be at least 2. Received: block_size={block_size}")
    return block_size
