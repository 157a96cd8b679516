"""What every `keras.ops` numpy-group op shares: input conversion and the Keras dtype steps.

Owns: the cast of integer and bool inputs to the float dtype that Keras's float-valued ops
apply, the spelling of `dtype=` arguments, and the small factories that make an op from its `jnp`
function with Keras's argument names (`unary` also makes the nn group's activations and the math
group's special functions from their `jax.nn` / `jax.lax` / `jax.scipy` functions). Inputs (JAX and NumPy arrays, Python scalars and lists,
`nnx.Variable`s) become arrays through `kerasish.ops.core.convert_to_tensor`, imported here as
`as_array`. It holds no promotion table of its own: dtype promotion is
`kerasish.ops.dtypes.result_type`.
"""

from __future__ import annotations

from typing import Any, Callable, Union

import jax
import numpy as np
from flax import nnx

from kerasish.backend import floatx
from kerasish.ops.core import convert_to_tensor as as_array  # a variable gives its value; scalars stay weak
from kerasish.ops.dtypes import result_type, standardize_dtype

ArrayLike = Union[jax.typing.ArrayLike, nnx.Variable, list, tuple]
DTypeLike = Union[str, np.dtype, type, None]


def dtype_of(x: jax.Array) -> str:
    """Keras's name for the dtype of an array: "float32", "int32", "bool", ..."""
    return standardize_dtype(x.dtype)


def is_int_or_bool(dtype: str) -> bool:
    return "int" in dtype or dtype == "bool"


def float_input(x: ArrayLike) -> jax.Array:
    """`x` with integer and bool values cast to Keras's float for them (floatx); floats kept."""
    x = as_array(x)
    dtype = dtype_of(x)
    if is_int_or_bool(dtype):
        return x.astype(result_type(dtype, float))
    return x


def optional_dtype(dtype: DTypeLike) -> str | None:
    """A user's `dtype=` argument in Keras's spelling; None stays None."""
    return None if dtype is None else standardize_dtype(dtype)


def name_op(fn: Callable, name: str, doc: str) -> Callable:
    """Gives a factory-made op its public name and docstring (what `help(ops.<name>)` shows)."""
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return fn


def unary(name: str, jnp_fn: Callable[[Any], jax.Array], doc: str, *, to_float: bool = False) -> Callable:
    """An elementwise op of one array `x`; with `to_float`, ints and bools are computed in floatx."""
    convert = float_input if to_float else as_array

    def op(x: ArrayLike) -> jax.Array:
        return jnp_fn(convert(x))
    return name_op(op, name, doc)


def binary(name: str, jnp_fn: Callable[[Any, Any], jax.Array], doc: str, *,
           arg_names: tuple[str, str] = ("x1", "x2"), to_float: bool = False) -> Callable:
    """An elementwise op of two broadcasting arrays, called `x1, x2` (`x, y` for the bitwise ops).

    With `to_float`, both inputs are first cast to Keras's result type of the two and `float`.
    """
    def call(a: ArrayLike, b: ArrayLike) -> jax.Array:
        a, b = as_array(a), as_array(b)
        if to_float:
            dtype = result_type(a.dtype, b.dtype, float)
            a, b = a.astype(dtype), b.astype(dtype)
        return jnp_fn(a, b)

    if arg_names == ("x1", "x2"):
        def op(x1: ArrayLike, x2: ArrayLike) -> jax.Array:
            return call(x1, x2)
    elif arg_names == ("x", "y"):
        def op(x: ArrayLike, y: ArrayLike) -> jax.Array:
            return call(x, y)
    else:
        raise ValueError(f"binary ops take (x1, x2) or (x, y). Received: arg_names={arg_names}")
    return name_op(op, name, doc)
