"""Pipeline: a sequence of preprocessing layers applied one after the other (Keras 3's
`keras.layers.Pipeline`), itself a layer. Unlike a Sequential model it has no weights of its own to
train and no input shape; its config is only the layers and the name, as Keras writes it."""

from __future__ import annotations

from kerasish.layers.base import Layer


class Pipeline(Layer):
    """Applies `layers` in order; `training` (True by default, as Keras) goes to each layer.

    Example:
        >>> augment = keras.layers.Pipeline([keras.layers.RandomFlip(), keras.layers.RandomRotation(0.1)])
    """

    def __init__(self, layers, name=None):
        super().__init__(name=name)
        if not isinstance(layers, (list, tuple)) or not all(isinstance(layer, Layer) for layer in layers):
            raise ValueError(f"`Pipeline` takes a list of layers. Received: layers={layers!r}")
        self._pipeline_layers = list(layers)

    @property
    def layers(self) -> list[Layer]:
        return self._pipeline_layers

    def call(self, inputs, training=True):
        for layer in self._pipeline_layers:
            inputs = layer(inputs, training=training)
        return inputs

    def compute_output_shape(self, input_shape):
        for layer in self._pipeline_layers:
            input_shape = layer.compute_output_shape(input_shape)
        return input_shape

    def get_config(self):
        from kerasish.saving.model_config import serialize_layer
        return {"layers": [serialize_layer(layer) for layer in self._pipeline_layers], "name": self.name}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from kerasish.saving.model_config import deserialize_layer
        layers = config.get("layers")
        if not isinstance(layers, (list, tuple)):
            raise ValueError("`Pipeline` config must contain a `layers` key mapping to a list of serialized layers. "
                             f"Received config with layers={layers}.")
        return cls([deserialize_layer(entry, custom_objects) for entry in layers], name=config.get("name"))


__all__ = ["Pipeline"]
