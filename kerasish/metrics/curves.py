"""Metrics over a sweep of thresholds: AUC, PrecisionAtRecall, RecallAtPrecision,
SensitivityAtSpecificity and SpecificityAtSensitivity.

Owns the curves computed from the weighted confusion counts per threshold (`confusion.confusion_counts`:
one row per threshold, one column per label for a multi-label AUC), with Keras 3's thresholds and
numbers; evenly spaced thresholds are counted by bucketing, as Keras does. Pure `jax.numpy`; the
state is a dict of arrays, so `update` runs inside the compiled step.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from kerasish.losses.functions import EPSILON
from kerasish.metrics.confusion import confusion_counts, confusion_inputs
from kerasish.metrics.shape_built import ShapeBuilt
from kerasish.ops import divide_no_nan

__all__ = ["AUC", "PrecisionAtRecall", "RecallAtPrecision", "SensitivityAtSpecificity", "SpecificityAtSensitivity"]

COUNTS = ("true_positives", "false_positives", "true_negatives", "false_negatives")
CURVES = ("ROC", "PR", "PRGAIN")
SUMMATION_METHODS = ("interpolation", "majoring", "minoring")


def _inner_thresholds(num_thresholds: int) -> list[float]:
    """Keras's `num_thresholds` evenly spaced thresholds over [0, 1] without the two endpoints."""
    return [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]


def evenly_spaced(thresholds) -> bool:
    """Whether `thresholds` (with the endpoints 0 and 1) are `i / (n - 1)` for i = 0..n-1."""
    n = len(thresholds)
    return n >= 3 and bool(np.allclose(thresholds, np.arange(n, dtype=np.float32) / (n - 1), atol=EPSILON))


def _recall_precision(state):
    """Recall and precision per threshold from the counts (0 where undefined)."""
    tp = state["true_positives"]
    return divide_no_nan(tp, tp + state["false_negatives"]), divide_no_nan(tp, tp + state["false_positives"])


class _ThresholdSweep(ShapeBuilt):
    """State: the four confusion counts per threshold (and per label when multi-label)."""

    thresholds: list[float]
    _evenly: bool
    multi_label = False
    class_id = None

    def _state_shape(self) -> tuple[int, ...]:
        return (len(self.thresholds),)

    def _zeros(self):
        return {key: jnp.zeros(self._state_shape(), self.dtype) for key in COUNTS}

    def _update(self, state, y_true, y_pred, sample_weight):
        y_true, y_pred, sample_weight = confusion_inputs(y_true, y_pred, sample_weight, self.dtype,
                                                         class_id=self.class_id)
        counts = confusion_counts(y_true, self._scores(y_pred), self.thresholds, evenly=self._evenly,
                                  sample_weight=sample_weight, label_weights=self._count_label_weights(),
                                  multi_label=self.multi_label)
        return {key: state[key] + counts[key] for key in COUNTS}

    def _scores(self, y_pred):
        return y_pred

    def _count_label_weights(self):
        return None


class _AtConstraint(_ThresholdSweep):
    """Best `dependent` statistic among thresholds where `constrained >= value` (0 when none)."""

    _direction = "up"  # higher is better, for callbacks' mode="auto"

    def __init__(self, value: float, value_name: str, num_thresholds: int = 200, class_id: int | None = None,
                 name: str | None = None, dtype: str | None = None):
        if not 0 <= value <= 1:
            raise ValueError(f"Argument `{value_name}` must be in the range [0, 1]. Received: {value_name}={value}")
        if num_thresholds <= 0:
            raise ValueError(f"Argument `num_thresholds` must be an integer > 0. Received: num_thresholds={num_thresholds}")
        self.value, self.num_thresholds, self.class_id = value, num_thresholds, class_id
        if num_thresholds == 1:
            self.thresholds, self._evenly = [0.5], False
        else:
            inner = _inner_thresholds(num_thresholds)
            self.thresholds, self._evenly = [0.0] + inner + [1.0], True
        super().__init__(name=name, dtype=dtype)

    @staticmethod
    def _best(constrained, dependent, value):
        return jnp.max(jnp.where(constrained >= value, dependent, 0.0), initial=0.0)

    def get_config(self):
        return {**super().get_config(), "class_id": self.class_id, "num_thresholds": self.num_thresholds}


class PrecisionAtRecall(_AtConstraint):
    """The best precision over thresholds whose recall is at least `recall` (0 if none reaches it).

    Example:
        >>> m = PrecisionAtRecall(0.5)
        >>> m.update_state([0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8])
        >>> float(m.result())  # 0.5
    """

    def __init__(self, recall: float, num_thresholds: int = 200, class_id: int | None = None,
                 name: str | None = None, dtype: str | None = None):
        self.recall = recall
        super().__init__(recall, "recall", num_thresholds, class_id, name, dtype)

    def _compute(self, state):
        recall, precision = _recall_precision(state)
        return self._best(recall, precision, self.recall)

    def get_config(self):
        return {**super().get_config(), "recall": self.recall}


class RecallAtPrecision(_AtConstraint):
    """The best recall over thresholds whose precision is at least `precision` (0 if none reaches it)."""

    def __init__(self, precision: float, num_thresholds: int = 200, class_id: int | None = None,
                 name: str | None = None, dtype: str | None = None):
        self.precision = precision
        super().__init__(precision, "precision", num_thresholds, class_id, name, dtype)

    def _compute(self, state):
        recall, precision = _recall_precision(state)
        return self._best(precision, recall, self.precision)

    def get_config(self):
        return {**super().get_config(), "precision": self.precision}


def _specificity(state):
    """True negatives / all negatives per threshold (0 where undefined)."""
    tn = state["true_negatives"]
    return divide_no_nan(tn, tn + state["false_positives"])


class SensitivityAtSpecificity(_AtConstraint):
    """The best sensitivity (recall) over thresholds whose specificity is at least `specificity`."""

    def __init__(self, specificity: float, num_thresholds: int = 200, class_id: int | None = None,
                 name: str | None = None, dtype: str | None = None):
        self.specificity = specificity
        super().__init__(specificity, "specificity", num_thresholds, class_id, name, dtype)

    def _compute(self, state):
        return self._best(_specificity(state), _recall_precision(state)[0], self.specificity)

    def get_config(self):
        return {**super().get_config(), "specificity": self.specificity}


class SpecificityAtSensitivity(_AtConstraint):
    """The best specificity over thresholds whose sensitivity (recall) is at least `sensitivity`."""

    def __init__(self, sensitivity: float, num_thresholds: int = 200, class_id: int | None = None,
                 name: str | None = None, dtype: str | None = None):
        self.sensitivity = sensitivity
        super().__init__(sensitivity, "sensitivity", num_thresholds, class_id, name, dtype)

    def _compute(self, state):
        return self._best(_recall_precision(state)[0], _specificity(state), self.sensitivity)

    def get_config(self):
        return {**super().get_config(), "sensitivity": self.sensitivity}


class AUC(_ThresholdSweep):
    """Area under the ROC or precision-recall curve, by a Riemann sum over `num_thresholds` thresholds.

    Args:
        num_thresholds: thresholds evenly spaced over [0, 1] (ignored when `thresholds` is given); > 1.
        curve: `"ROC"`, `"PR"` or `"PRGAIN"`.
        summation_method: `"interpolation"` (trapezoids; for PR, Davis & Goadrich's interpolation),
            `"minoring"` or `"majoring"`.
        thresholds: explicit thresholds in [0, 1], used instead of `num_thresholds`.
        multi_label: one curve per label (columns of `y_pred`), averaged (weighted by `label_weights`);
            otherwise all labels are flattened into one curve.
        num_labels: the label count of a multi-label AUC; without it the first `update_state`
            (or `build(y_true_shape, y_pred_shape)`) decides.
        label_weights: per-label weights (of the counts when flattened, of the average when multi-label).
        from_logits: apply a sigmoid to `y_pred` first.

    Raises:
        ValueError: for an unknown curve or summation method, `num_thresholds <= 1`, or `num_labels`
            without `multi_label`.

    Example:
        >>> m = AUC(num_thresholds=3)
        >>> m.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9])
        >>> float(m.result())  # 0.75
    """

    def __init__(self, num_thresholds: int = 200, curve: str = "ROC", summation_method: str = "interpolation",
                 name: str | None = None, dtype: str | None = None, thresholds=None, multi_label: bool = False,
                 num_labels: int | None = None, label_weights=None, from_logits: bool = False):
        curve_key = str(getattr(curve, "value", curve)).upper()
        if curve_key not in CURVES:
            raise ValueError(f'Invalid AUC curve value: "{curve}". Expected values are {list(CURVES)}')
        method_key = str(getattr(summation_method, "value", summation_method)).lower()
        if method_key not in SUMMATION_METHODS:
            raise ValueError(f'Invalid AUC summation method value: "{summation_method}". '
                             f"Expected values are {list(SUMMATION_METHODS)}")
        self._init_from_thresholds = thresholds is not None
        if thresholds is not None:
            inner = sorted(float(t) for t in (thresholds if isinstance(thresholds, (list, tuple, np.ndarray))
                                              else [thresholds]))  # not range-checked, as in Keras
            self.num_thresholds = len(inner) + 2
            self._evenly = evenly_spaced(np.array([0.0] + inner + [1.0]))
        else:
            if num_thresholds <= 1:
                raise ValueError(f"Argument `num_thresholds` must be an integer > 1. "
                                 f"Received: num_thresholds={num_thresholds}")
            self.num_thresholds = num_thresholds
            inner = _inner_thresholds(num_thresholds)
            self._evenly = True
        if num_labels and not multi_label:
            raise ValueError("`num_labels` is needed only when `multi_label` is True.")
        self.thresholds = [0.0 - EPSILON] + inner + [1.0 + EPSILON]
        self.curve, self.summation_method = curve_key, method_key
        self.multi_label, self.num_labels, self._from_logits = multi_label, num_labels, from_logits
        self.label_weights = None if label_weights is None else [float(w) for w in np.ravel(label_weights)]
        self._num_labels = num_labels
        super().__init__(name=name, dtype=dtype)

    # -- a multi-label AUC's state has one column per label --------------------------------------
    def _shape_known(self) -> bool:
        return not self.multi_label or self._num_labels is not None

    def _learn_shape(self, y_true_shape, y_pred_shape) -> None:
        if len(y_pred_shape) != 2:
            raise ValueError(f"`y_pred` must have rank 2 when `multi_label=True`. Found rank {len(y_pred_shape)}. "
                             f"Full shape received for `y_pred`: {tuple(y_pred_shape)}")
        self._num_labels = int(y_pred_shape[1])

    def _unbuilt_message(self) -> str:
        return ("AUC(multi_label=True) does not know its label count yet: pass `num_labels=` to AUC, or call "
                "`update_state` (or `build(y_true_shape, y_pred_shape)`) once before a compiled step uses it.")

    def _state_shape(self):
        return (self.num_thresholds, self._num_labels) if self.multi_label else (self.num_thresholds,)

    def _scores(self, y_pred):
        return jax.nn.sigmoid(y_pred) if self._from_logits else y_pred

    def _count_label_weights(self):
        return None if self.multi_label or self.label_weights is None else jnp.asarray(self.label_weights, self.dtype)

    # -- the area ---------------------------------------------------------------------------------
    def _average(self, per_label):
        if not self.multi_label:
            return jnp.sum(per_label)
        by_label = jnp.sum(per_label, axis=0)
        if self.label_weights is None:
            return jnp.mean(by_label)
        weights = jnp.asarray(self.label_weights, self.dtype)
        return divide_no_nan(jnp.sum(by_label * weights), jnp.sum(weights))

    def _interpolated_pr(self, state):
        """Davis & Goadrich (2006): TP and predicted positives vary linearly between thresholds."""
        tp, fp, fn = state["true_positives"], state["false_positives"], state["false_negatives"]
        predicted = tp + fp
        d_tp, d_predicted = tp[:-1] - tp[1:], predicted[:-1] - predicted[1:]
        slope = divide_no_nan(d_tp, jnp.maximum(d_predicted, 0))
        intercept = tp[1:] - slope * predicted[1:]
        both = (predicted[:-1] > 0) & (predicted[1:] > 0)
        ratio = jnp.where(both, divide_no_nan(predicted[:-1], jnp.maximum(predicted[1:], 0)), 1.0)
        area = divide_no_nan(slope * (d_tp + intercept * jnp.log(ratio)), jnp.maximum(tp[1:] + fn[1:], 0))
        return self._average(area)

    def _curve_points(self, state):
        tp, fp, tn, fn = (state[key] for key in COUNTS)
        recall, precision = _recall_precision(state)
        if self.curve == "ROC":
            return divide_no_nan(fp, fp + tn), recall
        if self.curve == "PR":
            return recall, precision
        scale = divide_no_nan(tp + fn, tn + fp)  # PRGAIN
        recall_gain = jnp.where(tp == 0, 0.0, 1.0 - scale * divide_no_nan(fn, tp))
        precision_gain = jnp.where(tp == 0, 1.0, 1.0 - scale * divide_no_nan(fp, tp))
        return jnp.maximum(recall_gain, 0.0), precision_gain

    def _compute(self, state):
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self._interpolated_pr(state)
        x, y = self._curve_points(state)
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2.0
        elif self.summation_method == "minoring":
            heights = jnp.minimum(y[:-1], y[1:])
        else:
            heights = jnp.maximum(y[:-1], y[1:])
        return self._average((x[:-1] - x[1:]) * heights)

    def get_config(self) -> dict[str, Any]:
        config = {**super().get_config(), "num_thresholds": self.num_thresholds, "curve": self.curve,
                  "summation_method": self.summation_method, "multi_label": self.multi_label,
                  "num_labels": self.num_labels, "label_weights": self.label_weights, "from_logits": self._from_logits}
        if self._init_from_thresholds:
            config["thresholds"] = self.thresholds[1:-1]
        return config
