"""save_model / load_model / save_weights / load_weights: Keras 3's functions and Keras 3's files.

`model.save("m.keras")` writes Keras's zip (`archive.py`): `config.json` (the model in Keras's
format, `model_config.py`, with `compile_config`), `metadata.json` and `model.weights.h5`
(`weights_file.py`), which Keras 3's `load_model` opens; `save_weights("w.weights.h5")` writes the
HDF5 file alone. Both directions work: files Keras 3 wrote load here. Every write is atomic
(`atomic.py`); in a multi-process run every process gathers the arrays and process 0 writes.
Loading never runs code from the file unless `safe_mode=False`, and never changes a model unless
the whole file fits it.
"""

from __future__ import annotations

import io
import os
from typing import Any

import jax

from kerasish import serialization
from kerasish.saving import archive, assets, compile_config, model_config, model_state, weights_file
from kerasish.saving.atomic import atomic_write

_MODEL_SUFFIX, _WEIGHTS_SUFFIX = ".keras", ".weights.h5"


def _proceed(filepath: str, overwrite: bool) -> bool:
    """Keras asks before overwriting when `overwrite=False`."""
    if overwrite or not os.path.exists(filepath):
        return True
    answer = input(f"[WARNING] {filepath} already exists - overwrite? [y/n]").strip().lower()
    while answer not in ("y", "n"):
        answer = input('Enter "y" (overwrite) or "n" (cancel).').strip().lower()
    return answer == "y"


def _write_weights(filepath: str, contents: weights_file.Contents) -> None:
    if jax.process_index() == 0:
        atomic_write(filepath, lambda f: weights_file.write(f, contents))


def save_model(model, filepath, overwrite: bool = True, zipped=None, **kwargs) -> None:
    """Writes `model` (config, weights, compile config, optimizer state) to a Keras 3 `.keras` file,
    atomically: a failure midway leaves any previous file at `filepath` as it was.

    Raises:
        ValueError: if `filepath` does not end in `.keras`, for `zipped=False`, or unknown arguments.

    Example:
        >>> model.save("model.keras"); restored = keras.models.load_model("model.keras")
    """
    if kwargs:
        raise ValueError(f"The following argument(s) are not supported: {list(kwargs.keys())}")
    filepath = os.fspath(filepath)
    if zipped is False:
        raise ValueError("`zipped=False` (a model directory) is not supported by kerasish; save to a `.keras` file. "
                         f"Received: filepath={filepath}")
    if not filepath.endswith(_MODEL_SUFFIX):
        raise ValueError("Invalid filepath extension for saving. Please add a `.keras` extension for the native "
                         "Keras format (kerasish writes no legacy `.h5` files). Use `model.save_weights` for a "
                         f"`.weights.h5` file. Received: filepath={filepath}.")
    if not _proceed(filepath, overwrite):
        return
    config = model_config.serialize_layer(model)
    compile_cfg, extras = compile_config.compile_config(model)
    user_compile_config = model_config.user_hook(model, "get_compile_config")
    if user_compile_config is not None and model._engine is not None:
        compile_cfg = serialization.serialize_keras_object(user_compile_config())  # the user's own keys
    if compile_cfg is not None:
        config["compile_config"] = compile_cfg
    contents = model_state.contents_of(model, with_optimizer=compile_cfg is not None, info={"compile": extras})
    weights = weights_file.to_bytes(contents)
    files = assets.collect(model)
    if jax.process_index() == 0:
        atomic_write(filepath, lambda f: archive.write(f, config, weights, files))


def _check_exists(filepath: str) -> None:
    if not os.path.isfile(filepath):
        raise ValueError(f"File not found: filepath={filepath}. Please ensure the file is an accessible `.keras` "
                         "zip file.")


def load_model(filepath, custom_objects: dict | None = None, compile: bool = True, safe_mode: bool = True):
    """Rebuilds a model from a `.keras` file written by kerasish or by Keras 3: architecture,
    weights, compile configuration and optimizer state.

    Raises:
        ValueError: naming the file, if it is missing, not a `.keras` zip, damaged or unsafe, names
            a class that is neither built in, registered nor in `custom_objects` (then also a
            TypeError, as in Keras), holds a Python lambda while `safe_mode=True`, or its weights do
            not fit the architecture it describes.
    """
    filepath = os.fspath(filepath)
    if os.path.isdir(filepath):
        raise ValueError(f"{filepath} is a directory: kerasish loads `.keras` zip files only (not Keras's "
                         "`zipped=False` folders or TensorFlow SavedModels).")
    if filepath.endswith((".h5", ".hdf5")) and not filepath.endswith(_WEIGHTS_SUFFIX):
        raise ValueError(f"{filepath} is a legacy Keras 2 / tf.keras HDF5 model file; kerasish reads Keras 3 "
                         "`.keras` files only. Open it with tf.keras and save it again as `.keras`.")
    if not filepath.endswith(_MODEL_SUFFIX):
        if filepath.endswith(_WEIGHTS_SUFFIX):
            raise ValueError(f"{filepath} holds weights only: build the same model and call "
                             "`model.load_weights(filepath)`.")
        raise ValueError(f"File format not supported: filepath={filepath}. kerasish supports Keras 3 `.keras` "
                         "files (and `.weights.h5` through `model.load_weights`).")
    _check_exists(filepath)
    stored = archive.read(filepath, filepath)
    config = dict(stored.config)
    cc = config.pop("compile_config", None)
    try:
        with serialization.SafeModeScope(safe_mode):
            model = model_config.deserialize_layer(config, custom_objects)
    except model_config.UnknownObjectError as e:
        raise model_config.UnknownObjectError(f"Cannot load {filepath}: {e}") from None
    except ValueError as e:
        raise ValueError(f"Cannot load {filepath}: {e}") from None
    except (TypeError, KeyError, IndexError, AttributeError) as e:  # a config that does not build
        raise ValueError(f"Cannot load {filepath}: building the model from its config failed "
                         f"({type(e).__name__}: {e}).") from e
    from kerasish.models import Model
    if not isinstance(model, Model):
        raise ValueError(f"{filepath} describes a {type(model).__name__}, not a model.")
    contents = weights_file.read(io.BytesIO(stored.weights), filepath) if stored.weights is not None else None
    if compile and cc:
        with serialization.SafeModeScope(safe_mode), serialization.CustomObjectScope(custom_objects):
            model_config.refuse_code(cc, "compile_config")
            user_compile_from_config = model_config.user_hook(model, "compile_from_config")
            if user_compile_from_config is not None:
                user_compile_from_config(cc)  # the user's keys, as their `get_compile_config` wrote them
            else:
                compile_config.compile_from_config(model, cc, (contents.info if contents else {}).get("compile"),
                                                   custom_objects)
    if contents is not None and model.built:
        model_state.restore(model, contents, filepath)
    elif contents is not None and any(arrays for _, arrays in contents.groups.values()):
        raise ValueError(f"{filepath} holds weights, but its config gives no input shape to build the model with.")
    assets.restore(model, stored.assets)
    return model


def save_weights(model, filepath, overwrite: bool = True, max_shard_size=None, **kwargs) -> None:
    """Writes every variable of `model` (and its optimizer state, if compiled) to a Keras 3
    `.weights.h5` file, atomically.

    Raises:
        ValueError: if `filepath` does not end in `.weights.h5`, the model is not built, or for
            `max_shard_size` (sharded weights are not supported).
    """
    if kwargs:
        raise ValueError(f"Invalid keyword arguments: {kwargs}")
    if max_shard_size is not None:
        raise ValueError("Sharded weights (`max_shard_size`, `.weights.json`) are not supported by kerasish; it "
                         f"writes one `.weights.h5` file. Received: max_shard_size={max_shard_size}")
    filepath = os.fspath(filepath)
    if not filepath.endswith(_WEIGHTS_SUFFIX):
        raise ValueError(f"The filename must end in `.weights.h5`. Received: filepath={filepath}")
    model_state.require_built(model, "saving")
    if not _proceed(filepath, overwrite):
        return
    _write_weights(filepath, model_state.contents_of(model))


def read_weights(filepath: str) -> weights_file.Contents:
    """The weights of a `.weights.h5` file or of a `.keras` file's `model.weights.h5`, checked."""
    _check_exists(filepath)
    if filepath.endswith(_MODEL_SUFFIX):
        stored = archive.read(filepath, filepath)
        if stored.weights is None:
            raise ValueError(f"{filepath} has no model.weights.h5 member: it holds no weights.")
        return weights_file.read(io.BytesIO(stored.weights), filepath)
    return weights_file.read(filepath, filepath)


def load_weights(model, filepath, skip_mismatch: bool = False, **kwargs) -> None:
    """Loads the variables (and, if the model is compiled and it fits, the optimizer state) from a
    `.weights.h5` or `.keras` file written by kerasish or Keras 3.

    Nothing is assigned unless every array fits the model (`skip_mismatch=True` loads the layers
    that fit and warns about the rest).

    Raises:
        ValueError: naming the file, if it is missing, not a Keras weights file, damaged, unsafe, or
            written for another architecture; if the model is not built.
    """
    if kwargs:
        raise ValueError(f"Invalid keyword arguments: {kwargs}")
    filepath = os.fspath(filepath)
    if filepath.endswith(".weights.json"):
        raise ValueError(f"{filepath}: sharded weights (`max_shard_size`) are not supported by kerasish.")
    if not filepath.endswith((_MODEL_SUFFIX, _WEIGHTS_SUFFIX)):
        raise ValueError(f"File format not supported: filepath={filepath}. kerasish loads weights from Keras 3 "
                         "`.keras` and `.weights.h5` files (not legacy `.h5` or TensorFlow checkpoints).")
    model_state.require_built(model, "loading weights into")
    model_state.restore(model, read_weights(filepath), filepath, skip_mismatch=skip_mismatch)


def restore_state(model, filepath: str) -> dict[str, Any]:
    """Loads variables and optimizer state from a weights file; returns kerasish's info from it."""
    contents = read_weights(filepath)
    model_state.restore(model, contents, filepath)
    return contents.info


def save_state(model, filepath: str, **info: Any) -> None:
    """Writes variables and optimizer state plus JSON fields `info` (used by BackupAndRestore)."""
    _write_weights(filepath, model_state.contents_of(model, info=info))
