"""FlaxLayer: any Flax NNX module as a layer of a Sequential model.

The module is used as given (its parameters, its random streams); its `Param`s are trained, its
other variables (batch statistics, RNG counts) are carried as model state. Dropout / BatchNorm
inside it switch between training and inference with the rest of the model.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx

from kerasish.layers.base import Layer


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
        self._given = module

    def make_module(self, input_shape, rngs):
        return self._given

    def compute_output_shape(self, input_shape):
        sample = jax.ShapeDtypeStruct((1 if input_shape[0] is None else input_shape[0], *input_shape[1:]),
                                      jnp.float32)
        graphdef, state = nnx.split(self._given)
        out = jax.eval_shape(lambda s, x: nnx.merge(graphdef, s)(x), state, sample)
        return (input_shape[0], *out.shape[1:])

    def weight_specs(self):
        module = self.module if self.module is not None else self._given
        specs = []
        for path, variable in nnx.iter_graph(module):
            if isinstance(variable, nnx.Variable) and not isinstance(variable, (nnx.RngState,)):
                specs.append((tuple(path), "/".join(str(p) for p in path),
                              isinstance(variable, nnx.Param)))
        return specs

    def get_config(self):
        raise TypeError(
            f"FlaxLayer '{self.name}' wraps a live {type(self._given).__name__} module, which has no "
            "JSON config: save its weights with `model.save_weights(...)` and rebuild the model in code.")
