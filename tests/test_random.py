"""keras.random against Keras 3 itself (same values for an int seed or a seeded generator, same dtypes,
same exception types) and against the moments each distribution promises; SeedGenerator as NNX state."""

import inspect
import math
import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

import kerasish
from kerasish import random as kr
from kerasish.utils import rng

keras = pytest.importorskip("keras")

FUNCTIONS = ["normal", "uniform", "randint", "truncated_normal", "categorical", "dropout", "shuffle", "gamma",
             "binomial", "beta"]
ONES = np.ones((4, 6), np.float32)
N = 50_000  # samples for the moment tests
LOGITS = np.log(np.array([[0.1, 0.2, 0.7], [0.5, 0.25, 0.25]], np.float32))

# (function, args, kwargs): shapes, dtypes and argument forms as Keras users write them.
CALLS = [
    ("normal", ((3, 4),), {}),
    ("normal", ([5],), {"mean": 2.0, "stddev": 3.0, "dtype": "float16"}),
    ("normal", ((2, 2),), {"mean": -1, "stddev": 2, "dtype": "bfloat16"}),
    ("uniform", ((7,),), {"minval": -2.0, "maxval": 5.0}),
    ("uniform", ((2, 3),), {"dtype": "float16"}),
    ("randint", ((3, 5), 0, 10), {}),
    ("randint", ((4,), -5, 5), {"dtype": "int16"}),
    ("randint", ((2,), np.array([0, 100]), np.array([10, 200])), {}),
    ("truncated_normal", ((6,),), {"mean": 1.0, "stddev": 0.5}),
    ("categorical", (LOGITS, 5), {}),
    ("categorical", (LOGITS, 3), {"dtype": "float32"}),
    ("dropout", (ONES, 0.5), {}),
    ("dropout", (ONES, 0.25), {"noise_shape": (None, 1)}),
    ("dropout", (ONES.astype(np.float16), 0.5), {}),
    ("shuffle", (np.arange(12).reshape(3, 4),), {}),
    ("shuffle", (np.arange(12.0).reshape(3, 4),), {"axis": -1}),
    # The samplers with rejection loops compile slowly: their rows share one shape with the moment test.
    ("gamma", ((N,), np.array([2.5], np.float32)), {}),
    ("binomial", ((N,), [20], [0.3]), {}),
    ("beta", ((N,), 2.0, np.array([5.0], np.float32)), {}),
]


def _call_id(call):
    name, args, kwargs = call
    return f"{name}-{'-'.join(map(str, kwargs.values())) or len(args)}"


def _assert_same(ours, theirs):
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
    np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))


@pytest.mark.parametrize("call", CALLS, ids=[_call_id(c) for c in CALLS])
def test_int_seed_and_generator_match_keras(call):
    name, args, kwargs = call
    ours, theirs = getattr(kr, name), getattr(keras.random, name)
    _assert_same(ours(*args, **kwargs, seed=7), theirs(*args, **kwargs, seed=7))
    # A seeded generator: the same sequence of draws as Keras's, and draws that change call to call.
    gen, ref_gen = kr.SeedGenerator(3), keras.random.SeedGenerator(3)
    draws = [ours(*args, **kwargs, seed=gen) for _ in range(2)]
    for draw in draws:
        _assert_same(draw, theirs(*args, **kwargs, seed=ref_gen))
    np.testing.assert_array_equal(gen.state[...], [3, 2])


def test_result_keeps_the_requested_dtype_when_mean_is_an_array():
    # Keras returns the promoted dtype (float32 here); we keep `dtype`, rounding Keras's values.
    mean = np.array([0.0, 10.0], np.float32)
    ours = kr.normal((2, 2), mean=mean, dtype="bfloat16", seed=7)
    theirs = keras.random.normal((2, 2), mean=mean, dtype="bfloat16", seed=7)
    assert ours.dtype == jnp.bfloat16 and theirs.dtype == jnp.float32
    np.testing.assert_array_equal(ours, theirs.astype(jnp.bfloat16))


def test_signatures_match_keras():
    for name in FUNCTIONS:
        assert inspect.signature(getattr(kr, name)).parameters.keys() == \
            inspect.signature(getattr(keras.random, name)).parameters.keys(), name
        ours = {k: p.default for k, p in inspect.signature(getattr(kr, name)).parameters.items()}
        theirs = {k: p.default for k, p in inspect.signature(getattr(keras.random, name)).parameters.items()}
        assert ours == theirs, name
    assert set(kr.__all__) >= {*FUNCTIONS, "SeedGenerator"}
    assert kerasish.random is kr


def test_int_seed_is_stateless_and_generators_reproduce():
    np.testing.assert_array_equal(kr.normal((4,), seed=5), kr.normal((4,), seed=5))
    np.testing.assert_array_equal(kr.normal((4,), seed=np.int64(5)), kr.normal((4,), seed=5))
    assert not np.array_equal(kr.normal((4,), seed=5), kr.normal((4,), seed=6))
    a, b = kr.SeedGenerator(42), kr.SeedGenerator(42)
    seq_a = [kr.uniform((3,), seed=a) for _ in range(3)]
    seq_b = [kr.uniform((3,), seed=b) for _ in range(3)]
    np.testing.assert_array_equal(np.stack(seq_a), np.stack(seq_b))
    assert not np.array_equal(seq_a[0], seq_a[1])
    np.testing.assert_array_equal(a.state[...], [42, 3])
    assert a.state[...].dtype == jnp.uint32


def test_jax_keys_are_used_as_given():
    typed, raw = jax.random.key(11), jax.random.PRNGKey(11)
    np.testing.assert_array_equal(kr.normal((3,), seed=typed), jax.random.normal(typed, (3,)))
    np.testing.assert_array_equal(kr.normal((3,), seed=raw), kr.normal((3,), seed=np.asarray(raw)))
    np.testing.assert_array_equal(kr.normal((3,), seed=typed), keras.random.normal((3,), seed=typed))
    out = jax.jit(lambda key: kr.uniform((2,), seed=key))(typed)
    np.testing.assert_array_equal(out, kr.uniform((2,), seed=typed))


def test_seed_generator_config_name_and_unordered_next():
    kerasish.clear_session()
    gen = kr.SeedGenerator(9)
    assert gen.name == "seed_generator" and kr.SeedGenerator(9).name == "seed_generator_1"
    assert gen.get_config() == {"seed": 9, "name": "seed_generator"}
    clone = kr.SeedGenerator.from_config(gen.get_config())
    np.testing.assert_array_equal(kr.normal((3,), seed=clone), kr.normal((3,), seed=kr.SeedGenerator(9)))
    assert kr.SeedGenerator(name="g").get_config()["seed"] is None
    keys = [tuple(np.asarray(gen.next(ordered=False))) for _ in range(50)]
    assert keys[0] == (9, 0) and len(set(keys)) == 50


def test_set_random_seed_resets_the_global_generator():
    kerasish.utils.set_random_seed(123)
    first = [kr.normal((3,)), kr.normal((3,))]
    assert not np.array_equal(first[0], first[1])
    kerasish.utils.set_random_seed(123)
    np.testing.assert_array_equal(np.stack(first), np.stack([kr.normal((3,)), kr.normal((3,))]))
    before = kr.normal((3,))
    rng.reset_global_generator()  # what clear_session should do, as Keras's does
    assert not np.array_equal(kr.normal((3,)), before)
    kerasish.utils.set_random_seed(123)
    unseeded = kr.SeedGenerator()
    kerasish.utils.set_random_seed(123)
    np.testing.assert_array_equal(unseeded.state[...], kr.SeedGenerator().state[...])


def test_unseeded_draw_while_tracing_is_refused_like_keras():
    for lib in (kr, keras.random):
        with pytest.raises(ValueError, match="SeedGenerator"):
            jax.jit(lambda: lib.normal((2,)))()
    np.testing.assert_array_equal(jax.jit(lambda: kr.normal((2,), seed=4))(), kr.normal((2,), seed=4))
    # Rates 0 and 1 draw nothing, so they need no seed even under jit (as in Keras).
    np.testing.assert_array_equal(jax.jit(lambda x: kr.dropout(x, 0.0))(ONES), ONES)


class _Noisy(nnx.Module):
    def __init__(self):
        self.scale = nnx.Param(jnp.ones(()))
        self.seed_generator = kr.SeedGenerator(1337)

    def __call__(self, x):
        return kr.dropout(x * self.scale[...], 0.5, seed=self.seed_generator)


def test_generator_on_a_module_advances_under_nnx_jit():
    model = _Noisy()
    step = nnx.jit(lambda m, x: m(x))
    a, b = step(model, ONES), step(model, ONES)
    assert not np.array_equal(a, b)
    np.testing.assert_array_equal(model.seed_generator.state[...], [1337, 2])
    # The same draws as eager calls on a fresh generator: the compiled step really used the state.
    fresh = _Noisy()
    np.testing.assert_array_equal(a, fresh(ONES))
    np.testing.assert_array_equal(b, fresh(ONES))
    assert isinstance(nnx.state(model, kr.SeedState)["seed_generator"]["state"], kr.SeedState)


def test_generator_state_round_trips_through_split_merge_in_jax_jit():
    graphdef, state = nnx.split(_Noisy())

    @jax.jit
    def step(state, x):
        model = nnx.merge(graphdef, state)
        return model(x), nnx.state(model)

    out1, state = step(state, ONES)
    out2, state = step(state, ONES)
    assert not np.array_equal(out1, out2)
    model = nnx.merge(graphdef, state)
    np.testing.assert_array_equal(nnx.state(model, kr.SeedState)["seed_generator"]["state"][...], [1337, 2])


def test_generator_closed_over_by_plain_jit_says_how_to_fix():
    gen = kr.SeedGenerator(1)
    with pytest.raises(ValueError, match="nnx.jit"):
        jax.jit(lambda: kr.normal((2,), seed=gen))()


def _close(value, expected, tol):
    assert abs(float(value) - expected) < tol, (float(value), expected)


def test_normal_uniform_truncated_normal_moments():
    x = np.asarray(kr.normal((N,), mean=2.0, stddev=3.0, seed=1), np.float64)
    _close(x.mean(), 2.0, 0.03)
    _close(x.std(), 3.0, 0.03)
    u = np.asarray(kr.uniform((N,), minval=-1.0, maxval=3.0, seed=2), np.float64)
    assert u.min() >= -1.0 and u.max() < 3.0
    _close(u.mean(), 1.0, 0.02)
    _close(u.var(), 16 / 12, 0.02)
    t = np.asarray(kr.truncated_normal((N,), mean=1.0, stddev=0.5, seed=3), np.float64)
    assert t.min() >= 0.0 and t.max() <= 2.0
    phi2 = math.exp(-2.0) / math.sqrt(2 * math.pi)
    truncated_var = 1 - 4 * phi2 / math.erf(2 / math.sqrt(2))  # variance of N(0,1) cut at +-2
    _close(t.mean(), 1.0, 0.01)
    _close(t.var(), 0.25 * truncated_var, 0.005)


def test_randint_and_categorical_frequencies():
    r = np.asarray(kr.randint((N,), 3, 8, seed=4))
    assert r.dtype == np.int32 and r.min() == 3 and r.max() == 7
    np.testing.assert_allclose(np.bincount(r - 3) / N, np.full(5, 0.2), atol=0.005)
    draws = np.asarray(kr.categorical(LOGITS, N, seed=5))
    assert draws.shape == (2, N) and draws.dtype == np.int32
    for row, logits in zip(draws, LOGITS):
        frequencies = np.bincount(row, minlength=3) / row.size
        np.testing.assert_allclose(frequencies, jax.nn.softmax(logits), atol=0.01)


@pytest.mark.parametrize("name, mean, var", [("gamma", 2.5, 2.5), ("beta", 2 / 7, 10 / (49 * 8)),
                                             ("binomial", 6.0, 4.2)])
def test_gamma_beta_binomial_moments(name, mean, var):
    _, args, _ = next(call for call in CALLS if call[0] == name)
    x = np.asarray(getattr(kr, name)(*args, seed=6), np.float64)
    _close(x.mean(), mean, 0.02 * max(mean, 1))
    _close(x.var(), var, 0.04 * max(var, 0.1))


def test_dropout_keep_rate_scaling_and_noise_shape():
    x = np.full((1000, 100), 2.0, np.float32)
    out = np.asarray(kr.dropout(x, 0.3, seed=7))
    kept = out != 0
    _close(kept.mean(), 0.7, 0.01)
    np.testing.assert_allclose(out[kept], 2.0 / 0.7, rtol=1e-6)
    _close(out.mean(), 2.0, 0.03)
    per_feature = np.asarray(kr.dropout(x, 0.5, noise_shape=(1, None), seed=8))
    assert np.all(per_feature == per_feature[:1])  # one mask row broadcast over the batch
    per_sample = np.asarray(kr.dropout(x, 0.5, noise_shape=(None, 1), seed=8))
    assert np.all(per_sample == per_sample[:, :1])
    np.testing.assert_array_equal(kr.dropout(x, 1.0, seed=1), np.zeros_like(x))
    np.testing.assert_array_equal(kr.dropout(x, 0.0, seed=1), x)


def test_dropout_with_a_traced_rate():
    f = jax.jit(lambda x, rate: kr.dropout(x, rate, seed=3))
    np.testing.assert_array_equal(f(ONES, 0.5), kr.dropout(ONES, 0.5, seed=3))
    np.testing.assert_array_equal(f(ONES, 1.0), np.zeros_like(ONES))
    grad = jax.grad(lambda x: kr.dropout(x, jnp.float32(1.0) + 0 * x.sum(), seed=3).sum())(ONES)
    assert np.all(np.isfinite(grad))


def test_shuffle_permutes_each_slice_along_axis():
    x = np.arange(40).reshape(4, 10)
    rows = np.asarray(kr.shuffle(x, axis=1, seed=9))
    for before, after in zip(x, rows):
        np.testing.assert_array_equal(np.sort(after), before)
    assert not np.array_equal(rows, x)
    cols = np.asarray(kr.shuffle(x, axis=0, seed=9))
    np.testing.assert_array_equal(np.sort(cols, axis=0), x)


# (call, exception) rows that Keras 3 raises the same exception type for.
KERAS_ERRORS = [
    (lambda r: r.normal((2,), dtype="int32", seed=1), ValueError),
    (lambda r: r.normal((2,), dtype="not_a_dtype", seed=1), TypeError),
    (lambda r: r.uniform((2,), dtype="int32", seed=1), ValueError),
    (lambda r: r.uniform((2,), dtype="not_a_dtype", seed=1), ValueError),
    (lambda r: r.randint((2,), 0, 5, dtype="float32", seed=1), ValueError),
    (lambda r: r.randint((2,), 0, 5, dtype="bool", seed=1), ValueError),
    (lambda r: r.truncated_normal((2,), dtype="int32", seed=1), ValueError),
    (lambda r: r.gamma((2,), 1.0, dtype="int32", seed=1), ValueError),
    (lambda r: r.binomial((2,), 5, 0.5, dtype="int32", seed=1), ValueError),
    (lambda r: r.beta((2,), 1.0, 1.0, dtype="not_a_dtype", seed=1), TypeError),
    (lambda r: r.categorical(np.zeros(3, np.float32), 2, seed=1), ValueError),
    (lambda r: r.categorical(np.zeros((2, 3), np.float32), 2, dtype="not_a_dtype", seed=1), TypeError),
    (lambda r: r.categorical(np.zeros((2, 3), np.float32), 2.5, seed=1), TypeError),
    (lambda r: r.normal((None, 2), seed=1), TypeError),
    (lambda r: r.dropout(np.ones((2, 3), np.int32), 0.5, seed=1), TypeError),
    (lambda r: r.dropout(np.ones((2, 3), np.float32), 0.5, noise_shape=(2, 2), seed=1), ValueError),
    (lambda r: r.shuffle(np.ones((2, 3)), axis=2, seed=1), ValueError),
    (lambda r: r.normal((2,), seed=1.5), ValueError),
    (lambda r: r.normal((2,), seed="a"), ValueError),
    (lambda r: r.SeedGenerator("a"), ValueError),
    (lambda r: r.SeedGenerator(1, unknown=2), ValueError),
]


@pytest.mark.parametrize("row", range(len(KERAS_ERRORS)))
def test_bad_arguments_raise_what_keras_raises(row):
    call, error = KERAS_ERRORS[row]
    for lib in (kr, keras.random):
        with pytest.raises(error):
            call(lib)


@pytest.mark.parametrize("call, match", [
    (lambda: kr.dropout(ONES, 1.5, seed=1), r"rate.*\[0, 1\]"),
    (lambda: kr.dropout(ONES, -0.1, seed=1), r"rate.*\[0, 1\]"),
    (lambda: kr.normal((2,), seed=-1), r"\[0, 2\*\*32\)"),
    (lambda: kr.SeedGenerator(2**32), r"\[0, 2\*\*32\)"),
    (lambda: kr.normal((2,), seed=True), "integer"),
    (lambda: kr.uniform((-1, 2), seed=1), "negative"),
    (lambda: kr.categorical(LOGITS, -1, seed=1), "negative"),
])
def test_bad_arguments_keras_lets_through_are_refused(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_a_seed_generator_created_when_a_layer_builds_inside_the_compiled_step():
    """A custom layer that makes its SeedGenerator in `build` is first built inside fit's traced step:
    the generator's state must be concrete, and it advances once per draw."""
    import kerasish

    class Noisy(kerasish.layers.Layer):
        def build(self, shape):
            self.gen = kerasish.random.SeedGenerator(3)

        def call(self, x, training=None):
            return x + kerasish.random.normal(kerasish.ops.shape(x), seed=self.gen) if training else x

    class Net(kerasish.Model):
        def __init__(self):
            super().__init__()
            self.noisy, self.out = Noisy(), kerasish.layers.Dense(1)

        def call(self, x, training=None):
            return self.out(self.noisy(x, training=training))
    model = Net()
    model.compile(optimizer="sgd", loss="mse")
    history = model.fit(np.ones((16, 3), "float32"), np.ones((16, 1), "float32"), batch_size=8, epochs=2, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    assert np.asarray(model.noisy.gen.state.value).tolist() == [3, 4]  # 2 epochs x 2 steps
