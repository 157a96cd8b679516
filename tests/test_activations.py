"""kerasish.activations against Keras 3 itself (values, signatures) and finite differences (gradients)."""

import functools
import inspect
import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from kerasish import activations
from kerasish.serialization import register_keras_serializable

keras = pytest.importorskip("keras")
keras_activations = pytest.importorskip("keras.src.activations")

# Points away from every kink (0, +-0.5, +-1, +-3, 6) so values and finite differences are smooth.
ROW = [-4.2, -2.1, -0.7, -0.3, 0.2, 0.8, 1.7, 2.4, 3.6, 7.3]
X = np.array([ROW, [0.5 * v for v in reversed(ROW)]], dtype=np.float32)
NEEDS_ARGS = {"threshold": {"threshold": 0.5, "default_value": -1.0}}
NAMES = sorted(activations.ALL_OBJECTS)


@functools.cache
def gradients_and_finite_differences(eps=1e-5):
    """{name: (jax.grad, central finite differences)} of a weighted sum of each activation's output at X,
    in float64, all in one compiled call (one compilation instead of one per activation)."""
    x = X.astype(np.float64)
    steps = (eps * np.eye(x.size)).reshape((x.size,) + x.shape)

    def weighted_sum(name):
        def f(v):
            out = activations.ALL_OBJECTS[name](v, **NEEDS_ARGS.get(name, {}))
            return jnp.sum(out * jnp.linspace(0.5, 1.5, out.size).reshape(out.shape))  # softmax: nonzero gradient

        return f

    @jax.jit
    def run(x):
        results = {}
        for name in NAMES:
            f = weighted_sum(name)
            finite_differences = (jax.vmap(f)(x + steps) - jax.vmap(f)(x - steps)) / (2 * eps)
            results[name] = (jax.grad(f)(x), finite_differences.reshape(x.shape))
        return results

    with jax.enable_x64(True):
        return run(x)


def test_same_names_as_keras():
    assert set(activations.ALL_OBJECTS) == set(keras_activations.ALL_OBJECTS_DICT)


@pytest.mark.parametrize("name", NAMES)
def test_signature_matches_keras(name):
    ours = inspect.signature(activations.ALL_OBJECTS[name]).parameters
    theirs = inspect.signature(keras_activations.ALL_OBJECTS_DICT[name]).parameters
    assert [(p.name, p.default) for p in ours.values()] == [(p.name, p.default) for p in theirs.values()]


@pytest.mark.parametrize("name", NAMES)
def test_values_match_keras(name):
    kwargs = NEEDS_ARGS.get(name, {})
    ours = activations.get(name)(jnp.asarray(X), **kwargs)
    theirs = keras_activations.get(name)(X, **kwargs)
    np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"negative_slope": 0.1},
        {"max_value": 2.0},
        {"max_value": 6},
        {"threshold": 0.5},
        {"negative_slope": 0.1, "max_value": 2.0},
        {"negative_slope": 0.1, "threshold": -1.0},
        {"negative_slope": 0.3, "max_value": 5.0, "threshold": 1.0},
    ],
)
def test_relu_options_match_keras(kwargs):
    np.testing.assert_allclose(activations.relu(X, **kwargs), keras.activations.relu(X, **kwargs), rtol=1e-6)


@pytest.mark.parametrize(
    "fn, kwargs",
    [
        ("gelu", {"approximate": True}),
        ("elu", {"alpha": 0.5}),
        ("celu", {"alpha": 2.0}),
        ("leaky_relu", {"negative_slope": 0.01}),
        ("softmax", {"axis": 0}),
        ("log_softmax", {"axis": 0}),
        ("squareplus", {"b": 1.0}),
        ("soft_shrink", {"threshold": 1.0}),
        ("hard_shrink", {"threshold": 1.0}),
        ("sparsemax", {"axis": 0}),
    ],
)
def test_options_match_keras(fn, kwargs):
    ours = getattr(activations, fn)(X, **kwargs)
    np.testing.assert_allclose(ours, getattr(keras.activations, fn)(X, **kwargs), rtol=1e-6, atol=1e-7)


def test_gelu_default_is_exact_erf_form():
    x = jnp.asarray(X)
    np.testing.assert_allclose(activations.gelu(x), 0.5 * x * (1 + jax.scipy.special.erf(x / np.sqrt(2))), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", NAMES)
def test_gradient_matches_finite_differences(name):
    grad, finite_differences = gradients_and_finite_differences()[name]
    assert grad.dtype == np.float64
    np.testing.assert_allclose(grad, finite_differences, rtol=1e-5, atol=1e-7)


def test_jit_safe():
    out = jax.jit(lambda v: activations.relu(v, negative_slope=0.1, max_value=3.0))(jnp.asarray(X))
    np.testing.assert_allclose(out, keras.activations.relu(X, negative_slope=0.1, max_value=3.0), rtol=1e-6)


def test_get_special_cases():
    assert activations.get(None) is activations.linear
    assert activations.get("swish") is activations.silu
    assert activations.get("hard_swish") is activations.hard_silu
    assert activations.get(activations.relu) is activations.relu
    assert activations.get({"class_name": "function", "config": "tanh"}) is activations.tanh
    custom = lambda x: x  # noqa: E731
    assert activations.get(custom) is custom


@pytest.mark.parametrize("identifier", ["foo", 3, "Relu"])
def test_get_unknown_raises(identifier):
    with pytest.raises(ValueError, match=f"Could not interpret activation function identifier: {identifier}"):
        activations.get(identifier)


def test_serialize_round_trip():
    for name in NAMES:
        fn = activations.ALL_OBJECTS[name]
        assert activations.deserialize(activations.serialize(fn)) is fn
    assert activations.serialize(activations.swish) == "silu"
    assert activations.serialize(activations.silu) == keras.activations.serialize(keras.activations.silu)


def test_serialize_custom():
    @register_keras_serializable(package="TestAct")
    def scaled_tanh(x):
        return 2.0 * jnp.tanh(x)

    assert activations.serialize(scaled_tanh) == "TestAct>scaled_tanh"
    assert activations.deserialize("TestAct>scaled_tanh") is scaled_tanh
    assert activations.get("TestAct>scaled_tanh") is scaled_tanh

    def unregistered(x):
        return x

    with pytest.raises(ValueError, match="Unknown activation function .* cannot be serialized"):
        activations.serialize(unregistered)
    assert activations.deserialize("mine", custom_objects={"mine": unregistered}) is unregistered
