"""Metrics: Keras 3 names, defaults and numbers, with a pure functional core for the jitted step.

`get(identifier, y_true_shape, y_pred_shape)` resolves what `compile(metrics=[...])` accepts the way
Keras 3's compile does: a string keeps the user's spelling as the metric's name (it becomes the
history key: "acc", "mse", ...), and "accuracy"/"acc" pick binary, sparse or categorical accuracy
from the shapes.
"""

from __future__ import annotations

import inspect
from typing import Any

from kerasish.metrics.accuracy import (
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    SparseCategoricalAccuracy,
    SparseTopKCategoricalAccuracy,
    TopKCategoricalAccuracy,
    accuracy,
    binary_accuracy,
    categorical_accuracy,
    sparse_categorical_accuracy,
    sparse_top_k_categorical_accuracy,
    top_k_categorical_accuracy,
)
from kerasish.metrics.base import Mean, MeanMetricWrapper, Metric, Sum, _snake_case
from kerasish.metrics.confusion import (FalseNegatives, FalsePositives, Precision, Recall, TrueNegatives,
                                        TruePositives)
from kerasish.metrics.curves import SensitivityAtSpecificity, SpecificityAtSensitivity
from kerasish.metrics.regression import (
    MeanAbsoluteError,
    MeanSquaredError,
    RootMeanSquaredError,
    mean_absolute_error,
    mean_squared_error,
)

__all__ = [
    "Metric", "Mean", "Sum", "MeanMetricWrapper",
    "Accuracy", "BinaryAccuracy", "CategoricalAccuracy", "SparseCategoricalAccuracy",
    "TopKCategoricalAccuracy", "SparseTopKCategoricalAccuracy",
    "MeanSquaredError", "MeanAbsoluteError", "RootMeanSquaredError", "Precision", "Recall",
    "TruePositives", "TrueNegatives", "FalsePositives", "FalseNegatives",
    "SensitivityAtSpecificity", "SpecificityAtSensitivity",
    "accuracy", "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
    "top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy",
    "mean_squared_error", "mean_absolute_error",
    "get", "serialize", "deserialize",
]

_CLASSES = [Mean, Sum, MeanMetricWrapper, Accuracy, BinaryAccuracy, CategoricalAccuracy,
            SparseCategoricalAccuracy, TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy,
            MeanSquaredError, MeanAbsoluteError, RootMeanSquaredError, Precision, Recall,
            TruePositives, TrueNegatives, FalsePositives, FalseNegatives, SensitivityAtSpecificity,
            SpecificityAtSensitivity]
# Keras 3 maps both `ClassName` and `class_name` (and a few short aliases) to the class.
_BY_NAME: dict[str, type] = {cls.__name__: cls for cls in _CLASSES}
_BY_NAME.update({_snake_case(cls.__name__): cls for cls in _CLASSES})
_BY_NAME.update({"mse": MeanSquaredError, "MSE": MeanSquaredError,
                 "mae": MeanAbsoluteError, "MAE": MeanAbsoluteError})
_FUNCTIONS = {fn.__name__: fn for fn in (
    accuracy, binary_accuracy, categorical_accuracy, sparse_categorical_accuracy,
    top_k_categorical_accuracy, sparse_top_k_categorical_accuracy, mean_squared_error,
    mean_absolute_error)}

from kerasish.metrics import extra, iou, loss_means  # noqa: E402  (their classes extend the tables above)
from kerasish.metrics.extra import (AUC, CosineSimilarity, F1Score, FBetaScore, KLDivergence,  # noqa: E402,F401
                                    LogCoshError, MeanAbsolutePercentageError, PrecisionAtRecall,
                                    R2Score, RecallAtPrecision, kl_divergence, log_cosh,
                                    mean_absolute_percentage_error)
from kerasish.metrics.iou import BinaryIoU, IoU, MeanIoU, OneHotIoU, OneHotMeanIoU  # noqa: E402,F401
from kerasish.metrics.loss_means import (  # noqa: E402,F401
    BinaryCrossentropy, CategoricalCrossentropy, CategoricalHinge, ConcordanceCorrelation, Hinge,
    MeanSquaredLogarithmicError, PearsonCorrelation, Poisson, SparseCategoricalCrossentropy, SquaredHinge,
    binary_crossentropy, binary_focal_crossentropy, categorical_crossentropy, categorical_focal_crossentropy,
    categorical_hinge, concordance_correlation, hinge, huber, mean_squared_logarithmic_error,
    pearson_correlation, poisson, sparse_categorical_crossentropy, squared_hinge)

for _module in (extra, iou, loss_means):
    _CLASSES += list(_module.CLASSES)
    _BY_NAME.update({c.__name__: c for c in _module.CLASSES})
    _BY_NAME.update({_snake_case(c.__name__): c for c in _module.CLASSES})
    _BY_NAME.update(_module.ALIASES)
    _FUNCTIONS.update(_module.FUNCTIONS)
    __all__ += [c.__name__ for c in _module.CLASSES] + list(_module.FUNCTIONS)
del _module


def serialize(metric: Metric) -> dict[str, Any]:
    """`{"module", "class_name", "config", "registered_name"}` like `keras.metrics.serialize`."""
    if not isinstance(metric, Metric):
        raise TypeError(f"Expected a kerasish `Metric`. Received: metric={metric!r}")
    return {"module": "keras.metrics", "class_name": type(metric).__name__,
            "config": metric.get_config(), "registered_name": None}


def deserialize(config: dict[str, Any], custom_objects: dict | None = None) -> Metric:
    """Rebuilds a metric from `{"class_name": ..., "config": ...}`."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(
            f"Expected a dict with keys 'class_name' and 'config'. Received: config={config!r}")
    cls = {**_BY_NAME, **(custom_objects or {})}.get(config["class_name"])
    if cls is None:
        raise ValueError(f"Could not interpret metric identifier: {config['class_name']}. "
                         f"Accepted names: {sorted(_BY_NAME)}")
    return cls.from_config(dict(config.get("config") or {}))


def _accuracy_for(name: str, y_true_shape, y_pred_shape) -> Metric:
    """Keras 3 compile's choice for "accuracy"/"acc"."""
    if y_true_shape is None or y_pred_shape is None:
        return Accuracy(name=name)
    y_true_shape, y_pred_shape = tuple(y_true_shape), tuple(y_pred_shape)
    if y_pred_shape[-1] == 1:
        return BinaryAccuracy(name=name)
    if len(y_true_shape) < len(y_pred_shape) or (y_true_shape[-1] == 1 and y_pred_shape[-1] > 1):
        return SparseCategoricalAccuracy(name=name)
    return CategoricalAccuracy(name=name)


def get(identifier, y_true_shape=None, y_pred_shape=None) -> Metric | None:
    """Resolves a metric as `compile(metrics=[...])` does.

    Args:
        identifier: a name ("accuracy", "acc", "mse", "top_k_categorical_accuracy",
            "Precision", ...), a config dict, a `Metric` instance or class, or a per-sample
            function `fn(y_true, y_pred)` (wrapped in `MeanMetricWrapper`, named `fn.__name__`).
        y_true_shape, y_pred_shape: shapes that decide what "accuracy"/"acc" mean: binary if
            y_pred's last dim is 1, sparse if y_true has lower rank (or last dim 1 while y_pred's
            is larger), else categorical. Without them, "accuracy" is exact-match `Accuracy`.
    Returns:
        A `Metric`; a string identifier becomes its name, exactly as given.
    Raises:
        ValueError: `Could not interpret metric identifier: ...` for unknown identifiers.
    """
    if identifier is None or isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        if identifier.lower() in ("accuracy", "acc"):
            return _accuracy_for(identifier, y_true_shape, y_pred_shape)
        cls = _BY_NAME.get(identifier)
        if cls is not None and cls not in (MeanMetricWrapper, Mean, Sum):
            metric = cls()
            metric.name = identifier
            return metric
    elif inspect.isclass(identifier) and issubclass(identifier, Metric):
        return identifier()
    elif callable(identifier):
        return MeanMetricWrapper(identifier, name=getattr(identifier, "__name__", None))
    raise ValueError(f"Could not interpret metric identifier: {identifier}. "
                     f"Accepted names: {sorted(_BY_NAME)}")
