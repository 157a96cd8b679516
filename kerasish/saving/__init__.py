"""kerasish.saving: save and load whole models or their weights, and the registry of custom classes.

Files are single safetensors files with the JSON description in the metadata header (see
`kerasish/saving/file_format.py`); every write is atomic (`kerasish/saving/atomic.py`).
"""

from __future__ import annotations

from typing import Any

from kerasish import serialization
from kerasish.saving.saving_api import load_model, load_weights, save_model, save_weights
from kerasish.serialization import get_registered_name, get_registered_object, register_keras_serializable


def get_custom_objects() -> dict[str, Any]:
    """The global registry (`"package>Name" -> class or function`); entries added to it are found on load."""
    return serialization._CUSTOM_OBJECTS


__all__ = ["get_custom_objects", "get_registered_name", "get_registered_object", "load_model", "load_weights",
           "register_keras_serializable", "save_model", "save_weights"]
