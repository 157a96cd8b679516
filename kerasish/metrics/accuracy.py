"""Accuracy metrics: per-sample functions (pure jnp, Keras 3's shape rules) and their means."""

from __future__ import annotations

import jax.numpy as jnp

from kerasish.metrics.base import MeanMetricWrapper, squeeze_or_expand_to_same_rank

__all__ = [
    "accuracy", "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
    "top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy",
    "Accuracy", "BinaryAccuracy", "CategoricalAccuracy", "SparseCategoricalAccuracy",
    "TopKCategoricalAccuracy", "SparseTopKCategoricalAccuracy",
]


def accuracy(y_true, y_pred):
    """1.0 where `y_true == y_pred` exactly."""
    y_pred = jnp.asarray(y_pred)
    y_true = jnp.asarray(y_true, y_pred.dtype)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return jnp.equal(y_true, y_pred).astype(jnp.float32)


def binary_accuracy(y_true, y_pred, threshold: float = 0.5):
    """1.0 where `(y_pred > threshold) == y_true`."""
    y_pred = jnp.asarray(y_pred)
    y_true = jnp.asarray(y_true)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    y_pred = (y_pred > threshold).astype(y_true.dtype)
    return jnp.equal(y_true, y_pred).astype(jnp.float32)


def categorical_accuracy(y_true, y_pred):
    """1.0 where `argmax(y_pred) == argmax(y_true)` (one-hot labels)."""
    y_pred = jnp.asarray(y_pred)
    y_true = jnp.argmax(jnp.asarray(y_true), axis=-1).astype(y_pred.dtype)
    original_shape = y_true.shape
    reshape = y_true.ndim == y_pred.ndim
    if reshape:
        y_true = jnp.squeeze(y_true, -1)
    matches = jnp.equal(y_true, jnp.argmax(y_pred, axis=-1).astype(y_true.dtype))
    matches = matches.astype(jnp.float32)
    return matches.reshape(original_shape) if reshape else matches


def sparse_categorical_accuracy(y_true, y_pred):
    """1.0 where `argmax(y_pred) == y_true` (integer labels, shape `(batch,)` or `(batch, 1)`)."""
    y_pred = jnp.asarray(y_pred)
    y_true = jnp.asarray(y_true, y_pred.dtype)
    original_shape = y_true.shape
    reshape = y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1
    if reshape:
        y_true = jnp.squeeze(y_true, -1)
    matches = jnp.equal(y_true, jnp.argmax(y_pred, axis=-1).astype(y_true.dtype))
    matches = matches.astype(jnp.float32)
    if reshape:
        matches = matches.reshape(original_shape)
    if matches.ndim > 1 and matches.shape[-1] == 1:
        matches = jnp.squeeze(matches, -1)
    return matches


def _in_top_k(targets, predictions, k):
    """Keras (JAX backend) `in_top_k`: ties count in the target's favour; NaN never ranks."""
    at_label = jnp.take_along_axis(predictions, targets[..., None], axis=-1)
    at_label = jnp.where(jnp.isnan(at_label), -jnp.inf, at_label)
    return 1 + jnp.sum(predictions > at_label, axis=-1) <= k


def _top_k(y_true, y_pred, k):
    original_shape = y_true.shape
    if y_pred.ndim > 2:
        y_pred = y_pred.reshape(-1, y_pred.shape[-1])
    reshape = y_true.ndim > 1
    if reshape:
        y_true = y_true.reshape(-1)
    matches = _in_top_k(y_true.astype(jnp.int32), y_pred, k).astype(jnp.float32)
    return matches.reshape(original_shape) if reshape else matches


def top_k_categorical_accuracy(y_true, y_pred, k: int = 5):
    """1.0 where the one-hot label is among the `k` largest predictions."""
    y_pred = jnp.asarray(y_pred)
    return _top_k(jnp.argmax(jnp.asarray(y_true), axis=-1), y_pred, k)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k: int = 5):
    """1.0 where the integer label is among the `k` largest predictions."""
    return _top_k(jnp.asarray(y_true).astype(jnp.int32), jnp.asarray(y_pred), k)


class Accuracy(MeanMetricWrapper):
    """How often predictions equal labels exactly."""

    def __init__(self, name: str = "accuracy", dtype: str | None = None):
        super().__init__(accuracy, name=name, dtype=dtype)


class BinaryAccuracy(MeanMetricWrapper):
    """How often `y_pred > threshold` matches a binary label."""

    def __init__(self, name: str = "binary_accuracy", dtype: str | None = None,
                 threshold: float = 0.5):
        super().__init__(binary_accuracy, name=name, dtype=dtype, threshold=threshold)
        self.threshold = threshold


class CategoricalAccuracy(MeanMetricWrapper):
    """How often the arg-max of the predictions matches a one-hot label."""

    def __init__(self, name: str = "categorical_accuracy", dtype: str | None = None):
        super().__init__(categorical_accuracy, name=name, dtype=dtype)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often the arg-max of the predictions matches an integer label."""

    def __init__(self, name: str = "sparse_categorical_accuracy", dtype: str | None = None):
        super().__init__(sparse_categorical_accuracy, name=name, dtype=dtype)


def _check_k(k) -> None:
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        raise ValueError(f"Argument `k` must be a positive integer. Received: k={k}")


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often a one-hot label is among the top `k` predictions."""

    def __init__(self, k: int = 5, name: str = "top_k_categorical_accuracy",
                 dtype: str | None = None):
        _check_k(k)
        super().__init__(top_k_categorical_accuracy, name=name, dtype=dtype, k=k)
        self.k = k


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often an integer label is among the top `k` predictions."""

    def __init__(self, k: int = 5, name: str = "sparse_top_k_categorical_accuracy",
                 dtype: str | None = None):
        _check_k(k)
        super().__init__(sparse_top_k_categorical_accuracy, name=name, dtype=dtype, k=k)
        self.k = k
