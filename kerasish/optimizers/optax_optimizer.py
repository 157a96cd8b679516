"""`OptaxOptimizer`: the stateful shell around a user's own `optax.GradientTransformation`."""

from __future__ import annotations

from typing import Any

import optax

from kerasish.optimizers.shell import _StatefulShell
from kerasish.optimizers.state import find_lr_state, set_learning_rate

__all__ = ["OptaxOptimizer"]


class OptaxOptimizer(_StatefulShell):
    """Wraps a user's `optax.GradientTransformation` (e.g. `compile(optimizer=optax.adam(1e-3))`).

    `learning_rate` reads and writes the state when the user built `tx` with
    `optax.inject_hyperparams`; otherwise it raises AttributeError (so `hasattr` is False).
    """

    def __init__(self, tx: optax.GradientTransformation, name: str = "optax"):
        if not isinstance(tx, optax.GradientTransformation):
            raise TypeError(
                "Expected an `optax.GradientTransformation`. "
                f"Received: tx={tx!r} of type {type(tx).__name__}")
        self.tx = tx
        self.name = name
        self.state = None

    def make_transform(self) -> optax.GradientTransformation:
        return self.tx

    def _lr_state(self):
        found = find_lr_state(self.state) if self.state is not None else None
        if found is None:
            raise AttributeError(
                "The learning rate of this optax transformation is unknown: build it with "
                "`optax.inject_hyperparams(optax.adam)(learning_rate=...)` to read or set it"
                + (" (and call `build(params)` first)." if self.state is None else "."))
        return found

    @property
    def learning_rate(self) -> float:
        return float(self._lr_state().hyperparams["learning_rate"])

    @learning_rate.setter
    def learning_rate(self, value) -> None:
        self._lr_state()
        self.state = set_learning_rate(self.state, value)

    def get_config(self) -> dict[str, Any]:
        raise NotImplementedError(
            "An `optax.GradientTransformation` passed to compile cannot be serialized; use a "
            "kerasish optimizer (e.g. `keras.optimizers.Adam`) to save the optimizer config.")

    def __repr__(self) -> str:
        return f"<OptaxOptimizer name={self.name}>"
