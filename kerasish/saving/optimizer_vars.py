"""Keras 3's optimizer variables <-> a kerasish optimizer's optax state.

Keras saves `optimizer.variables` in order: `iteration` (int32), `learning_rate` (float32, absent
when it is a schedule), one gradient accumulator per trainable variable (gradient accumulation),
then each `add_optimizer_variables` call of the optimizer's `build`, interleaved per trainable
variable (Adam: momentum, velocity of the first variable, then of the second, ...), then scalars
(Nadam's `u_product`). Trainable variables are in `model.trainable_variables` order. A float16
model's LossScaleOptimizer saves `[iteration, learning_rate, step_counter, dynamic_scale]` followed
by the inner optimizer's variables, and the inner ones again in `optimizer/inner_optimizer`.

Every slot is an optax state field of the same maths (the table below); RMSprop's momentum is
stored with the opposite sign (optax traces `-lr * step`, Keras `+lr * step`), a gradient
accumulator as a sum (optax keeps the mean). Owns: that table and the conversion both ways.
Must not: read or write files.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from kerasish import mixed_precision
from kerasish import optimizers as opt
from kerasish.optimizers import transforms
from kerasish.saving import layout
from kerasish.utils.host import to_host


class Slot(NamedTuple):
    name: str
    state_type: type
    field: str
    sign: float = 1.0


def _rms_type(o) -> type:
    return optax.ScaleByRStdDevState if o.centered else optax.ScaleByRmsState


def _slots(o) -> tuple[list[list[Slot]], list[Slot]] | None:
    """Per-variable slot groups (interleaved within a group) and trailing scalars; None when the
    optimizer has no Keras counterpart (an optax transformation, a user subclass)."""
    adam = transforms.ScaleByKerasAdamState
    if type(o) in (opt.SGD, opt.Momentum):
        return ([[Slot("momentum", optax.TraceState, "trace")]] if o.momentum else []), []
    if type(o) is opt.Adagrad:
        return [[Slot("accumulator", optax.ScaleByRssState, "sum_of_squares")]], []
    if type(o) is opt.RMSprop:
        groups = [[Slot("velocity", _rms_type(o), "nu")]]
        if o.momentum > 0:
            groups.append([Slot("momentum", optax.TraceState, "trace", -1.0)])
        if o.centered:
            groups.append([Slot("average_gradient", optax.ScaleByRStdDevState, "mu")])
        return groups, []
    if type(o) in (opt.Adam, opt.AdamW):
        groups = [[Slot("momentum", adam, "mu"), Slot("velocity", adam, "nu")]]
        return groups + ([[Slot("velocity_hat", adam, "nu_max")]] if o.amsgrad else []), []
    if type(o) is opt.Adamax:
        state = transforms.ScaleByKerasAdamaxState
        return [[Slot("momentum", state, "mu"), Slot("norm", state, "nu")]], []
    if type(o) is opt.Nadam:
        state = transforms.ScaleByKerasNadamState
        return [[Slot("momentum", state, "mu"), Slot("velocity", state, "nu")]], [Slot("u_product", state, "u_product")]
    if type(o) is opt.Adadelta:
        state = optax.ScaleByAdaDeltaState
        return [[Slot("accumulated_grad", state, "e_g"), Slot("accumulated_delta_var", state, "e_x")]], []
    if type(o) is opt.Lion:
        return [[Slot("momentum", optax.ScaleByLionState, "mu")]], []
    return None


def has_keras_layout(optimizer) -> bool:
    return optimizer is not None and _slots(optimizer) is not None


# -- walking optax states ------------------------------------------------------------------------------
def _key(entry) -> str:
    for attr in ("key", "idx", "name"):
        if hasattr(entry, attr):
            return str(getattr(entry, attr))
    return str(entry)


def _leaf_paths(tree) -> tuple[list[tuple[str, ...]], list, Any]:
    with_path, treedef = jax.tree_util.tree_flatten_with_path(tree)
    paths = []
    for path, _ in with_path:
        keys = tuple(_key(p) for p in path)
        paths.append(keys[:-1] if keys and keys[-1] == "value" else keys)
    return paths, [leaf for _, leaf in with_path], treedef


def _find(node, state_type: type):
    if isinstance(node, state_type):
        return node
    if isinstance(node, (tuple, list)) or type(node) is dict:
        for child in (node.values() if type(node) is dict else node):
            found = _find(child, state_type)
            if found is not None:
                return found
    return None


def _rebuild(node, fn):
    """`node` with every NamedTuple below it (children first) replaced by `fn(namedtuple)`."""
    if isinstance(node, tuple) and hasattr(node, "_fields"):
        return fn(type(node)(*(_rebuild(child, fn) for child in node)))
    if type(node) in (tuple, list):
        return type(node)(_rebuild(child, fn) for child in node)
    if type(node) is dict:
        return {key: _rebuild(value, fn) for key, value in node.items()}
    return node


class _Parts(NamedTuple):
    scale: Any  # LossScaleState or None
    multi: Any  # optax.MultiStepsState or None
    inject: Any  # the inject_hyperparams state


def _parts(state) -> _Parts:
    scale = state if isinstance(state, mixed_precision.LossScaleState) else None
    state = scale.inner if scale is not None else state
    multi = state if isinstance(state, optax.MultiStepsState) else None
    state = multi.inner_opt_state if multi is not None else state
    return _Parts(scale, multi, state)


def _variable_order(model, params_paths: list[tuple[str, ...]]) -> list[int]:
    """Index into the optax leaves of each trainable variable, in `model.trainable_variables` order."""
    paths = layout.variable_paths(model)
    where = {p: i for i, p in enumerate(params_paths)}
    order = []
    for variable in model.trainable_weights:
        key = tuple(str(p) for p in paths[id(variable)])
        if key not in where:
            raise ValueError(f"Cannot map the optimizer state to Keras's layout: trainable variable "
                             f"'{variable.path}' has no optimizer state.")
        order.append(where[key])
    if len(order) != len(params_paths):
        raise ValueError(f"Cannot map the optimizer state to Keras's layout: it tracks {len(params_paths)} "
                         f"variables, the model has {len(order)} trainable ones.")
    return order


def _params_paths(model) -> list[tuple[str, ...]]:
    _, params, _ = nnx.split(model, model._trainable_filter(), ...)
    return _leaf_paths(params)[0]


# -- state -> Keras ------------------------------------------------------------------------------------
def to_keras(model, state, host: dict[int, np.ndarray]) -> tuple[list[np.ndarray], list[np.ndarray] | None]:
    """`(outer, inner)`: the Keras variable list of the optimizer (`optimizer/vars`) and, for a
    loss-scaled optimizer, the inner optimizer's (`optimizer/inner_optimizer/vars`). `host` maps
    `id(jax leaf) -> numpy copy`, so a slot that is an optax leaf unchanged is the same array."""
    optimizer = model.optimizer
    groups, scalars = _slots(optimizer)
    parts = _parts(state)
    order = _variable_order(model, _params_paths(model))

    def h(leaf):
        return host[id(leaf)] if id(leaf) in host else to_host(leaf)

    k = optimizer.gradient_accumulation_steps
    iterations = int(parts.multi.gradient_step) * k + int(parts.multi.mini_step) if parts.multi else int(parts.inject.count)
    out = [np.asarray(iterations, np.int32)]
    if not callable(optimizer._learning_rate):
        out.append(np.asarray(h(parts.inject.hyperparams["learning_rate"]), np.float32))
    if parts.multi is not None:
        leaves = _leaf_paths(parts.multi.acc_grads)[1]
        out += [h(leaves[i]) * np.asarray(int(parts.multi.mini_step), h(leaves[i]).dtype) for i in order]
    for group in groups:
        per_slot = [_leaf_paths(getattr(_find(parts.inject, s.state_type), s.field))[1] for s in group]
        for i in order:
            for slot, leaves in zip(group, per_slot):
                array = h(leaves[i])
                out.append(array if slot.sign == 1.0 else -array)
    for slot in scalars:
        out.append(h(getattr(_find(parts.inject, slot.state_type), slot.field)))
    if parts.scale is None:
        return out, None
    outer = [np.asarray(0, np.int32), np.asarray(0.0, np.float32), np.asarray(h(parts.scale.good_steps), np.int32),
             np.asarray(h(parts.scale.scale), np.float32)]
    return outer + out, out


# -- Keras -> state ------------------------------------------------------------------------------------
def expected(model, template) -> list[np.ndarray]:
    """The Keras variable list the compiled optimizer has now (shapes and dtypes to check against)."""
    return to_keras(model, template, {})[1 if _parts(template).scale is not None else 0]


def from_keras(model, template, arrays: list[np.ndarray], scale: list[np.ndarray] | None) -> Any:
    """The optax state holding the Keras variables `arrays` (the inner optimizer's list); `scale`
    is `[step_counter, dynamic_scale]` of a LossScaleOptimizer, if the file has one. `arrays` must
    already match `expected(model, template)` in count and shapes."""
    optimizer = model.optimizer
    groups, scalars = _slots(optimizer)
    parts = _parts(template)
    order = _variable_order(model, _params_paths(model))
    n = len(order)
    iterations = int(np.asarray(arrays[0]))
    pos = 1
    learning_rate = None
    if not callable(optimizer._learning_rate):
        learning_rate, pos = arrays[1], 2
    k = optimizer.gradient_accumulation_steps
    steps, mini = (iterations // k, iterations % k) if parts.multi is not None else (iterations, 0)
    accumulators = None
    if parts.multi is not None:
        accumulators, pos = arrays[pos:pos + n], pos + n
    values: dict[tuple[type, str], dict[int, Any]] = {}
    for group in groups:
        block, pos = arrays[pos:pos + n * len(group)], pos + n * len(group)
        for j, slot in enumerate(group):
            values[(slot.state_type, slot.field)] = {order[i]: block[i * len(group) + j] * slot.sign
                                                      for i in range(n)}
    for slot in scalars:
        values[(slot.state_type, slot.field)] = arrays[pos]
        pos += 1

    def fill(node):
        for (state_type, name), new in values.items():
            if isinstance(node, state_type):
                old = getattr(node, name)
                node = node._replace(**{name: _like(old, new) if not isinstance(new, dict) else _replace_leaves(old, new)})
        if "count" in getattr(node, "_fields", ()):
            node = node._replace(count=_like(node.count, steps))
        return node

    inject = _rebuild(parts.inject, fill)
    if learning_rate is not None:
        inject = inject._replace(hyperparams={**inject.hyperparams, "learning_rate": _like(
            inject.hyperparams["learning_rate"], learning_rate)})
    state = inject
    if parts.multi is not None:
        acc = {order[i]: accumulators[i] / max(mini, 1) for i in range(n)}
        state = parts.multi._replace(mini_step=_like(parts.multi.mini_step, mini),
                                     gradient_step=_like(parts.multi.gradient_step, steps),
                                     inner_opt_state=inject, acc_grads=_replace_leaves(parts.multi.acc_grads, acc))
    if parts.scale is not None:
        good, value = (scale if scale is not None else (parts.scale.good_steps, parts.scale.scale))
        state = parts.scale._replace(inner=state, good_steps=_like(parts.scale.good_steps, good),
                                     scale=_like(parts.scale.scale, value))
    return state


def _like(old, new) -> jax.Array:
    return jnp.asarray(np.asarray(new), dtype=jnp.result_type(old)).reshape(jnp.shape(old))


def _replace_leaves(tree, by_index: dict[int, Any]):
    _, leaves, treedef = _leaf_paths(tree)
    return jax.tree_util.tree_unflatten(treedef, [_like(leaf, by_index[i]) if i in by_index else leaf
                                                  for i, leaf in enumerate(leaves)])
