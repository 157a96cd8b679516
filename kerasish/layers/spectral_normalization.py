"""SpectralNormalization: a wrapper that divides a layer's kernel by its spectral norm.

The wrapped layer (a Dense, a convolution, an Embedding: anything with `kernel` or `embeddings`) keeps
its own weights; the wrapper adds Keras's non-trainable `vector_u` of shape `(1, kernel.shape[-1])`.
In training, each call runs `power_iterations` steps of power iteration on the kernel reshaped to
`(-1, out)`, stores the new `vector_u`, writes `kernel / sigma` into the wrapped layer's kernel and
computes the output with it (an all-zero kernel is left as it is). Inside a compiled `fit` step the
gradient flows through that division and the optimizer then updates the kernel it started from,
as Keras 3's JAX trainer does; an eager call with `training=True` leaves the normalized kernel in
place, as Keras does.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from kerasish import initializers
from kerasish.layers.rnn_wrappers import Wrapper
from kerasish.ops import nn as nn_ops
from kerasish.serialization import layer_config


class SpectralNormalization(Wrapper):
    """Spectral normalization of the wrapped layer's kernel (Miyato et al., 2018).

    Args:
        layer: the layer to wrap; it must have a `kernel` or `embeddings` weight.
        power_iterations: power-iteration steps per training call (> 0).

    Example:
        >>> keras.layers.SpectralNormalization(keras.layers.Conv2D(8, 3))
    """

    def __init__(self, layer, power_iterations: int = 1, **kwargs):
        super().__init__(layer, **kwargs)
        if power_iterations <= 0:
            raise ValueError("`power_iterations` should be greater than zero. Received: "
                             f"`power_iterations={power_iterations}`")
        self.power_iterations = power_iterations

    def build(self, input_shape):
        super().build(input_shape)
        if self.layer._build_shape is None:  # built here rather than by a call: record it for build_config
            self.layer._build_shape = tuple(input_shape)
        kernel = self._kernel()
        # The wrapper holds the kernel too (Keras's `self.kernel`), so it comes first in `weights`, as in Keras.
        self.kernel = kernel
        self.vector_u = self.add_weight(shape=(1, kernel.shape[-1]), initializer=initializers.TruncatedNormal(stddev=0.02),
                                        trainable=False, name="vector_u", dtype=kernel.dtype)

    def _kernel(self):
        if "kernel" in vars(self):
            return self.kernel
        for name in ("kernel", "embeddings"):
            if hasattr(self.layer, name):
                return getattr(self.layer, name)
        raise ValueError(f"{type(self.layer).__name__} object has no attribute 'kernel' nor 'embeddings'")

    def normalized_weights(self):
        """The next `vector_u` and `kernel / sigma` (stop-gradient through the power iteration)."""
        kernel = self._kernel().value
        weights = kernel.reshape(-1, kernel.shape[-1])
        vector_u = self.vector_u.value
        for _ in range(self.power_iterations):
            vector_v = nn_ops.normalize(vector_u @ weights.T, axis=None)
            vector_u = nn_ops.normalize(vector_v @ weights, axis=None)
        vector_u, vector_v = jax.lax.stop_gradient(vector_u), jax.lax.stop_gradient(vector_v)
        sigma = vector_v @ weights @ vector_u.T
        return vector_u.astype(self.vector_u.dtype), (kernel / sigma).reshape(kernel.shape).astype(kernel.dtype)

    def call(self, inputs, training=False):
        if training:
            kernel = self._kernel()
            new_u, new_kernel = self.normalized_weights()
            all_zero = jnp.all(kernel.value == 0)
            self.vector_u.assign(jnp.where(all_zero, self.vector_u.value, new_u))
            kernel.assign(jnp.where(all_zero, kernel.value, new_kernel))
        return jnp.asarray(self.layer(inputs)).astype(jnp.asarray(inputs).dtype)

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)

    def get_config(self):
        from kerasish.saving.model_config import serialize_layer
        config = layer_config(self)  # not Wrapper.get_config: layer_config's first parameter is also named `layer`
        config.update(layer=serialize_layer(self.layer), power_iterations=self.power_iterations)
        return config


__all__ = ["SpectralNormalization"]
