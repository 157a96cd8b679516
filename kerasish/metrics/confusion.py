"""Precision and Recall: weighted confusion-matrix counts per threshold, as Keras 3 keeps them."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from kerasish.metrics.base import Metric, squeeze_or_expand_to_same_rank

__all__ = ["Precision", "Recall"]

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
        y_true = jnp.asarray(y_true, self.dtype)
        y_pred = jnp.asarray(y_pred, self.dtype)
        y_pred, y_true = squeeze_or_expand_to_same_rank(y_pred, y_true)
        if sample_weight is not None:
            sample_weight = jnp.expand_dims(jnp.asarray(sample_weight, self.dtype), -1)
            _, sample_weight = squeeze_or_expand_to_same_rank(y_true, sample_weight,
                                                              expand_rank_1=False)
        if self.top_k is not None:
            y_pred = _filter_top_k(y_pred, self.top_k)
        if self.class_id is not None:
            if y_pred.ndim == 1:
                raise ValueError(
                    "When class_id is provided, y_pred must be a 2D array with shape "
                    f"(num_samples, num_classes), found shape: {y_pred.shape}")
            y_true = y_true[..., self.class_id, None]
            y_pred = y_pred[..., self.class_id, None]
        weights = (jnp.ones_like(y_pred) if sample_weight is None
                   else jnp.broadcast_to(sample_weight, y_pred.shape)).reshape(1, -1)
        thresholds = jnp.asarray(self.thresholds, self.dtype)[:, None]
        pred_pos = y_pred.reshape(1, -1) > thresholds          # (thresholds, elements)
        label_pos = (y_true.reshape(1, -1) != 0)
        cells = {"true_positives": label_pos & pred_pos,
                 "false_positives": ~label_pos & pred_pos,
                 "false_negatives": label_pos & ~pred_pos}
        return {key: state[key] + jnp.sum(jnp.where(cells[key], weights, 0.0), axis=1)
                for key in self._counts}

    def _ratio(self, state):
        tp, other = (state[key] for key in self._counts)
        denom = tp + other
        result = jnp.where(denom == 0, 0.0, tp / jnp.where(denom == 0, 1.0, denom))
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
