"""Focal cross-entropies (Lin et al., 2018): cross-entropy scaled down where the model is already right.

Owns `binary_focal_crossentropy`, `categorical_focal_crossentropy` and their `Loss` classes, with
Keras 3's arguments, defaults and numbers (probabilities clipped to `[1e-7, 1 - 1e-7]` as Keras's
JAX backend does). Pure `jax.numpy`, jit-safe.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from kerasish.losses.functions import EPSILON, categorical_inputs
from kerasish.losses.loss import LossFunctionWrapper

__all__ = ["BinaryFocalCrossentropy", "CategoricalFocalCrossentropy", "binary_focal_crossentropy",
           "categorical_focal_crossentropy"]


def binary_focal_crossentropy(y_true, y_pred, apply_class_balancing: bool = False, alpha: float = 0.25,
                              gamma: float = 2.0, from_logits: bool = False, label_smoothing: float = 0.0,
                              axis: int = -1) -> jax.Array:
    """Mean over `axis` of `(1 - p_t) ** gamma * binary_crossentropy`, `p_t` the probability of the true class.

    Args:
        y_true: labels in {0, 1} (soft labels work too).
        y_pred: probabilities, or logits with `from_logits=True`.
        apply_class_balancing: weigh class 1 by `alpha` and class 0 by `1 - alpha`.
        alpha: the class-1 weight used with `apply_class_balancing`.
        gamma: the focusing exponent; 0 gives plain binary cross-entropy.
        from_logits: whether `y_pred` holds logits.
        label_smoothing: squeezes labels towards 0.5: `y * (1 - s) + 0.5 * s`.
        axis: the axis averaged over.

    Returns:
        The per-sample loss (`y_pred`'s shape without `axis`).

    Example:
        >>> binary_focal_crossentropy([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]])  # [0.330, 0.206]
    """
    y_pred = jnp.asarray(y_pred)
    y_true = jnp.asarray(y_true).astype(y_pred.dtype)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        y_pred = jax.nn.sigmoid(y_pred)
    clipped = jnp.clip(y_pred, EPSILON, 1.0 - EPSILON)
    bce = -(y_true * jnp.log(clipped) + (1.0 - y_true) * jnp.log(1.0 - clipped))
    p_t = y_true * y_pred + (1.0 - y_true) * (1.0 - y_pred)
    focal = jnp.power(1.0 - p_t, gamma) * bce
    if apply_class_balancing:
        focal = (y_true * alpha + (1.0 - y_true) * (1.0 - alpha)) * focal
    return jnp.mean(focal, axis=axis)


def categorical_focal_crossentropy(y_true, y_pred, alpha=0.25, gamma: float = 2.0, from_logits: bool = False,
                                   label_smoothing: float = 0.0, axis: int = -1) -> jax.Array:
    """Sum over `axis` of `-alpha * (1 - p) ** gamma * y_true * log(p)` for one-hot (or soft) `y_true`.

    Args:
        y_true: one-hot labels, shape `(..., num_classes)`.
        y_pred: probabilities (renormalized to sum to 1, then clipped), or logits with `from_logits=True`.
        alpha: a scalar or one weight per class.
        gamma: the focusing exponent; 0 gives `alpha` times categorical cross-entropy.
        from_logits: whether `y_pred` holds logits.
        label_smoothing: moves labels towards uniform: `y * (1 - s) + s / num_classes`.
        axis: the class axis.

    Returns:
        The per-sample loss.

    Raises:
        ValueError: if `axis` is a bool.

    Example:
        >>> categorical_focal_crossentropy([[0, 1, 0]], [[0.05, 0.9, 0.05]])  # [2.634e-04]
    """
    y_true, y_pred = categorical_inputs(y_true, y_pred, label_smoothing, axis, "categorical_focal_crossentropy")
    if from_logits:
        y_pred = jax.nn.softmax(y_pred, axis=axis)
    probs = jnp.clip(y_pred / jnp.sum(y_pred, axis=axis, keepdims=True), EPSILON, 1.0 - EPSILON)
    weights = jnp.power(1.0 - probs, gamma) * jnp.asarray(alpha, y_pred.dtype)
    return jnp.sum(weights * (-y_true * jnp.log(probs)), axis=axis)


class BinaryFocalCrossentropy(LossFunctionWrapper):
    """`binary_focal_crossentropy`, then reduced.

    Example:
        >>> BinaryFocalCrossentropy(gamma=2.0, from_logits=True)(y_true, logits)
    """

    def __init__(self, apply_class_balancing=False, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0,
                 axis=-1, reduction="sum_over_batch_size", name="binary_focal_crossentropy", dtype=None):
        super().__init__(binary_focal_crossentropy, reduction=reduction, name=name, dtype=dtype,
                         apply_class_balancing=apply_class_balancing, alpha=alpha, gamma=gamma,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)


class CategoricalFocalCrossentropy(LossFunctionWrapper):
    """`categorical_focal_crossentropy` for one-hot labels, then reduced."""

    def __init__(self, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="categorical_focal_crossentropy", dtype=None):
        super().__init__(categorical_focal_crossentropy, reduction=reduction, name=name, dtype=dtype,
                         alpha=alpha, gamma=gamma, from_logits=from_logits, label_smoothing=label_smoothing,
                         axis=axis)
