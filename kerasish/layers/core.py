"""Core layers: Input, Dense, Activation, Dropout, Flatten, Reshape, Maxout.

Each layer builds a small NNX module; where Flax has the module (nnx.Linear, nnx.Dropout) it is used
as is. Modules are built in inference mode (dropout off); the model switches the mode for training.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import jax
import jax.numpy as jnp
from flax import nnx

from kerasish import activations, initializers, regularizers
from kerasish.layers.base import Layer, Shape, normalize_shape, positive_int


class KerasTensor:
    """What `keras.Input(shape)` returns: a symbolic input with a batch dimension of None."""

    def __init__(self, shape: Shape, dtype: str = "float32", name: str | None = None):
        self.shape, self.dtype, self.name = shape, dtype, name

    def __repr__(self) -> str:
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}, name={self.name}>"


class InputLayer(Layer):
    """Declares the model's input shape; it holds no weights and computes nothing."""

    def __init__(self, shape: Sequence[int] | None = None, batch_size: int | None = None,
                 dtype: Any = None, name: str | None = None, batch_shape=None, **kwargs):
        if shape is None and batch_shape is None:
            raise ValueError("You must pass a `shape` argument to InputLayer (or `batch_shape`).")
        super().__init__(name=name, dtype=dtype, **kwargs)
        if batch_shape is None:
            batch_shape = (batch_size, *normalize_shape(shape, "shape"))
        self.batch_shape = normalize_shape(batch_shape, "batch_shape")

    def make_module(self, input_shape, rngs):
        return _Identity()

    def get_config(self):
        return {"batch_shape": self.batch_shape, "dtype": self.dtype, "name": self.name}


def Input(shape: Sequence[int] | None = None, batch_size: int | None = None, dtype: Any = None,
          name: str | None = None, batch_shape=None) -> KerasTensor:
    """`keras.Input`: returns a symbolic tensor to `add` to a Sequential model first."""
    layer = InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, name=name, batch_shape=batch_shape)
    tensor = KerasTensor(layer.batch_shape, layer.dtype, layer.name)
    tensor._keras_layer = layer
    return tensor


class _Identity(nnx.Module):
    def __call__(self, x):
        return x


def apply_activation(fn, y):
    """`fn(y)`, with softmax / log-softmax computed in float32 under a mixed precision policy."""
    if fn in (activations.softmax, activations.log_softmax) and y.dtype != jnp.float32:
        y = y.astype(jnp.float32)
    return fn(y)


class _Dense(nnx.Module):
    def __init__(self, linear: nnx.Linear, activation):
        self.linear, self.activation = linear, activation

    def __call__(self, x):
        return apply_activation(self.activation, self.linear(x))


class Dense(Layer):
    """`activation(inputs @ kernel + bias)` on the last axis; kernel shape (in, units)."""

    def __init__(self, units: int, activation=None, use_bias: bool = True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        _reject_unsupported(type(self).__name__, activity_regularizer=activity_regularizer,
                            kernel_constraint=kernel_constraint, bias_constraint=bias_constraint)
        super().__init__(**kwargs)
        self.units = positive_int(units, "units")
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = self._set_regularizer(("linear", "kernel"), kernel_regularizer)
        self.bias_regularizer = self._set_regularizer(("linear", "bias"), bias_regularizer) if use_bias else None

    def compute_output_shape(self, input_shape):
        _check_known_last_axis(self, input_shape)
        return (*input_shape[:-1], self.units)

    def make_module(self, input_shape, rngs):
        linear = nnx.Linear(input_shape[-1], self.units, use_bias=self.use_bias,
                            kernel_init=self.kernel_initializer, bias_init=self.bias_initializer,
                            dtype=self.compute_dtype, param_dtype=self.dtype, rngs=rngs)
        return _Dense(linear, self.activation)

    def weight_specs(self):
        specs = [(("linear", "kernel"), "kernel", True)]
        return specs + ([(("linear", "bias"), "bias", True)] if self.use_bias else [])

    def get_config(self):
        return {**super().get_config(), "units": self.units,
                "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": _serialize_regularizer(self.kernel_regularizer),
                "bias_regularizer": _serialize_regularizer(self.bias_regularizer)}


class _Maxout(nnx.Module):
    def __init__(self, linear: nnx.Linear, units: int, pieces: int):
        self.linear, self.units, self.pieces = linear, units, pieces

    def __call__(self, x):
        z = self.linear(x)
        return jnp.max(z.reshape(*z.shape[:-1], self.units, self.pieces), axis=-1)


class Maxout(Dense):
    """Maxout (Goodfellow et al. 2013): `units` outputs, each the max of `pieces` linear pieces.

    The kernel has shape (in, units * pieces); piece `j` of unit `i` is column `i * pieces + j`.
    With pieces=2 it can learn ReLU (one piece at zero) or |x|; it never saturates, which is the
    lecture notes' second remedy for vanishing gradients.
    """

    def __init__(self, units: int, pieces: int = 2, **kwargs):
        if "activation" in kwargs:
            raise ValueError("Maxout takes no `activation`: the max over its pieces is its non-linearity.")
        super().__init__(units, **kwargs)
        self.pieces = positive_int(pieces, "pieces")

    def make_module(self, input_shape, rngs):
        linear = nnx.Linear(input_shape[-1], self.units * self.pieces, use_bias=self.use_bias,
                            kernel_init=self.kernel_initializer, bias_init=self.bias_initializer,
                            dtype=self.compute_dtype, param_dtype=self.dtype, rngs=rngs)
        return _Maxout(linear, self.units, self.pieces)

    def get_config(self):
        config = {**super().get_config(), "pieces": self.pieces}
        del config["activation"]
        return config


class _Activation(nnx.Module):
    def __init__(self, fn):
        self.fn = fn

    def __call__(self, x):
        return apply_activation(self.fn, x)


class Activation(Layer):
    """Applies an activation function (a name such as "relu", or a callable)."""

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)

    def make_module(self, input_shape, rngs):
        return _Activation(self.activation)

    def get_config(self):
        return {**super().get_config(), "activation": activations.serialize(self.activation)}


class Dropout(Layer):
    """Sets a fraction `rate` of inputs to 0 during training and scales the rest by 1/(1-rate).

    At inference it is the identity. The mask comes from an NNX random stream seeded from
    `keras.utils.set_random_seed` (or `seed=`), so a run is reproducible and resumable.
    """

    def __init__(self, rate: float, noise_shape=None, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
            raise ValueError(f"Invalid value received for argument `rate`. Expected a float value "
                             f"between 0 and 1. Received: rate={rate!r}")
        self.rate = float(rate)
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self.seed = seed

    def make_module(self, input_shape, rngs):
        if self.seed is not None:
            rngs = nnx.Rngs(dropout=jax.random.key(self.seed))
        broadcast_dims = ()
        if self.noise_shape is not None:
            broadcast_dims = tuple(i for i, d in enumerate(self.noise_shape) if d == 1)
        return nnx.Dropout(self.rate, broadcast_dims=broadcast_dims, deterministic=True, rngs=rngs)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "noise_shape": self.noise_shape, "seed": self.seed}


class _Reshape(nnx.Module):
    def __init__(self, target: tuple[int, ...]):
        self.target = target

    def __call__(self, x):
        return x.reshape(x.shape[0], *self.target)


class Flatten(Layer):
    """Flattens every axis but the batch axis."""

    def __init__(self, data_format: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = data_format or "channels_last"
        if self.data_format != "channels_last":
            raise ValueError(f"kerasish layers are channels-last only. Received: data_format={data_format!r}")

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        return (input_shape[0], None if None in rest else math.prod(rest))

    def make_module(self, input_shape, rngs):
        return _Reshape((-1,))

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}


class Reshape(Layer):
    """Reshapes the non-batch axes to `target_shape` (one entry may be -1)."""

    def __init__(self, target_shape: Sequence[int], **kwargs):
        super().__init__(**kwargs)
        target = tuple(target_shape)
        if any(isinstance(d, bool) or not isinstance(d, int) or (d <= 0 and d != -1) for d in target) \
                or target.count(-1) > 1:
            raise ValueError(f"`target_shape` must be a tuple of positive integers with at most one -1. "
                             f"Received: target_shape={target_shape!r}")
        self.target_shape = target

    def compute_output_shape(self, input_shape):
        size = math.prod(input_shape[1:]) if None not in input_shape[1:] else None
        known = math.prod(d for d in self.target_shape if d != -1)
        if size is not None and (size % known or (-1 not in self.target_shape and size != known)):
            raise ValueError(f"Cannot reshape input of shape {input_shape} into target_shape "
                             f"{self.target_shape}: the total size {size} does not match.")
        target = tuple((size // known if size is not None else None) if d == -1 else d for d in self.target_shape)
        return (input_shape[0], *target)

    def make_module(self, input_shape, rngs):
        return _Reshape(self.target_shape)

    def get_config(self):
        return {**super().get_config(), "target_shape": self.target_shape}


def _check_known_last_axis(layer: Layer, input_shape: Shape) -> None:
    if len(input_shape) < 2 or input_shape[-1] is None:
        raise ValueError(f"The last dimension of the input to layer '{layer.name}' should be defined. "
                         f"Received input shape {input_shape}.")


def _reject_unsupported(cls_name: str, **kwargs) -> None:
    given = {k: v for k, v in kwargs.items() if v is not None}
    if given:
        raise ValueError(f"{cls_name}: {sorted(given)} are not supported by kerasish yet; "
                         f"pass None (received {given}).")


def _serialize_regularizer(regularizer):
    return None if regularizer is None else regularizers.serialize(regularizer)
