"""The word-index encoding shared by the imdb and reuters loaders, as Keras 3 applies it.

A stored sequence holds word ranks (1 = most frequent word). Loading shifts them by `index_from`
and puts `start_char` in front (`shift`), drops sequences that are not shorter than `maxlen`
(`drop_long`), and replaces ranks outside `[skip_top, num_words)` by `oov_char`, or removes them
when `oov_char` is None (`limit_vocabulary`). Results are lists of lists, turned into object arrays
by the caller, exactly as Keras returns them. This module knows nothing about files.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np

from kerasish.datasets import _keras_cache


def shift(sequences: Sequence[Sequence[int]], start_char: int | None,
          index_from: int) -> list[list[int]]:
    """Each sequence's ranks plus `index_from`, led by `start_char` unless it is None."""
    head = [] if start_char is None else [start_char]
    if not index_from:
        return [head + list(x) for x in sequences]
    return [head + [w + index_from for w in x] for x in sequences]


def drop_long(maxlen: int, sequences: list, labels: Sequence) -> tuple[list, list]:
    """The sequences strictly shorter than `maxlen`, with their labels (Keras keeps `len < maxlen`)."""
    kept = [(x, y) for x, y in zip(sequences, labels) if len(x) < maxlen]
    return [x for x, _ in kept], [y for _, y in kept]


def limit_vocabulary(sequences: list[list[int]], num_words: int | None, skip_top: int,
                     oov_char: int | None) -> list[list[int]]:
    """Ranks in `[skip_top, num_words)` kept, the others replaced by `oov_char` (None: removed).

    Without `num_words` the bound is the largest index present, which Keras 3 also excludes
    (that one word becomes `oov_char`); kept as is so the arrays equal Keras's.
    """
    if not num_words:
        num_words = max(max(x) for x in sequences)
    if oov_char is None:
        return [[w for w in x if skip_top <= w < num_words] for x in sequences]
    return [[w if skip_top <= w < num_words else oov_char for w in x] for x in sequences]


def as_object_array(sequences: list[list[int]]) -> np.ndarray:
    """`np.array(sequences, dtype=object)`, as Keras returns the sequences (1-D when ragged)."""
    return np.array(sequences, dtype="object")


def word_index(dataset: str, path: str, download: bool | None) -> dict[str, int]:
    """The `{word: rank}` JSON Keras caches as `path` for `dataset` (imdb or reuters)."""
    digests = {"imdb": "bfafd718b763782e994055a2d397834f",
               "reuters": "4d44cc38712099c9e383dc6e5f11a921"}
    spec = _keras_cache.CacheFile(dataset, _keras_cache.check_fname(dataset, path),
                                  f"{_keras_cache.KERAS_MIRROR}{dataset}_word_index.json",
                                  digests[dataset])
    file = _keras_cache.cached_file(spec, download)
    try:
        with open(file) as f:
            return json.load(f)
    except (ValueError, UnicodeDecodeError) as error:
        raise ValueError(f"{file}: not a JSON word index ({error}). Delete it and copy it "
                         "again.") from error


def check_options(**options: Any) -> None:
    """Refuses options Keras 3 would accept and silently ignore (imdb's `**kwargs`)."""
    if options:
        raise TypeError(
            f"Unrecognized keyword arguments: {sorted(options)}. Keras 3 ignores unknown "
            "arguments here; kerasish refuses them so a misspelled option is not lost "
            "(the vocabulary size is `num_words`)."
        )
