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
