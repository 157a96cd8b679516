"""kerasish.utils: to_categorical, set_random_seed, Progbar and friends."""

from __future__ import annotations

import numpy as np

from kerasish.utils.plotting import (plot_curves, plot_decision_boundary, plot_feature_maps, plot_filters,
                                     plot_gradient_norms, plot_history)
from kerasish.utils.dataset_utils import ArrayDataset, split_dataset
from kerasish.utils.directory_datasets import image_dataset_from_directory, text_dataset_from_directory
from kerasish.utils.file_utils import get_file
from kerasish.utils.image_utils import array_to_img, img_to_array, load_img, save_img
from kerasish.utils.model_visualization import model_to_dot, plot_model
from kerasish.utils.progbar import Progbar
from kerasish.utils.py_dataset import PyDataset, Sequence
from kerasish.utils.rng import set_random_seed
from kerasish.utils.sequence_utils import pad_sequences, timeseries_dataset_from_array
from kerasish.serialization import (CustomObjectScope, custom_object_scope, get_custom_objects, get_registered_name,
                                    get_registered_object, register_keras_serializable, serialize_keras_object)


def to_categorical(x, num_classes: int | None = None) -> np.ndarray:
    """One-hot encodes integer class labels: `(n,)` -> `(n, num_classes)` float32, like Keras."""
    labels = np.asarray(x)
    if labels.size and not np.all(np.equal(np.mod(labels, 1), 0)):
        raise ValueError(f"`to_categorical` expects integer class labels. Received values such as "
                         f"{labels.ravel()[:3].tolist()}")
    labels = labels.astype(np.int64)
    if labels.ndim > 1 and labels.shape[-1] == 1:
        labels = labels.reshape(labels.shape[:-1])
    if labels.size and labels.min() < 0:
        raise ValueError(f"`to_categorical` expects non-negative labels. Received a minimum of {labels.min()}")
    if num_classes is None:
        num_classes = int(labels.max()) + 1 if labels.size else 0
    elif labels.size and labels.max() >= num_classes:
        raise ValueError(f"Label {labels.max()} is out of range for num_classes={num_classes}.")
    out = np.zeros((*labels.shape, num_classes), np.float32)
    np.put_along_axis(out, labels[..., None], 1.0, axis=-1)
    return out


def unpack_x_y_sample_weight(data):
    """`(x, y, sample_weight)` from a batch as a custom `train_step` receives it: `(x,)`, `(x, y)`,
    `(x, y, sample_weight)` or `x` alone; what is missing is None.

    Raises:
        ValueError: for a tuple or list of any other length.
    """
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return data, None, None
    if not 1 <= len(data) <= 3:
        raise ValueError("Data is expected to be in format `x`, `(x,)`, `(x, y)`, or `(x, y, sample_weight)`, "
                         f"found: {data}")
    return (*data, None, None)[:3]


def pack_x_y_sample_weight(x, y=None, sample_weight=None):
    """The inverse of `unpack_x_y_sample_weight`: `x` (or `(x,)` when x is a tuple or list),
    `(x, y)`, or `(x, y, sample_weight)`."""
    if y is None:
        return (x,) if isinstance(x, (list, tuple)) else x
    return (x, y) if sample_weight is None else (x, y, sample_weight)


def normalize(x, axis: int = -1, order: int = 2) -> np.ndarray:
    """Scales `x` to unit `order`-norm along `axis` (Keras's `keras.utils.normalize`)."""
    x = np.asarray(x, dtype=np.float32)
    norm = np.atleast_1d(np.linalg.norm(x, order, axis))
    norm[norm == 0] = 1
    return x / np.expand_dims(norm, axis)


__all__ = ["Progbar", "normalize", "pack_x_y_sample_weight", "plot_curves", "plot_decision_boundary", "plot_feature_maps", "plot_filters",
           "plot_gradient_norms", "plot_history", "set_random_seed", "to_categorical",
           "unpack_x_y_sample_weight"]
__all__ += ["ArrayDataset", "PyDataset", "Sequence", "get_file", "model_to_dot", "pad_sequences", "plot_model",
            "split_dataset", "timeseries_dataset_from_array"]
__all__ += ["CustomObjectScope", "clear_session", "custom_object_scope", "deserialize_keras_object",
            "get_custom_objects", "get_registered_name", "get_registered_object", "register_keras_serializable",
            "serialize_keras_object"]
__all__ += ["get_source_inputs", "image_dataset_from_directory", "text_dataset_from_directory"]
__all__ += ["array_to_img", "img_to_array", "is_keras_tensor", "load_img", "save_img", "standardize_dtype"]


def is_keras_tensor(x) -> bool:
    """Whether `x` is a symbolic tensor of the functional API (`keras.Input(...)`, a layer's output on one)."""
    from kerasish.layers.symbolic import KerasTensor
    return isinstance(x, KerasTensor)


def get_source_inputs(tensor) -> list:
    """The `keras.Input` tensors a symbolic tensor is computed from, in first-found order, each once.
    A value that is not a symbolic tensor is returned as is (Keras's behaviour)."""
    if not hasattr(tensor, "_keras_history"):
        return tensor
    sources, seen, pending = [], set(), [tensor]
    while pending:
        current = pending.pop(0)
        node = current._keras_history
        parents = node.input_tensors if node is not None else []
        if not parents:
            if id(current) not in seen:
                seen.add(id(current))
                sources.append(current)
            continue
        pending = list(parents) + pending
    return sources


def __getattr__(name: str):
    """Keras also exports these from `keras.utils`; they live in modules that import the layers, so they
    are looked up on first use (importing them here would be circular)."""
    if name == "deserialize_keras_object":
        from kerasish.saving.objects import deserialize_keras_object
        return deserialize_keras_object
    if name == "standardize_dtype":
        from kerasish.ops.dtypes import standardize_dtype
        return standardize_dtype
    if name == "clear_session":
        from kerasish import clear_session
        return clear_session
    raise AttributeError(f"module 'kerasish.utils' has no attribute {name!r}")
