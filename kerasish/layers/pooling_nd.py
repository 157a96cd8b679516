"""Pooling layers of every rank: max and average pooling, global pooling and adaptive pooling
(1-D, 2-D and 3-D), channels last or first.

No weights. One class per kind serves every rank (`_rank` says which): windowed pools are
`kerasish.ops.max_pool` / `ops.average_pool` (1-D and 2-D on the CPU-fast lowerings of
`kerasish.kernels`, 3-D on `lax.reduce_window`), global pools are a `jnp` reduction over the
spatial axes, adaptive pools are `ops.adaptive_*_pool`. `kerasish.layers` imports the 2-D
classes by name (and defines their short aliases), so `__all__` here lists the 1-D, 3-D and
adaptive ones.
"""

from __future__ import annotations

import jax.numpy as jnp

from kerasish import ops
from kerasish.layers._conv_args import (channel_axis, check_rank, data_format_arg, padding_arg, tuple_arg,
                                        windowed_shape, with_spatial)
from kerasish.layers.base import Layer
from kerasish.serialization import layer_config


class _Pooling(Layer):
    _rank = 0
    _mode = ""  # "max" or "average"

    # Keras's default pool_size is 2 (1-D) or (2, 2) / (2, 2, 2): the same after `tuple_arg`.
    def __init__(self, pool_size=2, strides=None, padding: str = "valid", data_format: str | None = None,
                 name: str | None = None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.pool_size = tuple_arg(pool_size, self._rank, "pool_size")
        self.strides = self.pool_size if strides is None else tuple_arg(strides, self._rank, "strides")
        self.padding = padding_arg(padding)
        self.data_format = data_format_arg(data_format)

    def compute_output_shape(self, input_shape):
        return windowed_shape(self, input_shape, self._rank, input_shape[channel_axis(self.data_format)],
                              self.pool_size, self.strides, self.padding, self.data_format)

    def call(self, inputs):
        self.compute_output_shape(inputs.shape)  # Keras's errors for a rank or size that does not fit
        pool = ops.max_pool if self._mode == "max" else ops.average_pool
        return pool(inputs, self.pool_size, self.strides, self.padding, self.data_format)

    def get_config(self):
        return layer_config(self, pool_size=self.pool_size, padding=self.padding, strides=self.strides,
                            data_format=self.data_format)


class MaxPooling1D(_Pooling):
    """Max over windows of `pool_size` steps moved by `strides` (default: `pool_size`)."""
    _rank, _mode = 1, "max"


class MaxPooling2D(_Pooling):
    """Max over `(h, w)` windows moved by `strides` (default: `pool_size`)."""
    _rank, _mode = 2, "max"


class MaxPooling3D(_Pooling):
    """Max over `(d, h, w)` windows."""
    _rank, _mode = 3, "max"


class AveragePooling1D(_Pooling):
    """Mean over windows; with padding="same" only real steps are counted."""
    _rank, _mode = 1, "average"


class AveragePooling2D(_Pooling):
    """Mean over `(h, w)` windows; with padding="same" only real (unpadded) pixels are counted."""
    _rank, _mode = 2, "average"


class AveragePooling3D(_Pooling):
    """Mean over `(d, h, w)` windows; with padding="same" only real cells are counted."""
    _rank, _mode = 3, "average"


class _GlobalPooling(Layer):
    _rank = 0
    _mode = ""  # "max" or "average"

    def __init__(self, data_format: str | None = None, keepdims: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = data_format_arg(data_format)
        self.keepdims = keepdims

    def compute_output_shape(self, input_shape):
        check_rank(self, input_shape, self._rank + 2)
        channels = input_shape[channel_axis(self.data_format)]
        if self.keepdims:
            return with_spatial(input_shape, (1,) * self._rank, channels, self.data_format)
        return (input_shape[0], channels)

    def _axes(self, inputs) -> tuple[int, ...]:
        """The spatial axes of `inputs`, after checking their rank."""
        check_rank(self, inputs.shape, self._rank + 2)
        first = 1 if self.data_format == "channels_last" else 2
        return tuple(range(first, first + self._rank))

    def call(self, inputs):
        reduce = jnp.max if self._mode == "max" else jnp.mean
        return reduce(inputs, axis=self._axes(inputs), keepdims=self.keepdims)

    def get_config(self):
        return layer_config(self, data_format=self.data_format, keepdims=self.keepdims)


class GlobalAveragePooling1D(_GlobalPooling):
    """Mean over the steps; a `mask` (batch, steps) leaves the masked steps out of the mean."""
    _rank, _mode = 1, "average"

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(data_format, keepdims, **kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        if mask is None:
            return super().call(inputs)
        axis = self._axes(inputs)[0]
        weights = jnp.expand_dims(jnp.asarray(mask, bool), 2 if self.data_format == "channels_last" else 1)
        total = jnp.sum(jnp.where(weights, inputs, 0), axis=axis, keepdims=self.keepdims)
        return total / jnp.sum(weights.astype(inputs.dtype), axis=axis, keepdims=self.keepdims)

    def compute_mask(self, inputs, previous_mask=None):
        return None


class GlobalAveragePooling2D(_GlobalPooling):
    """Mean over the two spatial axes."""
    _rank, _mode = 2, "average"


class GlobalAveragePooling3D(_GlobalPooling):
    """Mean over the three spatial axes."""
    _rank, _mode = 3, "average"


class GlobalMaxPooling1D(_GlobalPooling):
    """Max over the steps."""
    _rank, _mode = 1, "max"


class GlobalMaxPooling2D(_GlobalPooling):
    """Max over the two spatial axes."""
    _rank, _mode = 2, "max"


class GlobalMaxPooling3D(_GlobalPooling):
    """Max over the three spatial axes."""
    _rank, _mode = 3, "max"


class _AdaptivePooling(Layer):
    """Pools to a fixed `output_size`; cell i of an axis of length n spans
    `[floor(i * n / out), ceil((i + 1) * n / out))`."""
    _rank = 0
    _mode = ""  # "max" or "average"

    def __init__(self, output_size, data_format: str | None = None, **kwargs):
        if isinstance(output_size, bool) or not isinstance(output_size, (int, tuple, list)):
            raise TypeError(f"`output_size` must be an integer or tuple of {self._rank} integers. "
                            f"Received: {output_size!r} of type {type(output_size)}")
        super().__init__(**kwargs)
        self.output_size = tuple_arg(output_size, self._rank, "output_size")
        self.data_format = data_format_arg(data_format)

    def compute_output_shape(self, input_shape):
        check_rank(self, input_shape, self._rank + 2)
        return with_spatial(input_shape, self.output_size, input_shape[channel_axis(self.data_format)],
                            self.data_format)

    def call(self, inputs):
        check_rank(self, inputs.shape, self._rank + 2)
        pool = ops.adaptive_max_pool if self._mode == "max" else ops.adaptive_average_pool
        return pool(inputs, output_size=self.output_size, data_format=self.data_format)

    def get_config(self):
        return layer_config(self, output_size=self.output_size, data_format=self.data_format)


class AdaptiveAveragePooling1D(_AdaptivePooling):
    """Average pooling of `(batch, steps, channels)` to `output_size` steps."""
    _rank, _mode = 1, "average"


class AdaptiveAveragePooling2D(_AdaptivePooling):
    """Average pooling of images to `output_size = (height, width)`."""
    _rank, _mode = 2, "average"


class AdaptiveAveragePooling3D(_AdaptivePooling):
    """Average pooling of volumes to `output_size = (depth, height, width)`."""
    _rank, _mode = 3, "average"


class AdaptiveMaxPooling1D(_AdaptivePooling):
    """Max pooling of `(batch, steps, channels)` to `output_size` steps."""
    _rank, _mode = 1, "max"


class AdaptiveMaxPooling2D(_AdaptivePooling):
    """Max pooling of images to `output_size = (height, width)`."""
    _rank, _mode = 2, "max"


class AdaptiveMaxPooling3D(_AdaptivePooling):
    """Max pooling of volumes to `output_size = (depth, height, width)`."""
    _rank, _mode = 3, "max"


MaxPool1D, MaxPool3D = MaxPooling1D, MaxPooling3D
AvgPool1D, AvgPool3D = AveragePooling1D, AveragePooling3D
GlobalAvgPool1D, GlobalAvgPool3D = GlobalAveragePooling1D, GlobalAveragePooling3D
GlobalMaxPool1D, GlobalMaxPool3D = GlobalMaxPooling1D, GlobalMaxPooling3D

__all__ = ["AdaptiveAveragePooling1D", "AdaptiveAveragePooling2D", "AdaptiveAveragePooling3D",
           "AdaptiveMaxPooling1D", "AdaptiveMaxPooling2D", "AdaptiveMaxPooling3D", "AveragePooling1D",
           "AveragePooling3D", "AvgPool1D", "AvgPool3D", "GlobalAveragePooling1D", "GlobalAveragePooling3D",
           "GlobalAvgPool1D", "GlobalAvgPool3D", "GlobalMaxPool1D", "GlobalMaxPool3D", "GlobalMaxPooling1D",
           "GlobalMaxPooling3D", "MaxPool1D", "MaxPool3D", "MaxPooling1D", "MaxPooling3D"]
