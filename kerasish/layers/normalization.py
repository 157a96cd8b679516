"""BatchNormalization and LayerNormalization.

BatchNormalization (Keras defaults: momentum 0.99, epsilon 1e-3) on Flax's nnx.BatchNorm.

Training normalizes with the batch's statistics and updates the moving ones; inference uses the
moving ones. With a padded last batch the model passes `mask`, so padded rows never enter the
statistics.
"""

from __future__ import annotations

from flax import nnx

from kerasish import initializers
from kerasish.layers.base import Layer


class _BatchNorm(nnx.Module):
    def __init__(self, bn: nnx.BatchNorm):
        self.bn = bn

    def __call__(self, x, mask=None):
        if mask is not None:
            mask = mask.reshape(mask.shape + (1,) * (x.ndim - mask.ndim)).astype(bool)
            mask = mask & (x == x)  # broadcast the row mask to x's shape, as nnx.BatchNorm expects
        return self.bn(x, mask=mask)


class BatchNormalization(Layer):
    """Normalizes the last axis to zero mean and unit variance, then scales by gamma and shifts by beta."""

    accepts_mask = True

    def __init__(self, axis: int = -1, momentum: float = 0.99, epsilon: float = 1e-3,
                 center: bool = True, scale: bool = True, beta_initializer="zeros",
                 gamma_initializer="ones", moving_mean_initializer="zeros",
                 moving_variance_initializer="ones", beta_regularizer=None, gamma_regularizer=None,
                 **kwargs):
        super().__init__(**kwargs)
        if axis not in (-1,):
            raise ValueError(f"kerasish's BatchNormalization normalizes the last (channels) axis only. "
                             f"Received: axis={axis!r}")
        for arg, value in (("momentum", momentum), ("epsilon", epsilon)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ValueError(f"Argument `{arg}` must be a non-negative float. Received: {arg}={value!r}")
        if not momentum < 1:
            raise ValueError(f"Argument `momentum` must be smaller than 1. Received: momentum={momentum!r}")
        self.axis, self.momentum, self.epsilon = axis, float(momentum), float(epsilon)
        self.center, self.scale = bool(center), bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.gamma_regularizer = self._set_regularizer(("bn", "scale"), gamma_regularizer) if scale else None
        self.beta_regularizer = self._set_regularizer(("bn", "bias"), beta_regularizer) if center else None

    def make_module(self, input_shape, rngs):
        features = input_shape[-1]
        if features is None:
            raise ValueError(f"Layer '{self.name}': the normalized axis must be defined. "
                             f"Received input shape {input_shape}.")
        bn = nnx.BatchNorm(features, use_running_average=True, momentum=self.momentum,
                           epsilon=self.epsilon, use_bias=self.center, use_scale=self.scale,
                           bias_init=self.beta_initializer, scale_init=self.gamma_initializer,
                           dtype=self.compute_dtype, param_dtype=self.dtype, rngs=rngs)
        # Keras lets the moving statistics start from initializers too.
        key = rngs.params()
        bn.mean[...] = self.moving_mean_initializer(key, (features,), bn.mean[...].dtype)
        bn.var[...] = self.moving_variance_initializer(key, (features,), bn.var[...].dtype)
        return _BatchNorm(bn)

    def weight_specs(self):
        specs = []
        if self.scale:
            specs.append((("bn", "scale"), "gamma", True))
        if self.center:
            specs.append((("bn", "bias"), "beta", True))
        return specs + [(("bn", "mean"), "moving_mean", False), (("bn", "var"), "moving_variance", False)]

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "momentum": self.momentum,
                "epsilon": self.epsilon, "center": self.center, "scale": self.scale,
                "beta_initializer": initializers.serialize(self.beta_initializer),
                "gamma_initializer": initializers.serialize(self.gamma_initializer),
                "moving_mean_initializer": initializers.serialize(self.moving_mean_initializer),
                "moving_variance_initializer": initializers.serialize(self.moving_variance_initializer)}


class LayerNormalization(Layer):
    """Normalizes each sample over its last axis (Keras defaults: epsilon 1e-3, center, scale)."""

    def __init__(self, axis: int = -1, epsilon: float = 1e-3, center: bool = True, scale: bool = True,
                 beta_initializer="zeros", gamma_initializer="ones", **kwargs):
        super().__init__(**kwargs)
        if axis != -1:
            raise ValueError(f"kerasish's LayerNormalization normalizes the last axis only. Received: axis={axis!r}")
        if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float)) or epsilon <= 0:
            raise ValueError(f"Argument `epsilon` must be a positive float. Received: epsilon={epsilon!r}")
        self.axis, self.epsilon, self.center, self.scale = axis, float(epsilon), bool(center), bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)

    def make_module(self, input_shape, rngs):
        return nnx.LayerNorm(input_shape[-1], epsilon=self.epsilon, use_bias=self.center, use_scale=self.scale,
                             bias_init=self.beta_initializer, scale_init=self.gamma_initializer,
                             dtype=self.compute_dtype, param_dtype=self.dtype, rngs=rngs)

    def weight_specs(self):
        return ([(("scale",), "gamma", True)] if self.scale else []) + \
            ([(("bias",), "beta", True)] if self.center else [])

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon, "center": self.center,
                "scale": self.scale, "beta_initializer": initializers.serialize(self.beta_initializer),
                "gamma_initializer": initializers.serialize(self.gamma_initializer)}
