"""Normalization: `(x - mean) / sqrt(variance)` per feature, with the statistics given or learned by
`adapt()` (or the inverse map with `invert=True`).

With `mean` and `variance` given the layer has no weights (constants, as in Keras). Otherwise `build`
creates Keras's three non-trainable weights, `mean`, `variance` and an int `count` (which Keras 3
leaves at 0 after `adapt`, and so does kerasish), and `adapt` fills them: exactly (NumPy) for an array,
batch by batch with Keras's running update for a `PyDataset` or an iterable of batches.
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from kerasish import backend
from kerasish.layers.base import Layer
from kerasish.layers.preprocessing.adapt_data import batches
from kerasish.serialization import layer_config


class Normalization(Layer):
    """Shifts and scales features to mean 0 and variance 1.

    Args:
        axis: the axis (or axes) that keep one mean/variance per index; None for one scalar pair.
        mean, variance: the statistics (broadcast to the kept axes); both or neither.
        invert: apply `mean + x * sqrt(variance)` instead.

    Example:
        >>> layer = keras.layers.Normalization(axis=-1)
        >>> layer.adapt(np.array([[0., 7.], [2., 9.]]))
        >>> layer(np.array([[0., 7.]]))  # [[-1., -1.]]
    """

    def __init__(self, axis: int | tuple | None = -1, mean=None, variance=None, invert: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.axis = () if axis is None else (axis,) if isinstance(axis, int) else tuple(axis)
        if (mean is not None) != (variance is not None):
            raise ValueError("When setting values directly, both `mean` and `variance` must be set. "
                             f"Received: mean={mean} and variance={variance}")
        if mean is not None:
            if np.shape(mean) != np.shape(variance):
                raise ValueError("When setting values directly, `mean` and `variance` must have the same shape. "
                                 f"Received: mean shape {np.shape(mean)} and variance shape {np.shape(variance)}")
            if np.ndim(mean) > len(self.axis):
                raise ValueError(f"The rank of `mean` must be less than or equal to the number of axes "
                                 f"({len(self.axis)}). Received: mean shape {np.shape(mean)} for axis {self.axis}")
        # Plain lists (static data of the module), as the config writes them.
        self.input_mean = None if mean is None else np.array(mean).tolist()
        self.input_variance = None if variance is None else np.array(variance).tolist()
        self.invert = bool(invert)
        self.supports_masking = True

    def build(self, input_shape):
        ndim = len(input_shape)
        if any(a < -ndim or a >= ndim for a in self.axis):
            raise ValueError("All `axis` values must be in the range [-ndim, ndim). "
                             f"Received inputs with ndim={ndim}, while axis={self.axis}")
        keep = tuple(sorted(a % ndim for a in self.axis))
        for d in keep:
            if input_shape[d] is None:
                raise ValueError(f"All `axis` values to be kept must have a known shape. Received axis={self.axis}, "
                                 f"inputs.shape={tuple(input_shape)}, with unknown axis at index {d}")
        self._keep_axis = keep
        self._reduce_axis = tuple(d for d in range(ndim) if d not in keep)
        self._broadcast_shape = tuple(input_shape[d] if d in keep else 1 for d in range(ndim))
        self._build_input_shape = tuple(input_shape)
        if self.input_mean is None:
            shape = tuple(input_shape[d] for d in keep)
            self.adapt_mean = self.add_weight(name="mean", shape=shape, initializer="zeros", trainable=False)
            self.adapt_variance = self.add_weight(name="variance", shape=shape, initializer="ones", trainable=False)
            self.count = self.add_weight(name="count", shape=(), dtype="int32", initializer="zeros", trainable=False)
        self._build_shape = tuple(input_shape)
        self.built = True

    def _constant(self, values) -> jnp.ndarray:
        """A given `mean` / `variance` laid out on the kept axes (its trailing axes are the last kept ones)."""
        values = np.asarray(values, "float64")
        shape = [1] * len(self._broadcast_shape)
        for i in range(1, values.ndim + 1):
            shape[self._keep_axis[-i]] = values.shape[-i]
        return jnp.asarray(np.broadcast_to(values.reshape(shape), self._broadcast_shape), self.compute_dtype)

    @property
    def mean(self):
        """The mean as the layer applies it (broadcastable to the inputs), or None before `build`."""
        if not self.built:
            return None
        if self.input_mean is not None:
            return self._constant(self.input_mean)
        return jnp.reshape(self.adapt_mean.value, self._broadcast_shape).astype(self.compute_dtype)

    @property
    def variance(self):
        """The variance as the layer applies it, or None before `build`."""
        if not self.built:
            return None
        if self.input_variance is not None:
            return self._constant(self.input_variance)
        return jnp.reshape(self.adapt_variance.value, self._broadcast_shape).astype(self.compute_dtype)

    def adapt(self, data: Any) -> None:
        """Computes the mean and variance of `data` (an array, a `PyDataset` or an iterable of batches;
        the last two are read batch by batch, each element taken as a whole batch).

        Raises:
            ValueError: data whose kept axes differ from the built shape; an empty iterable.
            TypeError: data of an unsupported kind.
        """
        if self.input_mean is not None:
            raise ValueError("This Normalization layer was given `mean` and `variance`; it has no statistics to "
                             "adapt. Create it without them to learn them with `adapt()`.")
        whole = isinstance(data, (np.ndarray, jax.Array))
        iterator = batches(data)
        first = next(iterator)
        if not self.built:
            self.build(first.shape)
        if whole:
            self._check_adapt_shape(first.shape)
            mean = np.mean(first, axis=self._reduce_axis)
            var = np.var(first, axis=self._reduce_axis)
        else:
            mean = var = np.zeros(self.adapt_mean.shape, "float64")
            total = 0
            for batch in [first, *iterator]:
                self._check_adapt_shape(batch.shape, from_iterable=True)
                batch = batch.astype(self.compute_dtype)
                batch_mean = np.mean(batch, axis=self._reduce_axis)
                batch_var = np.var(batch, axis=self._reduce_axis)
                count = math.prod(batch.shape[d] for d in self._reduce_axis) if self._reduce_axis else 1
                total += count
                weight = count / total
                new_mean = mean * (1.0 - weight) + batch_mean * weight
                var = (var + (mean - new_mean) ** 2) * (1.0 - weight) + (batch_var + (batch_mean - new_mean) ** 2) * weight
                mean = new_mean
        self.adapt_mean.assign(np.asarray(mean, self.adapt_mean.dtype))
        self.adapt_variance.assign(np.asarray(var, self.adapt_variance.dtype))

    def _check_adapt_shape(self, shape, from_iterable: bool = False) -> None:
        for d in self._keep_axis:
            if shape[d] != self._build_input_shape[d]:
                if from_iterable:
                    raise ValueError(f"adapt() yielded a batch with incompatible shape. Expected "
                                     f"{self._build_input_shape}, got {tuple(shape)}.")
                raise ValueError(f"The layer was built with input_shape={self._build_input_shape}, but adapt() is "
                                 f"being called with data with an incompatible shape, data.shape={tuple(shape)}")

    def call(self, inputs):
        inputs = jnp.asarray(inputs, self.compute_dtype)
        scale = jnp.maximum(jnp.sqrt(self.variance), backend.epsilon())
        return self.mean + inputs * scale if self.invert else (inputs - self.mean) / scale

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return layer_config(self, axis=self.axis, invert=self.invert, mean=self.input_mean,
                            variance=self.input_variance)


__all__ = ["Normalization"]
