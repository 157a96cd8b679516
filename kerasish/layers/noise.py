"""SpatialDropout1D/2D/3D, GaussianNoise, GaussianDropout, AlphaDropout, ActivityRegularization.

The random layers hold a `keras.random.SeedGenerator` (part of the model graph, so its state
advances inside compiled training steps) and draw with `kerasish.random` only when `training` is
true; at inference they return their input. ActivityRegularization adds
`l1 * sum(|x|) + l2 * sum(x^2)` (divided by the batch size, as every activity regularizer) to the
losses and returns its input.
"""

from __future__ import annotations

import math

from kerasish import random, regularizers
from kerasish.layers._conv_args import check_rank, data_format_arg, positive_number
from kerasish.layers.base import Layer
from kerasish.layers.core import Dropout
from kerasish.layers.reshaping import Identity
from kerasish.serialization import layer_config


class _SpatialDropout(Dropout):
    """Drops whole feature maps: one keep/drop draw per (sample, channel), shared along the spatial axes."""
    _rank = 0
    _takes_data_format = True  # SpatialDropout1D has none in Keras (channels last)

    def __init__(self, rate, seed=None, name=None, dtype=None, data_format=None):
        super().__init__(rate, seed=seed, name=name, dtype=dtype)
        self.data_format = data_format_arg(data_format)

    def compute_output_shape(self, input_shape):
        check_rank(self, input_shape, self._rank + 2)
        return input_shape

    def call(self, inputs, training=False):
        check_rank(self, inputs.shape, self._rank + 2)
        if not (training and self.rate > 0):
            return inputs
        batch = inputs.shape[0]
        if self.data_format == "channels_last":
            noise_shape = (batch, *(1,) * self._rank, inputs.shape[-1])
        else:
            noise_shape = (batch, inputs.shape[1], *(1,) * self._rank)
        return random.dropout(inputs, self.rate, noise_shape=noise_shape, seed=self.seed_generator)

    def get_config(self):
        # Keras's spatial dropouts write only these keys (no `trainable`), the dtype as a plain name.
        config = {"rate": self.rate, "seed": self.seed, "name": self.name, "dtype": self.dtype_policy.name}
        return {**config, "data_format": self.data_format} if self._takes_data_format else config


class SpatialDropout1D(_SpatialDropout):
    """Dropout of whole channels of `(batch, steps, channels)` inputs (scaled by 1 / (1 - rate))."""
    _rank, _takes_data_format = 1, False

    def __init__(self, rate, seed=None, name=None, dtype=None):
        super().__init__(rate, seed=seed, name=name, dtype=dtype)


class SpatialDropout2D(_SpatialDropout):
    """Dropout of whole feature maps of images."""
    _rank = 2

    def __init__(self, rate, data_format=None, seed=None, name=None, dtype=None):
        super().__init__(rate, seed=seed, name=name, dtype=dtype, data_format=data_format)


class SpatialDropout3D(_SpatialDropout):
    """Dropout of whole feature maps of volumes."""
    _rank = 3

    def __init__(self, rate, data_format=None, seed=None, name=None, dtype=None):
        super().__init__(rate, seed=seed, name=name, dtype=dtype, data_format=data_format)


class _Noise(Layer):
    """A random layer with one strength argument in [0, 1]; identity at inference."""

    def __init__(self, strength, strength_name: str, seed=None, **kwargs):
        super().__init__(**kwargs)
        positive_number(strength, strength_name, upper=1)
        self.seed = seed
        self.seed_generator = random.SeedGenerator(seed) if strength > 0 else None
        self.supports_masking = True

    def compute_output_shape(self, input_shape):
        return input_shape


class GaussianNoise(_Noise):
    """Adds zero-mean Gaussian noise of standard deviation `stddev` (in [0, 1]) in training."""

    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(stddev, "stddev", seed, **kwargs)
        self.stddev = stddev

    def call(self, inputs, training=False):
        if training and self.stddev > 0:
            return inputs + random.normal(inputs.shape, 0.0, self.stddev, dtype=self.compute_dtype,
                                          seed=self.seed_generator)
        return inputs

    def get_config(self):
        return layer_config(self, stddev=self.stddev, seed=self.seed)


class GaussianDropout(_Noise):
    """Multiplies by Gaussian noise of mean 1 and standard deviation `sqrt(rate / (1 - rate))` in training."""

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(rate, "rate", seed, **kwargs)
        self.rate = rate

    def call(self, inputs, training=False):
        if training and self.rate > 0:
            stddev = math.sqrt(self.rate / (1.0 - self.rate))
            return inputs * random.normal(inputs.shape, 1.0, stddev, dtype=self.compute_dtype,
                                          seed=self.seed_generator)
        return inputs

    def get_config(self):
        return layer_config(self, rate=self.rate, seed=self.seed)


_SELU_ALPHA = 1.6732632423543772
_SELU_SCALE = 1.0507009873554805


class AlphaDropout(_Noise):
    """Dropout for self-normalizing (SELU) networks: dropped entries are set to SELU's negative
    saturation value, then an affine map restores the input's mean and variance."""

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(rate, "rate", seed, **kwargs)
        self.rate = rate
        self.noise_shape = noise_shape

    def call(self, inputs, training=False):
        if not (training and self.rate > 0):
            return inputs
        shape = inputs.shape if self.noise_shape is None else \
            tuple(n if d is None else d for n, d in zip(inputs.shape, self.noise_shape))
        keep = (random.uniform(shape, seed=self.seed_generator) >= self.rate).astype(inputs.dtype)
        saturated = -_SELU_ALPHA * _SELU_SCALE
        a = ((1 - self.rate) * (1 + self.rate * saturated ** 2)) ** -0.5
        b = -a * saturated * self.rate
        return a * (inputs * keep + saturated * (1 - keep)) + b

    def get_config(self):
        return layer_config(self, rate=self.rate, seed=self.seed, noise_shape=self.noise_shape)


class ActivityRegularization(Identity):
    """Returns its input and adds the L1/L2 activity penalty of it to the layer's losses."""

    def __init__(self, l1=0.0, l2=0.0, **kwargs):
        super().__init__(activity_regularizer=regularizers.L1L2(l1=l1, l2=l2), **kwargs)
        self.l1, self.l2 = l1, l2

    def get_config(self):
        config = layer_config(self, l1=self.l1, l2=self.l2)
        config.pop("activity_regularizer", None)
        return config


__all__ = ["ActivityRegularization", "AlphaDropout", "GaussianDropout", "GaussianNoise", "SpatialDropout1D",
           "SpatialDropout2D", "SpatialDropout3D"]
