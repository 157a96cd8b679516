"""Embedding: integer ids -> rows of a trainable (input_dim, output_dim) table, Flax's nnx.Embed."""

from __future__ import annotations

from flax import nnx

from kerasish import initializers
from kerasish.layers.base import Layer, positive_int


class _Embed(nnx.Module):
    def __init__(self, embed: nnx.Embed):
        self.embed = embed

    def __call__(self, x):
        return self.embed(x.astype("int32"))


class Embedding(Layer):
    """Maps each integer in [0, input_dim) to a learned vector of size `output_dim`."""

    def __init__(self, input_dim: int, output_dim: int, embeddings_initializer="uniform",
                 embeddings_regularizer=None, mask_zero: bool = False, **kwargs):
        super().__init__(**kwargs)
        if mask_zero:
            raise ValueError("kerasish's Embedding does not support `mask_zero=True` (Sequential models "
                             "here carry no masks). Received: mask_zero=True")
        self.input_dim = positive_int(input_dim, "input_dim")
        self.output_dim = positive_int(output_dim, "output_dim")
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = self._set_regularizer(("embed", "embedding"), embeddings_regularizer)

    def compute_output_shape(self, input_shape):
        return (*input_shape, self.output_dim)

    def make_module(self, input_shape, rngs):
        return _Embed(nnx.Embed(self.input_dim, self.output_dim, embedding_init=self.embeddings_initializer,
                                dtype=self.compute_dtype, param_dtype=self.dtype, rngs=rngs))

    def weight_specs(self):
        return [(("embed", "embedding"), "embeddings", True)]

    def get_config(self):
        from kerasish import regularizers
        return {**super().get_config(), "input_dim": self.input_dim, "output_dim": self.output_dim,
                "embeddings_initializer": initializers.serialize(self.embeddings_initializer),
                "embeddings_regularizer": None if self.embeddings_regularizer is None
                else regularizers.serialize(self.embeddings_regularizer), "mask_zero": False}
