"""The attention family (issue 13): Attention and AdditiveAttention here; EinsumDense,
MultiHeadAttention and GroupedQueryAttention in their own modules, re-exported in `__all__` (this
is the family's registered module).

`Attention` (Luong-style dot product, or `score_mode="concat"`) and `AdditiveAttention`
(Bahdanau-style) take `inputs=[query, value]` or `[query, value, key]` (key defaults to value)
and `mask=[query_mask, value_mask]`. Scores (B, Tq, Tv) of masked-out value steps (and future
steps with `use_causal_mask`) are lowered by 1e9 (65504 in float16) before the softmax, as in
Keras; dropout on the weights in training only, from the layer's seed generator; output steps of a
masked-out query are 0. The output's mask is the query's.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from kerasish import random
from kerasish.layers._dot_attention import causal_mask, check_rate
from kerasish.layers.base import Layer
from kerasish.layers.einsum_dense import EinsumDense
from kerasish.layers.grouped_query_attention import GroupedQueryAttention, GroupQueryAttention  # noqa: F401
from kerasish.layers.multi_head_attention import MultiHeadAttention
from kerasish.serialization import layer_config


def _check_inputs(layer: Layer, inputs, mask=None) -> None:
    name = type(layer).__name__
    if not isinstance(inputs, list):
        raise ValueError(f"{name} layer must be called on a list of inputs, namely [query, value] or "
                         f"[query, value, key]. Received: inputs={inputs}.")
    if not 2 <= len(inputs) <= 3:
        raise ValueError(f"{name} layer accepts inputs list of length 2 or 3, namely [query, value] or "
                         f"[query, value, key]. Received length: {len(inputs)}.")
    if mask is not None:
        if not isinstance(mask, list):
            raise ValueError(f"{name} layer mask must be a list, namely [query_mask, value_mask]. "
                             f"Received: mask={mask}.")
        if not 2 <= len(mask) <= 3:
            raise ValueError(f"{name} layer accepts mask list of length 2 or 3. Received: inputs={inputs}, "
                             f"mask={mask}.")


class Attention(Layer):
    """Dot-product attention: `softmax(query @ key^T) @ value` over (B, T, dim) tensors.

    Args:
        use_scale: a trainable scalar multiplies the scores (initialized to 1).
        score_mode: "dot" (query . key) or "concat" (sum of tanh(query + key), times a trainable
            scalar).
        dropout: rate of dropout on the attention weights (training only). seed: its seed.

    Call: `layer([query, value(, key)], mask=[query_mask, value_mask], training=False,
    return_attention_scores=False, use_causal_mask=False)`.
    """

    def __init__(self, use_scale: bool = False, score_mode: str = "dot", dropout: float = 0.0, seed=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.use_scale = bool(use_scale)
        self.score_mode = score_mode
        self.dropout = check_rate(dropout)
        self.seed = seed
        self.seed_generator = random.SeedGenerator(seed) if self.dropout > 0 else None
        if score_mode not in ("dot", "concat"):
            raise ValueError("Invalid value for argument score_mode. Expected one of {'dot', 'concat'}. "
                             f"Received: score_mode={score_mode}")
        self.supports_masking = True

    def build(self, input_shape):
        _check_inputs(self, input_shape)
        self.scale = self.add_weight(name="scale", shape=(), initializer="ones") if self.use_scale else None
        self.concat_score_weight = self.add_weight(name="concat_score_weight", shape=(), initializer="ones") \
            if self.score_mode == "concat" else None
        self.built = True

    def _calculate_scores(self, query, key):
        """(B, Tq, Tv) scores."""
        if self.score_mode == "dot":
            scores = jnp.matmul(query, jnp.swapaxes(key, -2, -1))
            return scores * self.scale.value if self.scale is not None else scores
        pairs = query[..., :, None, :] + key[..., None, :, :]
        if self.scale is not None:
            pairs = self.scale.value * pairs
        return self.concat_score_weight.value * jnp.sum(jnp.tanh(pairs), axis=-1)

    def call(self, inputs, mask=None, training=False, return_attention_scores=False, use_causal_mask=False):
        _check_inputs(self, inputs, mask)
        query, value = inputs[0], jnp.asarray(inputs[1])
        key = jnp.asarray(inputs[2]) if len(inputs) > 2 else value
        query_mask = mask[0] if mask else None
        value_mask = mask[1] if mask else None
        scores = self._calculate_scores(query, key)
        keep = None if value_mask is None else jnp.asarray(value_mask).astype(bool)[..., None, :]
        if use_causal_mask:
            causal = causal_mask(scores.shape[-2], scores.shape[-1])
            keep = causal if keep is None else keep & causal
        if keep is not None:
            lowest = 65504.0 if scores.dtype == jnp.float16 else 1.0e9
            scores = jnp.where(keep, scores, scores - lowest)
        weights = jax.nn.softmax(scores, axis=-1)
        dropped = weights
        if training and self.dropout > 0:
            dropped = random.dropout(weights, self.dropout, seed=self.seed_generator)
        output = jnp.matmul(dropped, value)
        if query_mask is not None:
            output = jnp.where(jnp.asarray(query_mask).astype(bool)[..., None], output, 0)
        return (output, weights) if return_attention_scores else output

    def compute_mask(self, inputs, previous_mask=None):
        if previous_mask is None or not isinstance(previous_mask, (list, tuple)) or previous_mask[0] is None:
            return None
        return jnp.asarray(previous_mask[0])

    def compute_output_shape(self, input_shape):
        query_shape, value_shape = tuple(input_shape[0]), tuple(input_shape[1])
        return (*query_shape[:-1], value_shape[-1])

    def get_config(self):
        return layer_config(self, use_scale=self.use_scale, score_mode=self.score_mode, dropout=self.dropout,
                            seed=self.seed)


class AdditiveAttention(Attention):
    """Additive (Bahdanau-style) attention: scores `sum(scale * tanh(query + key))` over the
    features, with a trainable `scale` of shape (dim,) when `use_scale` (the default)."""

    def __init__(self, use_scale: bool = True, dropout: float = 0.0, **kwargs):
        super().__init__(use_scale=use_scale, dropout=dropout, **kwargs)

    def build(self, input_shape):
        _check_inputs(self, input_shape)
        self.scale = self.add_weight(name="scale", shape=(input_shape[0][-1],), initializer="glorot_uniform") \
            if self.use_scale else None
        self.concat_score_weight = None
        self.built = True

    def _calculate_scores(self, query, key):
        tanh = jnp.tanh(query[..., :, None, :] + key[..., None, :, :])
        return jnp.sum(self.scale.value * tanh if self.scale is not None else tanh, axis=-1)

    def get_config(self):
        config = super().get_config()
        del config["score_mode"]
        return config


__all__ = ["AdditiveAttention", "Attention", "EinsumDense", "GroupQueryAttention", "GroupedQueryAttention",
           "MultiHeadAttention"]
