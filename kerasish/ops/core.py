"""keras.ops core group: conversion, dtypes, control flow, slicing and scattering, over jax / jax.lax.

Every function keeps Keras 3's name, argument names and defaults and returns what Keras's JAX
backend returns (JAX arrays; Python tuples and lists where Keras gives them). Inputs may be NumPy
arrays, JAX arrays, Python scalars or `flax.nnx.Variable`s (read through `convert_to_tensor`). The
control-flow ops are `jax.lax`'s, so they trace under `jax.jit` and differentiate as JAX does. Dtype
names and promotion come from `kerasish.ops.dtypes`; this module holds no maths of its own.
"""

from __future__ import annotations

import re
import sys
from typing import Any, Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from kerasish.ops.dtypes import standardize_dtype

__all__ = ["associative_scan", "cast", "cond", "convert_to_numpy", "convert_to_tensor", "custom_gradient",
           "dtype", "fori_loop", "is_tensor", "map", "rearrange", "saturate_cast", "scan", "scatter",
           "scatter_update", "shape", "slice", "slice_update", "stop_gradient", "switch", "unstack",
           "vectorized_map", "while_loop"]

_SCATTER_REDUCTIONS = ("add", "max", "min", "mul")


def _sparse_type() -> type | None:
    """JAX's sparse array base class, if `jax.experimental.sparse` was imported (else none can exist)."""
    module = sys.modules.get("jax.experimental.sparse")
    return module.JAXSparse if module is not None else None


def _unwrap(x: Any) -> Any:
    """A variable's current value; anything else unchanged."""
    return x.get_value() if isinstance(x, nnx.Variable) else x


# ---------------------------------------------------------------- conversion and dtypes

def convert_to_tensor(x: Any, dtype: Any = None, sparse: bool | None = None, ragged: bool | None = None
                      ) -> jax.Array:
    """`x` as a JAX array (of `dtype` if given); a variable gives its value.

    `sparse=False` densifies a JAX sparse array; `ragged=True` raises, as on Keras's JAX backend.
    """
    if ragged:
        raise ValueError("ragged tensors are not supported on JAX. Received: ragged=True")
    dtype = None if dtype is None else standardize_dtype(dtype)
    x = _unwrap(x)
    sparse_type = _sparse_type()
    if sparse_type is not None and isinstance(x, sparse_type):
        if sparse is not None and not sparse:
            return convert_to_tensor(x.todense(), dtype)
        return x if dtype is None or x.dtype == dtype else x.astype(dtype)
    if isinstance(x, jax.Array):
        return x if dtype is None or x.dtype == dtype else x.astype(dtype)
    if dtype == "bfloat16":  # NumPy cannot build bfloat16 from Python data: convert, then cast
        return jnp.asarray(x).astype(dtype)
    return jnp.asarray(x, dtype=dtype)


def convert_to_numpy(x: Any) -> np.ndarray:
    """`x` as a NumPy array (bfloat16 stays bfloat16, through ml_dtypes)."""
    x = _unwrap(x)
    sparse_type = _sparse_type()
    if sparse_type is not None and isinstance(x, sparse_type):
        x = x.todense()
    return np.array(x)


def is_tensor(x: Any) -> bool:
    """True for JAX arrays (tracers included) and JAX sparse arrays; False for NumPy arrays and variables."""
    sparse_type = _sparse_type()
    return isinstance(x, jax.Array) or (sparse_type is not None and isinstance(x, sparse_type))


def shape(x: Any) -> tuple[int, ...]:
    """The static shape of `x` as a tuple of ints."""
    return tuple(x.shape) if hasattr(x, "shape") else np.shape(x)


def dtype(x: Any) -> str:
    """Keras's name for the dtype of `x`, e.g. "float32"."""
    return standardize_dtype(x.dtype if hasattr(x, "dtype") else convert_to_tensor(x).dtype)


def cast(x: Any, dtype: Any) -> jax.Array:
    """`x` converted to `dtype` (any spelling `standardize_dtype` accepts)."""
    return convert_to_tensor(x, standardize_dtype(dtype))


def _limits(name: str) -> tuple[Any, Any]:
    if name == "bool":
        return 0, 1
    if "int" in name:
        return int(jnp.iinfo(name).min), int(jnp.iinfo(name).max)
    return float(jnp.finfo(name).min), float(jnp.finfo(name).max)


def saturate_cast(x: Any, dtype: Any) -> jax.Array:
    """`cast` after clipping `x` to the range of `dtype`, so out-of-range values saturate, not wrap.

    The clip bounds are the target range written in the input dtype, stepped towards zero where that
    rounding would leave the target range (float32's 2**31 for int32).
    """
    dtype = standardize_dtype(dtype)
    x = convert_to_tensor(x)
    in_dtype = standardize_dtype(x.dtype)
    if in_dtype == "bool":
        return cast(x, dtype)
    (in_lo, in_hi), (out_lo, out_hi) = _limits(in_dtype), _limits(dtype)
    np_dtype = jnp.dtype(in_dtype)

    def bound(value):
        value = np.asarray(value).astype(np_dtype)
        if value < out_lo or value > out_hi:
            value = np.nextafter(value, np.zeros((), np_dtype))
        return value
    return cast(jnp.clip(x, bound(max(in_lo, out_lo)), bound(min(in_hi, out_hi))), dtype)


def stop_gradient(variable: Any) -> jax.Array:
    """`variable` (an array or a variable's value) with its gradient blocked."""
    return jax.lax.stop_gradient(convert_to_tensor(variable))


def custom_gradient(f: Callable) -> Callable:
    """Decorator: `f(*args)` returns `(output, grad_fn)` and `grad_fn(upstream)` gives the gradients.

    Variables among the arguments are read as their values before `jax.custom_gradient` sees them.
    """
    with_gradient = jax.custom_gradient(f)

    def call(*args, **kwargs):
        args, kwargs = jax.tree.map(_unwrap, (args, kwargs), is_leaf=lambda v: isinstance(v, nnx.Variable))
        return with_gradient(*args, **kwargs)
    return call


# ---------------------------------------------------------------- control flow

def cond(pred: Any, true_fn: Callable, false_fn: Callable) -> Any:
    """`true_fn()` if `pred` else `false_fn()` (`jax.lax.cond`; both branches are traced)."""
    return jax.lax.cond(pred, true_fn, false_fn)


def switch(index: Any, branches: Sequence[Callable], *operands: Any) -> Any:
    """`branches[index](*operands)`, with `index` clamped to the branches (`jax.lax.switch`)."""
    return jax.lax.switch(index, branches, *operands)


def fori_loop(lower: Any, upper: Any, body_fun: Callable, init_val: Any) -> Any:
    """`val = body_fun(i, val)` for `i` in `[lower, upper)` (`jax.lax.fori_loop`)."""
    return jax.lax.fori_loop(lower, upper, body_fun, init_val)


def while_loop(cond: Callable, body: Callable, loop_vars: Any, maximum_iterations: int | None = None) -> Any:
    """Repeats `loop_vars = body(*loop_vars)` while `cond(*loop_vars)`, at most `maximum_iterations` times.

    A tuple or list of loop variables is unpacked into `cond` and `body` and comes back as a tuple;
    a single array is passed and returned as it is.
    """
    as_sequence = isinstance(loop_vars, (tuple, list))
    state = tuple(loop_vars) if as_sequence else (loop_vars,)

    def next_state(values):
        out = body(*values)
        return tuple(out) if as_sequence else (out,)

    if maximum_iterations is None:
        out = jax.lax.while_loop(lambda values: cond(*values), next_state, state)
    else:
        def counted_cond(carry):
            values, count = carry
            return jnp.logical_and(cond(*values), count < maximum_iterations)

        out, _ = jax.lax.while_loop(counted_cond, lambda carry: (next_state(carry[0]), carry[1] + 1),
                                    (state, jnp.zeros((), jnp.int32)))
    return out if as_sequence else out[0]


def scan(f: Callable, init: Any, xs: Any = None, length: int | None = None, reverse: bool = False,
         unroll: int | bool = 1) -> tuple[Any, Any]:
    """`(carry, ys)` from `carry, y = f(carry, x)` over the leading axis of `xs` (`jax.lax.scan`)."""
    if not isinstance(unroll, bool) and (not isinstance(unroll, int) or unroll < 1):
        raise ValueError(f"`unroll` must be a positive integer or a boolean. Received: unroll={unroll}")
    return jax.lax.scan(f, init, xs, length=length, reverse=reverse, unroll=unroll)


def associative_scan(f: Callable, elems: Any, reverse: bool = False, axis: int = 0) -> Any:
    """All prefix reductions of `elems` along `axis` with the associative `f` (`jax.lax.associative_scan`)."""
    return jax.lax.associative_scan(f, elems, reverse=reverse, axis=axis)


def map(f: Callable, xs: Any) -> Any:  # noqa: A001 - Keras's name
    """`f` applied to each slice of `xs` along its leading axis, sequentially (`jax.lax.map`)."""
    return jax.lax.map(f, xs)


def vectorized_map(function: Callable, elements: Any) -> Any:
    """`function` applied to each slice of `elements` along the leading axis, batched (`jax.vmap`)."""
    return jax.vmap(function)(elements)


# ---------------------------------------------------------------- slicing, scattering, stacking

def slice(inputs: Any, start_indices: Any, shape: Sequence[int]) -> jax.Array:  # noqa: A001
    """The block of `inputs` of size `shape` starting at `start_indices`; -1 in `shape` takes the rest."""
    inputs = convert_to_tensor(inputs)
    if len(shape) != inputs.ndim:
        raise ValueError(f"`shape` needs one size per dimension of `inputs`. Received: shape={shape} for "
                         f"inputs.shape={inputs.shape}")
    sizes = tuple(inputs.shape[i] - start_indices[i] if size == -1 else size for i, size in enumerate(shape))
    return jax.lax.dynamic_slice(inputs, start_indices, sizes)


def slice_update(inputs: Any, start_indices: Any, updates: Any) -> jax.Array:
    """`inputs` with the block starting at `start_indices` replaced by `updates`."""
    return jax.lax.dynamic_update_slice(convert_to_tensor(inputs), convert_to_tensor(updates), start_indices)


def scatter(indices: Any, values: Any, shape: Sequence[int]) -> jax.Array:
    """A zero array of `shape` with `values` added at `indices` (`(..., index_depth)`); repeats add up."""
    values = convert_to_tensor(values)
    target = tuple(jnp.moveaxis(convert_to_tensor(indices), -1, 0))
    return jnp.zeros(shape, values.dtype).at[target].add(values)


def scatter_update(inputs: Any, indices: Any, updates: Any, reduction: str | None = None) -> jax.Array:
    """`inputs` with `updates` written at `indices` (`(num_updates, index_depth)`).

    `reduction` None overwrites; "add", "max", "min" or "mul" combine with the values already there.
    """
    if reduction is not None:
        reduction = reduction.lower()
        if reduction not in _SCATTER_REDUCTIONS:
            raise ValueError(f"Invalid reduction. Expected None or one of {_SCATTER_REDUCTIONS}. "
                             f"Received: reduction={reduction!r}")
    target = convert_to_tensor(inputs).at[tuple(convert_to_tensor(indices).T)]
    method = {None: target.set, "add": target.add, "max": target.max, "min": target.min,
              "mul": target.multiply}[reduction]
    return method(updates)


def unstack(x: Any, num: int | None = None, axis: int = 0) -> list[jax.Array]:
    """The slices of `x` along `axis`, as a list; `num`, if given, must equal that axis's size."""
    x = convert_to_tensor(x)
    size = x.shape[axis]
    if num is not None and num != size:
        raise ValueError(f"`num` must equal the size of axis {axis}. Received: num={num} for "
                         f"x.shape={x.shape}")
    return [jax.lax.index_in_dim(x, i, axis, keepdims=False) for i in range(size)]


_GROUP = re.compile(r"\(([^()]*)\)|([^\s()]+)")


def _parse_side(side: str, pattern: str) -> list[list[str]]:
    """'b (h w) c' -> [['b'], ['h', 'w'], ['c']]."""
    groups = [m.group(1).split() if m.group(1) is not None else [m.group(2)] for m in _GROUP.finditer(side)]
    names = [name for group in groups for name in group]
    for name in names:
        if not name.isidentifier():
            raise ValueError(f"rearrange supports named axes and (grouped axes) only. Received: axis "
                             f"{name!r} in pattern={pattern!r}")
    if len(set(names)) != len(names):
        raise ValueError(f"An axis name appears twice on one side. Received: pattern={pattern!r}")
    return groups


def rearrange(tensor: Any, pattern: str, **axes_lengths: int) -> jax.Array:
    """Reorders, splits and merges axes as an einops pattern says, e.g. "b (h w) c -> b h w c".

    Args:
        tensor: the input array.
        pattern: "input axes -> output axes"; a parenthesised group splits (input) or merges (output)
            axes. Each name on one side appears once on the other.
        **axes_lengths: sizes of split axes; at most one axis per input group may be left to infer.

    Raises:
        ValueError: a malformed pattern, names that differ between the sides, or sizes that do not
            divide the dimension they split.
    """
    tensor = convert_to_tensor(tensor)
    if pattern.count("->") != 1:
        raise ValueError(f"`pattern` must read 'input axes -> output axes'. Received: pattern={pattern!r}")
    left, right = (_parse_side(side, pattern) for side in pattern.split("->"))
    if len(left) != tensor.ndim:
        raise ValueError(f"The input side names {len(left)} axes but the tensor has {tensor.ndim}. "
                         f"Received: pattern={pattern!r}, tensor.shape={tensor.shape}")
    in_names = [name for group in left for name in group]
    out_names = [name for group in right for name in group]
    if sorted(in_names) != sorted(out_names):
        raise ValueError(f"Both sides must name the same axes. Received: pattern={pattern!r}")
    sizes = {}
    for group, dim in zip(left, tensor.shape):
        unknown = [name for name in group if name not in axes_lengths]
        if len(group) == 1:
            sizes[group[0]] = dim
            continue
        if len(unknown) > 1:
            raise ValueError(f"Group {group} leaves {unknown} to infer; give all but one in axes_lengths.")
        known = int(np.prod([axes_lengths[name] for name in group if name in axes_lengths]))
        sizes.update({name: axes_lengths[name] for name in group if name in axes_lengths})
        if unknown:
            sizes[unknown[0]] = dim // known
        if dim % known or int(np.prod([sizes[name] for name in group])) != dim:
            raise ValueError(f"Sizes of {group} do not multiply to {dim}. Received: "
                             f"axes_lengths={axes_lengths}")
    split = jnp.reshape(tensor, [sizes[name] for name in in_names])
    moved = jnp.transpose(split, [in_names.index(name) for name in out_names])
    return jnp.reshape(moved, [int(np.prod([sizes[name] for name in group])) for group in right])
