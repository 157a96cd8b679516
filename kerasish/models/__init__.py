"""kerasish.models: Sequential, the Model base class, and load_model."""

from kerasish.models.cloning import clone_model
from kerasish.models.functional import Functional
from kerasish.models.model import Model
from kerasish.models.sequential import Sequential
from kerasish.saving import load_model

__all__ = ["Functional", "Model", "Sequential", "clone_model", "load_model"]
