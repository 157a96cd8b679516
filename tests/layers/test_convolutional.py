"""Conv1D/2D/3D, transposed, depthwise and separable convolutions against Keras 3 (the shared contract)."""

import pytest

from contract import Row, run_contract, table

ROWS = [
    Row("Conv1D", dict(filters=3, kernel_size=3), (2, 7, 2), "valid"),
    Row("Conv1D", dict(filters=4, kernel_size=3, padding="causal", dilation_rate=2, activation="relu"), (2, 9, 3),
        "causal-dilated"),
    Row("Conv1D", dict(filters=4, kernel_size=2, strides=2, padding="same", groups=2, use_bias=False), (2, 7, 4),
        "same-strided-groups-nobias"),
    Row("Conv1D", dict(filters=3, kernel_size=3, padding="causal", data_format="channels_first"), (2, 2, 6),
        "causal-channels-first"),
    Row("Conv2D", dict(filters=3, kernel_size=(2, 3), strides=2, padding="same", activation="relu"), (2, 7, 6, 2),
        "same-strided"),
    Row("Conv2D", dict(filters=4, kernel_size=3, dilation_rate=2, groups=2, data_format="channels_first"),
        (2, 4, 7, 8), "dilated-groups-channels-first"),
    Row("Conv3D", dict(filters=3, kernel_size=2), (2, 3, 4, 3, 2), "valid"),
    Row("Conv3D", dict(filters=4, kernel_size=(2, 3, 1), padding="same", groups=2, dilation_rate=(1, 2, 1),
                       data_format="channels_first"), (1, 2, 3, 5, 2), "same-groups-dilated-channels-first"),
    Row("Conv1DTranspose", dict(filters=3, kernel_size=3, strides=2), (2, 4, 2), "valid"),
    Row("Conv1DTranspose", dict(filters=3, kernel_size=3, strides=3, padding="same", output_padding=2,
                                data_format="channels_first"), (2, 2, 4), "same-output-padding-channels-first"),
    Row("Conv2DTranspose", dict(filters=3, kernel_size=3, strides=2, padding="same"), (2, 3, 4, 2), "same"),
    Row("Conv2DTranspose", dict(filters=2, kernel_size=(2, 3), strides=(2, 3), output_padding=(1, 0)), (2, 3, 3, 2),
        "valid-output-padding"),
    Row("Conv2DTranspose", dict(filters=2, kernel_size=2, strides=3, padding="valid"), (1, 2, 3, 2),
        "stride-over-kernel"),
    Row("Conv2DTranspose", dict(filters=2, kernel_size=3, padding="same", dilation_rate=2,
                                data_format="channels_first", activation="tanh"), (2, 2, 3, 4), "dilated-channels-first"),
    Row("Conv3DTranspose", dict(filters=2, kernel_size=2, strides=2, padding="same"), (1, 2, 2, 3, 2), "same"),
    Row("Conv3DTranspose", dict(filters=2, kernel_size=3, strides=(2, 1, 2), output_padding=(1, 0, 0),
                                data_format="channels_first"), (1, 2, 2, 2, 2), "output-padding-channels-first"),
    Row("DepthwiseConv1D", dict(kernel_size=3, depth_multiplier=2), (2, 7, 3), "multiplier"),
    Row("DepthwiseConv1D", dict(kernel_size=3, strides=2, padding="same", dilation_rate=1,
                                data_format="channels_first"), (2, 3, 7), "same-channels-first"),
    Row("DepthwiseConv2D", dict(kernel_size=3, depth_multiplier=2, padding="same", dilation_rate=2), (2, 5, 4, 3),
        "same-dilated"),
    Row("DepthwiseConv2D", dict(kernel_size=(2, 3), strides=2, dilation_rate=1, use_bias=False,
                                data_format="channels_first"), (2, 2, 5, 6), "strided-channels-first"),
    Row("SeparableConv1D", dict(filters=4, kernel_size=3, depth_multiplier=2), (2, 7, 3), "valid"),
    Row("SeparableConv1D", dict(filters=3, kernel_size=3, padding="same", dilation_rate=2,
                                data_format="channels_first"), (2, 2, 7), "dilated-channels-first"),
    Row("SeparableConv2D", dict(filters=4, kernel_size=3, strides=2, padding="same", activation="relu"),
        (2, 5, 6, 3), "same-strided"),
    Row("SeparableConv2D", dict(filters=2, kernel_size=2, depth_multiplier=3, data_format="channels_first"),
        (1, 2, 4, 4), "channels-first"),
]


@pytest.mark.parametrize("row", table(ROWS))
def test_convolution_matches_keras(row):
    run_contract(row)


def test_conv2d_config_keeps_keras_key_order():
    import keras
    import kerasish

    config = kerasish.layers.Conv2D(4, 3, groups=2).get_config()
    assert list(config) == list(keras.layers.Conv2D(4, 3, groups=2).get_config())
