"""`SimpleRNN`, `LSTM` and `GRU`: each an `RNN` over its own built-in cell, configured by the cell's
arguments and writing Keras's flat config (the cell's arguments, no `cell` entry).

Owns: those three layers and the two helpers other cell-owning RNNs (ConvLSTM) share. Must not:
loop over time (`rnn.RNN`) or define cell maths (`rnn_cells`).
"""

from __future__ import annotations

from kerasish.layers.rnn import RNN
from kerasish.layers.rnn_cells import GRUCell, LSTMCell, SimpleRNNCell, _RecurrentCell
from kerasish.serialization import serialize_keras_object

__all__ = ["GRU", "LSTM", "SimpleRNN"]


class _CellLayer(RNN):
    """SimpleRNN, LSTM, GRU: an RNN over its own built-in cell, configured by the cell's arguments."""

    cell_class: type = _RecurrentCell
    cell_name = ""
    _cell_keys: tuple[str, ...] = ()

    def __init__(self, units, *, return_sequences=False, return_state=False, go_backwards=False, stateful=False,
                 unroll=False, zero_output_for_mask=False, activity_regularizer=None, **kwargs):
        cell_kwargs = {key: kwargs.pop(key) for key in self._cell_keys if key in kwargs}
        cell = self.cell_class(units, **cell_kwargs, dtype=kwargs.get("dtype"), trainable=kwargs.get("trainable", True),
                               name=self.cell_name, implementation=kwargs.pop("implementation", 2))
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll,
                         zero_output_for_mask=zero_output_for_mask, activity_regularizer=activity_regularizer,
                         **kwargs)

    def get_config(self):
        return config_over_cell(self, units=self.cell.units)

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        expose_cell_arguments(cls, ("units", *cls._cell_keys))


def expose_cell_arguments(cls, keys) -> None:
    """The cell's arguments read through the layer (`lstm.units`, `lstm.dropout`), as in Keras."""
    for key in keys:
        setattr(cls, key, property(lambda self, key=key: getattr(self.cell, key)))


def config_over_cell(layer: RNN, **fields) -> dict:
    """The config Keras writes for an RNN that builds its own cell (LSTM, ConvLSTM2D, ...): the RNN's
    keys without `cell`, then `fields`, then the cell's arguments named in `layer._cell_keys`."""
    cell = layer.cell.get_config()
    config = {key: value for key, value in RNN.get_config(layer).items() if key != "cell"}
    config.update(fields)
    config.update({key: cell[key] for key in layer._cell_keys if key in cell})
    config["activity_regularizer"] = serialize_keras_object(layer.activity_regularizer)
    return config


_COMMON_KEYS = ("activation", "use_bias", "kernel_initializer", "recurrent_initializer", "bias_initializer",
                "kernel_regularizer", "recurrent_regularizer", "bias_regularizer", "kernel_constraint",
                "recurrent_constraint", "bias_constraint", "dropout", "recurrent_dropout")


class SimpleRNN(_CellLayer):
    """A fully connected RNN whose output is fed back as its state (`SimpleRNNCell` in an `RNN`).

    Example:
        >>> keras.layers.SimpleRNN(4, return_sequences=True)(np.ones((2, 5, 3), "float32")).shape
        (2, 5, 4)
    """

    cell_class = SimpleRNNCell
    cell_name = "simple_rnn_cell"
    _cell_keys = _COMMON_KEYS + ("seed",)

    def get_config(self):
        config = super().get_config()
        del config["seed"]  # Keras's SimpleRNN does not write its seed
        return config


class _GatedLayer(_CellLayer):
    """LSTM and GRU also take Keras's `use_cudnn`: kerasish has no cuDNN kernel (one `lax.scan` runs
    everywhere), so "auto" and False are what it does, and True, which demands cuDNN, is refused."""

    _cell_keys = ()

    def __init__(self, units, use_cudnn="auto", **kwargs):
        if use_cudnn not in ("auto", True, False):
            raise ValueError("Invalid valid received for argument `use_cudnn`. Expected one of {'auto', True, False}. "
                             f"Received: use_cudnn={use_cudnn}")
        if use_cudnn is True:
            raise ValueError("use_cudnn=True was specified, but kerasish has no cuDNN implementation (its recurrent "
                             "layers run one `lax.scan` on every device). Pass use_cudnn='auto' or False.")
        super().__init__(units, **kwargs)
        self.use_cudnn = use_cudnn


class LSTM(_GatedLayer):
    """Long Short-Term Memory layer (Hochreiter 1997): `LSTMCell` in an `RNN`.

    Weights (under the cell `lstm_cell`): `kernel` (features, 4 * units), `recurrent_kernel`
    (units, 4 * units), `bias` (4 * units,), gates in the order i, f, c, o. `use_cudnn` is accepted
    for Keras compatibility; kerasish runs one `lax.scan` everywhere.

    Example:
        >>> out, h, c = keras.layers.LSTM(4, return_state=True)(np.ones((2, 5, 3), "float32"))
    """

    cell_class = LSTMCell
    cell_name = "lstm_cell"
    _cell_keys = _COMMON_KEYS + ("recurrent_activation", "unit_forget_bias", "seed")


class GRU(_GatedLayer):
    """Gated Recurrent Unit (Cho et al. 2014): `GRUCell` in an `RNN`; `reset_after=True` by default.

    Example:
        >>> keras.layers.GRU(4)(np.ones((2, 5, 3), "float32")).shape
        (2, 4)
    """

    cell_class = GRUCell
    cell_name = "gru_cell"
    _cell_keys = _COMMON_KEYS + ("recurrent_activation", "reset_after", "seed")
