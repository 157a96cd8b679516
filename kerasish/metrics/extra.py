"""More Keras 3 metrics: F-scores, R2Score, the per-sample regression and probabilistic
metrics, and (from `curves`) AUC, PrecisionAtRecall and RecallAtPrecision.

Owns these classes' arguments, defaults, configs and numbers, following `base`'s functional
pattern: `init() -> state` (a dict of arrays), `update(state, y_true, y_pred, sample_weight=None)`
and `compute(state)`, all pure `jax.numpy`, so they run inside the compiled step. Metrics whose
state has one entry per class (F-scores other than micro, R2Score) learn the class count from the
first batch, or from `build(y_true_shape, y_pred_shape)` before a compiled step uses them (`shape_built`). As
everywhere in kerasish, rows of sample weight 0 (a last batch's padding) contribute nothing.
"""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp

from kerasish.losses.functions import (EPSILON, cosine_similarity as _negative_cosine_similarity, kl_divergence,
                                       log_cosh, mean_absolute_percentage_error)
from kerasish.metrics.base import MeanMetricWrapper, _weighted, squeeze_or_expand_to_same_rank
from kerasish.metrics.shape_built import ShapeBuilt
from kerasish.metrics.curves import AUC, PrecisionAtRecall, RecallAtPrecision
from kerasish.metrics.iou import MeanIoU  # noqa: F401  (re-exported; registered from `iou`)

__all__ = ["AUC", "CosineSimilarity", "F1Score", "FBetaScore", "KLDivergence", "LogCoshError",
           "MeanAbsolutePercentageError", "PrecisionAtRecall", "R2Score", "RecallAtPrecision",
           "cosine_similarity", "kl_divergence", "log_cosh", "mean_absolute_percentage_error"]


def cosine_similarity(y_true, y_pred, axis: int = -1) -> jax.Array:
    """Per-sample `sum(l2_normalize(y_true) * l2_normalize(y_pred), axis)`: 1 for the same direction."""
    return -_negative_cosine_similarity(y_true, y_pred, axis=axis)


# -- means of per-sample functions ---------------------------------------------------------------

class MeanAbsolutePercentageError(MeanMetricWrapper):
    """Weighted mean of `mean_absolute_percentage_error` (in percent)."""

    def __init__(self, name: str = "mean_absolute_percentage_error", dtype: str | None = None):
        super().__init__(mean_absolute_percentage_error, name=name, dtype=dtype)


class KLDivergence(MeanMetricWrapper):
    """Weighted mean of `kl_divergence(y_true, y_pred)` (both clipped to [1e-7, 1])."""

    def __init__(self, name: str = "kl_divergence", dtype: str | None = None):
        super().__init__(kl_divergence, name=name, dtype=dtype)


class LogCoshError(MeanMetricWrapper):
    """Weighted mean of `log(cosh(y_pred - y_true))` averaged over the last axis (named "logcosh", as in Keras)."""

    def __init__(self, name: str = "logcosh", dtype: str | None = None):
        super().__init__(log_cosh, name=name, dtype=dtype)


class CosineSimilarity(MeanMetricWrapper):
    """Weighted mean of `cosine_similarity` along `axis`. (Keras 3's config drops `axis`; ours keeps it.)"""

    def __init__(self, name: str = "cosine_similarity", dtype: str | None = None, axis: int = -1):
        super().__init__(cosine_similarity, name=name, dtype=dtype, axis=axis)


# -- metrics whose state has one entry per class ------------------------------------------------

def _same_rank_shapes(y_true_shape, y_pred_shape) -> tuple[tuple, tuple]:
    """The shapes `squeeze_or_expand_to_same_rank` would give arrays of these shapes."""
    shapes = [tuple(y_true_shape), tuple(y_pred_shape)]
    for long, short in ((0, 1), (1, 0)):
        if len(shapes[long]) == len(shapes[short]) + 1 and shapes[long][-1] == 1:
            if len(shapes[short]) == 1:
                shapes[short] = shapes[short] + (1,)
            else:
                shapes[long] = shapes[long][:-1]
    return shapes[0], shapes[1]


class _PerClass(ShapeBuilt):
    """One state entry per class: 2D inputs `(batch, classes)`, the class count learnt from them."""

    _num_classes: int | None = None

    def _shape_known(self) -> bool:
        return self._num_classes is not None

    def _learn_shape(self, y_true_shape, y_pred_shape) -> None:
        title = type(self).__name__
        if len(y_pred_shape) != 2 or len(y_true_shape) != 2:
            raise ValueError(f"{title} expects 2D inputs with shape (batch_size, output_dim). Received input "
                             f"shapes: y_pred.shape={y_pred_shape} and y_true.shape={y_true_shape}.")
        if y_pred_shape[-1] is None or y_true_shape[-1] is None:
            raise ValueError(f"{title} expects 2D inputs with shape (batch_size, output_dim), with output_dim "
                             f"fully defined (not None). Received input shapes: y_pred.shape={y_pred_shape} "
                             f"and y_true.shape={y_true_shape}.")
        self._num_classes = int(y_pred_shape[-1])


class FBetaScore(_PerClass):
    """F-beta score: `(1 + beta^2) * precision * recall / (beta^2 * precision + recall)` per class.

    Args:
        average: None (one score per class), "micro" (global counts), "macro" (mean of the class
            scores) or "weighted" (mean weighted by each class's support).
        beta: a Python float > 0; weight of recall over precision.
        threshold: a Python float in (0, 1]: `y_pred > threshold` is a positive. None: the largest
            prediction of each row is the positive.

    Raises:
        ValueError: for an unknown `average`, a `beta` or `threshold` that is not a float in range,
            or inputs that are not 2D.
    """

    def __init__(self, average: str | None = None, beta: float = 1.0, threshold: float | None = None,
                 name: str = "fbeta_score", dtype: str | None = None):
        if average not in (None, "micro", "macro", "weighted"):
            raise ValueError("Invalid `average` argument value. Expected one of: {None, 'micro', 'macro', "
                             f"'weighted'}}. Received: average={average}")
        if not isinstance(beta, float):
            raise ValueError(f"Invalid `beta` argument value. It should be a Python float. Received: beta={beta} "
                             f"of type '{type(beta)}'")
        if beta <= 0.0:
            raise ValueError(f"Invalid `beta` argument value. It should be > 0. Received: beta={beta}")
        if threshold is not None:
            if not isinstance(threshold, float):
                raise ValueError("Invalid `threshold` argument value. It should be a Python float. "
                                 f"Received: threshold={threshold} of type '{type(threshold)}'")
            if threshold > 1.0 or threshold <= 0.0:
                raise ValueError("Invalid `threshold` argument value. It should verify 0 < threshold <= 1. "
                                 f"Received: threshold={threshold}")
        self.average, self.beta, self.threshold = average, beta, threshold
        super().__init__(name=name, dtype=dtype)

    def _shape_known(self) -> bool:
        return self.average == "micro" or super()._shape_known()  # micro-averaged counts are scalars

    def _zeros(self):
        shape = () if self.average == "micro" else (self._num_classes,)
        return {key: jnp.zeros(shape, self.dtype)
                for key in ("true_positives", "false_positives", "false_negatives", "intermediate_weights")}

    def _update(self, state, y_true, y_pred, sample_weight):
        y_true, y_pred = jnp.asarray(y_true, self.dtype), jnp.asarray(y_pred, self.dtype)
        if self.threshold is None:
            predicted = (y_pred >= jnp.max(y_pred, axis=-1, keepdims=True)) & (jnp.abs(y_pred) > 1e-9)
        else:
            predicted = y_pred > self.threshold
        predicted = predicted.astype(self.dtype)
        weights = None if sample_weight is None else jnp.expand_dims(jnp.asarray(sample_weight, self.dtype), 1)
        axis = None if self.average == "micro" else 0

        def total(values):
            return jnp.sum(values if weights is None else _weighted(values, weights), axis=axis)

        increments = {"true_positives": total(predicted * y_true), "false_positives": total(predicted * (1 - y_true)),
                      "false_negatives": total((1 - predicted) * y_true), "intermediate_weights": total(y_true)}
        return {key: state[key] + increments[key] for key in state}

    def _compute(self, state):
        tp = state["true_positives"]
        precision = tp / (tp + state["false_positives"] + EPSILON)
        recall = tp / (tp + state["false_negatives"] + EPSILON)
        beta2 = self.beta ** 2
        score = (1 + beta2) * precision * recall / (beta2 * precision + recall + EPSILON)
        if self.average == "weighted":
            support = state["intermediate_weights"]
            return jnp.sum(score * support / (jnp.sum(support) + EPSILON))
        return score if self.average is None else jnp.mean(score)

    def get_config(self):
        return {**super().get_config(), "average": self.average, "beta": self.beta, "threshold": self.threshold}


class F1Score(FBetaScore):
    """`FBetaScore` with `beta=1.0`: the harmonic mean of precision and recall.

    Example:
        >>> m = F1Score(threshold=0.5)
        >>> m.update_state([[1, 1, 1], [1, 0, 0], [1, 1, 0]],
        ...                [[0.2, 0.6, 0.7], [0.2, 0.6, 0.6], [0.6, 0.8, 0.0]])
        >>> m.result()  # [0.5, 0.8, 0.667]
    """

    def __init__(self, average: str | None = None, threshold: float | None = None, name: str = "f1_score",
                 dtype: str | None = None):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype)

    def get_config(self):
        config = super().get_config()
        del config["beta"]
        return config


class R2Score(_PerClass):
    """Coefficient of determination `1 - SS_res / SS_tot` per output, aggregated.

    Args:
        class_aggregation: "uniform_average" (mean over outputs), "variance_weighted_average"
            (weighted by each output's variance) or None (one score per output).
        num_regressors: with p > 0, the adjusted R2 `1 - (1 - R2) (n - 1) / (n - p - 1)`, n being the
            number of values seen (of non-zero weight); falls back to plain R2, with a warning, when
            `n - 1 <= p`.

    Raises:
        ValueError: for an unknown `class_aggregation`, a negative `num_regressors`, or inputs that are
            not 2D.
    """

    def __init__(self, class_aggregation: str | None = "uniform_average", num_regressors: int = 0,
                 name: str = "r2_score", dtype: str | None = None):
        valid = (None, "uniform_average", "variance_weighted_average")
        if class_aggregation not in valid:
            raise ValueError(f"Invalid value for argument `class_aggregation`. Expected one of {valid}. "
                             f"Received: class_aggregation={class_aggregation}")
        if num_regressors < 0:
            raise ValueError("Invalid value for argument `num_regressors`. Expected a value >= 0. "
                             f"Received: num_regressors={num_regressors}")
        self.class_aggregation, self.num_regressors = class_aggregation, num_regressors
        super().__init__(name=name, dtype=dtype)

    def _learn_shape(self, y_true_shape, y_pred_shape) -> None:
        super()._learn_shape(*_same_rank_shapes(y_true_shape, y_pred_shape))

    def _zeros(self):
        per_output = {key: jnp.zeros((self._num_classes,), self.dtype)
                      for key in ("squared_sum", "sum", "residual", "count")}
        return {**per_output, "num_samples": jnp.zeros((), self.dtype)}

    def _update(self, state, y_true, y_pred, sample_weight):
        y_true, y_pred = squeeze_or_expand_to_same_rank(jnp.asarray(y_true, self.dtype), jnp.asarray(y_pred, self.dtype))
        weights = jnp.asarray(1.0 if sample_weight is None else sample_weight, self.dtype)
        if weights.ndim == 1:
            weights = jnp.expand_dims(weights, 1)
        weights = jnp.broadcast_to(weights, y_true.shape)
        weighted_true = _weighted(y_true, weights)
        return {"sum": state["sum"] + jnp.sum(weighted_true, axis=0),
                "squared_sum": state["squared_sum"] + jnp.sum(_weighted(y_true * y_true, weights), axis=0),
                "residual": state["residual"] + jnp.sum(_weighted(jnp.square(y_true - y_pred), weights), axis=0),
                "count": state["count"] + jnp.sum(weights, axis=0),
                "num_samples": state["num_samples"] + jnp.sum(weights != 0)}

    def _compute(self, state):
        mean = state["sum"] / state["count"]
        total = state["squared_sum"] - state["sum"] * mean
        raw = 1 - state["residual"] / total
        raw = jnp.where(jnp.isinf(raw), 0.0, raw)
        if self.class_aggregation == "uniform_average":
            score = jnp.mean(raw)
        elif self.class_aggregation == "variance_weighted_average":
            score = jnp.sum(total * raw) / jnp.sum(total)
        else:
            score = raw
        if not self.num_regressors:
            return score
        n, p = state["num_samples"], self.num_regressors
        if not isinstance(n, jax.core.Tracer):
            if p > float(n) - 1:
                warnings.warn("More independent predictors than datapoints in adjusted R2 score. Falling back to "
                              "standard R2 score.", stacklevel=2)
            elif p == float(n) - 1:
                warnings.warn("Division by zero in Adjusted R2 score. Falling back to standard R2 score.", stacklevel=2)
        adjusted = 1.0 - (1.0 - score) * (n - 1.0) / (n - p - 1.0)
        return jnp.where(p < n - 1, adjusted, score)

    def get_config(self):
        return {**super().get_config(), "class_aggregation": self.class_aggregation,
                "num_regressors": self.num_regressors}


#: for `kerasish.metrics`' registry: the classes, the per-sample functions, and Keras's short names
CLASSES = (AUC, CosineSimilarity, F1Score, FBetaScore, KLDivergence, LogCoshError, MeanAbsolutePercentageError,
           PrecisionAtRecall, R2Score, RecallAtPrecision)
FUNCTIONS = {fn.__name__: fn for fn in (kl_divergence, log_cosh, mean_absolute_percentage_error)}
ALIASES = {"mape": MeanAbsolutePercentageError, "MAPE": MeanAbsolutePercentageError}
