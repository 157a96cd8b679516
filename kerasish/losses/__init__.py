"""Keras 3 losses as pure `jax.numpy` functions, and the `Loss` classes that reduce them.

Two layers, as in Keras:
- functions `fn(y_true, y_pred, **options) -> per-sample loss` (e.g. `categorical_crossentropy`),
  numerically identical to `keras.losses.<fn>` on the JAX backend, including the 1e-7 probability
  clipping when `from_logits=False`, so confident wrong predictions give finite values and gradients;
- `Loss` objects: `call(y_true, y_pred)` returns the per-sample loss, `__call__(y_true, y_pred,
  sample_weight=None)` weights and reduces it (`"sum_over_batch_size"` by default).

Everything here is jit-safe and stateless; the training step decides where it runs.
"""

from __future__ import annotations

from typing import Any, Callable

from kerasish import serialization
from kerasish.losses.functions import (  # noqa: F401  (the function forms are public too)
    BCE,
    EPSILON,
    KLD,
    MAE,
    MAPE,
    MSE,
    MSLE,
    REDUCTIONS,
    _sparse_crossentropy_and_mask,
    bce,
    binary_crossentropy,
    categorical_crossentropy,
    categorical_hinge,
    cosine_similarity,
    hinge,
    huber,
    kl_divergence,
    kld,
    log_cosh,
    mae,
    mape,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
    mse,
    msle,
    poisson,
    reduce_weighted_values,
    sparse_categorical_crossentropy,
    squared_hinge,
    squeeze_or_expand_to_same_rank,
    standardize_reduction,
)

from kerasish.losses.focal import (BinaryFocalCrossentropy, CategoricalFocalCrossentropy, binary_focal_crossentropy,
                                   categorical_focal_crossentropy)
from kerasish.losses.loss import Loss, LossFunctionWrapper
from kerasish.losses.overlap import Dice, Tversky, dice, tversky

# ---------------------------------------------------------------- Loss classes


class MeanSquaredError(LossFunctionWrapper):
    """Mean of squared errors over the last axis, then reduced."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, reduction=reduction, name=name, dtype=dtype)


class MeanAbsoluteError(LossFunctionWrapper):
    """Mean of absolute errors over the last axis, then reduced."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, reduction=reduction, name=name, dtype=dtype)


class MeanAbsolutePercentageError(LossFunctionWrapper):
    """`mean_absolute_percentage_error`, then reduced."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_percentage_error", dtype=None):
        super().__init__(mean_absolute_percentage_error, reduction=reduction, name=name, dtype=dtype)


class MeanSquaredLogarithmicError(LossFunctionWrapper):
    """`mean_squared_logarithmic_error`, then reduced."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_logarithmic_error", dtype=None):
        super().__init__(mean_squared_logarithmic_error, reduction=reduction, name=name, dtype=dtype)


class CosineSimilarity(LossFunctionWrapper):
    """Negative cosine similarity along `axis`, then reduced."""

    def __init__(self, axis=-1, reduction="sum_over_batch_size", name="cosine_similarity", dtype=None):
        super().__init__(cosine_similarity, reduction=reduction, name=name, dtype=dtype, axis=axis)


class Huber(LossFunctionWrapper):
    """Quadratic for errors up to `delta`, linear beyond. (Keras 3's config drops `delta`; ours keeps it.)"""

    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name="huber_loss", dtype=None):
        super().__init__(huber, reduction=reduction, name=name, dtype=dtype, delta=delta)


class LogCosh(LossFunctionWrapper):
    """Mean of `log(cosh(error))` over the last axis, then reduced."""

    def __init__(self, reduction="sum_over_batch_size", name="log_cosh", dtype=None):
        super().__init__(log_cosh, reduction=reduction, name=name, dtype=dtype)


class Hinge(LossFunctionWrapper):
    """`hinge`, then reduced."""

    def __init__(self, reduction="sum_over_batch_size", name="hinge", dtype=None):
        super().__init__(hinge, reduction=reduction, name=name, dtype=dtype)


class SquaredHinge(LossFunctionWrapper):
    """`squared_hinge`, then reduced."""

    def __init__(self, reduction="sum_over_batch_size", name="squared_hinge", dtype=None):
        super().__init__(squared_hinge, reduction=reduction, name=name, dtype=dtype)


class CategoricalHinge(LossFunctionWrapper):
    """`categorical_hinge`, then reduced."""

    def __init__(self, reduction="sum_over_batch_size", name="categorical_hinge", dtype=None):
        super().__init__(categorical_hinge, reduction=reduction, name=name, dtype=dtype)


class KLDivergence(LossFunctionWrapper):
    """Kullback-Leibler divergence `y_true * log(y_true / y_pred)`, then reduced."""

    def __init__(self, reduction="sum_over_batch_size", name="kl_divergence", dtype=None):
        super().__init__(kl_divergence, reduction=reduction, name=name, dtype=dtype)


class Poisson(LossFunctionWrapper):
    """`poisson`, then reduced."""

    def __init__(self, reduction="sum_over_batch_size", name="poisson", dtype=None):
        super().__init__(poisson, reduction=reduction, name=name, dtype=dtype)


class BinaryCrossentropy(LossFunctionWrapper):
    """`binary_crossentropy` (probabilities, or logits with `from_logits=True`), then reduced."""

    def __init__(
        self, from_logits=False, label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
        name="binary_crossentropy", dtype=None,
    ):  # fmt: skip
        super().__init__(
            binary_crossentropy, reduction=reduction, name=name, dtype=dtype,
            from_logits=from_logits, label_smoothing=label_smoothing, axis=axis,
        )  # fmt: skip


class CategoricalCrossentropy(LossFunctionWrapper):
    """`categorical_crossentropy` for one-hot labels, then reduced.

    Example:
        >>> CategoricalCrossentropy(from_logits=True)(jnp.eye(3), jnp.zeros((3, 3)))  # log(3)
    """

    def __init__(
        self, from_logits=False, label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
        name="categorical_crossentropy", dtype=None,
    ):  # fmt: skip
        super().__init__(
            categorical_crossentropy, reduction=reduction, name=name, dtype=dtype,
            from_logits=from_logits, label_smoothing=label_smoothing, axis=axis,
        )  # fmt: skip


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    """`sparse_categorical_crossentropy` for integer labels, then reduced.

    With `ignore_class`, those positions are left out: the default reduction averages over the others.
    (Keras 3's config drops `axis`; ours keeps it.)
    """

    def __init__(
        self, from_logits=False, ignore_class=None, reduction="sum_over_batch_size", axis=-1,
        name="sparse_categorical_crossentropy", dtype=None,
    ):  # fmt: skip
        super().__init__(
            sparse_categorical_crossentropy, reduction=reduction, name=name, dtype=dtype,
            from_logits=from_logits, ignore_class=ignore_class, axis=axis,
        )  # fmt: skip

    def _call_with_mask(self, y_true, y_pred):
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return _sparse_crossentropy_and_mask(y_true, y_pred, **self._fn_kwargs)


_CLASSES = (
    Loss, LossFunctionWrapper, MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError, CosineSimilarity, Huber, LogCosh, Hinge, SquaredHinge, CategoricalHinge,
    KLDivergence, Poisson, BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy,
    BinaryFocalCrossentropy, CategoricalFocalCrossentropy, Dice, Tversky,
)  # fmt: skip
_FUNCTIONS = (
    mean_squared_error, mean_absolute_error, mean_absolute_percentage_error, mean_squared_logarithmic_error,
    cosine_similarity, huber, log_cosh, hinge, squared_hinge, categorical_hinge, kl_divergence, poisson,
    binary_crossentropy, categorical_crossentropy, sparse_categorical_crossentropy,
    binary_focal_crossentropy, categorical_focal_crossentropy, dice, tversky,
)  # fmt: skip
ALL_OBJECTS: dict[str, Any] = {obj.__name__: obj for obj in _CLASSES + _FUNCTIONS}
ALL_OBJECTS.update(bce=bce, BCE=BCE, kld=kld, KLD=KLD, mae=mae, MAE=MAE, mse=mse, MSE=MSE, mape=mape, MAPE=MAPE)
ALL_OBJECTS.update(msle=msle, MSLE=MSLE)


def get(identifier: Any) -> Loss | None:
    """A `Loss` for a name (`"mse"`, `"categorical_crossentropy"`, `"CategoricalCrossentropy"`), a config
    dict, a class, an instance, or a function `(y_true, y_pred) -> per-sample loss`. Functions are wrapped
    in a `LossFunctionWrapper` named after the string (or the function). `None` gives None.

    Raises:
        ValueError: `Could not interpret loss identifier: ...` listing the accepted names.
    """
    if identifier is None:
        return None
    obj = serialization.resolve(identifier, ALL_OBJECTS, "loss")
    if isinstance(obj, Loss):
        return obj
    name = identifier if isinstance(identifier, str) else serialization.to_snake_case(getattr(obj, "__name__", "loss"))
    return LossFunctionWrapper(obj, name=name)


def serialize(loss: Loss | Callable) -> dict[str, Any] | str:
    """A `Loss`'s `{"class_name": ..., "config": ...}`, or a loss function's (registered) name."""
    if isinstance(loss, Loss):
        return serialization.serialize_object(loss)
    return serialization.get_registered_name(loss)


def deserialize(config: dict[str, Any] | str, custom_objects: dict[str, Any] | None = None) -> Loss | Callable:
    """Inverse of `serialize`: a `Loss` for a class config, the function for a function name."""
    return serialization.resolve(config, ALL_OBJECTS, "loss", custom_objects)

