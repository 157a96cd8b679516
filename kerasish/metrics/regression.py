"""Regression metrics: mean squared / absolute error and root mean squared error.

`mean_squared_error` / `mean_absolute_error` are the loss functions themselves, as in Keras 3
(`keras.metrics.mean_squared_error is keras.losses.mean_squared_error`)."""

from __future__ import annotations

import jax.numpy as jnp

from kerasish.losses.functions import mean_absolute_error, mean_squared_error
from kerasish.metrics.base import Mean, MeanMetricWrapper, squeeze_or_expand_to_same_rank

__all__ = ["mean_squared_error", "mean_absolute_error", "MeanSquaredError", "MeanAbsoluteError",
           "RootMeanSquaredError"]


class MeanSquaredError(MeanMetricWrapper):
    """Weighted mean of the per-sample mean squared error."""

    def __init__(self, name: str = "mean_squared_error", dtype: str | None = None):
        super().__init__(mean_squared_error, name=name, dtype=dtype)


class MeanAbsoluteError(MeanMetricWrapper):
    """Weighted mean of the per-sample mean absolute error."""

    def __init__(self, name: str = "mean_absolute_error", dtype: str | None = None):
        super().__init__(mean_absolute_error, name=name, dtype=dtype)


class RootMeanSquaredError(Mean):
    """`sqrt` of the weighted mean squared error: `update(state, y_true, y_pred, sample_weight)`."""

    def __init__(self, name: str = "root_mean_squared_error", dtype: str | None = None):
        super().__init__(name=name, dtype=dtype)

    def update(self, state, y_true, y_pred, sample_weight=None):
        y_true = jnp.asarray(y_true, self.dtype)
        y_pred = jnp.asarray(y_pred, self.dtype)
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return super().update(state, jnp.square(y_pred - y_true), sample_weight=sample_weight)

    def compute(self, state):
        return jnp.sqrt(super().compute(state))
