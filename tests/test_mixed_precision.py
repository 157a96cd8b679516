"""Mixed precision: low-precision compute, float32 weights, float32 softmax and loss; float16 loss scaling."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import kerasish as keras
from kerasish import layers, mixed_precision


@pytest.fixture
def policy():
    def use(name):
        mixed_precision.set_global_policy(name)
    yield use
    mixed_precision.set_global_policy("float32")


def _blobs(n=256):
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, n)
    return rng.normal(size=(n, 4)).astype("float32") + np.where(y[:, None] == 1, 1.0, -1.0), y


@pytest.mark.parametrize("name,compute", [("mixed_bfloat16", jnp.bfloat16), ("mixed_float16", jnp.float16)])
def test_mixed_policy_computes_low_keeps_float32_weights_and_float32_softmax(policy, name, compute):
    policy(name)
    model = keras.Sequential([keras.Input((4,)), layers.Dense(16, activation="relu"), layers.Dense(2, activation="softmax")])
    assert model.layers[0].compute_dtype == jnp.dtype(compute).name and model.layers[0].dtype == "float32"
    assert all(w.dtype == "float32" for w in model.weights)
    hidden = model.layers[0](np.ones((2, 4), "float32"))
    assert hidden.dtype == compute
    assert model(np.ones((2, 4), "float32")).dtype == jnp.float32  # softmax in float32
    x, y = _blobs()
    model.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=5, batch_size=32, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    assert history.history["accuracy"][-1] > 0.9
    assert all(w.dtype == np.float32 for w in model.get_weights())
    assert model.layers[0].get_config()["dtype"]["config"]["name"] == name  # a DTypePolicy entry, as Keras writes it


def test_float16_training_uses_a_dynamic_loss_scale(policy):
    policy("mixed_float16")
    model = keras.Sequential([keras.Input((4,)), layers.Dense(2, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy")
    x, y = _blobs(32)
    model.fit(x, y, epochs=1, batch_size=32, verbose=0)
    assert isinstance(model.optimizer.state, mixed_precision.LossScaleState)
    assert float(model.optimizer.state.scale) == 2.0 ** 15


def test_dynamic_loss_scale_skips_non_finite_steps_and_adapts():
    tx = mixed_precision.dynamic_loss_scale(optax.sgd(1.0), initial_scale=8.0, period=2)
    params = {"w": jnp.ones(3)}
    state = tx.init(params)
    updates, state = tx.update({"w": jnp.array([1.0, jnp.inf, 0.0])}, state, params)
    np.testing.assert_array_equal(updates["w"], 0.0)
    assert float(state.scale) == 4.0
    for _ in range(2):
        updates, state = tx.update({"w": jnp.ones(3)}, state, params)
    np.testing.assert_array_equal(updates["w"], -1.0)
    assert float(state.scale) == 8.0  # grown after `period` finite steps


def test_unknown_policy_is_a_value_error():
    with pytest.raises(ValueError, match="mixed_bfloat16"):
        mixed_precision.set_global_policy("mixed_int8")
    assert jax.numpy.dtype(mixed_precision.global_policy().compute_dtype) == jnp.float32
