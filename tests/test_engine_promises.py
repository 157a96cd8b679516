"""Promises of fit / train_on_batch / callbacks that once were broken (issue 10's defect list)."""

import numpy as np

import kerasish as keras
from kerasish import layers

X, Y = np.ones((20, 3), "float32"), np.ones((20, 1), "float32")


def _model():
    model = keras.Sequential([keras.Input((3,)), layers.Dense(1)])
    model.compile(keras.optimizers.SGD(0.1), "mse")
    return model


def test_a_schedule_assigned_after_compile_is_followed():
    model = _model()
    model.optimizer.learning_rate = keras.optimizers.schedules.ExponentialDecay(0.0, 10, 0.9)
    before = model.get_weights()
    model.fit(X, Y, verbose=0)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)  # a rate of 0.0 moves nothing


def test_train_on_batch_keeps_history_and_runs_one_step():
    model = _model()
    history = model.fit(X, Y, verbose=0)
    before = model.optimizer.iterations
    loss = model.train_on_batch(X[:5], Y[:5])
    assert model.history is history and model.optimizer.iterations == before + 1
    assert np.isfinite(loss)


def test_callbacks_get_dicts_and_validation_calls_on_test_begin():
    seen = {}

    class Recorder(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            seen["train_begin"] = logs

        def on_epoch_begin(self, epoch, logs=None):
            seen["epoch_begin"] = logs

        def on_test_begin(self, logs=None):
            seen["test_begin"] = logs

        def on_test_end(self, logs=None):
            seen["test_end"] = logs

        def on_predict_begin(self, logs=None):
            seen["predict_begin"] = logs
    model = _model()
    model.fit(X, Y, validation_data=(X, Y), callbacks=[Recorder()], verbose=0)
    model.predict(X, callbacks=[Recorder()], verbose=0)
    assert seen["train_begin"] == seen["epoch_begin"] == seen["test_begin"] == seen["predict_begin"] == {}
    assert set(seen["test_end"]) == {"loss"}


def test_predict_after_pop_and_add_on_an_uncompiled_model():
    model = keras.Sequential([keras.Input((3,)), layers.Dense(4), layers.Dense(1)])
    model.predict(X, verbose=0)
    model.pop()
    model.add(layers.Dense(2))
    assert model.predict(X, verbose=0).shape == (20, 2)


def test_keras_input_with_int32_dtype_feeds_an_embedding():
    model = keras.Sequential([keras.Input((5,), dtype="int32"), layers.Embedding(10, 3), layers.Flatten(),
                              layers.Dense(1)])
    assert model.predict(np.arange(10).reshape(2, 5), verbose=0).shape == (2, 1)


def test_a_plain_function_metric():
    model = keras.Sequential([keras.Input((3,)), layers.Dense(2)])
    model.compile("sgd", "mse", metrics=[lambda t, p: keras.ops.mean(keras.ops.abs(t - p), axis=-1)])
    history = model.fit(X, np.zeros((20, 2)), verbose=0)
    assert np.isfinite(history.history["<lambda>"]).all()


def test_a_loss_with_per_pixel_values_trains_like_keras():
    keras_ref = __import__("pytest").importorskip("keras")
    keras_ref.backend.clear_session()
    x = np.random.default_rng(0).random((8, 6, 6, 1)).astype("float32")

    def build(k):
        inputs = k.Input((6, 6, 1))
        return k.Model(inputs, k.layers.Conv2D(1, 3, padding="same", activation="sigmoid")(inputs))
    ref, ours = build(keras_ref), build(keras)
    ours.set_weights(ref.get_weights())
    for model, k in ((ref, keras_ref), (ours, keras)):
        model.compile(k.optimizers.SGD(0.1), "binary_crossentropy")
    np.testing.assert_allclose(ours.train_on_batch(x, x), ref.train_on_batch(x, x), rtol=1e-5)
