"""Boston housing prices, with the API and arrays of `keras.datasets.boston_housing`.

Reads Keras's cached `boston_housing.npz` (`$KERAS_HOME/datasets`, default `~/.keras/datasets`);
see `_keras_cache.py` for where files are looked for and the opt-in download. The data set
includes a variable ("B") built on racial self-segregation; Keras discourages using it outside
discussions of ethics in machine learning, and so does kerasish (see `california_housing`).
"""

from __future__ import annotations

import os

import numpy as np

from kerasish.datasets import _keras_cache

__all__ = ["load_data"]


def load_data(
    path: str | os.PathLike = "boston_housing.npz",
    test_split: float = 0.2,
    seed: int = 113,
    *,
    download: bool | None = None,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Loads the 506 Boston suburbs (13 attributes, median value in k$), like Keras 3.

    The rows are shuffled with NumPy's `RandomState(seed)`; the first
    `int(506 * (1 - test_split))` form the training set.

    Args:
        path: the file name in Keras's cache folder (not a path).
        test_split: the fraction of rows in the test set, in [0, 1).
        seed: seed of the shuffle.
        download: kerasish only: fetch the file into Keras's cache when it is missing (default:
            `KERASISH_DOWNLOAD=1`). Nothing is downloaded otherwise.

    Returns:
        `(x_train, y_train), (x_test, y_test)`: arrays of shape (n, 13) and (n,), in the
        file's dtype.

    Raises:
        ValueError: `test_split` is outside [0, 1), or the file is corrupt.
        FileNotFoundError: the file is not in the cache (the message says where to put it).

    Example:
        >>> (x_train, y_train), (x_test, y_test) = load_data()  # 404 train, 102 test rows
    """
    _keras_cache.check_test_split(test_split)
    spec = _keras_cache.CacheFile(
        "boston_housing", _keras_cache.check_fname("boston_housing", path),
        f"{_keras_cache.KERAS_MIRROR}boston_housing.npz",
        "f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5")
    arrays = _keras_cache.read_npz(_keras_cache.cached_file(spec, download), ("x", "y"))
    return _keras_cache.shuffle_and_split(arrays["x"], arrays["y"], test_split, seed)
