"""model.save / load_model / save_weights / load_weights: round trips, atomic writes, clear errors."""

import errno
import json
import os

import jax
import numpy as np
import pytest
import safetensors.numpy
from safetensors import safe_open

import kerasish as keras
from kerasish import layers
from kerasish.saving import atomic


def _data(n=48, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 6)).astype("float32")
    return x, (x[:, 0] + x[:, 1] > 0).astype("int32")


def _model(units=8, seed=0, compile=True):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((6,)), layers.Dense(units, activation="relu"), layers.Dropout(0.25),
                              layers.BatchNormalization(), layers.Dense(2, activation="softmax")])
    if compile:
        model.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _same_weights(a, b):
    return all(np.array_equal(u, v) for u, v in zip(a.get_weights(), b.get_weights()))


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A model trained for one epoch and saved; the file and the model."""
    keras.clear_session()
    x, y = _data()
    model = _model()
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    path = tmp_path_factory.mktemp("saved") / "model.keras"
    model.save(path)
    return model, path


def test_load_model_predicts_and_trains_identically(trained, tmp_path):
    model, path = trained
    x, y = _data()
    restored = keras.models.load_model(path)
    assert isinstance(restored, keras.Sequential) and restored.name == model.name
    np.testing.assert_array_equal(restored.predict(x, verbose=0), model.predict(x, verbose=0))
    assert restored.optimizer.iterations == model.optimizer.iterations == 3
    assert restored._engine.seed == model._engine.seed
    assert restored.optimizer.get_config() == model.optimizer.get_config()
    # BatchNormalization statistics and the dropout seed generator's state come back too.
    state = restored.layers[1].seed_generator.state[...]
    assert int(state[1]) > 0  # it advanced during training
    np.testing.assert_array_equal(state, model.layers[1].seed_generator.state[...])
    # Continuing both gives the same history and weights: the optimizer state and seeds were saved.
    original = keras.models.load_model(path)  # a copy of the trained model, so `trained` stays as is
    h1 = original.fit(x, y, batch_size=16, epochs=2, verbose=0)
    h2 = restored.fit(x, y, batch_size=16, epochs=2, verbose=0)
    assert h1.history == h2.history
    assert _same_weights(original, restored)
    assert restored.metrics_names == ["loss", "accuracy"]


def test_keras_saving_namespace_and_uncompiled_load(trained):
    model, path = trained
    assert keras.saving.load_model is keras.models.load_model
    restored = keras.saving.load_model(path, compile=False)
    assert not restored.compiled and _same_weights(model, restored)


def test_file_is_safetensors_with_json_metadata(trained):
    _, path = trained
    with safe_open(path, framework="numpy") as f:
        meta = f.metadata()
        names = set(f.keys())
    assert meta["format"] == "kerasish" and meta["kind"] == "model"
    assert json.loads(meta["config"])["class_name"] == "Sequential"
    compile_config = json.loads(meta["compile_config"])
    assert compile_config["loss"]["config"]["name"] == "sparse_categorical_crossentropy"
    assert {"model/_layers/0/kernel", "model/_layers/2/moving_mean", "model/_layers/1/seed_generator/state",
            "optimizer/count"} <= names


def test_save_weights_round_trip_into_a_same_architecture_model(trained, tmp_path):
    model, _ = trained
    path = tmp_path / "w.weights.h5"
    model.save_weights(path)
    other = _model(seed=1)  # same architecture, other initial weights and layer names
    assert not _same_weights(model, other)
    other.load_weights(path)
    assert _same_weights(model, other)
    assert other.optimizer.iterations == model.optimizer.iterations
    other.load_weights(trained[1])  # a .keras file works too, as in Keras


def test_suffix_errors_match_keras(trained, tmp_path):
    model, _ = trained
    with pytest.raises(ValueError, match="Invalid filepath extension for saving"):
        model.save(tmp_path / "model.h5")
    with pytest.raises(ValueError, match=r"The filename must end in `\.weights\.h5`"):
        model.save_weights(tmp_path / "model.weights.npz")
    with pytest.raises(ValueError, match="File format not supported"):
        model.load_weights(tmp_path / "model.pkl")
    with pytest.raises(ValueError, match="File not found"):
        keras.models.load_model(tmp_path / "missing.keras")


def test_a_failed_write_leaves_the_previous_file_intact(trained, tmp_path, monkeypatch):
    model, saved = trained
    path = tmp_path / "model.keras"
    path.write_bytes(saved.read_bytes())
    before = path.read_bytes()

    def disk_full(f, data):
        f.write(bytes(data[: len(data) // 2]))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic, "_write_all", disk_full)
    with pytest.raises(OSError, match="No space left"):
        model.save(path)
    with pytest.raises(OSError, match="No space left"):
        model.save_weights(tmp_path / "new.weights.h5")
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["model.keras"]  # no temporary file, no partial new file


def _expect_load_error(path, match):
    with pytest.raises(ValueError, match=match) as info:
        keras.models.load_model(path)
    assert str(path) in str(info.value)


def test_corrupt_truncated_and_foreign_files_raise_clear_errors(trained, tmp_path):
    _, saved = trained
    data = saved.read_bytes()
    truncated = tmp_path / "truncated.keras"
    truncated.write_bytes(data[: len(data) - 100])
    _expect_load_error(truncated, "truncated or corrupt")
    flipped = tmp_path / "flipped.keras"
    flipped.write_bytes(data[:-8] + bytes(b ^ 0xFF for b in data[-8:]))  # damage the last array's bytes
    _expect_load_error(flipped, "checksum")
    text = tmp_path / "notes.keras"
    text.write_text("not a model at all\n")
    _expect_load_error(text, "not a kerasish model file")
    foreign = tmp_path / "foreign.keras"
    foreign.write_bytes(safetensors.numpy.save({"w": np.zeros(3, np.float32)}))
    _expect_load_error(foreign, "not written by kerasish")


def test_load_model_of_a_weights_file_says_what_to_do(trained, tmp_path):
    path = tmp_path / "only.weights.h5"
    trained[0].save_weights(path)
    _expect_load_error(path, "load_weights")


def test_load_weights_from_another_architecture_changes_nothing(trained, tmp_path):
    _, saved = trained
    other = _model(units=4, seed=2)  # first Dense has 4 units, not 8
    before = other.get_weights()
    with pytest.raises(ValueError, match="do not fit this model") as info:
        other.load_weights(saved)
    message = str(info.value)
    assert str(saved) in message and "model/_layers/0/kernel" in message and "[6, 8]" in message
    assert all(np.array_equal(a, b) for a, b in zip(before, other.get_weights()))


def test_load_weights_skip_mismatch_loads_what_fits(trained):
    model, saved = trained
    other = _model(units=4, seed=2)
    with pytest.warns(UserWarning, match="Skipping"):
        other.load_weights(saved, skip_mismatch=True)
    np.testing.assert_array_equal(other.get_weights()[-1], model.get_weights()[-1])  # last Dense bias fits


def test_optimizer_state_of_another_optimizer_is_skipped_with_a_warning(trained):
    model, saved = trained
    other = _model(compile=False)
    other.compile("sgd", "sparse_categorical_crossentropy")
    with pytest.warns(UserWarning, match="Skipping the optimizer state"):
        other.load_weights(saved)
    assert _same_weights(model, other)


@keras.saving.register_keras_serializable(package="test_saving")
class RegisteredDense(layers.Dense):
    pass


class UnregisteredDense(layers.Dense):
    pass


def test_custom_layers_come_from_the_registry_or_custom_objects(tmp_path):
    for cls in (RegisteredDense, UnregisteredDense):
        model = keras.Sequential([keras.Input((3,)), cls(2)])
        model.save(tmp_path / f"{cls.__name__}.keras")
    restored = keras.models.load_model(tmp_path / "RegisteredDense.keras")
    assert type(restored.layers[0]) is RegisteredDense
    with pytest.raises(ValueError, match="Unknown layer: 'UnregisteredDense'"):
        keras.models.load_model(tmp_path / "UnregisteredDense.keras")
    restored = keras.models.load_model(tmp_path / "UnregisteredDense.keras",
                                       custom_objects={"UnregisteredDense": UnregisteredDense})
    assert type(restored.layers[0]) is UnregisteredDense
    assert "test_saving>RegisteredDense" in keras.saving.get_custom_objects()


def test_unbuilt_and_uncompiled_models_save_their_config(tmp_path):
    model = keras.Sequential([layers.Dense(3)])
    model.save(tmp_path / "unbuilt.keras")
    restored = keras.models.load_model(tmp_path / "unbuilt.keras")
    assert not restored.built and not restored.compiled and len(restored.layers) == 1
    with pytest.raises(ValueError, match="has not been built"):
        model.save_weights(tmp_path / "unbuilt.weights.h5")
