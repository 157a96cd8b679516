"""Overlap losses for segmentation: Dice and Tversky, `1 - overlap / size` over the chosen axes.

Owns `dice`, `tversky` and their `Loss` classes with Keras 3's formulas, defaults (`axis=None`: one
value for the whole batch) and the 1e-7 in the denominator. Pure `jax.numpy`, jit-safe.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from kerasish.losses.functions import EPSILON
from kerasish.losses.loss import LossFunctionWrapper

__all__ = ["Dice", "Tversky", "dice", "tversky"]

Axis = int | tuple[int, ...] | None


def _pair(y_true, y_pred) -> tuple[jax.Array, jax.Array]:
    y_pred = jnp.asarray(y_pred)
    return jnp.asarray(y_true).astype(y_pred.dtype), y_pred


def dice(y_true, y_pred, axis: Axis = None) -> jax.Array:
    """`1 - 2 * sum(y_true * y_pred) / (sum(y_true) + sum(y_pred) + 1e-7)` over `axis`.

    Args:
        y_true, y_pred: masks (or probabilities) of the same shape.
        axis: axes summed over; None sums everything (one scalar), `(1, 2, 3)` gives one value per image.

    Example:
        >>> dice(np.ones((2, 4)), np.full((2, 4), 0.5), axis=1)  # [0.333, 0.333]
    """
    y_true, y_pred = _pair(y_true, y_pred)
    overlap = jnp.sum(y_true * y_pred, axis=axis)
    return 1.0 - 2.0 * overlap / (jnp.sum(y_true, axis=axis) + jnp.sum(y_pred, axis=axis) + EPSILON)


def tversky(y_true, y_pred, alpha: float = 0.5, beta: float = 0.5, axis: Axis = None) -> jax.Array:
    """`1 - TP / (TP + alpha * sum(y_true * (1 - y_pred)) + beta * sum((1 - y_true) * y_pred) + 1e-7)`.

    With `alpha = beta = 0.5` it is the Dice loss. (The weights are applied as Keras 3 applies them:
    `alpha` to the positives the prediction misses, `beta` to the predicted positives that are not.)

    Args:
        y_true, y_pred: masks (or probabilities) of the same shape.
        alpha, beta: weights of the two kinds of error.
        axis: axes summed over; None sums everything.
    """
    y_true, y_pred = _pair(y_true, y_pred)
    overlap = jnp.sum(y_true * y_pred, axis=axis)
    missed = jnp.sum((1.0 - y_pred) * y_true, axis=axis)
    extra = jnp.sum(y_pred * (1.0 - y_true), axis=axis)
    return 1.0 - overlap / (overlap + missed * alpha + extra * beta + EPSILON)


class Dice(LossFunctionWrapper):
    """`dice`, then reduced (a scalar when `axis=None`).

    Example:
        >>> Dice(axis=(1, 2, 3), reduction=None)(masks, predictions)  # one value per image
    """

    def __init__(self, reduction="sum_over_batch_size", name="dice", axis=None, dtype=None):
        super().__init__(dice, reduction=reduction, name=name, dtype=dtype, axis=axis)


class Tversky(LossFunctionWrapper):
    """`tversky`, then reduced."""

    def __init__(self, alpha=0.5, beta=0.5, reduction="sum_over_batch_size", name="tversky", axis=None, dtype=None):
        super().__init__(tversky, reduction=reduction, name=name, dtype=dtype, alpha=alpha, beta=beta, axis=axis)
