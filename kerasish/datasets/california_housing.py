"""California housing prices (1990 census), with the API and arrays of
`keras.datasets.california_housing`.

Reads Keras's cached `california_housing.npz` (`$KERAS_HOME/datasets`, default
`~/.keras/datasets`); see `_keras_cache.py` for where files are looked for and the opt-in download.
"""

from __future__ import annotations

import os

import numpy as np

from kerasish.datasets import _keras_cache

__all__ = ["load_data"]

VERSIONS = {"small": 600, "large": None}  # rows kept from the start of the file


def load_data(
    version: str = "large",
    path: str | os.PathLike = "california_housing.npz",
    test_split: float = 0.2,
    seed: int = 113,
    *,
    download: bool | None = None,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Loads California block groups (8 features, median house value in $), like Keras 3.

    Features: MedInc, HouseAge, AveRooms, AveBedrms, Population, AveOccup, Latitude, Longitude.
    The rows are shuffled with NumPy's `RandomState(seed)`; the first `int(n * (1 - test_split))`
    form the training set.

    Args:
        version: `"large"` (all 20,640 rows) or `"small"` (the first 600, a stand-in for
            `boston_housing`).
        path: the file name in Keras's cache folder (not a path).
        test_split: the fraction of rows in the test set, in [0, 1).
        seed: seed of the shuffle.
        download: kerasish only: fetch the file into Keras's cache when it is missing (default:
            `KERASISH_DOWNLOAD=1`). Nothing is downloaded otherwise.

    Returns:
        `(x_train, y_train), (x_test, y_test)`: arrays of shape (n, 8) and (n,), in the file's
        dtype.

    Raises:
        ValueError: `version` or `test_split` is invalid, or the file is corrupt.
        FileNotFoundError: the file is not in the cache (the message says where to put it).

    Example:
        >>> (x_train, y_train), (x_test, y_test) = load_data(version="small")
    """
    _keras_cache.check_test_split(test_split)
    if version not in VERSIONS:
        raise ValueError("Argument `version` must be one of 'small', 'large'. "
                         f"Received: version={version}")
    spec = _keras_cache.CacheFile(
        "california_housing", _keras_cache.check_fname("california_housing", path),
        f"{_keras_cache.KERAS_MIRROR}california_housing.npz",
        "1a2e3a52e0398de6463aebe6f4a8da34fb21fbb6b934cf88c3425e766f2a1a6f")
    arrays = _keras_cache.read_npz(_keras_cache.cached_file(spec, download), ("x", "y"))
    rows = VERSIONS[version]
    x, y = arrays["x"][:rows], arrays["y"][:rows]
    return _keras_cache.shuffle_and_split(x, y, test_split, seed)
