"""Pooling of every rank (1-D/2-D/3-D windowed, global and adaptive) against Keras 3 (the shared contract)."""

import numpy as np
import pytest

import kerasish
from contract import Row, run_contract, table

ROWS = [
    Row("MaxPooling1D", {}, (2, 7, 3), "default"),
    Row("MaxPooling1D", dict(pool_size=3, strides=2, padding="same", data_format="channels_first"), (2, 3, 8),
        "same-channels-first"),
    Row("AveragePooling1D", dict(pool_size=3, strides=1), (2, 6, 2), "valid"),
    Row("AveragePooling1D", dict(pool_size=3, strides=2, padding="same"), (2, 7, 2), "same-partial-windows"),
    Row("MaxPooling2D", dict(pool_size=(3, 2), strides=(2, 1), padding="same"), (2, 7, 5, 3), "same"),
    Row("MaxPooling2D", dict(pool_size=2, data_format="channels_first"), (2, 3, 6, 4), "channels-first"),
    Row("AveragePooling2D", dict(pool_size=3, strides=2, padding="same"), (2, 7, 6, 2), "same-partial-windows"),
    Row("AveragePooling2D", dict(pool_size=(2, 3), strides=1, data_format="channels_first"), (1, 2, 4, 5),
        "channels-first"),
    Row("MaxPooling3D", dict(pool_size=2, padding="same"), (2, 3, 4, 5, 2), "same"),
    Row("MaxPooling3D", dict(pool_size=(2, 1, 2), strides=1, data_format="channels_first"), (1, 2, 3, 3, 4),
        "channels-first"),
    Row("AveragePooling3D", dict(pool_size=2, strides=(1, 2, 2), padding="same"), (1, 3, 4, 5, 2), "same"),
    Row("AveragePooling3D", dict(pool_size=(1, 2, 2), data_format="channels_first"), (1, 2, 2, 4, 4),
        "channels-first"),
    Row("GlobalAveragePooling1D", {}, (2, 5, 3), "default"),
    Row("GlobalAveragePooling1D", dict(keepdims=True, data_format="channels_first"), (2, 3, 5), "keepdims-cf"),
    Row("GlobalMaxPooling1D", dict(keepdims=True), (2, 5, 3), "keepdims"),
    Row("GlobalAveragePooling2D", dict(data_format="channels_first"), (2, 3, 4, 5), "channels-first"),
    Row("GlobalMaxPooling2D", dict(keepdims=True), (2, 4, 5, 3), "keepdims"),
    Row("GlobalAveragePooling3D", dict(keepdims=True), (2, 2, 3, 2, 3), "keepdims"),
    Row("GlobalMaxPooling3D", dict(data_format="channels_first"), (2, 3, 2, 3, 2), "channels-first"),
    Row("AdaptiveAveragePooling1D", dict(output_size=3), (2, 7, 2), "uneven"),
    Row("AdaptiveMaxPooling2D", dict(output_size=(2, 3)), (2, 5, 7, 2), "uneven"),
    Row("AdaptiveAveragePooling2D", dict(output_size=2, data_format="channels_first"), (1, 2, 5, 4), "cf"),
    Row("AdaptiveMaxPooling3D", dict(output_size=(1, 2, 2)), (1, 3, 4, 5, 2), "uneven"),
    Row("AdaptiveAveragePooling3D", dict(output_size=2), (1, 4, 4, 4, 1), "even"),
    Row("AdaptiveMaxPooling1D", dict(output_size=2, data_format="channels_first"), (2, 2, 5), "cf"),
]


@pytest.mark.parametrize("row", table(ROWS))
def test_pooling_matches_keras(row):
    run_contract(row)


@pytest.mark.parametrize("keepdims", [False, True])
def test_global_average_pooling_1d_leaves_masked_steps_out(keepdims):
    import keras as keras_ref
    x = np.random.default_rng(0).normal(size=(3, 5, 2)).astype("float32")
    mask = np.array([[1, 1, 0, 0, 0], [1, 1, 1, 1, 1], [0, 1, 0, 1, 0]], bool)
    ours = kerasish.layers.GlobalAveragePooling1D(keepdims=keepdims)(x, mask=mask)
    ref = keras_ref.layers.GlobalAveragePooling1D(keepdims=keepdims)(x, mask=mask)
    np.testing.assert_allclose(ours, ref, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(np.asarray(ours).reshape(3, 2)[0], x[0, :2].mean(axis=0), rtol=1e-6)


@pytest.mark.parametrize("call, error, match", [
    (lambda: kerasish.layers.MaxPooling1D(padding="full"), ValueError, "padding"),
    (lambda: kerasish.layers.AveragePooling3D(pool_size=(2, 2)), ValueError, "pool_size"),
    (lambda: kerasish.layers.MaxPooling1D(data_format="NWC"), ValueError, "data_format"),
    (lambda: kerasish.layers.MaxPooling1D(4)(np.ones((1, 3, 2), "float32")), ValueError, "zero or negative"),
    (lambda: kerasish.layers.GlobalMaxPooling3D()(np.ones((1, 3, 2), "float32")), ValueError, "ndim=5"),
    (lambda: kerasish.layers.MaxPooling2D()(np.ones((1, 3, 2), "float32")), ValueError, "ndim=4"),
    (lambda: kerasish.layers.AveragePooling2D(3)(np.ones((1, 2, 4, 1), "float32")), ValueError, "zero or negative"),
    (lambda: kerasish.layers.AdaptiveMaxPooling2D("2"), TypeError, "output_size"),
])
def test_bad_pooling_arguments_raise(call, error, match):
    with pytest.raises(error, match=match):
        call()
