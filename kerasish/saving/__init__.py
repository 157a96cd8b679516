"""kerasish.saving: Keras 3's `.keras` and `.weights.h5` files, both ways, and the registry of custom
classes (`register_keras_serializable`, `get_custom_objects`, `custom_object_scope`).

A `.keras` file is Keras's zip (`archive.py`) of `config.json` (`model_config.py`,
`compile_config.py`), `metadata.json` and `model.weights.h5` (`weights_file.py`, laid out by
`layout.py`, the optimizer by `optimizer_vars.py`); every write is atomic (`atomic.py`).
"""

from __future__ import annotations

from kerasish.saving.model_config import UnknownObjectError, deserialize_layer, serialize_layer
from kerasish.saving.saving_api import load_model, load_weights, save_model, save_weights
from kerasish.serialization import (CustomObjectScope, custom_object_scope, enable_unsafe_deserialization,
                                    get_custom_objects, get_registered_name, get_registered_object,
                                    register_keras_serializable, serialize_keras_object)


def deserialize_keras_object(config, custom_objects=None, safe_mode: bool = True, **kwargs):
    """Rebuilds a layer or model from Keras's `{"module", "class_name", "config", ...}` entry
    (other objects: use their module's `deserialize`, e.g. `keras.initializers.deserialize`).

    Raises:
        ValueError: for unknown keyword arguments, or what `deserialize_layer` raises.
    """
    from kerasish import serialization
    if kwargs:
        raise ValueError(f"Invalid keyword arguments: {sorted(kwargs)}")
    with serialization.SafeModeScope(safe_mode):
        return deserialize_layer(config, custom_objects)


__all__ = ["CustomObjectScope", "UnknownObjectError", "custom_object_scope", "deserialize_keras_object",
           "deserialize_layer", "enable_unsafe_deserialization", "get_custom_objects", "get_registered_name",
           "get_registered_object", "load_model", "load_weights", "register_keras_serializable", "save_model",
           "save_weights", "serialize_keras_object", "serialize_layer"]
