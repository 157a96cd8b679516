"""keras.ops numpy group against Keras 3's own (JAX backend): every row of the op table
(test_numpy_table.py) compared in value, dtype and gradient.

Running the table costs XLA compiles, not arithmetic: eagerly, every primitive of every row on every
new shape and dtype is compiled on its own (~0.1 s a row with its gradient). So the rows that can be
traced run in chunks of 16, each chunk one compiled program that evaluates both libraries' ops and
gradients (XLA's compile time grows faster than linearly with program size, so chunks beat one
program for the table); this is also the table's `jax.jit` check. The rows that cannot be traced,
and an eager sample of the others, go through the shared harness's `run_case` op by op.
"""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import keras as keras_ref
import kerasish.ops
from harness import TOLERANCE, Case, _assert_close, _dtypes, ids, run_case, under_jit
from test_numpy_table import CASES, X3

# Ops whose output shape depends on the values cannot be traced, in Keras either; nor can
# `where(condition)` (which is `nonzero`), `repeat` with an array of repeats, or Keras's window
# functions (Keras turns their length into an array first).
VALUE_DEPENDENT = {"nonzero", "unique", "bincount", "histogram", "bartlett", "blackman", "hamming", "hanning",
                   "kaiser"}


def _traceable(case: Case) -> bool:
    if case.name == "where":
        return len(case.args) == 3
    if case.name == "repeat":
        return not isinstance(case.args[1], np.ndarray)
    return case.name not in VALUE_DEPENDENT


NOT_DIFFERENTIABLE = {"nextafter"}   # JAX has no gradient rule for it


def _float_positions(case: Case) -> list[int]:
    return [i for i, a in enumerate(case.args) if isinstance(a, np.ndarray) and np.issubdtype(a.dtype, np.floating)]


def _array_positions(case: Case) -> list[int]:
    return [i for i, a in enumerate(case.args) if isinstance(a, np.ndarray)]


def _gradient_on_first_row(cases: list[Case]) -> list[Case]:
    """Each op's gradient is compared on its first row with float array inputs (and on rows that ask
    with `grad=True`); the other rows compare values and dtypes only."""
    seen, rows = set(), []
    for case in cases:
        wanted = case.name not in NOT_DIFFERENTIABLE and case.grad is not False and (
            case.grad or case.name not in seen) and bool(_float_positions(case))
        if wanted:
            seen.add(case.name)
        rows.append(case if wanted else dataclasses.replace(case, grad=False))
    return rows


ROWS = _gradient_on_first_row(CASES)
TRACED = [case for case in ROWS if _traceable(case)]
CHUNKS = [TRACED[i:i + 16] for i in range(0, len(TRACED), 16)]
EAGER = [case for case in ROWS if not _traceable(case)] + [
    dataclasses.replace(case, grad=False) for case in TRACED[::16]]


def _summed_float_outputs(fn, case: Case):
    """`sum(fn(*args))` over its float outputs, as a function of the float array arguments."""
    def total(*floats):
        args = list(case.args)
        for i, value in zip(_float_positions(case), floats):
            args[i] = value
        return sum(jnp.sum(leaf.astype(jnp.float32)) for leaf in jax.tree.leaves(fn(*args, **case.kwargs))
                   if jnp.issubdtype(leaf.dtype, jnp.floating))
    return total


def _evaluate_chunk(rows: list[Case]) -> list[dict]:
    """Per row, both libraries' outputs (and gradients where the row wants them), in one program."""
    def program(inputs):
        results = []
        for case, arrays in zip(rows, inputs):
            args = list(case.args)
            for i, value in zip(_array_positions(case), arrays):
                args[i] = value
            fns = {"ours": getattr(kerasish.ops, case.name), "ref": getattr(keras_ref.ops, case.name)}
            result = {side: fn(*args, **case.kwargs) for side, fn in fns.items()}
            floats = [args[i] for i in _float_positions(case)]
            if case.grad is not False and any(jnp.issubdtype(leaf.dtype, jnp.floating)
                                              for leaf in jax.tree.leaves(result["ref"])):
                for side, fn in fns.items():
                    result[f"{side}_grad"] = jax.grad(_summed_float_outputs(fn, case),
                                                      argnums=tuple(range(len(floats))))(*floats)
            results.append(result)
        return results
    return jax.jit(program)([[case.args[i] for i in _array_positions(case)] for case in rows])


@pytest.mark.parametrize("rows", CHUNKS, ids=[f"{c[0].id}..{c[-1].id}" for c in CHUNKS])
def test_ops_match_keras_under_jit(rows):
    failures = []
    for case, result in zip(rows, _evaluate_chunk(rows), strict=True):
        try:
            assert _dtypes(result["ours"]) == _dtypes(result["ref"]), \
                f"dtypes {_dtypes(result['ours'])}, Keras gives {_dtypes(result['ref'])}"
            rtol = case.rtol or max([TOLERANCE.get(d, 1e-6) for d in _dtypes(result["ref"])] or [1e-6])
            _assert_close(result["ours"], result["ref"], rtol, case.atol, case.id)
            if "ours_grad" in result:
                _assert_close(result["ours_grad"], result["ref_grad"], max(rtol, 1e-5), max(case.atol, 1e-5),
                              f"{case.id} gradient")
        except AssertionError as error:
            failures.append(f"{case.id}: {error}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("case", EAGER, ids=ids(EAGER))
def test_op_matches_keras_eagerly(case):
    run_case(case)


def test_every_differentiable_op_has_its_gradient_compared():
    with_gradient = {case.name for case in ROWS if case.grad is not False}
    assert {"mean", "divide_no_nan", "sort", "matmul", "einsum", "pad", "take", "where", "histogram"} <= with_gradient
    assert len(with_gradient) > 140, f"only {len(with_gradient)} ops have a gradient row"


def test_data_dependent_ops_work_under_jit_where_keras_allows():
    ties = jnp.array([3, 1, 3, 2], "int32")
    fixed = jax.jit(lambda v: kerasish.ops.unique(v, size=4, fill_value=0))(ties)
    np.testing.assert_array_equal(fixed, [1, 2, 3, 0])
    chosen = jax.jit(lambda c, a, b: kerasish.ops.where(c, a, b))(jnp.array([True, False]), jnp.ones(2), 0.0)
    np.testing.assert_array_equal(chosen, [1.0, 0.0])
    part = jax.jit(lambda v: kerasish.ops.argpartition(v, 1))(jnp.array([4.0, 1.0, 3.0]))
    assert int(part[0]) == 1
    np.testing.assert_allclose(under_jit(Case("mean", (X3,), {"axis": 1})), np.mean(X3, axis=1), rtol=1e-6)
