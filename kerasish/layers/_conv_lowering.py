"""Which lowering the convolution layers of `convolutional.py` run, with Keras 3's semantics.

Owns the choice of formulation; the maths is `kerasish.ops` (Keras's `conv`, `conv_transpose`,
`depthwise_conv`, `separable_conv`) and `kerasish.kernels.conv2d` (the CPU-fast im2col lowering).

* 1-D convolutions (float32, one group) run as 2-D ones on height-1 images through
  `kernels.conv2d`: in a scanned SGD step on the CPU that was 8x to 43x faster than XLA's 1-D
  `lax.conv_general_dilated` (two Conv1D layers, batch 32-128, length 64-200; see the report of
  issue 13).
* 1-D and 2-D transposed convolutions (float32) run as a stride-1 valid convolution of the
  stride-dilated, padded input with the flipped kernel, again through `kernels.conv2d`.
* Everything else (3-D, grouped 1-D, depthwise/separable, other dtypes) is `kerasish.ops`.

`kernels.conv2d` itself decides by backend: on GPU/TPU it is XLA's native convolution.
"""

from __future__ import annotations

from typing import Sequence

import jax
import jax.numpy as jnp
from jax import lax

from kerasish import kernels, ops
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
    if rank == 1 and channels == kernel.shape[-2] and _fast(x, kernel):
        y = kernels.conv2d(_channels_last(x, data_format)[:, None], kernel[None], (1, strides[0]), padding,
                           (1, dilation[0]))
        return _restore(y[:, 0], data_format)
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


def depthwise_conv(x: jax.Array, kernel: jax.Array, strides: Sequence[int], padding: str, data_format: str,
                   dilation: Sequence[int]) -> jax.Array:
    return ops.depthwise_conv(x, kernel, strides=tuple(strides), padding=padding, data_format=data_format,
                              dilation_rate=tuple(dilation))


def separable_conv(x: jax.Array, depthwise: jax.Array, pointwise: jax.Array, strides: Sequence[int],
                   padding: str, data_format: str, dilation: Sequence[int]) -> jax.Array:
    return ops.separable_conv(x, depthwise, pointwise, strides=tuple(strides), padding=padding,
                              data_format=data_format, dilation_rate=tuple(dilation))
