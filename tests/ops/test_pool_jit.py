"""`ops.max_pool` / `ops.average_pool` compiled with their gradients (`jax.jit(jax.grad(...))`)
against Keras 3's ops: every rank (1-D/2-D/3-D), both data formats, valid and same padding.

Until the pools passed NumPy scalars as `lax.reduce_window`'s init values, the compiled gradient
of a 1-D/3-D or channels_first pool failed to linearize; eager gradients (the op tables) did not
show it. Keras's JAX backend gets `strides=None` wrong, so Keras is given the strides explicitly.
"""

import jax
import jax.numpy as jnp
import keras as keras_ref
import numpy as np
import pytest
from harness import rand

import kerasish

SHAPES = {1: (2, 9, 3), 2: (2, 7, 6, 3), 3: (2, 5, 4, 6, 3)}

ROWS = [(op, rank, data_format, padding)
        for op in ("max_pool", "average_pool")
        for rank in (1, 2, 3)
        for data_format in ("channels_last", "channels_first")
        for padding in ("valid", "same")]


def _compiled_value_and_grad(fn, x):
    return jax.jit(jax.value_and_grad(lambda x: jnp.sum(fn(x) * jnp.cos(fn(x)))))(x)


@pytest.mark.parametrize("op, rank, data_format, padding", ROWS,
                         ids=["-".join(map(str, row)) for row in ROWS])
def test_compiled_gradient_matches_keras(op, rank, data_format, padding):
    x = rand(*SHAPES[rank], seed=rank)
    if data_format == "channels_first":
        x = np.ascontiguousarray(np.moveaxis(x, -1, 1))
    pool, strides = 2, (2 if padding == "valid" else 1)
    ours = getattr(kerasish.ops, op)
    ref = getattr(keras_ref.ops, op)
    value, grad = _compiled_value_and_grad(
        lambda x: ours(x, pool, strides, padding, data_format), x)
    ref_value, ref_grad = _compiled_value_and_grad(
        lambda x: ref(x, pool, strides, padding, data_format), x)
    np.testing.assert_allclose(value, ref_value, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(grad, ref_grad, rtol=1e-4, atol=1e-4)
    pooled = jax.jit(lambda x: ours(x, pool, strides, padding, data_format))(x)
    np.testing.assert_allclose(pooled, ref(x, pool, strides, padding, data_format), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("op", ["max_pool", "average_pool"])
def test_default_strides_under_jit_grad(op):
    # The brief's reproduction: strides default to pool_size (checked against explicit strides).
    x = rand(2, 8, 3)
    fn = getattr(kerasish.ops, op)
    grad = jax.jit(jax.grad(lambda x: fn(x, 2).sum()))(x)
    ref = jax.jit(jax.grad(lambda x: getattr(keras_ref.ops, op)(x, 2, 2).sum()))(x)
    np.testing.assert_allclose(grad, ref, rtol=1e-4, atol=1e-4)


def test_integer_max_pool_under_jit():
    x = rand(2, 4, 4, 4, 2, dtype="int32", low=-5, high=5)
    ours = jax.jit(lambda x: kerasish.ops.max_pool(x, 2, 2, "same"))(x)
    np.testing.assert_array_equal(ours, keras_ref.ops.max_pool(x.astype("float32"), 2, 2, "same"))
    assert ours.dtype == jnp.int32


@pytest.mark.parametrize("rank", [1, 2])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_max_pool_off_cpu_lowering_matches_keras(monkeypatch, rank, data_format):
    # Off the CPU, channels_first max pools stay in their layout (plain reduce_window) and
    # kernels.max_pool2d lowers to reduce_window: both still give Keras's values and gradients.
    monkeypatch.setattr(jax, "default_backend", lambda: "gpu")
    x = rand(*SHAPES[rank], seed=rank)
    if data_format == "channels_first":
        x = np.ascontiguousarray(np.moveaxis(x, -1, 1))
    value, grad = _compiled_value_and_grad(lambda x: kerasish.ops.max_pool(x, 2, 1, "same", data_format), x)
    ref_value, ref_grad = _compiled_value_and_grad(
        lambda x: keras_ref.ops.max_pool(x, 2, 1, "same", data_format), x)
    np.testing.assert_allclose(value, ref_value, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(grad, ref_grad, rtol=1e-4, atol=1e-4)
