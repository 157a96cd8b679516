"""1-D and 3-D pooling, global pooling, and adaptive pooling (1-D/2-D/3-D), channels last or first.

No weights. 1-D pools run as 2-D pools on height-1 images through the CPU-fast kernels of
`kerasish.kernels` (the lowering the 2-D pooling layers of `pooling.py` use); 3-D pools are
`lax.reduce_window` (`_window_pool`); adaptive pools are `kerasish.ops.adaptive_*_pool`.
"""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np
from jax import lax

from kerasish import kernels, ops
from kerasish.layers._conv_args import (check_rank, data_format_arg, padding_arg, tuple_arg,
                                        windowed_shape, with_spatial)
from kerasish.layers.base import Layer
from kerasish.serialization import layer_config


def _window_pool(x, mode: str, pool, strides, padding: str, data_format: str):
    """Keras's max / average pool of any rank with `lax.reduce_window`.

    The initial values are NumPy scalars, so `lax` recognises the max / add monoids and can
    differentiate them under `jax.jit` too (`ops.max_pool` / `ops.average_pool` pass a `jnp` array,
    which is a tracer under `jit`, and their gradients then fail to linearize).
    """
    window = (1, *pool, 1) if data_format == "channels_last" else (1, 1, *pool)
    steps = (1, *strides, 1) if data_format == "channels_last" else (1, 1, *strides)
    if mode == "max":
        lowest = -np.inf if jnp.issubdtype(x.dtype, jnp.floating) else jnp.iinfo(x.dtype).min
        return lax.reduce_window(x, np.array(lowest, x.dtype), lax.max, window, steps, padding.upper())
    total = lax.reduce_window(x, np.array(0, x.dtype), lax.add, window, steps, padding.upper())
    if padding == "valid":
        return total / np.array(math.prod(pool), x.dtype)
    # "same": divide by the number of real (unpadded) entries in each window
    ones = np.ones([n if w > 1 else 1 for n, w in zip(x.shape, window)], np.float32)
    counts = lax.reduce_window(ones, np.float32(0), lax.add, window, steps, "SAME")
    return total / counts.astype(x.dtype)


class _Pooling(Layer):
    _rank = 0
    _mode = ""  # "max" or "average"

    # Keras's default pool_size is 2 (1-D) or (2, 2, 2) (3-D): the same after `tuple_arg`.
    def __init__(self, pool_size=2, strides=None, padding: str = "valid", data_format: str | None = None,
                 name: str | None = None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.pool_size = tuple_arg(pool_size, self._rank, "pool_size")
        self.strides = self.pool_size if strides is None else tuple_arg(strides, self._rank, "strides")
        self.padding = padding_arg(padding)
        self.data_format = data_format_arg(data_format)

    def compute_output_shape(self, input_shape):
        check_rank(self, input_shape, self._rank + 2)
        channels = input_shape[-1] if self.data_format == "channels_last" else input_shape[1]
        return windowed_shape(self, input_shape, self._rank, channels, self.pool_size, self.strides, self.padding,
                              self.data_format)

    def call(self, inputs):
        self.compute_output_shape(inputs.shape)  # Keras's errors for a rank or size that does not fit
        if self._rank == 1 and jnp.issubdtype(inputs.dtype, jnp.floating):
            x = inputs if self.data_format == "channels_last" else jnp.swapaxes(inputs, 1, 2)
            pool = kernels.max_pool2d if self._mode == "max" else kernels.avg_pool2d
            y = pool(x[:, None], (1, self.pool_size[0]), (1, self.strides[0]), self.padding)[:, 0]
            return y if self.data_format == "channels_last" else jnp.swapaxes(y, 1, 2)
        return _window_pool(inputs, self._mode, self.pool_size, self.strides, self.padding, self.data_format)

    def get_config(self):
        return layer_config(self, pool_size=self.pool_size, padding=self.padding, strides=self.strides,
                            data_format=self.data_format)


class MaxPooling1D(_Pooling):
    """Max over windows of `pool_size` steps moved by `strides` (default: `pool_size`)."""
    _rank, _mode = 1, "max"


class MaxPooling3D(_Pooling):
    """Max over `(d, h, w)` windows."""
    _rank, _mode = 3, "max"


class AveragePooling1D(_Pooling):
    """Mean over windows; with padding="same" only real steps are counted."""
    _rank, _mode = 1, "average"


class AveragePooling3D(_Pooling):
    """Mean over `(d, h, w)` windows; with padding="same" only real cells are counted."""
    _rank, _mode = 3, "average"


class _GlobalPooling(Layer):
    _rank = 0

    def __init__(self, data_format: str | None = None, keepdims: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = data_format_arg(data_format)
        self.keepdims = keepdims

    def compute_output_shape(self, input_shape):
        check_rank(self, input_shape, self._rank + 2)
        channels = input_shape[-1] if self.data_format == "channels_last" else input_shape[1]
        if self.keepdims:
            return with_spatial(input_shape, (1,) * self._rank, channels, self.data_format)
        return (input_shape[0], channels)

    def _axes(self, inputs) -> tuple[int, ...]:
        """The spatial axes of `inputs`, after checking their rank."""
        check_rank(self, inputs.shape, self._rank + 2)
        first = 1 if self.data_format == "channels_last" else 2
        return tuple(range(first, first + self._rank))

    def get_config(self):
        return layer_config(self, data_format=self.data_format, keepdims=self.keepdims)


class GlobalAveragePooling1D(_GlobalPooling):
    """Mean over the steps; a `mask` (batch, steps) leaves the masked steps out of the mean."""
    _rank = 1

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(data_format, keepdims, **kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        axis = self._axes(inputs)[0]
        if mask is None:
            return jnp.mean(inputs, axis=axis, keepdims=self.keepdims)
        weights = jnp.expand_dims(jnp.asarray(mask, bool), 2 if self.data_format == "channels_last" else 1)
        total = jnp.sum(jnp.where(weights, inputs, 0), axis=axis, keepdims=self.keepdims)
        return total / jnp.sum(weights.astype(inputs.dtype), axis=axis, keepdims=self.keepdims)

    def compute_mask(self, inputs, previous_mask=None):
        return None


class GlobalAveragePooling3D(_GlobalPooling):
    """Mean over the three spatial axes."""
    _rank = 3

    def call(self, inputs):
        return jnp.mean(inputs, axis=self._axes(inputs), keepdims=self.keepdims)


class _GlobalMaxPooling(_GlobalPooling):
    def call(self, inputs):
        return jnp.max(inputs, axis=self._axes(inputs), keepdims=self.keepdims)


class GlobalMaxPooling1D(_GlobalMaxPooling):
    """Max over the steps."""
    _rank = 1


class GlobalMaxPooling3D(_GlobalMaxPooling):
    """Max over the three spatial axes."""
    _rank = 3


class _AdaptivePooling(Layer):
    """Pools to a fixed `output_size`; cell i of an axis of length n spans
    `[floor(i * n / out), ceil((i + 1) * n / out))`."""
    _rank = 0
    _reduce = ""

    def __init__(self, output_size, data_format: str | None = None, **kwargs):
        if isinstance(output_size, bool) or not isinstance(output_size, (int, tuple, list)):
            raise TypeError(f"`output_size` must be an integer or tuple of {self._rank} integers. "
                            f"Received: {output_size!r} of type {type(output_size)}")
        super().__init__(**kwargs)
        self.output_size = tuple_arg(output_size, self._rank, "output_size")
        self.data_format = data_format_arg(data_format)

    def compute_output_shape(self, input_shape):
        check_rank(self, input_shape, self._rank + 2)
        channels = input_shape[-1] if self.data_format == "channels_last" else input_shape[1]
        return with_spatial(input_shape, self.output_size, channels, self.data_format)

    def call(self, inputs):
        check_rank(self, inputs.shape, self._rank + 2)
        pool = ops.adaptive_max_pool if self._reduce == "max" else ops.adaptive_average_pool
        return pool(inputs, output_size=self.output_size, data_format=self.data_format)

    def get_config(self):
        return layer_config(self, output_size=self.output_size, data_format=self.data_format)


class AdaptiveAveragePooling1D(_AdaptivePooling):
    """Average pooling of `(batch, steps, channels)` to `output_size` steps."""
    _rank, _reduce = 1, "average"


class AdaptiveAveragePooling2D(_AdaptivePooling):
    """Average pooling of images to `output_size = (height, width)`."""
    _rank, _reduce = 2, "average"


class AdaptiveAveragePooling3D(_AdaptivePooling):
    """Average pooling of volumes to `output_size = (depth, height, width)`."""
    _rank, _reduce = 3, "average"


class AdaptiveMaxPooling1D(_AdaptivePooling):
    """Max pooling of `(batch, steps, channels)` to `output_size` steps."""
    _rank, _reduce = 1, "max"


class AdaptiveMaxPooling2D(_AdaptivePooling):
    """Max pooling of images to `output_size = (height, width)`."""
    _rank, _reduce = 2, "max"


class AdaptiveMaxPooling3D(_AdaptivePooling):
    """Max pooling of volumes to `output_size = (depth, height, width)`."""
    _rank, _reduce = 3, "max"


MaxPool1D, MaxPool3D = MaxPooling1D, MaxPooling3D
AvgPool1D, AvgPool3D = AveragePooling1D, AveragePooling3D
GlobalAvgPool1D, GlobalAvgPool3D = GlobalAveragePooling1D, GlobalAveragePooling3D
GlobalMaxPool1D, GlobalMaxPool3D = GlobalMaxPooling1D, GlobalMaxPooling3D

__all__ = ["AdaptiveAveragePooling1D", "AdaptiveAveragePooling2D", "AdaptiveAveragePooling3D",
           "AdaptiveMaxPooling1D", "AdaptiveMaxPooling2D", "AdaptiveMaxPooling3D", "AveragePooling1D",
           "AveragePooling3D", "AvgPool1D", "AvgPool3D", "GlobalAveragePooling1D", "GlobalAveragePooling3D",
           "GlobalAvgPool1D", "GlobalAvgPool3D", "GlobalMaxPool1D", "GlobalMaxPool3D", "GlobalMaxPooling1D",
           "GlobalMaxPooling3D", "MaxPool1D", "MaxPool3D", "MaxPooling1D", "MaxPooling3D"]
