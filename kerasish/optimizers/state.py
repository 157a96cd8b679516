"""Pure functions on optax states: read or replace the injected learning rate, read the step count.

Used by the optimizer shells and by callbacks, inside or outside `jit`. They only look at optax's
own state types (`InjectStatefulHyperparamsState`, `MultiStepsState`), so they also work on states
of transformations the user built with `optax.inject_hyperparams`.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import optax

__all__ = ["get_learning_rate", "set_learning_rate", "find_lr_state", "find_count", "keras_layout"]

_INJECT_STATES = (optax.InjectStatefulHyperparamsState, optax.InjectHyperparamsState)


def _is_lr_state(node) -> bool:
    return isinstance(node, _INJECT_STATES) and "learning_rate" in node.hyperparams


def find_lr_state(state):
    """Depth-first search for the `inject_hyperparams` state that holds `learning_rate`."""
    if _is_lr_state(state):
        return state
    children = state.values() if isinstance(state, dict) else state
    if isinstance(state, (tuple, list, dict)):
        for child in children:
            found = find_lr_state(child)
            if found is not None:
                return found
    return None


def _no_lr_error(state) -> ValueError:
    return ValueError(
        "The optimizer state holds no `learning_rate` hyperparameter. Build the transformation "
        "with `optax.inject_hyperparams(...)(learning_rate=...)` (every kerasish optimizer does) "
        f"so the learning rate lives in the state. Received a state of type {type(state).__name__}."
    )


def get_learning_rate(opt_state) -> jax.Array:
    """The learning rate stored in an optax state built with `inject_hyperparams`.

    Returns the value used by the most recent update (for a schedule, the schedule at that step).

    Raises:
        ValueError: if no `inject_hyperparams` state with a `learning_rate` is found.
    """
    found = find_lr_state(opt_state)
    if found is None:
        raise _no_lr_error(opt_state)
    return found.hyperparams["learning_rate"]


def set_learning_rate(opt_state, value) -> Any:
    """Returns a copy of `opt_state` whose learning rate is `value` (pure; usable inside `jit`).

    The new value keeps the stored dtype and shape, so a jitted step that takes the state as an
    argument is not retraced. A schedule overwrites the value again at the next update.

    Example:
        >>> state = set_learning_rate(state, 0.01)   # e.g. in a ReduceLROnPlateau callback
    """

    def replace(node):
        if _is_lr_state(node):
            old = node.hyperparams["learning_rate"]
            new = jnp.asarray(value, dtype=jnp.result_type(old)).reshape(jnp.shape(old))
            return node._replace(hyperparams={**node.hyperparams, "learning_rate": new}), True
        if isinstance(node, dict):
            for key, child in node.items():
                new_child, done = replace(child)
                if done:
                    return {**node, key: new_child}, True
        elif isinstance(node, (tuple, list)):
            for i, child in enumerate(node):
                new_child, done = replace(child)
                if done:
                    items = list(node)
                    items[i] = new_child
                    if hasattr(node, "_fields"):
                        return type(node)(*items), True
                    return type(node)(items), True
        return node, False

    new_state, done = replace(opt_state)
    if not done:
        raise _no_lr_error(opt_state)
    return new_state


def find_count(state):
    """The step count of an optax state: MultiSteps' gradient steps, else the first `count`."""
    if isinstance(state, optax.MultiStepsState):
        return state.gradient_step
    if hasattr(state, "_fields") and "count" in state._fields:
        return state.count
    if isinstance(state, (tuple, list, dict)):
        for child in (state.values() if isinstance(state, dict) else state):
            found = find_count(child)
            if found is not None:
                return found
    return None


def _key_name(key) -> str:
    return str(getattr(key, "key", getattr(key, "name", getattr(key, "idx", key))))


def _is_keras_variable(node) -> bool:
    """A `keras.Variable` (an NNX variable with Keras's metadata), recognised without importing Flax."""
    return hasattr(node, "get_metadata") and hasattr(node, "get_value")


def _variable_slots(state):
    """When the optax state mirrors the parameters as `keras.Variable`s (the training engine's states:
    `mu`, `nu`, `trace` hold the model's variables' structure), `(that structure, each parameter's
    Keras path, the parameters in creation order)`; else None."""
    found: list = []

    def visit(node) -> None:
        if found or _is_keras_variable(node) or not isinstance(node, (tuple, list, dict)) and not hasattr(node, "items"):
            return
        leaves = jax.tree.leaves(node, is_leaf=_is_keras_variable)
        if hasattr(node, "items") and leaves and all(_is_keras_variable(leaf) for leaf in leaves):
            found.append((node, leaves))
            return
        for child in (node.values() if hasattr(node, "values") and not isinstance(node, tuple) else node):
            visit(child)

    visit(state)
    if not found:
        return None
    node, variables = found[0]
    paths = [str(v.get_metadata("path", None) or f"variable_{i}") for i, v in enumerate(variables)]
    order = sorted(range(len(variables)), key=lambda i: (variables[i].get_metadata("serial", 1 << 62), i))
    return jax.tree.structure(node), paths, order


def keras_layout(state, params_def=None, param_names=None, slot_groups=()) -> tuple[list[int], list[str]]:
    """The leaves of an optax state in Keras's order, and a name for each.

    Keras lists an optimizer's variables as: the iteration count, the learning rate, then each
    `add_optimizer_variables` group of its `build`, interleaved per parameter within a group (Adam:
    momentum and velocity of the first parameter, then of the second, ...). Returns `(positions,
    names)`: `positions[i]` is the index in `jax.tree.leaves(state)` of the i-th variable in that order.
    Slots are found when `params_def` (the parameters' tree structure) is known, or when the state
    holds the parameters' `keras.Variable` structure (then named by their Keras paths, in creation
    order). `slot_groups` gives Keras's groups as `[[(optax field, Keras name), ...], ...]`; a slot is
    named `<parameter>_<Keras name>` (`dense_kernel_momentum`), slots outside the groups
    `<parameter>_<optax field>` after them. Leaves Keras has no counterpart for (optax's inner step
    counts) come last.
    """
    order = None
    if params_def is None:
        inferred = _variable_slots(state)
        if inferred is not None:
            params_def, inferred_names, order = inferred
            param_names = param_names or inferred_names

    def is_group(node) -> bool:
        return params_def is not None and params_def.num_leaves > 0 and jax.tree.structure(node) == params_def

    entries, _ = jax.tree_util.tree_flatten_with_path(state, is_leaf=is_group)
    singles, slots, position = [], {}, 0
    for path, node in entries:
        names = [_key_name(k) for k in path]
        if is_group(node):
            field = key = names[-1] if names else "slot"
            while key in slots:  # the same field twice (two traces in one chain): number the later ones
                key = f"{field}_{sum(k.startswith(field) for k in slots)}"
            slots[key] = position
            position += params_def.num_leaves
        else:
            singles.append((position, names))
            position += 1
    counts = [p for p, names in singles if names and names[-1] in ("gradient_step", "count")]
    gradient_steps = [p for p, names in singles if names and names[-1] == "gradient_step"]
    iteration = (gradient_steps or counts or [None])[0]
    rates = [p for p, names in singles if len(names) >= 2 and names[-2:] == ["hyperparams", "learning_rate"]]
    rate = rates[0] if rates else None
    positions, labels = [], []
    for p, label in ((iteration, "iteration"), (rate, "learning_rate")):
        if p is not None:
            positions.append(p)
            labels.append(label)
    n = params_def.num_leaves if slots else 0
    param_names = [name.replace("/", "_") for name in (param_names or [f"variable_{i}" for i in range(n)])]
    params = order if order is not None and slots else range(n)
    named = [[(field, keras) for field, keras in group if field in slots] for group in slot_groups]
    covered = {field for group in named for field, _ in group}
    named.append([(field, field) for field in slots if field not in covered])
    for group in named:
        for i in params:
            for field, keras in group:
                positions.append(slots[field] + i)
                labels.append(f"{param_names[i]}_{keras}")
    for p, names in singles:
        if p not in (iteration, rate):
            positions.append(p)
            labels.append("_".join(names) or "state")
    return positions, labels
