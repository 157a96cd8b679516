"""Metrics whose state has one entry per class or label: its shape is known only from the data.

Keras builds F1Score, R2Score and a multi-label AUC in their first `update_state`. Here the same
happens: `update` on an empty state, outside a trace, calls `build(y_true_shape, y_pred_shape)`,
which gives the metric its state variables, and goes on. A compiled step fixes its state's shapes
before it runs, so it needs `build` called first (`compile` can do it from the data's shapes);
otherwise it stops with an error that says so.

Owns: that protocol (`built`, `build`, the empty state of an unbuilt metric). Subclasses give
`_shape_known`, `_learn_shape`, `_zeros`, `_update` and `_compute`.
"""

from __future__ import annotations

from typing import Any

import jax
import numpy as np

from kerasish.metrics.base import Metric

__all__ = ["ShapeBuilt"]


class ShapeBuilt(Metric):
    """A metric whose state shape depends on the last axis of the data; built on the first batch."""

    def _shape_known(self) -> bool:
        return True

    def _learn_shape(self, y_true_shape: tuple, y_pred_shape: tuple) -> None:
        raise NotImplementedError

    def _zeros(self) -> dict[str, jax.Array]:
        raise NotImplementedError

    def _update(self, state, y_true, y_pred, sample_weight) -> dict[str, jax.Array]:
        raise NotImplementedError

    def _compute(self, state) -> Any:
        raise NotImplementedError

    def _unbuilt_message(self) -> str:
        return (f"{type(self).__name__} does not know the number of classes yet: call `update_state` (or "
                "`build(y_true_shape, y_pred_shape)`) once before a compiled step uses it.")

    @property
    def built(self) -> bool:
        return self._shape_known()

    def build(self, y_true_shape, y_pred_shape) -> None:
        """Fixes the state's shape from the data's shapes (the batch dimension may be None) and makes
        the metric's state variables. Does nothing once built."""
        if self.built:
            return
        self._learn_shape(tuple(y_true_shape), tuple(y_pred_shape))
        state = self.init()
        self._keys = list(state)
        self._variables = [self._make_variable(value, key) for key, value in state.items()]

    def init(self):
        return self._zeros() if self.built else {}

    def update(self, state, y_true, y_pred, sample_weight=None):
        if not state:
            if isinstance(y_true, jax.core.Tracer) or isinstance(y_pred, jax.core.Tracer):
                raise ValueError(self._unbuilt_message())
            self.build(np.shape(y_true), np.shape(y_pred))
            state = self.init()
        return self._update(state, y_true, y_pred, sample_weight)

    def compute(self, state):
        if not state:
            raise ValueError(self._unbuilt_message())
        return self._compute(state)
