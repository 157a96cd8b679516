"""Image preprocessing layers against Keras 3: Resizing and CenterCrop through the shared contract;
every random layer's seeded draws equal Keras's (same values call after call, batched and single
images), its config round-trips both ways, and inside `model.fit` it augments in the compiled step
(the seed state advances per step, no retrace per step) while `predict` leaves images alone."""

import json

import jax
import numpy as np
import pytest

import keras as keras_ref
import kerasish
from contract import Row, _plain, run_contract, table

ROWS = [
    Row("Resizing", dict(height=3, width=5), (2, 6, 7, 2), "bilinear"),
    Row("Resizing", dict(height=9, width=4, interpolation="nearest"), (2, 6, 7, 2), "nearest"),
    Row("Resizing", dict(height=4, width=4, crop_to_aspect_ratio=True), (2, 6, 9, 1), "crop-aspect"),
    Row("Resizing", dict(height=4, width=8, pad_to_aspect_ratio=True, fill_value=1.0), (2, 6, 7, 1), "pad-aspect"),
    Row("Resizing", dict(height=3, width=5, data_format="channels_first"), (2, 2, 6, 7), "channels-first"),
    Row("CenterCrop", dict(height=3, width=4), (2, 6, 7, 2), "crop"),
    Row("CenterCrop", dict(height=8, width=4), (2, 6, 7, 2), "smaller-resizes"),
    Row("CenterCrop", dict(height=2, width=3, data_format="channels_first"), (2, 3, 5, 5), "channels-first"),
]


@pytest.mark.parametrize("row", table(ROWS))
def test_image_layer_matches_keras(row):
    run_contract(row)


SEEDED = [
    ("RandomFlip", dict(seed=1)),
    ("RandomFlip", dict(mode="vertical", seed=2)),
    ("RandomFlip", dict(mode="horizontal", seed=3, data_format="channels_first")),
    ("RandomCrop", dict(height=3, width=4, seed=1)),
    ("RandomContrast", dict(factor=0.5, seed=1)),
    ("RandomContrast", dict(factor=(0.2, 0.6), value_range=(0, 1), seed=4)),
    ("RandomBrightness", dict(factor=0.2, seed=1)),
    ("RandomBrightness", dict(factor=(-0.3, 0.1), value_range=(0, 1), seed=5)),
    ("RandomRotation", dict(factor=0.2, seed=1)),
    ("RandomRotation", dict(factor=(-0.1, 0.3), seed=2, fill_mode="constant", interpolation="nearest", fill_value=3.0)),
    ("RandomZoom", dict(height_factor=0.2, seed=1)),
    ("RandomZoom", dict(height_factor=(-0.3, 0.2), width_factor=0.4, seed=1, fill_mode="wrap")),
    ("RandomTranslation", dict(height_factor=0.2, width_factor=0.1, seed=1)),
    ("RandomTranslation", dict(height_factor=(-0.2, 0.3), width_factor=0.3, seed=6, fill_mode="nearest",
                               data_format="channels_first")),
    ("RandomShear", dict(x_factor=0.3, seed=1)),
    ("RandomShear", dict(x_factor=(0.1, 0.4), y_factor=0.5, seed=2, fill_mode="constant", interpolation="nearest")),
    ("RandomPerspective", dict(seed=1)),
    ("RandomPerspective", dict(factor=0.6, scale=0.4, interpolation="nearest", fill_value=2.0, seed=2,
                               data_format="channels_first")),
]


def _json(config):
    """A config as a file holds it (Keras's may hold tracked lists, which do not deep-copy)."""
    return json.loads(json.dumps(config, default=list))


def _images(shape=(3, 6, 7, 2)):
    return (np.random.default_rng(0).random(shape) * 255).astype("float32")


@pytest.mark.parametrize("name,kwargs", SEEDED, ids=[f"{n}-{i}" for i, (n, _) in enumerate(SEEDED)])
def test_seeded_random_layer_draws_keras_values(name, kwargs):
    x = _images()
    ref, ours = getattr(keras_ref.layers, name)(**kwargs), getattr(kerasish.layers, name)(**kwargs)
    for images in (x, x, x[0], x):  # the generator advances the same way in both
        np.testing.assert_allclose(ours(images), ref(images), rtol=1e-5, atol=1e-3)
    np.testing.assert_allclose(ours(x, training=False), x[:, 1:4, 1:5] if name == "RandomCrop" else x, atol=1e-6)
    ref_config, our_config = ref.get_config(), ours.get_config()
    ref_config.pop("name"), our_config.pop("name")
    assert _plain(our_config) == _plain(ref_config)
    rebuilt = getattr(kerasish.layers, name).from_config(_json(ref.get_config()))
    assert _plain(rebuilt.get_config()) == _plain({**ref.get_config(), "name": rebuilt.name})
    if name == "RandomShear":  # Keras 3 cannot read a shear config with a negative bound, not even its own
        return
    keras_rebuilt = getattr(keras_ref.layers, name).from_config(_json(ours.get_config()))
    assert _plain(keras_rebuilt.get_config()) == _plain({**ours.get_config(), "name": keras_rebuilt.name})


@pytest.mark.parametrize("name,kwargs", [
    ("RandomFlip", {}), ("RandomRotation", dict(factor=0.25)), ("RandomZoom", dict(height_factor=0.3)),
    ("RandomTranslation", dict(height_factor=0.3, width_factor=0.3)), ("RandomContrast", dict(factor=0.5)),
    ("RandomBrightness", dict(factor=0.3)), ("RandomCrop", dict(height=8, width=8)),
])
def test_unseeded_random_layer_statistics_match_keras(name, kwargs):
    x = _images((256, 10, 10, 1))
    kerasish.utils.set_random_seed(11)  # unseeded layers draw from the global streams: fixed, so never flaky
    keras_ref.utils.set_random_seed(11)
    ours, ref = getattr(kerasish.layers, name)(**kwargs), getattr(keras_ref.layers, name)(**kwargs)
    a, b = np.asarray(ours(x)), np.asarray(ref(x))
    assert not np.array_equal(a, np.asarray(ours(x))), "two training calls drew the same augmentation"
    per_image_a, per_image_b = a.reshape(len(a), -1).mean(1), b.reshape(len(b), -1).mean(1)
    spread = 5 * np.sqrt(2 / len(a)) * max(per_image_b.std(), 1e-3)
    assert abs(per_image_a.mean() - per_image_b.mean()) < spread
    assert abs(per_image_a.std() - per_image_b.std()) < spread
    if name != "RandomCrop":  # one crop window per batch: a single draw, no statistic
        assert abs(np.mean(a == x) - np.mean(b == x)) < 0.1


def test_random_crop_centre_crops_at_inference():
    # Keras 3.15 returns inference inputs uncropped (against its own compute_output_shape); kerasish crops.
    x = _images((2, 6, 8, 1))
    layer = kerasish.layers.RandomCrop(4, 4, seed=0)
    np.testing.assert_array_equal(layer(x, training=False), x[:, 1:5, 2:6])
    assert layer(x[:, :3], training=True).shape == (2, 4, 4, 1)  # smaller than the target: fitted


def test_dict_inputs_and_bad_arguments_are_refused():
    with pytest.raises(NotImplementedError, match="image arrays only"):
        kerasish.layers.RandomFlip()({"images": _images(), "bounding_boxes": {}})
    with pytest.raises(NotImplementedError, match="Unknown `fill_mode`"):
        kerasish.layers.RandomRotation(0.1, fill_mode="mirror")
    with pytest.raises(ValueError, match="in the range"):
        kerasish.layers.RandomZoom(-1.0)
    with pytest.raises(ValueError, match="rank 3"):
        kerasish.layers.RandomContrast(0.2)(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="height"):
        kerasish.layers.Resizing(0, 3)


class _Traces:
    """Counts how often the function of a Lambda is traced (a Python side effect runs once per trace)."""

    def __init__(self):
        self.count = 0

    def __call__(self, x):
        self.count += 1
        return x


@pytest.mark.parametrize("name,kwargs", [
    ("RandomFlip", dict(seed=1)), ("RandomRotation", dict(factor=0.2, seed=1)),
    ("RandomZoom", dict(height_factor=0.2, seed=1)), ("RandomTranslation", dict(height_factor=0.2, width_factor=0.2, seed=1)),
    ("RandomContrast", dict(factor=0.4, seed=1)), ("RandomBrightness", dict(factor=0.2, seed=1)),
    ("RandomCrop", dict(height=6, width=6, seed=1)), ("RandomShear", dict(x_factor=0.3, y_factor=0.3, seed=1)),
    ("RandomPerspective", dict(scale=0.5, seed=1)),
])
def test_random_layer_augments_inside_compiled_fit(name, kwargs):
    x = _images((32, 8, 8, 1)) / 255.0
    layer, traces = getattr(kerasish.layers, name)(**kwargs), _Traces()
    model = kerasish.Sequential([kerasish.Input((8, 8, 1)), layer, kerasish.layers.Lambda(traces),
                                 kerasish.layers.Flatten(), kerasish.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    before, built = np.asarray(layer.generator.state.value).copy(), traces.count  # shape inference traced it
    model.fit(x, np.zeros((32, 1)), batch_size=8, epochs=2, verbose=0)
    after_first = traces.count
    model.fit(x, np.zeros((32, 1)), batch_size=8, epochs=1, verbose=0)
    assert traces.count == after_first, "the second fit (4 steps) retraced the training step"
    assert after_first - built <= 2, f"traced {after_first - built} times for 8 steps"
    advanced = int(np.asarray(layer.generator.state.value)[1] - before[1])
    draws_per_step = {"RandomTranslation": 2, "RandomCrop": 2, "RandomShear": 3, "RandomPerspective": 3}.get(name, 1)
    assert advanced == 12 * draws_per_step, "the seed state did not advance once per training step"
    expected = x[:, 1:7, 1:7] if name == "RandomCrop" else x
    inner = kerasish.Sequential([kerasish.Input((8, 8, 1)), layer])
    np.testing.assert_allclose(inner.predict(x, verbose=0), expected, atol=1e-6)
    assert not np.allclose(np.asarray(inner(x, training=True)), expected)


def test_random_layer_runs_under_jit_through_split_merge():
    from flax import nnx
    layer = kerasish.layers.RandomRotation(0.2, seed=3)
    x = _images()

    @jax.jit
    def augment(state, images):
        graph_layer = nnx.merge(graphdef, state)
        return graph_layer(images), nnx.state(graph_layer)
    graphdef, state = nnx.split(layer)
    first, state = augment(state, x)
    second, _ = augment(state, x)
    ref = keras_ref.layers.RandomRotation(0.2, seed=3)
    np.testing.assert_allclose(first, ref(x), atol=1e-3)
    np.testing.assert_allclose(second, ref(x), atol=1e-3)


def test_string_layers_are_absent():
    for name in ("StringLookup", "TextVectorization"):
        with pytest.raises(AttributeError):
            getattr(kerasish.layers, name)


def test_augmentation_pipeline_files_move_between_keras_and_kerasish(tmp_path):
    x = _images((2, 8, 8, 3))
    ref = keras_ref.Sequential([keras_ref.Input((8, 8, 3)), keras_ref.layers.RandomFlip(seed=2),
                                keras_ref.layers.RandomRotation(0.1), keras_ref.layers.Resizing(4, 4),
                                keras_ref.layers.CenterCrop(3, 3), keras_ref.layers.Rescaling(1 / 255.0)])
    ref.save(tmp_path / "keras.keras")
    ours = kerasish.models.load_model(tmp_path / "keras.keras")
    np.testing.assert_allclose(ours.predict(x, verbose=0), ref.predict(x, verbose=0), atol=1e-6)
    ours.save(tmp_path / "kerasish.keras")
    back = keras_ref.models.load_model(tmp_path / "kerasish.keras")
    np.testing.assert_allclose(back.predict(x, verbose=0), ref.predict(x, verbose=0), atol=1e-6)
    assert [layer.get_config()["seed"] for layer in ours.layers[:2]] == [2, None]


def test_pipeline_matches_keras_and_round_trips():
    x = _images()

    def pipeline(library):
        return library.layers.Pipeline([library.layers.RandomFlip(seed=1), library.layers.RandomRotation(0.2, seed=2),
                                        library.layers.Resizing(4, 4)])
    ref, ours = pipeline(keras_ref), pipeline(kerasish)
    for images in (x, x, x[0]):
        np.testing.assert_allclose(ours(images), ref(images), atol=1e-3)
    np.testing.assert_allclose(ours(x, training=False), ref(x, training=False), atol=1e-4)
    assert ours.compute_output_shape((None, 6, 7, 2)) == (None, 4, 4, 2)
    config = _json(ours.get_config())
    assert set(config) == {"layers", "name"}
    assert [type(layer).__name__ for layer in keras_ref.layers.Pipeline.from_config(config).layers] == \
        ["RandomFlip", "RandomRotation", "Resizing"]
    rebuilt = kerasish.layers.Pipeline.from_config(_json(ref.get_config()))
    assert [layer.get_config()["seed"] for layer in rebuilt.layers[:2]] == [1, 2]
    with pytest.raises(ValueError, match="list of layers"):
        kerasish.layers.Pipeline("flip")
