"""`kerasish.backend.standardize_data_format` behaves as Keras 3's `keras.src.backend.standardize_data_format`
(values and error message), and the `data_format` arguments of ops, layers and utils all go through it."""

import numpy as np
import pytest

import kerasish
from kerasish import ops


def keras_error(value):
    from keras.src import backend as keras_backend

    with pytest.raises(ValueError) as info:
        keras_backend.standardize_data_format(value)
    return str(info.value)


@pytest.mark.parametrize("value", [None, "channels_last", "Channels_First"])
def test_accepted_values_match_keras(value):
    from keras.src import backend as keras_backend

    assert kerasish.backend.standardize_data_format(value) == keras_backend.standardize_data_format(value)


@pytest.mark.parametrize("call", [
    lambda: kerasish.backend.standardize_data_format("NHWC"),
    lambda: ops.conv(np.ones((1, 4, 4, 1)), np.ones((2, 2, 1, 1)), data_format="NHWC"),
    lambda: kerasish.layers.Conv2D(2, 3, data_format="NHWC"),
    lambda: kerasish.layers.MaxPooling2D(data_format="NHWC"),
    lambda: kerasish.utils.img_to_array(np.ones((2, 2, 1)), data_format="NHWC"),
], ids=["backend", "ops", "conv-layer", "pool-layer", "image-utils"])
def test_refusal_is_keras_error(call):
    with pytest.raises(ValueError) as info:
        call()
    assert str(info.value) == keras_error("NHWC")
