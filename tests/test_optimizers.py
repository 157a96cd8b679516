"""kerasish.optimizers against Keras 3 itself: same parameters, gradients and hyper-parameters,
five updates, equal to float32 precision; plus learning-rate injection, configs and errors."""

import os
import re

os.environ.setdefault("KERAS_BACKEND", "jax")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402
import pytest  # noqa: E402

keras = pytest.importorskip("keras")

from kerasish import optimizers  # noqa: E402
from kerasish.optimizers import schedules  # noqa: E402

KEYS = ("kernel", "bias")
SHAPES = {"kernel": (3, 4), "bias": (4,)}


def _problem(steps=5, seed=0):
    rng = np.random.default_rng(seed)
    params = {k: rng.normal(size=s).astype(np.float32) for k, s in SHAPES.items()}
    grads = [{k: rng.normal(scale=0.5, size=s).astype(np.float32) for k, s in SHAPES.items()}
             for _ in range(steps)]
    return params, grads


def _keras_run(name, kwargs, params, grads, exclude=None):
    opt = getattr(keras.optimizers, name)(**kwargs)
    variables = [keras.Variable(params[k], name=k) for k in KEYS]
    if exclude:
        opt.exclude_from_weight_decay(var_names=exclude)
    for g in grads:
        opt.apply_gradients(zip([jnp.asarray(g[k]) for k in KEYS], variables))
    return {k: np.asarray(v.numpy()) for k, v in zip(KEYS, variables)}, opt


def _kerasish_run(opt, params, grads):
    tx = opt.make_transform()
    state = tx.init(params)

    @jax.jit
    def step(state, params, grads):
        updates, state = tx.update(grads, state, params)
        return optax.apply_updates(params, updates), state

    for g in grads:
        params, state = step(state, params, g)
    opt.state = state
    return {k: np.asarray(v) for k, v in params.items()}


def _exp_decay(lib):
    return lib.ExponentialDecay(0.1, decay_steps=2, decay_rate=0.5)


CASES = [
    ("SGD", dict(learning_rate=0.1)),
    ("SGD", dict(learning_rate=0.1, momentum=0.9)),
    ("SGD", dict(learning_rate=0.1, momentum=0.9, nesterov=True)),
    ("SGD", dict(learning_rate=0.1, momentum=0.5, weight_decay=0.1)),
    ("SGD", dict(learning_rate=0.1, clipnorm=0.5)),
    ("SGD", dict(learning_rate=0.1, clipvalue=0.2)),
    ("SGD", dict(learning_rate=0.1, global_clipnorm=0.5)),
    ("SGD", dict(learning_rate="schedule", momentum=0.9)),
    ("Adagrad", dict(learning_rate=0.1)),
    ("Adagrad", dict(learning_rate=0.1, initial_accumulator_value=0.5, epsilon=1e-3)),
    ("RMSprop", dict(learning_rate=0.01)),
    ("RMSprop", dict(learning_rate=0.01, rho=0.8, momentum=0.5)),
    ("RMSprop", dict(learning_rate=0.01, centered=True, momentum=0.3)),
    ("Adam", dict(learning_rate=0.01)),
    ("Adam", dict(learning_rate=0.01, beta_1=0.8, beta_2=0.99, epsilon=1e-3)),
    ("Adam", dict(learning_rate=0.01, amsgrad=True)),
    ("Adam", dict(learning_rate="schedule", weight_decay=0.1, clipnorm=1.0)),
    ("Adam", dict(learning_rate=0.01, loss_scale_factor=4.0)),
    ("Adam", dict(learning_rate="schedule", gradient_accumulation_steps=2)),
    ("AdamW", dict(learning_rate=0.01)),
    ("AdamW", dict(learning_rate=0.01, weight_decay=0.1, amsgrad=True)),
    ("Adamax", dict(learning_rate=0.01)),
    ("Adamax", dict(learning_rate=0.01, beta_1=0.8, epsilon=1e-3)),
    ("Nadam", dict(learning_rate=0.01)),
    ("Nadam", dict(learning_rate="schedule", beta_2=0.99)),
    ("Adadelta", dict(learning_rate=1.0)),
    ("Adadelta", dict(learning_rate=1.0, rho=0.8, epsilon=1e-3)),
    ("Lion", dict(learning_rate=0.01)),
    ("Lion", dict(learning_rate=0.01, beta_1=0.5, weight_decay=0.1)),
]


@pytest.mark.parametrize("name,kwargs", CASES, ids=lambda v: str(v))
def test_matches_keras(name, kwargs):
    steps = 6 if kwargs.get("gradient_accumulation_steps") else 5
    params, grads = _problem(steps)
    ours_kwargs, keras_kwargs = dict(kwargs), dict(kwargs)
    if kwargs["learning_rate"] == "schedule":
        ours_kwargs["learning_rate"] = _exp_decay(schedules)
        keras_kwargs["learning_rate"] = _exp_decay(keras.optimizers.schedules)
    expected, keras_opt = _keras_run(name, keras_kwargs, params, grads)
    opt = getattr(optimizers, name)(**ours_kwargs)
    got = _kerasish_run(opt, params, grads)
    for k in KEYS:
        np.testing.assert_allclose(got[k], expected[k], rtol=1e-6, atol=1e-7, err_msg=k)
    assert opt.iterations == int(np.asarray(keras_opt.iterations))
    np.testing.assert_allclose(opt.learning_rate, float(keras_opt.learning_rate), rtol=1e-6)


def test_momentum_is_sgd_with_momentum_09():
    params, grads = _problem()
    expected, _ = _keras_run("SGD", dict(learning_rate=0.1, momentum=0.9), params, grads)
    got = _kerasish_run(optimizers.Momentum(learning_rate=0.1), params, grads)
    np.testing.assert_allclose(got["kernel"], expected["kernel"], rtol=1e-6)


def test_exclude_from_weight_decay_matches_keras():
    params, grads = _problem()
    expected, _ = _keras_run("AdamW", dict(learning_rate=0.01, weight_decay=0.5), params, grads,
                             exclude=["bias"])
    opt = optimizers.AdamW(learning_rate=0.01, weight_decay=0.5)
    opt.exclude_from_weight_decay(var_names=["bias"])
    got = _kerasish_run(opt, params, grads)
    for k in KEYS:
        np.testing.assert_allclose(got[k], expected[k], rtol=1e-6, atol=1e-7)


def test_set_learning_rate_changes_update_without_retracing():
    params, grads = _problem(1)
    opt = optimizers.SGD(learning_rate=0.1, momentum=0.0)
    tx = opt.make_transform()
    traces = []

    @jax.jit
    def step(state, params, grads):
        traces.append(1)
        updates, state = tx.update(grads, state, params)
        return updates, state

    state = tx.init(params)
    upd1, _ = step(state, params, grads[0])
    state2 = optimizers.set_learning_rate(state, 0.3)
    upd2, new_state = step(state2, params, grads[0])
    assert len(traces) == 1
    np.testing.assert_allclose(upd2["kernel"], 3 * upd1["kernel"], rtol=1e-6)
    assert float(optimizers.get_learning_rate(new_state)) == pytest.approx(0.3)
    # The shell's setter writes into the state the same way.
    opt.state = state
    opt.learning_rate = 0.05
    upd3, _ = step(opt.state, params, grads[0])
    assert len(traces) == 1
    np.testing.assert_allclose(upd3["kernel"], 0.5 * upd1["kernel"], rtol=1e-6)
    assert opt.learning_rate == pytest.approx(0.05)
    assert opt.get_config()["learning_rate"] == pytest.approx(0.05)


def test_set_learning_rate_inside_jit():
    params, grads = _problem(1)
    tx = optimizers.Adam(learning_rate=0.1).make_transform()
    state = jax.jit(lambda s, v: optimizers.set_learning_rate(s, v))(tx.init(params), 0.02)
    assert float(optimizers.get_learning_rate(state)) == pytest.approx(0.02)


def test_learning_rate_before_state_and_schedule_rules():
    opt = optimizers.Adam(learning_rate=0.01)
    assert opt.learning_rate == 0.01 and opt.iterations == 0 and opt.state is None
    opt.learning_rate = 0.02
    assert opt.get_config()["learning_rate"] == 0.02
    sched = optimizers.SGD(learning_rate=_exp_decay(schedules))
    with pytest.raises(TypeError, match="not settable"):
        sched.learning_rate = 0.3
    # Assigning a schedule replaces a float, as in Keras.
    opt.learning_rate = _exp_decay(schedules)
    assert opt.get_config()["learning_rate"]["class_name"] == "ExponentialDecay"


def test_optax_transformation_is_wrapped():
    params, grads = _problem(2)
    plain = optimizers.get(optax.adam(1e-3))
    assert isinstance(plain, optimizers.OptaxOptimizer)
    plain.build(params)
    with pytest.raises(AttributeError, match="inject_hyperparams"):
        plain.learning_rate  # noqa: B018
    assert not hasattr(plain, "learning_rate")
    injected = optimizers.OptaxOptimizer(optax.inject_hyperparams(optax.sgd)(learning_rate=0.1))
    injected.build(params)
    assert injected.learning_rate == pytest.approx(0.1)
    injected.learning_rate = 0.2
    new = injected.apply(grads[0], params)
    np.testing.assert_allclose(new["bias"], params["bias"] - 0.2 * grads[0]["bias"], rtol=1e-6)
    with pytest.raises(ValueError, match="no `learning_rate`"):
        optimizers.get_learning_rate(optax.adam(1e-3).init(params))


def _logistic_accuracy(opt, steps):
    rng = np.random.default_rng(1)
    x = np.concatenate([rng.normal(-2, 1, (100, 2)), rng.normal(2, 1, (100, 2))]).astype("f4")
    y = np.repeat([0.0, 1.0], 100).astype("f4")
    params = {"w": jnp.zeros(2), "b": jnp.zeros(())}
    tx = opt.make_transform()

    def loss(p):
        return optax.sigmoid_binary_cross_entropy(x @ p["w"] + p["b"], y).mean()

    def step(carry, _):
        p, s = carry
        updates, s = tx.update(jax.grad(loss)(p), s, p)
        return (optax.apply_updates(p, updates), s), None

    (params, _), _ = jax.jit(lambda c: jax.lax.scan(step, c, None, length=steps))(
        (params, tx.init(params)))
    return float(jnp.mean(((x @ params["w"] + params["b"]) > 0) == (y > 0.5)))


@pytest.mark.parametrize("opt", [
    optimizers.SGD(0.5), optimizers.Momentum(0.1), optimizers.Adagrad(0.5),
    optimizers.RMSprop(0.05), optimizers.Adam(0.05), optimizers.AdamW(0.05),
    optimizers.Adamax(0.05), optimizers.Nadam(0.05), optimizers.Adadelta(1.0),
    optimizers.Lion(0.01), optimizers.SGD(schedules.CosineDecay(0.5, 50)),
], ids=lambda o: o.name)
def test_trains_logistic_regression(opt):
    assert _logistic_accuracy(opt, steps=50) > 0.95


@pytest.mark.parametrize("name", ["SGD", "Momentum", "Adagrad", "RMSprop", "Adam", "AdamW",
                                  "Adamax", "Nadam", "Adadelta", "Lion"])
def test_config_round_trip_and_keys_match_keras(name):
    opt = getattr(optimizers, name)(learning_rate=_exp_decay(schedules), clipnorm=1.0)
    config = opt.get_config()
    again = type(opt).from_config(config)
    assert again.get_config() == config
    assert optimizers.deserialize(optimizers.serialize(opt)).get_config() == config
    keras_name = "SGD" if name == "Momentum" else name
    keras_opt = getattr(keras.optimizers, keras_name)(
        learning_rate=_exp_decay(keras.optimizers.schedules), clipnorm=1.0)
    keras_config = keras_opt.get_config()
    assert set(config) == set(keras_config)
    assert config["learning_rate"] == keras_config["learning_rate"]
    if name != "Momentum":  # Keras appends "_<n>" to repeated names; kerasish does not.
        assert opt.name == re.sub(r"_\d+$", "", keras_config["name"])


def test_deserializes_keras_serialized_optimizer():
    keras_opt = keras.optimizers.RMSprop(learning_rate=0.5, rho=0.7, centered=True)
    opt = optimizers.deserialize(keras.optimizers.serialize(keras_opt))
    assert isinstance(opt, optimizers.RMSprop)
    assert (opt.rho, opt.centered, opt.learning_rate) == (0.7, True, 0.5)


def test_get():
    for name, cls in [("sgd", optimizers.SGD), ("Momentum", optimizers.Momentum),
                      ("ADAM", optimizers.Adam), ("adamw", optimizers.AdamW),
                      ("rmsprop", optimizers.RMSprop), ("nadam", optimizers.Nadam),
                      ("adadelta", optimizers.Adadelta), ("adamax", optimizers.Adamax),
                      ("adagrad", optimizers.Adagrad), ("lion", optimizers.Lion)]:
        assert type(optimizers.get(name)) is cls
    opt = optimizers.Adam()
    assert optimizers.get(opt) is opt and optimizers.get(None) is None
    assert optimizers.get({"class_name": "SGD", "config": {"momentum": 0.5}}).momentum == 0.5
    with pytest.raises(ValueError, match="Could not interpret optimizer identifier: foo"):
        optimizers.get("foo")
    with pytest.raises(ValueError, match="Could not interpret optimizer identifier"):
        optimizers.get(3)


@pytest.mark.parametrize("make,match", [
    (lambda: optimizers.SGD(momentum=1.5), r"momentum=1.5"),
    (lambda: optimizers.SGD(learning_rate=-0.1), r"learning_rate=-0.1"),
    (lambda: optimizers.SGD(learning_rate="fast"), r"learning_rate=fast"),
    (lambda: optimizers.RMSprop(rho=2.0), r"rho=2.0"),
    (lambda: optimizers.Adam(beta_1=1.0), r"beta_1=1.0"),
    (lambda: optimizers.Adam(epsilon=-1.0), r"epsilon=-1.0"),
    (lambda: optimizers.Adagrad(initial_accumulator_value=-1), r"initial_accumulator_value=-1"),
    (lambda: optimizers.Lion(beta_1=0), r"Received: beta_1=0"),
    (lambda: optimizers.AdamW(weight_decay=None),
     r"Argument `weight_decay` must be a float. Received: weight_decay=None"),
    (lambda: optimizers.Adam(clipnorm=1.0, clipvalue=1.0), r"Only one of `clipnorm`"),
    (lambda: optimizers.Adam(clipnorm=-1.0), r"clipnorm=-1.0"),
    (lambda: optimizers.Adam(foo=1), r"Argument\(s\) not recognized: \{'foo': 1\}"),
    (lambda: optimizers.Adam(gradient_accumulation_steps=1), r"gradient_accumulation_steps=1"),
])
def test_validation_errors(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_use_ema_not_supported():
    with pytest.raises(NotImplementedError, match="use_ema"):
        optimizers.Adam(use_ema=True)
