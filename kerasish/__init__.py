"""kerasish: Keras 3's Sequential API on JAX — Flax NNX layers, Optax optimizers, one jit-compiled step.

    import kerasish as keras
    from kerasish import layers

Everything public is listed here.
"""

from kerasish import (activations, callbacks, datasets, initializers, layers, losses, metrics, models,
                      optimizers, regularizers, saving, utils)
from kerasish.layers import Input, Layer
from kerasish.models import Model, Sequential
from kerasish.serialization import register_keras_serializable
from kerasish.utils.naming import reset_names as _reset_names

__version__ = "0.1.0"


def clear_session() -> None:
    """Resets automatic layer names, as `keras.backend.clear_session()` does."""
    _reset_names()


__all__ = ["Input", "Layer", "Model", "Sequential", "activations", "callbacks", "clear_session", "datasets",
           "distribution", "initializers", "mixed_precision", "layers", "losses", "metrics", "models", "optimizers", "register_keras_serializable",
           "regularizers", "saving", "utils"]
