"""SimpleRNN, LSTM, GRU, their cells, RNN, Bidirectional, TimeDistributed, Masking (issue 13)."""

__all__: list[str] = []
