"""Conv2D: a 2-D convolution over channels-last images, kernel shape (kh, kw, in / groups, out) like Keras.

The convolution is `kerasish.kernels.conv2d`, which picks a lowering that is fast on the current
backend (patches + one matmul on CPU, XLA's own convolution on GPU/TPU); grouped convolutions and
strided dilated ones go to `lax.conv_general_dilated`.
"""

from __future__ import annotations

from jax import lax

from kerasish import activations, constraints, initializers, kernels, regularizers
from kerasish.layers.base import Layer, int_tuple, padding_arg, positive_int
from kerasish.layers.core import apply_activation
from kerasish.serialization import layer_config, pop_keras_only, serialize_activation, weight_args_config


def conv_output_length(length, kernel, stride, padding, dilation=1):
    """Keras's output length of a convolution or pooling window along one axis."""
    if length is None:
        return None
    effective = (kernel - 1) * dilation + 1
    if padding == "same":
        return (length + stride - 1) // stride
    return max(0, (length - effective) // stride + 1)


def conv2d(x, kernel, strides, padding: str, dilation, groups: int = 1):
    """NHWC x HWIO convolution: the backend-fast kernel where it applies, else XLA's."""
    if groups == 1 and (all(v == 1 for v in strides) or all(v == 1 for v in dilation)):
        return kernels.conv2d(x, kernel, tuple(strides), padding, tuple(dilation))
    return lax.conv_general_dilated(x, kernel, tuple(strides), padding.upper(), rhs_dilation=tuple(dilation),
                                    dimension_numbers=("NHWC", "HWIO", "NHWC"), feature_group_count=groups)


class Conv2D(Layer):
    """2-D convolution layer (channels last)."""

    def __init__(self, filters: int, kernel_size, strides=(1, 1), padding: str = "valid",
                 data_format: str | None = None, dilation_rate=(1, 1), groups: int = 1,
                 activation=None, use_bias: bool = True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
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
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)

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

    def build(self, input_shape):
        self.compute_output_shape(input_shape)  # validates the shape
        self.kernel = self.add_weight(name="kernel", shape=(*self.kernel_size, input_shape[-1] // self.groups,
                                                            self.filters),
                                      initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(name="bias", shape=(self.filters,), initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        self.built = True

    def call(self, inputs):
        y = conv2d(inputs, self.kernel.value, self.strides, self.padding, self.dilation_rate, self.groups)
        if self.bias is not None:
            y = y + self.bias.value
        return apply_activation(self.activation, y)

    def get_config(self):
        return layer_config(self, filters=self.filters, kernel_size=self.kernel_size, strides=self.strides,
                            padding=self.padding, data_format=self.data_format, dilation_rate=self.dilation_rate,
                            groups=self.groups, activation=serialize_activation(self.activation),
                            use_bias=self.use_bias, **weight_args_config(self, "kernel", "bias", activity=True))

    @classmethod
    def from_config(cls, config):
        return cls(**pop_keras_only(config, cls.__name__, {"lora_rank": None, "lora_alpha": None}))
