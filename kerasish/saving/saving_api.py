"""save_model / load_model / save_weights / load_weights, with Keras 3's names and file suffixes.

A `.keras` file (model.save) holds the architecture, every variable, the compile configuration and
the optimizer state; a `.weights.h5` file (model.save_weights) holds the variables and the optimizer
state. Both are kerasish files (see `file_format`), not Keras's zip or HDF5 files: the suffixes are
kept so code written for Keras runs unchanged. Loading never executes code from the file: classes
come from kerasish itself, `custom_objects=`, or `register_keras_serializable`.
"""

from __future__ import annotations

import os
from typing import Any

from kerasish import serialization
from kerasish.saving import file_format, model_state
from kerasish.saving.file_format import Contents

_MODEL_SUFFIX, _WEIGHTS_SUFFIX = ".keras", ".weights.h5"


def _proceed(filepath: str, overwrite: bool) -> bool:
    """Keras asks before overwriting when `overwrite=False`."""
    if overwrite or not os.path.exists(filepath):
        return True
    answer = input(f"[WARNING] {filepath} already exists - overwrite? [y/n]").strip().lower()
    while answer not in ("y", "n"):
        answer = input('Enter "y" (overwrite) or "n" (cancel).').strip().lower()
    return answer == "y"


def _state_contents(model, kind: str, with_optimizer: bool = True) -> Contents:
    contents = Contents(info={"kind": kind})
    model_state.add_tree(contents, model_state.MODEL, model_state.model_state(model))
    optimizer = model.optimizer
    if with_optimizer and optimizer is not None and optimizer.state is not None:
        model_state.add_tree(contents, model_state.OPTIMIZER, optimizer.state)
    return contents


def save_model(model, filepath, overwrite: bool = True, zipped=None, **kwargs) -> None:
    """Writes `model` (architecture, weights, compile config, optimizer state) to one `.keras` file.

    The write is atomic: a failure midway leaves any previous file at `filepath` as it was.

    Raises:
        ValueError: if `filepath` does not end in `.keras`, or for unsupported arguments.

    Example:
        >>> model.save("model.keras"); restored = keras.models.load_model("model.keras")
    """
    if kwargs:
        raise ValueError(f"The following argument(s) are not supported: {list(kwargs.keys())}")
    filepath = os.fspath(filepath)
    if not filepath.endswith(_MODEL_SUFFIX):
        raise ValueError("Invalid filepath extension for saving. Please add a `.keras` extension (kerasish "
                         f"writes no legacy `.h5` files). Received: filepath={filepath}.")
    if not _proceed(filepath, overwrite):
        return
    compile_config = model_state.compile_config(model)
    contents = _state_contents(model, "model", with_optimizer=compile_config is not None) if model.built \
        else Contents(info={"kind": "model"})
    contents.info["config"] = {"module": "kerasish", "class_name": type(model).__name__,
                               "config": model.get_config(),
                               "registered_name": serialization.get_registered_name(type(model))}
    contents.info["compile_config"] = compile_config
    file_format.write(filepath, contents)


def load_model(filepath, custom_objects: dict | None = None, compile: bool = True, safe_mode: bool = True):
    """Rebuilds a model saved by `model.save`: same architecture, weights, compile config and
    optimizer state, so `predict` gives identical outputs and `fit` continues where it stopped.
    `safe_mode` is accepted for Keras compatibility: a kerasish file never holds code to run.

    Raises:
        ValueError: naming the file, if it is missing, not a kerasish file, corrupt, holds only
            weights, or names a layer class that is neither built in, in `custom_objects`, nor
            registered.
    """
    filepath = os.fspath(filepath)
    contents = file_format.read(filepath)
    if contents.info.get("kind") != "model" or not isinstance(contents.info.get("config"), dict):
        raise ValueError(f"{filepath} holds weights only (it was written by `save_weights` or a backup), not a "
                         "whole model: build the same model and call `model.load_weights(filepath)`.")
    model = _model_from_config(contents.info["config"], custom_objects)
    if model.built:
        model_state.assign_model(contents, model, model_state.check_model(contents, model, filepath))
    elif contents.names(model_state.MODEL):
        raise ValueError(f"{filepath} holds weights, but its model config does not give an input shape to "
                         "build the model with.")
    compile_config = contents.info.get("compile_config")
    if compile and compile_config:
        model_state.compile_from_config(model, compile_config, custom_objects)
        if model.built and model_state.check_optimizer(contents, model, filepath):
            model_state.assign_optimizer(contents, model)
    return model


def _model_from_config(config: dict, custom_objects: dict | None):
    from kerasish.models import Model, Sequential
    class_name = config.get("registered_name") or config.get("class_name")
    cls = serialization.get_registered_object(class_name, custom_objects, {"Sequential": Sequential}) or \
        serialization.get_registered_object(config.get("class_name"), custom_objects, {"Sequential": Sequential})
    if not (isinstance(cls, type) and issubclass(cls, Model)):
        raise ValueError(f"Unknown model class: '{config.get('class_name')}'. Pass it in `custom_objects` or "
                         "register it with `@keras.saving.register_keras_serializable()`.")
    return cls.from_config(config.get("config") or {}, custom_objects=custom_objects)


def save_weights(model, filepath, overwrite: bool = True, max_shard_size=None, **kwargs) -> None:
    """Writes every variable of `model` (and its optimizer state, if compiled and trained) to a
    `.weights.h5` path, atomically.

    Raises:
        ValueError: if `filepath` does not end in `.weights.h5`, or the model is not built.
    """
    if kwargs:
        raise ValueError(f"Invalid keyword arguments: {kwargs}")
    if max_shard_size is not None:
        raise ValueError("`max_shard_size` is not supported: kerasish writes one weights file. "
                         f"Received: max_shard_size={max_shard_size}")
    filepath = os.fspath(filepath)
    if not filepath.endswith(_WEIGHTS_SUFFIX):
        raise ValueError(f"The filename must end in `.weights.h5`. Received: filepath={filepath}")
    if not _proceed(filepath, overwrite):
        return
    file_format.write(filepath, _state_contents(model, "weights"))


def load_weights(model, filepath, skip_mismatch: bool = False, **kwargs) -> None:
    """Loads the variables (and, if the model is compiled and it fits, the optimizer state) from a
    `.weights.h5` or `.keras` file written by kerasish.

    Nothing is assigned unless every array fits the model (`skip_mismatch=True` loads those that
    fit and warns about the rest).

    Raises:
        ValueError: naming the file, if it is missing, not a kerasish file, corrupt, or written for
            another architecture.
    """
    if kwargs:
        raise ValueError(f"Invalid keyword arguments: {kwargs}")
    filepath = os.fspath(filepath)
    if not filepath.endswith((_MODEL_SUFFIX, _WEIGHTS_SUFFIX)):
        raise ValueError(f"File format not supported: filepath={filepath}. kerasish loads weights from "
                         "`.keras` and `.weights.h5` files it wrote.")
    restore_state(model, filepath, skip_mismatch=skip_mismatch)


def restore_state(model, filepath: str, skip_mismatch: bool = False) -> dict[str, Any]:
    """Loads variables and optimizer state from any kerasish file; returns the file's JSON fields."""
    contents = file_format.read(filepath)
    keep = model_state.check_model(contents, model, filepath, skip_mismatch)
    with_optimizer = model_state.check_optimizer(contents, model, filepath)
    model_state.assign_model(contents, model, keep)
    if with_optimizer:
        model_state.assign_optimizer(contents, model)
    return contents.info


def save_state(model, filepath: str, kind: str, **info: Any) -> None:
    """Writes variables and optimizer state plus JSON fields `info` (used by BackupAndRestore)."""
    contents = _state_contents(model, kind)
    contents.info.update(info)
    file_format.write(filepath, contents)
