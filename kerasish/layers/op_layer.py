"""OpLayer: a function of tensors (an operator or a `keras.ops` call on KerasTensors) as a node of a
functional graph. It has no weights; its config cannot be serialized (Keras 3 saves such op nodes by
their op name; kerasish refuses with a clear error instead)."""

from __future__ import annotations

from typing import Any, Callable

from kerasish.layers.base import Layer
from kerasish.utils import naming


class OpLayer(Layer):
    """Calls `fn` on its inputs; made by `keras.ops` functions and operators applied to KerasTensors."""

    def __init__(self, fn: Callable[..., Any], name: str | None = None, **kwargs):
        op_name = getattr(fn, "__name__", None) or name or "op"
        if op_name == "<lambda>":
            op_name = name or "op"
        super().__init__(name=naming.unique_name(naming.to_snake_case(op_name)), **kwargs)
        self.fn = fn
        self.built = True

    def call(self, *args, **kwargs):
        return self.fn(*args, **kwargs)

    def get_config(self):
        raise TypeError(f"'{self.name}' applies `{getattr(self.fn, '__name__', self.fn)}` to symbolic tensors; "
                        "kerasish cannot serialize such op nodes. Wrap the computation in a custom layer "
                        "(registered with `keras.saving.register_keras_serializable`) to save the model's config.")
