"""kerasish: Keras 3's Sequential API on JAX — Flax NNX layers, Optax optimizers, one jit-compiled step.

    import kerasish as keras
    from kerasish import layers

Everything public is listed here.
"""

from kerasish import random
from kerasish import (activations, backend, callbacks, constraints, datasets, distribution, initializers, layers,
                      losses, metrics, mixed_precision, models, ops, optimizers, regularizers, saving, tree, utils)
from kerasish.backend import clear_session
from kerasish.initializers import Initializer
from kerasish.layers import Input, KerasTensor, Layer
from kerasish.layers.input_spec import InputSpec
from kerasish.losses import Loss
from kerasish.metrics import Metric
from kerasish.mixed_precision import DTypePolicy, FloatDTypePolicy
from kerasish.models import Model, Sequential
from kerasish.optimizers import Optimizer
from kerasish.regularizers import Regularizer
from kerasish.scopes import device, name_scope
from kerasish.serialization import register_keras_serializable
from kerasish.variables import Variable

config = backend  # keras.config.floatx(), keras.config.backend(), ... as in Keras 3

# Importing kerasish changes no JAX setting. JAX's persistent compilation cache is turned on when a
# model is first compiled (see kerasish/utils/compilation_cache.py for the switches).

__version__ = "0.1.0"



def version() -> str:
    """This package's version (`keras.version()` returns `keras.__version__`)."""
    return __version__


__all__ = ["DTypePolicy", "FloatDTypePolicy", "Initializer", "Input", "InputSpec", "KerasTensor", "Layer", "Loss",
           "Metric", "Model", "Optimizer", "Regularizer", "Sequential", "Variable", "activations", "backend",
           "callbacks", "clear_session", "config", "constraints", "datasets", "device", "distribution",
           "initializers", "layers", "losses", "metrics", "mixed_precision", "models", "name_scope", "ops",
           "optimizers", "random", "register_keras_serializable", "regularizers", "saving", "tree", "utils",
           "version"]
