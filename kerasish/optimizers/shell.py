"""The optimizer's stateful shell: its optax state held in `keras.Variable`s, and Keras's API on it.

Shared by `Optimizer` (Keras-named optimizers) and `OptaxOptimizer` (a user's optax transformation).
`variables` are the state's leaves in Keras's order (iteration, learning rate, then each parameter's
slots), so `variable.assign` changes the state and `state` (the optax pytree the compiled steps use)
is read from and written to them. `build(variables)`, `stateless_apply`, `apply` and
`apply_gradients` are Keras's. Must not: define update maths (subclasses give `make_transform()`).
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import jax
import jax.numpy as jnp
import optax
from flax import nnx

from kerasish.optimizers.state import find_count, keras_layout

__all__ = ["_StatefulShell"]


def _is_variable(value) -> bool:
    return isinstance(value, nnx.Variable)


def _values(tree):
    """`tree` with every variable replaced by its array."""
    return jax.tree.map(lambda v: v.get_value() if _is_variable(v) else v, tree, is_leaf=_is_variable)


def _tied_counts(leaves: list, positions: list, names: list) -> list[int]:
    """Optax's inner step counts (Adam's `count`, ...): each advances once per update, as `iteration` does,
    so they are tied to it by structure (no value is read back from the device). Keras has no variable
    for them, so `variables` leaves them out and they follow `iteration` (also when it is assigned)."""
    if not names or names[0] != "iteration":
        return []
    tied = []
    for position, name in zip(positions[1:], names[1:]):
        leaf = leaves[position]
        parts = name.split("_")  # `count` itself, or inside a chain (`inner_state_0_0_count`); not `notfinite_count`
        if parts[-1] == "count" and (len(parts) == 1 or parts[-2].isdigit()) and jnp.ndim(leaf) == 0 \
                and jnp.issubdtype(jnp.result_type(leaf), jnp.integer):
            tied.append(position)
    return tied


class _StatefulShell:
    """The optimizer's state and Keras's API on it, shared by `Optimizer` and `OptaxOptimizer`.

    The optax state lives in non-trainable `keras.Variable`s (`variables`, in Keras's order:
    iteration, learning rate, then each parameter's slots), so `variable.assign` changes it and
    `state` (the optax pytree the compiled steps use) is read from and written to them.
    """

    _slots: list | None = None   # the state's leaves as variables, in Keras's order
    _state_def: Any = None       # the state's tree structure
    _positions: tuple = ()       # _slots[i] holds leaf _positions[i] of the flattened state
    _tied: dict = {}             # leaf position -> dtype of optax's inner step counts, set from `iteration`
    _params_def: Any = None      # the structure of what `build` was given (None: not built by `build`)
    _built_for: list | None = None  # the variables `build` was given (names, constraints)
    _compiled_apply: Callable | None = None

    def make_transform(self) -> optax.GradientTransformation:
        raise NotImplementedError

    def _keras_slot_groups(self) -> list:
        """Keras's slot groups for `variables`' names and order: `[[(optax field, Keras name), ...], ...]`
        (one list per `add_optimizer_variables` call of the Keras optimizer); none for optax's own."""
        return []

    # -- the state ------------------------------------------------------------------------------
    @property
    def state(self) -> Any:
        """The optax state (None before the optimizer is built)."""
        if self._slots is None:
            return None
        return self._unflatten([slot.get_value() for slot in self._slots])

    @state.setter
    def state(self, state: Any) -> None:
        self._store(state, None)

    def _store(self, state: Any, params_def: Any) -> None:
        """Keeps `state` in the variables; a new structure (or `build`) lays them out again."""
        if state is None:
            self._slots, self._state_def, self._positions, self._params_def = None, None, (), None
            return
        leaves, treedef = jax.tree.flatten(state)
        same = (params_def is None and self._slots is not None and treedef == self._state_def
                and all(jnp.shape(leaves[p]) == s.shape for p, s in zip(self._positions, self._slots)))
        if same:
            for slot, position in zip(self._slots, self._positions):
                slot.set_value(jnp.asarray(leaves[position], slot.get_value().dtype))
            return
        from kerasish.variables import Variable
        names = None if self._built_for is None or params_def is None else \
            [getattr(v, "path", None) or f"variable_{i}" for i, v in enumerate(self._built_for)]
        positions, slot_names = keras_layout(state, params_def, names, self._keras_slot_groups())
        tied = _tied_counts(leaves, positions, slot_names)
        kept = [(p, name) for p, name in zip(positions, slot_names) if p not in tied]
        self._state_def, self._params_def = treedef, params_def
        self._positions, self._tied = tuple(p for p, _ in kept), {p: jnp.asarray(leaves[p]).dtype for p in tied}
        self._slots = [Variable(leaves[p], trainable=False, name=name, path=f"{self.name}/{name}")
                       for p, name in kept]

    def _unflatten(self, values: Sequence[Any]) -> Any:
        leaves = [None] * (len(self._positions) + len(self._tied))
        for position, value in zip(self._positions, values):
            leaves[position] = value
        for position, dtype in self._tied.items():  # optax's inner step counts follow `iteration`
            leaves[position] = jnp.asarray(values[0], dtype)
        return jax.tree.unflatten(self._state_def, leaves)

    def _in_keras_order(self, state: Any) -> list:
        leaves = jax.tree.leaves(state)
        return [leaves[position] for position in self._positions]

    @property
    def variables(self) -> list:
        """The state as assignable variables: iteration, learning rate, then the slots."""
        return list(self._slots or [])

    @property
    def built(self) -> bool:
        return self._slots is not None

    def _built_with(self, variables: Sequence[Any]) -> bool:
        """Whether the state was made by `build` for exactly these variables."""
        return self._slots is not None and self._built_for is not None and self._params_def is not None \
            and [id(v) for v in self._built_for] == [id(v) for v in variables]

    @property
    def iterations(self) -> int:
        """Number of optimizer updates applied to `state` (0 before the first)."""
        if self.state is None:
            return 0
        count = find_count(self.state)
        if count is None:
            raise AttributeError(f"The optax state of {self.name!r} has no step count.")
        return int(count)

    # -- Keras's API ------------------------------------------------------------------------------
    def build(self, variables) -> None:
        """Creates the state for `variables`: Keras's list of trainable variables (their paths name
        the slots; their constraints are applied after each update), or any pytree of arrays."""
        self._built_for = list(variables) if isinstance(variables, (list, tuple)) and all(
            _is_variable(v) for v in variables) else None
        params = _values(list(variables) if self._built_for is not None else variables)
        self._store(self.make_transform().init(params), jax.tree.structure(params))
        self._compiled_apply = None

    def stateless_apply(self, optimizer_variables, grads, trainable_variables) -> tuple[list, list]:
        """One update without side effects: returns (new trainable values, new optimizer values).

        `optimizer_variables` are values (or variables) in `variables` order; `grads` and
        `trainable_variables` follow what `build` was given. Pure and jit-safe.

        Raises:
            ValueError: if the optimizer is not built by `build`, or a list has the wrong length.
        """
        if self._slots is None or self._params_def is None:
            raise ValueError(f"To call `stateless_apply`, {type(self).__name__} must be built (i.e. its variables "
                             "must have been created). You can build it via `optimizer.build(trainable_variables)`.")
        if len(optimizer_variables) != len(self._slots):
            raise ValueError(f"Argument `optimizer_variables` must be a list of tensors corresponding 1:1 to "
                             f"{type(self).__name__}().variables. Received list with length "
                             f"{len(optimizer_variables)}, but expected {len(self._slots)} variables.")
        if self._built_for is not None:  # Keras's lists
            params, grads = _values(list(trainable_variables)), _values(list(grads))
        else:  # the pytree `build` was given
            params, grads = _values(trainable_variables), _values(grads)
        if jax.tree.structure(params) != self._params_def or jax.tree.structure(grads) != self._params_def:
            raise ValueError(f"Argument `trainable_variables` (and `grads`) must correspond 1:1 to the trainable "
                             f"variables the optimizer was built with ({self._params_def.num_leaves}). Received "
                             f"len(trainable_variables) == {len(jax.tree.leaves(params))}.")
        state = self._unflatten(_values(list(optimizer_variables)))
        updates, state = self.make_transform().update(grads, state, params)
        params = optax.apply_updates(params, updates)
        if self._built_for is not None:
            params = [value if v.get_metadata("constraint", None) is None else v.get_metadata("constraint")(value)
                      for v, value in zip(self._built_for, params)]
        return params, self._in_keras_order(state)

    def apply(self, grads, trainable_variables=None):
        """One update. With Keras's variables (or none: those given to `build`), assigns their new
        values; with a pytree of arrays, returns the new pytree. The optimizer keeps its new state."""
        if trainable_variables is None:
            if self._built_for is None:
                raise ValueError("`apply` needs `trainable_variables` unless the optimizer was built with "
                                 "`optimizer.build(variables)`.")
            trainable_variables = self._built_for
        is_list = isinstance(trainable_variables, (list, tuple)) and all(_is_variable(v) for v in trainable_variables)
        if is_list and (self._built_for is None or [id(v) for v in self._built_for] != [id(v) for v in
                                                                                     trainable_variables]):
            self.build(trainable_variables)
        elif not is_list and (self.state is None or self._params_def is None):
            self.build(trainable_variables)
        if self._compiled_apply is None:
            self._compiled_apply = jax.jit(self.stateless_apply)
        new, slots = self._compiled_apply([s.get_value() for s in self._slots], grads, _values(trainable_variables))
        for slot, value in zip(self._slots, slots):
            slot.set_value(value)
        if not is_list:
            return new
        for variable, value in zip(trainable_variables, new):
            variable.assign(value)
        return None

    def apply_gradients(self, grads_and_vars) -> int:
        """Keras's `apply_gradients([(grad, variable), ...])`; returns the iteration count."""
        grads, variables = zip(*grads_and_vars)
        self.apply(list(grads), list(variables))
        return self.iterations
