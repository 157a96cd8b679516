"""MultiHeadAttention (Vaswani et al. 2017) with Keras 3's sublayers and weight layout.

Four `EinsumDense` projections, created in Keras's order and with Keras's names: `query`, `key`,
`value` (kernels (dim, heads, key_dim / value_dim), biases (heads, depth)) and `attention_output`
(kernel (heads, value_dim, out), bias (out,)); an optional sigmoid `gate` projection of the query
(`use_gate`). Attention itself, its masks and its dropout are `_dot_attention`'s.

The layer builds from all its inputs' shapes: `build(query_shape, value_shape, key_shape=None)`.
kerasish's `Layer.__call__` (and shape inference) hands `build` the first input's shape only, so
the projections are then created by the first `call`, which sees every input.

Masks: `query_mask`, `value_mask`, `key_mask` are the inputs' timestep masks ((B, T), (B, S));
`Layer.__call__` fills them from the inputs' `_keras_mask` when they are not given, as Keras's
does. An explicit `query_mask=` is used too (Keras 3.15 reads only the query's `_keras_mask`
and drops the argument). The output's mask is the query's (`compute_mask`); the inputs' masks
are taken off them once read, as Keras does. The projections are also reachable under Keras's
public names `query_dense`, `key_dense`, `value_dense`, `output_dense` (a weights file groups them
so); `get_build_config()` gives Keras's `{"shapes_dict": ...}`.
"""

from __future__ import annotations

from kerasish.layers._dot_attention import (DotProductAttentionBase, check_key_value_shapes, check_rate,
                                            projection_config)
from kerasish.serialization import layer_config

_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def check_positive(value, name: str, optional: bool = False):
    if optional and value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        expected = "a positive integer or `None`" if optional else "a positive integer"
        raise ValueError(f"Received an invalid value for argument `{name}`, expected {expected}. "
                         f"Received: {name}={value!r}")
    return value


def projection_equation(free: int, bound: int, out: int) -> tuple[str, str]:
    """Einsum for a projection: `free` passed-through axes, `bound` contracted, `out` new axes
    (which carry the bias). E.g. (2, 1, 2) -> ("abc,cde->abde", "de")."""
    f, b, o = _LETTERS[:free], _LETTERS[free:free + bound], _LETTERS[free + bound:free + bound + out]
    return f"{f}{b},{b}{o}->{f}{o}", o


class MultiHeadAttention(DotProductAttentionBase):
    """Multi-head attention: project query, key, value into `num_heads` heads, attend, project back.

    Args:
        num_heads: number of heads. key_dim: depth of each query/key head. value_dim: depth of each
            value head (key_dim by default).
        dropout: rate of dropout on the attention weights (training only).
        use_bias: biases in the projections. output_shape: the output's last axes (int or tuple;
            the query's last size by default). attention_axes: the axes attended over (all but
            batch, heads and features by default).
        sliding_window: each query step attends to key steps closer than this (None: all).
        flash_attention: True asks for the cuDNN kernel (GPU only; no dropout, no returned scores).
        use_gate: a sigmoid gate from the query multiplies the attention output.
        kernel_*/bias_*/activity_regularizer: for every projection. seed: the dropout's seed.

    Call: `layer(query, value, key=None, query_mask=None, value_mask=None, key_mask=None,
    attention_mask=None, return_attention_scores=False, training=None, use_causal_mask=False)`;
    returns the output (B, T, ...) and, on request, the scores (B, heads, T, S).

    Example:
        >>> mha = keras.layers.MultiHeadAttention(num_heads=4, key_dim=32)
        >>> mha(x, x, use_causal_mask=True).shape  # x: (batch, 128, 64)
        (batch, 128, 64)
    """

    def __init__(self, num_heads: int, key_dim: int, value_dim: int | None = None, dropout: float = 0.0,
                 use_bias: bool = True, output_shape=None, attention_axes=None, sliding_window=None,
                 flash_attention=None, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, use_gate: bool = False, seed=None, **kwargs):
        check_positive(num_heads, "num_heads")
        check_positive(key_dim, "key_dim")
        check_positive(value_dim, "value_dim", optional=True)
        super().__init__(**kwargs)
        self.supports_masking = True
        self._num_heads, self._key_dim = num_heads, key_dim
        self._value_dim = value_dim if value_dim else key_dim
        self._rate = check_rate(dropout)
        self._use_gate = bool(use_gate)
        if output_shape:
            if isinstance(output_shape, int):
                output_shape = (output_shape,)
            try:
                output_shape = tuple(output_shape)
            except TypeError:
                raise ValueError(f"Invalid `output_shape`: {output_shape}. When specified, the `output_shape` "
                                 "should be of type tuple, list, or int.") from None
        self._projected_shape = output_shape  # Keras's `_output_shape` (kerasish's Layer uses that name)
        if isinstance(attention_axes, int):
            attention_axes = (attention_axes,)
        elif attention_axes and not isinstance(attention_axes, (list, tuple)):
            raise ValueError(f"`attention_axes` must be an int, list, or tuple.Received: "
                             f"attention_axes={attention_axes}")
        self._attention_axes = attention_axes
        if sliding_window is not None:
            check_positive(sliding_window, "sliding_window")
        self._window = sliding_window
        self._flash = flash_attention
        self._set_projection_args(use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
                                  bias_regularizer, activity_regularizer, kernel_constraint, bias_constraint)
        self.seed = self._seed = seed
        self._scale = 1.0 / float(key_dim) ** 0.5
        self._finish_init()
        self.query_dense = self.key_dense = self.value_dense = self.output_dense = None

    num_heads = property(lambda self: self._num_heads)
    key_dim = property(lambda self: self._key_dim)
    value_dim = property(lambda self: self._value_dim)
    dropout = property(lambda self: self._rate)
    use_bias = property(lambda self: self._use_bias)
    attention_axes = property(lambda self: self._attention_axes)

    def _rank_projection(self, rank: int, bound: int, out_shape, name: str, activation=None):
        equation, bias_axes = projection_equation(rank - 1, bound, len(out_shape))
        return self._projection(equation, [None] * (rank - 2) + list(out_shape), bias_axes, name, activation)

    def build(self, query_shape, value_shape=None, key_shape=None):
        if value_shape is None:  # called by Layer.__call__ with the query's shape: `call` builds
            return
        self._record_build_shapes(query_shape, value_shape, key_shape)
        query_shape, value_shape = tuple(query_shape), tuple(value_shape)
        key_shape = value_shape if key_shape is None else tuple(key_shape)
        check_key_value_shapes(value_shape, key_shape)
        heads = (self._num_heads, self._key_dim)
        self._query_dense = self._rank_projection(len(query_shape), 1, heads, "query")
        self._query_dense.build(query_shape)
        self._key_dense = self._rank_projection(len(key_shape), 1, heads, "key")
        self._key_dense.build(key_shape)
        if self._use_gate:
            self._gate_dense = self._rank_projection(len(query_shape), 1, (self._num_heads, self._value_dim),
                                                     "gate", activation="sigmoid")
            self._gate_dense.build(query_shape)
        self._value_dense = self._rank_projection(len(value_shape), 1, (self._num_heads, self._value_dim), "value")
        self._value_dense.build(value_shape)
        rank = len(query_shape) + 1
        axes = tuple(range(1, rank - 2)) if self._attention_axes is None else \
            tuple(a if a >= 0 else rank - 1 + a for a in self._attention_axes)
        self._build_attention(rank, axes)
        out = self._projected_shape or (query_shape[-1],)
        self._output_dense = self._rank_projection(len(query_shape), 2, out, "attention_output")
        self._output_dense.build((*query_shape[:-1], self._num_heads, self._value_dim))
        # Keras's public names of the projections (properties there); a weights file groups them so.
        self.query_dense, self.key_dense = self._query_dense, self._key_dense
        self.value_dense, self.output_dense = self._value_dense, self._output_dense
        self.built = True

    def compute_output_shape(self, query_shape, value_shape=None, key_shape=None):
        query_shape = tuple(query_shape)
        if value_shape is not None:
            check_key_value_shapes(value_shape, key_shape)
        return query_shape[:-1] + tuple(self._projected_shape) if self._projected_shape else query_shape

    def get_config(self):
        return layer_config(
            self, num_heads=self._num_heads, key_dim=self._key_dim, value_dim=self._value_dim, dropout=self._rate,
            use_bias=self._use_bias, use_gate=self._use_gate, output_shape=self._projected_shape,
            attention_axes=self._attention_axes, sliding_window=self._window,
            **projection_config(self), seed=self.seed)


__all__ = ["MultiHeadAttention"]
