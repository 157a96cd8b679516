"""model.save / load_model / save_weights / load_weights: round trips, atomic writes, and every kind of
broken or hostile file refused with a ValueError that names the file, leaving the model unchanged."""

import errno
import io
import json
import os
import subprocess
import sys
import zipfile

import h5py
import jax
import numpy as np
import pytest

import kerasish as keras
from kerasish import layers
from kerasish.saving import archive, weights_file


def _data(n=48, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 6)).astype("float32")
    return x, (x[:, 0] + x[:, 1] > 0).astype("int32")


def _model(units=8, seed=0, compile=True, out=2):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((6,)), layers.Dense(units, activation="relu"), layers.Dropout(0.25),
                              layers.BatchNormalization(), layers.Dense(out, activation="softmax")])
    if compile:
        model.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _same_weights(a, b):
    return all(np.array_equal(u, v) for u, v in zip(a.get_weights(), b.get_weights(), strict=True))


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A model trained for one epoch and saved as `.keras` and `.weights.h5`."""
    keras.clear_session()
    x, y = _data()
    model = _model()
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    root = tmp_path_factory.mktemp("saved")
    model.save(root / "model.keras")
    model.save_weights(root / "model.weights.h5")
    return model, root / "model.keras", root / "model.weights.h5"


def test_load_model_predicts_and_trains_identically(trained):
    model, path, _ = trained
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
    model, path, _ = trained
    assert keras.saving.load_model is keras.models.load_model
    restored = keras.saving.load_model(path, compile=False)
    assert not restored.compiled and _same_weights(model, restored)


def test_file_is_a_keras_zip_with_keras_weights_layout(trained):
    _, path, weights = trained
    with zipfile.ZipFile(path) as zf:
        assert zf.namelist() == ["metadata.json", "config.json", "model.weights.h5"]
        config = json.loads(zf.read("config.json"))
        assert all(info.compress_type == zipfile.ZIP_STORED for info in zf.infolist())
    assert config["class_name"] == "Sequential" and config["module"] == "keras"
    assert config["compile_config"]["loss"] == "sparse_categorical_crossentropy"
    assert [entry["class_name"] for entry in config["config"]["layers"]] == \
        ["InputLayer", "Dense", "Dropout", "BatchNormalization", "Dense"]
    with h5py.File(weights) as f:
        assert f["vars"].attrs["name"] == "sequential"
        assert list(f["layers/dense/vars"]) == ["0", "1"] and f["layers/dense/vars/0"].shape == (6, 8)
        assert len(f["layers/batch_normalization/vars"]) == 4 and len(f["layers/dropout/vars"]) == 0
        assert len(f["optimizer/vars"]) == 2 + 2 * 6  # iteration, learning rate, m and v of 6 variables
        assert int(f["optimizer/vars/0"][()]) == 3
        assert f["kerasish-state/variables/_layers/1/seed_generator/state"].shape == (2,)


def test_save_weights_round_trip_into_a_same_architecture_model(trained, tmp_path):
    model, keras_file, weights = trained
    other = _model(seed=1)  # same architecture, other initial weights and layer names
    assert not _same_weights(model, other)
    other.load_weights(weights)
    assert _same_weights(model, other)
    assert other.optimizer.iterations == model.optimizer.iterations
    fresh = _model(seed=2)
    fresh.load_weights(keras_file)  # a .keras file works too, as in Keras
    assert _same_weights(model, fresh)


def test_suffix_and_argument_errors_match_keras(trained, tmp_path):
    model, _, _ = trained
    with pytest.raises(ValueError, match="Invalid filepath extension for saving"):
        model.save(tmp_path / "model.h5")
    with pytest.raises(ValueError, match=r"The filename must end in `\.weights\.h5`"):
        model.save_weights(tmp_path / "model.weights.npz")
    with pytest.raises(ValueError, match="Sharded weights"):
        model.save_weights(tmp_path / "model.weights.h5", max_shard_size=1)
    with pytest.raises(ValueError, match="File format not supported"):
        model.load_weights(tmp_path / "model.pkl")
    with pytest.raises(ValueError, match="File not found"):
        keras.models.load_model(tmp_path / "missing.keras")
    with pytest.raises(ValueError, match="legacy Keras 2"):
        keras.models.load_model(tmp_path / "old.h5")
    with pytest.raises(ValueError, match="has not yet been built"):
        keras.Sequential([layers.Dense(2)]).save_weights(tmp_path / "unbuilt.weights.h5")


def test_a_failed_write_leaves_the_previous_file_intact(trained, tmp_path, monkeypatch):
    model, saved, _ = trained
    path = tmp_path / "model.keras"
    path.write_bytes(saved.read_bytes())
    before = path.read_bytes()
    real_write = weights_file.write

    def disk_full(target, contents):
        real_write(target, contents)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(weights_file, "write", disk_full)
    with pytest.raises(OSError, match="No space left"):
        model.save(path)
    with pytest.raises(OSError, match="No space left"):
        model.save_weights(tmp_path / "new.weights.h5")
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["model.keras"]  # no temporary file, no partial new file


KILL_SCRIPT = r'''
import sys, time, zipfile
import kerasish as keras
from kerasish import layers
model = keras.Sequential([keras.Input((6,)), layers.Dense(512), layers.Dense(2)])
real = zipfile.ZipFile.writestr
def slow(self, name, data, *args, **kwargs):
    real(self, name, data, *args, **kwargs)
    if name == "config.json":  # part of the new file is on disk: stop here until killed
        print("mid-save", flush=True)
        time.sleep(120)
zipfile.ZipFile.writestr = slow
model.save(sys.argv[1])
'''


def test_a_process_killed_mid_save_leaves_the_previous_file_whole(trained, tmp_path):
    model, saved, _ = trained
    path = tmp_path / "model.keras"
    path.write_bytes(saved.read_bytes())
    child = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "mid-save"
        partial = [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]
        assert partial and os.path.getsize(tmp_path / partial[0]) > 0  # the new file was being written
    finally:
        child.kill()
        child.wait()
    assert path.read_bytes() == saved.read_bytes()
    assert _same_weights(keras.models.load_model(path), model)


# -- broken and hostile files -----------------------------------------------------------------------------------
def _rezip(source, target, change=None, extra=()):
    """Copies a `.keras` zip, replacing members by `change(name, data)` and adding `extra` members."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            zout.writestr(info.filename, change(info.filename, data) if change else data)
        for name, data in extra:
            zout.writestr(zipfile.ZipInfo(name), data)


def _edit_config(source, target, edit):
    def change(name, data):
        if name != "config.json":
            return data
        config = json.loads(data)
        edit(config)
        return json.dumps(config).encode()
    _rezip(source, target, change)


def _declare_huge(source, target, member="model.weights.h5"):
    """A zip bomb's signature: the central directory declares 2 GiB for a member that stores little."""
    data = bytearray(source.read_bytes())
    start = data.rfind(b"PK\x01\x02", 0, data.rfind(member.encode()))
    data[start + 24:start + 28] = (1 << 31).to_bytes(4, "little")  # uncompressed size
    target.write_bytes(bytes(data))


def _weights_h5(source, target, edit, keep_kerasish=False):
    """A `.weights.h5` copy edited with h5py (kerasish's checksummed group dropped unless kept)."""
    target.write_bytes(source.read_bytes())
    with h5py.File(target, "r+") as f:
        if not keep_kerasish:
            del f["kerasish-state"]
        edit(f)


def _replace(f, path, data):
    del f[path]
    f[path] = data


def _keras_file_cases(saved, root):
    data = saved.read_bytes()
    cases = {}
    (root / "truncated.keras").write_bytes(data[: len(data) // 2])
    cases["truncated.keras"] = "truncated or corrupt"
    flipped = bytearray(data)
    offset = data.find(b"HDF") + 4000
    flipped[offset:offset + 8] = bytes(b ^ 0xFF for b in flipped[offset:offset + 8])
    (root / "flipped.keras").write_bytes(bytes(flipped))
    cases["flipped.keras"] = "CRC|corrupt"
    (root / "notes.keras").write_text("not a model at all\n")
    cases["notes.keras"] = "not a Keras `.keras` zip"
    _rezip(saved, root / "escape.keras", extra=[("../../evil.txt", b"x")])
    cases["escape.keras"] = "escapes the archive"
    _rezip(saved, root / "absolute.keras", extra=[("/etc/evil", b"x")])
    cases["absolute.keras"] = "escapes the archive"
    _declare_huge(saved, root / "bomb.keras")
    cases["bomb.keras"] = "decompression bomb"
    with zipfile.ZipFile(root / "noconfig.keras", "w") as zf:
        zf.writestr("model.weights.h5", b"")
    cases["noconfig.keras"] = "no config.json"
    _edit_config(saved, root / "unknown.keras",
                 lambda c: c["config"]["layers"][1].update(class_name="EvilLayer", module="evil.module"))
    cases["unknown.keras"] = "Unknown layer: 'EvilLayer'"
    _edit_config(saved, root / "wider.keras", lambda c: c["config"]["layers"][4]["config"].update(units=3))
    cases["wider.keras"] = "another architecture"
    _edit_config(saved, root / "inconsistent.keras", lambda c: c["config"]["layers"][1]["config"].update(units=9))
    cases["inconsistent.keras"] = "building the model from its config failed"
    _rezip(saved, root / "badjson.keras", change=lambda n, d: b"{not json" if n == "config.json" else d)
    cases["badjson.keras"] = "not valid JSON"
    return cases


def test_every_broken_keras_file_is_refused_naming_the_file(trained, tmp_path):
    model, saved, _ = trained
    before = model.get_weights()
    for name, match in _keras_file_cases(saved, tmp_path).items():
        path = tmp_path / name
        with pytest.raises(ValueError, match=match) as info:
            keras.models.load_model(path)
        assert str(path) in str(info.value), name
        if name not in ("unknown.keras", "wider.keras", "inconsistent.keras", "badjson.keras"):
            with pytest.raises(ValueError, match=match):
                model.load_weights(path)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


def test_unknown_class_is_also_a_type_error_like_keras(trained, tmp_path):
    _, saved, _ = trained
    _edit_config(saved, tmp_path / "unknown.keras", lambda c: c["config"]["layers"][1].update(class_name="Nope"))
    with pytest.raises(TypeError, match="Unknown layer: 'Nope'"):
        keras.models.load_model(tmp_path / "unknown.keras")


def _weights_cases(weights, root):
    cases = {}
    data = weights.read_bytes()
    (root / "truncated.weights.h5").write_bytes(data[: len(data) // 2])
    cases["truncated.weights.h5"] = "truncated or corrupt"
    with h5py.File(weights) as f:
        offset = f["layers/dense/vars/0"].id.get_offset()
    flipped = bytearray(data)
    flipped[offset:offset + 8] = bytes(b ^ 0xFF for b in flipped[offset:offset + 8])
    (root / "flipped.weights.h5").write_bytes(bytes(flipped))
    cases["flipped.weights.h5"] = "checksum"
    (root / "text.weights.h5").write_text("hello")
    cases["text.weights.h5"] = "not an HDF5 weights file"
    _weights_h5(weights, root / "shape.weights.h5",
                lambda f: _replace(f, "layers/dense/vars/0", np.zeros((6, 9), "float32")))
    cases["shape.weights.h5"] = r"another architecture.*\(6, 9\) in the file, \(6, 8\) in the model"
    _weights_h5(weights, root / "dtype.weights.h5",
                lambda f: _replace(f, "layers/dense/vars/1", np.zeros(8, "int32")))
    cases["dtype.weights.h5"] = "dtype int32 in the file, float32 in the model"
    _weights_h5(weights, root / "string.weights.h5", lambda f: _replace(f, "layers/dense/vars/1", "hello"))
    cases["string.weights.h5"] = "not a number type"
    _weights_h5(weights, root / "missing.weights.h5", lambda f: f.__delitem__("layers/dense_1"))
    cases["missing.weights.h5"] = "no group `layers/dense_1/vars`"
    _weights_h5(weights, root / "extra.weights.h5",
                lambda f: f.create_dataset("layers/dense_7/vars/0", data=np.zeros(3, "float32")))
    cases["extra.weights.h5"] = "objects this model does not have"
    with h5py.File(root / "foreign.weights.h5", "w") as f:
        f["images"] = np.zeros((2, 3), "float32")
    cases["foreign.weights.h5"] = "not a Keras weights file"
    with h5py.File(root / "legacy.weights.h5", "w") as f:
        f.attrs["layer_names"] = [b"dense"]
        f.create_group("dense")
    cases["legacy.weights.h5"] = "legacy Keras 2"
    _weights_h5(weights, root / "soft.weights.h5", lambda f: f.__setitem__("layers/x", h5py.SoftLink("/vars")))
    cases["soft.weights.h5"] = "SoftLink"
    _weights_h5(weights, root / "external.weights.h5",
                lambda f: f.__setitem__("layers/x", h5py.ExternalLink("/etc/passwd", "/")))
    cases["external.weights.h5"] = "ExternalLink"
    _weights_h5(weights, root / "bomb.weights.h5",
                lambda f: f.create_dataset("layers/dense/vars/9", shape=(1 << 16, 1 << 12), dtype="float32"))
    cases["bomb.weights.h5"] = "shape bomb"
    return cases


def test_every_broken_weights_file_is_refused_naming_the_file_and_changes_nothing(trained, tmp_path):
    _, _, weights = trained
    model = _model(seed=3)
    model.fit(*_data(16), epochs=1, verbose=0)
    before = model.get_weights()
    state = [np.asarray(leaf) for leaf in jax.tree.leaves(model.optimizer.state)]
    for name, match in _weights_cases(weights, tmp_path).items():
        with pytest.raises(ValueError, match=match) as info:
            model.load_weights(tmp_path / name)
        assert str(tmp_path / name) in str(info.value), name
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    assert all(np.array_equal(a, np.asarray(b)) for a, b in zip(state, jax.tree.leaves(model.optimizer.state),
                                                                  strict=True))


def test_load_weights_skip_mismatch_loads_what_fits(trained):
    model, _, weights = trained
    other = _model(seed=2, out=3)  # the last layer differs: it is skipped (all its variables), as in Keras
    fresh_last = other.layers[-1].get_weights()
    with pytest.warns(UserWarning, match="Skipping"):
        other.load_weights(weights, skip_mismatch=True)
    for ours, theirs in zip(other.get_weights()[:6], model.get_weights()[:6], strict=True):
        np.testing.assert_array_equal(ours, theirs)
    for ours, fresh in zip(other.layers[-1].get_weights(), fresh_last, strict=True):
        np.testing.assert_array_equal(ours, fresh)


def test_optimizer_state_of_another_optimizer_is_skipped_with_a_warning(trained):
    model, _, weights = trained
    other = _model(compile=False)
    other.compile(keras.optimizers.SGD(momentum=0.9), "sparse_categorical_crossentropy")
    with pytest.warns(UserWarning, match="Skipping variable loading for optimizer 'sgd'"):
        other.load_weights(weights)
    assert _same_weights(model, other)


def test_a_weights_file_without_kerasish_state_still_loads(trained, tmp_path):
    """What Keras 3 itself writes: the Keras layout only (no seed state, no raw optax state)."""
    model, _, weights = trained
    _weights_h5(weights, tmp_path / "plain.weights.h5", lambda f: None)
    other = _model(seed=4)
    other.load_weights(tmp_path / "plain.weights.h5")
    assert _same_weights(model, other) and other.optimizer.iterations == 3


def _lambda_entry(fn):
    import base64
    import marshal
    return {"class_name": "__lambda__", "config": {"value": [base64.b64encode(marshal.dumps(fn.__code__)).decode(),
                                                             None, None]}}


def test_code_in_a_file_runs_only_with_safe_mode_off(tmp_path):
    model = keras.Sequential([keras.Input((3,)), layers.Dense(2)])
    model.save(tmp_path / "plain.keras")
    _edit_config(tmp_path / "plain.keras", tmp_path / "lambda.keras",
                 lambda c: c["config"]["layers"][1]["config"].update(activation=_lambda_entry(lambda x: x * 0 + 7)))
    with pytest.raises(ValueError, match="Requested the deserialization of a Python lambda") as info:
        keras.models.load_model(tmp_path / "lambda.keras")
    assert "safe_mode=False" in str(info.value) and str(tmp_path / "lambda.keras") in str(info.value)
    loaded = keras.models.load_model(tmp_path / "lambda.keras", safe_mode=False)
    np.testing.assert_array_equal(loaded.predict(np.ones((1, 3), "float32"), verbose=0), 7.0)


@keras.saving.register_keras_serializable(package="test_saving")
class RegisteredDense(layers.Dense):
    pass


class UnregisteredDense(layers.Dense):
    pass


def test_custom_layers_come_from_the_registry_custom_objects_or_a_scope(tmp_path):
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
    with keras.saving.custom_object_scope({"UnregisteredDense": UnregisteredDense}):
        assert type(keras.models.load_model(tmp_path / "UnregisteredDense.keras").layers[0]) is UnregisteredDense
    assert keras.saving.get_custom_objects()["test_saving>RegisteredDense"] is RegisteredDense


def test_unbuilt_and_uncompiled_models_save_their_config(tmp_path):
    model = keras.Sequential([layers.Dense(3)])
    model.save(tmp_path / "unbuilt.keras")
    restored = keras.models.load_model(tmp_path / "unbuilt.keras")
    assert not restored.built and not restored.compiled and len(restored.layers) == 1


def test_archive_reader_never_extracts(trained, monkeypatch):
    """Members are read into memory; nothing touches the disk next to the file."""
    _, saved, _ = trained
    monkeypatch.setattr(zipfile.ZipFile, "extract", lambda *a, **k: pytest.fail("extract called"))
    monkeypatch.setattr(zipfile.ZipFile, "extractall", lambda *a, **k: pytest.fail("extractall called"))
    stored = archive.read(str(saved), str(saved))
    assert stored.config["class_name"] == "Sequential"
    assert weights_file.read(io.BytesIO(stored.weights), "w").groups["vars"][0] == "sequential"


def test_quantized_dtype_policies_are_refused_not_ignored(tmp_path):
    model = keras.Sequential([keras.Input((3,)), layers.Dense(2)])
    model.save(tmp_path / "plain.keras")
    quantized = {"module": "keras", "class_name": "QuantizedDTypePolicy",
                 "config": {"mode": "int8", "source_name": "float32"}, "registered_name": None}
    _edit_config(tmp_path / "plain.keras", tmp_path / "int8.keras",
                 lambda c: c["config"]["layers"][1]["config"].update(dtype=quantized))
    with pytest.raises(ValueError, match="QuantizedDTypePolicy"):
        keras.models.load_model(tmp_path / "int8.keras")
