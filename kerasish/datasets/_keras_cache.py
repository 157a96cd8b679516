"""Keras's dataset cache: where `keras.utils.get_file` keeps a file, and how to read it safely.

This module owns three things the Keras-compatible loaders (cifar10, cifar100, imdb, reuters,
boston_housing, california_housing) share:

- the location: `$KERAS_HOME/datasets/<fname>` (default `~/.keras/datasets`, `/tmp/.keras` when
  that is not writable), exactly where Keras 3 reads and writes its cache, so a machine that has
  Keras's files gives the same arrays in both;
- the policy when a file is missing: a `FileNotFoundError` naming the file, where to put it and
  the address to get it from, unless downloading was asked for (`download=True` or
  `KERASISH_DOWNLOAD=1`, see `_download.py`), in which case the file is fetched into that place;
- reading pickled content (npz object arrays, CIFAR batches) with an unpickler that can only
  rebuild NumPy arrays, so a tampered file cannot run code; and the seeded shuffle and split the
  Keras loaders apply.

Files found locally are used as they are (their structure is checked while reading); published
digests are checked on download. It knows nothing about any one data set's layout.
"""

from __future__ import annotations

import dataclasses
import io
import os
import pickle
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np

from kerasish.datasets import _download

KERAS_MIRROR = _download.KERAS_MIRROR


@dataclasses.dataclass(frozen=True)
class CacheFile:
    """One file as Keras's loader asks `get_file` for it."""

    dataset: str  # the keras.datasets module name, for messages
    fname: str  # name inside the cache's datasets/ folder
    origin: str  # the address Keras downloads it from
    digest: str | None = None  # Keras's published SHA-256 (64 hex) or MD5 (32 hex)


def keras_cache_dir() -> Path:
    """The folder `keras.utils.get_file` caches data sets in, read at call time.

    `$KERAS_HOME` (default `~/.keras`, or `/tmp/.keras` when the home folder is read-only), then
    `datasets`; like Keras, an existing but read-only Keras home is replaced by `/tmp/.keras`.
    """
    home = os.environ.get("KERAS_HOME")
    if home is None:
        user = os.path.expanduser("~")
        home = os.path.join(user if os.access(user, os.W_OK) else "/tmp", ".keras")
    base = os.path.expanduser(home)
    if os.path.exists(base) and not os.access(base, os.W_OK):
        base = "/tmp/.keras"
    return Path(base) / "datasets"


def check_fname(dataset: str, fname: str | os.PathLike) -> str:
    """`fname` as a plain name; a path is refused, as `get_file` refuses it."""
    name = os.fspath(fname)
    if os.sep in name:
        raise ValueError(
            f"{dataset}: `path` is a file name inside the Keras cache ({keras_cache_dir()}), not "
            f"a path. Received: path={name!r}. Move the file there (or set KERAS_HOME to the "
            "folder above its datasets/ folder) and pass its name."
        )
    return name


def cached_file(spec: CacheFile, download: bool | None, also: Sequence[str] = ()) -> Path:
    """`<cache>/<spec.fname>`, else the first of `<cache>/<also...>` that exists; else a
    download into `<cache>/<spec.fname>` or an error.

    Args:
        spec: the file Keras would ask for (for an archive Keras extracts, its `_archive` name).
        download: the caller's `download` argument (None: `KERASISH_DOWNLOAD` decides).
        also: further names (files or folders) accepted in the cache folder, in order.

    Raises:
        FileNotFoundError: nothing is there and downloading is off, or the download failed.
        ValueError: a download arrived with the wrong digest (it was discarded).
    """
    directory = keras_cache_dir()
    target = directory / spec.fname
    for candidate in (target, *(directory / name for name in also)):
        if candidate.exists():
            return candidate
    url = _download.source_url(spec.origin)
    if not _download.wanted(download):
        others = "".join(f" or {directory / name}" for name in also)
        raise FileNotFoundError(
            f"{spec.dataset}: {target.name} is not in the Keras cache (looked for {target}{others}). "
            f"kerasish reads the file Keras 3 caches there and does not download unless asked. "
            f"Download {spec.origin} and save it as {target} (set KERAS_HOME to use another "
            "folder), or pass download=True (or set KERASISH_DOWNLOAD=1) to let kerasish fetch it."
        )
    print(f"{spec.dataset}: downloading {url} to {target}")
    try:
        return _download.download_file(url, target, spec.digest)
    except _download.NETWORK_ERRORS as error:
        raise FileNotFoundError(
            f"{spec.dataset}: the download of {url} failed ({error}). Copy the file from a "
            f"machine with network access to {target}."
        ) from error
    except ValueError as error:
        raise ValueError(f"{spec.dataset}: {error}") from None


# -- reading pickled NumPy content without running code ---------------------------------------

# The only globals a pickled NumPy array (object arrays, CIFAR's batches) refers to; numpy < 2
# wrote `numpy.core`, numpy >= 2 writes `numpy._core`.
_ARRAY_GLOBALS = {
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
}


class ArrayUnpickler(pickle.Unpickler):
    """Unpickles plain containers and NumPy arrays; any other global raises `UnpicklingError`."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _ARRAY_GLOBALS:
            raise pickle.UnpicklingError(
                f"refusing to load {module}.{name}: a data set file may only hold NumPy arrays "
                "and plain Python values. The file is corrupt or was tampered with."
            )
        return super().find_class(module, name)


def unpickle(stream: IO[bytes], where: object, encoding: str = "ASCII") -> Any:
    """Loads one pickle from `stream` with `ArrayUnpickler`; errors name `where`."""
    try:
        return ArrayUnpickler(stream, encoding=encoding).load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError) as error:
        raise ValueError(f"{where}: cannot be read ({error}).") from error


def read_npz(path: Path, keys: Sequence[str]) -> dict[str, np.ndarray]:
    """`keys` of the npz archive at `path`; object arrays go through `ArrayUnpickler`.

    Raises:
        ValueError: not a readable npz archive, a key is missing, or a member is corrupt.
    """
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as error:
        raise ValueError(f"{path}: not a readable npz archive ({error}). Delete it and copy it "
                         "again.") from error
    with archive:
        members = {n[: -len(".npy")]: n for n in archive.namelist() if n.endswith(".npy")}
        missing = [key for key in keys if key not in members]
        if missing:
            raise ValueError(f"{path}: missing npz keys {missing}; found {sorted(members)}, "
                             f"expected {list(keys)} as in Keras's file.")
        arrays = {}
        for key in keys:
            try:
                data = archive.read(members[key])
            except (zipfile.BadZipFile, OSError, EOFError) as error:
                raise ValueError(f"{path}: corrupt npz member {key!r} ({error}).") from error
            arrays[key] = _read_npy(io.BytesIO(data), f"{path}[{key!r}]")
    return arrays


def _read_npy(stream: io.BytesIO, where: str) -> np.ndarray:
    fmt = np.lib.format
    try:
        version = fmt.read_magic(stream)
        header = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
        _, _, dtype = header(stream)
        if not dtype.hasobject:
            stream.seek(0)
            return fmt.read_array(stream, allow_pickle=False)
    except ValueError as error:
        raise ValueError(f"{where}: not a valid .npy member ({error}).") from error
    return unpickle(stream, where)


# -- the seeded shuffle and split of Keras's loaders ---------------------------------------------

def shuffle_together(rng: np.random.RandomState, *arrays: Any) -> list[Any]:
    """`arrays` (equal lengths) in one random order drawn from `rng`, as Keras's loaders draw it."""
    order = np.arange(len(arrays[0]))
    rng.shuffle(order)
    return [a[order] for a in arrays]


def split_train_test(x: Any, y: Any, test_split: float) -> tuple[tuple[Any, Any], tuple[Any, Any]]:
    """The first `int(len * (1 - test_split))` rows train, the rest test, as Keras splits."""
    cut = int(len(x) * (1 - test_split))
    return (x[:cut], y[:cut]), (x[cut:], y[cut:])


def shuffle_and_split(x: np.ndarray, y: np.ndarray, test_split: float,
                      seed: int | None) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Rows shuffled with `RandomState(seed)`, then split by `split_train_test`, as copies."""
    x, y = shuffle_together(np.random.RandomState(seed), x, y)
    (x_train, y_train), (x_test, y_test) = split_train_test(x, y, test_split)
    return (np.array(x_train), np.array(y_train)), (np.array(x_test), np.array(y_test))


def check_test_split(test_split: float) -> None:
    if not 0 <= test_split < 1:
        raise ValueError(f"Invalid `test_split` argument: {test_split}. It must be between 0 "
                         "and 1 (exclusive of 1).")
