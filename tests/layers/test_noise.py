"""SpatialDropout1D/2D/3D, GaussianNoise, GaussianDropout, AlphaDropout, ActivityRegularization against
Keras 3 (the shared contract; random layers compare statistics, and values when seeded)."""

import numpy as np
import pytest

import kerasish
from contract import Row, run_contract, table

ROWS = [
    Row("SpatialDropout1D", dict(rate=0.4), (128, 3, 32), "unseeded", random=True),
    Row("SpatialDropout1D", dict(rate=0.3, seed=7), (4, 5, 6), "seeded", random=True),
    Row("SpatialDropout2D", dict(rate=0.5), (128, 2, 2, 32), "unseeded", random=True),
    Row("SpatialDropout2D", dict(rate=0.3, seed=2, data_format="channels_first"), (4, 6, 2, 3), "seeded-cf",
        random=True),
    Row("SpatialDropout3D", dict(rate=0.25, seed=5), (4, 2, 2, 2, 5), "seeded", random=True),
    Row("SpatialDropout3D", dict(rate=0.5, data_format="channels_first"), (128, 32, 2, 1, 2), "unseeded-cf",
        random=True),
    Row("GaussianNoise", dict(stddev=0.5), (64, 64), "unseeded", random=True),
    Row("GaussianNoise", dict(stddev=0.2, seed=3), (4, 5), "seeded", random=True),
    Row("GaussianDropout", dict(rate=0.3), (64, 64), "unseeded", random=True),
    Row("GaussianDropout", dict(rate=0.2, seed=4), (3, 4, 2), "seeded", random=True),
    Row("AlphaDropout", dict(rate=0.2), (64, 64), "unseeded", random=True),
    Row("AlphaDropout", dict(rate=0.4, seed=9, noise_shape=(None, 1, 4)), (6, 3, 4), "seeded-noise-shape",
        random=True),
    Row("ActivityRegularization", dict(l1=0.01, l2=0.1), (3, 4), "l1-l2"),
]


@pytest.mark.parametrize("row", table(ROWS))
def test_noise_layer_matches_keras(row):
    run_contract(row)


def test_activity_regularization_adds_keras_penalty_to_losses():
    import keras as keras_ref
    x = np.random.default_rng(0).normal(size=(4, 3)).astype("float32")
    ours, ref = kerasish.layers.ActivityRegularization(0.01, 0.1), keras_ref.layers.ActivityRegularization(0.01, 0.1)
    np.testing.assert_allclose(ours(x), x)
    ref(x)
    np.testing.assert_allclose(float(sum(ours.losses)), float(sum(ref.losses)), rtol=1e-6)
    expected = (0.01 * np.abs(x).sum() + 0.1 * np.square(x).sum()) / len(x)
    np.testing.assert_allclose(float(sum(ours.losses)), expected, rtol=1e-5)


def test_zero_rate_layers_hold_no_seed_generator_and_are_the_identity():
    x = np.ones((2, 3, 4), "float32")
    for layer in (kerasish.layers.GaussianNoise(0.0), kerasish.layers.GaussianDropout(0.0),
                  kerasish.layers.AlphaDropout(0.0), kerasish.layers.SpatialDropout1D(0.0)):
        np.testing.assert_array_equal(layer(x, training=True), x)
        assert layer.seed_generator is None


@pytest.mark.parametrize("call, error, match", [
    (lambda: kerasish.layers.GaussianNoise(stddev=1.5), ValueError, "stddev"),
    (lambda: kerasish.layers.GaussianDropout(rate=-0.1), ValueError, "rate"),
    (lambda: kerasish.layers.AlphaDropout(rate="x"), ValueError, "rate"),
    (lambda: kerasish.layers.SpatialDropout2D(rate=1.2), ValueError, "rate"),
    (lambda: kerasish.layers.SpatialDropout1D(0.5)(np.ones((2, 3), "float32"), training=True), ValueError, "ndim=3"),
])
def test_bad_noise_arguments_raise(call, error, match):
    with pytest.raises(error, match=match):
        call()
