"""Keras 3's dtype rules: names of dtypes and the type that mixing them gives.

`standardize_dtype` turns any spelling of a dtype (a string, a NumPy or JAX dtype or scalar type,
a Python type) into Keras's name for it. `result_type` applies Keras's promotion rules: JAX's
promotion lattice, with Python `int` and `float` (and Python scalar values) weakly typed so that they
take the precision of the other operand, weak types resolved by `floatx()`, and 64-bit results
narrowed to 32 bits as Keras's JAX backend does. Every op group uses these two to decide result
dtypes; this module computes no values.
"""

from __future__ import annotations

import functools
from typing import Any

from kerasish.backend import floatx

BOOL_TYPES = ("bool",)
INT_TYPES = ("uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32", "int64")
FLOAT_TYPES = ("bfloat16", "float16", "float32", "float64")
COMPLEX_TYPES = ("complex64", "complex128")
FLOAT8_TYPES = ("float8_e4m3fn", "float8_e5m2")
ALLOWED_DTYPES = (*BOOL_TYPES, *INT_TYPES, *FLOAT_TYPES, *COMPLEX_TYPES, *FLOAT8_TYPES, "string")

# Python types and the one string alias Keras accepts, with the dtype Keras's JAX backend gives them.
_PYTHON_TYPES = {bool: "bool", int: "int32", float: "float32", complex: "complex64", str: "string",
                 "int": "int32"}

# Each dtype's immediate successors in JAX's promotion lattice; "int" and "float" are the weak types
# of Python scalars. Everything reachable from a node is a type it may promote to.
_SUCCESSORS = {
    "bool": ("int",),
    "int": ("uint8", "int8", "complex64"),
    "uint8": ("uint16", "int16"), "uint16": ("uint32", "int32"), "uint32": ("uint64", "int64"),
    "uint64": ("float",),
    "int8": ("int16",), "int16": ("int32",), "int32": ("int64",), "int64": ("float",),
    "float": ("bfloat16", "float16"),
    "bfloat16": ("float32",), "float16": ("float32",), "float32": ("float64", "complex64"),
    "float64": ("complex128",), "complex64": ("complex128",), "complex128": (),
}
_NARROW_64_BITS = {"int64": "int32", "uint64": "uint32", "float64": "float32", "complex128": "complex64"}


@functools.cache
def _upper_bounds(node: str) -> frozenset[str]:
    """The node and every type reachable from it in the lattice."""
    return frozenset({node}).union(*(_upper_bounds(n) for n in _SUCCESSORS[node]))


@functools.cache
def _join(nodes: frozenset[str]) -> str:
    """The least upper bound of `nodes`: the common upper bound below all the others."""
    unknown = sorted(n for n in nodes if n not in _SUCCESSORS)
    if unknown:
        raise ValueError(f"dtype={unknown[0]!r} cannot take part in Keras type promotion. Expected one of "
                         f"{sorted(_SUCCESSORS)}.")
    common = frozenset.intersection(*(_upper_bounds(n) for n in nodes))
    least = [c for c in common if common <= _upper_bounds(c)]
    if len(least) != 1:
        raise ValueError(f"Input dtypes {tuple(sorted(nodes))} have no implicit promotion path. Cast the "
                         "inputs explicitly to the dtype you want.")
    return least[0]


def standardize_dtype(dtype: Any) -> str:
    """Keras's name for `dtype`.

    Args:
        dtype: a dtype name ("float32"), a NumPy or JAX dtype or scalar type (`np.float32`,
            `jnp.bfloat16`, `x.dtype`), a Python type (`int` -> "int32", `float` -> "float32"), or
            None for `floatx()`.

    Returns:
        One of `ALLOWED_DTYPES`, e.g. "float32".

    Raises:
        ValueError: `dtype` names no dtype Keras supports.

    Example:
        >>> standardize_dtype(np.dtype("int8")), standardize_dtype(float)
        ('int8', 'float32')
    """
    if dtype is None:
        return floatx()
    if isinstance(dtype, (type, str)) and dtype in _PYTHON_TYPES:
        return _PYTHON_TYPES[dtype]
    name = getattr(dtype, "name", None) or getattr(dtype, "__name__", None) or dtype
    if name not in ALLOWED_DTYPES:
        raise ValueError(f"Invalid dtype. Expected one of {ALLOWED_DTYPES} (or a NumPy/JAX dtype or Python "
                         f"type naming one). Received: dtype={dtype!r}")
    return name


def _dtype_and_weakness(item: Any) -> tuple[str, bool]:
    """(dtype name, weakly typed?) of a dtype, a Python type, an array, or a Python scalar."""
    if item is int or item is float:
        return _PYTHON_TYPES[item], True
    if isinstance(item, (bool, int, float, complex)) and not hasattr(item, "dtype"):
        return _dtype_and_weakness(type(item))
    if hasattr(item, "dtype") and not isinstance(item, type):
        return standardize_dtype(item.dtype), False
    return standardize_dtype(item), False


def _weak_name(dtype: str) -> str:
    """The weak node ("int" / "float") that a weakly typed `dtype` stands for in the lattice."""
    if dtype == "bool":
        return dtype
    return "float" if "float" in dtype else "int"


def _resolve_weak(dtype: str) -> str:
    """A weak result takes the precision of `floatx()` (float32 -> int32 / float32)."""
    bits = floatx()[-2:]
    if dtype == "bool":
        return dtype
    if dtype.startswith("u"):
        return f"uint{bits}"
    if dtype.startswith("i"):
        return f"int{bits}"
    return f"float{bits}"


def result_type(*dtypes_or_values: Any) -> str:
    """The dtype Keras 3 gives when its ops mix these operands.

    Args:
        *dtypes_or_values: dtypes in any spelling `standardize_dtype` accepts (None means `floatx()`),
            arrays (their dtype), or Python scalars. Python `int` / `float` (types or values) are
            weakly typed: they adopt the other operands' precision.

    Returns:
        The promoted dtype name; `floatx()` when nothing is given. 64-bit results are narrowed to 32
        bits, as on Keras's JAX backend.

    Raises:
        ValueError: an operand is a float8 dtype (never promoted implicitly) or names no dtype, or the
            dtypes have no promotion path.

    Example:
        >>> result_type("bfloat16", int), result_type("int32", "float16"), result_type("uint8", "int8")
        ('bfloat16', 'float32', 'int16')
    """
    if not dtypes_or_values:
        return floatx()
    pairs = [_dtype_and_weakness(floatx() if item is None else item) for item in dtypes_or_values]
    if any(dtype in FLOAT8_TYPES for dtype, _ in pairs):
        raise ValueError("float8 dtypes are never promoted implicitly; cast them first. Received: "
                         f"{dtypes_or_values}")
    names = {dtype for dtype, _ in pairs}
    weak = [is_weak for _, is_weak in pairs]
    if len(pairs) == 1:
        out, out_weak = pairs[0]
    elif len(names) == 1 and not all(weak):
        out, out_weak = names.pop(), False
    elif all(weak):
        out, out_weak = _join(frozenset(names)), True
    else:
        out = _join(frozenset(_weak_name(d) if w else d for d, w in pairs))
        out_weak = out in ("int", "float")
    if out_weak and out != "bool":
        out = _resolve_weak(out)
    return _NARROW_64_BITS.get(out, out)
