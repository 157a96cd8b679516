"""kerasish.models: Sequential and the Model base class (load_model arrives with saving)."""

from kerasish.models.model import Model
from kerasish.models.sequential import Sequential, SequentialModule

__all__ = ["Model", "Sequential", "SequentialModule"]
