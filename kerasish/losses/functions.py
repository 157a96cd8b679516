"""Keras 3 loss functions, per sample, as pure `jax.numpy` (and the reduction helpers the classes use).

Numerically identical to `keras.losses.<fn>` on the JAX backend, including the 1e-7 probability
clipping when `from_logits=False`; the cross-entropies are `kerasish.ops.nn`'s, with the losses'
label smoothing, `axis` and `ignore_class` on top (as Keras's losses call its ops). Stateless and
jit-safe.
"""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp

from kerasish.ops import nn as nn_ops
from kerasish.ops import divide_no_nan

EPSILON = 1e-7  # keras.backend.epsilon()
REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None)


# ---------------------------------------------------------------- reduction helpers


def standardize_reduction(reduction: str | None) -> str | None:
    """Returns `reduction` if Keras accepts it, else ValueError listing the accepted values."""
    if reduction not in REDUCTIONS:
        raise ValueError(
            f"Invalid value for argument `reduction`. Expected one of {REDUCTIONS}. Received: reduction={reduction}"
        )
    return reduction


def squeeze_or_expand_to_same_rank(x1: jax.Array, x2: jax.Array, expand_rank_1: bool = True):
    """Removes or adds a trailing axis of size 1 when the ranks differ by exactly one (as Keras)."""
    if x1.ndim == x2.ndim + 1 and x1.shape[-1] == 1:
        if x2.ndim == 1 and expand_rank_1:
            x2 = jnp.expand_dims(x2, -1)
        else:
            x1 = jnp.squeeze(x1, -1)
    if x2.ndim == x1.ndim + 1 and x2.shape[-1] == 1:
        if x1.ndim == 1 and expand_rank_1:
            x1 = jnp.expand_dims(x1, -1)
        else:
            x2 = jnp.squeeze(x2, -1)
    return x1, x2


def reduce_weighted_values(
    values: jax.Array,
    sample_weight: jax.Array | None = None,
    mask: jax.Array | None = None,
    reduction: str | None = "sum_over_batch_size",
) -> jax.Array:
    """Weights per-sample `values` by `sample_weight` and `mask` and reduces them like Keras.

    `"sum"`: sum of weighted values. `"sum_over_batch_size"` / `"mean"`: that sum divided by the
    number of values (a mask rescales so the mean is over unmasked values). `"mean_with_sample_weight"`:
    divided by the sum of the weights. `None` / `"none"`: the weighted values.
    """
    reduction = standardize_reduction(reduction)
    dtype = values.dtype
    if sample_weight is not None:
        sample_weight = jnp.asarray(sample_weight, dtype)
    if mask is not None:
        float_mask = mask.astype(dtype)
        if reduction in ("mean", "sum_over_batch_size"):
            float_mask = float_mask * divide_no_nan(jnp.asarray(mask.size, dtype), jnp.sum(float_mask))
        if sample_weight is not None:
            float_mask, sample_weight = squeeze_or_expand_to_same_rank(float_mask, sample_weight)
            sample_weight = sample_weight * float_mask
        else:
            sample_weight = float_mask
    if sample_weight is not None:
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        values = values * sample_weight
    if reduction in (None, "none") or values.shape in ((), (0,)):
        return values
    loss = jnp.sum(values)
    if reduction == "sum":
        return loss
    if reduction == "mean_with_sample_weight" and sample_weight is not None:
        return divide_no_nan(loss, jnp.sum(sample_weight))
    return divide_no_nan(loss, jnp.asarray(values.size, dtype))


# ---------------------------------------------------------------- loss functions (per sample)


def _convert(y_true, y_pred, squeeze: bool = True) -> tuple[jax.Array, jax.Array]:
    y_pred = jnp.asarray(y_pred)
    y_true = jnp.asarray(y_true, dtype=y_pred.dtype)
    return squeeze_or_expand_to_same_rank(y_true, y_pred) if squeeze else (y_true, y_pred)


def mean_squared_error(y_true, y_pred) -> jax.Array:
    """`mean((y_true - y_pred)**2, axis=-1)`."""
    y_true, y_pred = _convert(y_true, y_pred)
    return jnp.mean(jnp.square(y_true - y_pred), axis=-1)


def mean_absolute_error(y_true, y_pred) -> jax.Array:
    """`mean(abs(y_true - y_pred), axis=-1)`."""
    y_true, y_pred = _convert(y_true, y_pred)
    return jnp.mean(jnp.abs(y_true - y_pred), axis=-1)


def mean_absolute_percentage_error(y_true, y_pred) -> jax.Array:
    """`100 * mean(abs((y_true - y_pred) / max(abs(y_true), 1e-7)), axis=-1)`."""
    y_true, y_pred = _convert(y_true, y_pred)
    diff = jnp.abs((y_true - y_pred) / jnp.maximum(jnp.abs(y_true), EPSILON))
    return 100.0 * jnp.mean(diff, axis=-1)


def mean_squared_logarithmic_error(y_true, y_pred) -> jax.Array:
    """`mean((log(max(y_pred, 1e-7) + 1) - log(max(y_true, 1e-7) + 1))**2, axis=-1)`."""
    y_true, y_pred = _convert(y_true, y_pred)
    first_log = jnp.log(jnp.maximum(y_pred, EPSILON) + 1.0)
    second_log = jnp.log(jnp.maximum(y_true, EPSILON) + 1.0)
    return jnp.mean(jnp.square(first_log - second_log), axis=-1)


def cosine_similarity(y_true, y_pred, axis: int = -1) -> jax.Array:
    """`-sum(l2_normalize(y_true) * l2_normalize(y_pred), axis)`: -1 for identical directions."""
    y_true, y_pred = _convert(y_true, y_pred)

    def normalize(x):
        return x * jnp.minimum(jax.lax.rsqrt(jnp.sum(jnp.square(x), axis=axis, keepdims=True)), 1.0 / EPSILON)

    return -jnp.sum(normalize(y_true) * normalize(y_pred), axis=axis)


def huber(y_true, y_pred, delta: float = 1.0) -> jax.Array:
    """Mean over the last axis of `0.5 * e**2` where `|e| <= delta`, else `delta * |e| - 0.5 * delta**2`."""
    y_true, y_pred = _convert(y_true, y_pred)
    delta = jnp.asarray(delta, y_pred.dtype)
    error = y_pred - y_true
    abs_error = jnp.abs(error)
    half = jnp.asarray(0.5, abs_error.dtype)
    return jnp.mean(
        jnp.where(abs_error <= delta, half * jnp.square(error), delta * abs_error - half * jnp.square(delta)), axis=-1
    )


def log_cosh(y_true, y_pred) -> jax.Array:
    """`mean(log(cosh(y_pred - y_true)), axis=-1)`, computed without overflow."""
    y_true, y_pred = _convert(y_true, y_pred)
    x = y_pred - y_true
    return jnp.mean(x + jax.nn.softplus(x * -2.0) - jnp.log(jnp.asarray(2.0, x.dtype)), axis=-1)


def _binary_labels_to_hinge(y_true: jax.Array) -> jax.Array:
    """{0, 1} labels become {-1, 1}; labels that are not all 0/1 are left as they are."""
    is_binary = jnp.all((y_true == 0) | (y_true == 1))
    return jnp.where(is_binary, 2.0 * y_true - 1.0, y_true)


def hinge(y_true, y_pred) -> jax.Array:
    """`mean(max(1 - y_true * y_pred, 0), axis=-1)`; labels in {-1, 1} (0/1 labels are converted)."""
    y_true, y_pred = _convert(y_true, y_pred, squeeze=False)
    return jnp.mean(jnp.maximum(1.0 - _binary_labels_to_hinge(y_true) * y_pred, 0.0), axis=-1)


def squared_hinge(y_true, y_pred) -> jax.Array:
    """`mean(max(1 - y_true * y_pred, 0)**2, axis=-1)`; labels in {-1, 1} (0/1 labels are converted)."""
    y_true, y_pred = _convert(y_true, y_pred, squeeze=False)
    return jnp.mean(jnp.square(jnp.maximum(1.0 - _binary_labels_to_hinge(y_true) * y_pred, 0.0)), axis=-1)


def categorical_hinge(y_true, y_pred) -> jax.Array:
    """`max(max((1 - y_true) * y_pred) - sum(y_true * y_pred) + 1, 0)` over the last axis."""
    y_true, y_pred = _convert(y_true, y_pred, squeeze=False)
    pos = jnp.sum(y_true * y_pred, axis=-1)
    neg = jnp.max((1.0 - y_true) * y_pred, axis=-1)
    return jnp.maximum(neg - pos + 1.0, jnp.asarray(0.0, y_pred.dtype))


def kl_divergence(y_true, y_pred) -> jax.Array:
    """`sum(y_true * log(y_true / y_pred), axis=-1)`, both clipped to `[1e-7, 1]`."""
    y_true, y_pred = _convert(y_true, y_pred, squeeze=False)
    y_true = jnp.clip(y_true, EPSILON, 1)
    y_pred = jnp.clip(y_pred, EPSILON, 1)
    return jnp.sum(y_true * jnp.log(y_true / y_pred), axis=-1)


def poisson(y_true, y_pred) -> jax.Array:
    """`mean(y_pred - y_true * log(y_pred + 1e-7), axis=-1)`."""
    y_true, y_pred = _convert(y_true, y_pred, squeeze=False)
    return jnp.mean(y_pred - y_true * jnp.log(y_pred + EPSILON), axis=-1)


def categorical_inputs(y_true, y_pred, label_smoothing: float, axis: int, loss_name: str):
    """(y_true, y_pred) for a categorical loss: `axis` checked, y_true cast and label-smoothed towards
    uniform (`y * (1 - s) + s / num_classes`); warns (as Keras) when there is a single class."""
    if isinstance(axis, bool):
        raise ValueError(f"`axis` must be of type `int`. Received: axis={axis} of type {type(axis)}")
    y_pred = jnp.asarray(y_pred)
    y_true = jnp.asarray(y_true).astype(y_pred.dtype)
    if y_pred.shape[-1] == 1:
        warnings.warn(
            f"In loss {loss_name}, expected y_pred.shape to be (batch_size, num_classes) "
            f"with num_classes > 1. Received: y_pred.shape={y_pred.shape}. "
            "Consider using 'binary_crossentropy' if you only have 2 classes.",
            SyntaxWarning,
            stacklevel=3,
        )
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / y_true.shape[-1]
    return y_true, y_pred


def categorical_crossentropy(
    y_true, y_pred, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1
) -> jax.Array:
    """`-sum(y_true * log(y_pred), axis)` for one-hot (or soft) `y_true`.

    `label_smoothing` moves `y_true` towards uniform: `y * (1 - s) + s / num_classes`.

    Raises:
        ValueError: if `axis` is a bool, or `y_true` and `y_pred` shapes differ.

    Example:
        >>> categorical_crossentropy([[0, 1, 0]], [[0.05, 0.95, 0.0]])  # [0.0513]
    """
    y_true, y_pred = categorical_inputs(y_true, y_pred, label_smoothing, axis, "categorical_crossentropy")
    return nn_ops.categorical_crossentropy(y_true, y_pred, from_logits=from_logits, axis=axis)


def _sparse_crossentropy_and_mask(y_true, y_pred, from_logits=False, ignore_class=None, axis=-1):
    """Per-sample sparse cross-entropy, and the mask of labels that are not `ignore_class` (or None)."""
    if ignore_class is None:
        return nn_ops.sparse_categorical_crossentropy(y_true, y_pred, from_logits=from_logits, axis=axis), None
    y_pred = jnp.asarray(y_pred)
    y_true = jnp.asarray(y_true)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = jnp.squeeze(y_true, axis=-1)
    valid = y_true != ignore_class
    y_true = jnp.where(valid, y_true, 0)
    if valid.shape == y_pred.shape[:-1]:  # else the op's shape error
        y_pred = jnp.where(jnp.expand_dims(valid, axis), y_pred, 1)  # any finite row: its loss is zeroed
    loss = nn_ops.sparse_categorical_crossentropy(y_true, y_pred, from_logits=from_logits, axis=axis)
    return jnp.where(valid, loss, 0.0), valid


def sparse_categorical_crossentropy(
    y_true, y_pred, from_logits: bool = False, ignore_class: int | None = None, axis: int = -1
) -> jax.Array:
    """Categorical cross-entropy with integer labels, shape `(batch,)` or `(batch, 1)`, ints or floats.

    Positions whose label is `ignore_class` get loss 0 (the `Loss` class also leaves them out of the mean).

    Raises:
        ValueError: if `y_true`'s shape is not `y_pred`'s without its last axis.
    """
    return _sparse_crossentropy_and_mask(y_true, y_pred, from_logits, ignore_class, axis)[0]


def binary_crossentropy(
    y_true, y_pred, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1
) -> jax.Array:
    """Mean over `axis` of `-(y log p + (1 - y) log(1 - p))`, `p` clipped to `[1e-7, 1 - 1e-7]`.

    `label_smoothing` squeezes labels towards 0.5: `y * (1 - s) + 0.5 * s`.

    Raises:
        ValueError: if `y_true` and `y_pred` shapes differ.
    """
    y_pred = jnp.asarray(y_pred)
    y_true = jnp.asarray(y_true).astype(y_pred.dtype)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    return jnp.mean(nn_ops.binary_crossentropy(y_true, y_pred, from_logits=from_logits), axis=axis)


mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kl_divergence
bce = BCE = binary_crossentropy


