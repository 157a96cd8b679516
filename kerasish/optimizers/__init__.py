"""Optimizers: Keras 3 names and maths, built from optax transformations.

`get(identifier)` resolves what `compile(optimizer=...)` accepts: a name ("adam"), a config dict,
an `Optimizer`, or any `optax.GradientTransformation` (wrapped in `OptaxOptimizer`).
"""

from __future__ import annotations

from typing import Any

import optax

from kerasish.optimizers import schedules
from kerasish.optimizers.base import Optimizer
from kerasish.optimizers.optax_optimizer import OptaxOptimizer
from kerasish.optimizers.state import get_learning_rate, set_learning_rate
from kerasish.optimizers.keras_optimizers import (
    SGD,
    Adadelta,
    Adagrad,
    Adam,
    Adamax,
    AdamW,
    Lion,
    Momentum,
    Nadam,
    RMSprop,
)
from kerasish.optimizers.more import Adafactor, Ftrl, Lamb, LossScaleOptimizer

__all__ = [
    "Optimizer", "OptaxOptimizer", "get_learning_rate", "set_learning_rate",
    "SGD", "Momentum", "Adagrad", "RMSprop", "Adam", "AdamW", "Adamax", "Nadam", "Adadelta",
    "Lion", "Adafactor", "Ftrl", "Lamb", "LossScaleOptimizer", "schedules", "get", "serialize", "deserialize",
]

_OPTIMIZERS = {cls.__name__.lower(): cls for cls in
               (SGD, Momentum, Adagrad, RMSprop, Adam, AdamW, Adamax, Nadam, Adadelta, Lion,
                Adafactor, Ftrl, Lamb, LossScaleOptimizer)}


def serialize(optimizer: Optimizer) -> dict[str, Any]:
    """`{"module", "class_name", "config", "registered_name"}` like `keras.optimizers.serialize`."""
    if not isinstance(optimizer, Optimizer):
        raise TypeError(
            f"Expected a kerasish `Optimizer`. Received: optimizer={optimizer!r} "
            f"of type {type(optimizer).__name__}")
    return {"module": "keras.optimizers", "class_name": type(optimizer).__name__,
            "config": optimizer.get_config(), "registered_name": None}


def deserialize(config: dict[str, Any], custom_objects: dict | None = None) -> Optimizer:
    """Rebuilds an optimizer from `{"class_name": ..., "config": ...}`; names are case-insensitive
    for the built-in optimizers."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(
            f"Expected a dict with keys 'class_name' and 'config'. Received: config={config!r}")
    name = config["class_name"]
    cls = (custom_objects or {}).get(name) or _OPTIMIZERS.get(str(name).lower())
    if cls is None:
        raise ValueError(
            f"Could not interpret optimizer identifier: {name}. "
            f"Accepted names: {sorted(_OPTIMIZERS)}")
    return cls.from_config(dict(config.get("config") or {}), custom_objects=custom_objects)


def get(identifier) -> Optimizer | OptaxOptimizer | None:
    """Resolves a name, a config dict, an optimizer, or an `optax.GradientTransformation`.

    Raises:
        ValueError: `Could not interpret optimizer identifier: ...` for anything else.
    """
    if identifier is None or isinstance(identifier, (Optimizer, OptaxOptimizer)):
        return identifier
    if isinstance(identifier, optax.GradientTransformation):
        return OptaxOptimizer(identifier)
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        cls = _OPTIMIZERS.get(identifier.lower())
        if cls is not None:
            return cls()
    raise ValueError(
        f"Could not interpret optimizer identifier: {identifier}. "
        f"Accepted names: {sorted(_OPTIMIZERS)}, a config dict, an Optimizer instance or an "
        "optax.GradientTransformation.")
