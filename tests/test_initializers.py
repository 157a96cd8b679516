"""kerasish.initializers against Keras 3 itself (bit-identical with an integer seed) and against the
variances each initializer promises (with a key)."""

import math
import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from kerasish import initializers

keras = pytest.importorskip("keras")
from keras.src.initializers.random_initializers import compute_fans as keras_compute_fans  # noqa: E402

RANDOM = [
    "RandomNormal", "TruncatedNormal", "RandomUniform", "VarianceScaling", "GlorotUniform", "GlorotNormal",
    "HeNormal", "HeUniform", "LecunNormal", "LecunUniform", "Orthogonal",
]  # fmt: skip
CONSTANT = ["Zeros", "Ones", "Constant", "Identity"]
KEY = jax.random.key(0)


@pytest.mark.parametrize("name", RANDOM)
def test_seeded_values_identical_to_keras(name):
    # A flat shape shares JAX's compiled samplers between both sides (we draw flat, then reshape).
    shape = (12, 20) if name in ("Orthogonal", "GlorotUniform") else (240,)
    ours = getattr(initializers, name)(seed=42)(None, shape)
    theirs = getattr(keras.initializers, name)(seed=42)(shape)
    np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))


@pytest.mark.parametrize("name", CONSTANT)
def test_constant_values_match_keras(name):
    kwargs = {"value": 2.5} if name == "Constant" else {}
    ours = getattr(initializers, name)(**kwargs)(KEY, (4, 5))
    np.testing.assert_array_equal(ours, getattr(keras.initializers, name)(**kwargs)((4, 5)))


@pytest.mark.parametrize("name", RANDOM + CONSTANT)
def test_config_matches_keras_and_round_trips(name):
    kwargs = {"value": 2.5} if name == "Constant" else {} if name in CONSTANT else {"seed": 7}
    ours = getattr(initializers, name)(**kwargs)
    theirs = getattr(keras.initializers, name)(**kwargs)
    expected = {"gain": 1.0} if name == "Identity" else theirs.get_config()  # Keras 3 drops Identity's gain
    assert ours.get_config() == expected
    clone = type(ours).from_config(ours.get_config())
    assert clone.get_config() == ours.get_config()
    np.testing.assert_array_equal(clone(KEY, (12, 20)), ours(KEY, (12, 20)))
    assert initializers.deserialize(initializers.serialize(ours)).get_config() == ours.get_config()
    assert ours.clone().get_config() == ours.get_config()


@pytest.mark.parametrize(
    "shape", [(), (7,), (5, 9), (3, 5, 9), (3, 3, 16, 32), (2, 3, 3, 4, 6)]
)  # fmt: skip
def test_compute_fans_matches_keras(shape):
    assert initializers.compute_fans(shape) == keras_compute_fans(shape)


def test_compute_fans_with_axes():
    assert initializers.compute_fans((2, 3, 4, 5), [0, 1], [2, 3]) == (6, 20)


# (initializer, expected variance for shape (fan_in, fan_out), expected bound or None)
VARIANCE_CASES = [
    (initializers.GlorotUniform(), lambda i, o: 2 / (i + o), lambda i, o: math.sqrt(6 / (i + o))),
    (initializers.GlorotNormal(), lambda i, o: 2 / (i + o), lambda i, o: 2 * math.sqrt(2 / (i + o)) / 0.8796),
    (initializers.HeNormal(), lambda i, o: 2 / i, lambda i, o: 2 * math.sqrt(2 / i) / 0.8796),
    (initializers.HeUniform(), lambda i, o: 2 / i, lambda i, o: math.sqrt(6 / i)),
    (initializers.LecunNormal(), lambda i, o: 1 / i, None),
    (initializers.LecunUniform(), lambda i, o: 1 / i, lambda i, o: math.sqrt(3 / i)),
    (initializers.VarianceScaling(0.5, "fan_out", "untruncated_normal"), lambda i, o: 0.5 / o, None),
    (initializers.VarianceScaling(3.0, "fan_avg", "normal"), lambda i, o: 6 / (i + o), None),
    (initializers.RandomNormal(1.0, 0.3), lambda i, o: 0.09, None),
    (initializers.TruncatedNormal(0.0, 0.3), lambda i, o: 0.09 * 0.8796**2, lambda i, o: 0.6),
    (initializers.RandomUniform(-0.2, 0.6), lambda i, o: 0.8**2 / 12, None),
]


@pytest.mark.parametrize("init, variance, bound", VARIANCE_CASES, ids=[type(c[0]).__name__ for c in VARIANCE_CASES])
@pytest.mark.parametrize("shape", [(300, 500), (3, 3, 48, 64)])
def test_variance_and_bounds(init, variance, bound, shape):
    fan_in, fan_out = initializers.compute_fans(shape)
    values = init(KEY, shape)
    assert values.shape == shape and values.dtype == jnp.float32
    values = np.asarray(values, np.float64)
    np.testing.assert_allclose(values.var(), variance(fan_in, fan_out), rtol=0.02)
    if bound is not None:
        assert np.abs(values).max() <= bound(fan_in, fan_out) * (1 + 1e-5)


def test_orthogonal_is_orthogonal():
    tall = np.asarray(initializers.Orthogonal(gain=2.0)(KEY, (3, 3, 4, 8))).reshape(-1, 8)
    np.testing.assert_allclose(tall.T @ tall, 4.0 * np.eye(8), atol=1e-4)
    wide = np.asarray(initializers.Orthogonal()(KEY, (8, 36)))
    np.testing.assert_allclose(wide @ wide.T, np.eye(8), atol=1e-4)


def test_key_drives_randomness_and_seed_fixes_it():
    init = initializers.GlorotUniform()
    assert not np.array_equal(init(jax.random.key(1), (12, 20)), init(jax.random.key(2), (12, 20)))
    np.testing.assert_array_equal(init(jax.random.key(1), (12, 20)), init(jax.random.key(1), (12, 20)))
    np.testing.assert_array_equal(init(jax.random.PRNGKey(1), (12, 20)), init(jax.random.PRNGKey(1), (12, 20)))
    seeded = initializers.HeNormal(seed=3)
    np.testing.assert_array_equal(seeded(jax.random.key(1), (12, 20)), seeded(jax.random.key(2), (12, 20)))


def test_dtype_int_shape_and_jit():
    init = initializers.HeUniform()
    assert init(KEY, (12, 20), jnp.bfloat16).dtype == jnp.bfloat16
    assert init(KEY, (12, 20), None).dtype == jnp.float32
    assert initializers.Zeros()(None, 5).shape == (5,)
    assert initializers.Constant(3)(None, (2,), "float16").dtype == jnp.float16
    compiled = jax.jit(lambda key: init(key, (12, 20)))
    np.testing.assert_array_equal(compiled(KEY), init(KEY, (12, 20)))


def test_flax_initializer_convention():
    from flax import nnx

    layer = nnx.Linear(4, 3, kernel_init=initializers.GlorotUniform(), bias_init=initializers.Zeros(), rngs=nnx.Rngs(0))
    assert layer.kernel[...].shape == (4, 3)
    np.testing.assert_array_equal(layer.bias[...], np.zeros(3))


@pytest.mark.parametrize(
    "identifier, cls",
    [
        ("glorot_uniform", "GlorotUniform"), ("GlorotUniform", "GlorotUniform"), ("he_normal", "HeNormal"),
        ("zeros", "Zeros"), ("zero", "Zeros"), ("ones", "Ones"), ("one", "Ones"), ("random_normal", "RandomNormal"),
        ("normal", "RandomNormal"), ("uniform", "RandomUniform"), ("truncated_normal", "TruncatedNormal"),
        ("variance_scaling", "VarianceScaling"), ("orthogonal", "Orthogonal"), ("identity", "Identity"),
        ("lecun_uniform", "LecunUniform"), ("constant", "Constant"),
    ],
)  # fmt: skip
def test_get_by_name(identifier, cls):
    assert type(initializers.get(identifier)).__name__ == cls
    if identifier != "constant":  # Keras 3 cannot build Constant from its name (KeyError: 'value')
        assert type(keras.initializers.get(identifier)).__name__ == cls


def test_get_other_identifiers():
    assert initializers.get(None) is None
    init = initializers.RandomNormal(stddev=2.0)
    assert initializers.get(init) is init
    assert isinstance(initializers.get(initializers.Ones), initializers.Ones)
    config = {"class_name": "RandomUniform", "config": {"minval": 0.0, "maxval": 1.0, "seed": None}}
    assert initializers.get(config).get_config() == config["config"]
    keras_config = keras.initializers.serialize(keras.initializers.HeNormal(seed=5))
    assert initializers.get(keras_config).get_config() == {"seed": 5, "input_axes": None, "output_axes": None}

    def fn(key, shape, dtype=jnp.float32):
        return jnp.full(shape, 7.0, dtype)

    assert initializers.get(fn) is fn
    value = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(initializers.get(value)(KEY, (2, 3)), value)
    with pytest.raises(ValueError, match=r"Expected `shape` to be \(2, 3\) for direct tensor as initializer"):
        initializers.get(value)(KEY, (3, 2))


@pytest.mark.parametrize("identifier", ["foo", 3, {"class_name": "Foo", "config": {}}])
def test_get_unknown_raises(identifier):
    with pytest.raises(ValueError, match=f"Could not interpret initializer identifier: {identifier}"):
        initializers.get(identifier)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: initializers.VarianceScaling(scale=0.0), "Argument `scale` must be positive float. Received: scale=0.0"),
        (lambda: initializers.VarianceScaling(mode="fan"), "Invalid `mode` argument: fan"),
        (lambda: initializers.VarianceScaling(distribution="gamma"), "Invalid `distribution` argument: gamma"),
        (lambda: initializers.GlorotUniform(seed=1.5), r"Argument `seed` must be an integer or None. Received: seed=1.5"),
        (lambda: initializers.GlorotUniform()(None, (2, 2)), r"needs a random key.*Received: key=None"),
        (lambda: initializers.Identity()(None, (2, 2, 2)), r"only be used for 2D matrices. Received: shape=\(2, 2, 2\)"),
        (lambda: initializers.Orthogonal()(KEY, (4,)), r"at least two-dimensional. Received: shape=\(4,\) of rank 1"),
    ],
)
def test_errors(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_keras_argument_order_gives_a_helpful_type_error():
    with pytest.raises(TypeError, match=r"Flax argument order \(key, shape, dtype\)"):
        initializers.GlorotUniform()((3, 4), "float32")
    with pytest.raises(TypeError):
        initializers.GlorotUniform()((3, 4))


def test_base_initializer_requires_call():
    with pytest.raises(NotImplementedError, match="must implement the `__call__\\(\\)` method"):
        initializers.Initializer()(KEY, (2,))


ALIASES = ["constant", "zeros", "ones", "identity", "IdentityInitializer", "OrthogonalInitializer", "orthogonal",
           "random_normal", "random_uniform", "truncated_normal", "variance_scaling", "glorot_normal",
           "glorot_uniform", "he_normal", "he_uniform", "lecun_normal", "lecun_uniform"]


@pytest.mark.parametrize("alias", ALIASES)
def test_module_aliases_are_keras_classes(alias):
    # Keras 3 exposes these names as the classes themselves (not factories): match that.
    ours, theirs = getattr(initializers, alias), getattr(keras.initializers, alias)
    assert isinstance(ours, type) and isinstance(theirs, type)
    assert ours.__name__ == theirs.__name__
    assert ours is getattr(initializers, theirs.__name__)
    assert type(initializers.get(alias)) is ours


@pytest.mark.parametrize("alias", ["glorot_normal", "he_uniform", "lecun_normal", "random_normal", "truncated_normal",
                                   "random_uniform", "variance_scaling"])
def test_seeded_aliases_draw_keras_values(alias):
    ours = getattr(initializers, alias)(seed=7)(KEY, (5, 4))
    theirs = np.asarray(getattr(keras.initializers, alias)(seed=7)((5, 4)))
    np.testing.assert_allclose(np.asarray(ours), theirs, rtol=1e-6, atol=1e-6)


def test_orthogonal_alias_statistics():
    # Keras's Orthogonal uses the backend's QR on its seeded draw; compare the defining property.
    q = np.asarray(initializers.orthogonal(gain=2.0, seed=3)(KEY, (6, 4)))
    np.testing.assert_allclose(q.T @ q, 4.0 * np.eye(4), atol=1e-5)
    np.testing.assert_array_equal(np.asarray(initializers.IdentityInitializer(gain=3.0)(KEY, (3, 3))), 3.0 * np.eye(3))


@pytest.mark.parametrize("kwargs", [
    {}, {"side": "imag", "window": "hamming", "periodic": True}, {"scaling": "spectrum", "window": "blackman"},
    {"window": None}, {"scaling": None, "window": list(np.linspace(0.0, 1.0, 16))},
])  # fmt: skip
def test_stft_matches_keras(kwargs):
    ours = initializers.STFT(**kwargs)
    theirs = keras.initializers.STFT(**kwargs)
    np.testing.assert_allclose(np.asarray(ours(KEY, (16, 1, 9))), np.asarray(theirs((16, 1, 9))), rtol=1e-6, atol=1e-7)
    assert ours.get_config() == theirs.get_config()
    assert initializers.get(keras.initializers.serialize(theirs)).get_config() == ours.get_config()
    assert initializers.STFTInitializer is initializers.stft is initializers.STFT
    assert type(initializers.get("stft")) is initializers.STFT and type(initializers.get("STFTInitializer")) is initializers.STFT


@pytest.mark.parametrize("kwargs, match", [
    ({"side": "both"}, "side should be 'real' or 'imag', not both"),
    ({"scaling": "power"}, "Scaling is invalid"),
    ({"window": "no_such_window"}, "Invalid window name 'no_such_window'"),
])  # fmt: skip
def test_stft_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        initializers.STFT(**kwargs)
    with pytest.raises(ValueError, match=match):
        keras.initializers.STFT(**kwargs)


def test_stft_window_length_and_shape_errors():
    with pytest.raises(ValueError, match=r"The shape of `window` must be equal to \[frame_length\]"):
        initializers.STFT(window=[1.0, 2.0])(KEY, (16, 1, 9))
    with pytest.raises(ValueError, match="STFT kernels have shape"):
        initializers.STFT()(KEY, (16, 9))
