"""kerasish.kernels: every lowering against lax's own conv / reduce_window (values and
gradients), plus small NumPy references written from the Keras definitions."""

import itertools

import jax
from jax import lax
import jax.numpy as jnp
import numpy as np
import pytest

from kerasish import kernels
from kerasish.kernels.conv import MAX_PATCH_BYTES, resolve_conv_impl
from kerasish.kernels.pooling import resolve_pool_impl


@pytest.fixture(autouse=True)
def strict_numerics():
    with jax.numpy_rank_promotion("raise"), jax.numpy_dtype_promotion("strict"):
        yield


def rand(*shape, seed=0):
    return jnp.asarray(np.random.default_rng(seed).normal(size=shape), jnp.float32)


def close(actual, expected, rtol=1e-5):
    expected = np.asarray(expected)
    atol = rtol * max(1.0, float(np.abs(expected).max(initial=0.0)))
    np.testing.assert_allclose(np.asarray(actual), expected, rtol=rtol, atol=atol)


# ------------------------------------------------------------------ conv2d

# (height, width, cin, cout, kernel, strides, padding, dilation)
CONV_CASES = [
    (7, 7, 3, 4, 3, 1, "valid", 1),
    (7, 7, 3, 4, 3, 1, "same", 1),
    (9, 7, 2, 5, 3, 2, "valid", 1),
    (9, 7, 2, 5, 3, 2, "same", 1),
    (8, 8, 2, 3, 3, 2, "same", 1),  # even size, stride 2: TF puts the odd pad at the end
    (8, 6, 3, 2, 2, 1, "same", 1),  # even kernel
    (10, 11, 3, 2, (2, 4), (2, 3), "same", 1),
    (10, 11, 3, 2, (3, 2), (3, 1), "valid", 1),
    (11, 10, 2, 3, 3, 1, "same", 2),
    (11, 10, 2, 3, 3, 1, "valid", (2, 3)),
    (5, 5, 1, 6, 5, 1, "valid", 1),  # output 1x1
    (4, 4, 4, 3, 5, 1, "same", 1),  # kernel larger than the input
    (6, 9, 1, 1, 1, 1, "valid", 1),  # 1x1 kernel
    (6, 9, 5, 2, 1, 2, "same", 1),
    (28, 28, 1, 8, 3, 1, "valid", 1),  # the MNIST convnet layers
    (13, 13, 8, 16, 3, 1, "valid", 1),
]


def pair(v):
    return (v, v) if isinstance(v, int) else v


def lax_conv(x, kernel, strides, padding, dilation):
    return lax.conv_general_dilated(
        x, kernel, pair(strides), padding.upper(), rhs_dilation=pair(dilation),
        dimension_numbers=("NHWC", "HWIO", "NHWC"),
    )


def check_all_impls(make_fn, reference, impls, *args):
    """One jit per case: every impl and the reference, values and gradients."""
    fns = {impl: make_fn(impl) for impl in impls}
    fns["reference"] = reference
    results = value_and_grads_many(fns, *args)
    want, want_grads = results.pop("reference")
    for impl, (got, got_grads) in results.items():
        assert got.shape == want.shape, impl
        close(got, want)
        for g, r in zip(got_grads, want_grads):
            close(g, r)


def value_and_grads_many(fns, *args):
    def all_of_them(*a):
        out = {}
        for name, fn in fns.items():
            loss = lambda *b, fn=fn: jnp.sum(jnp.sin(fn(*b)))  # noqa: E731
            out[name] = (fn(*a), jax.grad(loss, range(len(a)))(*a))
        return out

    return jax.jit(all_of_them)(*args)


@pytest.mark.parametrize("case", CONV_CASES, ids=str)
def test_conv2d_matches_lax(case):
    h, w, cin, cout, k, strides, padding, dilation = case
    kh, kw = (k, k) if isinstance(k, int) else k
    x, kernel = rand(2, h, w, cin, seed=1), rand(kh, kw, cin, cout, seed=2)
    check_all_impls(
        lambda impl: lambda x, k: kernels.conv2d(x, k, strides, padding, dilation, impl=impl),
        lambda x, k: lax_conv(x, k, strides, padding, dilation),
        ["im2col", "xla"], x, kernel,
    )


def numpy_conv2d(x, kernel, stride, padding):
    """Direct loops from the definition; TF "same" padding computed independently."""
    n, h, w, _ = x.shape
    kh, kw, _, cout = kernel.shape
    if padding == "same":
        oh, ow = -(-h // stride), -(-w // stride)
        ph = max((oh - 1) * stride + kh - h, 0)
        pw = max((ow - 1) * stride + kw - w, 0)
        x = np.pad(x, ((0, 0), (ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2), (0, 0)))
    else:
        oh, ow = (h - kh) // stride + 1, (w - kw) // stride + 1
    out = np.zeros((n, oh, ow, cout))
    for i, j in itertools.product(range(oh), range(ow)):
        window = x[:, i * stride:i * stride + kh, j * stride:j * stride + kw, :]
        out[:, i, j, :] = np.einsum("nhwc,hwco->no", window, kernel)
    return out


@pytest.mark.parametrize("padding,stride", [("valid", 1), ("same", 1), ("same", 2), ("valid", 2)])
def test_conv2d_matches_numpy(padding, stride):
    x, kernel = rand(2, 6, 5, 3, seed=3), rand(3, 3, 3, 4, seed=4)
    want = numpy_conv2d(np.asarray(x, np.float64), np.asarray(kernel, np.float64), stride, padding)
    for impl in ("im2col", "xla"):
        close(jax.jit(lambda x, k: kernels.conv2d(x, k, stride, padding, impl=impl))(x, kernel), want)


def test_conv2d_same_output_shape_is_ceil():
    y = kernels.conv2d(rand(1, 7, 8, 2), rand(3, 3, 2, 5), strides=2, padding="same")
    assert y.shape == (1, 4, 4, 5)


def test_conv2d_accepts_upper_case_padding():
    x, k = rand(1, 5, 5, 1), rand(3, 3, 1, 1)
    close(kernels.conv2d(x, k, padding="SAME"), kernels.conv2d(x, k, padding="same"))


def test_auto_conv_is_a_static_choice_by_backend_and_size():
    assert resolve_conv_impl("auto", 1000, backend="cpu") == "im2col"
    assert resolve_conv_impl("auto", MAX_PATCH_BYTES + 1, backend="cpu") == "xla"
    assert resolve_conv_impl("auto", 1000, backend="gpu") == "xla"
    assert resolve_conv_impl("auto", 1000, backend="tpu") == "xla"
    assert resolve_conv_impl("xla", 1000, backend="cpu") == "xla"


def test_auto_conv_gives_the_same_result():
    x, k = rand(2, 9, 8, 3), rand(3, 3, 3, 4)
    close(kernels.conv2d(x, k, 2, "same"), kernels.conv2d(x, k, 2, "same", impl="xla"))


@pytest.mark.parametrize(
    "kwargs,message",
    [
        (dict(padding="causal"), "padding"),
        (dict(impl="cudnn"), "impl"),
        (dict(strides=0), "strides"),
        (dict(strides=(1, 2, 3)), "strides"),
        (dict(dilation_rate=-1), "dilation_rate"),
        (dict(strides=2, dilation_rate=2), "dilation_rate"),
    ],
)
def test_conv2d_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        kernels.conv2d(rand(1, 5, 5, 2), rand(3, 3, 2, 4), **kwargs)


def test_conv2d_rejects_bad_shapes():
    with pytest.raises(ValueError, match="rank 4"):
        kernels.conv2d(rand(5, 5, 2), rand(3, 3, 2, 4))
    with pytest.raises(ValueError, match="in_channels"):
        kernels.conv2d(rand(1, 5, 5, 3), rand(3, 3, 2, 4))
    with pytest.raises(ValueError, match="padding='same'"):
        kernels.conv2d(rand(1, 2, 5, 2), rand(3, 3, 2, 4))


# ------------------------------------------------------------------ pooling

# (height, width, pool_size, strides, padding)
POOL_CASES = [
    (9, 7, 2, None, "valid"),  # non-dividing: last row/col dropped
    (9, 7, 2, None, "same"),  # non-dividing: padded at the end
    (8, 8, 3, None, "valid"),
    (10, 10, 3, None, "same"),  # same padding on both sides
    (4, 4, 3, None, "same"),
    (9, 7, 3, 2, "valid"),
    (9, 7, 3, 2, "same"),
    (9, 7, 3, 1, "same"),
    (8, 9, 2, 1, "valid"),
    (11, 6, (3, 2), (2, 1), "same"),
    (7, 7, (1, 3), (1, 3), "same"),
    (26, 26, 2, 2, "valid"),  # the MNIST convnet's first pool
]
POOL_IMPLS = ["xla", "slices", "reshape"]  # "auto" is one of these, see test_auto_*


def pool_impls(pool, strides):
    """"reshape" falls back to "slices" unless windows tile the input; skip the repeat."""
    return POOL_IMPLS if strides in (None, pool) else ["xla", "slices"]


def lax_max_pool(x, pool, strides, padding):
    window, strides = pair(pool), pair(strides or pool)
    return lax.reduce_window(
        x, -np.inf, lax.max, (1, *window, 1), (1, *strides, 1), padding.upper()
    )


def lax_avg_pool(x, pool, strides, padding):
    window, strides = pair(pool), pair(strides or pool)
    dims, steps = (1, *window, 1), (1, *strides, 1)
    total = lax.reduce_window(x, 0.0, lax.add, dims, steps, padding.upper())
    count = lax.reduce_window(jnp.ones_like(x), 0.0, lax.add, dims, steps, padding.upper())
    return total / count


@pytest.mark.parametrize("case", POOL_CASES, ids=str)
def test_max_pool2d_matches_lax(case):
    h, w, pool, strides, padding = case
    check_all_impls(
        lambda impl: lambda x: kernels.max_pool2d(x, pool, strides, padding, impl),
        lambda x: lax_max_pool(x, pool, strides, padding),
        pool_impls(pool, strides), rand(2, h, w, 3, seed=5),
    )


@pytest.mark.parametrize("case", POOL_CASES, ids=str)
def test_avg_pool2d_matches_lax(case):
    h, w, pool, strides, padding = case
    check_all_impls(
        lambda impl: lambda x: kernels.avg_pool2d(x, pool, strides, padding, impl),
        lambda x: lax_avg_pool(x, pool, strides, padding),
        pool_impls(pool, strides), rand(2, h, w, 3, seed=6),
    )


@pytest.mark.parametrize("case", [(2, None, "valid"), (3, 2, "same")], ids=str)
def test_max_pool2d_gradient_ties_go_to_the_first_maximum(case):
    """Like XLA's select-and-scatter: a window of equal values (e.g. relu zeros)
    sends its whole gradient to its first element, not a share to each."""
    pool, strides, padding = case
    x = jnp.zeros((1, 5, 6, 2), jnp.float32).at[:, 1:3, 2:4].set(1.0)
    check_all_impls(
        lambda impl: lambda x: kernels.max_pool2d(x, pool, strides, padding, impl),
        lambda x: lax_max_pool(x, pool, strides, padding),
        pool_impls(pool, strides), x,
    )


def numpy_pool(x, pool, stride, padding, reduce):
    """Keras semantics from the definition: padded cells are ignored (so "same"
    average pooling divides by the number of real cells in each window)."""
    n, h, w, c = x.shape
    if padding == "same":
        oh, ow = -(-h // stride), -(-w // stride)
        top = max((oh - 1) * stride + pool - h, 0) // 2
        left = max((ow - 1) * stride + pool - w, 0) // 2
    else:
        oh, ow, top, left = (h - pool) // stride + 1, (w - pool) // stride + 1, 0, 0
    out = np.zeros((n, oh, ow, c))
    for i, j in itertools.product(range(oh), range(ow)):
        r0, c0 = i * stride - top, j * stride - left
        window = x[:, max(r0, 0):r0 + pool, max(c0, 0):c0 + pool, :]
        out[:, i, j, :] = reduce(window, axis=(1, 2))
    return out


@pytest.mark.parametrize("padding,pool,stride", [("same", 2, 2), ("same", 3, 2), ("valid", 3, 1)])
def test_pools_match_numpy(padding, pool, stride):
    x = rand(2, 5, 7, 3, seed=7)
    xn = np.asarray(x, np.float64)
    fns = {}
    for impl in ("xla", "slices", "reshape", "auto"):
        fns["max", impl] = lambda x, impl=impl: kernels.max_pool2d(x, pool, stride, padding, impl)
        fns["avg", impl] = lambda x, impl=impl: kernels.avg_pool2d(x, pool, stride, padding, impl)
    got = jax.jit(lambda x: {k: f(x) for k, f in fns.items()})(x)
    for (kind, _), y in got.items():
        close(y, numpy_pool(xn, pool, stride, padding, np.max if kind == "max" else np.mean))


def test_auto_pool_is_a_static_choice_by_backend_op_and_shape():
    tiled, overlapping = ((2, 2), (2, 2), None, None), ((3, 3), (2, 2), None, None)
    assert resolve_pool_impl("auto", "max", tiled, backend="cpu") == "reshape"
    assert resolve_pool_impl("auto", "max", overlapping, backend="cpu") == "slices"
    assert resolve_pool_impl("reshape", "max", overlapping, backend="cpu") == "slices"
    assert resolve_pool_impl("auto", "avg", tiled, backend="cpu") == "xla"
    assert resolve_pool_impl("auto", "max", tiled, backend="gpu") == "xla"
    assert resolve_pool_impl("auto", "max", tiled, backend="tpu") == "xla"


def test_auto_pools_give_the_same_result():
    x = rand(2, 9, 7, 3)
    for fn in (kernels.max_pool2d, kernels.avg_pool2d):
        close(fn(x, 3, 2, "same"), fn(x, 3, 2, "same", impl="xla"))
        close(fn(x, 2, None, "same"), fn(x, 2, None, "same", impl="xla"))


def test_avg_pool2d_same_divides_by_real_cells():
    y = kernels.avg_pool2d(jnp.ones((1, 5, 5, 1)), 2, padding="same")
    close(y, np.ones((1, 3, 3, 1)))


def test_max_pool2d_same_padding_never_wins():
    y = kernels.max_pool2d(-jnp.ones((1, 3, 3, 1)), 2, padding="same")
    close(y, -np.ones((1, 2, 2, 1)))


def test_global_pools():
    x = rand(2, 4, 5, 3, seed=8)
    close(kernels.global_avg_pool2d(x), np.asarray(x).mean(axis=(1, 2)))
    close(kernels.global_max_pool2d(x), np.asarray(x).max(axis=(1, 2)))
    assert kernels.global_avg_pool2d(x, keepdims=True).shape == (2, 1, 1, 3)
    assert kernels.global_max_pool2d(x, keepdims=True).shape == (2, 1, 1, 3)


@pytest.mark.parametrize("fn", [kernels.max_pool2d, kernels.avg_pool2d])
@pytest.mark.parametrize(
    "kwargs,message",
    [
        (dict(padding="full"), "padding"),
        (dict(impl="fast"), "impl"),
        (dict(pool_size=0), "pool_size"),
        (dict(strides=(2, 0)), "strides"),
        (dict(pool_size=4), "padding='same'"),
    ],
)
def test_pools_reject_bad_arguments(fn, kwargs, message):
    with pytest.raises(ValueError, match=message):
        fn(rand(1, 3, 3, 2), **kwargs)


@pytest.mark.parametrize(
    "fn", [kernels.max_pool2d, kernels.avg_pool2d, kernels.global_avg_pool2d, kernels.global_max_pool2d]
)
def test_pools_reject_bad_rank(fn):
    with pytest.raises(ValueError, match="rank 4"):
        fn(rand(3, 3, 2))
