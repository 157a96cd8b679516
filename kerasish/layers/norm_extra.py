"""GroupNormalization, UnitNormalization, RMSNormalization (Keras 3's arguments, weights and configs).

GroupNormalization splits the channel `axis` into `groups` and normalizes each sample over every
non-batch axis within a group (groups=-1: instance normalization), in at least float32, then scales
by `gamma` and shifts by `beta` (per channel). UnitNormalization divides by the L2 norm over
`axis`; RMSNormalization divides by the root mean square over `axis` and scales by `scale`.
"""

from __future__ import annotations

import jax.numpy as jnp

from kerasish import ops
from kerasish.layers.base import Layer
from kerasish.layers.normalization import _check_float, _set_gamma_beta_args
from kerasish.serialization import layer_config, weight_args_config


def _check_axes(axis, input_shape) -> None:
    for a in axis if isinstance(axis, (list, tuple)) else [axis]:
        if not -len(input_shape) <= a < len(input_shape):
            raise ValueError(f"Axis {a} is out of bounds for input shape {tuple(input_shape)}. Received: axis={axis}")


def _axis_arg(axis):
    if isinstance(axis, (list, tuple)) and all(isinstance(a, int) and not isinstance(a, bool) for a in axis):
        return list(axis)
    if isinstance(axis, int) and not isinstance(axis, bool):
        return axis
    raise TypeError(f"Invalid value for `axis` argument: expected an int or a list/tuple of ints. Received: "
                    f"axis={axis!r}")


class GroupNormalization(Layer):
    """Group normalization (Wu & He, 2018) over `groups` groups of the channels on `axis`."""

    def __init__(self, groups: int = 32, axis: int = -1, epsilon: float = 1e-3, center: bool = True,
                 scale: bool = True, beta_initializer="zeros", gamma_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None, gamma_constraint=None, **kwargs):
        if isinstance(groups, bool) or not isinstance(groups, int) or (groups <= 0 and groups != -1):
            raise ValueError("Received an invalid value for argument `groups`, expected a positive integer (or "
                             f"`-1` for instance normalization). Received: groups={groups!r}")
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise TypeError(f"Expected an int for `axis`. Received: axis={axis!r}")
        super().__init__(**kwargs)
        self.autocast = False
        self.groups, self.axis = groups, axis
        self.epsilon = _check_float("epsilon", epsilon)
        self.center, self.scale = bool(center), bool(scale)
        _set_gamma_beta_args(self, beta_initializer, gamma_initializer, beta_regularizer, gamma_regularizer,
                             beta_constraint, gamma_constraint)
        self.supports_masking = True

    def build(self, input_shape):
        _check_axes(self.axis, input_shape)
        dim = input_shape[self.axis]
        if dim is None:
            raise ValueError(f"Axis {self.axis} of input tensor should have a defined dimension but the layer "
                             f"received an input with shape {tuple(input_shape)}.")
        if self.groups == -1:
            self.groups = dim  # as in Keras, the config then reports the channel count
        if dim < self.groups:
            raise ValueError(f"Number of groups ({self.groups}) cannot be more than the number of channels ({dim}).")
        if dim % self.groups:
            raise ValueError(f"Number of groups ({self.groups}) must be a multiple of the number of channels ({dim}).")
        self.gamma = self.add_weight(name="gamma", shape=(dim,), initializer=self.gamma_initializer,
                                     regularizer=self.gamma_regularizer, constraint=self.gamma_constraint,
                                     autocast=False) if self.scale else None
        self.beta = self.add_weight(name="beta", shape=(dim,), initializer=self.beta_initializer,
                                    regularizer=self.beta_regularizer, constraint=self.beta_constraint,
                                    autocast=False) if self.center else None
        self.built = True

    def compute_output_shape(self, input_shape):
        _check_axes(self.axis, input_shape)
        return input_shape

    def call(self, inputs):
        axis = self.axis % inputs.ndim
        grouped = (*inputs.shape[:axis], self.groups, inputs.shape[axis] // self.groups, *inputs.shape[axis + 1:])
        x = inputs.reshape(grouped).astype(jnp.result_type(inputs.dtype, jnp.float32))
        reduce = tuple(a for a in range(1, x.ndim) if a != axis)
        mean = jnp.mean(x, axis=reduce, keepdims=True)
        variance = jnp.var(x, axis=reduce, keepdims=True)
        inv = 1.0 / jnp.sqrt(variance + self.epsilon)
        laid = [1] * x.ndim
        laid[axis], laid[axis + 1] = grouped[axis], grouped[axis + 1]
        if self.gamma is not None:
            inv = inv * self.gamma.value.astype(x.dtype).reshape(laid)
        y = (x - mean) * inv
        if self.beta is not None:
            y = y + self.beta.value.astype(x.dtype).reshape(laid)
        return y.reshape(inputs.shape).astype(self.compute_dtype)

    def get_config(self):
        return layer_config(self, groups=self.groups, axis=self.axis, epsilon=self.epsilon, center=self.center,
                            scale=self.scale, **weight_args_config(self, "beta", "gamma"))


class UnitNormalization(Layer):
    """Divides each sample by its L2 norm over `axis` (an int or a list of ints)."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = _axis_arg(axis)
        self.supports_masking = True

    def compute_output_shape(self, input_shape):
        _check_axes(self.axis, input_shape)
        return input_shape

    def call(self, inputs):
        axis = tuple(self.axis) if isinstance(self.axis, list) else self.axis
        return ops.normalize(inputs, axis=axis, order=2, epsilon=1e-12)

    def get_config(self):
        return layer_config(self, axis=self.axis)


class RMSNormalization(Layer):
    """`x / sqrt(mean(x**2 over axis) + epsilon) * scale`; weight `scale` over the normalized axes."""

    def __init__(self, axis=-1, epsilon: float = 1e-6, **kwargs):
        super().__init__(**kwargs)
        self.axis = _axis_arg(axis)
        self.epsilon = _check_float("epsilon", epsilon)

    def build(self, input_shape):
        _check_axes(self.axis, input_shape)
        # As in Keras, building turns `axis` into a (sorted) list, which the config then reports.
        self.axis = sorted(self.axis) if isinstance(self.axis, list) else [self.axis]
        self.scale = self.add_weight(name="scale", shape=tuple(input_shape[a] for a in self.axis),
                                     initializer="ones")
        self.built = True

    def compute_output_shape(self, input_shape):
        _check_axes(self.axis, input_shape)
        return input_shape

    def call(self, inputs):
        return ops.rms_normalization(inputs, scale=self.scale.value, axis=self.axis, epsilon=self.epsilon)

    def get_config(self):
        return layer_config(self, axis=self.axis, epsilon=self.epsilon)


__all__ = ["GroupNormalization", "RMSNormalization", "UnitNormalization"]
