"""Find and read an MNIST-style data set in local directories.

This module owns the on-disk layouts: Keras's ``mnist.npz`` (keys ``x_train``,
``y_train``, ``x_test``, ``y_test``) and the four standard IDX files
(``train-images-idx3-ubyte[.gz]`` and friends), found either directly in a
directory or in a subdirectory named after the data set (Keras caches
Fashion-MNIST in ``~/.keras/datasets/fashion-mnist/``). It also knows which
directories to search by default. It does not decide the order of sources
(``_loader.py``) or check image shapes and labels (``_loader.py`` again).
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from kerasish.datasets._idx import read_idx

Arrays = tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]

NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")
# (images, labels) stems for train then test; both the LeCun spelling and the
# dotted spelling some mirrors use.
IDX_STEMS = (
    ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
)


def default_dirs() -> list[Path]:
    """The directories searched when no ``data_dir`` is given, in order.

    ``$KERASISH_DATA`` if set, then Keras's cache (``$KERAS_HOME/datasets``,
    default ``~/.keras/datasets``), then ``$XDG_CACHE_HOME/kerasish/datasets``
    (default ``~/.cache/kerasish/datasets``). Read at call time.
    """
    dirs = []
    if os.environ.get("KERASISH_DATA"):
        dirs.append(Path(os.environ["KERASISH_DATA"]).expanduser())
    keras_home = os.environ.get("KERAS_HOME") or Path.home() / ".keras"
    dirs.append(Path(keras_home).expanduser() / "datasets")
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    dirs.append(Path(cache).expanduser() / "kerasish" / "datasets")
    return dirs


def find(
    dirs: Iterable[Path], subdirs: Sequence[str], npz_names: Sequence[str]
) -> tuple[Arrays, Path, str] | None:
    """Loads the first complete copy found in ``dirs`` (each also tried with ``subdirs``).

    Within one directory an npz file wins over IDX files.

    Returns:
        ``(arrays, location, kind)`` with kind ``"npz"`` or ``"idx files"``,
        or None when no directory holds the data set.

    Raises:
        ValueError: a file is corrupt, or a directory holds only some of the
            four IDX files (a broken copy should be fixed, not skipped).
    """
    for base in dirs:
        for directory in [base, *(base / name for name in subdirs)]:
            if not directory.is_dir():
                continue
            for name in npz_names:
                if (directory / name).is_file():
                    return load_npz(directory / name), directory / name, "npz"
            files = idx_files(directory)
            if files is not None:
                return load_idx_set(files), directory, "idx files"
    return None


def idx_files(directory: Path) -> list[Path] | None:
    """The four IDX files in ``directory`` (train images, train labels, test
    images, test labels), or None when there are none.

    Raises:
        ValueError: some but not all of the four are present.
    """
    found, missing = [], []
    for stem in (s for pair in IDX_STEMS for s in pair):
        names = [stem, stem + ".gz", _dotted(stem), _dotted(stem) + ".gz"]
        match = next((directory / n for n in names if (directory / n).is_file()), None)
        (found if match else missing).append(match or stem)
    if not missing:
        return found
    if len(missing) == 4:
        return None
    raise ValueError(
        f"{directory}: incomplete IDX data set; found {[p.name for p in found if p]} but "
        f"missing {missing} (with or without .gz). Copy the missing files there or remove "
        "the partial set."
    )


def load_idx_set(files: Sequence[Path]) -> Arrays:
    """Reads train images, train labels, test images, test labels from IDX files."""
    x_train, y_train, x_test, y_test = (
        read_idx(path, ndim=3 if i % 2 == 0 else 1) for i, path in enumerate(files)
    )
    return (x_train, y_train), (x_test, y_test)


def load_npz(path: Path) -> Arrays:
    """Reads a Keras-style npz file (``x_train``, ``y_train``, ``x_test``, ``y_test``).

    Raises:
        ValueError: the file is not a readable npz archive or lacks a key.
    """
    try:
        archive = np.load(path, allow_pickle=False)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as error:
        raise ValueError(
            f"{path}: not a readable npz archive ({error}). Delete it and copy it again."
        ) from error
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError(
            f"{path}: holds a single array, not an npz archive with keys {list(NPZ_KEYS)}."
        )
    with archive:
        missing = [key for key in NPZ_KEYS if key not in archive.files]
        if missing:
            raise ValueError(
                f"{path}: missing npz keys {missing}; found {sorted(archive.files)}, "
                f"expected {list(NPZ_KEYS)} as written by Keras's datasets."
            )
        try:
            x_train, y_train, x_test, y_test = (archive[key] for key in NPZ_KEYS)
        except (zipfile.BadZipFile, EOFError, OSError, ValueError) as error:
            raise ValueError(f"{path}: corrupt npz member ({error}).") from error
    return (x_train, y_train), (x_test, y_test)


def _dotted(stem: str) -> str:
    # "train-images-idx3-ubyte" -> "train-images.idx3-ubyte"
    head, _, tail = stem.rpartition("-idx")
    return f"{head}.idx{tail}"
