"""The Metric base class: Keras 3's metric API over state held in `keras.Variable`s.

A metric keeps its state in non-trainable `keras.Variable`s (`metric.variables`) and offers three
faces of the same computation:

- Keras's stateful API: `update_state`, `result`, `reset_state` (and `__call__`).
- Keras's stateless API, for jitted code: `stateless_update_state(values, ...)`,
  `stateless_result(values)`, `stateless_reset_state()`, on lists of values in `variables` order.
- The functional core the compiled training step uses: `init() -> state`,
  `update(state, ...) -> state`, `compute(state) -> result`.

Built-in metrics define the functional core (pure jnp, state a dict of arrays, one variable per
key) and get the other two from it, so the default training step pays nothing for the objects.
Keras-style subclasses define `update_state` / `result` (and perhaps `reset_state`) with
`add_variable` and `variable.assign_add`, exactly as Keras documents; their stateless and functional
faces run those methods in a `StatelessScope`. Sample weights of 0 (padded rows of a last partial
batch) contribute nothing to the built-in metrics, even where the row's values are not finite.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Sequence

import jax
import jax.numpy as jnp
from flax import nnx

from kerasish.losses.functions import squeeze_or_expand_to_same_rank
from kerasish.metrics.stateless_scope import StatelessScope, value_of

__all__ = ["Metric", "Mean", "Sum", "MeanMetricWrapper", "squeeze_or_expand_to_same_rank"]

# Metric variables are counters: their initializers never need the global random stream.


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


def _init_key():
    """The key random initializers of metric variables get (made on first use: nothing may touch a JAX
    backend at import, or `jax.distributed.initialize` cannot run afterwards)."""
    return jax.random.key(0)


class Metric:
    """Base class of every metric; see the module docstring for its three faces.

    Subclass it the Keras way:

    Example:
        >>> class Positives(keras.metrics.Metric):
        ...     def __init__(self, name="positives", **kwargs):
        ...         super().__init__(name=name, **kwargs)
        ...         self.count = self.add_variable(shape=(), initializer="zeros", name="count")
        ...     def update_state(self, y_true, y_pred, sample_weight=None):
        ...         self.count.assign_add(keras.ops.sum(keras.ops.cast(y_pred > 0.5, "float32")))
        ...     def result(self):
        ...         return self.count.value

    or define the functional core (`init`, `update`, `compute`) as the built-in metrics do.
    """

    def __init__(self, dtype: str | None = None, name: str | None = None):
        if name is not None and not isinstance(name, str):
            raise TypeError(f"Expected `name` to be a string. Received: name={name!r}")
        self.name = name if name is not None else _snake_case(type(self).__name__)
        self.dtype = jnp.dtype(dtype or "float32").name
        self._variables: list = []
        self._keys: list[str] = []
        cls = type(self)
        if cls._defines_state():
            state = cls.init(self)
            if not isinstance(state, dict):
                raise TypeError(f"{cls.__name__}.init() must return a dict of arrays. Received: {type(state).__name__}")
            self._keys = list(state)
            self._variables = [self._make_variable(value, key) for key, value in state.items()]
            if not cls._pure():
                # A subclass of a built-in metric that overrides `update_state` / `result` /
                # `reset_state`: the compiled step must run those overrides, through the stateless API.
                self.init, self.update, self.compute = (self.stateless_reset_state, self.stateless_update_state,
                                                        self.stateless_result)

    @classmethod
    def _defines_state(cls) -> bool:
        """Whether the class defines its state with `init()` (the built-in metrics do)."""
        return cls.init is not Metric.init

    @classmethod
    def _pure(cls) -> bool:
        """Whether the functional core alone defines the metric: kerasish's own classes (whose
        stateful methods, where they have any, only wrap the core) and subclasses that leave
        `update_state`, `result` and `reset_state` alone."""
        return cls._defines_state() and all(
            getattr(cls, name) is getattr(Metric, name) or getattr(cls, name).__module__.startswith("kerasish.")
            for name in ("update_state", "result", "reset_state"))

    # ---------------------------------------------------------------- variables
    def _make_variable(self, initializer, name: str | None, shape=None, dtype=None, aggregation="sum"):
        from kerasish.variables import Variable
        return Variable(initializer, shape=shape, dtype=dtype or self.dtype, trainable=False,
                        aggregation=aggregation, name=name, path=f"{self.name}/{name or 'variable'}",
                        key=_init_key())

    def add_variable(self, shape: Sequence[int] = (), initializer: Any = "zeros", dtype: str | None = None,
                     aggregation: str = "sum", name: str | None = None):
        """Creates a state variable (a non-trainable `keras.Variable`) and tracks it in `variables`."""
        if type(self)._defines_state():
            raise TypeError(f"{type(self).__name__} defines its state with `init()`; it cannot add variables.")
        variable = self._make_variable(initializer if initializer is not None else "zeros", name,
                                       shape=tuple(shape), dtype=dtype, aggregation=aggregation)
        self._variables.append(variable)
        return variable

    def add_weight(self, shape: Sequence[int] = (), initializer: Any = None, dtype: str | None = None,
                   name: str | None = None):
        """Keras's older name for `add_variable`."""
        return self.add_variable(shape=shape, initializer=initializer, dtype=dtype, name=name)

    @property
    def variables(self) -> list:
        """The state variables, in creation order (a built-in metric: one per key of its state)."""
        return list(self._variables)

    def _values(self) -> list:
        return [v.get_value() for v in self._variables]

    @property
    def state(self) -> Any:
        """The current values as the functional core's state (a dict for the built-in metrics)."""
        return self._as_state(self._values())

    @state.setter
    def state(self, state: Any) -> None:
        """Stores `state`; a dict with other keys or shapes (a metric built on its first batch)
        replaces the variables."""
        if type(self)._defines_state() and (list(state) != self._keys or any(
                jnp.shape(state[k]) != v.shape for k, v in zip(self._keys, self._variables))):
            self._keys = list(state)
            self._variables = [self._make_variable(value, key) for key, value in state.items()]
            return
        self._assign(self._as_values(state))

    def _as_state(self, values: Sequence[Any]) -> Any:
        """A list of values (`variables` order) as the functional core's state."""
        values = [value_of(v) for v in values]
        if len(values) != len(self._variables):
            raise ValueError(f"Metric {self.name!r} has {len(self._variables)} variables; received "
                             f"{len(values)} values.")
        return dict(zip(self._keys, values)) if type(self)._defines_state() else values

    def _as_values(self, state: Any) -> list:
        return [state[key] for key in self._keys] if type(self)._defines_state() else list(state)

    def _assign(self, values: Sequence[Any]) -> None:
        for variable, value in zip(self._variables, values):
            variable.assign(value)

    # ---------------------------------------------------------------- functional core
    def init(self) -> Any:
        """The state of a fresh metric (for a Keras-style subclass: what `reset_state` assigns)."""
        return self.stateless_reset_state()

    def update(self, state, *args, **kwargs) -> Any:
        """The state after `update_state(*args, **kwargs)` (pure, jit-safe)."""
        return self.stateless_update_state(state, *args, **kwargs)

    def compute(self, state) -> Any:
        """`result()` for `state` (pure, jit-safe)."""
        return self.stateless_result(state)

    # ---------------------------------------------------------------- Keras stateful API
    def update_state(self, *args, **kwargs) -> None:
        cls = type(self)
        if not cls._defines_state():
            raise NotImplementedError(f"{cls.__name__} must implement `update_state()`.")
        self._assign(self._as_values(cls.update(self, self._as_state(self._values()), *args, **kwargs)))

    def result(self) -> Any:
        cls = type(self)
        if not cls._defines_state():
            raise NotImplementedError(f"{cls.__name__} must implement `result()`.")
        return cls.compute(self, self._as_state(self._values()))

    def reset_state(self) -> None:
        """Puts every variable back to its starting value (a Keras-style metric: zeros, as in Keras)."""
        cls = type(self)
        if cls._defines_state():
            self._assign(self._as_values(cls.init(self)))
        else:
            self._assign([jnp.zeros(v.shape, v.dtype) for v in self._variables])

    def __call__(self, *args, **kwargs) -> Any:
        """Keras semantics: update the stored state, then return the result."""
        self.update_state(*args, **kwargs)
        return self.result()

    # ---------------------------------------------------------------- Keras stateless API
    def stateless_update_state(self, metric_variables: Sequence[Any], *args, **kwargs) -> list:
        """The new values of `variables` after `update_state(*args, **kwargs)` starting from
        `metric_variables`; the metric itself is unchanged."""
        cls = type(self)
        if cls._pure():
            return self._as_values(cls.update(self, self._as_state(metric_variables), *args, **kwargs))
        with StatelessScope(self._variables, metric_variables) as scope:
            self.update_state(*args, **kwargs)
        return scope.values()

    def stateless_result(self, metric_variables: Sequence[Any]) -> Any:
        """`result()` computed from `metric_variables` instead of the stored values."""
        cls = type(self)
        if cls._pure():
            return cls.compute(self, self._as_state(metric_variables))
        with StatelessScope(self._variables, metric_variables):
            # `result()` may return a state variable itself (`return self.true_positives`): read it
            # while it still holds the given values, not after the scope has put the old ones back.
            return jax.tree.map(value_of, self.result(), is_leaf=lambda x: isinstance(x, nnx.Variable))

    def stateless_reset_state(self) -> list:
        """The values `reset_state()` would assign; the metric itself is unchanged."""
        cls = type(self)
        if cls._pure():
            return self._as_values(cls.init(self))
        with StatelessScope(self._variables, self._values()) as scope:
            self.reset_state()
        return scope.values()

    # ---------------------------------------------------------------- config
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
        if jnp.ndim(values) == 0 and sample_weight is not None and jnp.ndim(sample_weight) > 0:
            # A function that reduces the whole batch to one number (`ops.mean(y_pred)`): the compiled
            # step's per-row weights (0 on padding) weigh that number by the batch's real rows.
            sample_weight = jnp.sum(sample_weight)
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
