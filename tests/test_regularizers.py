"""kerasish.regularizers against Keras 3 itself: penalties, configs, names and error messages."""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from kerasish import regularizers

keras = pytest.importorskip("keras")

W = np.random.RandomState(0).randn(6, 4).astype(np.float32)
CASES = [
    ("L1", {}),
    ("L1", {"l1": 0.3}),
    ("L2", {}),
    ("L2", {"l2": 0.25}),
    ("L1L2", {}),
    ("L1L2", {"l1": 0.1, "l2": 0.2}),
    ("L1L2", {"l2": 0.5}),
    ("OrthogonalRegularizer", {}),
    ("OrthogonalRegularizer", {"factor": 0.5, "mode": "columns"}),
]


@pytest.mark.parametrize("name, kwargs", CASES)
def test_penalty_matches_keras(name, kwargs):
    ours = getattr(regularizers, name)(**kwargs)(jnp.asarray(W))
    theirs = getattr(keras.regularizers, name)(**kwargs)(jnp.asarray(W))  # its NumPy path mishandles columns
    assert ours.shape == ()
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)


@pytest.mark.parametrize("name, kwargs", CASES)
def test_config_matches_keras_and_round_trips(name, kwargs):
    ours = getattr(regularizers, name)(**kwargs)
    theirs = getattr(keras.regularizers, name)(**kwargs).get_config()
    assert ours.get_config().keys() == theirs.keys()
    for key, value in ours.get_config().items():  # Keras stores L1's l1 as float32: 0.009999999776
        assert value == pytest.approx(theirs[key]) if isinstance(value, float) else value == theirs[key]
    clone = type(ours).from_config(ours.get_config())
    assert clone.get_config() == ours.get_config()
    assert regularizers.deserialize(regularizers.serialize(ours)).get_config() == ours.get_config()
    np.testing.assert_allclose(clone(W), ours(W))


def test_l2_has_no_half_factor_and_gradient():
    x = jnp.asarray(W)
    np.testing.assert_allclose(regularizers.L2(0.1)(x), 0.1 * np.sum(W**2), rtol=1e-6)
    np.testing.assert_allclose(jax.grad(regularizers.L2(0.1))(x), 0.2 * W, rtol=1e-6)
    np.testing.assert_allclose(jax.grad(regularizers.L1(0.1))(x), 0.1 * np.sign(W), rtol=1e-6)
    np.testing.assert_allclose(jax.jit(regularizers.L1L2(0.1, 0.2))(x), regularizers.L1L2(0.1, 0.2)(x), rtol=1e-6)


def test_penalty_keeps_weight_dtype():
    assert regularizers.L2()(jnp.ones((2, 2), jnp.bfloat16)).dtype == jnp.bfloat16
    assert regularizers.L1L2()(jnp.ones((2, 2))).dtype == jnp.float32


def test_none_arguments_mean_defaults():
    assert regularizers.L1(None).get_config() == {"l1": 0.01}
    assert regularizers.L2(None).get_config() == {"l2": 0.01}
    assert regularizers.L1L2(None, None).get_config() == {"l1": 0.0, "l2": 0.0}
    assert float(regularizers.L1L2()(W)) == 0.0


def test_base_regularizer():
    assert float(regularizers.Regularizer()(W)) == 0.0
    with pytest.raises(NotImplementedError, match=r"does not implement get_config\(\)"):
        regularizers.Regularizer().get_config()


@pytest.mark.parametrize("name, arg", [("L1", "l1"), ("L2", "l2"), ("L1L2", "l1"), ("L1L2", "l2"), ("OrthogonalRegularizer", "factor")])
@pytest.mark.parametrize("value", [-0.1, float("nan"), float("inf"), "0.1", True])
def test_invalid_float_arguments(name, arg, value):
    with pytest.raises(ValueError, match=f"Invalid value for argument {arg}: expected a non-negative float. Received: {arg}="):
        getattr(regularizers, name)(**{arg: value})


def test_orthogonal_errors():
    with pytest.raises(ValueError, match=r'Expected one of \{"rows", "columns"\}. Received: mode=diagonal'):
        regularizers.OrthogonalRegularizer(mode="diagonal")
    with pytest.raises(ValueError, match=r"must have rank 2. Received: inputs.shape=\(2, 3, 4\)"):
        regularizers.OrthogonalRegularizer()(jnp.ones((2, 3, 4)))


@pytest.mark.parametrize(
    "identifier, cls",
    [
        ("l1", "L1"), ("L1", "L1"), ("l2", "L2"), ("L2", "L2"), ("l1_l2", "L1L2"), ("l1l2", "L1L2"),
        ("L1L2", "L1L2"), ("orthogonal_regularizer", "OrthogonalRegularizer"),
        ({"class_name": "L2", "config": {"l2": 0.5}}, "L2"),
    ],
)  # fmt: skip
def test_get(identifier, cls):
    assert type(regularizers.get(identifier)).__name__ == cls


def test_get_other_identifiers():
    assert regularizers.get(None) is None
    reg = regularizers.L2(0.3)
    assert regularizers.get(reg) is reg
    assert isinstance(regularizers.get(regularizers.L1), regularizers.L1)
    assert regularizers.get({"class_name": "L2", "config": {"l2": 0.5}}).l2 == 0.5
    keras_config = keras.regularizers.serialize(keras.regularizers.L1L2(l1=0.5, l2=0.25))
    assert regularizers.get(keras_config).get_config() == {"l1": 0.5, "l2": 0.25}

    def penalty(x):
        return jnp.sum(x)

    assert regularizers.get(penalty) is penalty


@pytest.mark.parametrize("identifier", ["foo", 3, {"class_name": "L3", "config": {}}])
def test_get_unknown_raises(identifier):
    with pytest.raises(ValueError, match=f"Could not interpret regularizer identifier: {identifier}"):
        regularizers.get(identifier)


def test_lower_case_aliases_like_keras():
    from kerasish import regularizers
    assert regularizers.l2 is regularizers.L2 and regularizers.l1 is regularizers.L1
    assert regularizers.l1_l2 is regularizers.L1L2
    assert float(regularizers.l2(0.5)(np.ones(2, "float32"))) == 1.0
