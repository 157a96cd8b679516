"""fit / evaluate / predict and the *_on_batch methods: return values, engine guarantees, errors."""

import io
import contextlib

import numpy as np
import optax
import pytest

import kerasish as keras
from kerasish import layers


def _blobs(n=400, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x = rng.normal(size=(n, 2)).astype("float32") + np.where(y[:, None] == 1, 1.5, -1.5)
    return x, y


def _xor(n=512, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, size=(n, 2)).astype("float32")
    return x, (x[:, 0] * x[:, 1] > 0).astype("float32")


def _classifier(hidden=16, out=2, activation="softmax"):
    return keras.Sequential([keras.Input((2,)), layers.Dense(hidden, activation="relu"),
                             layers.Dense(out, activation=activation)])


def test_fit_returns_history_with_keras_keys():
    x, y = _blobs()
    model = _classifier()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=3, batch_size=32, validation_split=0.25, verbose=0)
    assert list(history.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert history.epoch == [0, 1, 2]
    assert history.params == {"verbose": 0, "epochs": 3, "steps": 10}
    assert all(isinstance(v, float) for vs in history.history.values() for v in vs)
    assert model.history is history
    assert history.history["loss"][-1] < history.history["loss"][0]  # "adam" by name trains


def test_evaluate_return_forms():
    x, y = _blobs()
    model = _classifier()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    loss, acc = model.evaluate(x, y, verbose=0)
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    assert logs == {"loss": loss, "accuracy": acc}
    model.compile("adam", "sparse_categorical_crossentropy")
    assert isinstance(model.evaluate(x, y, verbose=0), float)


def test_predict_shapes_and_last_partial_batch():
    model = _classifier(out=3)
    x = np.random.default_rng(0).normal(size=(70, 2)).astype("float32")
    probs = model.predict(x, batch_size=32, verbose=0)
    assert probs.shape == (70, 3) and isinstance(probs, np.ndarray)
    np.testing.assert_allclose(probs.sum(1), 1, rtol=1e-5)
    np.testing.assert_allclose(model.predict(x[:5], verbose=0), probs[:5], rtol=1e-6)


@pytest.mark.parametrize("optimizer", [
    keras.optimizers.SGD(0.5), keras.optimizers.SGD(0.1, momentum=0.9, nesterov=True), keras.optimizers.Momentum(0.1),
    keras.optimizers.Adagrad(0.3), keras.optimizers.RMSprop(0.01), keras.optimizers.Adam(0.02),
    keras.optimizers.AdamW(0.02), optax.adam(0.02),
], ids=["sgd", "nesterov", "momentum", "adagrad", "rmsprop", "adam", "adamw", "optax"])
def test_every_optimizer_learns_xor(optimizer):
    keras.utils.set_random_seed(1)
    x, y = _xor()
    model = keras.Sequential([keras.Input((2,)), layers.Dense(32, activation="tanh"), layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer, "binary_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=40, batch_size=32, verbose=0)
    assert model.evaluate(x, y, verbose=0)[1] >= 0.9


def test_one_seed_gives_identical_runs():
    x, y = _blobs()

    def run():
        keras.utils.set_random_seed(42)
        model = keras.Sequential([keras.Input((2,)), layers.Dense(8, activation="relu"), layers.Dropout(0.3),
                                  layers.Dense(2, activation="softmax")])
        model.compile("adam", "sparse_categorical_crossentropy")
        model.fit(x, y, epochs=2, batch_size=16, verbose=0)
        return model.get_weights()
    for a, b in zip(run(), run()):
        np.testing.assert_array_equal(a, b)


def test_an_epoch_compiles_once_even_with_a_partial_last_batch():
    x, y = _blobs(n=101)
    model = _classifier()
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=3, batch_size=32, verbose=0)
    model.fit(x, y, epochs=1, batch_size=32, verbose=0)
    model.evaluate(x, y, batch_size=32, verbose=0)
    model.evaluate(x, y, batch_size=32, verbose=0)
    model.predict(x, batch_size=32, verbose=0)
    model.predict(x, batch_size=32, verbose=0)
    assert model._engine.trace_counts == {"train": 1, "eval": 1, "predict": 1}


def test_padded_rows_do_not_count():
    """A 10-sample batch padded to 32 gives the same loss and update as the 10 samples alone."""
    x, y = _blobs(n=10)
    keras.utils.set_random_seed(3)
    a = _classifier()
    b = _classifier()
    b.set_weights(a.get_weights())
    a.compile(keras.optimizers.SGD(0.1), "sparse_categorical_crossentropy")
    b.compile(keras.optimizers.SGD(0.1), "sparse_categorical_crossentropy")
    ha = a.fit(x, y, batch_size=32, epochs=1, shuffle=False, verbose=0)
    hb = b.fit(x, y, batch_size=10, epochs=1, shuffle=False, verbose=0)
    np.testing.assert_allclose(ha.history["loss"], hb.history["loss"], rtol=1e-6)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=1e-5, atol=1e-7)


def test_steps_per_execution_gives_the_same_result():
    x, y = _blobs(n=150)
    results = []
    for k in (1, 4):
        keras.utils.set_random_seed(5)
        model = _classifier()
        model.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy", steps_per_execution=k)
        model.fit(x, y, batch_size=16, epochs=2, verbose=0)
        results.append(model.get_weights())
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_generator_and_iterable_inputs():
    x, y = _blobs(n=96)
    batches = [(x[i:i + 32], y[i:i + 32]) for i in range(0, 96, 32)]
    model = _classifier()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(batches, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    gen = ((x[i:i + 20], y[i:i + 20]) for i in range(0, 96, 20))
    loss, acc = model.evaluate(gen, verbose=0)
    ref_loss, ref_acc = model.evaluate(x, y, verbose=0)
    np.testing.assert_allclose([loss, acc], [ref_loss, ref_acc], rtol=1e-5)
    preds = model.predict(((x[i:i + 20],) for i in range(0, 96, 20)), verbose=0)
    np.testing.assert_allclose(preds, model.predict(x, verbose=0), rtol=1e-5)


def test_sample_weight_and_class_weight():
    x, y = _blobs(n=64)
    model = _classifier()
    model.compile(keras.optimizers.SGD(0.0), "sparse_categorical_crossentropy")
    plain = model.evaluate(x, y, verbose=0)
    assert model.evaluate(x, y, sample_weight=np.full(64, 2.0), verbose=0) == pytest.approx(2 * plain, rel=1e-5)
    weights = np.where(y == 1, 3.0, 1.0)
    h1 = model.fit(x, y, class_weight={0: 1.0, 1: 3.0}, batch_size=64, verbose=0, shuffle=False)
    h2 = model.fit(x, y, sample_weight=weights, batch_size=64, verbose=0, shuffle=False)
    assert h1.history["loss"] == pytest.approx(h2.history["loss"], rel=1e-6)


def test_on_batch_methods():
    x, y = _blobs(n=32)
    model = _classifier()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    loss, acc = model.train_on_batch(x, y)
    assert isinstance(loss, float) and 0 <= acc <= 1
    logs = model.test_on_batch(x, y, return_dict=True)
    assert set(logs) == {"loss", "accuracy"}
    assert model.predict_on_batch(x).shape == (32, 2)


def test_training_and_inference_modes_differ_for_dropout():
    model = keras.Sequential([keras.Input((100,)), layers.Dropout(0.5)])
    x = np.ones((4, 100), "float32")
    np.testing.assert_array_equal(model.predict(x, verbose=0), x)
    assert (np.asarray(model(x, training=True)) == 0).any()


def test_progress_bar_verbose_modes():
    x, y = _blobs(n=64)
    model = _classifier()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    for verbose, expect in ((1, "2/2"), (2, "2/2 - ")):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            model.fit(x, y, epochs=2, batch_size=32, verbose=verbose)
        text = out.getvalue()
        assert "Epoch 1/2" in text and "Epoch 2/2" in text and expect in text
        assert "accuracy:" in text and "loss:" in text
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        model.fit(x, y, epochs=2, batch_size=32, verbose=0)
    assert out.getvalue() == ""


def test_softmax_cross_entropy_is_stable_on_confident_wrong_predictions():
    model = keras.Sequential([keras.Input((2,)), layers.Dense(3, activation="softmax")])
    model.set_weights([np.array([[300.0, -300.0, 0.0], [0.0, 0.0, 0.0]], "float32"), np.zeros(3, "float32")])
    model.compile(keras.optimizers.SGD(0.1), "sparse_categorical_crossentropy")
    x = np.array([[1.0, 0.0]] * 4, "float32")
    y = np.array([1, 1, 1, 1])
    loss = model.train_on_batch(x, y)
    assert np.isfinite(loss)
    assert all(np.isfinite(w).all() for w in model.get_weights())


# -- bad input: Keras's exception types, and the model is left as it was -----------------------

def _compiled():
    model = keras.Sequential([keras.Input((4,)), layers.Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def test_fit_before_compile():
    model = keras.Sequential([layers.Dense(3)])
    with pytest.raises(ValueError, match="You must call `compile\\(\\)` before using the model"):
        model.fit(np.zeros((3, 4)), np.zeros(3))


@pytest.mark.parametrize("x,y,match", [
    (np.zeros((3, 4)), np.zeros(5), "Data cardinality is ambiguous"),
    (np.zeros((3, 5)), np.zeros(3), "expected shape=\\(None, 4\\), found shape=\\(3, 5\\)"),
    (np.zeros((3, 4, 1)), np.zeros(3), "incompatible"),
])
def test_bad_data_leaves_the_model_unchanged(x, y, match):
    model = _compiled()
    before = model.get_weights()
    with pytest.raises(ValueError, match=match):
        model.fit(x, y, verbose=0)
    for a, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(a, b)
    model.fit(np.zeros((8, 4), "float32"), np.zeros(8), verbose=0)  # still usable


@pytest.mark.parametrize("kwargs,error,match", [
    ({"optimizer": "foo", "loss": "mse"}, ValueError, "Could not interpret optimizer identifier: foo"),
    ({"optimizer": "adam", "loss": "nope"}, ValueError, "Could not interpret loss identifier"),
    ({"optimizer": "adam", "loss": "mse", "metrics": ["bogus"]}, ValueError, "bogus"),
    ({"optimizer": "adam", "loss": "mse", "metrics": "accuracy"}, TypeError, "metrics"),
    ({"optimizer": "adam", "loss": "mse", "steps_per_execution": 0}, ValueError, "steps_per_execution"),
])
def test_compile_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        keras.Sequential([layers.Dense(1)]).compile(**kwargs)


@pytest.mark.parametrize("kwargs,match", [
    ({"batch_size": 0}, "batch_size"),
    ({"epochs": -1}, "epochs"),
    ({"validation_split": 1.5}, "validation_split"),
    ({"verbose": 7}, "verbose"),
    ({"class_weight": {0: 1.0}}, "class_weight"),
])
def test_fit_argument_errors(kwargs, match):
    model = _compiled()
    with pytest.raises(ValueError, match=match):
        model.fit(np.zeros((8, 4), "float32"), np.array([0, 1] * 4), **kwargs)


def test_string_data_is_a_type_error():
    with pytest.raises(TypeError):
        _compiled().fit(np.array([["a"] * 4] * 2, dtype=object), np.zeros(2), verbose=0)


def test_learning_rate_set_between_compile_and_fit_is_used():
    x, y = _blobs(n=32)
    model = _classifier()
    model.compile(keras.optimizers.SGD(0.1), "sparse_categorical_crossentropy")
    model.optimizer.learning_rate = 0.0
    before = model.get_weights()
    model.fit(x, y, epochs=1, verbose=0)
    for a, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(a, b)
    assert model.optimizer.learning_rate == 0.0


def test_fit_from_a_random_access_source_through_datasets_batches():
    """`keras.datasets.Batches` over a tfds-style source (a Sequence of dicts) feeds fit directly."""
    x, y = _blobs(n=96)
    source = [{"image": x[i], "label": y[i]} for i in range(96)]
    batches = keras.datasets.Batches(source, batch_size=32, keys=("image", "label"), shuffle=True, seed=1)
    model = _classifier()
    model.compile(keras.optimizers.Adam(0.05), "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(batches, epochs=8, verbose=0)
    assert history.history["accuracy"][-1] > 0.9


def test_data_sets_of_nearby_sizes_share_one_compiled_program():
    model = _classifier()
    model.compile("sgd", "sparse_categorical_crossentropy", steps_per_execution=2)
    for n in (1000, 990, 1010):
        x, y = _blobs(n=n)
        model.fit(x, y, batch_size=100, verbose=0)
    assert model._engine.trace_counts["train"] == 1


def test_run_eagerly_runs_python_steps_with_the_same_result():
    x, y = _blobs(n=64)
    results = []
    for eager in (False, True):
        keras.utils.set_random_seed(9)
        model = _classifier()
        seen = []

        class Probe(keras.layers.Layer):  # a Python side effect runs each step only when eager
            def call(self, x):
                seen.append(type(x).__name__)
                return x
        model.add(Probe())
        model.compile(keras.optimizers.SGD(0.1), "sparse_categorical_crossentropy", run_eagerly=eager)
        model.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
        results.append((model.get_weights(), len(seen)))
    for a, b in zip(results[0][0], results[1][0]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert results[1][1] > results[0][1]  # called at every eager step, only while tracing otherwise


def test_arrays_too_big_for_the_device_stream_with_the_same_result(monkeypatch):
    from kerasish.training import data as data_lib
    x, y = _blobs(n=150)
    results = []
    for limit in (data_lib.DEVICE_RESIDENT_BYTES, 0):  # resident, then streamed chunk by chunk
        monkeypatch.setattr(data_lib, "DEVICE_RESIDENT_BYTES", limit)
        keras.utils.set_random_seed(5)
        model = _classifier()
        model.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy", metrics=["accuracy"],
                      steps_per_execution=4)
        history = model.fit(x, y, batch_size=16, epochs=2, verbose=0, validation_split=0.2)
        results.append((model.get_weights(), history.history))
    for a, b in zip(results[0][0], results[1][0]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    for key in results[0][1]:
        np.testing.assert_allclose(results[0][1][key], results[1][1][key], rtol=1e-5)


def test_fit_reads_the_model_once_unless_a_callback_may_change_it():
    """The state moves between the model and the compiled calls only around hooks that a callback
    other than History / the progress bar listens to; what such a hook sets is trained from."""
    x, y = _blobs(n=64)
    model = _classifier()
    model.compile("sgd", "sparse_categorical_crossentropy")
    engine = model._engine
    calls = {"pull": 0, "push": 0}
    for name in calls:
        def counted(*args, _f=getattr(engine, name), _n=name):
            calls[_n] += 1
            return _f(*args)
        setattr(engine, name, counted)
    model.fit(x, y, batch_size=16, epochs=3, verbose=0)
    assert calls == {"pull": 1, "push": 1}

    zeros = [np.zeros_like(w) for w in model.get_weights()]
    seen = []
    callback = keras.callbacks.LambdaCallback(
        on_epoch_begin=lambda epoch, logs: model.set_weights(zeros) if epoch == 1 else None,
        on_epoch_end=lambda epoch, logs: seen.append(model.get_weights()))
    model.fit(x, y, batch_size=64, epochs=2, verbose=0, shuffle=False, callbacks=[callback])
    reference = _classifier()
    reference.compile("sgd", "sparse_categorical_crossentropy")
    reference.set_weights(zeros)
    reference.fit(x, y, batch_size=64, epochs=1, verbose=0, shuffle=False)
    assert all(np.allclose(a, b) for a, b in zip(seen[1], reference.get_weights()))
    assert all(np.allclose(a, b) for a, b in zip(model.get_weights(), seen[1]))
