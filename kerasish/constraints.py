"""Keras 3 weight constraints: `constraint(w) -> w'`, applied to a variable after each optimizer step.

Pure and jit-safe; the training step applies them to the updated parameters (see
`training.step.apply_constraints`). Formulas and defaults follow `keras.constraints`.
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

from kerasish import serialization
from kerasish.regularizers import validate_float_arg


def _axis_arg(axis: Any) -> Any:
    return tuple(axis) if isinstance(axis, list) else axis


class Constraint:
    """Base class: `__call__(w) -> w` (the identity), `get_config`, `from_config`."""

    def __call__(self, w):
        return w

    def get_config(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "Constraint":
        return cls(**config)


def _norm(w, axis):
    return jnp.sqrt(jnp.sum(jnp.square(w), axis=axis, keepdims=True))


class MaxNorm(Constraint):
    """Rescales each slice along `axis` whose L2 norm exceeds `max_value` down to it."""

    def __init__(self, max_value: float = 2.0, axis: int = 0):
        self.max_value, self.axis = validate_float_arg(max_value, "max_value"), _axis_arg(axis)

    def __call__(self, w):
        norms = _norm(w, self.axis)
        desired = jnp.clip(norms, 0, self.max_value)
        return w * (desired / (1e-7 + norms))

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class MinMaxNorm(Constraint):
    """Keeps each slice's L2 norm within [min_value, max_value], moving `rate` of the way there."""

    def __init__(self, min_value: float = 0.0, max_value: float = 1.0, rate: float = 1.0, axis: int = 0):
        self.min_value = validate_float_arg(min_value, "min_value")
        self.max_value = validate_float_arg(max_value, "max_value")
        self.rate, self.axis = validate_float_arg(rate, "rate"), _axis_arg(axis)

    def __call__(self, w):
        norms = _norm(w, self.axis)
        desired = self.rate * jnp.clip(norms, self.min_value, self.max_value) + (1 - self.rate) * norms
        return w * (desired / (1e-7 + norms))

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate, "axis": self.axis}


class NonNeg(Constraint):
    """Sets negative weights to zero."""

    def __call__(self, w):
        return w * (w >= 0.0).astype(w.dtype)


class UnitNorm(Constraint):
    """Scales each slice along `axis` to unit L2 norm."""

    def __init__(self, axis: int = 0):
        self.axis = _axis_arg(axis)

    def __call__(self, w):
        return w / (1e-7 + _norm(w, self.axis))

    def get_config(self):
        return {"axis": self.axis}


_CLASSES = (Constraint, MaxNorm, MinMaxNorm, NonNeg, UnitNorm)
ALL_OBJECTS: dict[str, type] = {cls.__name__: cls for cls in _CLASSES}
ALL_OBJECTS.update({serialization.to_snake_case(cls.__name__): cls for cls in _CLASSES})
max_norm, min_max_norm, non_neg, unit_norm = MaxNorm, MinMaxNorm, NonNeg, UnitNorm


def get(identifier: Any) -> Constraint | Any | None:
    """A constraint from a name (`"non_neg"`, `"MaxNorm"`), a config dict, a class, an instance or a
    callable; None gives None.

    Raises:
        ValueError: `Could not interpret constraint identifier: ...` listing the accepted names.
    """
    if identifier is None:
        return None
    return serialization.resolve(identifier, ALL_OBJECTS, "constraint")


def serialize(constraint: Constraint) -> dict[str, Any]:
    return serialization.serialize_object(constraint)


def deserialize(config: dict[str, Any] | str, custom_objects: dict[str, Any] | None = None) -> Any:
    return serialization.resolve(config, ALL_OBJECTS, "constraint", custom_objects)
