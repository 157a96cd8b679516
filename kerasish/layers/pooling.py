"""Pooling layers (channels last): MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D,
GlobalMaxPooling2D. Each calls one pure pooling function (`kerasish.kernels`); no weights."""

from __future__ import annotations

import jax.numpy as jnp

from kerasish import kernels
from kerasish.layers.base import Layer, int_tuple, padding_arg
from kerasish.layers.conv import conv_output_length
from kerasish.serialization import layer_config


class _Pooling2D(Layer):
    _pool_fn = None

    def __init__(self, pool_size=(2, 2), strides=None, padding: str = "valid",
                 data_format: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.pool_size = int_tuple(pool_size, 2, "pool_size")
        self.strides = self.pool_size if strides is None else int_tuple(strides, 2, "strides")
        self.padding = padding_arg(padding)
        self.data_format = data_format or "channels_last"
        if self.data_format != "channels_last":
            raise ValueError(f"kerasish layers are channels-last only. Received: data_format={data_format!r}")

    def compute_output_shape(self, input_shape):
        _check_4d(self, input_shape)
        h, w = (conv_output_length(n, k, s, self.padding) for n, k, s in
                zip(input_shape[1:3], self.pool_size, self.strides))
        if h == 0 or w == 0:
            raise ValueError(f"Layer '{self.name}': the input {input_shape} is smaller than the pool "
                             f"{self.pool_size}; the output would be empty.")
        return (input_shape[0], h, w, input_shape[3])

    def call(self, inputs):
        return type(self)._pool_fn(inputs, self.pool_size, self.strides, self.padding)

    def get_config(self):
        return layer_config(self, pool_size=self.pool_size, padding=self.padding, strides=self.strides,
                            data_format=self.data_format)


class MaxPooling2D(_Pooling2D):
    """Max over `pool_size` windows moved by `strides` (default: `pool_size`)."""
    _pool_fn = staticmethod(kernels.max_pool2d)


class AveragePooling2D(_Pooling2D):
    """Mean over windows; with padding="same" the mean counts only the real (unpadded) pixels."""
    _pool_fn = staticmethod(kernels.avg_pool2d)


class _GlobalPooling2D(Layer):
    _reduce = None

    def __init__(self, data_format: str | None = None, keepdims: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = data_format or "channels_last"
        if self.data_format != "channels_last":
            raise ValueError(f"kerasish layers are channels-last only. Received: data_format={data_format!r}")
        self.keepdims = bool(keepdims)

    def compute_output_shape(self, input_shape):
        _check_4d(self, input_shape)
        if self.keepdims:
            return (input_shape[0], 1, 1, input_shape[3])
        return (input_shape[0], input_shape[3])

    def call(self, inputs):
        return type(self)._reduce(inputs, axis=(1, 2), keepdims=self.keepdims)

    def get_config(self):
        return layer_config(self, data_format=self.data_format, keepdims=self.keepdims)


class GlobalAveragePooling2D(_GlobalPooling2D):
    """Mean over the two spatial axes."""
    _reduce = staticmethod(jnp.mean)


class GlobalMaxPooling2D(_GlobalPooling2D):
    """Max over the two spatial axes."""
    _reduce = staticmethod(jnp.max)


def _check_4d(layer: Layer, input_shape) -> None:
    if len(input_shape) != 4:
        raise ValueError(f"Input 0 of layer '{layer.name}' is incompatible with the layer: expected "
                         f"ndim=4, found ndim={len(input_shape)}. Full shape received: {input_shape}")
