"""keras.callbacks.TensorBoard: the event files it writes, read back with tbparse (TensorBoard's own
event reader underneath): Keras 3's tags, runs, steps and values."""

import numpy as np
import pytest

import kerasish as keras

tbparse = pytest.importorskip("tbparse")
pytest.importorskip("tensorboardX")
pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword:Warning")  # tbparse's use of pandas


def _scalars(log_dir):
    """{(run, tag): {step: value}} from every event file under `log_dir`."""
    frame = tbparse.SummaryReader(str(log_dir), extra_columns={"dir_name"}).scalars
    out = {}
    for row in frame.itertuples():
        out.setdefault((row.dir_name, row.tag), {})[int(row.step)] = float(row.value)
    return out


def _model():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy", metrics=["accuracy"])
    return model


def _data(n=80):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 4)).astype("float32")
    return x, (x[:, :1] > 0).astype("float32")


def test_epoch_scalars_for_training_and_validation(tmp_path):
    x, y = _data()
    model = _model()
    history = model.fit(x, y, batch_size=16, epochs=3, validation_split=0.25, verbose=0,
                        callbacks=[keras.callbacks.TensorBoard(tmp_path, histogram_freq=1)])
    scalars = _scalars(tmp_path)
    for name in ("loss", "accuracy"):
        np.testing.assert_allclose([scalars["train", f"epoch_{name}"][e] for e in range(3)], history.history[name],
                                   rtol=1e-6)
        np.testing.assert_allclose([scalars["validation", f"epoch_{name}"][e] for e in range(3)],
                                   history.history[f"val_{name}"], rtol=1e-6)
    np.testing.assert_allclose(list(scalars["train", "epoch_learning_rate"].values()), [0.01] * 3, rtol=1e-6)
    # after each validation run, at the optimizer's iteration count (60 training rows / 16 = 4 steps per epoch)
    assert sorted(scalars["validation", "evaluation_loss_vs_iterations"]) == [4, 8, 12]
    assert not any(tag.startswith("batch_") for _, tag in scalars)
    reader = tbparse.SummaryReader(str(tmp_path / "train"))
    assert set(reader.histograms["tag"]) == {"dense/kernel/histogram", "dense/bias/histogram"}
    assert "keras" in set(reader.text["tag"])  # the model config


@pytest.mark.parametrize("update_freq, steps", [("batch", list(range(1, 11))), (3, [3, 6, 9])])
def test_batch_scalars_every_update_freq_batches(tmp_path, update_freq, steps):
    x, y = _data()
    model = _model()
    seen = []
    record = keras.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: seen.append(dict(logs)))
    model.fit(x, y, batch_size=16, epochs=2, verbose=0,
              callbacks=[keras.callbacks.TensorBoard(tmp_path, update_freq=update_freq), record])
    scalars = _scalars(tmp_path)
    assert sorted(scalars["train", "batch_loss"]) == steps  # counted over both epochs (5 batches each)
    for step in steps:  # the running epoch values the batch hook received
        assert scalars["train", "batch_loss"][step] == pytest.approx(seen[step - 1]["loss"], rel=1e-6)
        assert scalars["train", "batch_accuracy"][step] == pytest.approx(seen[step - 1]["accuracy"], rel=1e-6)
    assert sorted(scalars["train", "epoch_loss"]) == [0, 1]


def test_epoch_logging_keeps_chunked_training_and_arguments_are_checked(tmp_path):
    board = keras.callbacks.TensorBoard(tmp_path)
    assert not board.overrides("on_train_batch_begin") and not board.overrides("on_train_batch_end")
    assert keras.callbacks.TensorBoard(tmp_path, update_freq=5).overrides("on_train_batch_begin")
    with pytest.raises(ValueError, match="`update_freq` must be"):
        keras.callbacks.TensorBoard(tmp_path, update_freq="step")
    for kwargs in ({"write_images": True}, {"profile_batch": 2}, {"embeddings_freq": 1}):
        with pytest.raises(NotImplementedError, match="does not support"):
            keras.callbacks.TensorBoard(tmp_path, **kwargs)


def test_missing_tensorboardx_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "tensorboardX", None)
    x, y = _data(16)
    model = _model()
    with pytest.raises(ImportError, match=r"pip install kerasish\[tensorboard\]"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[keras.callbacks.TensorBoard(tmp_path)])
