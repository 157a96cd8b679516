"""Activation layers: ReLU, LeakyReLU, PReLU, ELU, Softmax (Keras 3's arguments and configs).

The maths is `kerasish.activations` (Keras's formulas); PReLU holds one weight, `alpha`, of the
input's non-batch shape (1 along `shared_axes`). Softmax takes Keras's optional `mask`: masked
entries get a large negative logit and an output of 0.
"""

from __future__ import annotations

import warnings

import jax.numpy as jnp

from kerasish import activations, constraints, initializers, regularizers
from kerasish.layers.base import Layer
from kerasish.serialization import layer_config, weight_args_config


def _non_negative(value, what: str, allow_none: bool = False):
    if value is None and allow_none:
        return None
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ValueError(f"{what} cannot be None or a negative value. Received: {value!r}")
    return value


class ReLU(Layer):
    """`max(x, 0)` generalised: `negative_slope * (x - threshold)` below `threshold`, capped at
    `max_value` when given."""

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        self.max_value = _non_negative(max_value, "max_value of a ReLU layer", allow_none=True)
        self.negative_slope = _non_negative(negative_slope, "negative_slope of a ReLU layer")
        self.threshold = _non_negative(threshold, "threshold of a ReLU layer")
        self.supports_masking = True

    def compute_output_shape(self, input_shape):
        return input_shape

    def call(self, inputs):
        return activations.relu(inputs, negative_slope=self.negative_slope, max_value=self.max_value,
                                threshold=self.threshold)

    def get_config(self):
        return layer_config(self, max_value=self.max_value, negative_slope=self.negative_slope,
                            threshold=self.threshold)


class LeakyReLU(Layer):
    """`x` for `x >= 0`, `negative_slope * x` otherwise (Keras's default slope 0.3; `alpha=` is the
    deprecated name, accepted with a warning)."""

    def __init__(self, negative_slope=0.3, **kwargs):
        if "alpha" in kwargs:
            negative_slope = kwargs.pop("alpha")
            warnings.warn("Argument `alpha` is deprecated. Use `negative_slope` instead.", stacklevel=2)
        super().__init__(**kwargs)
        self.negative_slope = _non_negative(negative_slope, "The negative_slope value of a Leaky ReLU layer")
        self.supports_masking = True

    def compute_output_shape(self, input_shape):
        return input_shape

    def call(self, inputs):
        return activations.leaky_relu(inputs, negative_slope=self.negative_slope)

    def get_config(self):
        return layer_config(self, negative_slope=self.negative_slope)


class PReLU(Layer):
    """Leaky ReLU with a learned slope per input entry: `relu(x) - alpha * relu(-x)`; `shared_axes`
    (1-based, batch excluded) share one slope along those axes."""

    def __init__(self, alpha_initializer="Zeros", alpha_regularizer=None, alpha_constraint=None, shared_axes=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.alpha_initializer = initializers.get(alpha_initializer)
        self.alpha_regularizer = regularizers.get(alpha_regularizer)
        self.alpha_constraint = constraints.get(alpha_constraint)
        if shared_axes is None:
            self.shared_axes = None
        else:
            self.shared_axes = list(shared_axes) if isinstance(shared_axes, (list, tuple)) else [shared_axes]
            if any(isinstance(a, bool) or not isinstance(a, int) or a < 1 for a in self.shared_axes):
                raise ValueError("`shared_axes` must hold axis indices >= 1 (the batch axis 0 is never shared). "
                                 f"Received: shared_axes={shared_axes!r}")
        self.supports_masking = True

    def build(self, input_shape):
        shape = list(input_shape[1:])
        for axis in self.shared_axes or ():
            if axis >= len(input_shape):
                raise ValueError(f"`shared_axes` entry {axis} is out of range for inputs of rank "
                                 f"{len(input_shape)}. Received input shape {tuple(input_shape)}.")
            shape[axis - 1] = 1
        if None in shape:
            raise ValueError(f"Layer '{self.name}': every non-shared axis must be defined to build `alpha`. "
                             f"Received input shape {tuple(input_shape)}, shared_axes={self.shared_axes}.")
        self.alpha = self.add_weight(name="alpha", shape=tuple(shape), initializer=self.alpha_initializer,
                                     regularizer=self.alpha_regularizer, constraint=self.alpha_constraint)
        self.built = True

    def compute_output_shape(self, input_shape):
        return input_shape

    def call(self, inputs):
        return activations.relu(inputs) - self.alpha.value * activations.relu(-inputs)

    def get_config(self):
        return layer_config(self, **weight_args_config(self, "alpha"), shared_axes=self.shared_axes)


class ELU(Layer):
    """`x` for `x > 0`, `alpha * (exp(x) - 1)` otherwise.

    Keras's config omits `alpha` (so a reloaded Keras ELU has alpha 1); kerasish's keeps it.
    """

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float)):
            raise ValueError(f"`alpha` of an ELU layer must be a number. Received: alpha={alpha!r}")
        self.alpha = alpha
        self.supports_masking = True

    def compute_output_shape(self, input_shape):
        return input_shape

    def call(self, inputs):
        return activations.elu(inputs, alpha=self.alpha)

    def get_config(self):
        return layer_config(self, alpha=self.alpha)


class Softmax(Layer):
    """Softmax along `axis` (an int or a tuple of axes); with a boolean (or 0/1) `mask` broadcastable
    to the inputs, masked entries are left out and output 0."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)):
            if not axis or any(isinstance(a, bool) or not isinstance(a, int) for a in axis):
                raise ValueError(f"`axis` must be an int or a non-empty tuple of ints. Received: axis={axis!r}")
        elif isinstance(axis, bool) or not isinstance(axis, int):
            raise ValueError(f"`axis` must be an int or a non-empty tuple of ints. Received: axis={axis!r}")
        self.axis = axis
        self.supports_masking = True

    def compute_output_shape(self, input_shape):
        return input_shape

    def call(self, inputs, mask=None):
        if mask is not None:
            mask = jnp.asarray(mask)
            if mask.ndim > inputs.ndim or any(m not in (1, i) for m, i in zip(mask.shape[::-1], inputs.shape[::-1])):
                raise ValueError("The `mask` must be broadcastable to `inputs`. Received: "
                                 f"inputs.shape={inputs.shape}, mask.shape={mask.shape}")
            if mask.dtype != jnp.bool_:
                mask = mask > 0.5
            inputs = jnp.where(mask, inputs, -30000.0 if inputs.dtype == jnp.float16 else -1e9)
        axis = tuple(self.axis) if isinstance(self.axis, (list, tuple)) else self.axis
        outputs = activations.softmax(inputs, axis=axis)
        if mask is not None:
            outputs = jnp.where(mask, outputs, 0.0)
        return outputs

    def get_config(self):
        return layer_config(self, axis=self.axis)


__all__ = ["ELU", "LeakyReLU", "PReLU", "ReLU", "Softmax"]
