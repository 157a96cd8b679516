"""Files cross between kerasish and Keras 3 (the reference, on JAX), both ways: `.keras` and
`.weights.h5` load with the same predictions (1e-6), and one more training step after loading gives
the same weights in both libraries (1e-6), for every Keras-named optimizer kerasish has."""

import json
import zipfile

import numpy as np
import pytest

keras_ref = pytest.importorskip("keras")

import kerasish  # noqa: E402
from kerasish import layers  # noqa: E402

TOL = 1e-6
RNG = np.random.default_rng(0)
X = RNG.normal(size=(16, 6)).astype("float32")
Y = (X[:, 0] + X[:, 1] > 0).astype("int32")
IMAGES = RNG.normal(size=(8, 8, 8, 2)).astype("float32")
IMAGE_Y = (IMAGES.mean(axis=(1, 2, 3)) > 0).astype("int32")


def _mlp(lib, batch_norm=True):
    stack = [lib.Input((6,)), lib.layers.Dense(8, activation="relu")]
    stack += [lib.layers.BatchNormalization()] if batch_norm else []
    return lib.Sequential(stack + [lib.layers.Dense(3, activation="softmax")])


def _cnn(lib):
    return lib.Sequential([lib.Input((8, 8, 2)), lib.layers.Conv2D(4, 3, padding="same", activation="relu"),
                           lib.layers.BatchNormalization(), lib.layers.MaxPooling2D(), lib.layers.Flatten(),
                           lib.layers.Dense(3, activation="softmax")])


def _compile(model, lib, optimizer=("Adam", {"learning_rate": 0.01})):
    name, kwargs = optimizer
    model.compile(getattr(lib.optimizers, name)(**kwargs), "sparse_categorical_crossentropy")
    return model


def _max_diff(a, b):
    return max(float(np.max(np.abs(np.asarray(u, np.float64) - np.asarray(v, np.float64))))
               for u, v in zip(a, b, strict=True))


def _next_step_matches(ours, theirs, x=X, y=Y):
    """One more step in both libraries from the same state gives the same weights."""
    ours.train_on_batch(x, y)
    theirs.train_on_batch(x, y)
    assert _max_diff(ours.get_weights(), theirs.get_weights()) < TOL


# -- .keras both ways -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("direction", ["kerasish_to_keras", "keras_to_kerasish"])
@pytest.mark.parametrize("make,x,y", [(_mlp, X, Y), (_cnn, IMAGES, IMAGE_Y)], ids=["mlp", "cnn_batchnorm"])
def test_keras_file_crosses_and_trains_on(tmp_path, make, x, y, direction):
    source_lib, target_lib = (kerasish, keras_ref) if direction == "kerasish_to_keras" else (keras_ref, kerasish)
    source = _compile(make(source_lib), source_lib)
    source.train_on_batch(x, y)
    source.train_on_batch(x, y)
    source.save(tmp_path / "m.keras")
    target = target_lib.models.load_model(tmp_path / "m.keras")
    assert type(target).__name__ == "Sequential" and int(target.optimizer.iterations) == 2
    assert [layer.name for layer in target.layers] == [layer.name for layer in source.layers]
    assert _max_diff(target.predict(x, verbose=0)[None], source.predict(x, verbose=0)[None]) < TOL
    _next_step_matches(*((source, target) if source_lib is kerasish else (target, source)), x, y)


def test_kerasish_writes_keras_layout_names_and_config(tmp_path):
    ours = _compile(_mlp(kerasish), kerasish)
    ours.train_on_batch(X, Y)
    ours.save(tmp_path / "m.keras")
    theirs = _compile(_mlp(keras_ref), keras_ref)
    theirs.train_on_batch(X, Y)
    theirs.save(tmp_path / "k.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as a, zipfile.ZipFile(tmp_path / "k.keras") as b:
        assert a.namelist() == b.namelist() == ["metadata.json", "config.json", "model.weights.h5"]
        ours_config, their_config = json.loads(a.read("config.json")), json.loads(b.read("config.json"))
        assert json.loads(a.read("metadata.json"))["keras_version"] == keras_ref.__version__
    _strip_names(their_config)
    _strip_names(ours_config)
    _assert_same_json(ours_config, their_config)


def _strip_names(config):
    """Drops what legitimately differs between two processes: auto names and shared-object ids."""
    if isinstance(config, dict):
        for key in ("name", "shared_object_id"):
            config.pop(key, None)
        for value in config.values():
            _strip_names(value)
    elif isinstance(config, list):
        for value in config:
            _strip_names(value)


# -- .weights.h5 both ways, every optimizer -----------------------------------------------------------------------
# Plain Adam travels in the `.keras` tests above; SGD's momentum slot is the same with or without Nesterov.
OPTIMIZERS = [("SGD", {"learning_rate": 0.1}), ("SGD", {"learning_rate": 0.1, "momentum": 0.9, "nesterov": True}),
              ("Adagrad", {"learning_rate": 0.1}), ("RMSprop", {"learning_rate": 0.01}),
              ("RMSprop", {"learning_rate": 0.01, "momentum": 0.5, "centered": True}),
              ("Adam", {"learning_rate": 0.01, "amsgrad": True}), ("AdamW", {"learning_rate": 0.01}),
              ("Adamax", {"learning_rate": 0.01}), ("Nadam", {"learning_rate": 0.01}),
              ("Adadelta", {"learning_rate": 1.0}), ("Lion", {"learning_rate": 0.001}),
              ("Adam", {"learning_rate": 0.01, "gradient_accumulation_steps": 2})]


@pytest.mark.parametrize("optimizer", OPTIMIZERS, ids=lambda o: o[0] + "".join(f"-{k}" for k in o[1] if k != "learning_rate"))
def test_optimizer_state_travels_both_ways(tmp_path, optimizer):
    ours = _compile(_mlp(kerasish, batch_norm=False), kerasish, optimizer)
    theirs = _compile(_mlp(keras_ref, batch_norm=False), keras_ref, optimizer)
    for _ in range(3):
        ours.train_on_batch(X, Y)
        theirs.train_on_batch(X, Y)
    ours.save_weights(tmp_path / "ours.weights.h5")
    theirs.save_weights(tmp_path / "theirs.weights.h5")
    into_ours = _compile(_mlp(kerasish, batch_norm=False), kerasish, optimizer)
    into_ours.load_weights(tmp_path / "theirs.weights.h5")
    into_theirs = _compile(_mlp(keras_ref, batch_norm=False), keras_ref, optimizer)
    into_theirs.optimizer.build(into_theirs.trainable_variables)
    into_theirs.load_weights(tmp_path / "ours.weights.h5")
    assert into_ours.optimizer.iterations == int(theirs.optimizer.iterations) == int(into_theirs.optimizer.iterations)
    _next_step_matches(into_ours, theirs)  # Keras's state, continued by kerasish
    _next_step_matches(ours, into_theirs)  # kerasish's state, continued by Keras


# -- custom layers, subclassed and functional models --------------------------------------------------------------
def _scale_class(base, registry):
    @registry.register_keras_serializable(package="test_keras_files", name="Scale")
    class Scale(base):
        def __init__(self, factor=2.0, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

        def build(self, input_shape):
            self.gain = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="gain")

        def call(self, inputs):
            return inputs * self.gain * self.factor

        def get_config(self):
            return {**super().get_config(), "factor": self.factor}
    return Scale


OurScale = _scale_class(kerasish.layers.Layer, kerasish.saving)
TheirScale = _scale_class(keras_ref.layers.Layer, keras_ref.saving)


@pytest.mark.parametrize("direction", ["kerasish_to_keras", "keras_to_kerasish"])
def test_registered_custom_layer_crosses(tmp_path, direction):
    source, target = (kerasish, keras_ref) if direction == "kerasish_to_keras" else (keras_ref, kerasish)
    scale = OurScale if source is kerasish else TheirScale
    model = source.Sequential([source.Input((6,)), scale(factor=3.0), source.layers.Dense(2)])
    model.layers[0].gain.assign(np.arange(6, dtype="float32"))
    model.save(tmp_path / "custom.keras")
    loaded = target.models.load_model(tmp_path / "custom.keras")
    assert loaded.layers[0].factor == 3.0
    assert type(loaded.layers[0]) is (TheirScale if target is keras_ref else OurScale)
    assert _max_diff(loaded.predict(X, verbose=0)[None], model.predict(X, verbose=0)[None]) < TOL


def _functional(lib):
    a, b = lib.Input((6,), name="a"), lib.Input((3,), name="b")
    hidden = lib.layers.Dense(4, activation="tanh")(a)
    joined = lib.layers.Concatenate()([hidden, b])
    return lib.Model([a, b], lib.layers.Dense(2)(joined))


@pytest.mark.parametrize("direction", ["kerasish_to_keras", "keras_to_kerasish"])
def test_functional_two_input_weights_cross(tmp_path, direction):
    ours, theirs = _functional(kerasish), _functional(keras_ref)
    source, target = (ours, theirs) if direction == "kerasish_to_keras" else (theirs, ours)
    source.save_weights(tmp_path / "f.weights.h5")
    target.load_weights(tmp_path / "f.weights.h5")
    inputs = [X, X[:, :3]]
    assert _max_diff(target.predict(inputs, verbose=0)[None], source.predict(inputs, verbose=0)[None]) < TOL


@pytest.mark.parametrize("direction", ["kerasish_to_keras", "keras_to_kerasish"])
def test_functional_two_input_keras_file_crosses_and_trains_on(tmp_path, direction):
    source_lib, target_lib = (kerasish, keras_ref) if direction == "kerasish_to_keras" else (keras_ref, kerasish)
    source = _functional(source_lib)
    source.compile(source_lib.optimizers.RMSprop(0.01), "mse")
    inputs, y = [X, X[:, :3]], X[:, :2]
    source.train_on_batch(inputs, y)
    source.save(tmp_path / "f.keras")
    target = target_lib.models.load_model(tmp_path / "f.keras")
    assert [layer.name for layer in target.layers] == [layer.name for layer in source.layers]
    assert _max_diff(target.predict(inputs, verbose=0)[None], source.predict(inputs, verbose=0)[None]) < TOL
    _next_step_matches(*((source, target) if source_lib is kerasish else (target, source)), inputs, y)


def _net_class(lib):
    @lib.saving.register_keras_serializable(package="test_keras_files", name="Net")
    class Net(lib.Model):
        def __init__(self, width=5, **kwargs):
            super().__init__(**kwargs)
            self.width = width
            self.blocks = [lib.layers.Dense(width, activation="relu"), lib.layers.Dense(width)]
            self.head = lib.layers.Dense(2)

        def call(self, inputs, training=None):
            return self.head(self.blocks[1](self.blocks[0](inputs)))

        def get_config(self):
            return {**super().get_config(), "width": self.width}
    return Net


OurNet, TheirNet = _net_class(kerasish), _net_class(keras_ref)


@pytest.mark.parametrize("direction", ["kerasish_to_keras", "keras_to_kerasish"])
def test_subclassed_model_with_get_config_crosses(tmp_path, direction):
    cls = OurNet if direction == "kerasish_to_keras" else TheirNet
    model = cls(width=7)
    model(X)
    model.save(tmp_path / "net.keras")
    target = keras_ref if direction == "kerasish_to_keras" else kerasish
    loaded = target.models.load_model(tmp_path / "net.keras")
    assert loaded.width == 7
    assert _max_diff(loaded.predict(X, verbose=0)[None], model.predict(X, verbose=0)[None]) < TOL


# -- configs: every built-in layer with every argument ---------------------------------------------------------------
def _layer_pairs():
    init = {"class_name": "RandomNormal", "config": {"mean": 0.5, "stddev": 0.2, "seed": 3}}
    return [
        ("Dense", dict(units=4, activation="gelu", use_bias=False, kernel_initializer=init,
                       bias_initializer="ones", kernel_regularizer={"class_name": "L1L2", "config": {"l1": 0.01, "l2": 0.02}},
                       bias_regularizer="l2", activity_regularizer="l1", kernel_constraint="max_norm",
                       bias_constraint="non_neg", dtype="mixed_bfloat16", trainable=False)),
        ("Conv2D", dict(filters=6, kernel_size=(3, 2), strides=(2, 1), padding="same", dilation_rate=1, groups=2,
                        activation="elu", kernel_initializer="he_normal", kernel_constraint="unit_norm",
                        activity_regularizer="l2")),
        ("MaxPooling2D", dict(pool_size=(3, 3), strides=2, padding="same")),
        ("AveragePooling2D", dict(pool_size=2)),
        ("GlobalAveragePooling2D", dict(keepdims=True)),
        ("GlobalMaxPooling2D", dict()),
        ("BatchNormalization", dict(axis=1, momentum=0.9, epsilon=1e-4, center=False, scale=True,
                                    gamma_initializer="zeros", moving_variance_initializer="ones",
                                    gamma_regularizer="l2", beta_constraint="max_norm")),
        ("LayerNormalization", dict(axis=[1, 2], epsilon=1e-5, rms_scaling=True, beta_initializer="ones")),
        ("Embedding", dict(input_dim=10, output_dim=3, embeddings_initializer="uniform",
                           embeddings_regularizer="l2", embeddings_constraint="non_neg")),
        ("Dropout", dict(rate=0.3, noise_shape=(None, 1), seed=7)),
        ("Flatten", dict()), ("Reshape", dict(target_shape=(2, -1))), ("Activation", dict(activation="softmax")),
        ("Rescaling", dict(scale=1 / 255, offset=-1.0)),
    ]


@pytest.mark.parametrize("name,kwargs", _layer_pairs(), ids=[p[0] for p in _layer_pairs()])
def test_layer_configs_equal_keras_and_cross(name, kwargs):
    ours = getattr(kerasish.layers, name)(**kwargs, name="same")
    theirs = getattr(keras_ref.layers, name)(**kwargs, name="same")
    ours_json = json.loads(json.dumps(kerasish.saving.serialize_layer(ours)))
    theirs_json = json.loads(json.dumps(keras_ref.saving.serialize_keras_object(theirs)))
    _assert_same_json(ours_json, theirs_json)
    again = kerasish.saving.deserialize_layer(theirs_json)
    _assert_same_json(json.loads(json.dumps(kerasish.saving.serialize_layer(again))), theirs_json)
    back = keras_ref.saving.deserialize_keras_object(ours_json)
    _assert_same_json(json.loads(json.dumps(keras_ref.saving.serialize_keras_object(back))), theirs_json)


def _assert_same_json(ours, theirs, where="config"):
    """Equal JSON, floats to float32 precision (Keras keeps some arguments as float32: l1=0.00999999977)."""
    if isinstance(theirs, float) and isinstance(ours, (int, float)) and not isinstance(ours, bool):
        assert ours == pytest.approx(theirs, rel=1e-6), where
    elif isinstance(theirs, dict) and isinstance(ours, dict):
        assert sorted(ours) == sorted(theirs), f"{where}: keys {sorted(ours)} != {sorted(theirs)}"
        for key in theirs:
            _assert_same_json(ours[key], theirs[key], f"{where}.{key}")
    elif isinstance(theirs, list) and isinstance(ours, list):
        assert len(ours) == len(theirs), where
        for i, (a, b) in enumerate(zip(ours, theirs)):
            _assert_same_json(a, b, f"{where}[{i}]")
    else:
        assert ours == theirs, f"{where}: {ours!r} != {theirs!r}"


def test_input_layer_config_from_keras():
    config = keras_ref.saving.serialize_keras_object(keras_ref.layers.InputLayer(shape=(3,), name="inp"))
    layer = kerasish.saving.deserialize_layer(config)
    assert layer.batch_shape == (None, 3) and layer.name == "inp"
    assert layer.get_config() == keras_ref.layers.InputLayer(shape=(3,), name="inp").get_config()


def test_learning_rate_schedule_optimizer_travels_both_ways(tmp_path):
    """With a schedule, Keras has no `learning_rate` variable: iteration, then the slots."""
    def make(lib):
        schedule = lib.optimizers.schedules.ExponentialDecay(0.05, decay_steps=2, decay_rate=0.5)
        return _compile(_mlp(lib, batch_norm=False), lib, ("SGD", {"learning_rate": schedule, "momentum": 0.9}))
    ours, theirs = make(kerasish), make(keras_ref)
    for _ in range(3):
        ours.train_on_batch(X, Y)
        theirs.train_on_batch(X, Y)
    theirs.save_weights(tmp_path / "theirs.weights.h5")
    into_ours = make(kerasish)
    into_ours.load_weights(tmp_path / "theirs.weights.h5")
    _next_step_matches(into_ours, theirs)


def test_keras_float16_loss_scale_optimizer_state_loads(tmp_path):
    """A mixed_float16 Keras model saves a LossScaleOptimizer (scale, step counter, inner optimizer)."""
    def make(lib):
        lib.mixed_precision.set_global_policy("mixed_float16")
        try:
            return _compile(_mlp(lib, batch_norm=False), lib, ("SGD", {"learning_rate": 0.1, "momentum": 0.9}))
        finally:
            lib.mixed_precision.set_global_policy("float32")
    theirs = make(keras_ref)
    theirs.train_on_batch(X, Y)
    theirs.train_on_batch(X, Y)
    theirs.save_weights(tmp_path / "f16.weights.h5")
    ours = make(kerasish)
    ours.load_weights(tmp_path / "f16.weights.h5")
    state = ours.optimizer.state
    assert float(state.scale) == float(theirs.optimizer.dynamic_scale)
    assert int(state.good_steps) == int(theirs.optimizer.step_counter)
    assert ours.optimizer.iterations == int(theirs.optimizer.iterations)
    ours.train_on_batch(X, Y)
    theirs.train_on_batch(X, Y)
    assert _max_diff(ours.get_weights(), theirs.get_weights()) < 1e-3  # float16 compute in both


@pytest.mark.parametrize("direction", ["kerasish_to_keras", "keras_to_kerasish"])
def test_bfloat16_weights_cross_exactly(tmp_path, direction):
    def make(lib):
        return lib.Sequential([lib.Input((6,)), lib.layers.Dense(4, dtype="bfloat16")])
    source, target = (make(kerasish), make(keras_ref))[::1 if direction == "kerasish_to_keras" else -1]
    source.save_weights(tmp_path / "bf16.weights.h5")
    target.load_weights(tmp_path / "bf16.weights.h5")
    for a, b in zip(source.get_weights(), target.get_weights(), strict=True):
        assert str(a.dtype) == str(b.dtype) == "bfloat16" and np.array_equal(a, b)


def _counter_layer(lib):
    """A Dense-like layer that also keeps a NumPy counter (not a variable), saved through Keras's
    `save_own_variables` / `load_own_variables` hooks (the customizing-saving guide's pattern)."""
    class Counting(lib.layers.Layer):
        def __init__(self, units=2, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.calls = np.zeros((1,), "float32")

        def build(self, shape):
            self.kernel = self.add_weight(shape=(shape[-1], self.units), name="kernel")

        def call(self, x):
            return lib.ops.matmul(x, self.kernel)

        def get_config(self):
            return {**super().get_config(), "units": self.units}

        def save_own_variables(self, store):
            super().save_own_variables(store)
            store["1"] = self.calls

        def load_own_variables(self, store):
            self.kernel.assign(store["0"])
            self.calls = np.asarray(store["1"])
    return Counting


def test_save_and_load_own_variables_hooks_cross_with_keras(tmp_path):
    x = np.ones((2, 3), "float32")
    for writer, reader in ((kerasish, keras_ref), (keras_ref, kerasish), (kerasish, kerasish)):
        layer = _counter_layer(writer)(name="counting")
        model = writer.Sequential([writer.Input((3,)), layer])
        layer.calls = np.array([7.0], "float32")
        path = tmp_path / f"hook_{writer.__name__}_{reader.__name__}.keras"
        model.save(path)
        cls = _counter_layer(reader)
        loaded = reader.models.load_model(path, custom_objects={"Counting": cls})
        assert float(np.asarray(loaded.layers[0].calls)[0]) == 7.0
        np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(model(x)), rtol=1e-6)
