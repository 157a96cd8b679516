"""Masking: marks the timesteps whose features all equal `mask_value` as padding.

The output is the input with the masked steps set to zero, carrying the (batch, steps) mask that
layers downstream (LSTM, GlobalAveragePooling1D, the losses) read; see `kerasish.layers.masks`.
"""

from __future__ import annotations

import jax.numpy as jnp

from kerasish.layers.base import Layer
from kerasish.layers.masks import set_keras_mask
from kerasish.serialization import layer_config

__all__ = ["Masking"]


class Masking(Layer):
    """Skips the timesteps (axis 1) at which every feature equals `mask_value`.

    Example:
        >>> x = np.ones((2, 4, 3), "float32"); x[:, 2] = 0.0
        >>> y = keras.layers.Masking(mask_value=0.0)(x)
        >>> y._keras_mask   # [[True, True, False, True], ...]
    """

    def __init__(self, mask_value: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        if isinstance(mask_value, bool) or not isinstance(mask_value, (int, float)):
            raise ValueError(f"`mask_value` must be a number. Received: mask_value={mask_value!r}")
        self.mask_value = mask_value
        self.supports_masking = True

    def compute_mask(self, inputs, mask=None):
        return jnp.any(jnp.not_equal(inputs, self.mask_value), axis=-1)

    def call(self, inputs):
        keep = jnp.any(jnp.not_equal(inputs, self.mask_value), axis=-1, keepdims=True)
        outputs = jnp.where(keep, inputs, jnp.zeros((), jnp.asarray(inputs).dtype))
        set_keras_mask(outputs, jnp.squeeze(keep, axis=-1))
        return outputs

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return layer_config(self, mask_value=self.mask_value)
