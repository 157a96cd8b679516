"""Keras 3's weights file (`model.weights.h5`, `*.weights.h5`): HDF5 through h5py.

Layout (what Keras 3 writes): one group per saveable object, `<path>/vars`, with the attribute
`name` and datasets `0`, `1`, ... in the object's variable order; `vars` at the root is the model's
own group. Nothing else is required. kerasish adds one group Keras never reads, `kerasish-state`
(its name cannot be a Python attribute, so no Keras path collides with it):

    kerasish-state/            attrs: format = "kerasish", format_version, info (JSON), sha256
        variables/<NNX path>   variables outside Keras's layout (seed-generator state)
        optimizer/<i>          the optax state's leaves in flattening order (attr `path`); a leaf
                               equal to a Keras optimizer dataset is a hard link to it, not a copy

`sha256` covers every dataset of the file, so damage to a kerasish-written file is found. Reading
checks everything before returning: no soft or external links, no external or virtual datasets,
numeric dtypes only, no dataset declaring far more memory than the file stores (a shape bomb).

Owns: arrays <-> HDF5. Must not: know what a model, a layer or an optimizer is.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
from dataclasses import dataclass, field
from typing import Any

import h5py
import ml_dtypes
import numpy as np

EXTRA = "kerasish-state"
FORMAT, VERSION = "kerasish", "2"
_BOMB_FLOOR = 1 << 26  # 64 MiB: a dataset declaring more must store at least 1/_BOMB_RATIO of it
_BOMB_RATIO = 1000
_NUMERIC_KINDS = "biuf"


@dataclass
class Contents:
    """What a weights file holds, as plain arrays.

    groups: `"layers/dense/vars" -> (name attribute or None, [arrays in key order 0, 1, ...])`.
    variables / optimizer / info / opt_paths: the kerasish group, when present.
    """
    groups: dict[str, tuple[str | None, list[np.ndarray]]] = field(default_factory=dict)
    variables: dict[str, np.ndarray] = field(default_factory=dict)
    optimizer: list[np.ndarray] | None = None
    opt_paths: list[str] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)
    from_kerasish: bool = False

    def vars(self, group: str) -> list[np.ndarray] | None:
        entry = self.groups.get(group)
        return None if entry is None else entry[1]


# -- writing ------------------------------------------------------------------------------------------
def _put(group: h5py.Group, key: str, array: np.ndarray, links: dict[int, h5py.Dataset] | None = None):
    if links is not None and id(array) in links:
        group[key] = links[id(array)]  # a hard link: the same dataset under a second name
        return links[id(array)]
    if array.dtype == ml_dtypes.bfloat16:
        dataset = group.create_dataset(key, data=array)
        dataset.attrs["dtype"] = "bfloat16"  # Keras 3's marker for bfloat16 (stored as 2-byte opaque)
        return dataset
    if array.dtype.kind not in _NUMERIC_KINDS:
        dataset = group.create_dataset(key, data=array.view(f"u{array.dtype.itemsize}"))
        dataset.attrs["dtype"] = array.dtype.name
        return dataset
    return group.create_dataset(key, data=array)


def write(target, contents: Contents) -> None:
    """Writes `contents` to `target` (a path or a writable binary file object) in Keras's layout.
    The caller makes it atomic (`atomic.py`)."""
    written: dict[str, np.ndarray] = {}
    with h5py.File(target, "w") as f:
        links: dict[int, h5py.Dataset] = {}
        for group_path, (name, arrays) in contents.groups.items():
            group = f.require_group(group_path)
            if name is not None:
                group.attrs["name"] = name
            for i, array in enumerate(arrays):
                links[id(array)] = _put(group, str(i), array)
                written[f"{group_path}/{i}"] = array
        if not contents.from_kerasish:
            return
        extra = f.create_group(EXTRA)
        for path, array in contents.variables.items():
            parent, _, key = f"variables/{path}".rpartition("/")
            _put(extra.require_group(parent), key, array)
            written[f"{EXTRA}/variables/{path}"] = array
        if contents.optimizer is not None:
            optimizer = extra.create_group("optimizer")
            for i, array in enumerate(contents.optimizer):
                _put(optimizer, str(i), array, links)
                written[f"{EXTRA}/optimizer/{i}"] = array
            optimizer.attrs["paths"] = json.dumps(contents.opt_paths)
        extra.attrs["format"], extra.attrs["format_version"] = FORMAT, VERSION
        extra.attrs["info"] = json.dumps(contents.info)
        extra.attrs["sha256"] = _digest(written)


def to_bytes(contents: Contents) -> bytes:
    buffer = io.BytesIO()
    write(buffer, contents)
    return buffer.getvalue()


# -- reading ------------------------------------------------------------------------------------------
def _digest(datasets: dict[str, np.ndarray]) -> str:
    h = hashlib.sha256()
    for name in sorted(datasets):
        array = np.ascontiguousarray(datasets[name])
        h.update(f"{name}\0{array.shape}\0".encode())
        h.update(array.tobytes())
    return h.hexdigest()


def _datasets(root: h5py.Group, filename: str) -> dict[str, np.ndarray]:
    """Every dataset under `root` by full path, read into memory after the safety checks."""
    out: dict[str, np.ndarray] = {}

    def walk(group: h5py.Group, prefix: str) -> None:
        for key in group.keys():
            path = f"{prefix}{key}"
            link = group.get(key, getclass=True, getlink=True)
            if link in (h5py.SoftLink, h5py.ExternalLink):
                raise ValueError(f"{filename} is not allowed: it holds a {link.__name__} at '{path}' (a weights "
                                 "file holds plain groups and datasets only).")
            item = group[key]
            if isinstance(item, h5py.Group):
                walk(item, path + "/")
            elif isinstance(item, h5py.Dataset):
                out[path] = _read_dataset(item, path, filename)
            else:
                raise ValueError(f"{filename} holds an HDF5 object of type {type(item).__name__} at '{path}'; a "
                                 "weights file holds groups and datasets only.")
    walk(root, "")
    return out


def _read_dataset(dataset: h5py.Dataset, path: str, filename: str) -> np.ndarray:
    if dataset.external:
        raise ValueError(f"{filename} is not allowed: dataset '{path}' keeps its data in an external file "
                         f"({dataset.external}).")
    if dataset.is_virtual:
        raise ValueError(f"{filename} is not allowed: dataset '{path}' is a virtual dataset.")
    marker = dataset.attrs.get("dtype")
    if isinstance(marker, bytes):
        marker = marker.decode()
    kind = dataset.dtype.kind
    if not (kind in _NUMERIC_KINDS or (kind == "V" and isinstance(marker, str))):
        raise ValueError(f"{filename}: dataset '{path}' has dtype {dataset.dtype}, which is not a number type; "
                         "a weights file holds numeric arrays only.")
    declared = math.prod(dataset.shape or ()) * dataset.dtype.itemsize
    stored = dataset.id.get_storage_size()
    if declared > _BOMB_FLOOR and declared > _BOMB_RATIO * stored:
        raise ValueError(f"{filename} is not allowed: dataset '{path}' declares {declared} bytes but stores only "
                         f"{stored}; refusing to load a potential decompression/shape bomb.")
    array = np.asarray(dataset[()])
    if isinstance(marker, str) and marker != array.dtype.name:
        try:
            target = np.dtype(getattr(ml_dtypes, marker, marker))
        except TypeError:
            raise ValueError(f"{filename}: dataset '{path}' is marked with the unknown dtype {marker!r}.") from None
        if target.itemsize != array.dtype.itemsize:
            raise ValueError(f"{filename}: dataset '{path}' is marked {marker} but stores {array.dtype.itemsize}-byte "
                             "items.")
        array = array.view(target)
    return array


def _legacy(f: h5py.File) -> bool:
    return "layer_names" in f.attrs or "model_weights" in f or "model_config" in f.attrs


def read(source, filename: str) -> Contents:
    """Reads and checks a weights file (`source`: a path or a binary file object).

    Raises:
        ValueError: naming `filename`, if it is not HDF5, truncated or damaged, a legacy Keras 2
            `.h5` file, not laid out as a Keras 3 weights file, or unsafe (see the module doc).
    """
    try:
        with h5py.File(source, "r") as f:
            if _legacy(f):
                raise ValueError(f"{filename} is a legacy Keras 2 / tf.keras HDF5 file (`model.save('x.h5')`). "
                                 "kerasish reads Keras 3 files only: open it with tf.keras and save it again with "
                                 "Keras 3 as `.keras` or `.weights.h5`.")
            datasets = _datasets(f, filename)
            groups = {path: group for path, group in _vars_groups(f)}
            extra = f[EXTRA] if EXTRA in f and isinstance(f[EXTRA], h5py.Group) else None
            extra_attrs = dict(extra.attrs) if extra is not None else {}
            if extra is not None and "optimizer" in extra:
                extra_attrs["paths"] = extra["optimizer"].attrs.get("paths", "[]")
    except OSError as e:
        raise ValueError(f"Cannot read {filename}: it is not an HDF5 weights file, or it is truncated or "
                         f"corrupt (h5py: {e}).") from None
    return _contents(filename, datasets, groups, extra_attrs)


def _vars_groups(f: h5py.File):
    found = []

    def visit(name, item):
        if isinstance(item, h5py.Group) and (name == "vars" or name.endswith("/vars")) \
                and not name.startswith(EXTRA + "/"):
            attr = item.attrs.get("name")
            found.append((name, attr.decode() if isinstance(attr, bytes) else attr))
    f.visititems(visit)
    return found


def _contents(filename: str, datasets: dict, groups: dict, extra_attrs: dict) -> Contents:
    contents = Contents()
    by_group: dict[str, dict[str, np.ndarray]] = {g: {} for g in groups}
    for path, array in datasets.items():
        if path.startswith(EXTRA + "/"):
            continue
        group, _, key = path.rpartition("/")
        if group not in by_group:
            raise ValueError(f"{filename} is not a Keras weights file: dataset '{path}' is not inside a `vars` "
                             "group (Keras 3 keeps every variable in `<layer path>/vars/<index>`).")
        by_group[group][key] = array
    for group, items in by_group.items():
        keys = sorted(items, key=lambda k: int(k) if k.isdigit() else -1)
        if any(not k.isdigit() for k in keys) or [int(k) for k in keys] != list(range(len(keys))):
            raise ValueError(f"{filename} is not a Keras weights file: group '{group}' holds datasets "
                             f"{sorted(items)}, expected 0, 1, 2, ...")
        contents.groups[group] = (groups[group], [items[k] for k in keys])
    if extra_attrs:
        _read_extra(filename, datasets, extra_attrs, contents)
    return contents


def _read_extra(filename: str, datasets: dict, attrs: dict, contents: Contents) -> None:
    def text(key):
        value = attrs.get(key)
        return value.decode() if isinstance(value, bytes) else value
    if text("format") != FORMAT:
        raise ValueError(f"{filename}: its `{EXTRA}` group was not written by kerasish.")
    if text("format_version") != VERSION:
        raise ValueError(f"{filename} uses kerasish format version {text('format_version')!r}; this version of "
                         f"kerasish reads version {VERSION!r}.")
    if text("sha256") != _digest(datasets):
        raise ValueError(f"{filename} is corrupt: the checksum of its arrays does not match the one recorded when "
                         "it was written.")
    try:
        contents.info = json.loads(text("info") or "{}")
    except json.JSONDecodeError as e:
        raise ValueError(f"{filename} is corrupt: its kerasish info is not valid JSON ({e}).") from None
    prefix = EXTRA + "/variables/"
    contents.variables = {p[len(prefix):]: a for p, a in datasets.items() if p.startswith(prefix)}
    prefix = EXTRA + "/optimizer/"
    optimizer = {p[len(prefix):]: a for p, a in datasets.items() if p.startswith(prefix)}
    if optimizer:
        contents.optimizer = [optimizer[str(i)] for i in range(len(optimizer)) if str(i) in optimizer]
        if len(contents.optimizer) != len(optimizer):
            raise ValueError(f"{filename} is corrupt: its kerasish optimizer state is not numbered 0..n-1.")
    try:
        contents.opt_paths = list(json.loads(text("paths") or "[]"))
    except json.JSONDecodeError as e:
        raise ValueError(f"{filename} is corrupt: its optimizer paths are not valid JSON ({e}).") from None
    contents.from_kerasish = True
