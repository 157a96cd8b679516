"""kerasish: Keras 3's Sequential API on JAX — Flax NNX layers, Optax optimizers, one jit-compiled step.

    import kerasish as keras
    from kerasish import layers

Everything public is listed here.
"""

from kerasish import random
from kerasish import (activations, backend, callbacks, constraints, datasets, distribution, initializers, layers,
                      losses, metrics, mixed_precision, models, ops, optimizers, regularizers, saving, utils)
from kerasish.backend import clear_session
from kerasish.layers import Input, Layer
from kerasish.models import Model, Sequential
from kerasish.serialization import register_keras_serializable
from kerasish.variables import Variable

config = backend  # keras.config.floatx(), keras.config.backend(), ... as in Keras 3

# Importing kerasish changes no JAX setting. JAX's persistent compilation cache is turned on when a
# model is first compiled (see kerasish/utils/compilation_cache.py for the switches).

__version__ = "0.1.0"

__all__ = ["Input", "Layer", "Model", "Sequential", "Variable", "activations", "backend", "callbacks",
           "clear_session", "config", "constraints", "datasets", "distribution", "initializers", "layers", "losses", "metrics",
           "mixed_precision", "models", "ops", "optimizers", "random", "register_keras_serializable", "regularizers",
           "saving", "utils"]
