"""Keras 3 weight regularizers: `regularizer(weights) -> scalar penalty`, pure and jit-safe.

The penalty is added to the loss by the training step; this module only computes it. Formulas match
`keras.regularizers` (L2 is `l2 * sum(x**2)`, without a 1/2 factor).
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp

from kerasish import serialization


def validate_float_arg(value: Any, name: str) -> float:
    """`value` as a float if it is a finite non-negative number, else ValueError naming `name`."""
    if (
        not isinstance(value, (float, int))
        or isinstance(value, bool)
        or math.isinf(value)
        or math.isnan(value)
        or value < 0
    ):
        raise ValueError(
            f"Invalid value for argument {name}: expected a non-negative float. Received: {name}={value}"
        )
    return float(value)


class Regularizer:
    """Base class: `__call__(x) -> scalar`, `get_config`, `from_config`. The base penalty is 0."""

    def __call__(self, x: jax.Array) -> jax.Array:
        return jnp.asarray(0.0)

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Regularizer:
        return cls(**config)

    def get_config(self) -> dict[str, Any]:
        raise NotImplementedError(f"{object.__repr__(self)} does not implement get_config()")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.get_config().items())})"


class L1L2(Regularizer):
    """`l1 * sum(abs(x)) + l2 * sum(x**2)`. `None` counts as 0."""

    def __init__(self, l1: float = 0.0, l2: float = 0.0):
        self.l1 = validate_float_arg(0.0 if l1 is None else l1, name="l1")
        self.l2 = validate_float_arg(0.0 if l2 is None else l2, name="l2")

    def __call__(self, x):
        x = jnp.asarray(x)
        penalty = jnp.asarray(0.0, x.dtype)
        if self.l1 != 0.0:
            penalty += jnp.asarray(self.l1, x.dtype) * jnp.sum(jnp.abs(x))
        if self.l2 != 0.0:
            penalty += jnp.asarray(self.l2, x.dtype) * jnp.sum(jnp.square(x))
        return penalty

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class L1(Regularizer):
    """`l1 * sum(abs(x))`. `None` means the default 0.01."""

    def __init__(self, l1: float = 0.01):
        self.l1 = validate_float_arg(0.01 if l1 is None else l1, name="l1")

    def __call__(self, x):
        x = jnp.asarray(x)
        return jnp.asarray(self.l1, x.dtype) * jnp.sum(jnp.abs(x))

    def get_config(self):
        return {"l1": self.l1}


class L2(Regularizer):
    """`l2 * sum(x**2)`. `None` means the default 0.01."""

    def __init__(self, l2: float = 0.01):
        self.l2 = validate_float_arg(0.01 if l2 is None else l2, name="l2")

    def __call__(self, x):
        x = jnp.asarray(x)
        return jnp.asarray(self.l2, x.dtype) * jnp.sum(jnp.square(x))

    def get_config(self):
        return {"l2": self.l2}


class OrthogonalRegularizer(Regularizer):
    """Penalizes non-orthogonal rows (`mode="rows"`) or columns of a rank-2 weight:
    `factor * 0.5 * sum(abs(off-diagonal of normalized x @ x.T)) / number of pairs`.

    Raises:
        ValueError: for a negative `factor`, an unknown `mode`, or (when called) a weight not of rank 2.
    """

    def __init__(self, factor: float = 0.01, mode: str = "rows"):
        self.factor = validate_float_arg(factor, name="factor")
        if mode not in ("rows", "columns"):
            raise ValueError(
                f'Invalid value for argument `mode`. Expected one of {{"rows", "columns"}}. Received: mode={mode}'
            )
        self.mode = mode

    def __call__(self, x):
        x = jnp.asarray(x)
        if x.ndim != 2:
            raise ValueError(f"Inputs to OrthogonalRegularizer must have rank 2. Received: inputs.shape={x.shape}")
        if self.mode == "columns":
            x = x.T
        inv_norm = jax.lax.rsqrt(jnp.sum(jnp.square(x), axis=1, keepdims=True))
        x = x * jnp.minimum(inv_norm, 1e7)  # Keras's L2 normalize, epsilon 1e-7
        size = x.shape[0]
        off_diagonal = (x @ x.T) * (1.0 - jnp.eye(size, dtype=x.dtype))
        num_pairs = size * (size - 1.0) / 2.0
        return self.factor * 0.5 * jnp.sum(jnp.abs(off_diagonal)) / num_pairs

    def get_config(self):
        return {"factor": self.factor, "mode": self.mode}


_CLASSES = (Regularizer, L1, L2, L1L2, OrthogonalRegularizer)
ALL_OBJECTS: dict[str, type] = {cls.__name__: cls for cls in _CLASSES}
ALL_OBJECTS.update({serialization.to_snake_case(cls.__name__): cls for cls in _CLASSES})
ALL_OBJECTS["l1_l2"] = L1L2  # the name `keras.regularizers.l1_l2` is exported under


# Keras 3's lower-case aliases (`keras.regularizers.l2(1e-4)`).
l1, l2, l1_l2, orthogonal_regularizer = L1, L2, L1L2, OrthogonalRegularizer


def get(identifier: Any) -> Regularizer | Any | None:
    """A regularizer from a name (`"l2"`, `"L1L2"`), a config dict, a class, an instance or a callable.
    `None` gives None.

    Raises:
        ValueError: `Could not interpret regularizer identifier: ...` listing the accepted names.

    Example:
        >>> get("l2")(jnp.ones((2, 2)))  # 0.01 * 4
    """
    if identifier is None:
        return None
    return serialization.resolve(identifier, ALL_OBJECTS, "regularizer")


def serialize(regularizer: Regularizer) -> dict[str, Any]:
    """`{"class_name": ..., "config": ...}`."""
    return serialization.serialize_object(regularizer)


def deserialize(config: dict[str, Any] | str, custom_objects: dict[str, Any] | None = None) -> Any:
    """Inverse of `serialize`; also accepts a name."""
    return serialization.resolve(config, ALL_OBJECTS, "regularizer", custom_objects)
