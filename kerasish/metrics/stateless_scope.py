"""A stateless scope: run stateful code on variables whose values are given, and read back what it
wrote, without changing the variables.

Keras-style metrics are written statefully (`self.total.assign_add(...)` in `update_state`); the
compiled training step needs them pure. `StatelessScope(variables, values)` swaps each variable's
value for the given one for the duration of a `with` block (inside or outside a JAX trace), lets the
block assign to them, and hands the assigned values back through `scope.values()`. On exit every
variable holds its old value again, even when the block raised.

Owns: that swap, and nothing else. Must not: keep traced values on a variable after the block.
"""

from __future__ import annotations

from typing import Any, Sequence

import jax.numpy as jnp
from flax import nnx
from flax.nnx import tracers

__all__ = ["StatelessScope", "value_of"]


def value_of(value: Any) -> Any:
    """The array behind `value` (an NNX / Keras variable), or `value` itself."""
    return value.get_value() if isinstance(value, nnx.Variable) else value


class StatelessScope:
    """`with StatelessScope(variables, values) as scope:` runs the block with `variables[i]` holding
    `values[i]` (cast to the variable's dtype); `scope.values()` returns their values at the end of
    the block, in the same order.

    Raises:
        ValueError: if the number of values differs from the number of variables, or a value's
            shape differs from its variable's.
    """

    def __init__(self, variables: Sequence[nnx.Variable], values: Sequence[Any]):
        self.variables = list(variables)
        values = [value_of(v) for v in values]
        if len(values) != len(self.variables):
            raise ValueError(f"Expected {len(self.variables)} values, one for each variable. "
                             f"Received {len(values)} values.")
        self._values = []
        for variable, value in zip(self.variables, values):
            old = variable.get_raw_value()
            value = jnp.asarray(value, dtype=old.dtype)
            if value.shape != old.shape:
                raise ValueError(f"Expected a value of shape {old.shape} for variable "
                                 f"{variable.get_metadata('path', '?')!r}. Received shape {value.shape}.")
            self._values.append(value)
        self._saved: list | None = None
        self._out: list | None = None

    def __enter__(self) -> "StatelessScope":
        self._saved = [(v.get_raw_value(), v._trace_state) for v in self.variables]
        for variable, value in zip(self.variables, self._values):
            # The variable may belong to an outer trace (usually the eager one): let it be written here.
            object.__setattr__(variable, "_trace_state", tracers.TraceState())
            variable.set_raw_value(value, _unsafe_bypass_check=True)
        return self

    def __exit__(self, *exc_info) -> None:
        self._out = [v.get_raw_value() for v in self.variables]
        for variable, (value, trace_state) in zip(self.variables, self._saved):
            variable.set_raw_value(value, _unsafe_bypass_check=True)
            object.__setattr__(variable, "_trace_state", trace_state)
        self._saved = None

    def values(self) -> list:
        """The variables' values at the end of the block (available after it exits)."""
        if self._out is None:
            raise RuntimeError("`StatelessScope.values()` is available once the `with` block has exited.")
        return list(self._out)
