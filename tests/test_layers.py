"""Layers: outputs against NumPy references, gradients against finite differences, config round trips."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

import kerasish as keras
from kerasish import layers

RNG = np.random.default_rng(0)


def _numpy_conv(x, k, stride, padding):
    kh, kw = k.shape[:2]
    if padding == "same":
        oh, ow = -(-x.shape[1] // stride), -(-x.shape[2] // stride)
        ph = max((oh - 1) * stride + kh - x.shape[1], 0)
        pw = max((ow - 1) * stride + kw - x.shape[2], 0)
        x = np.pad(x, ((0, 0), (ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2), (0, 0)))
    oh, ow = (x.shape[1] - kh) // stride + 1, (x.shape[2] - kw) // stride + 1
    out = np.zeros((x.shape[0], oh, ow, k.shape[3]))
    for i in range(oh):
        for j in range(ow):
            patch = x[:, i * stride:i * stride + kh, j * stride:j * stride + kw, :]
            out[:, i, j] = np.einsum("bhwc,hwcf->bf", patch, k)
    return out


def test_dense_matches_numpy():
    layer = layers.Dense(4, activation="relu")
    x = RNG.normal(size=(3, 5)).astype("float32")
    y = np.asarray(layer(x))
    kernel, bias = layer.get_weights()
    np.testing.assert_allclose(y, np.maximum(x @ kernel + bias, 0), rtol=1e-5, atol=1e-6)
    assert kernel.shape == (5, 4) and bias.shape == (4,)


@pytest.mark.parametrize("padding,stride", [("valid", 1), ("same", 1), ("same", 2), ("valid", 2)])
def test_conv2d_matches_numpy(padding, stride):
    layer = layers.Conv2D(3, (3, 2), strides=stride, padding=padding)
    x = RNG.normal(size=(2, 7, 6, 2)).astype("float32")
    y = np.asarray(layer(x))
    kernel, bias = layer.get_weights()
    assert kernel.shape == (3, 2, 2, 3)
    np.testing.assert_allclose(y, _numpy_conv(x, kernel, stride, padding) + bias, rtol=1e-4, atol=1e-5)
    assert y.shape[1:] == layer.compute_output_shape(x.shape)[1:]


def test_pooling_matches_numpy():
    x = RNG.normal(size=(2, 6, 4, 3)).astype("float32")
    windows = x.reshape(2, 3, 2, 2, 2, 3)
    np.testing.assert_allclose(layers.MaxPooling2D()(x), windows.max(axis=(2, 4)), rtol=1e-6)
    np.testing.assert_allclose(layers.AveragePooling2D()(x), windows.mean(axis=(2, 4)), rtol=1e-5)
    np.testing.assert_allclose(layers.GlobalAveragePooling2D()(x), x.mean(axis=(1, 2)), rtol=1e-5)
    np.testing.assert_allclose(layers.GlobalMaxPooling2D()(x), x.max(axis=(1, 2)), rtol=1e-6)


def test_maxout_is_the_max_of_linear_pieces():
    layer = layers.Maxout(3, pieces=4)
    x = RNG.normal(size=(5, 6)).astype("float32")
    y = layer(x)
    kernel, bias = layer.get_weights()
    assert kernel.shape == (6, 12)
    z = (x @ kernel + bias).reshape(5, 3, 4)
    np.testing.assert_allclose(y, z.max(-1), rtol=1e-5, atol=1e-6)


def test_flatten_reshape_activation():
    x = RNG.normal(size=(2, 3, 4)).astype("float32")
    np.testing.assert_allclose(layers.Flatten()(x), x.reshape(2, 12))
    np.testing.assert_allclose(layers.Reshape((4, 3))(x), x.reshape(2, 4, 3))
    np.testing.assert_allclose(layers.Reshape((-1, 2))(x), x.reshape(2, 6, 2))
    np.testing.assert_allclose(layers.Activation("tanh")(x), np.tanh(x), rtol=1e-6)


def test_rescaling_layernorm_embedding():
    x = RNG.integers(0, 256, size=(3, 4)).astype("uint8")
    np.testing.assert_allclose(layers.Rescaling(1 / 255, offset=-0.5)(x), x / 255 - 0.5, rtol=1e-6, atol=1e-7)
    z = RNG.normal(2.0, 3.0, size=(5, 6)).astype("float32")
    expected = (z - z.mean(-1, keepdims=True)) / np.sqrt(z.var(-1, keepdims=True) + 1e-3)
    np.testing.assert_allclose(layers.LayerNormalization()(z), expected, rtol=1e-4, atol=1e-5)
    embedding = layers.Embedding(7, 2)
    ids = np.array([[0, 6, 3]])
    out = np.asarray(embedding(ids))
    table = embedding.get_weights()[0]
    assert table.shape == (7, 2) and out.shape == (1, 3, 2)
    np.testing.assert_array_equal(out[0], table[[0, 6, 3]])


def test_dropout_is_identity_at_inference_and_scales_in_training():
    layer = layers.Dropout(0.5, seed=1)
    x = np.ones((200, 50), "float32")
    np.testing.assert_array_equal(layer(x), x)
    y = np.asarray(layer(x, training=True))
    assert set(np.unique(y)) <= {0.0, 2.0}
    assert 0.4 < (y == 0).mean() < 0.6


def test_batchnorm_normalizes_in_training_and_uses_moving_stats_at_inference():
    layer = layers.BatchNormalization()
    x = RNG.normal(3.0, 2.0, size=(64, 4)).astype("float32")
    y = np.asarray(layer(x, training=True))
    np.testing.assert_allclose(y.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(y.std(0), 1, atol=1e-3)
    gamma, beta, mean, var = layer.get_weights()
    np.testing.assert_allclose(mean, 0.01 * x.mean(0), rtol=1e-4)
    np.testing.assert_allclose(layer(x), (x - mean) / np.sqrt(var + 1e-3) * gamma + beta, rtol=1e-4, atol=1e-5)


def _finite_difference_check(make, shape):
    """Gradient of sum(layer(x) * w) wrt every parameter and the input, against central differences,
    with the layer built and run in float64."""
    with jax.enable_x64(True):
        layer = make(dtype="float64")
        x = RNG.normal(size=shape)
        probe = jnp.asarray(RNG.normal(size=np.asarray(layer(x)).shape))
        graphdef, params, rest = nnx.split(layer, nnx.Param, ...)

        def f(params, x):
            return jnp.sum(nnx.merge(graphdef, params, rest, copy=True)(x) * probe)

        x64 = jnp.asarray(x, jnp.float64)
        grads, gx = jax.grad(f, argnums=(0, 1))(params, x64)
        leaves, treedef = jax.tree.flatten(params)
        for i, (leaf, g) in enumerate(zip(leaves, jax.tree.leaves(grads))):
            assert leaf.dtype == jnp.float64
            flat = np.asarray(leaf).ravel()
            for j in RNG.choice(flat.size, size=min(4, flat.size), replace=False):
                def at(delta):
                    bumped = flat.copy()
                    bumped[j] += delta
                    new = list(leaves)
                    new[i] = jnp.asarray(bumped.reshape(leaf.shape))
                    return float(f(jax.tree.unflatten(treedef, new), x64))
                numeric = (at(1e-6) - at(-1e-6)) / 2e-6
                assert abs(numeric - float(np.asarray(g).ravel()[j])) < 1e-5 * max(1.0, abs(numeric))
        flat = np.asarray(x64).ravel()
        for j in RNG.choice(flat.size, size=4, replace=False):
            bump = np.zeros_like(flat)
            bump[j] = 1e-6
            numeric = (float(f(params, x64 + bump.reshape(shape))) -
                       float(f(params, x64 - bump.reshape(shape)))) / 2e-6
            assert abs(numeric - float(np.asarray(gx).ravel()[j])) < 1e-5 * max(1.0, abs(numeric))


@pytest.mark.parametrize("make,shape", [
    (lambda **kw: layers.Dense(3, activation="sigmoid", **kw), (4, 5)),
    (lambda **kw: layers.Maxout(2, pieces=3, **kw), (4, 5)),
    (lambda **kw: layers.Conv2D(2, 3, padding="same", activation="tanh", **kw), (2, 5, 5, 2)),
    (lambda **kw: layers.Conv2D(2, 2, strides=2, **kw), (2, 6, 6, 1)),
    (lambda **kw: layers.MaxPooling2D(2, **kw), (2, 4, 4, 2)),
    (lambda **kw: layers.AveragePooling2D(3, strides=1, padding="same", **kw), (2, 4, 4, 2)),
    (lambda **kw: layers.GlobalAveragePooling2D(**kw), (2, 3, 3, 2)),
    (lambda **kw: layers.Flatten(**kw), (2, 3, 2)),
    (lambda **kw: layers.BatchNormalization(**kw), (6, 3)),
])
def test_gradients_match_finite_differences(make, shape):
    _finite_difference_check(make, shape)


ALL_LAYERS = [
    lambda: layers.Dense(3, activation="relu", use_bias=False, kernel_regularizer=keras.regularizers.L2(0.1)),
    lambda: layers.Conv2D(4, (3, 2), strides=2, padding="same", activation="elu"),
    lambda: layers.MaxPooling2D((3, 3), strides=2, padding="same"),
    lambda: layers.AveragePooling2D(),
    lambda: layers.GlobalAveragePooling2D(keepdims=True),
    lambda: layers.GlobalMaxPooling2D(),
    lambda: layers.BatchNormalization(momentum=0.9, epsilon=1e-4),
    lambda: layers.Dropout(0.3, seed=3),
    lambda: layers.Flatten(),
    lambda: layers.Reshape((2, -1)),
    lambda: layers.Activation("softmax"),
    lambda: layers.Maxout(5, pieces=3),
    lambda: layers.Rescaling(1 / 255, offset=-1.0),
    lambda: layers.LayerNormalization(epsilon=1e-5),
    lambda: layers.Embedding(10, 3),
]


@pytest.mark.parametrize("make", ALL_LAYERS)
def test_get_config_round_trips(make):
    layer = make()
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    again = layers.deserialize(layers.serialize(layer))
    assert again.get_config() == config


@pytest.mark.parametrize("call,error,match", [
    (lambda: layers.Dense(0), ValueError, "expected a positive integer. Received: units=0"),
    (lambda: layers.Dense(-3), ValueError, "units=-3"),
    (lambda: layers.Dense(2.5), ValueError, "units=2.5"),
    (lambda: layers.Dense(3, foo=1), ValueError, "Unrecognized keyword arguments passed to Dense"),
    (lambda: layers.Dense(3, activation="nope"), ValueError, "nope"),
    (lambda: layers.Conv2D(0, 3), ValueError, "filters"),
    (lambda: layers.Conv2D(8, (3, 3, 3)), ValueError, "kernel_size"),
    (lambda: layers.Conv2D(8, 3, padding="full"), ValueError, "padding"),
    (lambda: layers.Dropout(1.5), ValueError, "rate=1.5"),
    (lambda: layers.MaxPooling2D(0), ValueError, "pool_size"),
    (lambda: layers.Reshape((0, 2)), ValueError, "target_shape"),
    (lambda: layers.Maxout(4, pieces=0), ValueError, "pieces"),
    (lambda: layers.FlaxLayer("not a module"), TypeError, "nnx.Module"),
])
def test_bad_arguments_raise_keras_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_set_weights_with_wrong_shapes_changes_nothing():
    layer = layers.Dense(2)
    layer(np.ones((1, 3), "float32"))
    before = layer.get_weights()
    with pytest.raises(ValueError, match="is not compatible with provided weight shape"):
        layer.set_weights([np.ones((3, 2)), np.ones(5)])
    for a, b in zip(layer.get_weights(), before):
        np.testing.assert_array_equal(a, b)


def test_flax_layer_trains_inside_a_sequential():
    block = nnx.Sequential(nnx.Linear(2, 16, rngs=nnx.Rngs(0)), nnx.relu, nnx.Linear(16, 1, rngs=nnx.Rngs(1)))
    model = keras.Sequential([keras.Input((2,)), layers.FlaxLayer(block), layers.Activation("sigmoid")])
    x = RNG.normal(size=(256, 2)).astype("float32")
    y = (x[:, 0] * x[:, 1] > 0).astype("float32")[:, None]
    model.compile(keras.optimizers.Adam(0.05), "binary_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=60, batch_size=64, verbose=0)
    assert model.evaluate(x, y, verbose=0)[1] > 0.9
    assert len(model.get_weights()) == 4
