"""`keras.Variable`: a Flax NNX variable with Keras's API.

A trainable variable *is* an `nnx.Param`; a non-trainable one is a plain `nnx.Variable`. So the
variable's type decides what trains (`nnx.split(model, nnx.Param, ...)`, `nnx.Optimizer(model, tx,
wrt=nnx.Param)`), as in Flax, and Keras's `variable.trainable` is a view of that type. Keras's
attributes (name, path, autocast, regularizer, constraint) are NNX metadata, so they survive
`nnx.split` / `nnx.merge` and travel into compiled steps.

Owns: creating a variable from a value or an initializer, reading it (autocast to a layer's compute
dtype inside a mixed-precision call), assigning it with shape/dtype checks. Must not: know about
layers beyond the autocast and "symbolic call" flags of `kerasish.layers.context`.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx
from flax.nnx import tracers

from kerasish.utils.host import to_host


def _standard_dtype(dtype: Any) -> str:
    from kerasish import backend
    if dtype is None:
        return backend.floatx()
    try:
        return jnp.dtype(dtype).name
    except TypeError:
        raise ValueError(f"Invalid dtype: {dtype!r}. Expected a dtype name such as 'float32'.") from None


def initial_value(initializer: Any, shape: Any, dtype: str, key: jax.Array | None = None) -> jax.Array:
    """The starting array of a variable: `initializer` is an array-like, a name ("zeros",
    "glorot_uniform"), a kerasish initializer (key-first) or any Keras-style `fn(shape, dtype)`."""
    from kerasish import initializers
    from kerasish.utils import rng
    if isinstance(initializer, str) or isinstance(initializer, dict):
        initializer = initializers.get(initializer)
    if isinstance(initializer, initializers.Initializer):
        if shape is None:
            raise ValueError(f"When creating a Variable from an initializer, the `shape` argument should be "
                             f"specified. Received: initializer={initializer} and shape={shape}")
        shape = tuple(int(d) for d in ((shape,) if isinstance(shape, int) else shape))
        with jax.ensure_compile_time_eval():  # concrete weights even when built inside a trace
            return jnp.asarray(initializer(rng.next_key() if key is None else key, shape, dtype), dtype)
    if callable(initializer) and not hasattr(initializer, "shape"):
        if shape is None:
            raise ValueError(f"When creating a Variable from an initializer, the `shape` argument should be "
                             f"specified. Received: initializer={initializer} and shape={shape}")
        with jax.ensure_compile_time_eval():
            return jnp.asarray(initializer(tuple(shape), dtype=dtype), dtype)
    value = initializer.get_value() if isinstance(initializer, nnx.Variable) else initializer
    value = jnp.asarray(value, dtype)
    if shape is not None and tuple(value.shape) != tuple(shape):
        raise ValueError(f"Initial value has shape {tuple(value.shape)}, which is incompatible with the "
                         f"`shape` argument {tuple(shape)}.")
    return value


_EAGER_TRACE = tracers.TraceState()  # made at import, outside any JAX trace


def stamp_eager(variable: nnx.Variable) -> None:
    """A variable created while a layer is built inside a *symbolic* trace (shape inference) holds
    a concrete value: it belongs to the eager world, where it will be read and assigned."""
    from kerasish.layers import context
    if context.is_symbolic() and not isinstance(variable.get_value(), jax.core.Tracer):
        object.__setattr__(variable, "_trace_state", _EAGER_TRACE)


class Variable(nnx.Variable):
    """A weight: `keras.Variable(initializer, shape=None, dtype=None, trainable=True, autocast=True,
    aggregation="none", synchronization="auto", name=None)`.

    Example:
        >>> v = keras.Variable(np.ones((2, 2)), name="w")
        >>> v.assign_add(np.ones((2, 2))); float(keras.ops.sum(v))
        8.0
    """

    def __new__(cls, *args, trainable: bool = True, **kwargs):
        if cls is Variable:
            cls = TrainableVariable if trainable else NonTrainableVariable
        return object.__new__(cls)

    def __init__(self, initializer: Any, shape: Any = None, dtype: Any = None, trainable: bool = True,
                 autocast: bool = True, aggregation: str = "none", synchronization: str = "auto",
                 name: str | None = None, *, regularizer: Any = None, constraint: Any = None,
                 path: str | None = None, key: jax.Array | None = None, serial: int | None = None):
        if name is not None and not isinstance(name, str):
            raise ValueError(f"Argument `name` must be a string. Received: name={name!r}")
        if name is not None and "/" in name:
            raise ValueError(f"Argument `name` must be a string and cannot contain character `/`. "
                             f"Received: name={name}")
        if aggregation not in ("none", "mean", "sum", "only_first_replica"):
            raise ValueError(f"Invalid value for argument `aggregation`. Expected one of `None`, `'none'`, "
                             f"`'mean'`, `'sum'`, `'only_first_replica'`. Received: aggregation={aggregation}")
        if dtype is None and not isinstance(initializer, (str, dict)) and not callable(initializer):
            value = initializer.get_value() if isinstance(initializer, nnx.Variable) else initializer
            dtype = jnp.asarray(value).dtype  # as Keras: float64 -> float32, int64 -> int32
        dtype = _standard_dtype(dtype)
        value = initial_value(initializer, shape, dtype, key)
        name = name or "variable"
        super().__init__(value, name=name, path=path or name, autocast=bool(autocast),
                         regularizer=regularizer, constraint=constraint, aggregation=aggregation,
                         **({} if serial is None else {"serial": serial}))
        stamp_eager(self)

    # -- Keras's read API ------------------------------------------------------------------
    @property
    def value(self) -> jax.Array:
        value = self.get_value()
        from kerasish.layers import context
        dtype = context.autocast_dtype()
        if dtype is not None and self.get_metadata("autocast", True) and \
                jnp.issubdtype(value.dtype, jnp.floating) and value.dtype != dtype:
            return value.astype(dtype)
        return value

    @value.setter
    def value(self, new) -> None:
        self.assign(new)

    def __jax_array__(self):
        return self.value

    def __array__(self, dtype=None, copy=None):
        array = to_host(self.get_value())
        return array.astype(dtype) if dtype is not None else array

    def numpy(self) -> np.ndarray:
        return to_host(self.get_value())

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.get_value().shape)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def dtype(self) -> str:
        return jnp.dtype(self.get_value().dtype).name

    @property
    def name(self) -> str:
        return self.get_metadata("name")

    @property
    def path(self) -> str:
        return self.get_metadata("path")

    @property
    def trainable(self) -> bool:
        return isinstance(self, nnx.Param)

    @trainable.setter
    def trainable(self, value: bool) -> None:
        # The type is the truth for NNX filters: switch between the two concrete classes.
        object.__setattr__(self, "__class__", TrainableVariable if value else NonTrainableVariable)

    @property
    def regularizer(self):
        return self.get_metadata("regularizer", None)

    @property
    def constraint(self):
        return self.get_metadata("constraint", None)

    # -- Keras's write API -----------------------------------------------------------------
    def assign(self, value) -> "Variable":
        """Sets the value (same shape; cast to the variable's dtype). Inside a symbolic call (shape
        inference of the functional API), assignments are not applied, as in Keras."""
        from kerasish.layers import context
        if context.is_symbolic():
            return self
        old = self.get_value()
        if isinstance(value, nnx.Variable):
            value = value.get_value()
        value = jnp.asarray(value, dtype=old.dtype)
        if value.shape != old.shape:
            raise ValueError(f"The shape of the target variable and the shape of the target value in "
                             f"`variable.assign(value)` must match. variable.shape={old.shape}, "
                             f"Received: value.shape={value.shape}. Target variable: {self.path}")
        if isinstance(old, jax.Array) and not isinstance(value, jax.core.Tracer) and \
                getattr(old, "sharding", None) is not None and value.sharding != old.sharding:
            value = jax.device_put(value, old.sharding)
        self.set_value(value)
        return self

    def assign_add(self, value) -> "Variable":
        return self.assign(self.get_value() + jnp.asarray(value, self.get_value().dtype))

    def assign_sub(self, value) -> "Variable":
        return self.assign(self.get_value() - jnp.asarray(value, self.get_value().dtype))

    def __repr__(self) -> str:
        value = self.get_value()
        shown = "<traced>" if isinstance(value, jax.core.Tracer) else np.array2string(to_host(value), threshold=6)
        return f"<Variable path={self.path}, shape={self.shape}, dtype={self.dtype}, value={shown}>"


class TrainableVariable(Variable, nnx.Param):
    """A trainable `keras.Variable`: an `nnx.Param`."""


class NonTrainableVariable(Variable):
    """A non-trainable `keras.Variable` (moving statistics, counters, seeds): state, not a parameter."""


def is_variable(value: Any) -> bool:
    return isinstance(value, nnx.Variable)
