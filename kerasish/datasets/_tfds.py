"""Open data sets that tensorflow-datasets has already prepared, offline.

This module owns the tfds data directory layout
(``<data_dir>/<name>[/<config>]/<version>/dataset_info.json`` plus
``<name>-<split>.array_record-*`` shards) and is the only place that imports
``tensorflow_datasets``. It never downloads or prepares anything: it checks
that a prepared copy exists on disk *before* importing tfds, so a missing data
set fails in milliseconds instead of waiting on the network. Random access
(``tfds.data_source``) needs the ``array_record`` file format and no
TensorFlow; a ``tfrecord`` copy is reported as unusable here.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from kerasish.datasets._random_access import as_arrays

_VERSION = re.compile(r"^\d+\.\d+\.\d+$")


def tfds_data_dir(data_dir: str | os.PathLike | None = None) -> Path:
    """``data_dir``, else ``$TFDS_DATA_DIR``, else ``~/tensorflow_datasets`` (tfds's own rule)."""
    if data_dir is not None:
        return Path(data_dir).expanduser()
    return Path(os.environ.get("TFDS_DATA_DIR") or Path.home() / "tensorflow_datasets").expanduser()


def find_prepared(name: str, data_dir: str | os.PathLike | None = None) -> Path | None:
    """The directory of the newest prepared version of ``name``, or None.

    Args:
        name: ``"mnist"``, ``"mnist:3.0.1"``, or ``"name/config[:version]"``.
        data_dir: the tfds data directory; see ``tfds_data_dir``.
    """
    base, _, version = name.partition(":")
    root = tfds_data_dir(data_dir) / base
    if version:
        candidates = [root / version]
    elif root.is_dir():
        versions = [p for p in root.iterdir() if _VERSION.match(p.name)]
        candidates = sorted(
            versions, key=lambda p: tuple(map(int, p.name.split("."))), reverse=True
        )
    else:
        candidates = []
    return next((p for p in candidates if (p / "dataset_info.json").is_file()), None)


def file_format(version_dir: Path) -> str:
    """The file format a prepared data set was written in (tfds's default is tfrecord)."""
    info = json.loads((version_dir / "dataset_info.json").read_text())
    return info.get("fileFormat") or "tfrecord"


def tfds_source(
    name: str, split: str = "train", *, data_dir: str | os.PathLike | None = None
) -> Any:
    """A random-access source over a prepared tfds data set, without TensorFlow or network.

    Equivalent to ``tfds.data_source(name, split=split, data_dir=data_dir)``
    when the data set is already prepared, but it never tries to download.
    Pass the result to ``as_arrays`` or ``Batches``.

    Args:
        name: ``"mnist"``, ``"mnist:3.0.1"``, or ``"name/config[:version]"``.
        split: a tfds split such as ``"train"``, ``"test"`` or ``"train[:10%]"``.
        data_dir: the tfds data directory; default ``$TFDS_DATA_DIR`` or
            ``~/tensorflow_datasets``.

    Returns:
        A tfds ``ArrayRecordDataSource``: ``len(source)`` and ``source[i]``
        give decoded NumPy feature dicts.

    Raises:
        FileNotFoundError: the data set is not prepared under ``data_dir``.
        ValueError: it was prepared in a format without random access.
        ImportError: tensorflow-datasets is not installed.

    Example:
        >>> train = tfds_source("mnist", split="train")
        >>> x, y = as_arrays(train)  # (60000, 28, 28, 1) uint8, (60000,) int64
    """
    directory = find_prepared(name, data_dir)
    if directory is None:
        raise FileNotFoundError(
            f"tfds data set {name!r} is not prepared under {tfds_data_dir(data_dir)}. "
            "kerasish never downloads; on a machine with network access run "
            f"`tfds build {name.partition(':')[0]} --file_format=array_record` "
            "(or tfds.data_source(name)) and copy the data directory here."
        )
    fmt = file_format(directory)
    if fmt != "array_record":
        raise ValueError(
            f"{directory}: prepared as {fmt!r}, but random access needs 'array_record'. "
            f"Prepare it again with `tfds build {name.partition(':')[0]} "
            "--file_format=array_record`, or read it with tfds.load (needs TensorFlow)."
        )
    return _import_tfds().builder_from_directory(directory).as_data_source(split=split)


def load_image_splits(
    name: str, data_dir: str | os.PathLike | None = None
) -> tuple[tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]], Path] | None:
    """Train and test ``(images, labels)`` of a prepared image data set, or None.

    Grayscale images lose their channel axis, (n, 28, 28, 1) -> (n, 28, 28),
    to match ``keras.datasets``; labels become uint8 when they fit. Returns
    None when the data set is not prepared in array_record format or tfds is
    not installed, so the caller can try its next source.
    """
    directory = find_prepared(name, data_dir)
    if directory is None or file_format(directory) != "array_record":
        return None
    try:
        _import_tfds()
    except ImportError:
        return None
    splits = []
    for split in ("train", "test"):
        x, y = as_arrays(tfds_source(f"{name}:{directory.name}", split, data_dir=data_dir))
        if x.ndim == 4 and x.shape[-1] == 1:
            x = x[..., 0]
        if y.size and np.issubdtype(y.dtype, np.integer) and 0 <= y.min() and y.max() <= 255:
            y = y.astype(np.uint8)
        splits.append((x, y))
    return (splits[0], splits[1]), directory


def _import_tfds() -> Any:
    try:
        import tensorflow_datasets as tfds
    except ImportError as error:
        raise ImportError(
            "reading a prepared tfds data set needs tensorflow-datasets: "
            "pip install 'kerasish[tfds]' (TensorFlow itself is not needed)."
        ) from error
    return tfds
