"""keras.ops nn group: Keras 3's names over `jax.nn`, `jax.lax` and optax, with Keras's defaults.

This module holds the activations, the softmax family, one-hot encodings and the cross-entropies;
convolutions and pools live in `_nn_conv.py`, normalizations and attention in `_nn_norm.py`, CTC in
`_nn_ctc.py`. Every op converts its inputs with `jnp.asarray` (NumPy arrays, Python scalars, JAX
arrays and `nnx.Variable`s alike), returns a JAX array, and traces under `jax.jit`. Nothing here
re-derives maths that JAX already has: an activation JAX ships is called, not rewritten.
"""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp
from jax.experimental import sparse as jax_sparse

from kerasish.backend import epsilon as _epsilon
from kerasish.ops._nn_conv import (
    adaptive_average_pool,
    adaptive_max_pool,
    average_pool,
    conv,
    conv_transpose,
    depth_to_space,
    depthwise_conv,
    fold,
    max_pool,
    separable_conv,
    space_to_depth,
    unfold,
)
from kerasish.ops._nn_ctc import ctc_decode, ctc_loss
from kerasish.ops._nn_norm import (
    batch_normalization,
    dot_product_attention,
    layer_normalization,
    moments,
    normalize,
    polar,
    psnr,
    rms_normalization,
)
from kerasish.ops._numpy_base import unary
from kerasish.ops.dtypes import standardize_dtype

__all__ = [
    "adaptive_average_pool", "adaptive_max_pool", "average_pool", "batch_normalization",
    "binary_crossentropy", "categorical_crossentropy", "celu", "conv", "conv_transpose",
    "ctc_decode", "ctc_loss", "depth_to_space", "depthwise_conv", "dot_product_attention", "elu",
    "fold", "gelu", "glu", "hard_shrink", "hard_sigmoid", "hard_silu", "hard_swish", "hard_tanh",
    "layer_normalization", "leaky_relu", "log_sigmoid", "log_softmax", "max_pool", "moments",
    "multi_hot", "normalize", "one_hot", "polar", "psnr", "relu", "relu6", "rms_normalization",
    "selu", "separable_conv", "sigmoid", "silu", "soft_shrink", "softmax", "softplus", "softsign",
    "space_to_depth", "sparse_categorical_crossentropy", "sparse_plus", "sparse_sigmoid",
    "sparsemax", "squareplus", "swish", "tanh_shrink", "threshold", "unfold",
]


# Activations: each is the jax.nn function of the same meaning, or a one-line formula JAX lacks.

relu = unary("relu", jax.nn.relu, "`max(x, 0)`; keeps integer dtypes.")
relu6 = unary("relu6", jax.nn.relu6, "`min(max(x, 0), 6)`.")
sigmoid = unary("sigmoid", jax.nn.sigmoid, "`1 / (1 + exp(-x))`.")
sparse_sigmoid = unary("sparse_sigmoid", jax.nn.sparse_sigmoid, "`clip((x + 1) / 2, 0, 1)`.")
softplus = unary("softplus", jax.nn.softplus, "`log(1 + exp(x))`.")
softsign = unary("softsign", jax.nn.soft_sign, "`x / (1 + |x|)`.")
sparse_plus = unary("sparse_plus", jax.nn.sparse_plus, "0, `(x + 1)**2 / 4`, or x (at -1, 1).")
silu = unary("silu", jax.nn.silu, "`x * sigmoid(x)`; `swish` is the same function.")
swish = silu
log_sigmoid = unary("log_sigmoid", jax.nn.log_sigmoid, "`log(sigmoid(x))`, computed stably.")
hard_sigmoid = unary("hard_sigmoid", jax.nn.hard_sigmoid, "`relu6(x + 3) / 6`.")
hard_silu = unary("hard_silu", jax.nn.hard_silu, "`x * hard_sigmoid(x)`; `hard_swish` is the same function.")
hard_swish = hard_silu
selu = unary("selu", jax.nn.selu, "Scaled ELU with the self-normalising constants.")
hard_tanh = unary("hard_tanh", jax.nn.hard_tanh, "`clip(x, -1, 1)`; keeps integer dtypes.")


def squareplus(x, b=4) -> jax.Array:
    """`(x + sqrt(x**2 + b)) / 2`."""
    return jax.nn.squareplus(jnp.asarray(x), b=b)


def leaky_relu(x, negative_slope=0.2) -> jax.Array:
    """`x` for positive x, `negative_slope * x` otherwise."""
    return jax.nn.leaky_relu(jnp.asarray(x), negative_slope=negative_slope)


def elu(x, alpha=1.0) -> jax.Array:
    """`x` for positive x, `alpha * (exp(x) - 1)` otherwise."""
    return jax.nn.elu(jnp.asarray(x), alpha=alpha)


def gelu(x, approximate: bool = True) -> jax.Array:
    """Gaussian error linear unit (the tanh approximation unless `approximate=False`)."""
    return jax.nn.gelu(jnp.asarray(x), approximate)


def celu(x, alpha=1.0) -> jax.Array:
    """`max(x, 0) + alpha * min(exp(x / alpha) - 1, 0)`."""
    return jax.nn.celu(jnp.asarray(x), alpha=alpha)


def glu(x, axis: int = -1) -> jax.Array:
    """Gated linear unit: the first half of `axis` times the sigmoid of the second half."""
    return jax.nn.glu(jnp.asarray(x), axis=axis)


def tanh_shrink(x) -> jax.Array:
    """`x - tanh(x)`."""
    x = jnp.asarray(x)
    return x - jnp.tanh(x)


def soft_shrink(x, threshold=0.5) -> jax.Array:
    """`x - threshold` above `threshold`, `x + threshold` below `-threshold`, else 0."""
    x = jnp.asarray(x)
    return jnp.where(x > threshold, x - threshold, jnp.where(x < -threshold, x + threshold, 0.0))


def hard_shrink(x, threshold=0.5) -> jax.Array:
    """`x` where `|x| > threshold`, else 0."""
    x = jnp.asarray(x)
    return jnp.where(jnp.abs(x) > threshold, x, 0.0)


def threshold(x, threshold, default_value) -> jax.Array:
    """`x` where `x > threshold`, else `default_value`."""
    x = jnp.asarray(x)
    return jnp.where(x > threshold, x, default_value)


# The softmax family.

def _warn_unit_axis(x: jax.Array, axis) -> None:
    if isinstance(axis, int) and -x.ndim <= axis < x.ndim and x.shape[axis] == 1:
        warnings.warn(f"You are using a softmax over axis {axis} of a tensor of shape {x.shape}. "
                      "This axis has size 1, so the softmax always returns 1; a sigmoid may be "
                      "what you meant.", stacklevel=3)


def softmax(x, axis: int | tuple[int, ...] = -1) -> jax.Array:
    """Softmax over `axis` (an int or a tuple of axes, normalised jointly)."""
    x = jnp.asarray(x)
    _warn_unit_axis(x, axis)
    return jax.nn.softmax(x, axis=axis)


def log_softmax(x, axis: int | tuple[int, ...] = -1) -> jax.Array:
    """Log of `softmax(x, axis)`, computed stably."""
    return jax.nn.log_softmax(jnp.asarray(x), axis=axis)


def sparsemax(x, axis: int = -1) -> jax.Array:
    """Euclidean projection of `x` onto the probability simplex along `axis` (sparse softmax)."""
    x = jnp.asarray(x)
    ranked = -jnp.sort(-x, axis=axis)
    shape = [1] * x.ndim
    shape[axis] = -1
    k = jnp.arange(1, x.shape[axis] + 1).reshape(shape)
    cumulative = jnp.cumsum(ranked, axis=axis)
    support = ranked - (cumulative - 1) / k > 0
    size = jnp.sum(support, axis=axis, keepdims=True)
    tau = (jnp.sum(jnp.where(support, cumulative, 0.0), axis=axis, keepdims=True) - 1) / size
    return jnp.maximum(x - tau, 0.0)


# One-hot encodings.

def _sparse(dense: jax.Array, nse: int) -> jax_sparse.BCOO:
    return jax_sparse.BCOO.fromdense(dense, nse=nse)


def one_hot(x, num_classes: int, axis: int = -1, dtype=None, sparse: bool = False):
    """One-hot encoding of integer `x` along a new `axis` (dtype default: floatx).

    Negative or out-of-range entries give all-zero rows. With `sparse=True` the result is a
    `jax.experimental.sparse.BCOO` with one stored entry per input element.
    """
    x = jnp.asarray(x)
    dense = jax.nn.one_hot(x, num_classes, axis=axis, dtype=standardize_dtype(dtype))
    return _sparse(dense, max(x.size, 1)) if sparse else dense


def multi_hot(inputs, num_classes: int | None = None, axis: int = -1, dtype=None,
              sparse: bool = False, **kwargs):
    """Multi-hot encoding: 1 at every class present in each row of integer `inputs`.

    A rank-1 input is one sample; a rank-2 input is a batch. `num_tokens` is accepted as the
    legacy spelling of `num_classes`.
    """
    if num_classes is None and "num_tokens" in kwargs:
        num_classes = kwargs.pop("num_tokens")
    if kwargs:
        raise TypeError(f"multi_hot got unexpected keyword arguments: {sorted(kwargs)}")
    if num_classes is None:
        raise ValueError("Argument `num_classes` must be specified.")
    x = jnp.asarray(inputs).astype("int32")
    encoded = jax.nn.one_hot(x, num_classes, axis=axis, dtype=standardize_dtype(dtype))
    dense = jnp.max(encoded, axis=1 if x.ndim > 1 else 0)
    return _sparse(dense, max(x.size, 1)) if sparse else dense


# Cross-entropies (per-sample losses, no reduction).

def _log_probs(output: jax.Array, from_logits: bool, axis: int) -> jax.Array:
    if from_logits:
        return jax.nn.log_softmax(output, axis=axis)
    output = output / jnp.sum(output, axis, keepdims=True)
    return jnp.log(jnp.clip(output, _epsilon(), 1.0 - _epsilon()))


def _same_shape(target: jax.Array, output: jax.Array) -> None:
    if target.shape != output.shape:
        raise ValueError("Arguments `target` and `output` must have the same shape. Received: "
                         f"target.shape={target.shape}, output.shape={output.shape}")


def binary_crossentropy(target, output, from_logits: bool = False) -> jax.Array:
    """Elementwise binary cross-entropy; probabilities are clipped to `[eps, 1 - eps]`."""
    target, output = jnp.asarray(target), jnp.asarray(output)
    _same_shape(target, output)
    if from_logits:
        return -target * jax.nn.log_sigmoid(output) - (1.0 - target) * jax.nn.log_sigmoid(-output)
    output = jnp.clip(output, _epsilon(), 1.0 - _epsilon())
    return -(target * jnp.log(output) + (1.0 - target) * jnp.log(1.0 - output))


def categorical_crossentropy(target, output, from_logits: bool = False, axis: int = -1) -> jax.Array:
    """Cross-entropy between one-hot (or soft) `target` and `output` along `axis`.

    Without `from_logits`, `output` is renormalised to sum to 1 and clipped to `[eps, 1 - eps]`.
    """
    target, output = jnp.asarray(target), jnp.asarray(output)
    _same_shape(target, output)
    if target.ndim < 1:
        raise ValueError("Arguments `target` and `output` must be at least rank 1. Received: "
                         f"target.shape={target.shape}, output.shape={output.shape}")
    return -jnp.sum(target * _log_probs(output, from_logits, axis), axis=axis)


def sparse_categorical_crossentropy(target, output, from_logits: bool = False,
                                    axis: int = -1) -> jax.Array:
    """Cross-entropy between integer class `target` and `output` (a trailing 1 in target is dropped)."""
    target, output = jnp.asarray(target, "int32"), jnp.asarray(output)
    if target.ndim == output.ndim and target.shape[-1] == 1:
        target = jnp.squeeze(target, axis=-1)
    if output.ndim < 1:
        raise ValueError(f"Argument `output` must be at least rank 1. Received: "
                         f"output.shape={output.shape}")
    if target.shape != output.shape[:-1]:
        raise ValueError("Arguments `target` and `output` must have the same shape up until the "
                         f"last dimension: target.shape={target.shape}, output.shape={output.shape}")
    log_probs = _log_probs(output, from_logits, axis)
    return -jnp.sum(jax.nn.one_hot(target, output.shape[axis], axis=axis) * log_probs, axis=axis)
