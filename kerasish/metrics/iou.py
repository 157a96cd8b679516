"""Intersection-over-union metrics: IoU, MeanIoU, BinaryIoU, OneHotIoU and OneHotMeanIoU.

Owns one computation: a weighted confusion matrix (`num_classes` x `num_classes`, rows the labels,
columns the predictions) accumulated over batches, and the IoU `tp / (row + column - tp)` of the
`target_class_ids`, averaged over those of them that occurred. The five Keras classes differ only
in how labels and predictions become class ids (integers, an argmax over `axis`, a threshold) and
in which classes are averaged. Pure `jax.numpy`, so `update` runs inside the compiled step.
"""

from __future__ import annotations

from typing import Any, Sequence

import jax.numpy as jnp

from kerasish.losses.functions import EPSILON
from kerasish.metrics.base import Metric

__all__ = ["IoU", "MeanIoU", "BinaryIoU", "OneHotIoU", "OneHotMeanIoU"]


class IoU(Metric):
    """Mean intersection-over-union of the classes in `target_class_ids`, from a weighted confusion matrix.

    Args:
        num_classes: the number of classes; labels and predictions outside `[0, num_classes)` are skipped.
        target_class_ids: the class ids whose IoUs are averaged (classes that never occurred are left out).
        ignore_class: a label value whose positions are skipped (e.g. a "void" class).
        sparse_y_true, sparse_y_pred: False when that side is one-hot / scores along `axis` (argmax is taken).
        axis: the class axis for the argmax.
        dtype: of the confusion matrix; "int32" by default, as in Keras (float weights are truncated,
            without Keras's warning about it).

    Raises:
        ValueError: when a target class id is not below `num_classes`.

    Example:
        >>> m = IoU(num_classes=2, target_class_ids=[0])
        >>> m.update_state([0, 0, 1, 1], [0, 1, 0, 1])
        >>> float(m.result())  # 1 / 3
    """

    _direction = "up"  # higher is better, for callbacks' mode="auto"

    def __init__(self, num_classes: int, target_class_ids: Sequence[int], name: str | None = None,
                 dtype: str | None = None, ignore_class: int | None = None, sparse_y_true: bool = True,
                 sparse_y_pred: bool = True, axis: int = -1):
        if max(target_class_ids) >= num_classes:
            raise ValueError(f"Target class id {max(target_class_ids)} is out of range, which is [0, {num_classes}).")
        self.num_classes, self.target_class_ids = num_classes, [int(i) for i in target_class_ids]
        self.ignore_class, self.axis = ignore_class, axis
        self.sparse_y_true, self.sparse_y_pred = sparse_y_true, sparse_y_pred
        super().__init__(name=name, dtype=jnp.dtype(dtype or "int32").name)

    def init(self):
        return {"total_confusion_matrix": jnp.zeros((self.num_classes, self.num_classes), self.dtype)}

    def _class_ids(self, y_true, y_pred):
        """Labels and predictions as class ids (flattened)."""
        y_true, y_pred = jnp.asarray(y_true), jnp.asarray(y_pred)
        if not self.sparse_y_true:
            y_true = jnp.argmax(y_true, axis=self.axis)
        if not self.sparse_y_pred:
            y_pred = jnp.argmax(y_pred, axis=self.axis)
        return y_true.astype(self.dtype).reshape(-1), y_pred.astype(self.dtype).reshape(-1)

    def update(self, state, y_true, y_pred, sample_weight=None):
        y_true, y_pred = self._class_ids(y_true, y_pred)
        y_true, y_pred = y_true.astype(jnp.int32), y_pred.astype(jnp.int32)  # through `dtype`, as Keras casts
        weights = jnp.asarray(1 if sample_weight is None else sample_weight).astype(self.dtype).reshape(-1)
        weights = jnp.broadcast_to(weights, y_true.shape)
        keep = (y_true >= 0) & (y_true < self.num_classes) & (y_pred >= 0) & (y_pred < self.num_classes)
        if self.ignore_class is not None:
            keep &= y_true != self.ignore_class
        cell = jnp.where(keep, y_true * self.num_classes + y_pred, 0)
        counts = jnp.zeros(self.num_classes ** 2, self.dtype).at[cell].add(jnp.where(keep, weights, 0))
        return {"total_confusion_matrix": state["total_confusion_matrix"] + counts.reshape(self.num_classes, -1)}

    def compute(self, state):
        matrix = state["total_confusion_matrix"].astype(jnp.float32)
        true_positives = jnp.diag(matrix)
        denominator = jnp.sum(matrix, axis=0) + jnp.sum(matrix, axis=1) - true_positives
        targets = jnp.asarray(self.target_class_ids)
        true_positives, denominator = true_positives[targets], denominator[targets]
        valid = denominator > 1e-9
        iou = jnp.where(valid, true_positives / (denominator + EPSILON), 0.0)
        return jnp.sum(iou) / (jnp.sum(valid.astype(jnp.float32)) + EPSILON)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "num_classes": self.num_classes, "target_class_ids": self.target_class_ids,
                "ignore_class": self.ignore_class, "sparse_y_true": self.sparse_y_true,
                "sparse_y_pred": self.sparse_y_pred, "axis": self.axis}


def _without(config: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {key: value for key, value in config.items() if key not in keys}


class MeanIoU(IoU):
    """`IoU` averaged over every class that occurred.

    Example:
        >>> m = MeanIoU(num_classes=2)
        >>> m.update_state([0, 0, 1, 1], [0, 1, 0, 1])
        >>> float(m.result())  # 0.333
    """

    def __init__(self, num_classes: int, name: str | None = None, dtype: str | None = None,
                 ignore_class: int | None = None, sparse_y_true: bool = True, sparse_y_pred: bool = True,
                 axis: int = -1):
        super().__init__(num_classes, list(range(num_classes)), name=name, dtype=dtype, ignore_class=ignore_class,
                         sparse_y_true=sparse_y_true, sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self):
        return _without(super().get_config(), "target_class_ids")


class BinaryIoU(IoU):
    """`IoU` of two classes, a prediction being class 1 when `y_pred >= threshold`.

    Args:
        target_class_ids: `[0]`, `[1]` or `[0, 1]` (the mean of both).
        threshold: predictions at or above it are class 1, below it class 0.
    """

    def __init__(self, target_class_ids: Sequence[int] = (0, 1), threshold: float = 0.5, name: str | None = None,
                 dtype: str | None = None):
        super().__init__(2, target_class_ids, name=name, dtype=dtype)
        self.threshold = threshold

    def _class_ids(self, y_true, y_pred):
        return super()._class_ids(y_true, jnp.asarray(y_pred, jnp.float32) >= self.threshold)

    def get_config(self):
        return {"target_class_ids": self.target_class_ids, "threshold": self.threshold, "name": self.name,
                "dtype": self.dtype}


class OneHotIoU(IoU):
    """`IoU` for one-hot labels (and, unless `sparse_y_pred`, scores): argmax over `axis` first."""

    def __init__(self, num_classes: int, target_class_ids: Sequence[int], name: str | None = None,
                 dtype: str | None = None, ignore_class: int | None = None, sparse_y_pred: bool = False,
                 axis: int = -1):
        super().__init__(num_classes, target_class_ids, name=name, dtype=dtype, ignore_class=ignore_class,
                         sparse_y_true=False, sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self):
        return _without(super().get_config(), "sparse_y_true")


class OneHotMeanIoU(MeanIoU):
    """`MeanIoU` for one-hot labels (and, unless `sparse_y_pred`, scores): argmax over `axis` first."""

    def __init__(self, num_classes: int, name: str | None = None, dtype: str | None = None,
                 ignore_class: int | None = None, sparse_y_pred: bool = False, axis: int = -1):
        super().__init__(num_classes, name=name, dtype=dtype, ignore_class=ignore_class, sparse_y_true=False,
                         sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self):
        return _without(super().get_config(), "sparse_y_true")


#: for `kerasish.metrics`' registry
CLASSES = (IoU, MeanIoU, BinaryIoU, OneHotIoU, OneHotMeanIoU)
FUNCTIONS: dict = {}
ALIASES: dict = {}
