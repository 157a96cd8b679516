"""kerasish.saving: Keras 3's `.keras` and `.weights.h5` files, both ways, and the registry of custom
classes (`register_keras_serializable`, `get_custom_objects`, `custom_object_scope`).

A `.keras` file is Keras's zip (`archive.py`) of `config.json` (`model_config.py`,
`compile_config.py`), `metadata.json` and `model.weights.h5` (`weights_file.py`, laid out by
`layout.py`, the optimizer by `optimizer_vars.py`); every write is atomic (`atomic.py`).
"""

from __future__ import annotations

from kerasish.saving.model_config import UnknownObjectError, deserialize_layer, serialize_layer
from kerasish.saving.objects import deserialize_keras_object
from kerasish.saving.saving_api import load_model, load_weights, save_model, save_weights
from kerasish.serialization import (CustomObjectScope, custom_object_scope, enable_unsafe_deserialization,
                                    get_custom_objects, get_registered_name, get_registered_object,
                                    register_keras_serializable, serialize_keras_object)


__all__ = ["CustomObjectScope", "UnknownObjectError", "custom_object_scope", "deserialize_keras_object",
           "deserialize_layer", "enable_unsafe_deserialization", "get_custom_objects", "get_registered_name",
           "get_registered_object", "load_model", "load_weights", "register_keras_serializable", "save_model",
           "save_weights", "serialize_keras_object", "serialize_layer"]
