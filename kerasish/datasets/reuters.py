"""Reuters newswire topics, with the API and arrays of `keras.datasets.reuters`.

Reads Keras's cached `reuters.npz` and `reuters_word_index.json` (`$KERAS_HOME/datasets`, default
`~/.keras/datasets`); see `_keras_cache.py` for where files are looked for and the opt-in download.
"""

from __future__ import annotations

import os

import numpy as np

from kerasish.datasets import _keras_cache, _sequences

__all__ = ["get_label_names", "get_word_index", "load_data"]

# The 46 topics, in the order of the integer labels.
LABEL_NAMES = (
    "cocoa", "grain", "veg-oil", "earn", "acq", "wheat", "copper", "housing", "money-supply",
    "coffee", "sugar", "trade", "reserves", "ship", "cotton", "carcass", "crude", "nat-gas",
    "cpi", "money-fx", "interest", "gnp", "meal-feed", "alum", "oilseed", "gold", "tin",
    "strategic-metal", "livestock", "retail", "ipi", "iron-steel", "rubber", "heat", "jobs",
    "lei", "bop", "zinc", "orange", "pet-chem", "dlr", "gas", "silver", "wpi", "hog", "lead",
)


def load_data(
    path: str | os.PathLike = "reuters.npz",
    num_words: int | None = None,
    skip_top: int = 0,
    maxlen: int | None = None,
    test_split: float = 0.2,
    seed: int = 113,
    start_char: int | None = 1,
    oov_char: int | None = 2,
    index_from: int = 3,
    *,
    download: bool | None = None,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Loads the 11,228 Reuters newswires as word-index sequences over 46 topics, like Keras 3.

    The newswires are shuffled (seed `seed`), encoded as in `imdb.load_data`, filtered by
    `maxlen`, then the first `int(n * (1 - test_split))` become the training set.

    Args:
        path: the file name in Keras's cache folder (not a path).
        num_words, skip_top, maxlen, start_char, oov_char, index_from: the encoding, as in
            `imdb.load_data`.
        test_split: the fraction of newswires in the test set.
        seed: seed of the shuffle (NumPy `RandomState`).
        download: kerasish only: fetch the file into Keras's cache when it is missing (default:
            `KERASISH_DOWNLOAD=1`). Nothing is downloaded otherwise.

    Returns:
        `(x_train, y_train), (x_test, y_test)`: object arrays of lists of ints and integer
        topic labels (see `get_label_names`).

    Raises:
        FileNotFoundError: the file is not in the cache (the message says where to put it).
        ValueError: the file is corrupt.

    Example:
        >>> (x_train, y_train), (x_test, y_test) = load_data(num_words=10000, test_split=0.2)
    """
    spec = _keras_cache.CacheFile(
        "reuters", _keras_cache.check_fname("reuters", path),
        f"{_keras_cache.KERAS_MIRROR}reuters.npz",
        "d6586e694ee56d7a4e65172e12b3e987c03096cb01eab99753921ef915959916")
    arrays = _keras_cache.read_npz(_keras_cache.cached_file(spec, download), ("x", "y"))

    x, y = _keras_cache.shuffle_together(np.random.RandomState(seed), arrays["x"], arrays["y"])
    sequences = _sequences.shift(x, start_char, index_from)
    labels = y
    if maxlen:
        sequences, labels = _sequences.drop_long(maxlen, sequences, labels)
    sequences = _sequences.limit_vocabulary(sequences, num_words, skip_top, oov_char)
    (x_train, y_train), (x_test, y_test) = _keras_cache.split_train_test(
        sequences, labels, test_split)
    return ((_sequences.as_object_array(x_train), np.array(y_train)),
            (_sequences.as_object_array(x_test), np.array(y_test)))


def get_word_index(path: str | os.PathLike = "reuters_word_index.json", *,
                   download: bool | None = None) -> dict[str, int]:
    """The `{word: rank}` dictionary of the Reuters data set (rank 1 = most frequent), like Keras.

    Add `index_from` (3 by default) to a rank to get the index `load_data` uses.

    Raises:
        FileNotFoundError: `reuters_word_index.json` is not in Keras's cache.
    """
    return _sequences.word_index("reuters", path, download)


def get_label_names() -> tuple[str, ...]:
    """The 46 topic names; `get_label_names()[y]` names label `y`."""
    return LABEL_NAMES
