"""BatchNormalization and LayerNormalization (Keras defaults: momentum 0.99, epsilon 1e-3).

BatchNormalization normalizes with the batch's statistics in training and updates the moving ones
(non-trainable variables, assigned in `call`, carried by `fit` as model state); inference uses the
moving ones. When the training engine pads the last batch, the call context's `row_mask` leaves
the padded rows out of the statistics. Statistics are computed in float32 under mixed precision.
"""

from __future__ import annotations

import jax.numpy as jnp

from kerasish import constraints, initializers, regularizers
from kerasish.layers import context
from kerasish.layers.base import Layer
from kerasish.serialization import layer_config, pop_keras_only, weight_args_config

# Batch renormalization, which Keras 3 writes into every BatchNormalization config and kerasish lacks.
_NO_RENORM = {"renorm": False, "renorm_clipping": None, "renorm_momentum": 0.99}


def _check_float(name: str, value, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 or (positive and value == 0):
        kind = "positive" if positive else "non-negative"
        raise ValueError(f"Argument `{name}` must be a {kind} float. Received: {name}={value!r}")
    return float(value)


def _axes(axis, ndim: int, name: str) -> tuple[int, ...]:
    items = axis if isinstance(axis, (list, tuple)) else (axis,)
    out = []
    for a in items:
        if isinstance(a, bool) or not isinstance(a, int) or not -ndim <= a < ndim:
            raise ValueError(f"Invalid axis for layer '{name}': {axis!r}, for inputs of rank {ndim}.")
        out.append(a % ndim)
    return tuple(sorted(out))


def _masked_moments(x, axes, mask):
    """Mean and (biased) variance over `axes`, counting only rows where `mask` (shape [batch]) is 1."""
    if mask is None:
        mean = jnp.mean(x, axis=axes)
        return mean, jnp.mean(jnp.square(x - jnp.expand_dims(mean, axes)), axis=axes)
    weights = mask.reshape(mask.shape + (1,) * (x.ndim - 1)).astype(x.dtype)
    weights = jnp.broadcast_to(weights, x.shape)
    count = jnp.maximum(jnp.sum(weights, axis=axes), 1.0)
    mean = jnp.sum(x * weights, axis=axes) / count
    centered = jnp.where(weights > 0, x - jnp.expand_dims(mean, axes), 0.0)
    return mean, jnp.sum(jnp.square(centered), axis=axes) / count


def _set_gamma_beta_args(layer, beta_initializer, gamma_initializer, beta_regularizer, gamma_regularizer,
                         beta_constraint, gamma_constraint) -> None:
    layer.beta_initializer = initializers.get(beta_initializer)
    layer.gamma_initializer = initializers.get(gamma_initializer)
    layer.beta_regularizer = regularizers.get(beta_regularizer)
    layer.gamma_regularizer = regularizers.get(gamma_regularizer)
    layer.beta_constraint = constraints.get(beta_constraint)
    layer.gamma_constraint = constraints.get(gamma_constraint)


def _gamma_beta_config(layer) -> dict:
    """gamma/beta initializers, regularizers and constraints as Keras 3 writes them (other norm layers too)."""
    return weight_args_config(layer, "beta", "gamma")


class BatchNormalization(Layer):
    """Normalizes `axis` (default the last, channels) to zero mean and unit variance, then scales by
    gamma and shifts by beta."""

    def __init__(self, axis: int = -1, momentum: float = 0.99, epsilon: float = 1e-3, center: bool = True,
                 scale: bool = True, beta_initializer="zeros", gamma_initializer="ones",
                 moving_mean_initializer="zeros", moving_variance_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None, gamma_constraint=None, synchronized: bool = False,
                 **kwargs):
        super().__init__(**kwargs)
        if synchronized:
            raise ValueError("`synchronized=True` is not supported: under a kerasish distribution the batch "
                             "statistics are already computed over the whole (global) batch.")
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise ValueError(f"Argument `axis` must be an integer. Received: axis={axis!r}")
        _check_float("momentum", momentum)
        if not momentum < 1:
            raise ValueError(f"Argument `momentum` must be smaller than 1. Received: momentum={momentum!r}")
        self.axis, self.momentum, self.epsilon = axis, float(momentum), _check_float("epsilon", epsilon)
        self.center, self.scale = bool(center), bool(scale)
        _set_gamma_beta_args(self, beta_initializer, gamma_initializer, beta_regularizer, gamma_regularizer,
                             beta_constraint, gamma_constraint)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.supports_masking = True

    def build(self, input_shape):
        axis = _axes(self.axis, len(input_shape), self.name)[0]
        features = input_shape[axis]
        if features is None:
            raise ValueError(f"Layer '{self.name}': the normalized axis {self.axis} must be defined. "
                             f"Received input shape {input_shape}.")
        shape = (features,)
        self.gamma = self.add_weight(name="gamma", shape=shape, initializer=self.gamma_initializer,
                                     regularizer=self.gamma_regularizer, constraint=self.gamma_constraint,
                                     autocast=False) if self.scale else None
        self.beta = self.add_weight(name="beta", shape=shape, initializer=self.beta_initializer,
                                    regularizer=self.beta_regularizer, constraint=self.beta_constraint,
                                    autocast=False) if self.center else None
        self.moving_mean = self.add_weight(name="moving_mean", shape=shape, trainable=False, autocast=False,
                                           initializer=self.moving_mean_initializer)
        self.moving_variance = self.add_weight(name="moving_variance", shape=shape, trainable=False,
                                               autocast=False, initializer=self.moving_variance_initializer)
        self.built = True

    def call(self, inputs, training=None, mask=None):
        out_dtype = inputs.dtype
        x = inputs.astype(jnp.float32) if inputs.dtype in (jnp.float16, jnp.bfloat16) else inputs
        axis = _axes(self.axis, x.ndim, self.name)[0]
        reduce = tuple(a for a in range(x.ndim) if a != axis)
        broadcast = [1] * x.ndim
        broadcast[axis] = x.shape[axis]
        if training and self.trainable:
            mean, variance = _masked_moments(x, reduce, context.row_mask())
            m = self.momentum
            self.moving_mean.assign(self.moving_mean.value * m + mean.astype(self.moving_mean.dtype) * (1 - m))
            self.moving_variance.assign(self.moving_variance.value * m
                                        + variance.astype(self.moving_variance.dtype) * (1 - m))
        else:
            mean, variance = self.moving_mean.value, self.moving_variance.value
        inv = 1.0 / jnp.sqrt(variance.astype(x.dtype) + self.epsilon)
        if self.gamma is not None:
            inv = inv * self.gamma.value.astype(x.dtype)
        y = (x - mean.astype(x.dtype).reshape(broadcast)) * inv.reshape(broadcast)
        if self.beta is not None:
            y = y + self.beta.value.astype(x.dtype).reshape(broadcast)
        return y.astype(out_dtype)

    def get_config(self):
        return layer_config(self, axis=self.axis, momentum=self.momentum, epsilon=self.epsilon, center=self.center,
                            scale=self.scale,
                            **weight_args_config(self, "beta", "gamma", extra_initializers=(
                                "moving_mean_initializer", "moving_variance_initializer")),
                            synchronized=False, **_NO_RENORM)

    @classmethod
    def from_config(cls, config):
        return cls(**pop_keras_only(config, cls.__name__, _NO_RENORM))


class LayerNormalization(Layer):
    """Normalizes each sample over `axis` (default the last; Keras defaults: epsilon 1e-3, center, scale)."""

    def __init__(self, axis=-1, epsilon: float = 1e-3, center: bool = True, scale: bool = True,
                 rms_scaling: bool = False, beta_initializer="zeros", gamma_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None, gamma_constraint=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.axis = list(axis) if isinstance(axis, (list, tuple)) else axis
        self.epsilon = _check_float("epsilon", epsilon, positive=True)
        self.center, self.scale, self.rms_scaling = bool(center), bool(scale), bool(rms_scaling)
        _set_gamma_beta_args(self, beta_initializer, gamma_initializer, beta_regularizer, gamma_regularizer,
                             beta_constraint, gamma_constraint)
        self.supports_masking = True

    def build(self, input_shape):
        axes = _axes(self.axis, len(input_shape), self.name)
        shape = tuple(input_shape[a] for a in axes)
        self.gamma = self.add_weight(name="gamma", shape=shape, initializer=self.gamma_initializer,
                                     regularizer=self.gamma_regularizer, constraint=self.gamma_constraint,
                                     autocast=False) if self.scale or self.rms_scaling else None
        self.beta = self.add_weight(name="beta", shape=shape, initializer=self.beta_initializer,
                                    regularizer=self.beta_regularizer, constraint=self.beta_constraint,
                                    autocast=False) if self.center and not self.rms_scaling else None
        self.built = True

    def call(self, inputs):
        out_dtype = inputs.dtype
        x = inputs.astype(jnp.float32) if inputs.dtype in (jnp.float16, jnp.bfloat16) else inputs
        axes = _axes(self.axis, x.ndim, self.name)
        broadcast = [x.shape[a] if a in axes else 1 for a in range(x.ndim)]
        if self.rms_scaling:
            y = x * jnp.reciprocal(jnp.sqrt(jnp.mean(jnp.square(x), axis=axes, keepdims=True) + self.epsilon))
        else:
            mean = jnp.mean(x, axis=axes, keepdims=True)
            variance = jnp.mean(jnp.square(x - mean), axis=axes, keepdims=True)
            y = (x - mean) / jnp.sqrt(variance + self.epsilon)
        if self.gamma is not None:
            y = y * self.gamma.value.astype(x.dtype).reshape(broadcast)
        if self.beta is not None:
            y = y + self.beta.value.astype(x.dtype).reshape(broadcast)
        return y.astype(out_dtype)

    def get_config(self):
        return layer_config(self, axis=self.axis, epsilon=self.epsilon, center=self.center, scale=self.scale,
                            rms_scaling=self.rms_scaling, **_gamma_beta_config(self))
