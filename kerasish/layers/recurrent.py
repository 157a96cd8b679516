"""Recurrent layers (issue 13): the cells, `RNN`, `SimpleRNN`, `LSTM`, `GRU`, `Bidirectional` and
`TimeDistributed`, re-exported from the modules that hold them (`rnn_cells`, `rnn`, `rnn_wrappers`).

`Masking` lives in `masking`; convolutional LSTMs (`ConvLSTM1D/2D/3D`) are not implemented.
"""

from kerasish.layers.rnn import GRU, LSTM, RNN, SimpleRNN
from kerasish.layers.rnn_cells import GRUCell, LSTMCell, SimpleRNNCell, StackedRNNCells
from kerasish.layers.rnn_wrappers import Bidirectional, TimeDistributed, Wrapper

__all__ = ["Bidirectional", "GRU", "GRUCell", "LSTM", "LSTMCell", "RNN", "SimpleRNN", "SimpleRNNCell",
           "StackedRNNCells", "TimeDistributed", "Wrapper"]
