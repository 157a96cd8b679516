"""Conv2D: a 2-D convolution over channels-last images, kernel shape (kh, kw, in, out) like Keras.

The module is Flax's `nnx.Conv`; its `conv_general_dilated` is `kerasish.kernels.conv2d_lowering`,
which picks a lowering that is fast on the current backend (XLA's own convolution on GPU/TPU).
"""

from __future__ import annotations

from jax import lax
from flax import nnx

from kerasish import activations, initializers, kernels
from kerasish.layers.base import Layer, int_tuple, padding_arg, positive_int
from kerasish.layers.core import _reject_unsupported, _serialize_regularizer, apply_activation


def conv_output_length(length, kernel, stride, padding, dilation=1):
    """Keras's output length of a convolution or pooling window along one axis."""
    if length is None:
        return None
    effective = (kernel - 1) * dilation + 1
    if padding == "same":
        return (length + stride - 1) // stride
    return max(0, (length - effective) // stride + 1)


def conv_general_dilated(lhs, rhs, window_strides, padding, lhs_dilation=None, rhs_dilation=None,
                         dimension_numbers=None, feature_group_count=1, precision=None, **kwargs):
    """`lax.conv_general_dilated` as nnx.Conv calls it, routed to `kerasish.kernels.conv2d` (the lowering
    that is fast on this backend) for the cases Conv2D produces; anything else goes to XLA as is."""
    plain = (lhs.ndim == 4 and feature_group_count == 1 and isinstance(padding, str)
             and all(d == 1 for d in (lhs_dilation or (1, 1)))
             and (all(s == 1 for s in window_strides) or all(d == 1 for d in (rhs_dilation or (1, 1))))
             and kwargs.get("out_sharding") is None and kwargs.get("preferred_element_type") is None)
    if plain:
        return kernels.conv2d(lhs, rhs, tuple(window_strides), padding.lower(), tuple(rhs_dilation or (1, 1)))
    return lax.conv_general_dilated(lhs, rhs, window_strides, padding, lhs_dilation=lhs_dilation,
                                    rhs_dilation=rhs_dilation, dimension_numbers=dimension_numbers,
                                    feature_group_count=feature_group_count, precision=precision, **kwargs)


class _Conv(nnx.Module):
    def __init__(self, conv: nnx.Conv, activation):
        self.conv, self.activation = conv, activation

    def __call__(self, x):
        return apply_activation(self.activation, self.conv(x))


class Conv2D(Layer):
    """2-D convolution layer (channels last)."""

    def __init__(self, filters: int, kernel_size, strides=(1, 1), padding: str = "valid",
                 data_format: str | None = None, dilation_rate=(1, 1), groups: int = 1,
                 activation=None, use_bias: bool = True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None, **kwargs):
        _reject_unsupported(type(self).__name__, activity_regularizer=activity_regularizer,
                            kernel_constraint=kernel_constraint, bias_constraint=bias_constraint)
        super().__init__(**kwargs)
        if isinstance(filters, bool) or not isinstance(filters, int) or filters <= 0:
            raise ValueError("Invalid value for argument `filters`. Expected a strictly positive value. "
                             f"Received filters={filters!r}.")
        self.filters = filters
        self.kernel_size = int_tuple(kernel_size, 2, "kernel_size")
        self.strides = int_tuple(strides, 2, "strides")
        self.padding = padding_arg(padding)
        self.data_format = data_format or "channels_last"
        if self.data_format != "channels_last":
            raise ValueError(f"kerasish layers are channels-last only. Received: data_format={data_format!r}")
        self.dilation_rate = int_tuple(dilation_rate, 2, "dilation_rate")
        self.groups = positive_int(groups, "groups")
        if filters % self.groups:
            raise ValueError(f"The number of filters must be evenly divisible by the number of groups. "
                             f"Received: groups={groups}, filters={filters}.")
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = self._set_regularizer(("conv", "kernel"), kernel_regularizer)
        self.bias_regularizer = self._set_regularizer(("conv", "bias"), bias_regularizer) if use_bias else None

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 4:
            raise ValueError(f"Input 0 of layer '{self.name}' is incompatible with the layer: expected "
                             f"ndim=4, found ndim={len(input_shape)}. Full shape received: {input_shape}")
        if input_shape[-1] is None:
            raise ValueError(f"The channel dimension of the inputs to layer '{self.name}' should be "
                             f"defined. Received input shape {input_shape}.")
        if input_shape[-1] % self.groups:
            raise ValueError(f"The number of input channels must be evenly divisible by the number of "
                             f"groups. Received groups={self.groups}, but the input has {input_shape[-1]} channels")
        h, w = (conv_output_length(n, k, s, self.padding, d) for n, k, s, d in
                zip(input_shape[1:3], self.kernel_size, self.strides, self.dilation_rate))
        if h == 0 or w == 0:
            raise ValueError(f"Layer '{self.name}': the input {input_shape} is smaller than the kernel "
                             f"{self.kernel_size}; the output would be empty.")
        return (input_shape[0], h, w, self.filters)

    def make_module(self, input_shape, rngs):
        conv = nnx.Conv(input_shape[-1], self.filters, self.kernel_size, self.strides,
                        padding=self.padding.upper(), kernel_dilation=self.dilation_rate,
                        feature_group_count=self.groups, use_bias=self.use_bias,
                        kernel_init=self.kernel_initializer, bias_init=self.bias_initializer,
                        conv_general_dilated=conv_general_dilated, dtype=self.compute_dtype,
                        param_dtype=self.dtype, rngs=rngs)
        return _Conv(conv, self.activation)

    def weight_specs(self):
        specs = [(("conv", "kernel"), "kernel", True)]
        return specs + ([(("conv", "bias"), "bias", True)] if self.use_bias else [])

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size,
                "strides": self.strides, "padding": self.padding, "data_format": self.data_format,
                "dilation_rate": self.dilation_rate, "groups": self.groups,
                "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": _serialize_regularizer(self.kernel_regularizer),
                "bias_regularizer": _serialize_regularizer(self.bias_regularizer)}
