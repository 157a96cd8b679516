"""keras.ops linalg group against Keras 3's own (JAX backend): the op table, invariants, jit, errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

import keras as keras_ref
import kerasish.ops
from harness import Case, assert_group_covered, assert_jit_matches_eager, ids, keras_op_names, rand, run_case
from kerasish.ops import linalg


def _spd(n, seed=0):
    a = rand(n, n, seed=seed)
    return (a @ a.T + n * np.eye(n)).astype("float32")


SPD = _spd(3)
BATCH_SPD = np.stack([_spd(4, 1), _spd(4, 2)])
LOWER = np.tril(rand(3, 3, low=1, high=2)).astype("float32")
LOWER_FACTOR = np.linalg.cholesky(SPD).astype("float32")
GENERAL = rand(3, 3, seed=7)


def _eigh_invariants(ours, ref):
    """Eigenvalues as Keras's; eigenvectors may differ in sign, so check x @ v == v * w instead."""
    np.testing.assert_allclose(ours[0], ref[0], rtol=1e-5)
    np.testing.assert_allclose(SPD @ np.asarray(ours[1]), np.asarray(ours[1]) * np.asarray(ours[0]), atol=1e-4)


def _eig_invariants(ours, ref):
    """Same eigenvalues as Keras (complex64, up to order); each column satisfies x @ v == w v."""
    assert ours[0].dtype == ref[0].dtype == jnp.complex64
    np.testing.assert_allclose(np.sort_complex(np.asarray(ours[0])), np.sort_complex(np.asarray(ref[0])),
                               rtol=1e-5)
    np.testing.assert_allclose(GENERAL @ np.asarray(ours[1]), np.asarray(ours[1]) * np.asarray(ours[0]),
                               atol=1e-4)


def _svd_invariants(ours, ref):
    """Singular values as Keras's; u @ diag(s) @ vh rebuilds the matrix."""
    u, s, vh = (np.asarray(part) for part in ours)
    np.testing.assert_allclose(s, ref[1], rtol=1e-5)
    k = s.shape[-1]
    np.testing.assert_allclose((u[..., :k] * s[..., None, :]) @ vh[..., :k, :], SVD_INPUT, atol=1e-5)


SVD_INPUT = rand(2, 5, 3, seed=4)

CASES = [
    Case("cholesky", (SPD,)),
    Case("cholesky", (BATCH_SPD,), {"upper": True}, label="batched-upper"),
    Case("cholesky_inverse", (LOWER_FACTOR,), rtol=1e-5),
    Case("cholesky_inverse", (LOWER_FACTOR.T.copy(),), {"upper": True}, rtol=1e-5, label="upper"),
    Case("det", (GENERAL,)),
    Case("det", (BATCH_SPD,), rtol=1e-5, label="batched"),
    Case("det", (rand(3, 3, dtype="int32", low=-4, high=4),), label="int32"),
    Case("eig", (GENERAL,), grad=False, compare=_eig_invariants),
    Case("eigh", (SPD,), compare=_eigh_invariants),
    Case("inv", (SPD,), rtol=1e-5),
    Case("inv", (BATCH_SPD,), rtol=1e-5, label="batched"),
    Case("lu_factor", (GENERAL,)),
    Case("lu_factor", (rand(2, 4, 4, seed=3),), label="batched"),
    Case("norm", (rand(7),)),
    Case("norm", (rand(3, 4),), {"ord": "fro", "keepdims": True}, label="fro-keepdims"),
    Case("norm", (rand(3, 4),), {"ord": 1, "axis": 1}, label="ord1-axis"),
    Case("norm", (rand(2, 3, 4),), {"ord": 2, "axis": (1, 2)}, rtol=1e-5, label="spectral-batched"),
    Case("norm", (rand(3, 4),), {"ord": np.inf, "axis": (0, 1)}, label="inf-matrix"),
    Case("norm", (rand(5, dtype="int32"),), label="int32"),
    Case("norm", (rand(5, dtype="float16"),), label="float16"),
    Case("qr", (rand(5, 3),)),
    Case("qr", (rand(3, 3),), {"mode": "complete"}, label="complete"),
    Case("solve", (SPD, rand(3)), rtol=1e-5, label="vector"),
    Case("solve", (SPD, rand(3, 2)), rtol=1e-5, label="matrix"),
    Case("solve_triangular", (LOWER, rand(3, 2)), {"lower": True}, rtol=1e-5),
    Case("solve_triangular", (LOWER.T.copy(), rand(3)), rtol=1e-5, label="upper-vector"),
    Case("svd", (SVD_INPUT,), {"full_matrices": False}, rtol=1e-5, compare=_svd_invariants),
    Case("svd", (SVD_INPUT,), grad=False, compare=_svd_invariants, label="full"),  # JAX: no full-matrix svd grad
    Case("svd", (SVD_INPUT,), {"compute_uv": False}, rtol=1e-5, label="values"),
    Case("lstsq", (rand(5, 3), rand(5, 2, seed=1)), rtol=1e-4, atol=1e-5),
    Case("matrix_rank", (np.outer(rand(4), rand(3, seed=1)),), label="rank-one"),
    Case("matrix_rank", (rand(2, 4, 4),), {"tol": 0.5}, label="tol-batched"),
    Case("pinv", (rand(4, 3),), rtol=1e-4, atol=1e-5),
    Case("pinv", (rand(4, 3),), {"rcond": 0.5}, rtol=1e-4, atol=1e-5, label="rcond"),
    Case("jvp", (jnp.sin, (rand(3),), (rand(3, seed=1),))),
    Case("jvp", (lambda x: (x ** 2, jnp.sum(x)), (rand(3),), (jnp.ones(3),)), {"has_aux": True}, label="aux"),
]

# Keras 3 linalg names not implemented here, with the reason. (None today.)
LEFT_OUT: dict[str, str] = {}


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_op_matches_keras(case):
    run_case(case)


def test_table_covers_every_keras_linalg_op():
    assert_group_covered(linalg, keras_op_names(keras_ref.ops.linalg), CASES, LEFT_OUT)
    assert all(getattr(getattr(kerasish.ops, name), "__wrapped__", None) is getattr(linalg, name)  # symbolic-aware wrapper
               for name in linalg.__all__)
    assert set(JIT_SAMPLE) <= {case.id for case in CASES}


JIT_SAMPLE = ("cholesky", "det-batched", "lu_factor", "norm-fro-keepdims", "qr", "solve-vector", "svd-values",
              "pinv")


@pytest.mark.parametrize("case", [c for c in CASES if c.id in JIT_SAMPLE], ids=lambda c: c.id)
def test_op_under_jit_matches_eager(case):
    assert_jit_matches_eager(case, rtol=1e-5, atol=1e-5)


def test_factorizations_keep_their_named_results():
    assert kerasish.ops.eigh(SPD).eigenvalues.shape == (3,)
    assert kerasish.ops.svd(SVD_INPUT).S.shape == (2, 3)
    assert kerasish.ops.qr(rand(5, 3)).R.shape == (3, 3)


def test_ops_read_variables_as_their_values():
    variable = nnx.Param(jnp.asarray(SPD))
    for name in ("inv", "det", "cholesky", "norm", "matrix_rank"):
        np.testing.assert_allclose(getattr(kerasish.ops, name)(variable), getattr(keras_ref.ops, name)(SPD),
                                   rtol=1e-6, err_msg=name)
    np.testing.assert_allclose(kerasish.ops.solve(variable, nnx.Param(jnp.ones(3))),
                               keras_ref.ops.solve(SPD, np.ones(3, "float32")), rtol=1e-6)


def test_cholesky_of_an_indefinite_matrix_raises_eagerly_and_gives_nans_under_jit():
    indefinite = -SPD
    for ops in (kerasish.ops, keras_ref.ops):
        with pytest.raises(ValueError, match="Cholesky"):
            ops.cholesky(indefinite)
    assert np.isnan(np.asarray(jax.jit(kerasish.ops.cholesky)(indefinite))).any()


@pytest.mark.parametrize("call", [
    lambda ops: ops.inv(rand(3)),
    lambda ops: ops.det(rand(2, 3)),
    lambda ops: ops.cholesky(rand(3, 4)),
    lambda ops: ops.eigh(rand(4, 3)),
    lambda ops: ops.solve(SPD, rand(4)),
    lambda ops: ops.solve(SPD, np.float32(1.0)),
    lambda ops: ops.solve_triangular(rand(3, 2), rand(3)),
    lambda ops: ops.svd(rand(4)),
    lambda ops: ops.matrix_rank(rand(4)),
    lambda ops: ops.pinv(rand(4)),
    lambda ops: ops.qr(rand(3, 3), mode="full"),
], ids=["inv-rank", "det-square", "cholesky-square", "eigh-square", "solve-rows", "solve-scalar",
        "triangular-square", "svd-rank", "rank-rank", "pinv-rank", "qr-mode"])
def test_invalid_arguments_raise_value_error_naming_them(call):
    with pytest.raises(ValueError, match="Received"):
        call(kerasish.ops)
    with pytest.raises((ValueError, TypeError)):
        call(keras_ref.ops)
