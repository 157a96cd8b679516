"""keras.ops numpy group beyond the op table: variables as inputs, Python scalars, the ops that return
Python values or functions, and the argument errors Keras raises."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

import keras as keras_ref
import kerasish.ops
from harness import rand

F = rand(3, 4, seed=1)
G = rand(3, 4, seed=2)
ROW = rand(4, seed=3)
F16 = rand(3, 4, dtype="float16", seed=4)
I = rand(3, 4, dtype="int32", seed=6, low=-5, high=5)
I3 = rand(2, 3, 4, dtype="int32", seed=11, low=-9, high=9)
B = rand(3, 4, dtype="bool", seed=8)


def test_variables_are_read_as_their_values():
    param, other = nnx.Param(jnp.asarray(F)), nnx.Param(jnp.asarray(G))
    ops = kerasish.ops
    calls = [(ops.add, (param, other)), (ops.mean, (param,)), (ops.matmul, (param, ops.transpose(other))),
             (ops.concatenate, ([param, other],)), (ops.where, (B, param, other)), (ops.reshape, (param, (-1,))),
             (ops.take, (param, jnp.array([1, 5]))), (ops.sin, (param,)), (ops.sort, (param,)),
             (ops.einsum, ("ij,ij->i", param, other)), (ops.stack, ([param, other],)), (ops.clip, (param, 0, 1)),
             (ops.get_item, (param, 1)), (ops.argmax, (param,)), (ops.var, (param,)), (ops.zeros_like, (param,))]
    for fn, args in calls:
        plain = [jnp.asarray(a) if isinstance(a, nnx.Variable) else
                 [jnp.asarray(v) for v in a] if isinstance(a, list) else a for a in args]
        got, want = fn(*args), fn(*plain)
        assert isinstance(got, jax.Array), fn.__name__
        np.testing.assert_array_equal(got, want, err_msg=fn.__name__)
    assert ops.ndim(param) == 2 and ops.size(param) == 12
    grads = jax.grad(lambda p: ops.sum(ops.square(p)))(param)
    np.testing.assert_allclose(jnp.asarray(grads), 2 * F, rtol=1e-6)


@pytest.mark.parametrize("value", [F, I3, np.float32(2.0), 3, jnp.ones((2, 0))],
                         ids=["f32", "i32-3d", "numpy-scalar", "int", "empty"])
def test_ndim_and_size_are_python_ints_as_in_keras(value):
    for name in ("ndim", "size"):
        ours, ref = getattr(kerasish.ops, name)(value), getattr(keras_ref.ops, name)(value)
        assert ours == ref and isinstance(ours, int), name


def test_vectorize_matches_keras():
    def pairwise(a, b, scale):
        return jnp.sum(a * b) * scale
    ours = kerasish.ops.vectorize(pairwise, excluded={2}, signature="(n),(n)->()")
    ref = keras_ref.ops.vectorize(pairwise, excluded={2}, signature="(n),(n)->()")
    np.testing.assert_allclose(ours(F, G, 2.0), ref(F, G, 2.0), rtol=1e-6)
    elementwise = kerasish.ops.vectorize(lambda a: jnp.where(a > 0, a, 0.0))
    np.testing.assert_array_equal(jax.jit(elementwise)(F), np.maximum(F, 0))


@pytest.mark.parametrize("name,args", [("add", (1, 2.5)), ("multiply", (F16, 2.0)), ("sin", (0.5,)),
                                       ("maximum", (I, 1)), ("where", (B, 1, 0.5)), ("power", (2, I))],
                         ids=["add", "multiply-f16", "sin", "maximum-i32", "where", "power"])
def test_python_scalars_give_arrays_weak_as_in_keras(name, args):
    ours, ref = getattr(kerasish.ops, name)(*args), getattr(keras_ref.ops, name)(*args)
    assert isinstance(ours, jax.Array)
    assert (ours.dtype, ours.weak_type) == (ref.dtype, ref.weak_type)
    np.testing.assert_allclose(np.asarray(ours, np.float64), np.asarray(ref, np.float64), rtol=1e-3)


def test_reshape_takes_a_shape_held_in_an_array():
    for shape in (np.array([2, 6]), jnp.array([6, -1])):
        ours, ref = kerasish.ops.reshape(F, shape), keras_ref.ops.reshape(F, shape)
        assert ours.shape == ref.shape
        np.testing.assert_array_equal(ours, ref)


def test_python_lists_are_accepted_where_keras_converts_them():
    np.testing.assert_allclose(kerasish.ops.mean([1, 2, 4]), keras_ref.ops.mean(np.array([1, 2, 4])))
    assert kerasish.ops.sin([0.0, 1.0]).dtype == keras_ref.ops.sin([0.0, 1.0]).dtype


# Calls Keras refuses; kerasish must refuse them with the same exception type and say what it received.
BAD_CALLS = [
    ("fabs", (np.array([1 + 2j], "complex64"),), {}, TypeError),
    ("ldexp", (F, G), {}, TypeError),
    ("reshape", (F, (-1, -1)), {}, ValueError),
    ("reshape", (F, (-2, 6)), {}, ValueError),
    ("rot90", (ROW,), {}, ValueError),
    ("rot90", (F,), {"axes": (1, 1)}, ValueError),
    ("pad", (F, ((1, 1), (1, 1), (1, 1))), {}, ValueError),
    ("pad", (F, 1), {"mode": "edge", "constant_values": 2}, ValueError),
    ("pad", (F, [(1, 2), (3,)]), {}, ValueError),
    ("array_split", (F, 1.5), {}, TypeError),
    ("array_split", (F, 0), {}, ValueError),
    ("array_split", (F, 2), {"axis": 1.0}, TypeError),
    ("histogram", (ROW,), {"bins": 2.5}, TypeError),
    ("histogram", (ROW,), {"bins": -1}, ValueError),
    ("histogram", (ROW,), {"range": (2.0, 1.0)}, ValueError),
    ("histogram", (ROW,), {"range": [0.0, 1.0]}, ValueError),
    ("histogram", (F,), {}, ValueError),
    ("searchsorted", (F, ROW), {}, ValueError),
    ("select", (F > 0, [F]), {}, ValueError),
    ("select", ([], []), {}, ValueError),
    ("where", (B, F), {}, ValueError),
    ("eye", (3.0,), {}, TypeError),
    ("eye", (3, 2.0), {}, TypeError),
    ("vander", (F,), {}, ValueError),
    ("vander", (ROW,), {"N": 2.0}, TypeError),
    ("vander", (ROW,), {"N": -1}, ValueError),
    ("vander", (ROW,), {"increasing": 1}, TypeError),
    ("vectorize", (3,), {}, ValueError),
    ("diagonal", (F,), {"axis1": 1, "axis2": -1}, ValueError),
]


@pytest.mark.parametrize("name,args,kwargs,error", BAD_CALLS, ids=[f"{c[0]}-{i}" for i, c in enumerate(BAD_CALLS)])
def test_bad_arguments_raise_as_in_keras(name, args, kwargs, error):
    with pytest.raises(error):
        getattr(keras_ref.ops, name)(*args, **kwargs)
    with pytest.raises(error, match="Received|received|Expected|Invalid|cannot|both"):
        getattr(kerasish.ops, name)(*args, **kwargs)


def test_bincount_sparse_is_refused_with_the_reason():
    with pytest.raises(ValueError, match="sparse=True"):
        kerasish.ops.bincount(jnp.array([0, 1]), sparse=True)


def test_bincount_rows_share_the_longest_length():
    # Keras's JAX backend fails when rows would have different lengths; kerasish pads them all.
    counts = kerasish.ops.bincount(jnp.array([[0, 0], [3, 1]]))
    np.testing.assert_array_equal(counts, [[2, 0, 0, 0], [0, 1, 0, 1]])
