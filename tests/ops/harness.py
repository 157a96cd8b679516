"""The shared check of every `keras.ops` table: kerasish's op against Keras 3's own (JAX backend).

A table row is `Case(name, args, kwargs, grad=...)`: the op `name` is looked up in `kerasish.ops`
and in `keras.ops`, called on the same inputs, and the results compared in value (float32 to 1e-6
relative, lower precisions looser) and in dtype. With `grad=True` (the default for float inputs) the
gradient of `sum(op(...))` with respect to every float array argument is compared too.

`run_case(case)` is what each table's parametrized test calls; `ids(cases)` names the rows.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np

import keras as keras_ref
import kerasish

TOLERANCE = {"float64": 1e-12, "float32": 1e-6, "float16": 2e-3, "bfloat16": 2e-2}


@dataclasses.dataclass
class Case:
    """One row of an op table: `op(*args, **kwargs)` in both libraries."""
    name: str
    args: tuple = ()
    kwargs: dict = dataclasses.field(default_factory=dict)
    grad: bool | None = None          # None: compare gradients when some argument is a float array
    rtol: float | None = None         # None: from the result dtype (TOLERANCE)
    atol: float = 1e-6
    label: str = ""                   # tells rows of one op apart in test ids
    compare: Callable | None = None   # custom comparison(ours, ref) for ops with free choices (eigh signs)

    @property
    def id(self) -> str:
        return f"{self.name}-{self.label}" if self.label else self.name


def ids(cases: list[Case]) -> list[str]:
    return [c.id for c in cases]


def rand(*shape, dtype="float32", seed=0, low=-2.0, high=2.0) -> np.ndarray:
    """Reproducible test data: uniform floats, or ints in [low, high), or random bools."""
    rng = np.random.default_rng(seed)
    if dtype == "bool":
        return rng.random(shape) > 0.5
    if np.issubdtype(np.dtype(dtype) if dtype != "bfloat16" else np.float32, np.integer):
        return rng.integers(int(low), int(high), size=shape).astype(dtype)
    values = rng.uniform(low, high, size=shape).astype("float32")
    return np.asarray(jnp.asarray(values, dtype)) if dtype in ("bfloat16", "float16") else values.astype(dtype)


def _float_positions(args) -> list[int]:
    return [i for i, a in enumerate(args)
            if isinstance(a, (np.ndarray, jax.Array)) and jnp.issubdtype(jnp.asarray(a).dtype, jnp.floating)]


def _as_tree(out) -> list:
    return [np.asarray(leaf) for leaf in jax.tree.leaves(out)]


def _dtypes(out) -> list[str]:
    return [str(jnp.asarray(leaf).dtype) for leaf in jax.tree.leaves(out)]


def _assert_close(ours, ref, rtol, atol, what):
    ours_l, ref_l = _as_tree(ours), _as_tree(ref)
    assert len(ours_l) == len(ref_l), f"{what}: {len(ours_l)} outputs, Keras gives {len(ref_l)}"
    for a, b in zip(ours_l, ref_l):
        assert a.shape == b.shape, f"{what}: shape {a.shape}, Keras gives {b.shape}"
        if a.dtype == bool or b.dtype == bool or np.issubdtype(b.dtype, np.integer):
            np.testing.assert_array_equal(a, b, err_msg=what)
        else:
            np.testing.assert_allclose(a.astype(np.float64), b.astype(np.float64), rtol=rtol, atol=atol,
                                       err_msg=what, equal_nan=True)


def run_case(case: Case) -> None:
    """Compares kerasish.ops.<name> with keras.ops.<name>: values, dtypes, and gradients."""
    ours_fn = getattr(kerasish.ops, case.name)
    ref_fn = getattr(keras_ref.ops, case.name)
    ours = ours_fn(*case.args, **case.kwargs)
    ref = ref_fn(*case.args, **case.kwargs)
    assert _dtypes(ours) == _dtypes(ref), f"{case.id}: dtypes {_dtypes(ours)}, Keras gives {_dtypes(ref)}"
    for leaf in jax.tree.leaves(ours):
        assert isinstance(leaf, jax.Array), f"{case.id}: returned {type(leaf).__name__}, not a jax.Array"
    rtol = case.rtol if case.rtol is not None else max(
        [TOLERANCE.get(d, 1e-6) for d in _dtypes(ref)] or [1e-6])
    if case.compare is not None:
        case.compare(ours, ref)
    else:
        _assert_close(ours, ref, rtol, case.atol, case.id)
    positions = _float_positions(case.args)
    if case.grad is False or not positions or (case.grad is None and not any(
            jnp.issubdtype(jnp.asarray(leaf).dtype, jnp.floating) for leaf in jax.tree.leaves(ref))):
        return
    for fn, store in ((ours_fn, "ours"), (ref_fn, "ref")):
        def total(*floats, fn=fn):
            args = list(case.args)
            for i, value in zip(positions, floats):
                args[i] = value
            out = fn(*args, **case.kwargs)
            return sum(jnp.sum(jnp.asarray(leaf, jnp.float32)) for leaf in jax.tree.leaves(out)
                       if jnp.issubdtype(jnp.asarray(leaf).dtype, jnp.floating))
        grads = jax.grad(total, argnums=tuple(range(len(positions))))(*[case.args[i] for i in positions])
        if store == "ours":
            ours_grads = grads
        else:
            ref_grads = grads
    _assert_close(ours_grads, ref_grads, max(rtol, 1e-5), max(case.atol, 1e-5), f"{case.id} gradient")


def under_jit(case: Case) -> Any:
    """The op under `jax.jit` (array arguments traced, everything else static), for jit rows."""
    fn = getattr(kerasish.ops, case.name)
    positions = [i for i, a in enumerate(case.args) if isinstance(a, (np.ndarray, jax.Array))]

    def traced(*arrays):
        args = list(case.args)
        for i, value in zip(positions, arrays):
            args[i] = value
        return fn(*args, **case.kwargs)
    return jax.jit(traced)(*[case.args[i] for i in positions])


def assert_jit_matches_eager(case: Case, rtol: float = 1e-6, atol: float = 1e-6) -> None:
    """kerasish's op under `jax.jit` (see `under_jit`) gives what it gives eagerly."""
    eager = getattr(kerasish.ops, case.name)(*case.args, **case.kwargs)
    jitted = under_jit(case)
    assert len(jax.tree.leaves(jitted)) == len(jax.tree.leaves(eager)), f"{case.id}: outputs differ under jit"
    _assert_close(jitted, eager, rtol, atol, f"{case.id} under jit")


def compiled(fn: Callable, *args, **kwargs) -> Any:
    """`fn(*args, **kwargs)` compiled once with `jax.jit`: array positional arguments traced, the
    rest static. For scan-heavy ops and gradients, whose eager evaluation compiles op by op."""
    positions = [i for i, a in enumerate(args) if isinstance(a, (np.ndarray, jax.Array))]

    def traced(*arrays):
        full = list(args)
        for i, value in zip(positions, arrays):
            full[i] = value
        return fn(*full, **kwargs)
    return jax.jit(traced)(*[args[i] for i in positions])


def compiled_gradient(fn: Callable, case: Case) -> Any:
    """Compiled gradient of `sum(fn(*case.args, **case.kwargs))` w.r.t. its first array argument."""
    first = next(i for i, a in enumerate(case.args) if isinstance(a, (np.ndarray, jax.Array)))

    def total(x):
        args = list(case.args)
        args[first] = x
        return jnp.sum(jnp.asarray(fn(*args, **case.kwargs), jnp.float32))
    return compiled(jax.grad(total), case.args[first])


def run_case_compiled(case: Case, ref_namespace: Any = None) -> None:
    """`run_case` with both libraries' op compiled once (`compiled`) instead of run op by op, for
    ops whose eager evaluation dominates test time. `ref_namespace` holds Keras's op when it is
    not on `keras.ops` (the image ops live on `keras.ops.image`)."""
    ours = getattr(kerasish.ops, case.name)
    ref = getattr(ref_namespace or keras_ref.ops, case.name)
    missing = object()
    saved = getattr(keras_ref.ops, case.name, missing)
    try:
        setattr(kerasish.ops, case.name, lambda *a, **k: compiled(ours, *a, **k))
        setattr(keras_ref.ops, case.name, lambda *a, **k: compiled(ref, *a, **k))
        run_case(case)
    finally:
        setattr(kerasish.ops, case.name, ours)
        if saved is missing:
            delattr(keras_ref.ops, case.name)
        else:
            setattr(keras_ref.ops, case.name, saved)


def keras_op_names(namespace: Any, modules: tuple[str, ...] | None = None) -> set[str]:
    """The public names of a `keras.ops` namespace; with `modules`, only those defined there
    (`keras.ops` itself mixes every group)."""
    return {name for name in dir(namespace) if not name.startswith("_")
            and (modules is None or getattr(getattr(namespace, name), "__module__", "") in modules)}


def assert_group_covered(group: Any, keras_names: set[str], cases: list[Case], left_out: dict[str, str],
                         outside_table: set[str] = frozenset()) -> None:
    """A kerasish ops group against Keras's: every Keras name is implemented or in `left_out` (with
    its reason), nothing else is, every op has a table row or is in `outside_table` (checked by its
    own tests), and `kerasish.ops` exposes each op (wrapped, perhaps, for symbolic inputs)."""
    ours = set(group.__all__)
    assert keras_names - ours == set(left_out), "Keras ops neither implemented nor listed as left out"
    assert ours <= keras_names, f"names Keras does not have: {sorted(ours - keras_names)}"
    tested = {case.name for case in cases} | set(outside_table)
    assert tested == ours, f"ops without a table row: {sorted(ours - tested)}; rows of no op: {sorted(tested - ours)}"
    for name in ours:
        op = getattr(kerasish.ops, name)
        assert getattr(op, "__wrapped__", op) is getattr(group, name), f"kerasish.ops.{name} is not the group's op"
