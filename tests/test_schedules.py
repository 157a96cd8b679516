"""kerasish.optimizers.schedules against keras.optimizers.schedules at several steps."""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

keras = pytest.importorskip("keras")

from kerasish.optimizers import schedules  # noqa: E402

STEPS = [0, 1, 2, 5, 9, 10, 11, 37, 100, 101, 250, 1000]

CASES = [
    ("ExponentialDecay", dict(initial_learning_rate=0.1, decay_steps=10, decay_rate=0.5)),
    ("ExponentialDecay", dict(initial_learning_rate=0.1, decay_steps=10, decay_rate=0.5,
                              staircase=True)),
    ("PiecewiseConstantDecay", dict(boundaries=[10, 100], values=[1.0, 0.5, 0.1])),
    ("PolynomialDecay", dict(initial_learning_rate=0.1, decay_steps=100)),
    ("PolynomialDecay", dict(initial_learning_rate=0.1, decay_steps=100, end_learning_rate=0.01,
                             power=0.5, cycle=True)),
    ("InverseTimeDecay", dict(initial_learning_rate=0.1, decay_steps=10, decay_rate=0.5)),
    ("InverseTimeDecay", dict(initial_learning_rate=0.1, decay_steps=10, decay_rate=0.5,
                              staircase=True)),
    ("CosineDecay", dict(initial_learning_rate=0.1, decay_steps=100)),
    ("CosineDecay", dict(initial_learning_rate=0.1, decay_steps=100, alpha=0.1)),
    ("CosineDecay", dict(initial_learning_rate=0.0, decay_steps=100, warmup_target=0.2,
                         warmup_steps=10, alpha=0.05)),
    ("CosineDecayRestarts", dict(initial_learning_rate=0.1, first_decay_steps=10)),
    ("CosineDecayRestarts", dict(initial_learning_rate=0.1, first_decay_steps=10, t_mul=1.0,
                                 m_mul=0.5, alpha=0.1)),
]


@pytest.mark.parametrize("name,kwargs", CASES, ids=lambda v: str(v))
def test_matches_keras(name, kwargs):
    ours = getattr(schedules, name)(**kwargs)
    theirs = getattr(keras.optimizers.schedules, name)(**kwargs)
    # Compiled, as in a training step, on a traced int32 step count (what inject_hyperparams
    # passes). Keras's schedule is compiled the same way: XLA rewrites some float32 arithmetic.
    steps = jnp.asarray(STEPS, jnp.int32)
    expected = jax.jit(jax.vmap(theirs))(steps)
    np.testing.assert_allclose(jax.jit(jax.vmap(ours))(steps), expected, rtol=1e-6, atol=1e-9)
    # Eager, on a whole array of steps at once (equal to Keras's eager values to 1e-6 as well;
    # the looser bound only absorbs the eager-versus-compiled rounding above).
    np.testing.assert_allclose(ours(steps), expected, rtol=1e-4, atol=1e-9)
    assert float(ours(37)) == pytest.approx(float(theirs(37)), rel=1e-6)


@pytest.mark.parametrize("name,kwargs", CASES, ids=lambda v: str(v))
def test_config_round_trip_and_keras_format(name, kwargs):
    ours = getattr(schedules, name)(**kwargs)
    theirs = getattr(keras.optimizers.schedules, name)(**kwargs)
    assert ours.get_config() == theirs.get_config()
    assert type(ours).from_config(ours.get_config()).get_config() == ours.get_config()
    assert schedules.serialize(ours) == keras.optimizers.schedules.serialize(theirs)
    again = schedules.deserialize(keras.optimizers.schedules.serialize(theirs))
    assert type(again) is type(ours) and again.get_config() == ours.get_config()


@pytest.mark.parametrize("make,match", [
    (lambda: schedules.ExponentialDecay(0.1, 0, 0.5), r"decay_steps=0"),
    (lambda: schedules.PolynomialDecay(0.1, -1), r"decay_steps=-1"),
    (lambda: schedules.CosineDecay(0.1, 0), r"decay_steps=0"),
    (lambda: schedules.CosineDecayRestarts(0.1, 0), r"first_decay_steps=0"),
    (lambda: schedules.PiecewiseConstantDecay([1, 2], [1.0]), r"1 less than the length"),
    (lambda: schedules.deserialize({"class_name": "Nope", "config": {}}), r"Nope"),
])
def test_errors(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_custom_schedule_base():
    class Halving(schedules.LearningRateSchedule):
        def __call__(self, step):
            return 0.5 ** (step // 10)

    assert float(Halving()(25)) == 0.25
    with pytest.raises(NotImplementedError, match="get_config"):
        Halving().get_config()
    assert schedules.get(None) is None
    assert isinstance(schedules.get(schedules.serialize(schedules.CosineDecay(0.1, 10))),
                      schedules.CosineDecay)
