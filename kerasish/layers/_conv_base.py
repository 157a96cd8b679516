"""The four convolution bases behind `convolutional.py`: plain, transposed, depthwise, separable.

Each validates Keras 3's arguments in `__init__`, creates Keras's weights (names, shapes, order) in
`build`, computes through `_conv_lowering` in `call`, and reports Keras's config. The public classes
(`Conv1D`, `Conv2DTranspose`, ...) only fix the rank and Keras's positional argument order.
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

from kerasish import activations, constraints, initializers, regularizers
from kerasish.layers import _conv_lowering as lowering
from kerasish.layers._conv_args import (channel_axis, check_rank, data_format_arg, padding_arg, transpose_length,
                                        tuple_arg, windowed_shape, with_spatial, spatial_dims)
from kerasish.layers.base import Layer, Shape
from kerasish.layers.core import apply_activation
from kerasish.serialization import layer_config, pop_keras_only, serialize_activation, weight_args_config


def _positive(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"Invalid value for argument `{name}`. Expected a strictly positive value. "
                         f"Received {name}={value!r}.")
    return value


class _SpatialConv(Layer):
    """Arguments every convolution shares; `_roles` names the weights whose initializer, regularizer
    and constraint are arguments (`kernel_initializer`, `depthwise_regularizer`, ...)."""

    _roles: tuple[str, ...] = ("kernel", "bias")
    _rank = 0  # set by each public class: the number of spatial axes

    def __init__(self, kernel_size, strides, padding, data_format, dilation_rate, activation,
                 use_bias, weight_args: dict[str, Any], activity_regularizer=None, *, causal: bool = False,
                 **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.rank = rank = self._rank
        self.kernel_size = tuple_arg(kernel_size, rank, "kernel_size")
        self.strides = tuple_arg(strides, rank, "strides")
        self.dilation_rate = tuple_arg(dilation_rate, rank, "dilation_rate")
        self.padding = padding_arg(padding, allow_causal=causal)
        self.data_format = data_format_arg(data_format)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        for role in self._roles:
            setattr(self, f"{role}_initializer", initializers.get(weight_args[f"{role}_initializer"]))
            setattr(self, f"{role}_regularizer", regularizers.get(weight_args[f"{role}_regularizer"]))
            setattr(self, f"{role}_constraint", constraints.get(weight_args[f"{role}_constraint"]))

    @classmethod
    def _weight_args(cls, arguments: dict[str, Any]) -> dict[str, Any]:
        """The initializer, regularizer and constraint arguments of each weight role, picked from a
        subclass's `__init__` arguments (`locals()`), whose signature lists them in Keras's order."""
        return {f"{role}_{what}": arguments[f"{role}_{what}"] for role in cls._roles
                for what in ("initializer", "regularizer", "constraint")}

    def _forbid_strided_dilation(self) -> None:
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError("`strides > 1` not supported in conjunction with `dilation_rate > 1`. Received: "
                             f"strides={self.strides} and dilation_rate={self.dilation_rate}")

    def _input_channels(self, input_shape: Shape) -> int:
        check_rank(self, input_shape, self.rank + 2)
        channels = input_shape[channel_axis(self.data_format)]
        if channels is None:
            raise ValueError(f"The channel dimension of the inputs to layer '{self.name}' should be defined. "
                             f"Received input shape {tuple(input_shape)} (data_format='{self.data_format}').")
        return channels

    def _weight(self, role: str, name: str, shape: tuple[int, ...]):
        return self.add_weight(name=name, shape=shape, initializer=getattr(self, f"{role}_initializer"),
                               regularizer=getattr(self, f"{role}_regularizer"),
                               constraint=getattr(self, f"{role}_constraint"))

    def _add_bias(self, size: int) -> None:
        self.bias = self._weight("bias", "bias", (size,)) if self.use_bias else None

    def _finish(self, y):
        if self.bias is not None:
            bias = self.bias.value
            y = y + (bias if self.data_format == "channels_last" else bias.reshape((-1,) + (1,) * self.rank))
        return apply_activation(self.activation, y)

    def _window_shape(self, input_shape: Shape, channels: int | None) -> Shape:
        return windowed_shape(self, input_shape, self.rank, channels, self.kernel_size, self.strides,
                              self.padding, self.data_format, self.dilation_rate)

    def _config(self, after_dilation: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
        """Keras's config: the subclass's `fields`, the shared arguments (`after_dilation` right after
        `dilation_rate`, where Keras puts a plain convolution's `groups`), then the weights' arguments."""
        return layer_config(self, **fields, kernel_size=self.kernel_size, strides=self.strides,
                            padding=self.padding, data_format=self.data_format, dilation_rate=self.dilation_rate,
                            **(after_dilation or {}), activation=serialize_activation(self.activation),
                            use_bias=self.use_bias, **weight_args_config(self, *self._roles, activity=True))


class BaseConv(_SpatialConv):
    """`activation(conv(inputs, kernel) + bias)`; kernel `(*kernel_size, in_channels // groups, filters)`."""

    def __init__(self, filters: int, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, groups: int = 1, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias,
                         self._weight_args(locals()), activity_regularizer, causal=self._rank == 1, **kwargs)
        self.filters = _positive(filters, "filters")
        if isinstance(groups, bool) or not isinstance(groups, int) or groups <= 0:
            raise ValueError(f"The number of groups must be a positive integer. Received: groups={groups!r}.")
        self.groups = groups
        if filters % groups:
            raise ValueError("The number of filters must be evenly divisible by the number of groups. "
                             f"Received: groups={groups}, filters={filters}.")
        self._forbid_strided_dilation()

    def compute_output_shape(self, input_shape):
        channels = self._input_channels(input_shape)
        if channels % self.groups:
            raise ValueError("The number of input channels must be evenly divisible by the number of groups. "
                             f"Received groups={self.groups}, but the input has {channels} channels (full input "
                             f"shape is {tuple(input_shape)}).")
        return self._window_shape(input_shape, self.filters)

    def build(self, input_shape):
        self.compute_output_shape(input_shape)
        channels = self._input_channels(input_shape)
        self.kernel = self._weight("kernel", "kernel", (*self.kernel_size, channels // self.groups, self.filters))
        self._add_bias(self.filters)
        self.built = True

    def call(self, inputs):
        padding = self.padding
        if padding == "causal":  # left-pad the time axis, then a valid convolution
            pads = [(0, 0)] * inputs.ndim
            pads[1 if self.data_format == "channels_last" else 2] = (self.dilation_rate[0] * (self.kernel_size[0] - 1), 0)
            inputs, padding = jnp.pad(inputs, pads), "valid"
        y = lowering.conv(inputs, self.kernel.value, self.strides, padding, self.data_format, self.dilation_rate)
        return self._finish(y)

    def get_config(self):
        return self._config({"groups": self.groups}, filters=self.filters)

    @classmethod
    def from_config(cls, config):
        return cls(**pop_keras_only(config, cls.__name__, {"lora_rank": None, "lora_alpha": None}))


class BaseConvTranspose(_SpatialConv):
    """The transpose (gradient) of a convolution; kernel `(*kernel_size, filters, in_channels)`.

    Output size per axis: "same" gives `size * stride`, "valid" gives
    `(size - 1) * stride + max(kernel, stride)`; `output_padding` sets the remainder explicitly.
    """

    def __init__(self, filters: int, kernel_size, strides=1, padding="valid", output_padding=None,
                 data_format=None, dilation_rate=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 **kwargs):
        super().__init__(kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias,
                         self._weight_args(locals()), activity_regularizer, **kwargs)
        self.filters = _positive(filters, "filters")
        self.output_padding = None if output_padding is None else \
            tuple_arg(output_padding, self._rank, "output_padding", allow_zero=True)
        for i, (extra, stride) in enumerate(zip(self.output_padding or (), self.strides)):
            if extra >= stride:
                raise ValueError("`output_padding` must be strictly less than `strides` for all dimensions. "
                                 f"At dimension {i}, `output_padding` is {extra} but `strides` is {stride}. "
                                 f"Received: output_padding={self.output_padding}, strides={self.strides}")
        self._forbid_strided_dilation()

    def compute_output_shape(self, input_shape):
        self._input_channels(input_shape)
        extra = self.output_padding or (None,) * self.rank
        sizes = [transpose_length(n, k, s, self.padding, o, d) for n, k, s, o, d in
                 zip(spatial_dims(input_shape, self.data_format), self.kernel_size, self.strides, extra,
                     self.dilation_rate)]
        return with_spatial(input_shape, sizes, self.filters, self.data_format)

    def build(self, input_shape):
        channels = self._input_channels(input_shape)
        self.kernel = self._weight("kernel", "kernel", (*self.kernel_size, self.filters, channels))
        self._add_bias(self.filters)
        self.built = True

    def call(self, inputs):
        y = lowering.conv_transpose(inputs, self.kernel.value, self.strides, self.padding, self.output_padding,
                                    self.data_format, self.dilation_rate)
        return self._finish(y)

    def get_config(self):
        return self._config(filters=self.filters, output_padding=self.output_padding)


class BaseDepthwiseConv(_SpatialConv):
    """One filter bank per input channel: kernel `(*kernel_size, in_channels, depth_multiplier)`,
    output channels `in_channels * depth_multiplier`."""

    _roles = ("depthwise", "bias")

    def __init__(self, kernel_size, strides=1, padding="valid", depth_multiplier: int = 1,
                 data_format=None, dilation_rate=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", bias_initializer="zeros", depthwise_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, depthwise_constraint=None, bias_constraint=None,
                 **kwargs):
        super().__init__(kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias,
                         self._weight_args(locals()), activity_regularizer, **kwargs)
        self.depth_multiplier = _positive(depth_multiplier, "depth_multiplier")

    def compute_output_shape(self, input_shape):
        return self._window_shape(input_shape, self._input_channels(input_shape) * self.depth_multiplier)

    def build(self, input_shape):
        self.compute_output_shape(input_shape)
        channels = self._input_channels(input_shape)
        self.kernel = self._weight("depthwise", "kernel", (*self.kernel_size, channels, self.depth_multiplier))
        self._add_bias(channels * self.depth_multiplier)
        self.built = True

    def call(self, inputs):
        y = lowering.depthwise_conv(inputs, self.kernel.value, self.strides, self.padding, self.data_format,
                                    self.dilation_rate)
        return self._finish(y)

    def get_config(self):
        return self._config(depth_multiplier=self.depth_multiplier)


class BaseSeparableConv(_SpatialConv):
    """A depthwise convolution then a pointwise (1x1) one: weights `depthwise_kernel`
    `(*kernel_size, in_channels, depth_multiplier)`, `pointwise_kernel`
    `(1, ..., in_channels * depth_multiplier, filters)`, `bias` `(filters,)`."""

    _roles = ("depthwise", "pointwise", "bias")

    def __init__(self, filters: int, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, depth_multiplier: int = 1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", pointwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None, pointwise_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, depthwise_constraint=None,
                 pointwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias,
                         self._weight_args(locals()), activity_regularizer, **kwargs)
        self.depth_multiplier = _positive(depth_multiplier, "depth_multiplier")
        self.filters = _positive(filters, "filters")

    def compute_output_shape(self, input_shape):
        self._input_channels(input_shape)
        return self._window_shape(input_shape, self.filters)

    def build(self, input_shape):
        self.compute_output_shape(input_shape)
        channels = self._input_channels(input_shape)
        self.depthwise_kernel = self._weight("depthwise", "depthwise_kernel",
                                             (*self.kernel_size, channels, self.depth_multiplier))
        self.pointwise_kernel = self._weight("pointwise", "pointwise_kernel",
                                             (1,) * self.rank + (channels * self.depth_multiplier, self.filters))
        self._add_bias(self.filters)
        self.built = True

    def call(self, inputs):
        y = lowering.separable_conv(inputs, self.depthwise_kernel.value, self.pointwise_kernel.value, self.strides,
                                    self.padding, self.data_format, self.dilation_rate)
        return self._finish(y)

    def get_config(self):
        return self._config(depth_multiplier=self.depth_multiplier, filters=self.filters)
