"""The order in which an MNIST-style ``load_data`` tries its sources.

1. local files (an explicit ``path`` or ``data_dir``; else ``$KERASISH_DATA``
   and the user caches, see ``_local.default_dirs``): ``*.npz`` or IDX files;
2. a data set tensorflow-datasets has already prepared (``_tfds.py``);
   then, only when asked (``download=True`` or ``KERASISH_DOWNLOAD=1``), a download from Keras's
   mirror into the user cache (``_download.py``);
3. a system copy, e.g. Debian's ``dataset-fashion-mnist`` package under
   ``/usr/share/datasets/fashion-mnist``;
4. a sample shipped inside kerasish (MNIST only).

Each source is tried only when the previous ones have nothing; a source that
has the data but in a broken state raises instead of being skipped. An
absolute ``path`` or an explicit ``data_dir`` is never silently replaced by
another source. Whichever source wins, one line on stdout says which (like Keras's
download progress, which also goes to stdout). Nothing downloads unless asked to.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np

from kerasish.datasets import _download, _local, _tfds
from kerasish.datasets._local import Arrays

DATA_DIR = Path(__file__).parent / "data"


@dataclasses.dataclass(frozen=True)
class ImageDataSpec:
    """What ``load`` needs to know about one MNIST-style data set."""

    name: str  # as printed and as keras.datasets names the module
    tfds_name: str
    subdirs: tuple[str, ...]  # subdirectory names tried inside each data directory
    npz_names: tuple[str, ...]
    system_dirs: tuple[Path, ...]
    image_shape: tuple[int, int] = (28, 28)
    num_classes: int = 10
    sample: Path | None = None  # bundled fallback npz
    how_to_get: str = ""


def load(
    spec: ImageDataSpec,
    *,
    path: str | os.PathLike | None = None,
    data_dir: str | os.PathLike | None = None,
    verbose: bool = True,
    download: bool | None = None,
) -> Arrays:
    """Loads ``spec``'s data set from the first available source; see the module docstring.

    Raises:
        FileNotFoundError: an absolute ``path`` or explicit ``data_dir`` does not hold the
            data set, or (without a bundled sample) no source has it.
        ValueError: a file that was found is corrupt or holds wrong shapes.
    """
    npz_names = spec.npz_names if path is None else (os.fspath(path),)
    if path is not None and Path(path).expanduser().is_absolute():
        file = Path(path).expanduser()
        if not file.is_file():
            raise FileNotFoundError(f"{spec.name}: path={os.fspath(path)!r} does not exist.")
        return _finish(spec, _local.load_npz(file), f"{file} (npz)", verbose)

    if data_dir is not None:
        directory = Path(data_dir).expanduser()
        found = _local.find([directory], spec.subdirs, npz_names)
        if found is None:
            raise FileNotFoundError(
                f"{spec.name}: data_dir={os.fspath(data_dir)!r} holds neither "
                f"{' nor '.join(npz_names)} nor the four IDX files "
                "(train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], "
                "t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz]), "
                f"directly or in a subdirectory named {' or '.join(spec.subdirs)}."
            )
        arrays, where, kind = found
        return _finish(spec, arrays, f"{where} ({kind})", verbose)

    found = _local.find(_local.default_dirs(), spec.subdirs, npz_names)
    if found is not None:
        arrays, where, kind = found
        return _finish(spec, arrays, f"{where} ({kind})", verbose)

    prepared = _tfds.load_image_splits(spec.tfds_name)
    if prepared is not None:
        arrays, where = prepared
        return _finish(spec, arrays, f"{where} (tensorflow-datasets)", verbose)

    if _download.wanted(download) and spec.name in _download.FILES:
        fetched = _download.fetch(spec.name)
        if fetched is not None:
            found = _local.find([fetched], (), npz_names)
            if found is not None:
                arrays, where, kind = found
                return _finish(spec, arrays, f"{where} ({kind}, downloaded)", verbose)

    found = _local.find(spec.system_dirs, (), npz_names)
    if found is not None:
        arrays, where, kind = found
        return _finish(spec, arrays, f"{where} ({kind})", verbose)

    if spec.sample is not None:
        arrays = _check(spec, _local.load_npz(spec.sample), spec.sample)
        if verbose:
            (x_train, _), (x_test, _) = arrays
            total = len(x_train) + len(x_test)
            print(
                f"{spec.name}: full data set unavailable offline; using the bundled "
                f"{total:,}-image {spec.name.upper()} sample "
                f"({len(x_train):,} train / {len(x_test):,} test)"
            )
        return arrays

    searched = [*_local.default_dirs(), _tfds.tfds_data_dir() / spec.tfds_name, *spec.system_dirs]
    raise FileNotFoundError(
        f"{spec.name}: no local copy found and kerasish does not download. Searched: "
        f"{', '.join(map(str, searched))}. {spec.how_to_get}"
    )


def _finish(spec: ImageDataSpec, arrays: Arrays, where: str, verbose: bool) -> Arrays:
    arrays = _check(spec, arrays, where)
    if verbose:
        (x_train, _), (x_test, _) = arrays
        print(f"{spec.name}: {len(x_train)} train / {len(x_test)} test images from {where}")
    return arrays


def _check(spec: ImageDataSpec, arrays: Arrays, where: object) -> Arrays:
    """Validates shapes, dtypes and label range; returns uint8 arrays."""
    checked = []
    for split, (x, y) in zip(("train", "test"), arrays):
        if x.ndim != 3 or x.shape[1:] != spec.image_shape:
            raise ValueError(
                f"{where}: {split} images have shape {x.shape}; expected "
                f"(n, {spec.image_shape[0]}, {spec.image_shape[1]})."
            )
        if y.shape != (len(x),):
            raise ValueError(
                f"{where}: {split} labels have shape {y.shape}; expected ({len(x)},) "
                "to match the images."
            )
        checked.append(
            (
                _as_uint8(x, 255, where, f"{split} images"),
                _as_uint8(y, spec.num_classes - 1, where, f"{split} labels"),
            )
        )
    return checked[0], checked[1]


def _as_uint8(a: np.ndarray, high: int, where: object, what: str) -> np.ndarray:
    if a.dtype == np.uint8 and (what.endswith("images") or a.size == 0 or a.max() <= high):
        return a
    if not np.issubdtype(a.dtype, np.integer):
        raise ValueError(f"{where}: {what} have dtype {a.dtype}; expected integers (uint8).")
    if a.size and (a.min() < 0 or a.max() > high):
        raise ValueError(
            f"{where}: {what} range over [{a.min()}, {a.max()}]; expected values in [0, {high}]."
        )
    return a.astype(np.uint8)
