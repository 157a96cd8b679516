"""Behaviours the Keras 3 guides rely on, each checked against Keras 3 itself (on JAX).

One test per behaviour a guide run exposed as missing or wrong; the guides' own code is not here.
"""

import os
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


# -- keras.saving.deserialize_keras_object ---------------------------------------------------------------------
def _objects(lib):
    return [lib.regularizers.L1(0.005), lib.regularizers.L1L2(l1=1e-5, l2=1e-4),
            lib.initializers.GlorotUniform(seed=1), lib.constraints.MaxNorm(2.0),
            lib.losses.BinaryCrossentropy(from_logits=True), lib.metrics.MeanAbsoluteError(name="mae_metric"),
            lib.optimizers.Adam(0.01), lib.optimizers.schedules.ExponentialDecay(0.1, 100, 0.9),
            lib.layers.Dense(3, activation="relu", name="d"), lib.activations.relu, lib.losses.mean_squared_error]


@pytest.mark.parametrize("index", range(11))
def test_deserialize_keras_object_rebuilds_any_keras_entry(index):
    """The serialization guide's `deserialize_keras_object(serialize_keras_object(L1(0.005)))`, for every
    family: Keras 3's entry gives the same kind of object with the same config as Keras 3 rebuilds."""
    entry = keras_ref.saving.serialize_keras_object(_objects(keras_ref)[index])
    ours = kerasish.saving.deserialize_keras_object(entry)
    theirs = keras_ref.saving.deserialize_keras_object(entry)
    if callable(theirs) and not hasattr(theirs, "get_config"):
        assert ours.__name__ == theirs.__name__
        return
    assert type(ours).__name__ == type(theirs).__name__
    ref_config = theirs.get_config()
    assert {k: v for k, v in ours.get_config().items() if k in ref_config} == ref_config


def test_deserialize_keras_object_plain_values_and_special_entries():
    values = {"a": [1, 2.5, None], "b": "s", "arr": np.arange(3.0), "sl": slice(1, 5, None), "by": b"xy"}
    entry = keras_ref.saving.serialize_keras_object(values)
    ours = kerasish.saving.deserialize_keras_object(entry)
    assert ours["a"] == [1, 2.5, None] and ours["b"] == "s"
    assert ours["sl"] == slice(1, 5, None) and ours["by"] == b"xy"
    np.testing.assert_array_equal(ours["arr"], np.arange(3.0))
    assert ours["arr"].dtype == np.float64


def test_deserialize_keras_object_registered_custom_class_and_function():
    @kerasish.saving.register_keras_serializable(package="GuideTest")
    class Halve(kerasish.regularizers.Regularizer):
        def __init__(self, factor=0.5):
            self.factor = factor

        def __call__(self, x):
            return self.factor * kerasish.ops.sum(x)

        def get_config(self):
            return {"factor": self.factor}

    @kerasish.saving.register_keras_serializable(package="GuideTest")
    def cube(x):
        return x ** 3

    rebuilt = kerasish.saving.deserialize_keras_object(kerasish.saving.serialize_keras_object(Halve(0.25)))
    assert type(rebuilt) is Halve and rebuilt.factor == 0.25
    assert kerasish.saving.deserialize_keras_object(kerasish.saving.serialize_keras_object(cube)) is cube
    with pytest.raises(kerasish.saving.UnknownObjectError):
        kerasish.saving.deserialize_keras_object({"module": "builtins", "class_name": "function",
                                                  "config": "not_a_function", "registered_name": "function"})


def test_deserialize_keras_object_refuses_lambdas_in_safe_mode():
    entry = {"class_name": "__lambda__", "config": {"value": "abc"}}
    with pytest.raises(ValueError, match="lambda"):
        kerasish.saving.deserialize_keras_object(entry)


# -- the saving hooks a custom class may define -----------------------------------------------------------------
def _layer_with_custom_build(lib):
    """`build` takes an extra argument; `get_build_config` / `build_from_config` carry it through the file."""

    class LayerWithCustomBuild(lib.layers.Layer):
        def __init__(self, units=4, **kwargs):
            super().__init__(**kwargs)
            self.units = units

        def build(self, input_shape, layer_init):
            super().build(input_shape)
            self._input_shape = input_shape
            self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer=layer_init)
            self.layer_init = layer_init

        def call(self, inputs):
            return lib.ops.matmul(inputs, self.w)

        def get_config(self):
            return dict(units=self.units, **super().get_config())

        def get_build_config(self):
            return {"layer_init": self.layer_init, "input_shape": self._input_shape}

        def build_from_config(self, config):
            self.build(config["input_shape"], config["layer_init"])

    return LayerWithCustomBuild


@pytest.mark.parametrize("source, target", [(kerasish, kerasish), (kerasish, keras_ref), (keras_ref, kerasish)],
                         ids=["kerasish->kerasish", "kerasish->keras", "keras->kerasish"])
def test_user_build_config_hooks_round_trip(tmp_path, source, target):
    classes = {lib: _layer_with_custom_build(lib) for lib in (source, target)}
    layer = classes[source](units=3)
    layer.build(input_shape=(6,), layer_init="ones")
    model = source.Sequential([layer, source.layers.Dense(1)])
    x = RNG.normal(size=(2, 6)).astype("float32")
    y = np.asarray(model(x))
    model.save(tmp_path / "m.keras")
    restored = target.models.load_model(tmp_path / "m.keras",
                                        custom_objects={"LayerWithCustomBuild": classes[target]})
    assert restored.layers[0].layer_init == "ones" and restored.built
    np.testing.assert_allclose(np.asarray(restored(x)), y, rtol=1e-6)


def _model_with_custom_compile(lib, loss):
    class ModelWithCustomCompile(lib.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.dense = lib.layers.Dense(4, activation="softmax")

        def call(self, inputs):
            return self.dense(inputs)

        def compile(self, optimizer, loss_fn, metrics):
            super().compile(optimizer=optimizer, loss=loss_fn, metrics=metrics)
            self.model_optimizer, self.loss_fn, self.loss_metrics = optimizer, loss_fn, metrics

        def get_compile_config(self):
            return {"model_optimizer": self.model_optimizer, "loss_fn": self.loss_fn, "metric": self.loss_metrics}

        def compile_from_config(self, config):
            rebuild = lib.saving.deserialize_keras_object
            self.compile(optimizer=rebuild(config["model_optimizer"]), loss_fn=rebuild(config["loss_fn"]),
                         metrics=rebuild(config["metric"]))

    return ModelWithCustomCompile


def _guide_square_loss(y_true, y_pred):
    return kerasish.ops.sum(kerasish.ops.square(y_pred - y_true), axis=1)


@pytest.mark.parametrize("lib", [kerasish, keras_ref], ids=["kerasish", "keras"])
def test_user_compile_config_hooks_round_trip(tmp_path, lib):
    """`get_compile_config()` writes the user's own keys; `compile_from_config(config)` gets them back (the
    file's compile_config is theirs, not Keras's standard keys)."""
    cls = _model_with_custom_compile(lib, _guide_square_loss)
    custom = {"ModelWithCustomCompile": cls, "_guide_square_loss": _guide_square_loss}
    model = cls()
    model.compile(optimizer="SGD", loss_fn=_guide_square_loss, metrics=["accuracy"])
    model.fit(RNG.random((4, 8)), RNG.random((4, 4)), verbose=0)
    model.save(tmp_path / "m.keras")
    stored = json.loads(zipfile.ZipFile(tmp_path / "m.keras").read("config.json"))["compile_config"]
    assert sorted(stored) == ["loss_fn", "metric", "model_optimizer"]
    restored = lib.models.load_model(tmp_path / "m.keras", custom_objects=custom)
    assert restored.model_optimizer == "SGD" and restored.loss_fn is _guide_square_loss
    assert restored.loss_metrics == ["accuracy"]
    x = RNG.random((2, 8)).astype("float32")
    np.testing.assert_allclose(np.asarray(restored(x)), np.asarray(model(x)), rtol=1e-6)


def _layer_with_assets(lib):
    class LayerWithCustomAssets(lib.layers.Dense):
        def __init__(self, vocab=None, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.vocab = vocab

        def save_assets(self, inner_path):
            with open(os.path.join(inner_path, "vocabulary.txt"), "w") as f:
                f.write(self.vocab)

        def load_assets(self, inner_path):
            with open(os.path.join(inner_path, "vocabulary.txt")) as f:
                self.vocab = f.read().replace("<unk>", "little")

    return LayerWithCustomAssets


@pytest.mark.parametrize("source, target", [(kerasish, kerasish), (kerasish, keras_ref), (keras_ref, kerasish)],
                         ids=["kerasish->kerasish", "kerasish->keras", "keras->kerasish"])
def test_save_assets_and_load_assets_round_trip(tmp_path, source, target):
    """`save_assets(dir)` files land in the archive's `assets/<layer path>/` (where Keras puts them) and come
    back through `load_assets(dir)`."""
    classes = {lib: _layer_with_assets(lib) for lib in (source, target)}
    model = source.Sequential([source.Input((10,)), classes[source](vocab="Mary had a <unk> lamb.", units=5)])
    model.save(tmp_path / "m.keras")
    assert "assets/layers/layer_with_custom_assets/vocabulary.txt" in zipfile.ZipFile(tmp_path / "m.keras").namelist()
    restored = target.models.load_model(tmp_path / "m.keras",
                                        custom_objects={"LayerWithCustomAssets": classes[target]})
    assert restored.layers[0].vocab == "Mary had a little lamb."


# -- optimizer.variables after fit -------------------------------------------------------------------------------
@pytest.mark.parametrize("name, kwargs", [("SGD", {"momentum": 0.9}), ("Adagrad", {}),
                                          ("RMSprop", {"momentum": 0.5, "centered": True}), ("Adam", {"amsgrad": True}),
                                          ("Adamax", {}), ("Adadelta", {}), ("Lion", {})])
def test_optimizer_variables_after_fit_are_named_and_ordered_as_keras(name, kwargs):
    """After `fit`, `model.optimizer.variables` lists iteration, learning rate, then each slot as Keras names
    and orders it (`dense_kernel_momentum`, ...: per Keras group, per parameter in model order); optax's own
    inner step counts, which Keras has no variable for, follow `iteration` and are not listed."""
    paths = []
    for lib in (kerasish, keras_ref):
        inputs = lib.Input((3,))
        hidden = lib.layers.Dense(4, name="hidden")(inputs)
        model = lib.Model(inputs, lib.layers.Dense(2, name="out")(hidden))
        model.compile(getattr(lib.optimizers, name)(**kwargs), "mse")
        model.fit(np.ones((4, 3)), np.ones((4, 2)), verbose=0)
        paths.append([v.path.split("/", 1)[1] for v in model.optimizer.variables])  # (Keras numbers its names)
    ours, theirs = paths
    assert ours == theirs


def test_assigning_iteration_moves_the_hidden_optax_counts():
    """Adam's bias correction uses optax's inner count, hidden from `variables`: assigning `iteration` (as a
    restore does) must move it too, so one more step equals Keras's step from that iteration."""
    results = []
    for lib in (kerasish, keras_ref):
        inputs = lib.Input((3,))
        model = lib.Model(inputs, lib.layers.Dense(2, kernel_initializer="ones")(inputs))
        model.compile(lib.optimizers.Adam(0.1), "mse")
        model.fit(np.ones((4, 3)), np.zeros((4, 2)), batch_size=4, verbose=0)
        model.optimizer.variables[0].assign(10)
        model.fit(np.ones((4, 3)), np.zeros((4, 2)), batch_size=4, verbose=0)
        results.append(np.asarray(model.get_weights()[0]))
    np.testing.assert_allclose(results[0], results[1], rtol=1e-5)
