"""UpSampling, ZeroPadding, Cropping, RepeatVector, Permute, Identity against Keras 3 (the shared contract)."""

import numpy as np
import pytest

import kerasish
from contract import Row, run_contract, table

ROWS = [
    Row("UpSampling1D", dict(size=3), (2, 4, 3), "size3"),
    Row("UpSampling2D", dict(size=(2, 3)), (2, 3, 2, 2), "nearest"),
    Row("UpSampling2D", dict(size=2, interpolation="bilinear"), (2, 3, 4, 2), "bilinear"),
    Row("UpSampling2D", dict(size=(3, 2), interpolation="bilinear", data_format="channels_first"), (1, 2, 3, 3),
        "bilinear-channels-first"),
    Row("UpSampling2D", dict(size=2, interpolation="bicubic"), (1, 3, 3, 1), "bicubic"),
    Row("UpSampling3D", dict(size=(1, 2, 3)), (1, 2, 2, 2, 2), "default"),
    Row("UpSampling3D", dict(size=2, data_format="channels_first"), (1, 2, 2, 3, 2), "channels-first"),
    Row("ZeroPadding1D", {}, (2, 4, 3), "default"),
    Row("ZeroPadding1D", dict(padding=(2, 0), data_format="channels_first"), (2, 3, 4), "asymmetric-cf"),
    Row("ZeroPadding2D", dict(padding=((1, 0), (2, 3))), (2, 3, 3, 2), "pairs"),
    Row("ZeroPadding2D", dict(padding=(1, 2), data_format="channels_first"), (1, 2, 3, 3), "channels-first"),
    Row("ZeroPadding3D", dict(padding=1), (1, 2, 2, 2, 2), "int"),
    Row("ZeroPadding3D", dict(padding=((0, 1), (1, 0), (2, 2)), data_format="channels_first"), (1, 2, 2, 2, 2),
        "pairs-channels-first"),
    Row("Cropping1D", {}, (2, 5, 3), "default"),
    Row("Cropping1D", dict(cropping=(2, 0)), (2, 5, 3), "start-only"),
    Row("Cropping2D", dict(cropping=((1, 0), (1, 2))), (2, 4, 5, 2), "pairs"),
    Row("Cropping2D", dict(cropping=1, data_format="channels_first"), (1, 2, 4, 4), "channels-first"),
    Row("Cropping3D", {}, (1, 3, 4, 3, 2), "default"),
    Row("Cropping3D", dict(cropping=(0, 1, 2), data_format="channels_first"), (1, 2, 3, 4, 5), "channels-first"),
    Row("RepeatVector", dict(n=3), (2, 4), "n3"),
    Row("Permute", dict(dims=(2, 1)), (2, 3, 4), "swap"),
    Row("Permute", dict(dims=(3, 1, 2)), (2, 3, 4, 2), "cycle"),
    Row("Identity", {}, (2, 3, 4), "identity"),
]


@pytest.mark.parametrize("row", table(ROWS))
def test_reshaping_matches_keras(row):
    run_contract(row)


@pytest.mark.parametrize("call, error, match", [
    (lambda: kerasish.layers.UpSampling1D(size=1.5), TypeError, "integer"),
    (lambda: kerasish.layers.UpSampling1D(size=0), ValueError, "positive"),
    (lambda: kerasish.layers.UpSampling2D(interpolation="area"), ValueError, "interpolation"),
    (lambda: kerasish.layers.ZeroPadding2D(padding=(1, 2, 3)), ValueError, "padding"),
    (lambda: kerasish.layers.Cropping2D(cropping=-1), ValueError, "negative"),
    (lambda: kerasish.layers.Cropping1D(cropping=(3, 3))(np.ones((1, 5, 2), "float32")), ValueError, "smaller"),
    (lambda: kerasish.layers.RepeatVector(n="3"), TypeError, "integer"),
    (lambda: kerasish.layers.Permute(dims=(0, 1)), ValueError, "consecutive"),
    (lambda: kerasish.layers.RepeatVector(2)(np.ones((1, 2, 2), "float32")), ValueError, "ndim=2"),
])
def test_bad_reshaping_arguments_raise(call, error, match):
    with pytest.raises(error, match=match):
        call()
