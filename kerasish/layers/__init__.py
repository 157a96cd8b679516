"""kerasish.layers: every layer class, and (de)serialization of layers by class name."""

from __future__ import annotations

from typing import Any

from kerasish import serialization
from kerasish.layers.base import Layer
from kerasish.layers.input_spec import InputSpec
from kerasish.layers.convolutional import Conv2D
from kerasish.layers.core import Activation, Dense, Dropout, Flatten, Input, InputLayer, Maxout, Reshape
from kerasish.layers.symbolic import KerasTensor
from kerasish.layers.embedding import Embedding
from kerasish.layers.flax_layer import FlaxLayer
from kerasish.layers.normalization import BatchNormalization, LayerNormalization
from kerasish.layers.pooling_nd import (AveragePooling2D, GlobalAveragePooling2D, GlobalMaxPooling2D,
                                        MaxPooling2D)
from kerasish.layers.rescaling import Rescaling
# Families with many members list them in their own `__all__`.
from kerasish.layers import (activation_layers, attention, convolutional, lambda_layer, masking, merging, noise,
                             norm_extra, pooling_nd, preprocessing, recurrent, reshaping, spectral_normalization)
from kerasish.layers.activation_layers import *  # noqa: F401,F403
from kerasish.layers.attention import *  # noqa: F401,F403
from kerasish.layers.convolutional import *  # noqa: F401,F403
from kerasish.layers.lambda_layer import *  # noqa: F401,F403
from kerasish.layers.masking import *  # noqa: F401,F403
from kerasish.layers.merging import *  # noqa: F401,F403
from kerasish.layers.noise import *  # noqa: F401,F403
from kerasish.layers.norm_extra import *  # noqa: F401,F403
from kerasish.layers.pooling_nd import *  # noqa: F401,F403
from kerasish.layers.preprocessing import *  # noqa: F401,F403
from kerasish.layers.recurrent import *  # noqa: F401,F403
from kerasish.layers.reshaping import *  # noqa: F401,F403
from kerasish.layers.spectral_normalization import *  # noqa: F401,F403

_FAMILIES = (activation_layers, attention, convolutional, lambda_layer, masking, merging, noise, norm_extra, pooling_nd,
             preprocessing, recurrent, reshaping, spectral_normalization)

MaxPool2D = MaxPooling2D
AvgPool2D = AveragePooling2D
GlobalAvgPool2D = GlobalAveragePooling2D
GlobalMaxPool2D = GlobalMaxPooling2D

_LAYERS = {cls.__name__: cls for cls in (
    Activation, AveragePooling2D, BatchNormalization, Dense, Dropout, Embedding, Flatten,
    GlobalAveragePooling2D, GlobalMaxPooling2D, InputLayer, LayerNormalization, Maxout, MaxPooling2D, Rescaling,
    Reshape)}
_LAYERS.update({name: getattr(family, name) for family in _FAMILIES for name in family.__all__
                if isinstance(getattr(family, name), type)})


def serialize(layer: Layer) -> dict[str, Any]:
    """A layer as one entry of Keras's `config.json` (`module`, `class_name`, `config`,
    `registered_name`, `build_config`); see `kerasish.saving.model_config`."""
    from kerasish.saving.model_config import serialize_layer
    return serialize_layer(layer)


def deserialize(config: dict[str, Any], custom_objects: dict[str, Any] | None = None) -> Layer:
    """Rebuilds a layer from `serialize`'s output (or Keras's); custom layers come from `custom_objects`,
    `custom_object_scope` or the registry."""
    from kerasish.saving.model_config import deserialize_layer
    return deserialize_layer(config, custom_objects)


__all__ = ["Activation", "AveragePooling2D", "AvgPool2D", "BatchNormalization", "Conv2D", "Convolution2D",
           "Dense", "Dropout", "Embedding", "FlaxLayer", "Flatten", "GlobalAveragePooling2D", "GlobalAvgPool2D",
           "GlobalMaxPool2D", "GlobalMaxPooling2D", "Input", "InputLayer", "InputSpec", "KerasTensor", "Layer", "LayerNormalization", "MaxPool2D",
           "MaxPooling2D", "Maxout", "Rescaling", "Reshape", "deserialize", "serialize",
           *(name for family in _FAMILIES for name in family.__all__)]
