"""Sequential: a stack of layers, each feeding the next.

Owns the model's structure: adding/removing layers, building every layer for an input shape,
`call` (each layer on the previous one's output), and `get_config`/`from_config`. It is a `Model`
(so an NNX module) whose layers live in one list attribute, in order.
"""

from __future__ import annotations

from typing import Any, Iterable

from kerasish.layers import masks, symbolic
from kerasish.layers.base import Layer, normalize_shape
from kerasish.layers.core import Input, InputLayer
from kerasish.layers.symbolic import KerasTensor
from kerasish.models.model import Model
from kerasish.utils import naming


class Sequential(Model):
    """A linear stack of layers (Keras's `keras.Sequential`).

    Example:
        >>> model = keras.Sequential([keras.Input((784,)), layers.Dense(10, activation="softmax")])
        >>> model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    """

    _not_functional = True  # `Sequential(layers, ...)` is never the functional constructor

    def __init__(self, layers: Iterable[Any] | None = None, trainable: bool = True, name: str | None = None):
        if name is not None and not isinstance(name, str):
            raise TypeError(f"Expected `name` to be a string. Received: name={name!r}")
        super().__init__(name=name or naming.unique_name("sequential"), trainable=trainable)
        self._layers: list[Layer] = []
        self._input_shape: tuple | None = None
        self._input_layer: InputLayer | None = None
        self._graph: tuple | None = None
        for layer in layers or []:
            self.add(layer)

    # -- structure --------------------------------------------------------------------------
    def _sublayers(self) -> list[Layer]:
        return list(self._layers)

    def add(self, layer: Any, rebuild: bool = True) -> None:
        """Appends a layer (or a `keras.Input(...)`, which fixes the input shape)."""
        if isinstance(layer, KerasTensor):
            node = layer._keras_history
            layer = node.layer if node is not None else None
        if isinstance(layer, InputLayer):
            if self._layers or self._input_layer is not None:
                raise ValueError(f"Sequential model '{self.name}' has already been configured to use an input; "
                                 "an InputLayer can only be added first.")
            self._input_layer = layer
            self._input_shape = layer.batch_shape
            return
        if not isinstance(layer, Layer):
            raise ValueError(f"Only instances of `keras.Layer` can be added to a Sequential model. "
                             f"Received: {layer!r} (of type {type(layer)})")
        if any(existing.name == layer.name for existing in self._layers):
            raise ValueError(f"All layers added to a Sequential model should have unique names. Name "
                             f"'{layer.name}' is already the name of a layer in this model. Update the "
                             f"`name` argument to pass a unique name.")
        if not self._layers and self._input_shape is None and layer._declared_input_shape is not None:
            self._input_shape = layer._declared_input_shape
        self._layers.append(layer)
        self._invalidate()
        if rebuild and self._input_shape is not None:
            self.build(self._input_shape)

    def pop(self, rebuild: bool = True) -> Layer:
        """Removes and returns the last layer."""
        if not self._layers:
            raise TypeError("There are no layers in the model.")
        layer = self._layers.pop()
        self._invalidate()
        if rebuild and self._input_shape is not None and self._layers:
            self.build(self._input_shape)
        return layer

    def _invalidate(self) -> None:
        self.built = False
        for engine in (self._engine, self._predict_only):
            if engine is not None:
                engine.reset()  # the structure changed: recompile the steps, restart the optimizer

    # -- building ---------------------------------------------------------------------------
    def build(self, input_shape=None) -> None:
        """Builds every layer for `input_shape` (batch dimension first, e.g. `(None, 28, 28, 1)`)."""
        if input_shape is None:
            input_shape = self._input_shape
        if input_shape is None:
            raise ValueError("You must provide an `input_shape` argument.")
        input_shape = normalize_shape(input_shape, "input_shape")
        if not self._layers:
            raise ValueError(f"Sequential model '{self.name}' has no layers; add layers before building it.")
        for layer in self._layers:  # forget the graph of an earlier build of this model
            layer._inbound_nodes.values[:] = [n for n in layer._inbound_nodes.values
                                              if getattr(n, "owner", None) != id(self)]
        inputs = self._input_layer.output if self._input_layer is not None and \
            self._input_layer.batch_shape == input_shape else Input(batch_shape=input_shape)
        x = inputs
        for layer in self._layers:
            x = layer(x)
            x._keras_history.owner = id(self)
        self._graph = (inputs, x)
        self._input_shape = input_shape
        self._output_shape = x.shape
        self.built = True

    @property
    def inputs(self) -> list:
        """The symbolic input (a list of one KerasTensor), so layers' outputs can feed new models."""
        if not self.built:
            raise AttributeError(f"Sequential model '{self.name}' has no defined inputs yet: build it first.")
        return [self._graph[0]]

    @property
    def outputs(self) -> list:
        if not self.built:
            raise AttributeError(f"Sequential model '{self.name}' has no defined outputs yet: build it first.")
        return [self._graph[1]]

    @property
    def input_shape(self) -> tuple:
        if self._input_shape is None:
            raise AttributeError(f"Sequential model '{self.name}' has no defined input shape yet.")
        return self._input_shape

    @property
    def output_shape(self) -> tuple:
        if not self.built:
            raise AttributeError(f"Sequential model '{self.name}' has not been built yet.")
        return self._output_shape

    def _ensure_built(self, input_shape) -> None:
        if not self.built:
            self.build(self._input_shape or input_shape)

    def call(self, inputs, training=None, mask=None):
        x = inputs
        if mask is not None:
            masks.set_keras_mask(x, mask)
        for layer in self._layers:
            x = layer(x, training=training)
        return x

    def _build_on_call(self, args, kwargs) -> None:
        shape = symbolic.shape_of(args[0] if args else kwargs.get("inputs"))
        self.build(self._input_shape or (None, *shape[1:]))

    # -- description ------------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        """Keras 3's Sequential config (an InputLayer entry first, then each layer's entry)."""
        from kerasish.saving.model_config import sequential_config
        return sequential_config(self)

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: dict | None = None) -> "Sequential":
        from kerasish.saving.model_config import sequential_from_config
        return sequential_from_config(cls, config, custom_objects)

    def __repr__(self) -> str:
        return f"<Sequential name={self.name}, built={self.built}>"
