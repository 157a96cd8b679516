"""ReLU, LeakyReLU, PReLU, ELU, Softmax against Keras 3 (the shared contract)."""

import numpy as np
import pytest

import kerasish
from contract import Row, run_contract, table

ROWS = [
    Row("ReLU", {}, (3, 5), "default"),
    Row("ReLU", dict(max_value=0.8, negative_slope=0.1, threshold=0.3), (3, 5), "all-arguments"),
    Row("ReLU", dict(max_value=6.0), (3, 5), "relu6"),
    Row("LeakyReLU", {}, (3, 5), "default"),
    Row("LeakyReLU", dict(negative_slope=0.05), (2, 3, 4), "slope"),
    Row("PReLU", {}, (2, 3, 4), "default"),
    Row("PReLU", dict(shared_axes=[1, 2], alpha_initializer="ones"), (2, 3, 4, 2), "shared-axes"),
    Row("ELU", {}, (3, 5), "default"),
    Row("ELU", dict(alpha=0.5), (3, 5), "alpha", extra_config=("alpha",)),
    Row("Softmax", {}, (3, 5), "default"),
    Row("Softmax", dict(axis=1), (2, 3, 4), "axis1"),
    Row("Softmax", dict(axis=(1, 2)), (2, 3, 4), "two-axes"),
]


@pytest.mark.parametrize("row", table(ROWS))
def test_activation_layer_matches_keras(row):
    run_contract(row)


def test_softmax_mask_zeroes_masked_entries_like_keras():
    import keras as keras_ref
    x = np.random.default_rng(0).normal(size=(2, 4)).astype("float32")
    mask = np.array([[1, 1, 0, 1], [0, 1, 1, 1]], bool)
    ours = np.asarray(kerasish.layers.Softmax()(x, mask=mask))
    np.testing.assert_allclose(ours, keras_ref.layers.Softmax()(x, mask=mask), rtol=1e-6, atol=1e-7)
    assert ours[0, 2] == 0 and ours[1, 0] == 0
    np.testing.assert_allclose(ours.sum(axis=1), 1.0, rtol=1e-6)


def test_leaky_relu_accepts_the_deprecated_alpha_with_a_warning():
    with pytest.warns(UserWarning, match="negative_slope"):
        layer = kerasish.layers.LeakyReLU(alpha=0.2)
    assert layer.negative_slope == 0.2


@pytest.mark.parametrize("call, error, match", [
    (lambda: kerasish.layers.ReLU(max_value=-1.0), ValueError, "max_value"),
    (lambda: kerasish.layers.ReLU(negative_slope=None), ValueError, "negative_slope"),
    (lambda: kerasish.layers.ReLU(threshold=-0.5), ValueError, "threshold"),
    (lambda: kerasish.layers.LeakyReLU(negative_slope=-0.1), ValueError, "negative_slope"),
    (lambda: kerasish.layers.PReLU(shared_axes=[0]), ValueError, "shared_axes"),
    (lambda: kerasish.layers.PReLU(shared_axes=[3])(np.ones((1, 2), "float32")), ValueError, "out of range"),
    (lambda: kerasish.layers.Softmax()(np.ones((2, 3), "float32"), mask=np.ones((2, 2), bool)), ValueError,
     "broadcastable"),
    (lambda: kerasish.layers.Softmax(axis="last"), ValueError, "axis"),
])
def test_bad_activation_arguments_raise(call, error, match):
    with pytest.raises(error, match=match):
        call()
