"""Weighted confusion-matrix counts per threshold, as Keras 3 keeps them: Precision / Recall and the
counts themselves (TruePositives, TrueNegatives, FalsePositives, FalseNegatives).

Owns how Keras's confusion-matrix metrics shape their inputs (`confusion_inputs`: ranks, `top_k`,
`class_id`) and count (`confusion_counts`: weighted true/false positives/negatives per threshold, a
prediction being positive above a threshold); `curves` (AUC, PrecisionAtRecall, RecallAtPrecision)
builds on both. Evenly spaced thresholds are counted by bucketing each prediction
(`ceil(p * (T - 1)) - 1`, a segment sum and a reversed cumulative sum: O(T + N)), as Keras does;
other thresholds by comparing every prediction with every threshold.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from kerasish.metrics.base import Metric, squeeze_or_expand_to_same_rank
from kerasish.ops import divide_no_nan

__all__ = ["Precision", "Recall", "TruePositives", "TrueNegatives", "FalsePositives", "FalseNegatives"]

NEG_INF = -1e10  # Keras's threshold when only `top_k` decides what counts as positive.


def _parse_thresholds(thresholds, top_k):
    if thresholds is None:
        return [0.5 if top_k is None else NEG_INF]
    values = list(thresholds) if isinstance(thresholds, (list, tuple)) else [thresholds]
    invalid = [t for t in values if t is None or t < 0 or t > 1]
    if invalid:
        raise ValueError(f"Threshold values must be in [0, 1]. Received: {invalid}")
    return [float(t) for t in values]


def _filter_top_k(x, k):
    """Keeps the `k` largest entries of the last axis, sets the others to NEG_INF."""
    _, idx = jax.lax.top_k(x, k)
    mask = jnp.sum(jax.nn.one_hot(idx, x.shape[-1], dtype=x.dtype), axis=-2)
    return x * mask + NEG_INF * (1 - mask)


def confusion_inputs(y_true, y_pred, sample_weight, dtype, top_k=None, class_id=None):
    """y_true, y_pred and sample_weight as Keras's confusion-matrix update shapes them: cast to
    `dtype`, ranks matched, predictions outside the `top_k` set to NEG_INF, one `class_id` kept."""
    y_true, y_pred = jnp.asarray(y_true, dtype), jnp.asarray(y_pred, dtype)
    y_pred, y_true = squeeze_or_expand_to_same_rank(y_pred, y_true)
    if sample_weight is not None:
        sample_weight = jnp.expand_dims(jnp.asarray(sample_weight, dtype), -1)
        _, sample_weight = squeeze_or_expand_to_same_rank(y_true, sample_weight, expand_rank_1=False)
    if top_k is not None:
        y_pred = _filter_top_k(y_pred, top_k)
    if class_id is not None:
        if y_pred.ndim == 1:
            raise ValueError("When class_id is provided, y_pred must be a 2D array with shape "
                             f"(num_samples, num_classes), found shape: {y_pred.shape}")
        y_true, y_pred = y_true[..., class_id, None], y_pred[..., class_id, None]
    return y_true, y_pred, sample_weight


def confusion_counts(y_true, y_pred, thresholds, *, evenly: bool, sample_weight=None, label_weights=None,
                     multi_label: bool = False) -> dict[str, jax.Array]:
    """Weighted TP/FP/TN/FN per threshold: a prediction is positive at `t` when `y_pred > t`.

    Shapes: `(T,)`, or `(T, num_labels)` with `multi_label` (y of shape (batch, num_labels)).
    With `evenly`, `thresholds` must be evenly spaced over [0, 1] (endpoints possibly nudged by
    an epsilon): predictions are clipped to [0, 1] and bucketed, as Keras does.
    """
    labels = (y_true != 0).astype(y_pred.dtype)
    weights = jnp.ones_like(y_pred) if sample_weight is None else jnp.broadcast_to(sample_weight, y_pred.shape)
    if label_weights is not None:
        weights = weights * jnp.broadcast_to(jnp.asarray(label_weights, y_pred.dtype), y_pred.shape)
    if not multi_label:
        labels, y_pred, weights = labels.reshape(-1, 1), y_pred.reshape(-1, 1), weights.reshape(-1, 1)
    positives = jnp.where(weights == 0, 0.0, labels * weights)   # (N, L)
    negatives = jnp.where(weights == 0, 0.0, (1.0 - labels) * weights)
    n = len(thresholds)
    if evenly:
        with_epsilon = thresholds[0] < 0.0 or thresholds[-1] > 1.0
        bucket = jnp.ceil(jnp.clip(y_pred, 0.0, 1.0) * (n - 1)) - 1
        if with_epsilon:
            bucket = jnp.maximum(bucket, 0)
        bucket = jnp.where(jnp.isfinite(bucket), bucket, -1).astype(jnp.int32)
        column = jnp.broadcast_to(jnp.arange(bucket.shape[1]), bucket.shape)
        flat = jnp.where(bucket < 0, -1, column * n + bucket).reshape(-1)  # negative buckets are dropped

        def reverse_cumsum(values):
            per_bucket = jax.ops.segment_sum(values.reshape(-1), flat, num_segments=n * bucket.shape[1])
            return jnp.cumsum(per_bucket.reshape(-1, n)[:, ::-1], axis=1)[:, ::-1].T  # (T, L)

        tp, fp = reverse_cumsum(positives), reverse_cumsum(negatives)
    else:
        above = y_pred[None] > jnp.asarray(thresholds, y_pred.dtype).reshape(n, 1, 1)  # (T, N, L)
        tp = jnp.sum(jnp.where(above, positives[None], 0.0), axis=1)
        fp = jnp.sum(jnp.where(above, negatives[None], 0.0), axis=1)
    counts = {"true_positives": tp, "false_positives": fp,
              "true_negatives": jnp.sum(negatives, axis=0) - fp, "false_negatives": jnp.sum(positives, axis=0) - tp}
    return counts if multi_label else {key: value[:, 0] for key, value in counts.items()}


class _ConfusionMetric(Metric):
    """Shared by Precision and Recall: counts `positive_key` and `negative_key` per threshold."""

    _counts = ()

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        if top_k is not None and (not isinstance(top_k, int) or top_k < 1):
            raise ValueError(f"Argument `top_k` must be a positive integer. Received: top_k={top_k}")
        self.init_thresholds = thresholds
        self.thresholds = _parse_thresholds(thresholds, top_k)
        self.top_k = top_k
        self.class_id = class_id
        super().__init__(name=name, dtype=dtype)

    def init(self):
        return {key: jnp.zeros((len(self.thresholds),), self.dtype) for key in self._counts}

    def update(self, state, y_true, y_pred, sample_weight=None):
        y_true, y_pred, sample_weight = confusion_inputs(y_true, y_pred, sample_weight, self.dtype,
                                                         self.top_k, self.class_id)
        counts = confusion_counts(y_true, y_pred, self.thresholds, evenly=False, sample_weight=sample_weight)
        return {key: state[key] + counts[key] for key in self._counts}

    def _ratio(self, state):
        tp, other = (state[key] for key in self._counts)
        result = divide_no_nan(tp, tp + other)
        return result[0] if len(self.thresholds) == 1 else result

    def compute(self, state):
        return self._ratio(state)

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds, "top_k": self.top_k,
                "class_id": self.class_id}


class Precision(_ConfusionMetric):
    """`true_positives / (true_positives + false_positives)`, a prediction being positive when
    above `thresholds` (default 0.5; a list gives one value per threshold), optionally only
    within the `top_k` predictions or for one `class_id`."""

    _counts = ("true_positives", "false_positives")


class Recall(_ConfusionMetric):
    """`true_positives / (true_positives + false_negatives)`; arguments as for `Precision`."""

    _counts = ("true_positives", "false_negatives")


class _Count(_ConfusionMetric):
    """One weighted confusion count per threshold (a scalar for a single threshold, default 0.5)."""

    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__(thresholds=thresholds, name=name, dtype=dtype)

    def compute(self, state):
        count = state[self._counts[0]]
        return count[0] if len(self.thresholds) == 1 else count

    def get_config(self):
        return {**Metric.get_config(self), "thresholds": self.init_thresholds}


class TruePositives(_Count):
    """Weighted count of positive labels predicted above each threshold."""

    _counts = ("true_positives",)


class TrueNegatives(_Count):
    """Weighted count of negative labels predicted at or below each threshold."""

    _counts = ("true_negatives",)


class FalsePositives(_Count):
    """Weighted count of negative labels predicted above each threshold."""

    _counts = ("false_positives",)


class FalseNegatives(_Count):
    """Weighted count of positive labels predicted at or below each threshold."""

    _counts = ("false_negatives",)
