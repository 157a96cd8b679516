"""The Layer contract: validate config in `__init__`, build a Flax NNX module in `build(shape)`,
compute with that module, describe itself in `get_config`.

A Layer is the Keras-facing description of one step of a model. It owns no arrays of its own: the
arrays live in the NNX module it builds (`layer.module`), which the model assembles into one NNX
tree (`model.flax_module`). The training engine never calls Layer methods inside `jit` except
`regularization_loss`, which reads a module it is given.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from kerasish import mixed_precision
from kerasish import regularizers as _regularizers
from kerasish.utils import naming, rng
from kerasish.utils.host import to_host

Shape = tuple[int | None, ...]


def normalize_shape(shape: Any, what: str = "shape") -> Shape:
    """Turns an int or a sequence of ints/None into a tuple; anything else is a TypeError."""
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        return (int(shape),)
    try:
        items = tuple(shape)
    except TypeError:
        raise TypeError(f"Expected `{what}` to be a tuple of integers. Received: {what}={shape!r}") from None
    out = []
    for d in items:
        if d is None:
            out.append(None)
        elif isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d >= 0:
            out.append(int(d))
        else:
            raise TypeError(
                f"Expected `{what}` to be a tuple of non-negative integers or None. Received: {what}={shape!r}")
    return tuple(out)


def positive_int(value: Any, name: str) -> int:
    """Keras's check for `units`, `filters` and friends."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(
            f"Received an invalid value for `{name}`, expected a positive integer. Received: {name}={value!r}")
    return int(value)


def int_tuple(value: Any, n: int, name: str) -> tuple[int, ...]:
    """`3` -> `(3, 3)`; checks length and positivity like Keras's `standardize_tuple`."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        value = (int(value),) * n
    try:
        items = tuple(value)
    except TypeError:
        raise ValueError(f"The `{name}` argument must be a tuple of {n} integers. Received: {name}={value!r}") from None
    if len(items) != n or any(isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v <= 0 for v in items):
        raise ValueError(
            f"The `{name}` argument must be a tuple of {n} positive integers. Received: {name}={value!r}")
    return tuple(int(v) for v in items)


def padding_arg(value: Any) -> str:
    padding = str(value).lower() if isinstance(value, str) else value
    if padding not in ("valid", "same"):
        raise ValueError(f"The `padding` argument must be one of 'valid', 'same'. Received: padding={value!r}")
    return padding


def set_mode(module: nnx.Module, training: bool) -> None:
    """Switches every Dropout / BatchNorm in `module` between training and inference behaviour."""
    module.set_attributes(deterministic=not training, use_running_average=not training, raise_if_not_found=False)


def call_in_mode(module: nnx.Module, x, training: bool):
    """`module(x)` in the given mode; the module is left in inference mode, its resting state."""
    set_mode(module, training)
    try:
        return module(x)
    finally:
        set_mode(module, False)


def get_path(node: Any, path: Sequence[Any]) -> Any:
    """Follows attribute names (and list indices) from an NNX module down to a variable."""
    for part in path:
        node = node[part] if isinstance(part, int) else getattr(node, part)
    return node


class Weight:
    """A view of one array inside a layer's module, with the bits of Keras's Variable people use."""

    def __init__(self, layer: "Layer", path: tuple[str, ...], name: str, trainable: bool):
        self._layer, self._path = layer, path
        self.name, self.trainable = name, trainable

    def _variable(self) -> nnx.Variable:
        return get_path(self._layer.module, self._path)

    @property
    def path(self) -> str:
        return f"{self._layer.name}/{self.name}"

    @property
    def value(self) -> jax.Array:
        return self._variable()[...]

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.value.shape)

    @property
    def dtype(self):
        return self.value.dtype

    def numpy(self) -> np.ndarray:
        return to_host(self.value)

    def __array__(self, dtype=None, copy=None):
        return to_host(self.value).astype(dtype) if dtype is not None else to_host(self.value)

    def assign(self, value) -> None:
        variable = self._variable()
        old = variable[...]
        value = jnp.asarray(value, dtype=old.dtype)
        if value.shape != old.shape:
            raise ValueError(
                f"Cannot assign to variable {self.path}: expected shape {old.shape}, "
                f"received shape {value.shape}")
        variable[...] = jax.device_put(value, old.sharding) if isinstance(old, jax.Array) else value

    def __repr__(self) -> str:
        return f"<Weight path={self.path}, shape={self.shape}, dtype={self.dtype}>"


class Layer:
    """Base class of every kerasish layer.

    Subclasses define `make_module(input_shape, rngs)`, `compute_output_shape(input_shape)`, and
    `weight_specs()` (the Keras order of their weights); they add their arguments to `get_config`.
    """

    #: whether the module's `__call__` accepts `mask=` (rows of a padded batch that are real)
    accepts_mask = False

    def __init__(self, *, name: str | None = None, trainable: bool = True, dtype: Any = None,
                 input_shape: Sequence[int] | None = None, batch_input_shape=None, input_dim=None,
                 **kwargs: Any):
        if kwargs:
            raise ValueError(f"Unrecognized keyword arguments passed to {type(self).__name__}: {kwargs}")
        if name is not None and not isinstance(name, str):
            raise TypeError(f"Expected `name` to be a string. Received: name={name!r}")
        self.name = name or naming.unique_name(naming.to_snake_case(type(self).__name__))
        self.trainable = bool(trainable)
        self.dtype_policy = mixed_precision.dtype_policy(dtype)
        self.dtype = self.dtype_policy.variable_dtype  # Keras: a layer's dtype is its weights' dtype
        self.compute_dtype = self.dtype_policy.compute_dtype
        # Keras 2 style `input_shape=` on the first layer is still accepted by Keras 3.
        self._declared_input_shape: Shape | None = None
        if batch_input_shape is not None:
            self._declared_input_shape = normalize_shape(batch_input_shape, "batch_input_shape")
        elif input_shape is not None:
            self._declared_input_shape = (None, *normalize_shape(input_shape, "input_shape"))
        elif input_dim is not None:
            self._declared_input_shape = (None, positive_int(input_dim, "input_dim"))
        self.module: nnx.Module | None = None
        self.input_shape: Shape | None = None
        self.output_shape: Shape | None = None
        self.regularizers: dict[tuple[str, ...], Any] = {}

    # -- what subclasses define -------------------------------------------------------------
    def make_module(self, input_shape: Shape, rngs: nnx.Rngs) -> nnx.Module:
        raise NotImplementedError(f"{type(self).__name__} must define make_module")

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return input_shape

    def weight_specs(self) -> list[tuple[tuple[str, ...], str, bool]]:
        """(attribute path in the module, Keras weight name, trainable) in Keras's order."""
        return []

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "trainable": self.trainable, "dtype": self.dtype_policy.name}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "Layer":
        return cls(**config)

    # -- building ---------------------------------------------------------------------------
    @property
    def built(self) -> bool:
        return self.module is not None

    def build(self, input_shape: Sequence[int | None], key: jax.Array | None = None) -> None:
        """Creates the layer's NNX module for inputs of `input_shape` (batch dimension first)."""
        input_shape = normalize_shape(input_shape, "input_shape")
        output_shape = self.compute_output_shape(input_shape)
        key = rng.next_key() if key is None else key
        params_key, dropout_key = jax.random.split(key)
        self.module = self.make_module(input_shape, nnx.Rngs(params=params_key, dropout=dropout_key))
        self.input_shape, self.output_shape = input_shape, output_shape

    def _require_built(self, what: str) -> nnx.Module:
        if self.module is None:
            raise ValueError(f"Layer '{self.name}' has not been built yet, so it has no {what}. "
                             "Call `build(input_shape)` or use it in a model on data first.")
        return self.module

    def __call__(self, inputs, training: bool = False):
        """Runs the layer eagerly on an array (builds it on first use), like calling a Keras layer."""
        x = jnp.asarray(inputs)
        if not self.built:
            self.build((None, *x.shape[1:]))
        return call_in_mode(self.module, x, training)

    # -- weights ----------------------------------------------------------------------------
    @property
    def weights(self) -> list[Weight]:
        if self.module is None:
            return []
        return [Weight(self, path, name, self.trainable and trainable)
                for path, name, trainable in self.weight_specs()]

    @property
    def trainable_weights(self) -> list[Weight]:
        return [w for w in self.weights if w.trainable]

    @property
    def non_trainable_weights(self) -> list[Weight]:
        return [w for w in self.weights if not w.trainable]

    def get_weights(self) -> list[np.ndarray]:
        return [w.numpy() for w in self.weights]

    def set_weights(self, weights: Sequence[Any]) -> None:
        """Sets the weights from NumPy arrays in Keras's order; nothing changes if any is wrong."""
        own = self.weights
        weights = list(weights)
        if len(weights) != len(own):
            raise ValueError(
                f"Layer {self.name} weight shape mismatch: expected {len(own)} weights "
                f"({[w.shape for w in own]}), but received {len(weights)} weights.")
        arrays = []
        for w, value in zip(own, weights):
            value = np.asarray(value)
            if tuple(value.shape) != w.shape:
                raise ValueError(
                    f"Layer {self.name} weight shape mismatch for {w.name}: expected shape {w.shape}, "
                    f"received value of shape {tuple(value.shape)}")
            arrays.append(value)
        for w, value in zip(own, arrays):
            w.assign(value)

    def count_params(self) -> int:
        self._require_built("weights")
        return int(sum(math.prod(w.shape) for w in self.weights))

    # -- regularization ---------------------------------------------------------------------
    def regularization_loss(self, module: nnx.Module) -> jax.Array | float:
        """Sum of the layer's weight penalties, computed on `module` (a traced copy inside jit)."""
        total = 0.0
        for path, regularizer in self.regularizers.items():
            total = total + regularizer(get_path(module, path)[...])
        return total

    def _set_regularizer(self, path: tuple[str, ...], identifier: Any) -> Any:
        regularizer = _regularizers.get(identifier)
        if regularizer is not None:
            self.regularizers[path] = regularizer
        return regularizer

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"
