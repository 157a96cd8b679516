"""Which lowering the convolution layers of `convolutional.py` run, with Keras 3's semantics.

Owns the choice of formulation; the maths is `kerasish.ops` (Keras's `conv`, `conv_transpose`,
`depthwise_conv`, `separable_conv`) and `kerasish.kernels.conv2d` (the CPU-fast im2col lowering).

* 2-D convolutions with one group (any dtype) run through `kernels.conv2d`.
* 1-D convolutions (float32, one group) run as 2-D ones on height-1 images through
  `kernels.conv2d`: in a scanned SGD step on the CPU that was 7.8x to 48x faster than XLA's 1-D
  `lax.conv_general_dilated` (two Conv1D layers, batch 32-128, length 64-200; see the report of
  issue 13).
* 1-D and 2-D transposed convolutions (float32) run as a stride-1 valid convolution of the
  stride-dilated, padded input with the flipped kernel, again through `kernels.conv2d`: 4.9x to
  15.6x faster than `lax.conv_transpose` in the same kind of step.
* Depthwise (and separable) convolutions on the CPU are a sum over kernel taps of strided input
  views times per-channel weights (`_depthwise_taps`): 6.7x to 186x faster than XLA's grouped
  convolution (3x3 and 1x5 kernels, 16-64 channels).
* Everything else (3-D and grouped convolutions, other dtypes) is `kerasish.ops`.

`kernels.conv2d` itself decides by backend: on GPU/TPU it is XLA's native convolution, and the
depthwise paths use `kerasish.ops` there.
"""

from __future__ import annotations

import itertools
from typing import Sequence

import jax
import jax.numpy as jnp
from jax import lax

from kerasish import kernels, ops
from kerasish.kernels.conv import same_padding
from kerasish.layers._conv_args import transpose_left_pad, transpose_length


def _channels_last(x: jax.Array, data_format: str) -> jax.Array:
    return x if data_format == "channels_last" else jnp.moveaxis(x, 1, -1)


def _restore(y: jax.Array, data_format: str) -> jax.Array:
    return y if data_format == "channels_last" else jnp.moveaxis(y, -1, 1)


def _fast(x: jax.Array, kernel: jax.Array) -> bool:
    return x.dtype == jnp.float32 and kernel.dtype == jnp.float32


def conv(x: jax.Array, kernel: jax.Array, strides: Sequence[int], padding: str, data_format: str,
         dilation: Sequence[int]) -> jax.Array:
    """N-D convolution, kernel `(*window, in_channels // groups, out_channels)`; padding valid/same."""
    kernel = jnp.asarray(kernel)
    rank = x.ndim - 2
    channels = x.shape[-1] if data_format == "channels_last" else x.shape[1]
    if channels == kernel.shape[-2] and (rank == 2 or (rank == 1 and _fast(x, kernel))):
        image = _channels_last(x, data_format)
        if rank == 1:  # an image of height 1
            y = kernels.conv2d(image[:, None], kernel[None], (1, strides[0]), padding, (1, dilation[0]))[:, 0]
        else:
            y = kernels.conv2d(image, kernel, tuple(strides), padding, tuple(dilation))
        return _restore(y, data_format)
    return ops.conv(x, kernel, strides=tuple(strides), padding=padding, data_format=data_format,
                    dilation_rate=tuple(dilation))


def conv_transpose(x: jax.Array, kernel: jax.Array, strides: Sequence[int], padding: str,
                   output_padding: Sequence[int] | None, data_format: str, dilation: Sequence[int]) -> jax.Array:
    """Transposed convolution, kernel `(*window, out_channels, in_channels)`, output sizes as Keras's."""
    kernel = jnp.asarray(kernel)
    rank = x.ndim - 2
    if rank not in (1, 2) or not _fast(x, kernel):
        return ops.conv_transpose(x, kernel, strides=tuple(strides), padding=padding,
                                  output_padding=output_padding, data_format=data_format,
                                  dilation_rate=tuple(dilation))
    xl = _channels_last(x, data_format)
    window = kernel.shape[:rank]
    extra = (None,) * rank if output_padding is None else tuple(output_padding)
    config = [(0, 0, 0)]
    for n, k, s, d, o in zip(xl.shape[1:-1], window, strides, dilation, extra):
        low = transpose_left_pad(k, s, padding, o, d)
        out = transpose_length(n, k, s, padding, o, d)
        high = out + (k - 1) * d - ((n - 1) * s + 1) - low
        config.append((low, high, s - 1))
    config.append((0, 0, 0))
    xp = lax.pad(xl, jnp.zeros((), xl.dtype), config)
    flipped = jnp.flip(kernel, axis=tuple(range(rank))).swapaxes(-1, -2)
    if rank == 1:
        y = kernels.conv2d(xp[:, None], flipped[None], (1, 1), "valid", (1, dilation[0]))[:, 0]
    else:
        y = kernels.conv2d(xp, flipped, (1, 1), "valid", tuple(dilation))
    return _restore(y, data_format)


def _depthwise_taps(x: jax.Array, kernel: jax.Array, strides: Sequence[int], padding: str,
                    dilation: Sequence[int]) -> jax.Array:
    """Channels-last `x` `(n, *spatial, c)`, kernel `(*window, c, m)` -> `(n, *out, c * m)`: the sum
    over the kernel's taps of the strided view of the (padded) input each tap sees, times that tap's
    per-channel weights. Output channel `i * m + j` is input channel i's j-th filter, as in Keras."""
    rank = x.ndim - 2
    window = kernel.shape[:rank]
    if padding == "same":
        pads = [same_padding(n, (k - 1) * d + 1, s) for n, k, s, d in zip(x.shape[1:-1], window, strides, dilation)]
        x = jnp.pad(x, [(0, 0), *pads, (0, 0)])
    out = [(n - (k - 1) * d - 1) // s + 1 for n, k, s, d in zip(x.shape[1:-1], window, strides, dilation)]
    total = None
    for tap in itertools.product(*(range(k) for k in window)):
        start = (0, *(t * d for t, d in zip(tap, dilation)), 0)
        limit = (x.shape[0], *(t * d + (o - 1) * s + 1 for t, d, o, s in zip(tap, dilation, out, strides)),
                 x.shape[-1])
        term = lax.slice(x, start, limit, (1, *strides, 1))[..., None] * kernel[tap]
        total = term if total is None else total + term
    return total.reshape(*total.shape[:-2], -1)


def depthwise_conv(x: jax.Array, kernel: jax.Array, strides: Sequence[int], padding: str, data_format: str,
                   dilation: Sequence[int]) -> jax.Array:
    """Depthwise convolution, kernel `(*window, in_channels, depth_multiplier)`."""
    kernel = jnp.asarray(kernel, x.dtype)
    if jax.default_backend() != "cpu":
        return ops.depthwise_conv(x, kernel, strides=tuple(strides), padding=padding, data_format=data_format,
                                  dilation_rate=tuple(dilation))
    y = _depthwise_taps(_channels_last(x, data_format), kernel, strides, padding, dilation)
    return _restore(y, data_format)


def separable_conv(x: jax.Array, depthwise: jax.Array, pointwise: jax.Array, strides: Sequence[int],
                   padding: str, data_format: str, dilation: Sequence[int]) -> jax.Array:
    """Depthwise convolution, then the pointwise kernel `(1, ..., depthwise channels, filters)`."""
    pointwise = jnp.asarray(pointwise, x.dtype)
    if jax.default_backend() != "cpu":
        return ops.separable_conv(x, depthwise, pointwise, strides=tuple(strides), padding=padding,
                                  data_format=data_format, dilation_rate=tuple(dilation))
    y = _depthwise_taps(_channels_last(x, data_format), jnp.asarray(depthwise, x.dtype), strides, padding, dilation)
    y = lax.dot_general(y, pointwise.reshape(pointwise.shape[-2:]), (((y.ndim - 1,), (0,)), ((), ())))
    return _restore(y, data_format)
