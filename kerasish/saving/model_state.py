"""A model's arrays <-> a weights file's `Contents`, with every check done before anything is assigned.

Writing: each layer group of Keras's layout (`layout.layer_entries`), the optimizer as Keras's
variables (`optimizer_vars`), and in kerasish's own group the variables Keras has no place for
(seed-generator state), the raw optax state (so a kerasish-to-kerasish resume is bit-exact, also for
optimizers Keras lacks) and JSON info. Reading: every group is matched against the model (count,
shapes, dtype kinds); groups the model does not have, or it has and the file lacks, make the file
"another architecture". Only when all of it fits (or `skip_mismatch` says what to skip) are the
variables and the optimizer state assigned.

Owns: that matching and assignment. Must not: read or write files.
"""

from __future__ import annotations

import warnings
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from kerasish.saving import layout, optimizer_vars
from kerasish.saving.weights_file import Contents
from kerasish.utils.host import to_host

_OPT_GROUP, _INNER_GROUP = "optimizer/vars", "optimizer/inner_optimizer/vars"


def _is_key(value) -> bool:
    return isinstance(value, jax.Array) and jnp.issubdtype(value.dtype, jax.dtypes.prng_key)


def _host(value) -> tuple[np.ndarray, str | None]:
    """A numpy copy of a variable's value, and the key implementation for typed PRNG keys."""
    if _is_key(value):
        return to_host(jax.random.key_data(value)), str(jax.random.key_impl(value))
    return np.asarray(to_host(value)), None


# -- model -> contents ----------------------------------------------------------------------------------
def optimizer_template(model):
    """The compiled model's optax state (created for the current parameters if it did not exist)."""
    engine = model._engine
    engine.pull()
    return engine.optimizer.state


def contents_of(model, with_optimizer: bool = True, info: dict | None = None) -> Contents:
    """Everything a weights file holds about `model` (every process gathers; see `file.write`)."""
    contents = Contents(info=dict(info or {}), from_kerasish=True)
    entries = layout.layer_entries(model)
    for entry in entries:
        if _own_hook(entry.layer, "save_own_variables"):
            contents.groups[entry.group] = (entry.name, _saved_by_hook(entry.layer))
        else:
            contents.groups[entry.group] = (entry.name, [_host(v.get_value())[0] for v in entry.variables])
    keys = {}
    for path, variable in layout.extra_variables(model, entries).items():
        contents.variables[path], impl = _host(variable.get_value())
        if impl is not None:
            keys[path] = impl
    if keys:
        contents.info["keys"] = keys
    if with_optimizer and model._engine is not None and model.built:
        _add_optimizer(model, contents)
    return contents


def _own_hook(layer, hook: str) -> bool:
    """Whether `layer` overrides Keras's `save_own_variables` / `load_own_variables` hook."""
    from kerasish.layers.base import Layer
    return isinstance(layer, Layer) and getattr(type(layer), hook) is not getattr(Layer, hook)


def _saved_by_hook(layer) -> list[np.ndarray]:
    """What a layer's own `save_own_variables(store)` put in the store, in key order "0", "1", ..."""
    store: dict = {}
    layer.save_own_variables(store)
    keys = [str(i) for i in range(len(store))]
    if sorted(store) != sorted(keys):
        raise ValueError(f"Layer '{layer.name}' saved the keys {sorted(store)} in `save_own_variables`: kerasish "
                         f"stores a layer's arrays as a numbered list, so use the keys {keys}.")
    return [np.asarray(to_host(store[k])) for k in keys]


def _add_optimizer(model, contents: Contents) -> None:
    state = optimizer_template(model)
    with_path, _ = jax.tree_util.tree_flatten_with_path(state)
    host = {id(leaf): _host(leaf)[0] for _, leaf in with_path}
    contents.optimizer = [host[id(leaf)] for _, leaf in with_path]
    contents.opt_paths = [jax.tree_util.keystr(path) for path, _ in with_path]
    optimizer = model.optimizer
    if optimizer_vars.has_keras_layout(optimizer):
        outer, inner = optimizer_vars.to_keras(model, state, host)
        contents.groups[_OPT_GROUP] = ("loss_scale_optimizer" if inner is not None else optimizer.name, outer)
        if inner is not None:
            contents.groups[_INNER_GROUP] = (optimizer.name, inner)


# -- contents -> model -----------------------------------------------------------------------------------
def _kind(dtype) -> str:
    dtype = np.dtype(dtype)
    return "f" if dtype.kind == "V" or jnp.issubdtype(dtype, jnp.floating) else dtype.kind


def _problem(array: np.ndarray, variable) -> str | None:
    value = variable.get_value()
    shape = tuple(jax.random.key_data(value).shape) if _is_key(value) else tuple(value.shape)
    if tuple(array.shape) != shape:
        return f"shape {tuple(array.shape)} in the file, {shape} in the model"
    want = np.uint32 if _is_key(value) else value.dtype
    if _kind(array.dtype) != _kind(want) and not (_kind(want) in "iu" and _kind(array.dtype) in "iu"):
        return f"dtype {array.dtype} in the file, {np.dtype(want)} in the model"
    return None


def plan_model(model, contents: Contents, filename: str, skip_mismatch: bool = False) -> list:
    """`[(variable, array)]` to assign; raises ValueError (nothing assigned) when the file does not fit."""
    entries = layout.layer_entries(model)
    pairs, problems, skipped, hooks = [], [], [], []
    used = {_OPT_GROUP, _INNER_GROUP}
    for entry in entries:
        arrays = contents.vars(entry.group)
        used.add(entry.group)
        if arrays is not None and _own_hook(entry.layer, "load_own_variables"):
            hooks.append((entry.layer, {str(i): a for i, a in enumerate(arrays)}))
            continue
        if arrays is None:
            if entry.variables:
                problems.append(f"'{entry.path or model.name}' ({entry.name}): {len(entry.variables)} variables in "
                                f"the model, no group `{entry.group}` in the file")
            continue
        if len(arrays) != len(entry.variables):
            problems.append(f"'{entry.path or model.name}' ({entry.name}): expected {len(entry.variables)} "
                            f"variables, the file has {len(arrays)}")
            skipped.append(entry.path)
            continue
        found = [(v, a, _problem(a, v)) for v, a in zip(entry.variables, arrays)]
        bad = [f"'{v.path}': {p}" for v, _, p in found if p]
        if bad:
            problems += bad
            skipped.append(entry.path)
            continue
        pairs += [(v, a) for v, a, _ in found]
    extra = [g for g, (_, arrays) in contents.groups.items() if g not in used and arrays]
    if extra:
        problems.append(f"the file has weights for {len(extra)} objects this model does not have (e.g. "
                        f"{', '.join(extra[:3])})")
    if problems and not skip_mismatch:
        raise ValueError(f"Cannot load weights from {filename} into model '{model.name}': the file was written "
                         f"for another architecture. " + "; ".join(problems[:8]))
    if problems:
        warnings.warn(f"Skipping the variables of {filename} that do not match model '{model.name}': "
                      + "; ".join(problems[:8]), stacklevel=4)
    pairs += _plan_extras(model, entries, contents)
    return pairs + hooks  # a layer with its own load_own_variables gets its store, after the checks


def _plan_extras(model, entries, contents: Contents) -> list:
    """Seed-generator state from kerasish's group: those that fit (a Keras file has none)."""
    keys = contents.info.get("keys") or {}
    pairs = []
    for path, variable in layout.extra_variables(model, entries).items():
        array = contents.variables.get(path)
        if array is not None and _problem(array, variable) is None and \
                (path in keys) == _is_key(variable.get_value()):
            pairs.append((variable, array if path not in keys else (array, keys[path])))
    return pairs


def plan_optimizer(model, contents: Contents, filename: str, skip_mismatch: bool = False):
    """The optax state to install, or None (Keras's warning when the saved optimizer does not fit)."""
    if model._engine is None or not model.built:
        return None
    has_keras = contents.vars(_OPT_GROUP) is not None
    if contents.optimizer is None and not has_keras:
        return None
    template = optimizer_template(model)
    raw = _raw_state(template, contents)
    if raw is not None:
        return raw
    optimizer = model.optimizer
    if not has_keras or not optimizer_vars.has_keras_layout(optimizer):
        warnings.warn(f"Skipping the optimizer state in {filename}: it does not fit the optimizer of model "
                      f"'{model.name}' ({optimizer.name}).", stacklevel=4)
        return None
    arrays, scale = contents.vars(_OPT_GROUP), None
    if contents.vars(_INNER_GROUP) is not None:  # Keras's LossScaleOptimizer
        arrays, scale = contents.vars(_INNER_GROUP), [contents.vars(_OPT_GROUP)[2], contents.vars(_OPT_GROUP)[3]]
    wanted = optimizer_vars.expected(model, template)
    if len(arrays) != len(wanted):
        warnings.warn(f"Skipping variable loading for optimizer '{optimizer.name}', because it has {len(wanted)} "
                      f"variables whereas the saved optimizer in {filename} has {len(arrays)} variables.",
                      stacklevel=4)
        return None
    for i, (have, want) in enumerate(zip(arrays, wanted)):
        if tuple(have.shape) != tuple(want.shape) or _kind(have.dtype) != _kind(want.dtype) and \
                not (_kind(have.dtype) in "iu" and _kind(want.dtype) in "iu"):
            message = (f"Cannot load the optimizer state from {filename}: optimizer variable {i} is "
                       f"{have.dtype}{list(have.shape)} in the file, {want.dtype}{list(want.shape)} in "
                       f"optimizer '{optimizer.name}' of model '{model.name}'.")
            if not skip_mismatch:
                raise ValueError(message)
            warnings.warn(f"Skipping the optimizer state. {message}", stacklevel=4)
            return None
    return optimizer_vars.from_keras(model, template, arrays, scale)


def _raw_state(template, contents: Contents):
    """The file's raw optax state when it has exactly the template's structure, else None."""
    if contents.optimizer is None:
        return None
    with_path, treedef = jax.tree_util.tree_flatten_with_path(template)
    if [jax.tree_util.keystr(p) for p, _ in with_path] != contents.opt_paths or len(with_path) != len(contents.optimizer):
        return None
    leaves = []
    for (_, leaf), array in zip(with_path, contents.optimizer):
        if tuple(np.shape(leaf)) != tuple(array.shape) or np.dtype(leaf.dtype) != array.dtype:
            return None
        leaves.append(jnp.asarray(array))
    return jax.tree_util.tree_unflatten(treedef, leaves)


def assign(model, pairs: list, optimizer_state) -> None:
    """Puts the checked arrays into the model (and the optimizer state into its optimizer)."""
    for variable, array in pairs:
        if not isinstance(variable, nnx.Variable):  # (layer, store): the layer's own load_own_variables
            variable.load_own_variables(array)
            continue
        old = variable.get_value()
        if isinstance(array, tuple):  # typed PRNG key data and its implementation
            value = jax.random.wrap_key_data(jnp.asarray(array[0]), impl=array[1])
        else:
            value = jnp.asarray(array, dtype=old.dtype)
        sharding = getattr(old, "sharding", None)
        if sharding is not None and not isinstance(value, jax.core.Tracer):
            value = jax.device_put(value, sharding)
        variable.set_value(value)
    if optimizer_state is not None:
        model._engine.optimizer.state = optimizer_state


def restore(model, contents: Contents, filename: str, skip_mismatch: bool = False) -> None:
    """Checks everything, then assigns: the model is unchanged if anything does not fit."""
    pairs = plan_model(model, contents, filename, skip_mismatch)
    state = plan_optimizer(model, contents, filename, skip_mismatch)
    assign(model, pairs, state)


def require_built(model, action: str) -> None:
    if not model.built:
        raise ValueError(f"You are {action} a model that has not yet been built. Try building the model first by "
                         "calling it on some data or by using `build()`.")

