"""Colour augmentation layers (and RandomGaussianBlur, RandomColorJitter) against Keras 3: seeded draws give Keras's very images call after call
(batches, single images, channels_first), configs go both ways, inference leaves images alone, and
inside `model.fit` they augment in the compiled step."""

import json

import numpy as np
import pytest

import keras as keras_ref
import kerasish
from contract import _plain

CASES = [
    ("RandomGrayscale", dict(factor=0.5, seed=1)),
    ("RandomInvert", dict(factor=0.7, seed=1)),
    ("Solarization", dict(addition_factor=0.3, threshold_factor=0.6, seed=1)),
    ("Solarization", dict(addition_factor=(0.1, 0.2), threshold_factor=0.6, value_range=(0, 1), seed=2)),
    ("AutoContrast", dict()),
    ("AutoContrast", dict(value_range=(0, 1))),
    ("RandomColorDegeneration", dict(factor=0.5, seed=1)),
    ("RandomSaturation", dict(factor=0.5, seed=1)),
    ("RandomSaturation", dict(factor=(0.2, 0.8), value_range=(0, 1), seed=3)),
    ("RandomHue", dict(factor=0.5, seed=1)),
    ("RandomHue", dict(factor=(0.2, 0.9), value_range=(0, 1), seed=4)),
    ("RandomSharpness", dict(factor=0.5, seed=1)),
    ("RandomSharpness", dict(factor=(0.1, 0.9), seed=5, data_format="channels_first")),
    ("RandomPosterization", dict(factor=(2, 6), seed=1)),
    ("RandomPosterization", dict(factor=3, seed=1)),
    ("RandomGaussianBlur", dict(seed=1)),
    ("RandomGaussianBlur", dict(factor=0.6, kernel_size=(3, 5), sigma=(0.2, 0.8), seed=2)),
    ("RandomColorJitter", dict(brightness_factor=0.2, contrast_factor=0.3, saturation_factor=0.4, hue_factor=0.2,
                               seed=1)),
    ("RandomColorJitter", dict(contrast_factor=0.3, hue_factor=0.2, seed=3, value_range=(0, 1))),
    ("Equalization", dict()),
    ("Equalization", dict(bins=16, value_range=(0, 1), data_format="channels_first")),
    ("RandomErasing", dict(seed=1)),
    ("RandomErasing", dict(factor=0.6, scale=(0.1, 0.5), fill_value=7.0, seed=2, data_format="channels_first")),
]


def _images(kwargs, shape=(3, 6, 7, 3)):
    x = (np.random.default_rng(0).random(shape) * 255).astype("float32")
    if kwargs.get("value_range") == (0, 1):
        x = x / 255.0
    return x.transpose(0, 3, 1, 2) if kwargs.get("data_format") == "channels_first" else x


def _json(config):
    return json.loads(json.dumps(config, default=list))


@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_colour_layer_draws_keras_values(name, kwargs):
    x = _images(kwargs)
    ref, ours = getattr(keras_ref.layers, name)(**kwargs), getattr(kerasish.layers, name)(**kwargs)
    for images in (x, x, x[0], x):
        np.testing.assert_allclose(ours(images), ref(images), rtol=1e-5, atol=1e-3, equal_nan=True)
    if name != "AutoContrast":  # not random: it applies at inference too
        np.testing.assert_allclose(ours(x, training=False), x, atol=1e-6)
    if name not in ("AutoContrast", "Equalization", "RandomPosterization"):  # the last may repeat its draw
        assert not np.allclose(ours(x), ours(x), equal_nan=True)
    ref_config, our_config = _json(ref.get_config()), _json(ours.get_config())
    assert {**our_config, "name": ""} == {**ref_config, "name": ""}
    rebuilt = getattr(kerasish.layers, name).from_config(ref_config)
    assert _plain({**rebuilt.get_config(), "name": ""}) == _plain({**ref_config, "name": ""})
    assert _plain({**getattr(keras_ref.layers, name).from_config(our_config).get_config(), "name": ""}) == \
        _plain({**our_config, "name": ""})


@pytest.mark.parametrize("name,kwargs", [(n, k) for n, k in CASES[::2] if n not in ("AutoContrast", "Equalization")])
def test_colour_layer_augments_inside_compiled_fit(name, kwargs):
    x = _images({}, (16, 6, 6, 3)) / 255.0
    kwargs = kwargs if name == "RandomGrayscale" else {**kwargs, "value_range": (0, 1)}
    layer = getattr(kerasish.layers, name)(**kwargs)
    model = kerasish.Sequential([kerasish.Input((6, 6, 3)), layer, kerasish.layers.Flatten(), kerasish.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    before = int(np.asarray(layer.generator.state.value)[1])
    model.fit(x, np.zeros((16, 1)), batch_size=8, epochs=1, verbose=0)
    assert int(np.asarray(layer.generator.state.value)[1]) > before  # drew inside the compiled steps
    inner = kerasish.Sequential([kerasish.Input((6, 6, 3)), layer])
    np.testing.assert_allclose(inner.predict(x, verbose=0), x, atol=1e-6)


def test_colour_layer_arguments_are_checked():
    with pytest.raises(ValueError, match="between 0 and 1"):
        kerasish.layers.RandomGrayscale(1.5)
    with pytest.raises(ValueError, match="in the range \\[0, 1\\]"):
        kerasish.layers.Solarization(addition_factor=2.0)
    with pytest.raises(ValueError, match="value_range"):
        kerasish.layers.AutoContrast(value_range=255)
    with pytest.raises(ValueError, match="in the range \\[1, 8\\]"):
        kerasish.layers.RandomPosterization(9)
    with pytest.raises(ValueError, match="odd number"):
        kerasish.layers.RandomGaussianBlur(kernel_size=4)


def test_random_erasing_fills_per_channel():
    # Keras 3.15 fails on three fill values (`full_like` takes one number); kerasish fills each channel.
    x = np.zeros((2, 5, 5, 3), "float32")
    out = np.asarray(kerasish.layers.RandomErasing(scale=(0.3, 0.3), fill_value=[1.0, 2.0, 3.0], seed=0)(x))
    erased = out.any(axis=-1)
    assert erased.any()
    np.testing.assert_array_equal(out[erased], np.broadcast_to([1.0, 2.0, 3.0], out[erased].shape))
    first = np.asarray(kerasish.layers.RandomErasing(scale=(0.3, 0.3), fill_value=[1.0, 2.0, 3.0], seed=0,
                                                     data_format="channels_first")(x.transpose(0, 3, 1, 2)))
    assert set(np.unique(first[:, 1])) <= {0.0, 2.0}
