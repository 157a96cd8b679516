"""kerasish.models: Sequential, the Model base class, and load_model."""

from kerasish.models.cloning import clone_model
from kerasish.models.functional import Functional
from kerasish.models.model import Model
from kerasish.models.sequential import Sequential
from kerasish.saving import load_model, save_model



def model_from_json(json_string: str, custom_objects: dict | None = None) -> Model:
    """A model (untrained: new weights) from `model.to_json()`'s string, or Keras's; custom layers
    come from `custom_objects` or the registry."""
    import json
    from kerasish.layers import deserialize
    return deserialize(json.loads(json_string), custom_objects=custom_objects)


__all__ = ["Functional", "Model", "Sequential", "clone_model", "load_model", "model_from_json", "save_model"]
