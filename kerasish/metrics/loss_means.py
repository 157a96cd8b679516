"""Metrics that are the weighted mean of a per-sample loss or score: crossentropies, hinges, Poisson,
mean squared logarithmic error, and the Pearson / concordance correlation coefficients.

Owns the Keras classes' names, arguments and configs, and the two correlation functions; the
losses' maths lives once, in `kerasish.losses`, and `keras.metrics.binary_crossentropy` and its
siblings are those very functions (as in Keras 3). Each class is a `MeanMetricWrapper`, so its
functional core is `Mean`'s (`total`, `count`) and runs inside the compiled step.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from kerasish.losses.focal import binary_focal_crossentropy, categorical_focal_crossentropy
from kerasish.losses.functions import (EPSILON, binary_crossentropy, categorical_crossentropy, categorical_hinge,
                                       hinge, huber, mean_squared_logarithmic_error, poisson,
                                       sparse_categorical_crossentropy, squared_hinge)
from kerasish.metrics.base import MeanMetricWrapper, squeeze_or_expand_to_same_rank

__all__ = ["BinaryCrossentropy", "CategoricalCrossentropy", "SparseCategoricalCrossentropy", "Hinge",
           "SquaredHinge", "CategoricalHinge", "Poisson", "MeanSquaredLogarithmicError", "PearsonCorrelation",
           "ConcordanceCorrelation", "binary_crossentropy", "categorical_crossentropy",
           "sparse_categorical_crossentropy", "hinge", "squared_hinge", "categorical_hinge", "poisson", "huber",
           "mean_squared_logarithmic_error", "binary_focal_crossentropy", "categorical_focal_crossentropy",
           "pearson_correlation", "concordance_correlation"]


def _centred(y_true, y_pred, axis):
    y_pred = jnp.asarray(y_pred)
    y_true = jnp.asarray(y_true, y_pred.dtype)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    true_mean = jnp.mean(y_true, axis=axis, keepdims=True)
    pred_mean = jnp.mean(y_pred, axis=axis, keepdims=True)
    return y_true, y_pred, true_mean, pred_mean


def pearson_correlation(y_true, y_pred, axis: int = -1) -> jax.Array:
    """Per-sample Pearson correlation along `axis`: the mean product of the standardized values."""
    y_true, y_pred, true_mean, pred_mean = _centred(y_true, y_pred, axis)
    true_dev, pred_dev = y_true - true_mean, y_pred - pred_mean
    true_dev = true_dev / jnp.std(true_dev, axis=axis, keepdims=True)
    pred_dev = pred_dev / jnp.std(pred_dev, axis=axis, keepdims=True)
    return jnp.mean(true_dev * pred_dev, axis=axis)


def concordance_correlation(y_true, y_pred, axis: int = -1) -> jax.Array:
    """Per-sample concordance correlation along `axis`:
    `mean(2 * covariance term / (var(y_true) + var(y_pred) + (mean(y_true) - mean(y_pred))^2 + eps))`.

    As Keras 3 does, the covariance term centres `y_true` on the mean of `y_pred`
    (`(y_true - mean(y_pred)) * (y_pred - mean(y_pred))`), so the numbers are Keras's.
    """
    y_true, y_pred, true_mean, pred_mean = _centred(y_true, y_pred, axis)
    true_var = jnp.var(y_true - true_mean, axis=axis, keepdims=True)
    pred_var = jnp.var(y_pred - pred_mean, axis=axis, keepdims=True)
    covariance = (y_true - pred_mean) * (y_pred - pred_mean)
    norm = true_var + pred_var + jnp.square(true_mean - pred_mean)
    return jnp.mean(2 * covariance / (norm + EPSILON), axis=axis)


class _Named(MeanMetricWrapper):
    """A mean of `fn` named `default_name` unless told otherwise; `fn`'s keyword arguments are also
    attributes (`metric.from_logits`, ...)."""

    fn = None
    default_name = ""
    _direction = "down"  # which way is better, for callbacks' mode="auto" (as Keras's metrics say)

    def __init__(self, name: str | None = None, dtype: str | None = None, **kwargs):
        super().__init__(type(self).fn, name=name or type(self).default_name, dtype=dtype, **kwargs)
        self.__dict__.update(kwargs)


class BinaryCrossentropy(_Named):
    """Weighted mean of `binary_crossentropy(y_true, y_pred, from_logits, label_smoothing)`."""

    fn = staticmethod(binary_crossentropy)

    def __init__(self, name: str = "binary_crossentropy", dtype: str | None = None, from_logits: bool = False,
                 label_smoothing: float = 0):
        super().__init__(name, dtype, from_logits=from_logits, label_smoothing=label_smoothing)


class CategoricalCrossentropy(_Named):
    """Weighted mean of `categorical_crossentropy` (one-hot labels) along `axis`."""

    fn = staticmethod(categorical_crossentropy)

    def __init__(self, name: str = "categorical_crossentropy", dtype: str | None = None, from_logits: bool = False,
                 label_smoothing: float = 0, axis: int = -1):
        super().__init__(name, dtype, from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)


class SparseCategoricalCrossentropy(_Named):
    """Weighted mean of `sparse_categorical_crossentropy` (integer labels); `ignore_class` positions give 0.

    Positions of `ignore_class` count as zeros in the mean, as in Keras's unweighted update (what
    `compile(metrics=...)` runs). Keras leaves them out of the count when `sample_weight` is given;
    here they stay in, because the compiled step always passes weights (0 for padded rows).
    """

    fn = staticmethod(sparse_categorical_crossentropy)

    def __init__(self, name: str = "sparse_categorical_crossentropy", dtype: str | None = None,
                 from_logits: bool = False, ignore_class: int | None = None, axis: int = -1):
        super().__init__(name, dtype, from_logits=from_logits, ignore_class=ignore_class, axis=axis)


class Hinge(_Named):
    """Weighted mean of `hinge` (labels in {0, 1} become {-1, 1})."""

    fn, default_name = staticmethod(hinge), "hinge"


class SquaredHinge(_Named):
    """Weighted mean of `squared_hinge`."""

    fn, default_name = staticmethod(squared_hinge), "squared_hinge"


class CategoricalHinge(_Named):
    """Weighted mean of `categorical_hinge` (one-hot labels)."""

    fn, default_name = staticmethod(categorical_hinge), "categorical_hinge"


class Poisson(_Named):
    """Weighted mean of `poisson`: `y_pred - y_true * log(y_pred + eps)` averaged over the last axis."""

    fn, default_name = staticmethod(poisson), "poisson"


class MeanSquaredLogarithmicError(_Named):
    """Weighted mean of `mean_squared_logarithmic_error`."""

    fn, default_name = staticmethod(mean_squared_logarithmic_error), "mean_squared_logarithmic_error"


class PearsonCorrelation(_Named):
    """Weighted mean of the per-sample `pearson_correlation` along `axis`."""

    _direction = "up"
    fn = staticmethod(pearson_correlation)

    def __init__(self, name: str = "pearson_correlation", dtype: str | None = None, axis: int = -1):
        super().__init__(name, dtype, axis=axis)


class ConcordanceCorrelation(_Named):
    """Weighted mean of the per-sample `concordance_correlation` along `axis`."""

    _direction = "up"
    fn = staticmethod(concordance_correlation)

    def __init__(self, name: str = "concordance_correlation", dtype: str | None = None, axis: int = -1):
        super().__init__(name, dtype, axis=axis)


#: for `kerasish.metrics`' registry: the classes, the per-sample functions, and Keras's short names
CLASSES = (BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy, Hinge, SquaredHinge,
           CategoricalHinge, Poisson, MeanSquaredLogarithmicError, PearsonCorrelation, ConcordanceCorrelation)
FUNCTIONS = {fn.__name__: fn for fn in (
    binary_crossentropy, categorical_crossentropy, sparse_categorical_crossentropy, hinge, squared_hinge,
    categorical_hinge, poisson, huber, mean_squared_logarithmic_error, binary_focal_crossentropy,
    categorical_focal_crossentropy, pearson_correlation, concordance_correlation)}
ALIASES = {"bce": BinaryCrossentropy, "BCE": BinaryCrossentropy, "msle": MeanSquaredLogarithmicError,
           "MSLE": MeanSquaredLogarithmicError}
