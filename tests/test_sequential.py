"""Sequential's structure API: add/pop/build/summary/weights/config/flax_module, and its errors."""

import io
import contextlib

import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

import kerasish as keras
from kerasish import layers


def _cnn():
    model = keras.Sequential()
    model.add(keras.Input(shape=(28, 28, 1)))
    model.add(layers.Conv2D(32, (3, 3), activation="relu"))
    model.add(layers.MaxPooling2D((2, 2)))
    model.add(layers.Flatten())
    model.add(layers.Dropout(0.5))
    model.add(layers.Dense(10, activation="softmax"))
    return model


def test_summary_lists_layers_shapes_and_counts_like_keras():
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        _cnn().summary()
    text = out.getvalue()
    assert 'Model: "sequential"' in text
    assert "conv2d (Conv2D)" in text and "(None, 26, 26, 32)" in text
    assert "max_pooling2d (MaxPooling2D)" in text and "(None, 13, 13, 32)" in text
    assert "(None, 5408)" in text and "54,090" in text
    assert "Total params: 54,410 (212.54 KB)" in text
    assert "Non-trainable params: 0 (0.00 B)" in text


def test_names_are_unique_like_keras():
    a, b = layers.Dense(1), layers.Dense(1)
    assert (a.name, b.name) == ("dense", "dense_1")
    keras.clear_session()
    assert layers.Dense(1).name == "dense"


def test_add_pop_layers_and_build():
    model = keras.Sequential([layers.Dense(4), layers.Dense(2)])
    assert not model.built
    model.build((None, 3))
    assert model.built and model.output_shape == (None, 2)
    assert [w.shape for w in model.get_weights()] == [(3, 4), (4,), (4, 2), (2,)]
    popped = model.pop()
    assert isinstance(popped, layers.Dense) and len(model.layers) == 1
    assert model.output_shape == (None, 4)
    model.add(layers.Dense(7))
    assert model.output_shape == (None, 7)


def test_input_shape_keyword_on_first_layer():
    model = keras.Sequential([layers.Dense(3, input_shape=(5,))])
    assert model.built and model.input_shape == (None, 5)


def test_calling_a_model_on_an_array():
    model = keras.Sequential([keras.Input((4,)), layers.Dense(3)])
    x = np.ones((2, 4), "float32")
    kernel, bias = model.get_weights()
    np.testing.assert_allclose(model(x), x @ kernel + bias, rtol=1e-6)


def test_get_set_weights_round_trip_and_errors():
    model = _cnn()
    weights = [np.random.default_rng(0).normal(size=w.shape).astype("float32") for w in model.get_weights()]
    model.set_weights(weights)
    for a, b in zip(model.get_weights(), weights):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="weight list of length 1"):
        model.set_weights(weights[:1])
    bad = list(weights)
    bad[0] = np.zeros((2, 2))
    with pytest.raises(ValueError, match="shape"):
        model.set_weights(bad)
    for a, b in zip(model.get_weights(), weights):  # unchanged
        np.testing.assert_array_equal(a, b)


def test_config_round_trip_rebuilds_an_equal_model():
    model = _cnn()
    config = model.get_config()
    clone = keras.Sequential.from_config(config)
    assert clone.get_config() == config
    assert [w.shape for w in clone.get_weights()] == [w.shape for w in model.get_weights()]
    clone.set_weights(model.get_weights())
    x = np.random.default_rng(1).normal(size=(3, 28, 28, 1)).astype("float32")
    np.testing.assert_allclose(clone.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)


def test_flax_module_is_an_nnx_module_a_flax_user_can_call_and_train():
    model = _cnn()
    module = model.flax_module
    assert isinstance(module, nnx.Module)
    x = jnp.ones((2, 28, 28, 1))
    np.testing.assert_allclose(module(x), model.predict(np.ones((2, 28, 28, 1), "float32"), verbose=0), rtol=1e-5)
    optimizer = nnx.Optimizer(module, __import__("optax").sgd(0.1), wrt=nnx.Param)
    before = model.get_weights()[-1].copy()

    def loss(m):
        return jnp.mean(m(x) ** 2)
    grads = nnx.grad(loss)(module)
    optimizer.update(module, grads)
    assert not np.allclose(model.get_weights()[-1], before)  # the model sees the Flax update


def test_count_params_and_weights_lists():
    model = keras.Sequential([keras.Input((3,)), layers.Dense(2), layers.BatchNormalization()])
    assert model.count_params() == 3 * 2 + 2 + 4 * 2
    assert len(model.trainable_weights) == 4 and len(model.non_trainable_weights) == 2
    model.layers[0].trainable = False
    assert len(model.trainable_weights) == 2


@pytest.mark.parametrize("call,error,match", [
    (lambda: keras.Sequential().add("dense"), ValueError, "Only instances of `keras.Layer`"),
    (lambda: keras.Sequential([layers.Dense(1)]).count_params(), ValueError, "isn.t built"),
    (lambda: keras.Sequential().pop(), TypeError, "no layers"),
    (lambda: keras.Sequential([layers.Dense(1, name="a"), layers.Dense(1, name="a")]), ValueError, "unique"),
    (lambda: keras.Sequential([keras.Input((3,)), keras.Input((3,))]), ValueError, "InputLayer"),
    (lambda: keras.Sequential([keras.Input((3, 3)), layers.Conv2D(2, 2)]), ValueError, "expected ndim=4"),
])
def test_structure_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_adding_a_layer_after_compile_keeps_the_compile_config():
    model = keras.Sequential([keras.Input((3,)), layers.Dense(4)])
    model.compile("sgd", "mse")
    model.fit(np.ones((8, 3), "float32"), np.zeros((8, 4), "float32"), verbose=0)
    model.add(layers.Dense(2))
    history = model.fit(np.ones((8, 3), "float32"), np.zeros((8, 2), "float32"), verbose=0)
    assert len(history.history["loss"]) == 1 and model.output_shape == (None, 2)


def test_get_layer_by_name_and_index_on_sequential():
    model = keras.Sequential([keras.Input((4,)), layers.Dense(3, name="hidden"), layers.Dense(2, name="out")])
    assert model.get_layer(name="hidden") is model.layers[0]
    assert model.get_layer(index=1).name == "out"
    assert model.get_layer(name="hidden").output.shape == (None, 3)
    with pytest.raises(ValueError, match="No such layer: nope"):
        model.get_layer("nope")
