"""Callbacks: each one's observable effect in `fit`, and its decisions against Keras 3's own callback."""

import math

import keras as reference  # Keras 3 (JAX backend, set in conftest): the reference implementation
import numpy as np
import pytest

import kerasish as keras
from kerasish import layers
from kerasish.callbacks import CallbackList


def _regression(n=32, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype("float32")
    return x, (x @ np.array([1.0, -2.0, 0.5, 0.0], "float32"))[:, None]


def _mlp(optimizer="sgd", hidden=8, seed=0, metrics=None):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((4,)), layers.Dense(hidden, activation="relu"), layers.Dense(1)])
    model.compile(optimizer, "mse", metrics=metrics)
    return model


def _snapshots(model):
    """A LambdaCallback recording the weights at the end of each epoch."""
    snaps = []
    return snaps, keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: snaps.append(model.get_weights()))


def _equal(a, b):
    return all(np.array_equal(u, v) for u, v in zip(a, b))


# -- decisions, step by step, against Keras's callbacks -----------------------------------------
class _Model:
    """Just what a monitoring callback touches: stop_training and an optimizer's learning_rate."""

    class _Optimizer:
        learning_rate = 0.1
        name = "opt"

    def __init__(self):
        self.stop_training = False
        self.optimizer = self._Optimizer()


def _drive(callback, values, key="val_loss"):
    model = _Model()
    callback.set_model(model)
    callback.on_train_begin()
    trace = []
    for epoch, value in enumerate(values):
        callback.on_epoch_end(epoch, {key: value, "loss": value})
        trace.append((model.stop_training, float(model.optimizer.learning_rate)))
        if model.stop_training:
            break
    return trace


_VALUES = [1.0, 0.8, 0.85, 0.79, 0.9, 0.95, 0.7, 0.71, 0.72, 0.73, 0.74]


@pytest.mark.parametrize("kwargs", [{}, {"patience": 2}, {"patience": 2, "min_delta": 0.05},
                                    {"patience": 1, "baseline": 0.75}, {"patience": 1, "start_from_epoch": 4},
                                    {"patience": 3, "mode": "max"}])
def test_early_stopping_decides_like_keras(kwargs):
    ours = keras.callbacks.EarlyStopping(**kwargs)
    theirs = reference.callbacks.EarlyStopping(**kwargs)
    assert _drive(ours, _VALUES) == _drive(theirs, _VALUES)
    assert (ours.stopped_epoch, ours.best, ours.wait) == (theirs.stopped_epoch, theirs.best, theirs.wait)


@pytest.mark.parametrize("kwargs", [{"patience": 1}, {"patience": 2, "factor": 0.5, "cooldown": 2},
                                    {"patience": 1, "min_lr": 0.02, "factor": 0.5}, {"patience": 1, "min_delta": 0.2}])
def test_reduce_lr_on_plateau_decides_like_keras(kwargs):
    assert _drive(keras.callbacks.ReduceLROnPlateau(**kwargs), _VALUES) == \
        _drive(reference.callbacks.ReduceLROnPlateau(**kwargs), _VALUES)


def test_csv_logger_writes_what_keras_writes(tmp_path):
    epochs = [{"loss": 0.5, "mae": 0.25, "val_loss": 0.625, "val_mae": 1 / 3}, {"loss": float("nan"), "mae": 0.1}]
    for logs in (epochs, [{"loss": 0.5, "accuracy": 0.75}] * 2):  # without validation keys: Keras adds val_*
        for name, module in (("ours", keras), ("keras", reference)):
            for append in (False, True):
                logger = module.callbacks.CSVLogger(tmp_path / f"{name}.csv", separator=";", append=append)
                logger.on_train_begin()
                for epoch, values in enumerate(logs):
                    logger.on_epoch_end(epoch, dict(values))
                logger.on_train_end()
        assert (tmp_path / "ours.csv").read_bytes() == (tmp_path / "keras.csv").read_bytes()


def test_monitor_direction_errors_like_keras():
    with pytest.raises(ValueError, match="isn't able to automatically determine"):
        _drive(keras.callbacks.EarlyStopping(monitor="val_thing"), [1.0], key="val_thing")
    with pytest.raises(ValueError, match="does not support a factor >= 1.0"):
        keras.callbacks.ReduceLROnPlateau(factor=1.0)


# -- effects in fit ---------------------------------------------------------------------------
def test_early_stopping_stops_and_restores_the_best_weights():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(8, 4)).astype("float32"), rng.normal(size=(8, 1)).astype("float32")
    xv, yv = rng.normal(size=(32, 4)).astype("float32"), rng.normal(size=(32, 1)).astype("float32")
    model = _mlp(keras.optimizers.Adam(0.05), hidden=64)  # 8 noisy samples: it overfits at once
    snaps, recorder = _snapshots(model)
    stop = keras.callbacks.EarlyStopping(patience=3, restore_best_weights=True)
    history = model.fit(x, y, epochs=60, validation_data=(xv, yv), verbose=0, callbacks=[recorder, stop])
    val_loss = history.history["val_loss"]
    best = int(np.argmin(val_loss))
    assert len(val_loss) < 60 and len(val_loss) == best + 4 and stop.stopped_epoch == best + 3
    assert _equal(model.get_weights(), snaps[best])
    assert math.isclose(model.evaluate(xv, yv, verbose=0), val_loss[best], rel_tol=1e-6)


def test_a_schedule_of_zero_freezes_the_weights_and_the_step_compiles_once():
    x, y = _regression()
    model = _mlp(keras.optimizers.Adam(0.1))
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    before = model.get_weights()
    history = model.fit(x, y, batch_size=8, epochs=3, verbose=0,
                        callbacks=[keras.callbacks.LearningRateScheduler(lambda epoch, lr: 0.0)])
    assert _equal(model.get_weights(), before)
    assert history.history["learning_rate"] == [0.0, 0.0, 0.0]
    assert model._engine.trace_counts["train"] == 1


def test_a_scheduled_rate_is_the_rate_the_compiled_step_uses():
    x, y = _regression()
    scheduled = _mlp(keras.optimizers.SGD(0.1))
    scheduled.fit(x, y, batch_size=8, epochs=2, verbose=0,
                  callbacks=[keras.callbacks.LearningRateScheduler(lambda epoch: 0.05 / (epoch + 1), verbose=0)])
    assert scheduled._engine.trace_counts["train"] == 1
    assert math.isclose(scheduled.optimizer.learning_rate, 0.025, rel_tol=1e-6)
    fixed = _mlp(keras.optimizers.SGD(0.05))  # same seed: same initial weights and shuffling
    fixed.fit(x, y, batch_size=8, epochs=1, verbose=0)
    fixed.optimizer.learning_rate = 0.025
    fixed.fit(x, y, batch_size=8, epochs=2, initial_epoch=1, verbose=0)
    assert _equal(scheduled.get_weights(), fixed.get_weights())


def test_reduce_lr_on_plateau_lowers_the_rate_when_the_loss_stalls():
    x, y = _regression()
    model = _mlp(keras.optimizers.SGD(0.01))
    plateau = keras.callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1, min_delta=1e9)
    history = model.fit(x, y, batch_size=8, epochs=4, verbose=0, callbacks=[plateau])
    np.testing.assert_allclose(history.history["learning_rate"], [0.01, 0.01, 0.005, 0.0025], rtol=1e-6)
    assert math.isclose(model.optimizer.learning_rate, 0.00125, rel_tol=1e-6)
    assert model._engine.trace_counts["train"] == 1


def test_csv_logger_columns_in_fit(tmp_path):
    x, y = _regression()
    model = _mlp(metrics=["mae"])
    model.fit(x, y, batch_size=8, epochs=2, validation_split=0.25, verbose=0,
              callbacks=[keras.callbacks.CSVLogger(tmp_path / "log.csv")])
    lines = (tmp_path / "log.csv").read_text().splitlines()
    assert lines[0] == "epoch,loss,mae,val_loss,val_mae" and len(lines) == 3 and lines[2].startswith("1,")


def test_terminate_on_nan_stops_without_overwriting_the_last_good_checkpoint(tmp_path):
    x, y = _regression()
    model = _mlp(keras.optimizers.SGD(0.01))
    snaps, recorder = _snapshots(model)
    path = tmp_path / "last.keras"
    explode = keras.callbacks.LearningRateScheduler(lambda epoch, lr: 0.01 if epoch < 2 else 1e30)
    with pytest.warns(UserWarning, match="not saving"):
        history = model.fit(x, y, batch_size=8, epochs=10, verbose=0, callbacks=[
            explode, keras.callbacks.TerminateOnNaN(), recorder,
            keras.callbacks.ModelCheckpoint(path, monitor="loss")])
    assert model.stop_training and len(history.history["loss"]) == 3
    assert not math.isfinite(history.history["loss"][-1])
    saved = keras.models.load_model(path)
    assert _equal(saved.get_weights(), snaps[1]) and all(np.isfinite(w).all() for w in saved.get_weights())
    with pytest.raises(RuntimeError, match="NaN or Inf loss"):
        model.fit(x, y, batch_size=8, epochs=1, verbose=0, callbacks=[keras.callbacks.TerminateOnNaN(raise_error=True)])


def test_model_checkpoint_paths_best_only_and_errors(tmp_path):
    x, y = _regression()
    model = _mlp(keras.optimizers.SGD(0.01))
    every = keras.callbacks.ModelCheckpoint(str(tmp_path / "e{epoch:02d}-{loss:.3f}.weights.h5"), save_weights_only=True)
    batches = keras.callbacks.ModelCheckpoint(str(tmp_path / "b/{epoch}-{batch}.keras"), save_freq=3)
    best = keras.callbacks.ModelCheckpoint(tmp_path / "best.keras", monitor="val_loss", save_best_only=True)
    history = model.fit(x, y, batch_size=8, epochs=3, validation_split=0.5, verbose=0,
                        callbacks=[every, batches, best])
    names = {f"e{e + 1:02d}-{loss:.3f}.weights.h5" for e, loss in enumerate(history.history["loss"])}
    assert names <= set(p.name for p in tmp_path.iterdir())
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == ["2-1.keras", "3-2.keras"]
    assert best.best == min(history.history["val_loss"])
    with pytest.raises(ValueError, match=r"filepath provided must end in `\.weights\.h5`"):
        keras.callbacks.ModelCheckpoint("w.keras", save_weights_only=True)
    with pytest.raises(ValueError, match=r"must end in `\.keras`"):
        keras.callbacks.ModelCheckpoint("model.h5py")
    with pytest.raises(ValueError, match="Unrecognized save_freq"):
        keras.callbacks.ModelCheckpoint("m.keras", save_freq="batch")


def test_epoch_callbacks_read_the_device_once_per_epoch(tmp_path, monkeypatch):
    x, y = _regression()
    model = _mlp()
    calls = []
    results = model._engine.results
    monkeypatch.setattr(model._engine, "results", lambda m: calls.append(1) or results(m))
    callbacks = [keras.callbacks.EarlyStopping(monitor="loss"), keras.callbacks.CSVLogger(tmp_path / "l.csv"),
                 keras.callbacks.ModelCheckpoint(tmp_path / "m.keras", monitor="loss"),
                 keras.callbacks.ReduceLROnPlateau(monitor="loss"),
                 keras.callbacks.BackupAndRestore(tmp_path / "backup")]
    assert not CallbackList(callbacks).wants("on_train_batch_end")
    model.fit(x, y, batch_size=4, epochs=2, verbose=0, callbacks=callbacks)
    assert len(calls) == 2


def test_stop_training_from_a_batch_hook_and_lambda_batch_hooks():
    x, y = _regression()
    model = _mlp()
    seen = []

    def on_batch(batch, logs):
        seen.append((batch, logs["loss"]))
        model.stop_training = batch == 1

    history = model.fit(x, y, batch_size=8, epochs=3, verbose=0,
                        callbacks=[keras.callbacks.LambdaCallback(on_train_batch_end=on_batch)])
    assert [b for b, _ in seen] == [0, 1] and model.optimizer.iterations == 2
    assert len(history.history["loss"]) == 1


def test_backup_and_restore_arguments_and_cleanup(tmp_path):
    with pytest.raises(ValueError, match="Empty `backup_dir`"):
        keras.callbacks.BackupAndRestore("")
    with pytest.raises(ValueError, match="Invalid value for argument `save_freq`"):
        keras.callbacks.BackupAndRestore(tmp_path, save_freq="batch")
    x, y = _regression()
    model = _mlp()
    kept = keras.callbacks.BackupAndRestore(tmp_path / "kept", delete_checkpoint=False)
    model.fit(x, y, batch_size=8, epochs=2, verbose=0, callbacks=[kept])
    assert (tmp_path / "kept" / "latest.weights.h5").exists()
    model.fit(x, y, batch_size=8, epochs=2, verbose=0, callbacks=[kept])  # resumes at epoch 2: nothing to do
    assert model.history.epoch == []


def _hook_recorder(lib):
    class Recorder(lib.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.calls = []

        def on_test_batch_begin(self, batch, logs=None):
            self.calls.append(("test_begin", batch))

        def on_test_batch_end(self, batch, logs=None):
            self.calls.append(("test_end", batch, sorted(logs)))

        def on_predict_batch_begin(self, batch, logs=None):
            self.calls.append(("predict_begin", batch))

        def on_predict_batch_end(self, batch, logs=None):
            self.calls.append(("predict_end", batch, np.shape(logs["outputs"])))
    return Recorder()


def test_evaluate_validation_and_predict_call_every_batch_hook_as_keras():
    """Per batch, as Keras: on_test_batch_begin/end in evaluate and in fit's validation,
    on_predict_batch_begin/end with the batch's outputs in predict."""
    x = np.ones((100, 4), "float32")
    y = np.zeros((100, 1), "float32")
    seen = []
    for lib in (reference, keras):
        model = lib.Sequential([lib.Input((4,)), lib.layers.Dense(1)])
        model.compile(optimizer="sgd", loss="mse")
        recorder = _hook_recorder(lib)
        model.evaluate(x, y, batch_size=32, verbose=0, callbacks=[recorder])
        model.fit(x, y, batch_size=50, epochs=1, validation_data=(x, y), validation_batch_size=40, verbose=0,
                  callbacks=[recorder])
        model.predict(x, batch_size=30, verbose=0, callbacks=[recorder])
        seen.append(recorder.calls)
    assert seen[1] == seen[0]
