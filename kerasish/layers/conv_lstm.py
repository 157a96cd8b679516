"""Convolutional LSTMs: `ConvLSTM1D`, `ConvLSTM2D`, `ConvLSTM3D` (Keras 3's maths, weights and config).

The cell is an LSTM whose matmuls are convolutions: the input convolution (the layer's strides,
padding and dilation) and the recurrent one (stride 1, "same" padding). As for `LSTMCell`, the
input half runs for every timestep at once before the `lax.scan` (time folded into the batch);
the scan body is the recurrent convolution and the gates. Dropout masks have the full step shape,
one per gate, as Keras draws them.

Owns: the ConvLSTM cell and layers. Must not: loop over time (`rnn.RNN` does).
"""

from __future__ import annotations

import jax.numpy as jnp

from kerasish.layers import _conv_args as args
from kerasish.layers.rnn import RNN
from kerasish.layers.rnn_layers import config_over_cell, expose_cell_arguments
from kerasish.layers.rnn_cells import LSTMCell
from kerasish.ops import conv

__all__ = ["ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D"]


class _ConvLSTMCell(LSTMCell):
    """One ConvLSTM step; states `[h, c]` of the convolution's output shape."""

    def __init__(self, rank: int, filters: int, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, **kwargs):
        super().__init__(filters, **kwargs)
        self.rank = rank
        self.filters = self.units
        self.kernel_size = args.tuple_arg(kernel_size, rank, "kernel_size")
        self.strides = args.tuple_arg(strides, rank, "strides")
        self.padding = args.padding_arg(padding)
        self.data_format = args.data_format_arg(data_format)
        self.dilation_rate = args.tuple_arg(dilation_rate, rank, "dilation_rate")
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError("Specifying `strides > 1` is not compatible with `dilation_rate > 1`. Please provide "
                             f"`strides=1` or `dilation_rate=1`. Received: strides={self.strides} and "
                             f"dilation_rate={self.dilation_rate}")
        self.implementation = 1  # Keras draws one dropout mask per gate
        self.spatial_dims = None

    def _mask_count(self):
        return 4

    def build(self, input_shape):
        axis = args.channel_axis(self.data_format)
        self.spatial_dims = args.spatial_dims(input_shape, self.data_format)
        if None in self.spatial_dims:
            raise ValueError("ConvLSTM layers only support static input shapes for the spatial dimension. "
                             f"Received invalid input shape: input_shape={tuple(input_shape)}")
        if input_shape[axis] is None:
            raise ValueError("The channel dimension of the inputs (last axis) should be defined. Found None. Full "
                             f"input shape received: input_shape={tuple(input_shape)}")
        self.input_dim = input_shape[axis]
        self.kernel = self.add_weight(shape=(*self.kernel_size, self.input_dim, 4 * self.filters), name="kernel",
                                      initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight(shape=(*self.kernel_size, self.filters, 4 * self.filters),
                                                name="recurrent_kernel", initializer=self.recurrent_initializer,
                                                regularizer=self.recurrent_regularizer,
                                                constraint=self.recurrent_constraint)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(shape=(4 * self.filters,), name="bias", initializer=self._bias_initializer(),
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        self.built = True

    def _state_shape(self, batch):
        shape = args.windowed_shape(self, args.with_spatial((batch,), self.spatial_dims, self.input_dim,
                                                            self.data_format),
                                    self.rank, self.filters, self.kernel_size, self.strides, self.padding,
                                    self.data_format, self.dilation_rate)
        return tuple(shape)

    def compute_output_shape(self, input_shape, states_shape=None):
        shape = args.windowed_shape(self, tuple(input_shape), self.rank, self.filters, self.kernel_size,
                                    self.strides, self.padding, self.data_format, self.dilation_rate)
        return shape, [shape, shape]

    def get_initial_state(self, batch_size=None):
        shape = self._state_shape(batch_size)
        return [jnp.zeros(shape, self.compute_dtype), jnp.zeros(shape, self.compute_dtype)]

    def _dropout_masks(self, input_shape, dtype, training):
        if not training:
            return None, None
        input_masks = self._draw(input_shape, dtype, self.dropout) if 0.0 < self.dropout < 1.0 else None
        recurrent = self._draw(self._state_shape(input_shape[0]), dtype, self.recurrent_dropout) \
            if 0.0 < self.recurrent_dropout < 1.0 else None
        return input_masks, recurrent

    def _split_channels(self, x):
        return jnp.split(x, 4, axis=args.channel_axis(self.data_format))

    def _conv(self, x, kernel, recurrent: bool):
        if recurrent:
            return conv(x, kernel, strides=1, padding="same", data_format=self.data_format)
        return conv(x, kernel, strides=self.strides, padding=self.padding, data_format=self.data_format,
                    dilation_rate=self.dilation_rate)

    def _gated_conv(self, x, kernel, masks, recurrent: bool):
        """The convolution of `x` with the 4-gate kernel; with dropout, each gate sees its own masked `x`."""
        if masks is None:
            return self._conv(x, kernel, recurrent)
        blocks = jnp.split(kernel, 4, axis=-1)
        axis = args.channel_axis(self.data_format)
        return jnp.concatenate([self._conv(x * m, k, recurrent) for m, k in zip(masks, blocks)], axis=axis)

    def _input_projection(self, x, input_masks=None):
        lead = x.shape[:x.ndim - (self.rank + 1)]  # (time, batch) in the RNN loop, (batch,) for one step

        def folded_conv(v, kernel):
            out = self._conv(v.reshape(-1, *v.shape[len(lead):]), kernel, False)
            return out.reshape(*lead, *out.shape[1:])
        kernel = self.kernel.value
        if input_masks is None:
            z = folded_conv(x, kernel)
        else:  # each gate convolves its own masked copy; a mask is (batch, ...), the same at every step
            axis = -1 if self.data_format == "channels_last" else len(lead)
            z = jnp.concatenate([folded_conv(x * m, k) for m, k in zip(input_masks, jnp.split(kernel, 4, axis=-1))],
                                axis=axis)
        if self.use_bias:
            bias = self.bias.value
            z = z + (bias if self.data_format == "channels_last" else bias.reshape(-1, *(1,) * self.rank))
        return z

    def _recurrence(self, projected, states, recurrent_masks=None):
        h, c = states
        z = projected + self._gated_conv(h, self.recurrent_kernel.value, recurrent_masks, True)
        z_i, z_f, z_c, z_o = self._split_channels(z)
        gate = self.recurrent_activation
        c = gate(z_f) * c + gate(z_i) * self.activation(z_c)
        h = gate(z_o) * self.activation(c)
        return h, [h, c]


class _ConvLSTM(RNN):
    """An RNN over a `_ConvLSTMCell` of rank `rank`; inputs (batch, time, *spatial, channels)."""

    rank = 2
    _cell_keys = ("kernel_size", "strides", "padding", "data_format", "dilation_rate", "activation",
                  "recurrent_activation", "use_bias", "kernel_initializer", "recurrent_initializer",
                  "bias_initializer", "unit_forget_bias", "kernel_regularizer", "recurrent_regularizer",
                  "bias_regularizer", "kernel_constraint", "recurrent_constraint", "bias_constraint", "dropout",
                  "recurrent_dropout", "seed")

    def __init__(self, filters, kernel_size, *, return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, activity_regularizer=None, **kwargs):
        cell_kwargs = {key: kwargs.pop(key) for key in self._cell_keys if key in kwargs}
        cell_kwargs["kernel_size"] = kernel_size
        cell = _ConvLSTMCell(self.rank, filters, name="conv_lstm_cell", dtype=kwargs.get("dtype"), **cell_kwargs)
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, activity_regularizer=activity_regularizer,
                         **kwargs)

    def build(self, sequences_shape, initial_state_shape=None):
        args.check_rank(self, sequences_shape, self.rank + 3)
        super().build(sequences_shape, initial_state_shape)

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        batch, steps = sequences_shape[0], sequences_shape[1]
        state = tuple(self.cell.compute_output_shape((batch, *sequences_shape[2:]))[0][1:])
        output = (batch, steps, *state) if self.return_sequences else (batch, *state)
        if self.return_state:
            return output, (batch, *state), (batch, *state)
        return output

    def get_config(self):
        cell = self.cell
        return config_over_cell(self, filters=cell.filters, kernel_size=cell.kernel_size, strides=cell.strides,
                                padding=cell.padding, data_format=cell.data_format, dilation_rate=cell.dilation_rate)

    @classmethod
    def from_config(cls, config):
        return cls(**config)


expose_cell_arguments(_ConvLSTM, ("filters", *_ConvLSTM._cell_keys))


class ConvLSTM1D(_ConvLSTM):
    """A 1-D convolutional LSTM over (batch, time, steps, channels) inputs."""
    rank = 1


class ConvLSTM2D(_ConvLSTM):
    """A 2-D convolutional LSTM over (batch, time, rows, cols, channels) inputs.

    Example:
        >>> keras.layers.ConvLSTM2D(4, 3, padding="same")(np.ones((2, 5, 8, 8, 3), "float32")).shape
        (2, 8, 8, 4)
    """
    rank = 2


class ConvLSTM3D(_ConvLSTM):
    """A 3-D convolutional LSTM over (batch, time, dim1, dim2, dim3, channels) inputs."""
    rank = 3
