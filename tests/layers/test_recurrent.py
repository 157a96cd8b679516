"""SimpleRNN, LSTM, GRU, their cells in RNN, ConvLSTM1D/2D/3D, Bidirectional and TimeDistributed against Keras 3
(the shared contract)."""

import pytest

from contract import Row, run_contract, table

SEQ = (2, 5, 3)

ROWS = [
    Row("LSTM", dict(units=4), SEQ, "last"),
    Row("LSTM", dict(units=2, activity_regularizer={"class_name": "L1", "config": {"l1": 0.5}},
                     recurrent_constraint="non_neg"), SEQ, "activity-regularizer"),
    Row("LSTM", dict(units=3, return_sequences=True, go_backwards=True), SEQ, "sequences-backwards"),
    Row("LSTM", dict(units=3, activation="relu", recurrent_activation="hard_sigmoid", use_bias=False,
                     unit_forget_bias=False, unroll=True), SEQ, "nobias-unrolled"),
    Row("LSTM", dict(units=3, return_sequences=True, dropout=0.3, recurrent_dropout=0.2, seed=7), SEQ,
        "dropout-seeded", random=True),
    Row("GRU", dict(units=4), SEQ, "last"),
    Row("GRU", dict(units=3, reset_after=False, return_sequences=True), SEQ, "reset-before"),
    Row("GRU", dict(units=3, go_backwards=True, use_bias=False, kernel_regularizer="l2"), SEQ,
        "backwards-nobias-regularized"),
    Row("GRU", dict(units=3, return_sequences=True, dropout=0.25, seed=3), SEQ, "dropout-seeded", random=True),
    Row("SimpleRNN", dict(units=4), SEQ, "last"),
    Row("SimpleRNN", dict(units=3, return_sequences=True, activation="relu"), SEQ,
        "sequences-relu"),
    Row("SimpleRNN", dict(units=3, return_sequences=True, recurrent_dropout=0.3, dropout=0.2, seed=11), SEQ,
        "dropout-seeded", random=True),
    Row("RNN", dict(return_sequences=True), SEQ, "lstm-cell", layers={"cell": ("LSTMCell", dict(units=3, name="c"))}),
    Row("RNN", dict(), SEQ, "stacked-cells",
        layers={"cell": [("GRUCell", dict(units=4, name="c1")), ("SimpleRNNCell", dict(units=3, name="c2")),
                         ("LSTMCell", dict(units=2, name="c3"))]}),
    Row("Bidirectional", dict(), SEQ, "concat", layers={"layer": ("LSTM", dict(units=3, name="lstm"))}),
    Row("Bidirectional", dict(merge_mode="sum"), SEQ, "sum-sequences",
        layers={"layer": ("GRU", dict(units=3, return_sequences=True, name="gru"))}),
    Row("Bidirectional", dict(merge_mode="mul"), SEQ, "mul",
        layers={"layer": ("SimpleRNN", dict(units=3, return_sequences=True, name="rnn"))}),
    Row("Bidirectional", dict(merge_mode="ave"), SEQ, "ave-backward-layer",
        layers={"layer": ("LSTM", dict(units=3, name="lstm")),
                "backward_layer": ("GRU", dict(units=3, go_backwards=True, name="back"))}),
    Row("ConvLSTM1D", dict(filters=3, kernel_size=2, strides=2, go_backwards=True), (2, 4, 7, 2), "strided-backwards"),
    Row("ConvLSTM2D", dict(filters=3, kernel_size=3), (2, 4, 6, 5, 2), "valid"),
    Row("ConvLSTM2D", dict(filters=2, kernel_size=(2, 3), padding="same", return_sequences=True,
                           data_format="channels_first", dilation_rate=(1, 2)), (2, 3, 2, 5, 6),
        "same-sequences-channels-first"),
    Row("ConvLSTM2D", dict(filters=2, kernel_size=2, padding="same", return_sequences=True, dropout=0.3,
                           recurrent_dropout=0.2, seed=5), (2, 3, 4, 4, 2), "dropout-seeded", random=True),
    Row("ConvLSTM3D", dict(filters=2, kernel_size=2, padding="same"), (1, 3, 3, 4, 3, 2), "same"),
    Row("TimeDistributed", dict(), SEQ, "dense", layers={"layer": ("Dense", dict(units=4, name="d"))}),
    Row("TimeDistributed", dict(), (2, 3, 5, 4, 2), "conv2d",
        layers={"layer": ("Conv2D", dict(filters=3, kernel_size=2, name="conv"))}),
]

@pytest.mark.parametrize("row", table(ROWS))
def test_recurrent_matches_keras(row):
    run_contract(row)
