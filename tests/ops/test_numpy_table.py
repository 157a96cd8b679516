"""The op table of the keras.ops numpy group: every op of Keras 3's `keras.ops.numpy` with the rows it
is checked on (shapes, dtypes, broadcasting, axis arguments), and the check that no name is missing.

The rows are run by test_numpy_ops.py (values, dtypes, gradients, eagerly and under `jax.jit`);
the op-by-dtype matrix is test_numpy_dtypes.py.
"""

import numpy as np

import keras as keras_ref
from harness import Case, assert_group_covered, keras_op_names, rand
from kerasish.ops import numpy as knp

# Keras names deliberately not provided, with the reason. Empty: all 220 are implemented.
LEFT_OUT: dict[str, str] = {}

F = rand(3, 4, seed=1)                                   # float32 in [-2, 2)
G = rand(3, 4, seed=2)
ROW = rand(4, seed=3)                                    # broadcasts against (3, 4)
F16 = rand(3, 4, dtype="float16", seed=4)
BF16 = rand(3, 4, dtype="bfloat16", seed=5)
I = rand(3, 4, dtype="int32", seed=6, low=-5, high=5)
IPOS = rand(4, dtype="int32", seed=7, low=1, high=6)     # non-zero divisors, positive log inputs
B = rand(3, 4, dtype="bool", seed=8)
B2 = rand(4, dtype="bool", seed=9)
X3 = rand(2, 3, 4, seed=10)                              # for reductions over several axes
I3 = rand(2, 3, 4, dtype="int32", seed=11, low=-9, high=9)
SQ = rand(4, 4, seed=12)

# Unary elementwise ops by the input domain they need. Every op runs on float32; a sample also on
# int32, float16/bfloat16 and bool for values (each new op/dtype pair costs an XLA compile, so the
# full dtype matrix is checked without running, in test_numpy_dtypes.py).
DOMAIN = {"any": (-2.0, 2.0), "unit": (-0.9, 0.9), "pos": (0.1, 3.0), "ge1": (1.1, 3.0)}
UNARY = {
    "any": ["abs", "absolute", "angle", "arcsinh", "arctan", "cbrt", "ceil", "conj", "conjugate", "copy", "cos",
            "cosh", "deg2rad", "exp", "exp2", "expm1", "fabs", "floor", "i0", "imag", "isfinite", "isinf",
            "isnan", "isneginf", "isposinf", "isreal", "logical_not", "nan_to_num", "rad2deg", "real",
            "reciprocal", "sign", "signbit", "sin", "sinc", "sinh", "square", "tan", "tanh", "trunc", "negative",
            "round", "bitwise_invert", "bitwise_not"],
    "unit": ["arcsin", "arccos", "arctanh"],
    "pos": ["log", "log10", "log1p", "log2", "sqrt"],
    "ge1": ["arccosh"],
}
BITS_ONLY = {"bitwise_invert", "bitwise_not"}
VALUES_ON = {"int32": {"trunc", "round", "sign", "square", "abs", "negative", "reciprocal", "sqrt", "exp", "sin",
                       "floor", "bitwise_invert", "bitwise_not"},
             "float16": {"exp", "tanh", "sqrt", "round"}, "bfloat16": {"sin", "log", "trunc", "cosh"},
             "bool": {"logical_not", "square", "exp", "abs", "bitwise_invert"}}


def _unary_rows():
    for domain, names in UNARY.items():
        low, high = DOMAIN[domain]
        for i, name in enumerate(names):
            if name not in BITS_ONLY:
                yield Case(name, (rand(3, 4, seed=20 + i, low=low, high=high),), label="f32")
            for dtype, chosen in VALUES_ON.items():
                if name in chosen:
                    low_int = max(low, 1) if domain != "any" else -3
                    data = rand(3, 4, dtype=dtype, seed=40 + i, low=low_int if dtype == "int32" else low,
                                high=high + 1 if dtype == "int32" else high)
                    yield Case(name, (data,), label=dtype)


ARITHMETIC = ["add", "subtract", "multiply", "divide", "true_divide", "maximum", "minimum", "fmax", "fmin",
              "mod", "fmod", "floor_divide", "divide_no_nan", "hypot", "arctan2", "logaddexp", "logaddexp2",
              "heaviside", "power"]
COMPARISON = ["equal", "not_equal", "greater", "greater_equal", "less", "less_equal", "logical_and",
              "logical_or", "logical_xor", "isclose"]
BITWISE = ["bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_left_shift", "left_shift", "bitwise_right_shift",
           "right_shift"]
INT_VALUES = {"divide", "true_divide", "floor_divide", "mod", "fmod", "power", "divide_no_nan", "maximum"}


def _binary_rows():
    positive = rand(3, 4, seed=14, low=0.2, high=2.0)
    for name in ARITHMETIC:
        yield Case(name, (positive if name == "power" else F, G), label="f32")
        if name in INT_VALUES:
            yield Case(name, (I, IPOS), label="i32")
        if name in ("add", "multiply", "maximum", "arctan2", "power"):
            yield Case(name, (F16, ROW), label="f16-f32-broadcast")
        if name in ("add", "divide", "floor_divide", "arctan2", "logaddexp"):
            yield Case(name, (I, 2.5), label="i32-pyfloat")
        if name in ("add", "divide_no_nan"):
            yield Case(name, (BF16, 3), label="bf16-pyint")
    for name in COMPARISON:
        yield Case(name, (F, G), label="f32")
        if name in ("equal", "greater"):
            yield Case(name, (I, ROW), label="i32-f32")
        if name.startswith("logical") or name == "equal":
            yield Case(name, (B, B2), label="bool")
    shifts = rand(4, dtype="int32", seed=15, low=0, high=5)
    for name in BITWISE:
        yield Case(name, (I, shifts), label="i32")
        if name in ("bitwise_and", "bitwise_or", "bitwise_xor"):
            yield Case(name, (B, B2), label="bool")
    yield Case("left_shift", (rand(3, 4, dtype="uint8", seed=16, low=0, high=200), 2), label="u8-pyint")
    yield from [Case("nextafter", (F, G)), Case("nextafter", (F16, 1.0), label="f16"),
                Case("gcd", (I, IPOS)), Case("lcm", (I, IPOS)), Case("lcm", (IPOS, 4), label="pyint"),
                Case("ldexp", (F, I)),
                Case("isclose", (F, F + 1e-6), {"rtol": 0.0, "atol": 1e-5, "equal_nan": True}, label="args"),
                Case("clip", (F, -0.5, 0.5)), Case("clip", (I, -2, 3), label="i32"),
                Case("clip", (B, 0, 1), label="bool"), Case("clip", (F, ROW, 1.0), label="array-bound"),
                Case("nan_to_num", (np.array([np.nan, np.inf, -np.inf, 1.0], "float32"),),
                     {"nan": 7.0, "posinf": 9.0}, label="args"),
                Case("round", (F,), {"decimals": 1}, label="decimals"),
                Case("round", (I * 37,), {"decimals": -1}, label="i32-negative-decimals"),
                Case("divide_no_nan", (F, np.where(G > 0, G, 0).astype("float32")), grad=True, label="zeros")]


def _reduction_rows():
    plain = ["sum", "mean", "max", "min", "amax", "amin", "all", "any", "std", "var", "prod", "ptp", "median",
             "nanmax", "nanmin", "nansum", "nanprod", "nanmean", "nanmedian", "nanstd", "nanvar"]
    with_nan = X3.copy()
    with_nan[0, 1, 2] = np.nan
    for name in plain:
        data = with_nan if name.startswith("nan") else X3
        yield Case(name, (data,), {"axis": (0, 2), "keepdims": True}, label="axes-keepdims")
        if name in ("sum", "mean", "std", "var", "median", "prod", "max", "ptp"):
            yield Case(name, (I3,), {"axis": -1}, label="i32")
        if name in ("sum", "mean", "var"):
            yield Case(name, (rand(3, 5, dtype="float16", seed=17),), label="f16")
        if name in ("all", "any", "mean"):
            yield Case(name, (rand(2, 3, dtype="bool", seed=18),), {"axis": 0}, label="bool")
    yield from [
        Case("mean", (np.full((1000,), 60000.0, "float16"),), label="f16-no-overflow"),
        Case("mean", (X3,), {"axis": [0, 1]}, label="list-axis"),
        Case("max", (X3,), {"axis": 0, "initial": 1.0}, label="initial"),
        Case("min", (I3,), {"initial": -3}, label="initial"),
        Case("prod", (I3,), {"axis": 0, "dtype": "float32"}, label="dtype"),
        Case("average", (X3,)), Case("average", (X3,), {"axis": 1, "weights": rand(3, low=0.1, seed=19)},
                                     label="weights"),
        Case("average", (I3,), {"axis": 0, "weights": rand(2, dtype="int32", low=1, high=4)}, label="i32"),
        Case("average", (F16,), {"axis": -1}, label="f16"),
        Case("count_nonzero", (I3,)), Case("count_nonzero", (I3,), {"axis": (0, 2)}, label="axes"),
        Case("trapezoid", (F,)), Case("trapezoid", (F,), {"x": np.arange(4.0, dtype="float32") ** 2},
                                      label="x"),
        Case("trapezoid", (I,), {"dx": 0.5, "axis": 0}, label="i32-dx"),
        Case("allclose", (F, F + 1e-7)), Case("allclose", (F, G), {"atol": 10.0}, label="atol"),
        Case("corrcoef", (F,)),
    ]
    q = np.array([0.1, 0.5, 0.9], "float32")
    yield from [
        Case("quantile", (X3, q), {"axis": 1}),
        Case("percentile", (I3, 30.0), {"axis": -1, "method": "midpoint", "keepdims": True}, label="i32"),
        Case("nanquantile", (with_nan, 0.4), {"method": "nearest"}),
        Case("nanpercentile", (with_nan, q * 100), {"axis": 2}),
        Case("cumsum", (X3,), {"axis": 1}), Case("cumsum", (B,), {"axis": 0, "dtype": "float32"}, label="bool"),
        Case("cumprod", (I3,), label="flat-i32"), Case("nancumsum", (with_nan,), {"axis": -1}),
        Case("nancumprod", (with_nan,)),
    ]


def _sort_rows():
    with_nan = np.where(X3 > 1.5, np.nan, X3).astype("float32")
    zeros = np.array([[-0.0, 0.0, -0.0], [0.0, -0.0, 0.0]], "float32")
    ties = np.array([3, 1, 3, 2, 1, 1], "int32")
    return [
        *[Case(name, (X3,), kw, label=label) for name in ("argmax", "argmin")
          for kw, label in (({}, "flat"), ({"axis": 1, "keepdims": True}, "axis1-keepdims"))],
        Case("argmax", (zeros,), {"axis": 1}, label="signed-zeros"),
        Case("argmin", (zeros,), {"axis": 1}, label="signed-zeros"),
        Case("argmax", (F16,), {"axis": 0}, label="f16"), Case("argmin", (I,), label="i32"),
        Case("nanargmax", (with_nan,), {"axis": 2}), Case("nanargmin", (with_nan,)),
        Case("sort", (X3,)), Case("sort", (I3,), {"axis": 0}, label="i32-axis0"),
        Case("sort", (F,), {"axis": None}, label="flat"),
        Case("argsort", (X3,)), Case("argsort", (ties,), label="stable-ties"),
        Case("argsort", (np.float32(2.0),), label="scalar"),
        Case("argpartition", (ties, 2), label="i32"), Case("argpartition", (F, 1), {"axis": 0}, label="axis0"),
        Case("argpartition", (F, 3), {"axis": None}, label="flat"),
        Case("searchsorted", (np.array([1.0, 2.0, 3.0], "float32"), F)),
        Case("searchsorted", (np.array([1, 2, 2, 3], "int32"), ties), {"side": "right"}, label="right"),
        Case("digitize", (F, np.array([-1.0, 0.0, 1.0], "float32"))),
        Case("digitize", (I, np.array([-3, 0, 3], "int32")), label="i32"),
        Case("isin", (I, ties)), Case("isin", (I, ties), {"invert": True}, label="invert"),
        Case("nonzero", (B,)),
        Case("unique", (ties,), {"return_index": True, "return_inverse": True, "return_counts": True},
             label="all-returns"),
        Case("unique", (ties,), {"size": 5, "fill_value": -1}, label="size"),
        Case("unique", (np.array([[1, 2], [1, 2], [0, 1]], "int32"),), {"axis": 0}, label="rows"),
        Case("histogram", (ROW,), {"bins": 3, "range": (-1.0, 1.0)}),
        Case("bincount", (ties,), {"minlength": 8}),
        Case("bincount", (ties,), {"weights": rand(6, seed=21)}, label="weights"),
        Case("bincount", (np.array([[0, 1, 1], [2, 0, 3]], "int32"),), {"minlength": 4}, label="2d"),
        Case("bincount", (np.array([[0, 2], [2, 1]], "int32"),), {"weights": rand(2, 2, seed=22)},
             label="2d-weights"),
    ]


def _shape_rows():
    return [
        Case("reshape", (X3, (4, -1))), Case("reshape", (I3, [6, 4]), label="list"),
        Case("reshape", (ROW, 4), label="int"), Case("ravel", (X3,)),
        Case("transpose", (X3,)), Case("transpose", (X3, (1, 0, 2)), label="axes"),
        Case("swapaxes", (X3, 0, 2)), Case("moveaxis", (X3, 0, -1)),
        Case("moveaxis", (X3, (0, 1), (2, 0)), label="tuple"),
        Case("expand_dims", (F, 1)), Case("expand_dims", (I, (0, -1)), label="tuple"),
        Case("squeeze", (rand(1, 3, 1, seed=23),)), Case("squeeze", (rand(1, 3, 1, seed=23),), {"axis": 0},
                                                         label="axis"),
        Case("broadcast_to", (ROW, (2, 3, 4))), Case("broadcast_to", (B2, (3, 4)), label="bool"),
        Case("concatenate", ([F, G],)), Case("concatenate", ([F, G],), {"axis": 1}, label="axis1"),
        Case("concatenate", ([F, I],), {"axis": None}, label="mixed-flat"),
        Case("stack", ([F, G],)), Case("stack", ([I, I],), {"axis": -1}, label="i32-last"),
        Case("hstack", ([F, G],)), Case("vstack", ([ROW, ROW],)), Case("dstack", ([F, G],)),
        Case("append", (F, G)), Case("append", (F, ROW[None]), {"axis": 0}, label="axis0"),
        Case("split", (X3, 2, 2)), Case("split", (X3, [1, 2]), {"axis": 1}, label="indices"),
        Case("array_split", (X3, 3), {"axis": -1}), Case("hsplit", (F, 2)), Case("vsplit", (F, [1])),
        Case("dsplit", (X3, 2)),
        Case("tile", (F, 2)), Case("tile", (ROW, (2, 1, 3)), label="tuple"),
        Case("repeat", (F, 2)), Case("repeat", (F, np.array([1, 0, 2])), {"axis": 0}, label="array"),
        Case("flip", (X3,)), Case("flip", (X3,), {"axis": (0, 2)}, label="axes"),
        Case("fliplr", (F,)), Case("flipud", (I,)),
        Case("roll", (X3, 2)), Case("roll", (X3, (1, -1)), {"axis": (0, 2)}, label="axes"),
        Case("rot90", (F,)), Case("rot90", (X3,), {"k": 3, "axes": (1, 2)}, label="k3"),
        Case("pad", (F, 1)), Case("pad", (F, (1, 2)), label="pair"),
        Case("pad", (F, [(1,), (2,)]), label="per-axis"),
        Case("pad", (F, ((1, 1), (0, 2))), {"constant_values": 3.0}, label="constant"),
        *[Case("pad", (F, 2), {"mode": m}, label=m) for m in ("reflect", "symmetric", "edge", "wrap")],
        Case("diff", (X3,)), Case("diff", (I3,), {"n": 2, "axis": 0}, label="n2"),
        Case("view", (F, "int32")), Case("view", (I, "float32"), label="i32-f32"),
        Case("view", (F, "bfloat16"), label="f32-bf16"),
    ]


def _index_rows():
    idx = np.array([[0, 2], [1, 1], [3, 0]], "int32")
    return [
        Case("take", (F, np.array([0, 5, 11]))), Case("take", (X3, idx), {"axis": 2}, label="axis"),
        Case("take", (X3, np.array([1, -1])), {"axis": 1}, label="negative"),
        Case("take_along_axis", (F, idx), {"axis": 1}),
        Case("take_along_axis", (F, np.array([3, 0, 7])), label="flat"),
        Case("get_item", (X3, (slice(0, 1), 2))), Case("get_item", (F, np.array([2, 0])), label="array"),
        Case("get_item", (X3, (Ellipsis, None, 1)), label="ellipsis"),
        Case("where", (B, F, G)), Case("where", (B2, I, 0.5), label="broadcast-pyfloat"),
        Case("where", (I,), label="nonzero"),
        Case("select", ([F > 0, F < -1], [F, G])),
        Case("select", ([B, ~B], [I, I * 2]), {"default": 7}, label="default"),
        Case("unravel_index", (np.array([0, 5, 11]), (3, 4))),
        Case("diag", (SQ,)), Case("diag", (ROW,), {"k": -1}, label="vector"),
        Case("diagflat", (F,), {"k": 2}),
        Case("diagonal", (X3,)), Case("diagonal", (X3,), {"offset": 1, "axis1": -1, "axis2": 1}, label="axes"),
        Case("trace", (SQ,)), Case("trace", (I3,), {"offset": -1, "axis1": 1, "axis2": 2}, label="i32"),
        Case("tril", (SQ,)), Case("tril", (X3,), {"k": -1}, label="batched"),
        Case("triu", (SQ,)), Case("triu", (I3,), {"k": 1}, label="batched-i32"),
    ]


def _product_rows():
    i8a, i8b = rand(3, 4, dtype="int8", seed=24), rand(4, 2, dtype="int8", seed=25)
    return [
        Case("matmul", (F, G.T)), Case("matmul", (X3, rand(4, 5, seed=26)), label="batched"),
        Case("matmul", (ROW, G.T), label="vector"), Case("matmul", (i8a, i8b), label="int8"),
        Case("matmul", (F16, BF16.T), label="f16-bf16"),
        Case("dot", (F, ROW)), Case("dot", (SQ, SQ), label="matrix"), Case("dot", (I, 2), label="scalar"),
        Case("tensordot", (X3, rand(3, 4, 2, seed=27))), Case("tensordot", (X3, F), {"axes": ([1, 2], [0, 1])},
                                                             label="pairs"),
        Case("tensordot", (F, G), {"axes": 0}, label="outer"),
        Case("einsum", ("ij,kj->ik", F, G)), Case("einsum", ("bij->bj", X3), label="reduce"),
        Case("einsum", ("ij,jk", i8a, i8b), label="int8"),
        Case("einsum", ("ij,jk->ik", F, G.T), {"optimize": False}, label="kwargs"),
        Case("inner", (F, G)), Case("outer", (ROW, F)), Case("vdot", (F, G)), Case("kron", (SQ[:2, :2], I)),
        Case("cross", (rand(4, 3, seed=28), rand(4, 3, seed=29))),
        Case("cross", (rand(3, 2, seed=30), rand(2, 2, seed=31)), {"axisa": 0, "axisb": 0}, label="axes"),
        Case("correlate", (ROW, rand(3, seed=32))),
        *[Case("correlate", (rand(6, seed=33), ROW), {"mode": m}, label=m) for m in ("same", "full")],
        Case("slogdet", (SQ,)), Case("slogdet", (rand(2, 3, 3, seed=34),), label="batched"),
    ]


def _creation_rows():
    return [
        Case("zeros", ((2, 3),)), Case("zeros", (4, "int32"), label="int32"),
        Case("ones", ((2, 3),)), Case("ones", ((2,),), {"dtype": "bfloat16"}, label="bf16"),
        Case("empty", ((2, 3),)), Case("empty", (3,), {"dtype": "bool"}, label="bool"),
        Case("full", ((2, 3), 7)), Case("full", ((2, 3), 1.5, "float16"), label="f16"),
        Case("full", ((3, 4), ROW), label="array-fill"),
        Case("zeros_like", (I,)), Case("ones_like", (F,)), Case("ones_like", (F,), {"dtype": "int32"}, label="dtype"),
        Case("empty_like", (B,)), Case("full_like", (I, 2.7)), Case("full_like", (F, 2, "int32"), label="dtype"),
        Case("eye", (3,)), Case("eye", (3, 4, 1, "int32"), label="args"),
        Case("identity", (3,)), Case("identity", (2, "bool"), label="bool"),
        Case("tri", (3,)), Case("tri", (3, 5, -1, "int32"), label="args"),
        Case("arange", (5,)), Case("arange", (1.0, 4), label="float"), Case("arange", (1, 10, 3), label="step"),
        Case("arange", (0, 2, 0.5), label="float-step"), Case("arange", (6,), {"dtype": "float16"}, label="dtype"),
        Case("arange", (np.int32(2), 7), label="numpy-int"),
        Case("linspace", (0, 1, 5)), Case("linspace", (0.0, 2.0, 4), {"endpoint": False, "retstep": True},
                                              label="retstep"),
        Case("linspace", (ROW, ROW + 1), {"num": 3, "axis": 1}, label="arrays"),
        Case("linspace", (0, 10, 6), {"dtype": "int32"}, label="int32"),
        Case("logspace", (0, 2, 3)), Case("logspace", (0.0, 3.0, 4), {"base": 2, "endpoint": False}, label="base"),
        Case("geomspace", (1, 100, 3)), Case("geomspace", (1.0, 8.0, 4), {"dtype": "float16"}, label="f16"),
        Case("meshgrid", (ROW, rand(3, seed=35))), Case("meshgrid", (ROW, I[0]), {"indexing": "ij"}, label="ij"),
        Case("array", ([[1, 2], [3, 4]],)), Case("array", (F, "float16"), label="cast"),
        Case("vander", (ROW,)), Case("vander", (ROW,), {"N": 2, "increasing": True}, label="args"),
        Case("vander", (IPOS,), label="i32"),
        Case("bartlett", (5,)), Case("blackman", (6,)), Case("hamming", (4,)), Case("hanning", (7,)),
        Case("kaiser", (5, 2.5)),
    ]


CASES = [*_unary_rows(), *_binary_rows(), *_reduction_rows(), *_sort_rows(), *_shape_rows(), *_index_rows(),
         *_product_rows(), *_creation_rows()]
# Ops checked by their own tests in test_numpy_args.py (they return Python values or functions).
OUTSIDE_TABLE = {"ndim", "size", "vectorize"}


def test_table_and_checks_cover_every_keras_numpy_op():
    assert_group_covered(knp, keras_op_names(keras_ref.ops.numpy), CASES, LEFT_OUT, OUTSIDE_TABLE)
