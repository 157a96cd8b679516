"""Conv1D, Conv2D, Conv3D, transposed, separable and depthwise convolutions (Keras 3's names and arguments).

Each class fixes the number of spatial axes of one of the bases in `_conv_base.py`, whose
`__init__` takes Keras's arguments in Keras's positional order (`Conv3DTranspose`, whose
`data_format` comes before `output_padding` in Keras, reorders them). Weights, their names, shapes
and order are Keras's, so `set_weights(keras_layer.get_weights())` carries a Keras model over.

Example:
    >>> layer = Conv1D(8, 3, padding="causal", dilation_rate=2)
    >>> layer(jnp.ones((4, 10, 3))).shape
    (4, 10, 8)
"""

from __future__ import annotations

from kerasish.layers._conv_base import BaseConv, BaseConvTranspose, BaseDepthwiseConv, BaseSeparableConv


class Conv1D(BaseConv):
    """1-D convolution over `(batch, steps, channels)` (or channels first); padding "valid", "same" or
    "causal" (left-padded so output t sees inputs up to t). Arguments: `filters, kernel_size, strides=1,
    padding="valid", data_format=None, dilation_rate=1, groups=1, activation=None, use_bias=True,
    kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer, activity_regularizer,
    kernel_constraint, bias_constraint`."""
    _rank = 1


class Conv2D(BaseConv):
    """2-D convolution over `(batch, height, width, channels)` (or channels first); Conv1D's
    arguments, with pairs, and padding "valid" or "same". One group runs through
    `kerasish.kernels.conv2d` (patches + one matmul on CPU, XLA's convolution on GPU/TPU)."""
    _rank = 2


class Conv3D(BaseConv):
    """3-D convolution over `(batch, depth, height, width, channels)`; Conv1D's arguments, with
    3-tuples."""
    _rank = 3


class Conv1DTranspose(BaseConvTranspose):
    """Transposed 1-D convolution. Arguments: `filters, kernel_size, strides=1, padding="valid",
    output_padding=None, data_format=None, dilation_rate=1, activation=None, use_bias=True`, then the
    kernel/bias initializers, regularizers and constraints."""
    _rank = 1


class Conv2DTranspose(BaseConvTranspose):
    """Transposed 2-D convolution; Conv1DTranspose's arguments, with pairs."""
    _rank = 2


class Conv3DTranspose(BaseConvTranspose):
    """Transposed 3-D convolution; as in Keras, `data_format` comes before `output_padding`."""
    _rank = 3

    def __init__(self, filters, kernel_size, strides=(1, 1, 1), padding="valid", data_format=None,
                 output_padding=None, dilation_rate=(1, 1, 1), activation=None, use_bias=True, **kwargs):
        super().__init__(filters, kernel_size, strides=strides, padding=padding, output_padding=output_padding,
                         data_format=data_format, dilation_rate=dilation_rate, activation=activation,
                         use_bias=use_bias, **kwargs)


class DepthwiseConv1D(BaseDepthwiseConv):
    """Depthwise 1-D convolution. Arguments: `kernel_size, strides=1, padding="valid",
    depth_multiplier=1, data_format=None, dilation_rate=1, activation=None, use_bias=True`, then the
    depthwise/bias initializers, regularizers and constraints."""
    _rank = 1


class DepthwiseConv2D(BaseDepthwiseConv):
    """Depthwise 2-D convolution; DepthwiseConv1D's arguments, with pairs."""
    _rank = 2


class SeparableConv1D(BaseSeparableConv):
    """Depthwise then pointwise 1-D convolution. Arguments: `filters, kernel_size, strides=1,
    padding="valid", data_format=None, dilation_rate=1, depth_multiplier=1, activation=None,
    use_bias=True`, then the depthwise/pointwise/bias initializers, regularizers and constraints."""
    _rank = 1


class SeparableConv2D(BaseSeparableConv):
    """Depthwise then pointwise 2-D convolution; SeparableConv1D's arguments, with pairs."""
    _rank = 2


Convolution1D = Conv1D
Convolution2D = Conv2D
Convolution3D = Conv3D
Convolution1DTranspose = Conv1DTranspose
Convolution2DTranspose = Conv2DTranspose
Convolution3DTranspose = Conv3DTranspose
SeparableConvolution1D = SeparableConv1D
SeparableConvolution2D = SeparableConv2D

__all__ = ["Conv1D", "Conv1DTranspose", "Conv2D", "Conv2DTranspose", "Conv3D", "Conv3DTranspose", "Convolution1D",
           "Convolution1DTranspose", "Convolution2D", "Convolution2DTranspose", "Convolution3D", "Convolution3DTranspose",
           "DepthwiseConv1D", "DepthwiseConv2D", "SeparableConv1D", "SeparableConv2D", "SeparableConvolution1D",
           "SeparableConvolution2D"]
