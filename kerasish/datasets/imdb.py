"""IMDB movie-review sentiment, with the API and arrays of `keras.datasets.imdb`.

Reads Keras's cached `imdb.npz` and `imdb_word_index.json` (`$KERAS_HOME/datasets`, default
`~/.keras/datasets`); see `_keras_cache.py` for where files are looked for and the opt-in download.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from kerasish.datasets import _keras_cache, _sequences

__all__ = ["get_word_index", "load_data"]


def load_data(
    path: str | os.PathLike = "imdb.npz",
    num_words: int | None = None,
    skip_top: int = 0,
    maxlen: int | None = None,
    seed: int = 113,
    start_char: int | None = 1,
    oov_char: int | None = 2,
    index_from: int = 3,
    *,
    download: bool | None = None,
    **kwargs: Any,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Loads the 25,000 + 25,000 IMDB reviews as word-index sequences, like Keras 3.

    Word `i` is the `i`-th most frequent word of the training reviews, stored shifted by
    `index_from`; 0 is left for padding, `start_char` and `oov_char` below `index_from`.

    Args:
        path: the file name in Keras's cache folder (not a path).
        num_words: keep the `num_words` most frequent words (indices below `num_words`); the
            others become `oov_char`. None keeps all.
        skip_top: indices below `skip_top` also become `oov_char`.
        maxlen: keep only sequences shorter than `maxlen` (start character included); None
            (or 0) keeps all.
        seed: seed of the shuffle applied to train, then test (NumPy `RandomState`).
        start_char: put in front of each sequence; None puts nothing.
        oov_char: replaces the words cut by `num_words` / `skip_top`; None removes them.
        index_from: added to every stored word rank.
        download: kerasish only: fetch the file into Keras's cache when it is missing (default:
            `KERASISH_DOWNLOAD=1`). Nothing is downloaded otherwise.

    Returns:
        `(x_train, y_train), (x_test, y_test)`: object arrays of lists of ints and integer
        label arrays (1 positive, 0 negative).

    Raises:
        FileNotFoundError: the file is not in the cache (the message says where to put it).
        ValueError: `maxlen` removes every train or test sequence, or the file is corrupt.
        TypeError: an unknown keyword argument (Keras 3 ignores those).

    Example:
        >>> (x_train, y_train), (x_test, y_test) = load_data(num_words=10000)
    """
    _sequences.check_options(**kwargs)
    spec = _keras_cache.CacheFile(
        "imdb", _keras_cache.check_fname("imdb", path), f"{_keras_cache.KERAS_MIRROR}imdb.npz",
        "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f")
    file = _keras_cache.cached_file(spec, download)
    arrays = _keras_cache.read_npz(file, ("x_train", "y_train", "x_test", "y_test"))

    rng = np.random.RandomState(seed)
    x_train, y_train = _keras_cache.shuffle_together(rng, arrays["x_train"], arrays["y_train"])
    x_test, y_test = _keras_cache.shuffle_together(rng, arrays["x_test"], arrays["y_test"])
    x_train = _sequences.shift(x_train, start_char, index_from)
    x_test = _sequences.shift(x_test, start_char, index_from)
    if maxlen:
        x_train, y_train = _sequences.drop_long(maxlen, x_train, y_train)
        x_test, y_test = _sequences.drop_long(maxlen, x_test, y_test)
        if not x_train or not x_test:
            raise ValueError(f"After filtering for sequences shorter than maxlen={maxlen}, no "
                             f"{'train' if not x_train else 'test'} sequence was kept. Increase "
                             "maxlen.")

    # One vocabulary limit over both splits, as Keras computes it.
    sequences = _sequences.limit_vocabulary(x_train + x_test, num_words, skip_top, oov_char)
    labels = np.concatenate([y_train, y_test])
    cut = len(x_train)
    return ((_sequences.as_object_array(sequences[:cut]), labels[:cut]),
            (_sequences.as_object_array(sequences[cut:]), labels[cut:]))


def get_word_index(path: str | os.PathLike = "imdb_word_index.json", *,
                   download: bool | None = None) -> dict[str, int]:
    """The `{word: rank}` dictionary of the IMDB data set (rank 1 = most frequent), like Keras.

    Add `index_from` (3 by default) to a rank to get the index `load_data` uses.

    Raises:
        FileNotFoundError: `imdb_word_index.json` is not in Keras's cache.

    Example:
        >>> words = {i + 3: w for w, i in get_word_index().items()}
    """
    return _sequences.word_index("imdb", path, download)
