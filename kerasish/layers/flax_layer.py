"""FlaxLayer: any Flax NNX module as a layer.

The module is an attribute of the layer, so it is part of the model's graph as it is: its `Param`s
are trained, its other variables (batch statistics, RNG counts) are carried as model state, and
Dropout / BatchNorm inside it switch between training and inference with the rest of the model.
"""

from __future__ import annotations

from flax import nnx

from kerasish.layers.base import Layer


def _set_mode(module: nnx.Module, training: bool) -> None:
    module.set_attributes(deterministic=not training, use_running_average=not training, raise_if_not_found=False)


class FlaxLayer(Layer):
    """Wraps an `nnx.Module` whose `__call__(x)` maps a batch to a batch.

    Example:
        >>> block = nnx.Sequential(nnx.Linear(4, 8, rngs=nnx.Rngs(0)), nnx.relu)
        >>> model = keras.Sequential([keras.Input((4,)), keras.layers.FlaxLayer(block), keras.layers.Dense(2)])
    """

    def __init__(self, module: nnx.Module, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(module, nnx.Module):
            raise TypeError(f"FlaxLayer expects a flax.nnx.Module instance. Received: module={module!r} "
                            f"of type {type(module).__name__}")
        self.module = module
        self.built = True

    def call(self, inputs, training=None):
        _set_mode(self.module, bool(training))
        try:
            return self.module(inputs)
        finally:
            _set_mode(self.module, False)

    def get_config(self):
        raise TypeError(
            f"FlaxLayer '{self.name}' wraps a live {type(self.module).__name__} module, which has no "
            "JSON config: save its weights with `model.save_weights(...)` and rebuild the model in code.")
