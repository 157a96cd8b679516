"""Rescaling: `x * scale + offset` (e.g. `Rescaling(1/255)` for 0..255 images), in the compute dtype."""

from __future__ import annotations

import jax.numpy as jnp

from kerasish.layers.base import Layer
from kerasish.serialization import layer_config


class Rescaling(Layer):
    """Multiplies inputs by `scale` and adds `offset`."""

    def __init__(self, scale: float, offset: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        for arg, value in (("scale", scale), ("offset", offset)):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"`{arg}` must be a number. Received: {arg}={value!r}")
        self.scale, self.offset = float(scale), float(offset)

    def call(self, inputs):
        dtype = self.compute_dtype
        return jnp.asarray(inputs).astype(dtype) * jnp.asarray(self.scale, dtype) + jnp.asarray(self.offset, dtype)

    def get_config(self):
        return layer_config(self, scale=self.scale, offset=self.offset)
