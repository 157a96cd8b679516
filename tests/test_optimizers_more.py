"""Adafactor, Ftrl, Lamb and LossScaleOptimizer against Keras 3 itself: the same parameters and
gradients, a few updates, the same weights to 1e-4; configs both ways; Keras's errors."""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

keras = pytest.importorskip("keras")

import kerasish  # noqa: E402
from kerasish import optimizers  # noqa: E402

SHAPES = {"kernel": (3, 4), "conv": (3, 2, 1, 5), "bias": (4,)}
KEYS = tuple(SHAPES)


def _problem(steps=4, seed=0, scale=1.0):
    rng = np.random.default_rng(seed)
    params = {k: rng.normal(size=s).astype(np.float32) for k, s in SHAPES.items()}
    grads = [{k: (scale * rng.normal(scale=0.5, size=s)).astype(np.float32) for k, s in SHAPES.items()}
             for _ in range(steps)]
    return params, grads


def _run_keras(opt, params, grads):
    variables = [keras.Variable(params[k], name=k) for k in KEYS]
    for g in grads:
        opt.apply([jnp.asarray(g[k]) for k in KEYS], variables)
    return [np.asarray(v.numpy()) for v in variables]


def _run_kerasish(opt, params, grads):
    variables = [kerasish.Variable(params[k], name=k) for k in KEYS]
    for g in grads:
        opt.apply([jnp.asarray(g[k]) for k in KEYS], variables)
    return [np.asarray(v.numpy()) for v in variables]


CASES = [
    ("Lamb", {}),
    ("Lamb", {"learning_rate": 0.05, "beta_1": 0.8, "epsilon": 1e-5, "weight_decay": 0.1}),
    ("Lamb", {"learning_rate": 0.05, "clipnorm": 0.3}),
    ("Adafactor", {}),
    ("Adafactor", {"learning_rate": 0.5, "clip_threshold": 0.5, "epsilon_2": 0.1, "beta_2_decay": -0.5}),
    ("Adafactor", {"learning_rate": 0.2, "weight_decay": 0.05}),
    ("Ftrl", {}),
    ("Ftrl", {"learning_rate": 0.1, "learning_rate_power": -0.3, "initial_accumulator_value": 0.5,
              "l1_regularization_strength": 0.01, "l2_regularization_strength": 0.02,
              "l2_shrinkage_regularization_strength": 0.03, "beta": 0.5}),
    ("Ftrl", {"learning_rate": 0.1, "weight_decay": 0.1}),
]


@pytest.mark.parametrize("name,kwargs", CASES)
def test_matches_keras(name, kwargs):
    params, grads = _problem()
    expected = _run_keras(getattr(keras.optimizers, name)(**kwargs), params, grads)
    got = _run_kerasish(getattr(optimizers, name)(**kwargs), params, grads)
    for k, e, g in zip(KEYS, expected, got):
        np.testing.assert_allclose(g, e, rtol=1e-4, atol=1e-4, err_msg=f"{name} {kwargs} {k}")


def _same_config(ours, theirs):
    """Equal configs, but for Keras's auto-numbered names and its float32 learning rate."""
    assert set(ours) == set(theirs)
    for key in ours:
        if key == "learning_rate":
            assert ours[key] == pytest.approx(theirs[key], rel=1e-6)
        elif key != "name":
            assert ours[key] == theirs[key], key


@pytest.mark.parametrize("name,kwargs", CASES)
def test_config_round_trip(name, kwargs):
    ours = getattr(optimizers, name)(**kwargs)
    theirs = getattr(keras.optimizers, name)(**kwargs)
    _same_config(ours.get_config(), theirs.get_config())
    again = optimizers.deserialize(optimizers.serialize(ours))
    assert type(again) is type(ours) and again.get_config() == ours.get_config()
    assert type(optimizers.get(name.lower())) is type(ours)


def test_lamb_exclude_from_weight_decay():
    params, grads = _problem()
    theirs = keras.optimizers.Lamb(learning_rate=0.05, weight_decay=0.2)
    theirs.exclude_from_weight_decay(var_names=["bias"])
    ours = optimizers.Lamb(learning_rate=0.05, weight_decay=0.2)
    ours.exclude_from_weight_decay(var_names=["bias"])
    for e, g in zip(_run_keras(theirs, params, grads), _run_kerasish(ours, params, grads)):
        np.testing.assert_allclose(g, e, rtol=1e-4, atol=1e-4)


def test_ftrl_errors():
    with pytest.raises(ValueError, match="learning_rate_power"):
        optimizers.Ftrl(learning_rate_power=0.5)
    with pytest.raises(ValueError, match="l1_regularization_strength"):
        optimizers.Ftrl(l1_regularization_strength=-1.0)


# -------------------------------------------------------------------------- LossScaleOptimizer
def test_loss_scale_optimizer_matches_keras():
    """Gradients of the scaled loss, one of them not finite, growth every 2 finite steps."""
    params, grads = _problem(steps=6, scale=2.0 ** 10)
    grads[2]["bias"][1] = np.inf
    theirs = keras.optimizers.LossScaleOptimizer(keras.optimizers.Adam(0.01), initial_scale=2.0 ** 10,
                                                 dynamic_growth_steps=2)
    ours = optimizers.LossScaleOptimizer(optimizers.Adam(0.01), initial_scale=2.0 ** 10, dynamic_growth_steps=2)
    # (Keras's stateful `apply` leaks a tracer on JAX: run its `stateless_apply`, then assign)
    variables = [keras.Variable(params[k], name=k) for k in KEYS]
    theirs.build(variables)
    values, slots = [v.value for v in variables], [v.value for v in theirs.variables]
    for g in grads:
        values, slots = theirs.stateless_apply(slots, [jnp.asarray(g[k]) for k in KEYS], values)
    for v, value in zip(theirs.variables, slots):
        v.assign(value)
    for e, g in zip(values, _run_kerasish(ours, params, grads)):
        np.testing.assert_allclose(g, np.asarray(e), rtol=1e-4, atol=1e-5)
    assert ours.dynamic_scale == float(theirs.dynamic_scale.numpy())
    assert ours.step_counter == int(theirs.step_counter.numpy())
    assert ours.iterations == int(theirs.iterations.numpy())
    assert float(ours.scale_loss(2.0)) == float(theirs.scale_loss(2.0))
    assert ours.learning_rate == pytest.approx(float(theirs.learning_rate))


def test_loss_scale_optimizer_config_and_errors():
    ours = optimizers.LossScaleOptimizer(optimizers.SGD(0.1), initial_scale=128.0, dynamic_growth_steps=10)
    theirs = keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(0.1), initial_scale=128.0,
                                                 dynamic_growth_steps=10)
    config = ours.get_config()
    assert set(config) == set(theirs.get_config())
    _same_config(config["inner_optimizer"]["config"], theirs.get_config()["inner_optimizer"]["config"])
    again = optimizers.deserialize(optimizers.serialize(ours))
    assert isinstance(again, optimizers.LossScaleOptimizer) and again.get_config() == config
    assert kerasish.mixed_precision.LossScaleOptimizer is optimizers.LossScaleOptimizer
    with pytest.raises(ValueError, match="dynamic=False"):
        optimizers.LossScaleOptimizer(optimizers.SGD(), dynamic=False)
    with pytest.raises(ValueError, match="does not support `clipnorm`"):
        optimizers.LossScaleOptimizer(optimizers.SGD(), clipnorm=1.0)


def test_loss_scale_optimizer_fit_equals_inner_optimizer():
    """fit scales the loss by the state's scale and unscales the gradients: the same weights as the
    inner optimizer alone (no overflow here)."""
    rng = np.random.default_rng(0)
    x, y = rng.random((16, 3), np.float32), rng.random((16, 1), np.float32)
    weights = []
    for opt in (optimizers.SGD(0.1), optimizers.LossScaleOptimizer(optimizers.SGD(0.1), initial_scale=8.0,
                                                                  dynamic_growth_steps=2)):
        kerasish.utils.set_random_seed(0)
        model = kerasish.Sequential([kerasish.Input((3,)), kerasish.layers.Dense(1)])
        model.compile(opt, "mse")
        model.fit(x, y, batch_size=4, epochs=1, verbose=0, shuffle=False)
        weights.append(model.get_weights())
    for a, b in zip(*weights):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_loss_scale_optimizer_saved_with_the_model(tmp_path):
    rng = np.random.default_rng(0)
    x, y = rng.random((16, 3), np.float32), rng.random((16, 1), np.float32)
    model = kerasish.Sequential([kerasish.Input((3,)), kerasish.layers.Dense(1)])
    model.compile(optimizers.LossScaleOptimizer(optimizers.Adam(0.01), initial_scale=64.0), "mse")
    model.fit(x, y, epochs=1, verbose=0)
    assert isinstance(model.optimizer, kerasish.Optimizer) and isinstance(keras.optimizers.LossScaleOptimizer(
        keras.optimizers.Adam()), keras.Optimizer)
    path = str(tmp_path / "lso.keras")
    model.save(path)
    import json
    import zipfile
    with zipfile.ZipFile(path) as archive:  # the compile config holds Keras's LossScaleOptimizer entry
        entry = json.loads(archive.read("config.json"))["compile_config"]["optimizer"]
    assert entry["class_name"] == "LossScaleOptimizer" and entry["config"]["initial_scale"] == 64.0
    theirs = keras.optimizers.deserialize(entry)  # Keras reads it
    assert isinstance(theirs, keras.optimizers.LossScaleOptimizer) and theirs.initial_scale == 64.0
    # (kerasish's loader compiles with the inner optimizer, as for Keras's float16 files)
    again = kerasish.models.load_model(path)
    assert type(again.optimizer) is optimizers.Adam
    again.fit(x, y, epochs=1, verbose=0)
