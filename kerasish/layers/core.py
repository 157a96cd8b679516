"""Core layers: Input, Dense, Activation, Dropout, Flatten, Reshape, Maxout.

Each is a `Layer` (an NNX module): weights from `add_weight` in `build`, maths in `call`. Dropout
draws from a `keras.random.SeedGenerator` it holds, so its state is in the model graph and advances
every training step.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import jax
import jax.numpy as jnp

from kerasish import activations, constraints, initializers, random, regularizers
from kerasish.serialization import (layer_config, pop_keras_only, serialize_activation, serialize_keras_object,
                                    weight_args_config)
from kerasish.layers import symbolic
from kerasish.layers.base import Layer, Shape, normalize_shape, positive_int
from kerasish.layers.symbolic import KerasTensor


class InputLayer(Layer):
    """Declares the model's input shape; it holds no weights and computes nothing."""

    def __init__(self, shape: Sequence[int] | None = None, batch_size: int | None = None,
                 dtype: Any = None, sparse: bool | None = None, batch_shape=None, input_tensor=None,
                 optional: bool = False, name: str | None = None, ragged: bool | None = None, **kwargs):
        if sparse or ragged:
            raise ValueError("kerasish has no sparse or ragged tensors: `sparse` and `ragged` must be False. "
                             f"Received: sparse={sparse}, ragged={ragged}")
        if input_tensor is not None:
            raise ValueError("`input_tensor` is not supported by kerasish's InputLayer.")
        if optional:
            raise ValueError("Optional inputs (`optional=True`) are not supported by kerasish.")
        if shape is None and batch_shape is None:
            raise ValueError("You must pass a `shape` argument to InputLayer (or `batch_shape`).")
        for given in (shape, batch_shape):  # Keras wants a tuple: `shape=(784,)`, not `shape=784`
            if given is not None and not hasattr(given, "__iter__"):
                raise ValueError(f"Cannot convert '{given}' to a shape.")
        kwargs.pop("trainable", None)
        # An input's dtype is the data's dtype ("int32" for token ids), not a mixed precision policy.
        super().__init__(name=name, **kwargs)
        if batch_shape is None:
            batch_shape = (batch_size, *normalize_shape(shape, "shape"))
        self.batch_shape = normalize_shape(batch_shape, "batch_shape")
        self.input_dtype = jnp.dtype(dtype or "float32").name
        self.built = True
        self._output_shape = self.batch_shape
        tensor = KerasTensor(self.batch_shape, self.input_dtype, name)
        tensor._keras_history = symbolic.Node(self, (), {}, tensor)
        self._inbound_nodes.values.append(tensor._keras_history)

    def call(self, inputs):
        return inputs

    def get_config(self):
        return {"batch_shape": self.batch_shape, "dtype": self.input_dtype, "sparse": False,
                "ragged": False, "name": self.name, "optional": False}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if "batch_input_shape" in config:  # configs written by Keras 2
            config["batch_shape"] = config.pop("batch_input_shape")
        if isinstance(config.get("dtype"), dict):  # a DTypePolicy entry: the input's dtype is its name
            config["dtype"] = config["dtype"].get("config", {}).get("name", "float32")
        return cls(**config)


def Input(shape: Sequence[int] | None = None, batch_size: int | None = None, dtype: Any = None,
          sparse: bool | None = None, batch_shape=None, name: str | None = None, tensor=None,
          optional: bool = False, ragged: bool | None = None) -> KerasTensor:
    """`keras.Input`: a symbolic input tensor (for a Sequential model's first entry, or a functional model)."""
    layer = InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, sparse=sparse, batch_shape=batch_shape,
                       name=name, input_tensor=tensor, optional=optional, ragged=ragged)
    return layer.output


def apply_activation(fn, y):
    """`fn(y)`, with softmax / log-softmax computed in float32 under a mixed precision policy."""
    if fn in (activations.softmax, activations.log_softmax) and y.dtype != jnp.float32:
        y = y.astype(jnp.float32)
    return fn(y)


class Dense(Layer):
    """`activation(inputs @ kernel + bias)` on the last axis; kernel shape (in, units)."""

    def __init__(self, units: int, activation=None, use_bias: bool = True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.units = positive_int(units, "units")
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.supports_masking = True

    def compute_output_shape(self, input_shape):
        _check_known_last_axis(self, input_shape)
        return (*input_shape[:-1], self.units)

    def build(self, input_shape):
        _check_known_last_axis(self, input_shape)
        self._make_weights(input_shape[-1], self.units)
        self.built = True

    def _make_weights(self, fan_in: int, width: int) -> None:
        self.kernel = self.add_weight(name="kernel", shape=(fan_in, width), initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(name="bias", shape=(width,), initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint)

    def _linear(self, inputs):
        y = jnp.matmul(inputs, self.kernel.value)
        return y + self.bias.value if self.bias is not None else y

    def call(self, inputs, training=None):
        return apply_activation(self.activation, self._linear(inputs))

    def get_config(self):
        return layer_config(self, units=self.units, activation=serialize_activation(self.activation),
                            use_bias=self.use_bias, **weight_args_config(self, "kernel", "bias"),
                            quantization_config=None)

    @classmethod
    def from_config(cls, config):
        return cls(**pop_keras_only(config, cls.__name__, _NO_QUANTIZATION))


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

    def build(self, input_shape):
        _check_known_last_axis(self, input_shape)
        self._make_weights(input_shape[-1], self.units * self.pieces)
        self.built = True

    def call(self, inputs, training=None):
        z = self._linear(inputs)
        return jnp.max(z.reshape(*z.shape[:-1], self.units, self.pieces), axis=-1)

    def get_config(self):
        config = {**super().get_config(), "pieces": self.pieces}
        del config["activation"], config["quantization_config"]
        return config


class Activation(Layer):
    """Applies an activation function (a name such as "relu", or a callable)."""

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.activation = activations.get(activation)

    def call(self, inputs):
        return apply_activation(self.activation, inputs)

    def get_config(self):
        return layer_config(self, activation=serialize_activation(self.activation))


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
        self.seed_generator = random.SeedGenerator(seed) if self.rate > 0 else None
        self.supports_masking = True

    def call(self, inputs, training=False):
        if training and self.rate > 0:
            return random.dropout(inputs, self.rate, noise_shape=self.noise_shape, seed=self.seed_generator)
        return inputs

    def get_config(self):
        return layer_config(self, rate=self.rate, seed=self.seed, noise_shape=self.noise_shape)


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

    def call(self, inputs):
        return inputs.reshape(inputs.shape[0], -1)

    def get_config(self):
        return layer_config(self, data_format=self.data_format)


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

    def call(self, inputs):
        return inputs.reshape(inputs.shape[0], *self.target_shape)

    def get_config(self):
        return layer_config(self, target_shape=self.target_shape)


def _check_known_last_axis(layer: Layer, input_shape: Shape) -> None:
    if len(input_shape) < 2 or input_shape[-1] is None:
        raise ValueError(f"The last dimension of the input to layer '{layer.name}' should be defined. "
                         f"Received input shape {input_shape}.")


# Keys Keras 3 writes for quantization and LoRA, which kerasish layers do not have (defaults only).
_NO_QUANTIZATION = {"quantization_config": None, "lora_rank": None, "lora_alpha": None}
