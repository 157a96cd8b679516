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

__all__ = ["get_learning_rate", "set_learning_rate", "find_lr_state", "find_count"]

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
