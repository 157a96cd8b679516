"""Recurrent cells: one step of SimpleRNN, LSTM and GRU (Keras 3's maths, gate order and weights),
and `StackedRNNCells`.

A cell is a layer whose `call(inputs, states, training)` computes one timestep and returns
`(output, new_states)`. The built-in cells also split that step in two for `RNN`'s time loop:

* `_input_projection(x, input_masks)`: `x @ kernel + bias`, independent of the state, so `RNN`
  computes it for every timestep in one matmul before the loop;
* `_recurrence(projected_t, states, recurrent_masks)`: the part that reads the previous state,
  the body of the `lax.scan`.

Dropout masks are drawn once per sequence from the cell's `SeedGenerator` (the same mask at every
timestep, as Keras's `DropoutRNNCell`), and only in training. With `recurrent_dropout`, LSTM and GRU
draw one mask per gate (Keras's `implementation=1`), in Keras's order: input masks, then recurrent.

Owns: the cells. Must not: loop over time (that is `rnn.RNN`).
"""

from __future__ import annotations

import inspect
from typing import Any

import jax.numpy as jnp

from kerasish import activations, constraints, initializers, random, regularizers
from kerasish.layers.base import Layer, positive_int
from kerasish.serialization import layer_config, serialize_activation, serialize_keras_object, weight_args_config
from kerasish.variables import initial_value

__all__ = ["GRUCell", "LSTMCell", "SimpleRNNCell", "StackedRNNCells"]

_ROLES = ("kernel", "recurrent", "bias")


def _rate(value: Any) -> float:
    """Keras clips dropout rates of recurrent cells into [0, 1]."""
    return min(1.0, max(0.0, float(value)))


def _matmul_masked(x, kernel, masks, gates: int):
    """`x @ kernel`, with `x` multiplied by a dropout mask first: one mask, or one per gate (then
    each gate's block of columns sees its own masked copy of `x`)."""
    if masks is None:
        return jnp.matmul(x, kernel)
    if not isinstance(masks, tuple):
        return jnp.matmul(x * masks, kernel)
    blocks = jnp.split(kernel, gates, axis=-1)
    return jnp.concatenate([jnp.matmul(x * m, k) for m, k in zip(masks, blocks)], axis=-1)


class _RecurrentCell(Layer):
    """What SimpleRNNCell, LSTMCell and GRUCell share: arguments, weights, dropout masks."""

    gates = 1  # blocks of `units` columns in the kernels

    def __init__(self, units: int, activation="tanh", use_bias: bool = True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros", kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout: float = 0.0,
                 recurrent_dropout: float = 0.0, seed: int | None = None, **kwargs):
        implementation = kwargs.pop("implementation", 2)
        super().__init__(**kwargs)
        if implementation not in (1, 2):
            raise ValueError(f"`implementation` must be 1 or 2. Received: implementation={implementation!r}")
        self.units = positive_int(units, "units")
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.dropout = _rate(dropout)
        self.recurrent_dropout = _rate(recurrent_dropout)
        # Keras's implementation 1 (one dropout mask per gate) whenever recurrent dropout is on.
        self.implementation = 1 if self.recurrent_dropout != 0.0 else implementation
        self.seed = seed
        self.seed_generator = random.SeedGenerator(seed)
        self.state_size: Any = self.units
        self.output_size = self.units

    # -- weights ----------------------------------------------------------------------------------
    def _bias_shape(self) -> tuple[int, ...]:
        return (self.units * self.gates,)

    def _bias_initializer(self):
        return self.bias_initializer

    def build(self, input_shape):
        width = self.units * self.gates
        self.kernel = self.add_weight(shape=(input_shape[-1], width), name="kernel",
                                      initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight(shape=(self.units, width), name="recurrent_kernel",
                                                initializer=self.recurrent_initializer,
                                                regularizer=self.recurrent_regularizer,
                                                constraint=self.recurrent_constraint)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(shape=self._bias_shape(), name="bias", initializer=self._bias_initializer(),
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        self.built = True

    # -- dropout ----------------------------------------------------------------------------------
    def _mask_count(self) -> int | None:
        return self.gates if self.implementation == 1 and self.gates > 1 else None

    def _draw(self, shape, dtype, rate: float):
        count = self._mask_count()
        ones = jnp.ones(shape, dtype)
        if count is None:
            return random.dropout(ones, rate, seed=self.seed_generator)
        return tuple(random.dropout(ones, rate, seed=self.seed_generator) for _ in range(count))

    def _dropout_masks(self, input_shape, dtype, training) -> tuple[Any, Any]:
        """(input masks, recurrent masks) for one sequence: None where no dropout applies, else an
        array of shape (batch, features) / (batch, units), or a tuple of one per gate."""
        if not training:
            return None, None
        batch = input_shape[0]
        use_input = 0.0 < self.dropout < 1.0 or (self.dropout == 1.0 and self.gates == 1)
        use_recurrent = 0.0 < self.recurrent_dropout < 1.0 or (self.recurrent_dropout == 1.0 and self.gates == 1)
        input_masks = self._draw((batch, input_shape[-1]), dtype, self.dropout) if use_input else None
        recurrent_masks = self._draw((batch, self.units), dtype, self.recurrent_dropout) if use_recurrent else None
        return input_masks, recurrent_masks

    # -- the step -----------------------------------------------------------------------------------
    def _input_projection(self, x, input_masks=None):
        """`x @ kernel (+ input bias)` on the last axis of `x` (one timestep or all of them)."""
        z = _matmul_masked(x, self.kernel.value, input_masks, self.gates)
        return z + self._input_bias() if self.use_bias else z

    def _input_bias(self):
        return self.bias.value

    def _recurrence(self, projected, states, recurrent_masks=None):
        raise NotImplementedError

    def call(self, inputs, states, training=False):
        nested = isinstance(states, (list, tuple))
        states = list(states) if nested else [states]
        input_masks, recurrent_masks = self._dropout_masks(inputs.shape, inputs.dtype, training)
        output, new_states = self._recurrence(self._input_projection(inputs, input_masks), states,
                                              recurrent_masks)
        if not nested and len(new_states) == 1:
            return output, new_states[0]
        return output, new_states

    def compute_output_shape(self, input_shape, states_shape=None):
        return (input_shape[0], self.output_size)

    def get_initial_state(self, batch_size=None):
        sizes = self.state_size if isinstance(self.state_size, (list, tuple)) else [self.state_size]
        return [jnp.zeros((batch_size, d), self.compute_dtype) for d in sizes]

    def get_config(self):
        return layer_config(self, units=self.units, activation=serialize_activation(self.activation),
                            use_bias=self.use_bias, **weight_args_config(self, *_ROLES),
                            dropout=self.dropout, recurrent_dropout=self.recurrent_dropout, seed=self.seed)


class SimpleRNNCell(_RecurrentCell):
    """One step of a fully connected RNN: `h = activation(x @ kernel + h_prev @ recurrent_kernel + bias)`.

    Example:
        >>> rnn = keras.layers.RNN(keras.layers.SimpleRNNCell(4))
        >>> rnn(np.ones((2, 5, 3), "float32")).shape
        (2, 4)
    """

    def _recurrence(self, projected, states, recurrent_masks=None):
        h = self.activation(projected + _matmul_masked(states[0], self.recurrent_kernel.value, recurrent_masks, 1))
        return h, [h]


class LSTMCell(_RecurrentCell):
    """One LSTM step (Hochreiter 1997) with Keras's gate order i, f, c, o in the kernels' columns.

    States are `[h, c]`. `unit_forget_bias=True` starts the forget gate's bias at 1.

    Example:
        >>> rnn = keras.layers.RNN(keras.layers.LSTMCell(4), return_state=True)
        >>> out, h, c = rnn(np.ones((2, 5, 3), "float32"))
    """

    gates = 4

    def __init__(self, units: int, activation="tanh", recurrent_activation="sigmoid", use_bias: bool = True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias: bool = True, kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None, recurrent_constraint=None, bias_constraint=None,
                 dropout: float = 0.0, recurrent_dropout: float = 0.0, seed: int | None = None, **kwargs):
        super().__init__(units, activation, use_bias, kernel_initializer, recurrent_initializer, bias_initializer,
                         kernel_regularizer, recurrent_regularizer, bias_regularizer, kernel_constraint,
                         recurrent_constraint, bias_constraint, dropout, recurrent_dropout, seed, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.unit_forget_bias = bool(unit_forget_bias)
        self.state_size = [self.units, self.units]

    def _bias_initializer(self):
        if not self.unit_forget_bias:
            return self.bias_initializer
        units, init = self.units, self.bias_initializer

        def forget_bias_one(shape, dtype=None):
            return jnp.concatenate([initial_value(init, (units,), dtype), jnp.ones((units,), dtype),
                                    initial_value(init, (2 * units,), dtype)])
        return forget_bias_one

    def _recurrence(self, projected, states, recurrent_masks=None):
        h, c = states
        z = projected + _matmul_masked(h, self.recurrent_kernel.value, recurrent_masks, 4)
        z_i, z_f, z_c, z_o = jnp.split(z, 4, axis=-1)
        gate = self.recurrent_activation
        c = gate(z_f) * c + gate(z_i) * self.activation(z_c)
        h = gate(z_o) * self.activation(c)
        return h, [h, c]

    def get_config(self):
        config = super().get_config()
        return {**config, "recurrent_activation": serialize_activation(self.recurrent_activation),
                "unit_forget_bias": self.unit_forget_bias}


class GRUCell(_RecurrentCell):
    """One GRU step (Cho et al. 2014), gate order z, r, h.

    `reset_after=True` (Keras's default, the cuDNN variant) applies the reset gate after the
    recurrent matmul and keeps separate input and recurrent biases: `bias` has shape (2, 3 * units).
    With `reset_after=False` the reset gate scales the state before the matmul; `bias` is (3 * units,).
    """

    gates = 3

    def __init__(self, units: int, activation="tanh", recurrent_activation="sigmoid", use_bias: bool = True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout: float = 0.0,
                 recurrent_dropout: float = 0.0, reset_after: bool = True, seed: int | None = None, **kwargs):
        super().__init__(units, activation, use_bias, kernel_initializer, recurrent_initializer, bias_initializer,
                         kernel_regularizer, recurrent_regularizer, bias_regularizer, kernel_constraint,
                         recurrent_constraint, bias_constraint, dropout, recurrent_dropout, seed, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.reset_after = bool(reset_after)

    def _bias_shape(self):
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def _input_bias(self):
        return self.bias.value[0] if self.reset_after else self.bias.value

    def _recurrence(self, projected, states, recurrent_masks=None):
        h = states[0]
        units, kernel = self.units, self.recurrent_kernel.value
        x_z, x_r, x_h = jnp.split(projected, 3, axis=-1)
        masks = recurrent_masks if isinstance(recurrent_masks, tuple) else (None, None, None)
        if self.reset_after:
            inner = _matmul_masked(h, kernel, recurrent_masks, 3)
            if self.use_bias:
                inner = inner + self.bias.value[1]
            r_z, r_r, r_h = jnp.split(inner, 3, axis=-1)
        else:
            h_zr = h if masks[0] is None else (h * masks[0], h * masks[1])
            r_z, r_r = (jnp.split(jnp.matmul(h, kernel[:, :2 * units]), 2, axis=-1) if masks[0] is None else
                        (jnp.matmul(h_zr[0], kernel[:, :units]), jnp.matmul(h_zr[1], kernel[:, units:2 * units])))
        z = self.recurrent_activation(x_z + r_z)
        r = self.recurrent_activation(x_r + r_r)
        if self.reset_after:
            candidate = self.activation(x_h + r * r_h)
        else:
            h_h = h if masks[2] is None else h * masks[2]
            candidate = self.activation(x_h + jnp.matmul(r * h_h, kernel[:, 2 * units:]))
        h = z * h + (1 - z) * candidate
        return h, [h]

    def get_config(self):
        config = super().get_config()
        seed = config.pop("seed")
        return {**config, "recurrent_activation": serialize_activation(self.recurrent_activation),
                "reset_after": self.reset_after, "seed": seed}


class StackedRNNCells(Layer):
    """Runs a list of cells as one cell: each cell's output is the next one's input at every step.

    Its state is the list of the cells' states; its output the last cell's.

    Example:
        >>> cells = [keras.layers.LSTMCell(8), keras.layers.GRUCell(4)]
        >>> keras.layers.RNN(keras.layers.StackedRNNCells(cells))(np.ones((2, 5, 3), "float32")).shape
        (2, 4)
    """

    def __init__(self, cells, **kwargs):
        super().__init__(**kwargs)
        for cell in cells:
            if not callable(getattr(cell, "call", None)):
                raise ValueError(f"All cells must have a `call` method. Received cell without a `call` method: {cell}")
            if getattr(cell, "state_size", None) is None:
                raise ValueError("All cells must have a `state_size` attribute. Received cell without a "
                                 f"`state_size`: {cell}")
        self.cells = list(cells)

    def _sublayers(self):
        return [cell for cell in self.cells if isinstance(cell, Layer)]  # list order is Keras's weight order

    @property
    def state_size(self):
        return [cell.state_size for cell in self.cells]

    @property
    def output_size(self):
        return cell_output_size(self.cells[-1])

    def compute_output_shape(self, input_shape, states_shape=None):
        return (input_shape[0], self.output_size)

    def get_initial_state(self, batch_size=None):
        return [initial_cell_state(cell, batch_size, self.compute_dtype) for cell in self.cells]

    def build(self, input_shape):
        for cell in self.cells:
            if isinstance(cell, Layer) and not cell.built:
                cell.build(input_shape)
                cell.built = True
            input_shape = (input_shape[0], cell_output_size(cell))
        self.built = True

    def call(self, inputs, states, training=False):
        new_states = []
        for cell, state in zip(self.cells, states):
            inputs, state = call_cell(cell, inputs, state, training)
            new_states.append(state)
        return inputs, new_states[0] if len(new_states) == 1 else new_states

    def get_config(self):
        return layer_config(self, cells=[serialize_keras_object(cell) for cell in self.cells])

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from kerasish.layers import deserialize
        config = dict(config)
        cells = [deserialize(cell, custom_objects) for cell in config.pop("cells")]
        return cls(cells, **config)


def cell_output_size(cell) -> int:
    """A cell's output width: `output_size`, else its (first) state size."""
    size = getattr(cell, "output_size", None)
    if size is None:
        size = cell.state_size[0] if isinstance(cell.state_size, (list, tuple)) else cell.state_size
    return size


def initial_cell_state(cell, batch_size, dtype):
    """The cell's `get_initial_state`, else zeros: one array for an int `state_size`, a list otherwise."""
    get = getattr(cell, "get_initial_state", None)
    if get is not None:
        return get(batch_size=batch_size)
    if isinstance(cell.state_size, int):
        return jnp.zeros((batch_size, cell.state_size), dtype)
    return [jnp.zeros((batch_size, d), dtype) for d in cell.state_size]


def call_cell(cell, inputs, state, training):
    """One step of any cell, states in and out in the structure the cell was given (Keras's
    `StackedRNNCells` rule: a list stays a list, a single array stays an array)."""
    nested = isinstance(state, (list, tuple))
    states = list(state) if nested else [state]
    kwargs = {"training": training} if call_accepts(cell, "training") else {}
    output, new = cell(inputs, states, **kwargs) if isinstance(cell, Layer) else cell.call(inputs, states, **kwargs)
    new = list(new) if isinstance(new, (list, tuple)) else [new]
    return output, new if nested or len(new) != 1 else new[0]


def call_accepts(layer, argument: str) -> bool:
    """Whether `layer.call` takes `argument` by name."""
    try:
        return argument in inspect.signature(layer.call).parameters
    except (TypeError, ValueError):
        return False
