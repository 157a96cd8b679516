"""Keras 3's `.keras` file: a zip (Python's `zipfile`) of `metadata.json`, `config.json` and
`model.weights.h5`, stored uncompressed in that order, as Keras writes it. An `assets/` folder (what
layers' `save_assets` wrote, e.g. vocabularies) may follow: its members are handed over as bytes.

Reading is defensive: the zip's own CRC-32 of each member is checked (flipped bytes), every member
name must stay inside the archive (no absolute paths, no `..`: nothing may escape a folder it
would be extracted to), and no member may declare far more bytes than it stores (a zip bomb) or
exceed the size a config can have. Nothing is ever extracted to disk.

Owns: bytes of the members <-> the zip. Must not: know what the members mean.
"""

from __future__ import annotations

import datetime
import json
import posixpath
import zipfile
import zlib
from dataclasses import dataclass, field
from typing import Any, BinaryIO

CONFIG, METADATA, WEIGHTS, ASSETS = "config.json", "metadata.json", "model.weights.h5", "assets"
KERAS_VERSION = "3.15.1"  # the Keras file-format version kerasish writes and reads
_JSON_LIMIT = 64 << 20  # a config or metadata file larger than 64 MiB is not a Keras config
_BOMB_FLOOR = 1 << 26  # 64 MiB: a larger member must store at least 1/_BOMB_RATIO of its size
_BOMB_RATIO = 100


@dataclass
class Archive:
    config: dict[str, Any]
    metadata: dict[str, Any]
    weights: bytes | None
    assets: dict[str, bytes] = field(default_factory=dict)  # "layers/x/vocab.txt" (under assets/) -> bytes


def metadata() -> dict[str, Any]:
    from kerasish import __version__
    return {"keras_version": KERAS_VERSION, "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S"),
            "kerasish_version": __version__}


def write(f: BinaryIO, config: dict, weights: bytes | None, assets: dict[str, bytes] | None = None) -> None:
    """Writes the three members, then each asset as `assets/<name>`, into the open binary file `f`."""
    with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr(METADATA, json.dumps(metadata()))
        zf.writestr(CONFIG, json.dumps(config))
        if weights is not None:
            zf.writestr(WEIGHTS, weights)
        for name, data in (assets or {}).items():
            zf.writestr(f"{ASSETS}/{name}", data)


def _check_member(info: zipfile.ZipInfo, filename: str) -> None:
    name = info.filename
    normalized = posixpath.normpath(name.replace("\\", "/"))
    if name.startswith(("/", "\\")) or normalized.startswith("..") or ":" in name.split("/")[0] \
            or "\x00" in name:
        raise ValueError(f"{filename} is not allowed: zip member '{name}' escapes the archive's folder (an "
                         "absolute path or `..`).")
    if info.file_size > _BOMB_FLOOR and info.file_size > _BOMB_RATIO * max(info.compress_size, 1):
        raise ValueError(f"{filename} is not allowed: zip member '{name}' declares {info.file_size} bytes but "
                         f"stores only {info.compress_size}; refusing to load a potential decompression bomb.")
    if name in (CONFIG, METADATA) and info.file_size > _JSON_LIMIT:
        raise ValueError(f"{filename} is not allowed: its {name} declares {info.file_size} bytes (more than "
                         f"{_JSON_LIMIT}); a Keras config is far smaller.")


def _read_json(zf: zipfile.ZipFile, name: str, filename: str) -> dict:
    try:
        value = json.loads(zf.read(name).decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ValueError(f"{filename} is corrupt: its {name} is not valid JSON ({e}).") from None
    if not isinstance(value, dict):
        raise ValueError(f"{filename} is corrupt: its {name} holds a {type(value).__name__}, expected an object.")
    return value


def read(path: str, filename: str) -> Archive:
    """Reads and checks a `.keras` file.

    Raises:
        ValueError: naming `filename`, if it is not a zip, is truncated or damaged (a CRC mismatch),
            lacks `config.json`, or is unsafe (see the module doc).
    """
    try:
        with zipfile.ZipFile(path, "r") as zf:
            infos = zf.infolist()
            for info in infos:
                _check_member(info, filename)
            names = {info.filename for info in infos}
            if CONFIG not in names:
                raise ValueError(f"{filename} is not a Keras model file: the zip has no {CONFIG} (it holds "
                                 f"{sorted(names)[:5]}).")
            config = _read_json(zf, CONFIG, filename)
            meta = _read_json(zf, METADATA, filename) if METADATA in names else {}
            weights = zf.read(WEIGHTS) if WEIGHTS in names else None
            assets = {info.filename[len(ASSETS) + 1:]: zf.read(info) for info in infos
                      if info.filename.startswith(ASSETS + "/") and not info.is_dir()}
            if weights is None and "model.weights.npz" in names:
                raise ValueError(f"{filename} stores its weights as `model.weights.npz` (Keras's "
                                 "`weights_format='npz'`); kerasish reads `model.weights.h5` only.")
    except zipfile.BadZipFile as e:
        raise ValueError(f"Cannot read {filename}: it is not a Keras `.keras` zip file, or it is truncated or "
                         f"corrupt ({e}).") from None
    except (EOFError, OSError, zlib.error) as e:
        raise ValueError(f"Cannot read {filename}: the zip is truncated or corrupt ({e}).") from None
    return Archive(config, meta, weights, assets)
