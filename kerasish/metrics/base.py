"""Metric base classes: a pure functional core with the Keras stateful API on top.

The compiled training step uses only `init() -> state`, `update(state, ...) -> state` and
`compute(state) -> scalar`: pure jnp, jit-safe, state a dict of arrays. `update_state`, `result` and
`reset_state` keep one such state on the object for eager use, as Keras metrics do. Sample weights
of 0 (padded rows of a last partial batch) contribute nothing, even where the row's values are not
finite.
"""

from __future__ import annotations

import re
from typing import Any, Callable

import jax
import jax.numpy as jnp

__all__ = ["Metric", "Mean", "Sum", "MeanMetricWrapper", "squeeze_or_expand_to_same_rank"]


def squeeze_or_expand_to_same_rank(x1, x2, expand_rank_1: bool = True):
    """Keras's rule: when ranks differ by one and the longer ends in 1, squeeze it (or expand the
    rank-1 one)."""
    r1, r2 = jnp.ndim(x1), jnp.ndim(x2)
    if r1 == r2 + 1 and x1.shape[-1] == 1:
        if r2 == 1 and expand_rank_1:
            x2 = jnp.expand_dims(x2, -1)
        else:
            x1 = jnp.squeeze(x1, -1)
    if r2 == r1 + 1 and x2.shape[-1] == 1:
        if r1 == 1 and expand_rank_1:
            x1 = jnp.expand_dims(x1, -1)
        else:
            x2 = jnp.squeeze(x2, -1)
    return x1, x2


def _weighted(values, weights):
    """values * weights, with exact zeros where the weight is zero (padding may hold inf/nan)."""
    return jnp.where(weights == 0, 0.0, values * weights)


def reduce_to_samplewise_values(values, sample_weight, reduce_fn, dtype):
    """Keras's `reduce_to_samplewise_values`: per-sample weighted values and per-sample weights."""
    values = jnp.asarray(values, dtype)
    if sample_weight is not None:
        sample_weight = jnp.asarray(sample_weight, dtype)
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        w_ndim, v_ndim = sample_weight.ndim, values.ndim
        if v_ndim > w_ndim:
            values = reduce_fn(values, axis=tuple(range(w_ndim, v_ndim)))
        sample_weight = jnp.broadcast_to(sample_weight, values.shape)
        values = _weighted(values, sample_weight)
        if w_ndim > 1:
            sample_weight = reduce_fn(sample_weight, axis=tuple(range(1, w_ndim)))
    if values.ndim > 1:
        values = reduce_fn(values, axis=tuple(range(1, values.ndim)))
    return values, sample_weight


class Metric:
    """Base class. Subclasses define `init`, `update` and `compute`; the stateful methods follow.

    Example:
        >>> m = Mean()
        >>> state = m.update(m.init(), jnp.array([1.0, 3.0]))   # pure, inside jit
        >>> float(m.compute(state))
        2.0
    """

    def __init__(self, name: str | None = None, dtype: str | None = None):
        self.name = name if name is not None else _snake_case(type(self).__name__)
        self.dtype = dtype or "float32"
        self.state = self.init()

    # ---------------------------------------------------------------- functional core
    def init(self) -> dict[str, jax.Array]:
        raise NotImplementedError

    def update(self, state, *args, **kwargs) -> dict[str, jax.Array]:
        raise NotImplementedError

    def compute(self, state) -> jax.Array:
        raise NotImplementedError

    # ---------------------------------------------------------------- Keras stateful API
    def update_state(self, *args, **kwargs) -> None:
        self.state = self.update(self.state, *args, **kwargs)

    def result(self) -> jax.Array:
        return self.compute(self.state)

    def reset_state(self) -> None:
        self.state = self.init()

    def __call__(self, *args, **kwargs) -> jax.Array:
        """Keras semantics: update the stored state, then return the result."""
        self.update_state(*args, **kwargs)
        return self.result()

    @property
    def variables(self) -> list[jax.Array]:
        return list(self.state.values())

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "Metric":
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}>"


def _snake_case(name: str) -> str:
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


class Sum(Metric):
    """Weighted sum of the values: `update(state, values, sample_weight=None)`."""

    def __init__(self, name: str = "sum", dtype: str | None = None):
        super().__init__(name=name, dtype=dtype)

    def init(self):
        return {"total": jnp.zeros((), self.dtype)}

    def update(self, state, values, sample_weight=None):
        values, _ = reduce_to_samplewise_values(values, sample_weight, jnp.sum, self.dtype)
        return {"total": state["total"] + jnp.sum(values)}

    def compute(self, state):
        return state["total"]


class Mean(Metric):
    """Weighted mean of the values: `update(state, values, sample_weight=None)`.

    `total / count` with `count` the sum of the weights (0 when nothing was seen)."""

    def __init__(self, name: str = "mean", dtype: str | None = None):
        super().__init__(name=name, dtype=dtype)

    def init(self):
        return {"total": jnp.zeros((), self.dtype), "count": jnp.zeros((), self.dtype)}

    def update(self, state, values, sample_weight=None):
        values, sample_weight = reduce_to_samplewise_values(
            values, sample_weight, jnp.mean, self.dtype)
        if sample_weight is not None:
            count = jnp.sum(sample_weight)
        else:
            count = values.shape[0] if values.ndim >= 1 else 1
        return {"total": state["total"] + jnp.sum(values),
                "count": state["count"] + jnp.asarray(count, self.dtype)}

    def compute(self, state):
        count = state["count"]
        return jnp.where(count == 0, 0.0, state["total"] / jnp.where(count == 0, 1.0, count))


class MeanMetricWrapper(Mean):
    """Mean of a per-sample function `fn(y_true, y_pred, **kwargs)` (pure jnp):
    `update(state, y_true, y_pred, sample_weight=None)`."""

    def __init__(self, fn: Callable, name: str | None = None, dtype: str | None = None, **kwargs):
        if not callable(fn):
            raise TypeError(f"Argument `fn` must be callable. Received: fn={fn!r}")
        self._fn = fn
        self._fn_kwargs = kwargs
        super().__init__(name=name if name is not None else "mean_metric_wrapper", dtype=dtype)

    def update(self, state, y_true, y_pred, sample_weight=None):
        values = self._fn(y_true, y_pred, **self._fn_kwargs)
        return super().update(state, values, sample_weight=sample_weight)

    def get_config(self):
        config = {**super().get_config(), **self._fn_kwargs}
        if type(self) is MeanMetricWrapper:
            config["fn"] = getattr(self._fn, "__name__", repr(self._fn))
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if cls is MeanMetricWrapper and isinstance(config.get("fn"), str):
            from kerasish.metrics import _FUNCTIONS  # the registry of named metric functions

            name = config["fn"]
            if name not in _FUNCTIONS:
                raise ValueError(f"Could not interpret metric function: {name}")
            config["fn"] = _FUNCTIONS[name]
        return cls(**config)
