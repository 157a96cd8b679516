"""`RNN`: runs a cell over the time axis with one `jax.lax.scan` (inside whatever jit compiles the
step). `SimpleRNN`, `LSTM` and `GRU` (in `rnn_layers`) are RNNs over their own cells.

The loop is time-major. For the built-in cells the state-independent half of the step (the input
projection `x @ kernel + bias`) runs for all timesteps in one matmul before the scan, so the scan
body is only `h @ recurrent_kernel` and the gates. Masked timesteps carry the previous state and
output forward (or zeros, with `zero_output_for_mask`), as Keras's JAX backend does; `go_backwards`
scans in reverse and returns the outputs in processing order; `unroll=True` unrolls the scan.

Owns: the time loop, masks, initial and stateful states. Must not: know any cell's maths.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from flax import nnx

from kerasish import activations
from kerasish.layers._lstm_scan import lstm_scan
from kerasish.layers.base import Layer
from kerasish.layers.rnn_cells import (LSTMCell, StackedRNNCells, _RecurrentCell, call_cell, cell_output_size,
                                       initial_cell_state)
from kerasish.serialization import layer_config, serialize_keras_object
from kerasish.variables import NonTrainableVariable

__all__ = ["RNN"]


class _States(nnx.Module, pytree=False):
    """A stateful RNN's last states: random-free state carried by `fit`, not weights (Keras does
    not list them in `weights` either)."""

    _keras_state_only = True

    def __init__(self, values: list):
        self.values = [NonTrainableVariable(v, trainable=False, name="rnn_state") for v in values]


def _fusable(cell, recurrent_masks) -> bool:
    """Whether `_lstm_scan` (hand-written backward pass) computes this cell's loop."""
    return (type(cell)._recurrence is LSTMCell._recurrence and isinstance(cell, LSTMCell) and recurrent_masks is None
            and cell.activation is activations.tanh and cell.recurrent_activation is activations.sigmoid)


def _program(cell, step_shape, dtype, training):
    """(project, step, fused) for one sequence: `project` maps time-major inputs to what
    `step(x_t, states)` takes; dropout masks are drawn here, once. Built-in cells project all
    timesteps at once. `fused(z, states, valid, reverse) -> (states, every h)` is the whole loop
    for an LSTM with tanh / sigmoid and no recurrent dropout, else None."""
    if isinstance(cell, _RecurrentCell):
        input_masks, recurrent_masks = cell._dropout_masks(step_shape, dtype, training)
        fused = None
        if _fusable(cell, recurrent_masks):
            def fused(z, states, valid, reverse):
                h, c, every_h = lstm_scan(z, cell.recurrent_kernel.value, states[0], states[1], valid, reverse)
                return [h, c], every_h
        return (lambda x: cell._input_projection(x, input_masks),
                lambda x_t, states: cell._recurrence(x_t, list(states), recurrent_masks), fused)
    if isinstance(cell, StackedRNNCells):
        programs, shape = [], step_shape
        for inner in cell.cells:
            programs.append(_program(inner, shape, dtype, training)[:2])
            shape = (step_shape[0], cell_output_size(inner))

        def stacked_step(x_t, states):
            new_states = []
            for index, ((project, step), state) in enumerate(zip(programs, states)):
                nested = isinstance(state, (list, tuple))
                x_t, new = step(x_t if index == 0 else project(x_t), state if nested else [state])
                new_states.append(list(new) if nested else new[0])
            return x_t, new_states
        return programs[0][0], stacked_step, None
    return (lambda x: x), (lambda x_t, states: call_cell(cell, x_t, list(states), training)), None


def _outputs_its_state(cell) -> bool:
    """Whether the cell's output is its first state (the built-in cells), so the loop need not
    collect outputs to return the last one."""
    if isinstance(cell, StackedRNNCells):
        return _outputs_its_state(cell.cells[-1])
    return isinstance(cell, _RecurrentCell)


def _keep(valid_t, new, old):
    """`new` where the step is real, `old` where it is padding; `valid_t` is (batch, 1)."""
    return jnp.where(valid_t.reshape(valid_t.shape[0], *(1,) * (jnp.ndim(new) - 1)), new, old)


def _first_state(states, stacked: bool):
    """Keras's output for a masked step: the previous first state (the last cell's, when stacked;
    Keras takes the first cell's when that one's state is a bare array, and fails on the shapes)."""
    if stacked:
        last = states[-1]
        return last[0] if isinstance(last, (list, tuple)) else last
    return states[0]


class RNN(Layer):
    """Runs a recurrent cell (or a list of cells, stacked) over the time axis of (batch, time, ...) inputs.

    A cell is a layer with `state_size` (an int or a list of ints), `call(inputs, states)` returning
    `(output, new_states)`, and optionally `output_size` and `get_initial_state(batch_size)`.

    Call arguments: `sequences`, `initial_state` (a list of arrays), `mask` ((batch, time) booleans,
    False for padding), `training`. Returns the last output (batch, units), or every output
    (batch, time, units) with `return_sequences`, followed by the final states with `return_state`.

    Example:
        >>> rnn = keras.layers.RNN([keras.layers.LSTMCell(8), keras.layers.LSTMCell(4)], return_sequences=True)
        >>> rnn(np.ones((2, 5, 3), "float32")).shape
        (2, 5, 4)
    """

    def __init__(self, cell, return_sequences: bool = False, return_state: bool = False, go_backwards: bool = False,
                 stateful: bool = False, unroll: bool = False, zero_output_for_mask: bool = False, **kwargs):
        if isinstance(cell, (list, tuple)):
            cell = StackedRNNCells(cell)
        if not callable(getattr(cell, "call", None)):
            raise ValueError(f"Argument `cell` should have a `call` method. Received: cell={cell}")
        state_size = getattr(cell, "state_size", None)
        if state_size is None:
            raise ValueError("The RNN cell should have a `state_size` attribute (single integer or list of integers, "
                             f"one integer per RNN state). Received: cell={cell}")
        if not isinstance(state_size, (list, tuple, int)):
            raise ValueError("state_size must be an integer, or a list/tuple of integers (one for each state "
                             f"tensor). Received: state_size={state_size!r}")
        if not isinstance(cell, Layer):
            raise ValueError("kerasish runs RNN cells that are `keras.layers.Layer` subclasses (their weights must "
                             f"be in the model's graph). Received: cell={cell!r}")
        super().__init__(**kwargs)
        self.cell = cell
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.unroll = bool(unroll)
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self.single_state = isinstance(state_size, int)
        self.supports_masking = True
        self._states = None

    @property
    def state_size(self) -> list:
        size = self.cell.state_size
        return [size] if isinstance(size, int) else list(size)

    # -- shapes and masks ---------------------------------------------------------------------------
    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        batch, length = sequences_shape[0], sequences_shape[1]
        output_size = getattr(self.cell, "output_size", None)
        if output_size is None:
            output_size = self.state_size[0]
        if not isinstance(output_size, int):
            raise ValueError("output_size must be an integer.")
        output = (batch, length, output_size) if self.return_sequences else (batch, output_size)
        if not self.return_state:
            return output
        states = [(batch, s) if isinstance(s, int) else [(batch, d) for d in s] for s in self.state_size]
        return (output, *states)

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        output_mask = mask if self.return_sequences else None
        if self.return_state:
            return [output_mask] + [None for _ in self.state_size]
        return output_mask

    # -- states -------------------------------------------------------------------------------------
    def build(self, sequences_shape, initial_state_shape=None):
        if len(sequences_shape) < 3:
            raise ValueError(f"Input 0 of layer \"{self.name}\" is incompatible with the layer: expected ndim=3, "
                             f"found ndim={len(sequences_shape)}. Full shape received: {tuple(sequences_shape)}")
        if not self.cell.built:
            self.cell.build((sequences_shape[0], *sequences_shape[2:]))
            self.cell.built = True
        if self.stateful:
            if sequences_shape[0] is None:
                raise ValueError("When using `stateful=True` in a RNN, the batch size must be static. Found dynamic "
                                 f"batch size: sequence.shape={tuple(sequences_shape)}")
            if self._states is None:
                leaves = jax.tree.leaves(self.get_initial_state(sequences_shape[0]))
                self._states = _States([jnp.asarray(v, self.variable_dtype) for v in leaves])
        self.built = True

    @property
    def states(self):
        """A stateful layer's state variables (None for a layer that is not stateful)."""
        return None if self._states is None else list(self._states.values)

    def get_initial_state(self, batch_size):
        state = self.cell.get_initial_state(batch_size=batch_size) if hasattr(self.cell, "get_initial_state") \
            else initial_cell_state(self.cell, batch_size, self.cell.compute_dtype)
        return list(state) if isinstance(state, (list, tuple)) else [state]

    def reset_state(self):
        """Sets a stateful layer's states back to zeros."""
        if self._states is not None:
            for variable in self._states.values:
                variable.assign(jnp.zeros_like(variable.value))

    reset_states = reset_state

    def _initial_states(self, sequences, initial_state):
        template = self.get_initial_state(sequences.shape[0])
        if initial_state is None:
            if self._states is None:
                return template
            if sequences.shape[0] != self._states.values[0].shape[0]:
                raise ValueError("If an RNN is stateful, the batch size of the input sequences must be the same as "
                                 f"the batch size of the initial state. \n- Expected batch size: "
                                 f"{self._states.values[0].shape[0]}\n- Received batch size: {sequences.shape[0]}")
            return jax.tree.unflatten(jax.tree.structure(template), [v.value for v in self._states.values])
        states = list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
        structure = jax.tree.structure(template)
        if jax.tree.structure(states) != structure and len(jax.tree.leaves(states)) == structure.num_leaves:
            states = jax.tree.unflatten(structure, jax.tree.leaves(states))  # a flat list for stacked cells
        return jax.tree.map(lambda s: jnp.asarray(s, self.cell.compute_dtype), states)

    # -- the loop -------------------------------------------------------------------------------------
    def call(self, sequences, initial_state=None, mask=None, training=False):
        sequences = jnp.asarray(sequences)
        if not jnp.issubdtype(sequences.dtype, jnp.floating):
            sequences = sequences.astype(self.compute_dtype)
        if sequences.ndim < 3:
            raise ValueError(f"Input 0 of layer \"{self.name}\" is incompatible with the layer: expected ndim=3, "
                             f"found ndim={sequences.ndim}. Full shape received: {tuple(sequences.shape)}")
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        states = self._initial_states(sequences, initial_state)
        last, outputs, states = self._loop(sequences, states, mask, bool(training))
        if self._states is not None:
            for variable, value in zip(self._states.values, jax.tree.leaves(states)):
                variable.assign(value)
        output = outputs if self.return_sequences else last
        output = output.astype(self.compute_dtype)
        if self.return_state:
            return (output, *jax.tree.map(lambda s: s.astype(self.compute_dtype), states))
        return output

    def _loop(self, sequences, states, mask, training):
        """(last output, outputs in processing order (batch, time, ...) or None, final states)."""
        xs = jnp.swapaxes(sequences, 0, 1)  # time-major
        project, step, fused = _program(self.cell, (sequences.shape[0], *sequences.shape[2:]), sequences.dtype,
                                        training)
        xs = project(xs)
        valid = None
        if mask is not None:
            valid = jnp.swapaxes(jnp.asarray(mask).astype(bool), 0, 1)
            valid = valid[..., None] if valid.ndim == 2 else jnp.any(valid, axis=tuple(range(2, valid.ndim)))[..., None]
        if fused is not None and not self.unroll:
            states, every_h = fused(xs, states, valid, self.go_backwards)
            if self.zero_output_for_mask and valid is not None:
                every_h = jnp.where(valid, every_h, jnp.zeros((), every_h.dtype))
            if self.go_backwards:
                every_h = jnp.flip(every_h, axis=0)
            return every_h[-1], jnp.swapaxes(every_h, 0, 1), states
        collect = self.return_sequences or not _outputs_its_state(self.cell)
        stacked = isinstance(self.cell, StackedRNNCells)
        carry_output = self.unroll and valid is not None  # Keras's unrolled loop repeats the last output
        if carry_output:
            out_shape = jax.eval_shape(step, xs[0], states)[0]
            previous = jnp.zeros(out_shape.shape, out_shape.dtype)
        else:
            previous = None

        def body(carry, inputs):
            states, previous = carry
            x_t, valid_t = inputs if valid is not None else (inputs, None)
            output, new_states = step(x_t, states)
            new_states = type(states)(new_states) if isinstance(states, (list, tuple)) else new_states
            if valid_t is not None:
                if carry_output:
                    fill = previous
                elif self.zero_output_for_mask:
                    fill = jnp.zeros_like(output)
                else:
                    fill = _first_state(states, stacked)
                output = _keep(valid_t, output, fill)
                new_states = jax.tree.map(lambda new, old: _keep(valid_t, new, old), new_states, states)
            carry = (new_states, output if carry_output else None)
            return carry, (output if collect else None)

        scan_xs = (xs, valid) if valid is not None else xs
        (states, _), outputs = jax.lax.scan(body, (list(states), previous), scan_xs, reverse=self.go_backwards,
                                            unroll=True if self.unroll else 1)
        if collect:
            if self.go_backwards:
                outputs = jnp.flip(outputs, axis=0)
            last = outputs[-1]
            outputs = jnp.swapaxes(outputs, 0, 1)
        else:
            last = _first_state(states, stacked)
            if self.zero_output_for_mask and valid is not None:
                last = _keep(valid[0] if self.go_backwards else valid[-1], last, jnp.zeros_like(last))
            outputs = None
        return last, outputs, states

    def get_config(self):
        return layer_config(self, return_sequences=self.return_sequences, return_state=self.return_state,
                            go_backwards=self.go_backwards, stateful=self.stateful, unroll=self.unroll,
                            zero_output_for_mask=self.zero_output_for_mask, cell=serialize_keras_object(self.cell))

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from kerasish.layers import deserialize
        config = dict(config)
        cell = config.pop("cell")
        if isinstance(cell, dict):
            cell = deserialize(cell, custom_objects)
        return cls(cell, **config)
