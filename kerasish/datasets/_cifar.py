"""Reading the CIFAR-10 / CIFAR-100 "python version" batches, wherever Keras keeps them.

Keras 3 caches the downloaded archive as `<fname>_archive` in its cache folder and extracts it
into `<fname>/`; the batches are pickled dicts (bytes keys) with `data`, an (n, 3072) uint8 array
in channel-major order, and the label lists. This module reads them straight from the archive
(or from an extracted folder: Keras's, or `cifar-10-batches-py/` as tf.keras and manual
extraction leave it) with `_keras_cache.unpickle`, which only rebuilds NumPy arrays. Which batches
make which split, and the label shape, belong to `cifar10.py` and `cifar100.py`.
"""

from __future__ import annotations

import dataclasses
import io
import tarfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from kerasish import backend
from kerasish.datasets import _keras_cache


@dataclasses.dataclass(frozen=True)
class CifarArchive:
    dataset: str  # "cifar10"
    fname: str  # Keras's get_file name, e.g. "cifar-10-batches-py-target"
    inner: str  # the folder inside the archive, e.g. "cifar-10-batches-py"
    origin: str
    digest: str

    def locate(self, download: bool | None) -> Path:
        """The archive (Keras's `<fname>_archive`, or the file under its origin name) or an
        extracted folder holding the batches."""
        spec = _keras_cache.CacheFile(self.dataset, f"{self.fname}_archive", self.origin,
                                      self.digest)
        also = (self.origin.rpartition("/")[2], f"{self.fname}/{self.inner}", self.inner)
        return _keras_cache.cached_file(spec, download, also)


def read_batches(archive: CifarArchive, names: Sequence[str], label_key: str,
                 download: bool | None) -> list[tuple[np.ndarray, list[int]]]:
    """`(images (n, 3, 32, 32) uint8, labels)` for each batch file in `names`, in that order.

    Raises:
        FileNotFoundError: no archive or extracted folder (see `_keras_cache.cached_file`).
        ValueError: the archive is unreadable, lacks a batch, or a batch is malformed.
    """
    source = archive.locate(download)
    raw = _read_folder(source, names) if source.is_dir() else _read_tar(source, archive.inner,
                                                                          names)
    return [_decode(raw[name], label_key, f"{source}:{name}") for name in names]


def channels_last(x: np.ndarray) -> np.ndarray:
    """(n, 3, 32, 32) images in the layout `image_data_format()` asks for."""
    return x.transpose(0, 2, 3, 1) if backend.image_data_format() == "channels_last" else x


def _read_folder(folder: Path, names: Sequence[str]) -> dict[str, bytes]:
    missing = [name for name in names if not (folder / name).is_file()]
    if missing:
        raise ValueError(f"{folder}: incomplete CIFAR folder, missing {missing}. Extract the "
                         "archive again.")
    return {name: (folder / name).read_bytes() for name in names}


def _read_tar(path: Path, inner: str, names: Sequence[str]) -> dict[str, bytes]:
    wanted = {f"{inner}/{name}": name for name in names}
    found = {}
    try:
        with tarfile.open(path) as tar:
            for member in tar:  # archive order: one pass over a compressed stream
                name = wanted.get(member.name.removeprefix("./"))
                if name is not None and member.isfile():
                    found[name] = tar.extractfile(member).read()
    except (tarfile.TarError, OSError, EOFError) as error:
        raise ValueError(f"{path}: not a readable tar archive ({error}). Delete it and copy it "
                         "again.") from error
    missing = [member for member, name in wanted.items() if name not in found]
    if missing:
        raise ValueError(f"{path}: the archive lacks {missing}; is it the CIFAR python version "
                         "archive?")
    return found


def _decode(data: bytes, label_key: str, where: str) -> tuple[np.ndarray, list[int]]:
    batch = _keras_cache.unpickle(io.BytesIO(data), where, encoding="bytes")
    if not isinstance(batch, dict):
        raise ValueError(f"{where}: expected a pickled dict, found {type(batch).__name__}.")
    batch = {k.decode("utf8") if isinstance(k, bytes) else k: v for k, v in batch.items()}
    if "data" not in batch or label_key not in batch:
        raise ValueError(f"{where}: expected keys 'data' and {label_key!r}, found "
                         f"{sorted(batch)}.")
    images, labels = batch["data"], batch[label_key]
    if not isinstance(images, np.ndarray) or images.ndim != 2 or images.shape[1] != 3 * 32 * 32:
        raise ValueError(f"{where}: 'data' should be an (n, 3072) array, found "
                         f"{getattr(images, 'shape', type(images).__name__)}.")
    if len(labels) != len(images):
        raise ValueError(f"{where}: {len(labels)} labels for {len(images)} images.")
    return images.reshape(len(images), 3, 32, 32), labels
