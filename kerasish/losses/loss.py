"""The `Loss` base class and `LossFunctionWrapper`, which every named Keras loss class is.

`call(y_true, y_pred)` gives per-sample values; `__call__(y_true, y_pred, sample_weight=None)` casts
the inputs to the loss's dtype, weights and reduces them (`"sum_over_batch_size"` by default).
Stateless and jit-safe.
"""

from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp

from kerasish import serialization
from kerasish.losses.functions import reduce_weighted_values, squeeze_or_expand_to_same_rank, standardize_reduction


class Loss:
    """Base class. Subclasses implement `call(y_true, y_pred) -> per-sample loss`.

    Args:
        name: defaults to the snake_case class name.
        reduction: one of `REDUCTIONS`; `"sum_over_batch_size"` by default.
        dtype: inputs are cast to it before `call`; `"float32"` by default.

    Raises:
        ValueError: for an unknown `reduction`.
    """

    def __init__(self, name: str | None = None, reduction: str | None = "sum_over_batch_size", dtype: Any = None):
        self.name = name or serialization.to_snake_case(type(self).__name__)
        self.reduction = standardize_reduction(reduction)
        self.dtype = jnp.dtype(dtype or "float32").name

    def __call__(self, y_true, y_pred, sample_weight=None) -> jax.Array:
        """The reduced loss: a scalar, or per-sample values for `reduction=None`."""
        y_true = jnp.asarray(y_true, self.dtype)
        y_pred = jnp.asarray(y_pred, self.dtype)
        values, mask = self._call_with_mask(y_true, y_pred)
        return reduce_weighted_values(jnp.asarray(values, self.dtype), sample_weight, mask, self.reduction)

    def call(self, y_true: jax.Array, y_pred: jax.Array) -> jax.Array:
        raise NotImplementedError

    def _call_with_mask(self, y_true, y_pred) -> tuple[jax.Array, jax.Array | None]:
        """Per-sample values and the mask of positions that count (None: all of them)."""
        return self.call(y_true, y_pred), None

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Loss:
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r} reduction={self.reduction!r}>"


class LossFunctionWrapper(Loss):
    """A `Loss` around a per-sample function `fn(y_true, y_pred, **kwargs)`.

    Example:
        >>> LossFunctionWrapper(mean_squared_error)(jnp.zeros((2, 3)), jnp.ones((2, 3)))  # 1.0
    """

    def __init__(self, fn: Callable, reduction="sum_over_batch_size", name=None, dtype=None, **kwargs):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true, y_pred):
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self):
        config = super().get_config()
        if type(self) is LossFunctionWrapper:
            config["fn"] = serialization.get_registered_name(self.fn)
        return {**config, **self._fn_kwargs}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if "fn" in config:
            from kerasish.losses import ALL_OBJECTS  # the registry lives with the public names

            config["fn"] = serialization.resolve(config["fn"], ALL_OBJECTS, "loss")
        return cls(**config)
