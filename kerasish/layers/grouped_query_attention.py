"""GroupedQueryAttention (Ainslie et al. 2023): `num_query_heads` query heads share
`num_key_value_heads` key/value heads (each key/value head serves num_query_heads //
num_key_value_heads query heads). Keras 3 exports it (and writes its config's `class_name`) as
`GroupQueryAttention`; its class is `GroupedQueryAttention` (the default layer name
`grouped_query_attention` comes from that), and both names load here.

Sublayers and weights as Keras's: `query` (dim, query_heads, head_dim), `key` and `value` (dim,
kv_heads, head_dim), an optional sigmoid `gate`, `attention_output` (query_heads, head_dim, dim).
Masks and attention are `_dot_attention`'s, over the sequence axis only.
"""

from __future__ import annotations

import jax.numpy as jnp

from kerasish.layers._dot_attention import (DotProductAttentionBase, check_key_value_shapes, check_rate,
                                            projection_config)
from kerasish.layers.multi_head_attention import check_positive
from kerasish.serialization import layer_config
from kerasish.utils import naming


class GroupQueryAttention(DotProductAttentionBase):
    """Grouped-query attention over (batch, time, dim) inputs; the output has the query's shape.

    Args:
        head_dim: depth of each head. num_query_heads, num_key_value_heads: head counts (the first a
            multiple of the second). dropout, use_bias, sliding_window, flash_attention, use_gate,
            kernel_*/bias_*/activity_regularizer, seed: as for `MultiHeadAttention`.

    Call: as `MultiHeadAttention` (`query, value, key=None, query_mask=None, value_mask=None,
    key_mask=None, attention_mask=None, return_attention_scores=False, training=None,
    use_causal_mask=False`); scores have shape (B, num_query_heads, T, S).
    """

    _keras_python_name = "GroupedQueryAttention"  # Keras's class: it names the layer's weights group

    def __init__(self, head_dim: int, num_query_heads: int, num_key_value_heads: int, dropout: float = 0.0,
                 use_bias: bool = True, sliding_window=None, flash_attention=None,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 use_gate: bool = False, seed=None, **kwargs):
        if kwargs.get("name") is None:  # Keras names it after its class, GroupedQueryAttention
            kwargs["name"] = naming.unique_name("grouped_query_attention")
        super().__init__(**kwargs)
        self.supports_masking = True
        self.head_dim = check_positive(head_dim, "head_dim")
        self.num_query_heads = check_positive(num_query_heads, "num_query_heads")
        self.num_key_value_heads = check_positive(num_key_value_heads, "num_key_value_heads")
        if num_query_heads % num_key_value_heads != 0:
            raise ValueError("`num_query_heads` must be divisible by `num_key_value_heads`. Received: "
                             f"num_query_heads={num_query_heads}, num_key_value_heads={num_key_value_heads}")
        self.num_repeats = num_query_heads // num_key_value_heads
        self.dropout = self._rate = check_rate(dropout)
        self.use_bias, self.use_gate = bool(use_bias), bool(use_gate)
        self._set_projection_args(use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
                                  bias_regularizer, activity_regularizer, kernel_constraint, bias_constraint)
        if sliding_window is not None:
            check_positive(sliding_window, "sliding_window")
        self.sliding_window = self._window = sliding_window
        self._flash = flash_attention
        self.seed = self._seed = seed
        self._scale = 1.0 / float(head_dim) ** 0.5
        self._finish_init()

    def build(self, query_shape, value_shape=None, key_shape=None):
        if value_shape is None:  # called by Layer.__call__ with the query's shape: `call` builds
            return
        self._record_build_shapes(query_shape, value_shape, key_shape)
        key_shape = value_shape if key_shape is None else key_shape
        self.feature_dim = query_shape[-1]
        query_heads = (None, self.num_query_heads, self.head_dim)
        kv_heads = (None, self.num_key_value_heads, self.head_dim)
        self._query_dense = self._projection("bqm,muh->bquh", query_heads, "uh", "query")
        self._query_dense.build(query_shape)
        self._key_dense = self._projection("bkm,mvh->bkvh", kv_heads, "vh", "key")
        self._key_dense.build(key_shape)
        if self.use_gate:
            self._gate_dense = self._projection("bqm,muh->bquh", query_heads, "uh", "gate", activation="sigmoid")
            self._gate_dense.build(query_shape)
        self._value_dense = self._projection("bkm,mvh->bkvh", kv_heads, "vh", "value")
        self._value_dense.build(value_shape)
        self._build_attention(4, (1,))
        self._output_dense = self._projection("bquh,uhm->bqm", (None, self.feature_dim), "m", "attention_output")
        self._output_dense.build((None, None, self.num_query_heads, self.head_dim))
        self.built = True

    def _project_key_value(self, key, value):
        """Each key/value head serves `num_repeats` query heads."""
        key, value = super()._project_key_value(key, value)
        return jnp.repeat(key, self.num_repeats, axis=2), jnp.repeat(value, self.num_repeats, axis=2)

    def compute_output_shape(self, query_shape, value_shape=None, key_shape=None):
        if value_shape is not None:
            if query_shape[-1] != value_shape[-1]:
                raise ValueError("The last dimension of `query_shape` and `value_shape` must be equal, but are "
                                 f"{query_shape[-1]}, {value_shape[-1]}. Received: query_shape={query_shape}, "
                                 f"value_shape={value_shape}")
            check_key_value_shapes(value_shape, key_shape)
        return tuple(query_shape)

    def get_config(self):
        return layer_config(
            self, head_dim=self.head_dim, num_query_heads=self.num_query_heads,
            num_key_value_heads=self.num_key_value_heads, use_bias=self.use_bias, use_gate=self.use_gate,
            sliding_window=self.sliding_window, dropout=self.dropout, **projection_config(self), seed=self.seed)


GroupedQueryAttention = GroupQueryAttention

__all__ = ["GroupQueryAttention", "GroupedQueryAttention"]
