"""Behaviours the Keras 3 guides rely on, each checked against Keras 3 itself (on JAX).

One test per behaviour a guide run exposed as missing or wrong; the guides' own code is not here.
"""

import zipfile
import json

import numpy as np
import pytest

keras_ref = pytest.importorskip("keras")

import kerasish  # noqa: E402

RNG = np.random.default_rng(0)
X = RNG.normal(size=(32, 4)).astype("float32")
Y = RNG.integers(0, 3, size=(32,)).astype("int32")


def _linear_model(lib):
    inputs = lib.Input((4,))
    return lib.Model(inputs, lib.layers.Dense(3)(inputs))


def _loss_of(model, lib):
    return model.loss if lib is keras_ref else model._engine.loss


# -- compile configs in .keras files ---------------------------------------------------------------------------
@pytest.mark.parametrize("source, target", [(kerasish, keras_ref), (keras_ref, kerasish), (kerasish, kerasish)],
                         ids=["kerasish->keras", "keras->kerasish", "kerasish->kerasish"])
def test_saved_loss_object_keeps_its_arguments(tmp_path, source, target):
    """A model compiled with a loss object (`SparseCategoricalCrossentropy(from_logits=True)`) and metric
    objects loads compiled, with the same loss arguments, and evaluates to the same loss."""
    model = _linear_model(source)
    model.compile("rmsprop", source.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy", source.metrics.SparseCategoricalAccuracy(name="sca")])
    path = tmp_path / "model.keras"
    model.save(path)
    entry = json.loads(zipfile.ZipFile(path).read("config.json"))["compile_config"]["loss"]
    assert entry["class_name"] == "SparseCategoricalCrossentropy"
    assert entry["config"]["from_logits"] is True

    loaded = target.models.load_model(path)
    loss = _loss_of(loaded, target)
    assert type(loss).__name__ == "SparseCategoricalCrossentropy"
    assert loss.get_config()["from_logits"] is True
    before = model.evaluate(X, Y, verbose=0)
    after = loaded.evaluate(X, Y, verbose=0)
    np.testing.assert_allclose(after, before, rtol=1e-5)


def test_loss_object_per_output_dict_round_trips(tmp_path):
    """Per-output loss objects in a dict stay per output, each with its own config (as Keras writes them)."""
    for lib in (kerasish, keras_ref):
        inputs = lib.Input((4,))
        a = lib.layers.Dense(1, name="a")(inputs)
        b = lib.layers.Dense(3, name="b")(inputs)
        model = lib.Model(inputs, {"a": a, "b": b})
        model.compile("adam", {"a": lib.losses.BinaryCrossentropy(from_logits=True),
                               "b": lib.losses.SparseCategoricalCrossentropy(from_logits=True)})
        model.save(tmp_path / f"{lib.__name__}.keras")
    for path in (tmp_path / "kerasish.keras", tmp_path / "keras.keras"):
        loaded = kerasish.models.load_model(path)
        losses = loaded._engine.loss
        assert {k: (type(v).__name__, v.get_config()["from_logits"]) for k, v in losses.items()} == {
            "a": ("BinaryCrossentropy", True), "b": ("SparseCategoricalCrossentropy", True)}


# -- Keras-style metric subclasses -----------------------------------------------------------------------------
def _true_positives_metric(lib, return_variable):
    """The guide's pattern: a counter variable, `update_state` with `assign_add`, and `result` returning
    the variable itself (Keras 3.15 on this JAX cannot run that form, so its reference reads `.value`)."""

    class TruePositives(lib.metrics.Metric):
        def __init__(self, name="true_positives", **kwargs):
            super().__init__(name=name, **kwargs)
            self.count = self.add_variable(shape=(), name="count", initializer="zeros")

        def update_state(self, y_true, y_pred, sample_weight=None):
            hits = lib.ops.cast(y_true, "int32") == lib.ops.cast(lib.ops.argmax(y_pred, axis=1), "int32")
            self.count.assign_add(lib.ops.sum(lib.ops.cast(hits, "float32")))

        def result(self):
            return self.count if return_variable else self.count.value

    return TruePositives()


def _copy_weights(source, target):
    target.set_weights([np.asarray(w) for w in source.get_weights()])


def test_metric_whose_result_is_its_variable_reports_the_epoch_count():
    """`result()` returning the state variable itself: fit's history and evaluate report the count of
    the epoch (it read 0.0 in fit, the value the variable held outside the compiled step)."""
    ours, theirs = _linear_model(kerasish), _linear_model(keras_ref)
    _copy_weights(theirs, ours)
    ours.compile(kerasish.optimizers.SGD(0.1), "sparse_categorical_crossentropy",
                 metrics=[_true_positives_metric(kerasish, return_variable=True)])
    theirs.compile(keras_ref.optimizers.SGD(0.1), "sparse_categorical_crossentropy",
                   metrics=[_true_positives_metric(keras_ref, return_variable=False)])
    logs = [m.fit(X, Y, batch_size=8, epochs=2, shuffle=False, verbose=0).history for m in (ours, theirs)]
    assert logs[0]["true_positives"] == logs[1]["true_positives"]
    assert logs[0]["true_positives"][-1] > 0
    np.testing.assert_allclose(logs[0]["loss"], logs[1]["loss"], rtol=1e-4)
    assert ours.evaluate(X, Y, verbose=0, return_dict=True)["true_positives"] == \
        theirs.evaluate(X, Y, verbose=0, return_dict=True)["true_positives"]


def test_stateless_result_reads_the_given_values():
    metric = _true_positives_metric(kerasish, return_variable=True)
    assert float(metric.stateless_result([np.float32(7.0)])) == 7.0
    assert float(metric.result()) == 0.0


# -- callbacks -------------------------------------------------------------------------------------------------
_HOOKS = ("on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end", "on_train_batch_begin",
          "on_train_batch_end", "on_test_begin", "on_test_end", "on_predict_begin", "on_predict_end")


def _keys_recorder(lib):
    """A callback that calls `logs.keys()` in every hook, as the callbacks guide's CustomCallback does."""
    seen = {}

    def hook(name):
        if "batch" in name or "epoch" in name:
            def method(self, index, logs=None):
                seen.setdefault(name, sorted(logs.keys()))
        else:
            def method(self, logs=None):
                seen.setdefault(name, sorted(logs.keys()))
        return method

    methods = {name: hook(name) for name in _HOOKS}
    return type("Recorder", (lib.callbacks.Callback,), methods)(), seen


def test_every_hook_receives_a_logs_dict():
    """Hooks the loop calls without logs get `{}` (a user's `logs.keys()` must not meet None); the keys
    each hook sees are Keras's."""
    seen = []
    for lib in (kerasish, keras_ref):
        model = lib.Sequential([lib.Input((4,)), lib.layers.Dense(1)])
        model.compile("sgd", "mse", metrics=["mae"])
        recorder, keys = _keys_recorder(lib)
        model.fit(X, Y, batch_size=16, epochs=1, verbose=0, callbacks=[recorder])
        model.evaluate(X, Y, verbose=0, callbacks=[recorder])
        model.predict(X, verbose=0, callbacks=[recorder])
        seen.append(keys)
    assert seen[0] == seen[1]
    assert seen[0]["on_train_batch_begin"] == [] and seen[0]["on_train_begin"] == []
