"""The kerasish file: one safetensors file whose metadata header holds the JSON description.

Layout. Tensors are named by where they live: `model/<path>` for every NNX variable of the model
(`model/layers/0/linear/kernel`, `model/layers/1/rngs/key`, ...) and `optimizer/<path>` for every
leaf of the optax state. The string metadata holds:

    format = "kerasish", format_version = "1", kind = "model" | "weights" | "backup",
    manifest = JSON {tensor name: {"dtype", "shape", "key_impl"?}} (the value before encoding),
    sha256 = digest of every stored tensor (names, dtypes, shapes, bytes),
    config, compile_config, training = JSON, when the writer has them.

safetensors stores plain numbers only and never runs code on load (no pickle). Typed PRNG keys
are stored as their `jax.random.key_data` (uint32) and rebuilt with `wrap_key_data`; dtypes that
safetensors cannot name are stored as unsigned integers of the same width and viewed back.

Owns: encoding values, the checksum, writing through `atomic_write_bytes`, and reading back with
errors that name the file. Must not: know what a model or an optimizer is.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import safetensors.numpy
from safetensors import SafetensorError, safe_open

from kerasish.saving.atomic import atomic_write_bytes
from kerasish.utils.host import to_host

FORMAT = "kerasish"
VERSION = "1"
_PLAIN_DTYPES = {"bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
                 "float16", "float32", "float64"}


@dataclass
class Contents:
    """What a kerasish file holds: stored arrays, what each one encodes, and the JSON fields."""
    tensors: dict[str, np.ndarray] = field(default_factory=dict)
    specs: dict[str, dict] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)

    def add(self, name: str, value) -> None:
        self.tensors[name], self.specs[name] = encode(value)

    def names(self, prefix: str) -> list[str]:
        return sorted(n for n in self.tensors if n.startswith(prefix + "/"))


# -- values <-> stored arrays -----------------------------------------------------------------
def is_key(value) -> bool:
    return isinstance(value, jax.Array) and jnp.issubdtype(value.dtype, jax.dtypes.prng_key)


def spec_of(value) -> dict:
    """The description a stored value must match: dtype, shape and, for PRNG keys, the key impl."""
    if is_key(value):
        return {"dtype": "key", "shape": list(value.shape), "key_impl": str(jax.random.key_impl(value))}
    return {"dtype": np.dtype(value.dtype).name, "shape": list(np.shape(value))}


def encode(value) -> tuple[np.ndarray, dict]:
    spec = spec_of(value)
    array = to_host(jax.random.key_data(value)) if is_key(value) else to_host(value)
    if array.dtype.name not in _PLAIN_DTYPES:
        array = array.view(f"uint{8 * array.dtype.itemsize}")
    return np.asarray(array, order="C"), spec


def decode(array: np.ndarray, spec: dict) -> jax.Array:
    if spec["dtype"] == "key":
        return jax.random.wrap_key_data(jnp.asarray(array), impl=spec["key_impl"])
    if array.dtype.name != spec["dtype"]:
        array = array.view(jnp.dtype(spec["dtype"]))
    return jnp.asarray(array)


def describe(spec: dict) -> str:
    return f"{spec['dtype']}{list(spec['shape'])}"


def _digest(tensors: dict[str, np.ndarray]) -> str:
    h = hashlib.sha256()
    for name in sorted(tensors):
        array = tensors[name]
        h.update(f"{name}\0{array.dtype.name}\0{array.shape}\0".encode())
        h.update(array.tobytes())
    return h.hexdigest()


# -- writing and reading ----------------------------------------------------------------------
def write(path: str | os.PathLike, contents: Contents) -> None:
    """Serializes `contents` and replaces `path` atomically (the old file survives any failure).

    In a multi-process run every process gathers the arrays (a collective) but only process 0 writes.
    """
    if jax.process_index() != 0:
        return
    metadata = {"format": FORMAT, "format_version": VERSION,
                "manifest": json.dumps(contents.specs), "sha256": _digest(contents.tensors)}
    for key, value in contents.info.items():
        metadata[key] = value if key == "kind" else json.dumps(value)
    data = safetensors.numpy.save(contents.tensors, metadata=metadata)
    atomic_write_bytes(path, data)


def read(path: str | os.PathLike) -> Contents:
    """Reads and checks a kerasish file.

    Raises:
        ValueError: naming the file, if it does not exist, is not a kerasish file, or is truncated
            or corrupt (header unreadable, checksum or manifest mismatch).
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ValueError(f"File not found: filepath={path}. Please ensure the file is an accessible "
                         "file written by kerasish (`model.save` or `model.save_weights`).")
    try:
        with safe_open(path, framework="numpy") as f:
            metadata = f.metadata() or {}
            tensors = {name: f.get_tensor(name) for name in f.keys()}
    except SafetensorError as e:
        raise ValueError(f"Cannot read {path}: it is not a kerasish model file, or it is truncated or "
                         f"corrupt (safetensors: {e}).") from None
    if metadata.get("format") != FORMAT:
        raise ValueError(f"{path} is a safetensors file but was not written by kerasish (its metadata has "
                         f"no format='{FORMAT}'); only files written by `model.save` / `save_weights` load.")
    if metadata.get("format_version") != VERSION:
        raise ValueError(f"{path} uses kerasish file format version {metadata.get('format_version')!r}; this "
                         f"version of kerasish reads version {VERSION!r}.")
    info: dict[str, Any] = {}
    try:
        specs = json.loads(metadata.get("manifest", ""))
        for key, value in metadata.items():
            if key not in ("format", "format_version", "manifest", "sha256"):
                info[key] = value if key == "kind" else json.loads(value)
    except json.JSONDecodeError as e:
        raise ValueError(f"{path} is corrupt: its metadata is not valid JSON ({e}).") from None
    _check_consistent(path, tensors, specs, metadata.get("sha256"))
    return Contents(tensors, specs, info)


def _check_consistent(path: str, tensors: dict, specs: Any, digest: str | None) -> None:
    if not isinstance(specs, dict) or set(specs) != set(tensors):
        raise ValueError(f"{path} is corrupt: its manifest does not list exactly the arrays it holds.")
    if digest != _digest(tensors):
        raise ValueError(f"{path} is corrupt: the checksum of its arrays does not match the one recorded "
                         "when it was written.")
    for name, array in tensors.items():
        spec = specs[name]
        if not isinstance(spec, dict) or "dtype" not in spec or "shape" not in spec:
            raise ValueError(f"{path} is corrupt: no valid manifest entry for array '{name}'.")
        stored_shape = array.shape[:-1] if spec["dtype"] == "key" else array.shape  # key data: (..., words)
        if list(stored_shape) != list(spec["shape"]):
            raise ValueError(f"{path} is corrupt: array '{name}' has shape {list(array.shape)}, its manifest "
                             f"says {describe(spec)}.")
