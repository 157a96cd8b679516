"""What MultiHeadAttention and GroupedQueryAttention share: masks, and attention over projected heads.

Masks combine as in Keras 3: the query's timestep mask (B, T) -> (B, T, 1), the value's and the
key's (B, S) -> (B, 1, S), the causal mask and the sliding window (1, T, S), and the explicit
`attention_mask` (B, T, S), all AND-ed; True means "may attend".

Attention then takes one of Keras's two paths, chosen the way Keras chooses:
* the fused path (jax.nn's `dot_product_attention` maths, `fused_attention`; its cuDNN kernel
  with `flash_attention=True`) when there is no dropout, no request for the scores, the projected
  tensors are 4-D (batch, time, heads, depth) and keys and values have the same depth. A query
  row with nothing to attend to gets the mean of all values there (jax.nn's large-negative fill);
* the explicit path otherwise: scaled scores by einsum, a masked `Softmax` sublayer over the
  attention axes (a row with nothing to attend to gets all-zero weights), a `Dropout` sublayer on
  the weights (training only, drawn from its seed generator), and the weighted sum by einsum.

Must not: create projections or weights (the layers do), or read masks from tensors.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from kerasish import regularizers
from kerasish.layers import masks as masks_lib
from kerasish.layers.activation_layers import Softmax
from kerasish.layers.base import Layer
from kerasish.layers.core import Dropout
from kerasish.layers.einsum_dense import EinsumDense, set_kernel_bias_args
from kerasish.ops.nn import dot_product_attention
from kerasish.serialization import serialize_keras_object, weight_args_config


def causal_mask(query_len: int, value_len: int):
    """(1, T, S) boolean: query step i may attend to key steps j <= i."""
    return jnp.tril(jnp.ones((query_len, value_len), bool))[None]


def sliding_window_mask(query_len: int, value_len: int, window: int):
    """(1, T, S) boolean: |i - j| < window."""
    distance = jnp.arange(query_len)[:, None] - jnp.arange(value_len)[None, :]
    return (jnp.abs(distance) < window)[None]


def fused_attention(query, key, value, mask, scale: float, is_causal: bool):
    """`jax.nn.dot_product_attention`'s maths (its XLA implementation, which Keras 3 calls) over
    (B, T, N, H) tensors: logits in float32, masked entries set to -0.7 * float32 max (so a row
    with nothing to attend to averages all values), softmax in float32, weights in the key's
    dtype. Written as two einsums with the key first and the query scaled before the product,
    which XLA's CPU backend runs about 20% faster than jax.nn's form (fwd + bwd, 64 x 128 x 4 x 32).
    """
    if query.dtype == jnp.float32:
        logits = jnp.einsum("bsnh,btnh->bnts", key, query * jnp.asarray(scale, query.dtype))
    else:
        logits = jnp.einsum("bsnh,btnh->bnts", key, query, preferred_element_type=jnp.float32) * scale
    if is_causal:
        causal = causal_mask(query.shape[1], key.shape[1])[None]
        mask = causal if mask is None else mask & causal
    if mask is not None:
        logits = jnp.where(mask, logits, jnp.asarray(-0.7 * jnp.finfo(jnp.float32).max, jnp.float32))
    weights = jax.nn.softmax(logits.astype(jnp.float32), axis=-1).astype(key.dtype)
    return jnp.einsum("bnts,bsnh->btnh", weights, value)


def check_key_value_shapes(value_shape, key_shape) -> None:
    if key_shape is not None and tuple(value_shape)[1:-1] != tuple(key_shape)[1:-1]:
        raise ValueError("All dimensions of `value` and `key`, except the last one, must be equal. "
                         f"Received: value_shape={tuple(value_shape)} and key_shape={tuple(key_shape)}")


def check_rate(value, name: str = "dropout") -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ValueError(f"Invalid value received for argument `{name}`. Expected a float value between "
                         f"0 and 1. Received: {name}={value!r}")
    return float(value)


def clone_initializer(initializer):
    """A fresh copy, so that each projection draws its own values from an unseeded initializer."""
    return type(initializer).from_config(initializer.get_config())


def projection_config(layer) -> dict:
    """The projections' initializers, regularizers (the activity one among them) and constraints,
    in the order Keras's attention layers write them."""
    config = weight_args_config(layer, "kernel", "bias")
    config["activity_regularizer"] = serialize_keras_object(layer.projection_activity_regularizer)
    order = ("kernel_initializer", "bias_initializer", "kernel_regularizer", "bias_regularizer",
             "activity_regularizer", "kernel_constraint", "bias_constraint")
    return {key: config[key] for key in order}


class _Shapes(dict):
    """Build shapes kept on a layer as one static value (not traversed by NNX)."""

    def __hash__(self):
        return id(self)


class DotProductAttentionBase(Layer):
    """Projections, mask combination and the two attention paths. Subclasses set, in `__init__`,
    `_rate`, `_window` (None or an int), `_flash` (None/True/False), `_scale` (1/sqrt(depth)) and
    `_seed` and call `_set_projection_args`; `build(query_shape, value_shape, key_shape)` creates
    `_query_dense`, `_key_dense`, `_gate_dense` (or None), `_value_dense`, `_output_dense` and
    calls `_build_attention(rank, attention_axes)`."""

    _rate: float = 0.0
    _window: int | None = None
    _flash = None
    _scale: float = 1.0
    _seed = None

    def _set_projection_args(self, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
                             bias_regularizer, activity_regularizer, kernel_constraint, bias_constraint) -> None:
        """What every projection gets; the activity regularizer applies to the projections (as in
        Keras), not to this layer's output."""
        self._use_bias = bool(use_bias)
        set_kernel_bias_args(self, kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
                             kernel_constraint, bias_constraint)
        self.projection_activity_regularizer = regularizers.get(activity_regularizer)
        self._query_dense = self._gate_dense = None

    def _projection(self, equation: str, output_shape, bias_axes: str, name: str, activation=None) -> EinsumDense:
        return EinsumDense(equation, output_shape=output_shape, bias_axes=bias_axes if self._use_bias else None,
                           activation=activation, name=name,
                           kernel_initializer=clone_initializer(self.kernel_initializer),
                           bias_initializer=clone_initializer(self.bias_initializer),
                           kernel_regularizer=self.kernel_regularizer, bias_regularizer=self.bias_regularizer,
                           activity_regularizer=self.projection_activity_regularizer,
                           kernel_constraint=self.kernel_constraint, bias_constraint=self.bias_constraint,
                           dtype=self.dtype_policy)

    def _record_build_shapes(self, query_shape, value_shape, key_shape) -> None:
        shapes = {"query_shape": query_shape, "value_shape": value_shape}
        if key_shape is not None:
            shapes["key_shape"] = key_shape
        # Any batch size builds the same weights (a first call inside shape inference sees a probe size).
        shapes = {k: (None, *tuple(v)[1:]) for k, v in shapes.items()}
        self._build_shapes = _Shapes(shapes)

    def get_build_config(self):
        """Keras's form: the shapes `build` took, by argument name (None before the first build)."""
        shapes = getattr(self, "_build_shapes", None)
        return None if shapes is None else {"shapes_dict": {k: list(v) for k, v in shapes.items()}}

    def build_from_config(self, config) -> None:
        if "shapes_dict" in config:
            self.build(**{k: tuple(v) for k, v in config["shapes_dict"].items()})
        elif "input_shape" in config:
            self.build(tuple(config["input_shape"]))

    def _project_key_value(self, key, value):
        return self._key_dense(key), self._value_dense(value)

    def call(self, query, value, key=None, query_mask=None, value_mask=None, key_mask=None, attention_mask=None,
             return_attention_scores=False, training=None, use_causal_mask=False):
        """Builds on first use, combines the masks, projects, attends, projects the output."""
        # The masks are used here: taken off the inputs (as Keras's MultiHeadAttention does), so the
        # projections, which do not support masking, do not warn about dropping them.
        for tensor in (query, value, key):
            if tensor is not None and masks_lib.get_keras_mask(tensor) is not None:
                masks_lib.set_keras_mask(tensor, None)
        value = self._cast(value)
        if self._query_dense is None:  # `Layer.__call__` built from the query's shape alone
            self.build(query.shape, value.shape, None if key is None else key.shape)
        key = value if key is None else self._cast(key)
        causal_only = self._only_causal(use_causal_mask, query_mask, value_mask, key_mask, attention_mask)
        mask = None if causal_only else self._compute_attention_mask(
            query, value, query_mask=query_mask, value_mask=value_mask, key_mask=key_mask,
            attention_mask=attention_mask, use_causal_mask=use_causal_mask)
        gate = self._gate_dense(query) if self._gate_dense is not None else None
        projected_query = self._query_dense(query)
        projected_key, projected_value = self._project_key_value(key, value)
        extra = {"use_causal_mask": True} if causal_only else {}
        output, scores = self._compute_attention(projected_query, projected_key, projected_value, mask, training,
                                                 return_attention_scores, **extra)
        output = self._output_dense(output if gate is None else output * gate)
        if query_mask is not None:
            masks_lib.set_keras_mask(output, query_mask)
        return (output, scores) if return_attention_scores else output

    def _finish_init(self) -> None:
        """Checks the flash-attention settings; creates the dropout sublayer here, not in `build`
        (which may run inside a trace): its seed state must be a concrete array."""
        if self._flash and self._rate > 0.0:
            raise ValueError("Dropout is not supported when flash attention is enabled. Please set dropout "
                             "to 0.0 to use flash attention.")
        self._dropout_layer = Dropout(rate=self._rate, dtype=self.dtype_policy, seed=self._seed)

    def _cast(self, x):
        """Float inputs besides the first (value, key, masks stay) in the compute dtype."""
        x = jnp.asarray(x)
        if self.autocast and jnp.issubdtype(x.dtype, jnp.floating) and x.dtype != self.compute_dtype:
            x = x.astype(self.compute_dtype)
        return x

    def _build_attention(self, rank: int, attention_axes) -> None:
        """Equations for projected tensors of `rank` (batch, ..., heads, depth) attending over
        `attention_axes`; the scores are laid out (batch and other axes, heads, query attention
        axes, key attention axes), as Keras lays them out."""
        letters = "abcdefghijklmnopqrstuvwxyz"
        target = letters[:rank]
        source = list(target)
        for n, axis in enumerate(attention_axes):
            source[axis] = letters[rank + n]
        source = "".join(source)
        kept = [i for i in range(rank - 1) if i not in attention_axes]
        scores = "".join(target[i] for i in kept) + "".join(target[a] for a in attention_axes) \
            + "".join(source[a] for a in attention_axes)
        self._dot_product_equation = f"{source},{target}->{scores}"
        self._combine_equation = f"{scores},{source}->{target}"
        self._attention_axes = tuple(attention_axes)
        self._softmax = Softmax(axis=tuple(range(len(scores) - len(attention_axes), len(scores))),
                                dtype=self.dtype_policy)

    def _compute_causal_mask(self, query, value=None):
        value = query if value is None else value
        return causal_mask(query.shape[1], value.shape[1])

    def _compute_attention_mask(self, query, value, query_mask=None, value_mask=None, key_mask=None,
                                attention_mask=None, use_causal_mask=False):
        """The AND of every mask that is given (None when none is), broadcastable to (B, T, S)."""
        parts = []
        if query_mask is not None:
            parts.append(jnp.asarray(query_mask).astype(bool)[..., :, None])
        for mask in (value_mask, key_mask):
            if mask is not None:
                parts.append(jnp.asarray(mask).astype(bool)[..., None, :])
        if use_causal_mask:
            parts.append(self._compute_causal_mask(query, value))
        if self._window is not None:
            parts.append(sliding_window_mask(query.shape[1], value.shape[1], self._window))
        if attention_mask is not None:
            parts.insert(0, jnp.asarray(attention_mask).astype(bool))
        if not parts:
            return None
        combined = parts[0]
        for part in parts[1:]:
            combined = combined & part
        return combined

    def _only_causal(self, use_causal_mask, *masks) -> bool:
        """Keras routes a causal mask with no other mask to the fused kernel's `is_causal`."""
        return bool(use_causal_mask) and all(m is None for m in masks) and self._window is None \
            and type(self)._compute_attention is DotProductAttentionBase._compute_attention

    def _expand_mask(self, mask, rank: int):
        """Inserts axes in front of the query attention axes (heads and the other batch axes)."""
        axis = -2 * len(self._attention_axes) - 1
        while mask.ndim < rank:
            mask = jnp.expand_dims(mask, axis)
        return mask

    def _masked_softmax(self, scores, attention_mask=None):
        if attention_mask is not None:
            attention_mask = self._expand_mask(attention_mask, scores.ndim)
        return self._softmax(scores, mask=attention_mask)

    def _compute_attention(self, query, key, value, attention_mask=None, training=None,
                           return_attention_scores=False, use_causal_mask=False):
        """Attention over projected `query` (B, T, N, H), `key` (B, S, N, H), `value` (B, S, N, Hv)
        (or higher rank with more attention axes): (output like query with Hv, scores or None)."""
        if self._flash and return_attention_scores:
            raise ValueError("Returning attention scores is not supported when flash attention is enabled. "
                             "Please disable flash attention to access attention scores.")
        # jax.nn's kernel needs one depth for keys and values (Keras 3.15 fails there when they differ).
        if not (self._rate > 0.0 or return_attention_scores or query.ndim != 4 or key.shape[-1] != value.shape[-1]):
            mask = None if attention_mask is None else self._expand_mask(attention_mask, 4)
            is_causal = bool(use_causal_mask and attention_mask is None)
            if self._flash:
                return dot_product_attention(query, key, value, mask=mask, scale=self._scale, is_causal=is_causal,
                                             flash_attention=True), None
            return fused_attention(query, key, value, mask, self._scale, is_causal), None
        if use_causal_mask:
            causal = self._compute_causal_mask(query, value)
            attention_mask = causal if attention_mask is None else attention_mask.astype(bool) & causal
        query = query * jnp.asarray(self._scale, query.dtype)
        scores = jnp.einsum(self._dot_product_equation, key, query)
        scores = self._masked_softmax(scores, attention_mask)
        weights = self._dropout_layer(scores, training=training) if self._rate > 0.0 else scores
        return jnp.einsum(self._combine_equation, weights, value), scores

    def compute_mask(self, inputs, previous_mask=None):
        """The output's timestep mask is the query's."""
        return previous_mask
