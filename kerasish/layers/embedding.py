"""Embedding: integer ids -> rows of a trainable (input_dim, output_dim) table."""

from __future__ import annotations

import jax.numpy as jnp

from kerasish import constraints, initializers, regularizers
from kerasish.layers.base import Layer, positive_int
from kerasish.serialization import layer_config, pop_keras_only, serialize_keras_object


class Embedding(Layer):
    """Maps each integer in [0, input_dim) to a learned vector of size `output_dim`; with
    `mask_zero=True` id 0 is padding and the output carries the mask `inputs != 0`."""

    def __init__(self, input_dim: int, output_dim: int, embeddings_initializer="uniform",
                 embeddings_regularizer=None, embeddings_constraint=None, mask_zero: bool = False,
                 weights=None, lora_rank=None, **kwargs):
        if lora_rank is not None:
            raise ValueError(f"LoRA (`lora_rank`) is not supported by kerasish. Received: lora_rank={lora_rank}")
        super().__init__(**kwargs)
        self.input_dim = positive_int(input_dim, "input_dim")
        self.output_dim = positive_int(output_dim, "output_dim")
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.embeddings_constraint = constraints.get(embeddings_constraint)
        self.mask_zero = bool(mask_zero)
        self._initial_weights = weights

    def build(self, input_shape=None):
        self.embeddings = self.add_weight(name="embeddings", shape=(self.input_dim, self.output_dim),
                                          initializer=self.embeddings_initializer,
                                          regularizer=self.embeddings_regularizer,
                                          constraint=self.embeddings_constraint)
        if self._initial_weights is not None:
            self.set_weights(self._initial_weights)
            self._initial_weights = None
        self.built = True

    def compute_output_shape(self, input_shape):
        return (*input_shape, self.output_dim)

    def call(self, inputs):
        ids = jnp.asarray(inputs)
        if not jnp.issubdtype(ids.dtype, jnp.integer):
            ids = ids.astype("int32")
        return jnp.take(self.embeddings.value, ids, axis=0)

    def compute_mask(self, inputs, mask=None):
        """With `mask_zero=True`, id 0 is padding: the mask is `inputs != 0`."""
        if not self.mask_zero:
            return None
        return jnp.not_equal(inputs, 0)

    def get_config(self):
        return layer_config(self, input_dim=self.input_dim, output_dim=self.output_dim,
                            embeddings_initializer=serialize_keras_object(self.embeddings_initializer),
                            embeddings_regularizer=serialize_keras_object(self.embeddings_regularizer),
                            activity_regularizer=serialize_keras_object(self.activity_regularizer),
                            embeddings_constraint=serialize_keras_object(self.embeddings_constraint),
                            mask_zero=self.mask_zero, quantization_config=None)

    @classmethod
    def from_config(cls, config):
        return cls(**pop_keras_only(config, cls.__name__, {"quantization_config": None, "lora_alpha": None}))
