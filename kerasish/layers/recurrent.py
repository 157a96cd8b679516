"""Recurrent layers (issue 13): the cells, `RNN`, `SimpleRNN`, `LSTM`, `GRU`, `Bidirectional` and
`TimeDistributed`, re-exported from the modules that hold them (`rnn_cells`, `rnn`, `rnn_layers`,
`rnn_wrappers`, `conv_lstm`).

`Masking` lives in `masking`; the convolutional LSTMs in `conv_lstm`.
"""

from kerasish.layers.conv_lstm import ConvLSTM1D, ConvLSTM2D, ConvLSTM3D
from kerasish.layers.rnn import RNN
from kerasish.layers.rnn_layers import GRU, LSTM, SimpleRNN
from kerasish.layers.rnn_cells import GRUCell, LSTMCell, SimpleRNNCell, StackedRNNCells
from kerasish.layers.rnn_wrappers import Bidirectional, TimeDistributed, Wrapper

__all__ = ["Bidirectional", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D", "GRU", "GRUCell", "LSTM", "LSTMCell", "RNN",
           "SimpleRNN", "SimpleRNNCell", "StackedRNNCells", "TimeDistributed", "Wrapper"]
