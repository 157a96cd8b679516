"""The dtype matrix of the keras.ops numpy group: result dtypes (and shapes, and weak typing) against
Keras 3 for every elementwise op, reduction and product over float32, float16, bfloat16, int8, uint8,
int32, bool and Python scalars, mixed.

Only dtypes are compared here, so the ops are traced with `jax.eval_shape` and never compiled: the
matrix costs milliseconds per row where running each op/dtype pair would cost an XLA compile each
(values are compared in test_numpy_ops.py). Where Keras refuses a dtype, kerasish must refuse it too.
"""

import jax
import numpy as np
import pytest

import keras as keras_ref
import kerasish.ops
from harness import rand
from test_numpy_table import ARITHMETIC, BITWISE, COMPARISON, UNARY

DTYPES = ["float32", "float16", "bfloat16", "int32", "int8", "uint8", "bool"]


def _arrays(*shape):
    return {d: rand(*shape, dtype=d, low=0 if d == "uint8" else -2, high=3) for d in DTYPES}


A = _arrays(3, 4)
V = _arrays(4)
A3 = _arrays(2, 3, 4)
PAIRS = [("float32", "float32"), ("float16", "float32"), ("bfloat16", "float16"), ("int32", "float32"),
         ("int8", "uint8"), ("bool", "bool"), ("bool", "int32"), ("uint8", "bfloat16"), ("int32", 2.5),
         ("bfloat16", 3), ("float16", 0.5), ("uint8", 2), (True, "int8"), (1, "float16")]


def _pair(left, right):
    """(3, 4) and (4,) arrays of the named dtypes; Python scalars stay Python scalars."""
    return (A[left] if isinstance(left, str) else left, V[right] if isinstance(right, str) else right)


def _signature(fn, args, kwargs):
    """Shapes, dtypes and weak types of `fn(*args, **kwargs)`, traced with the arrays abstract; or the error."""
    positions = [i for i, a in enumerate(args) if isinstance(a, np.ndarray)]

    def traced(*arrays):
        full = list(args)
        for i, a in zip(positions, arrays):
            full[i] = a
        return fn(*full, **kwargs)
    try:
        out = jax.eval_shape(traced, *[args[i] for i in positions])
    except Exception as error:  # noqa: BLE001 -- the refusal itself is what is compared
        return type(error)
    return [(leaf.shape, str(leaf.dtype), leaf.weak_type) for leaf in jax.tree.leaves(out)]


def _rows():
    """(op name, [(args, kwargs), ...]) for every op whose dtype rule is checked here."""
    unary = [n for names in UNARY.values() for n in names]
    for name in unary:
        yield name, [((A[d],), {}) for d in DTYPES]
    for name in [*ARITHMETIC, *COMPARISON, *BITWISE, "gcd", "lcm", "nextafter", "ldexp"]:
        yield name, [(_pair(a, b), {}) for a, b in PAIRS]
    for name in ("sum", "mean", "max", "min", "amax", "amin", "all", "any", "std", "var", "prod", "ptp", "median",
                 "nanmax", "nanmin", "nansum", "nanprod", "nanmean", "nanmedian", "nanstd", "nanvar",
                 "count_nonzero", "cumsum", "cumprod", "nancumsum", "nancumprod", "argmax", "argmin", "nanargmax",
                 "nanargmin", "sort", "argsort", "average", "trapezoid", "diff", "corrcoef"):
        yield name, [((A[d],), {}) if name == "corrcoef" else ((A3[d],), {"axis": 1}) for d in DTYPES]
    for name in ("quantile", "percentile", "nanquantile", "nanpercentile"):
        yield name, [((A3[d], 0.5), {"axis": 1}) for d in DTYPES] + [((A3["float16"], V["float32"] / 3), {})]
    for name in ("matmul", "dot", "inner", "outer", "vdot", "kron", "tensordot", "einsum", "cross", "correlate"):
        yield name, [(_product_args(name, a, b), {}) for a, b in
                     [("float32", "float32"), ("int8", "int8"), ("int32", "int8"), ("float16", "bfloat16"),
                      ("int32", "float16"), ("bool", "bool"), ("uint8", "int8")]]
    yield "average", [((A3["int32"],), {"axis": 1, "weights": V[d][:3]}) for d in DTYPES]
    yield "clip", [((A[d], 0, 1), {}) for d in DTYPES] + [((A[d], -0.5, 1.5), {}) for d in DTYPES]
    yield "where", [((A["bool"], A[a], V[b]), {}) for a, b in PAIRS[:8]] + [((A["bool"], 1, 2.5), {}),
                                                                            ((A["bool"], A["int8"], 2), {})]
    yield "concatenate", [(([A[a], A[b]],), {}) for a, b in PAIRS[:8]]
    yield "stack", [(([A[a], A[b]],), {}) for a, b in PAIRS[:8]]
    yield "append", [((A[a], V[b]), {}) for a, b in PAIRS[:8]]
    yield "round", [((A[d],), {"decimals": -1}) for d in DTYPES if d != "bool"]
    yield "full", [(((2,), fill), {"dtype": dtype}) for fill in (1, 2.5, True, np.int8(3), V["float16"][:2])
                   for dtype in (None, "int32", "bfloat16")]
    yield "full_like", [((A[d], fill), {}) for d in DTYPES for fill in (1, 2.5)]
    yield "arange", [(args, {}) for args in [(5,), (2.0,), (1, 7), (1, 7.5), (0, 3, 1), (0, 3, 0.5),
                                            (np.int8(4),), (np.float16(4),)]]
    yield "linspace", [((a, b), {"num": 3}) for a, b in [(0, 1), (0.0, 1), (np.int8(0), 5), (V["float16"], 1)]]
    yield "logspace", [((a, b), {"num": 3}) for a, b in [(0, 1), (0.0, 2), (np.int8(0), 5)]]
    yield "geomspace", [((a, b), {"num": 3}) for a, b in [(1, 10), (1.0, 2), (np.float16(1), 5)]]
    yield "eye", [((3,), {"dtype": d}) for d in (None, "int8", "bool", "bfloat16")]
    yield "tri", [((3,), {"dtype": d}) for d in (None, "int8", "bool", "bfloat16")]
    yield "identity", [((3,), {"dtype": d}) for d in (None, "int8", "bool", "bfloat16")]
    for name in ("zeros_like", "ones_like", "empty_like"):
        yield name, [((A[d],), {"dtype": t}) for d in DTYPES for t in (None, "float16")]
    yield "take", [((A[d], V["int32"] % 3), {"axis": 1}) for d in DTYPES]
    yield "take_along_axis", [((A[d], (A["uint8"] % 4).astype("int32")), {"axis": 1}) for d in DTYPES]
    yield "select", [(([A["bool"]], [A[d]]), {"default": fill}) for d in DTYPES for fill in (0, 1.5)]
    yield "divide_no_nan", [(_pair(a, b), {}) for a, b in PAIRS]
    yield "vander", [((V[d],), {}) for d in DTYPES]
    yield "trace", [((A[d],), {}) for d in DTYPES]
    yield "median", [((A3[d],), {"keepdims": True}) for d in DTYPES]
    yield "quantile", [((A3[d], V["float32"][:2] / 3), {"keepdims": True}) for d in DTYPES]
    yield "view", [((A["float32"],), {"dtype": d}) for d in ("int32", "uint8", "bfloat16", "float16")]


def _product_args(name, a, b):
    if name == "einsum":
        return ("ij,kj->ik", A[a], A[b])
    if name == "cross":
        return (A3[a][..., :3], A3[b][..., :3])
    if name == "correlate":
        return (V[a], V[b][:3])
    if name == "tensordot":
        return (A3[a], A[b])
    if name in ("matmul", "dot"):
        return (A[a], A[b].T)
    return (A[a], A[b])


ROWS = list(_rows())


@pytest.mark.parametrize("name,calls", ROWS, ids=[f"{name}-{i}" for i, (name, _) in enumerate(ROWS)])
def test_result_dtypes_match_keras(name, calls):
    mismatches = []
    for args, kwargs in calls:
        ours = _signature(getattr(kerasish.ops, name), args, kwargs)
        ref = _signature(getattr(keras_ref.ops, name), args, kwargs)
        refused = isinstance(ref, type)
        if (refused and not isinstance(ours, type)) or (not refused and ours != ref):
            described = [getattr(a, "dtype", a) for a in args if not isinstance(a, (list, tuple, str))]
            mismatches.append(f"{name}{tuple(map(str, described))} {kwargs}: ours {ours}, Keras {ref}")
    assert not mismatches, "\n".join(mismatches)
