"""Rescaling: `x * scale + offset` (e.g. `Rescaling(1/255)` for 0..255 images), in the compute dtype."""

from __future__ import annotations

import jax.numpy as jnp
from flax import nnx

from kerasish.layers.base import Layer


class _Rescale(nnx.Module):
    def __init__(self, scale: float, offset: float, dtype: str):
        self.scale, self.offset, self.dtype = scale, offset, dtype

    def __call__(self, x):
        return x.astype(self.dtype) * jnp.asarray(self.scale, self.dtype) + jnp.asarray(self.offset, self.dtype)


class Rescaling(Layer):
    """Multiplies inputs by `scale` and adds `offset`."""

    def __init__(self, scale: float, offset: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        for arg, value in (("scale", scale), ("offset", offset)):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"`{arg}` must be a number. Received: {arg}={value!r}")
        self.scale, self.offset = float(scale), float(offset)

    def make_module(self, input_shape, rngs):
        return _Rescale(self.scale, self.offset, self.compute_dtype)

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "offset": self.offset}
