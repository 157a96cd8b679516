"""Turn a random-access source of examples into NumPy arrays or batches.

A *source* is anything with ``len(source)`` and ``source[i]`` returning one
example: a dict of features (what ``tfds.data_source`` gives, without
TensorFlow) or an ``(x, y)`` tuple. ``as_arrays`` stacks a whole source;
``Batches`` serves ``(x, y)`` NumPy batches for ``fit``, reshuffled every
epoch from an explicit seed. Sources that implement ``__getitems__`` (tfds's
``ArrayRecordDataSource`` does) are read a batch at a time.

This module never opens files or imports tfds; ``_tfds.py`` does that.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

Key = str | int
_CHUNK = 1024


def as_arrays(source: Any, keys: tuple[Key, Key] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Stacks every example of ``source`` into ``(x, y)`` arrays.

    Args:
        source: a random-access source (``len`` and ``[i]``), e.g.
            ``tfds.data_source("mnist", split="train")``, or any iterable of
            examples such as ``tfds.as_numpy(dataset)``.
        keys: ``(x_key, y_key)`` to pick from each example. None means
            ``("image", "label")`` for dict examples and ``(0, 1)`` for tuples.

    Returns:
        ``(x, y)`` with the examples stacked along a new first axis, dtypes
        as stored (tfds MNIST gives uint8 images of shape (n, 28, 28, 1) and
        int64 labels).

    Raises:
        ValueError: a key is missing or examples have different shapes.

    Example:
        >>> x, y = as_arrays(tfds_source("mnist", split="test"))
    """
    if _is_random_access(source):
        n = len(source)
        chunks = [
            _pairs(_fetch(source, range(start, min(start + _CHUNK, n))), keys)
            for start in range(0, n, _CHUNK)
        ]
    else:
        examples = list(source)
        chunks = [_pairs(examples, keys)] if examples else []
    if not chunks:
        raise ValueError("as_arrays received an empty source; there is nothing to stack.")
    xs, ys = zip(*chunks)
    return np.concatenate(xs), np.concatenate(ys)


class Batches:
    """``(x, y)`` NumPy batches drawn from a random-access source, for ``fit``.

    Iterating gives one epoch; each new epoch uses a fresh permutation drawn
    from ``seed`` and the epoch number, so runs are reproducible. The object
    also follows the ``PyDataset`` protocol (``len``, ``[i]`` for batch ``i``
    of the current epoch, ``on_epoch_end()``).

    Args:
        source: anything with ``len(source)`` and ``source[i]`` giving a dict
            or ``(x, y)`` tuple, e.g. ``tfds_source("mnist", split="train")``.
        batch_size: examples per batch, a positive integer.
        keys: ``(x_key, y_key)``; see ``as_arrays``.
        shuffle: draw examples in a new random order every epoch.
        seed: the integer all shuffling derives from.
        drop_remainder: skip the last batch when it would be short.

    Raises:
        ValueError: ``batch_size`` is not a positive integer, the source is
            not random-access, or no full batch exists with ``drop_remainder``.

    Example:
        >>> batches = Batches(tfds_source("mnist", split="train"), batch_size=128)
        >>> model.fit(batches, epochs=3)
    """

    def __init__(
        self,
        source: Any,
        batch_size: int = 32,
        *,
        keys: tuple[Key, Key] | None = None,
        shuffle: bool = True,
        seed: int = 0,
        drop_remainder: bool = False,
    ):
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(
                f"batch_size must be a positive integer. Received: batch_size={batch_size!r}"
            )
        if not _is_random_access(source):
            raise ValueError(
                "Batches needs a random-access source with len() and [i], such as "
                f"tfds.data_source(...)[split] or a list. Received: {type(source).__name__}"
            )
        if drop_remainder and len(source) < batch_size:
            raise ValueError(
                f"batch_size={batch_size} exceeds the source's {len(source)} examples with "
                "drop_remainder=True, so no batch would be produced. Lower batch_size."
            )
        self.source, self.batch_size, self.keys = source, batch_size, keys
        self.shuffle, self.seed, self.drop_remainder = shuffle, seed, drop_remainder
        self.epoch = 0
        self._order = self._order_for(0)

    def __len__(self) -> int:
        n = len(self.source)
        return n // self.batch_size if self.drop_remainder else math.ceil(n / self.batch_size)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        if not -len(self) <= index < len(self):
            raise IndexError(f"batch index {index} out of range for {len(self)} batches")
        index %= len(self)
        rows = self._order[index * self.batch_size : (index + 1) * self.batch_size]
        return _pairs(_fetch(self.source, rows), self.keys)

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        for index in range(len(self)):
            yield self[index]
        self.on_epoch_end()

    def on_epoch_end(self) -> None:
        """Moves to the next epoch (a new permutation when shuffling)."""
        self.epoch += 1
        self._order = self._order_for(self.epoch)

    def _order_for(self, epoch: int) -> np.ndarray:
        n = len(self.source)
        if not self.shuffle:
            return np.arange(n)
        return np.random.default_rng([self.seed, epoch]).permutation(n)


def _is_random_access(source: Any) -> bool:
    return hasattr(source, "__len__") and hasattr(source, "__getitem__") and not isinstance(
        source, Mapping
    )


def _fetch(source: Any, indices: Sequence[int] | range) -> list[Any]:
    indices = [int(i) for i in indices]
    if hasattr(source, "__getitems__"):
        return list(source.__getitems__(indices))
    return [source[i] for i in indices]


def _pairs(examples: list[Any], keys: tuple[Key, Key] | None) -> tuple[np.ndarray, np.ndarray]:
    picked = [_pick(example, keys) for example in examples]
    return tuple(_stack([pair[j] for pair in picked], j) for j in (0, 1))


def _pick(example: Any, keys: tuple[Key, Key] | None) -> tuple[Any, Any]:
    if keys is None:
        keys = ("image", "label") if isinstance(example, Mapping) else (0, 1)
    try:
        return example[keys[0]], example[keys[1]]
    except (KeyError, IndexError, TypeError) as error:
        available = list(example) if isinstance(example, Mapping) else f"{type(example).__name__}"
        raise ValueError(
            f"cannot pick keys={keys} from an example; available: {available}. "
            "Pass keys=(x_key, y_key)."
        ) from error


def _stack(values: list[Any], position: int) -> np.ndarray:
    try:
        return np.stack([np.asarray(v) for v in values])
    except ValueError as error:
        shapes = sorted({np.shape(v) for v in values})
        raise ValueError(
            f"examples have different shapes for {'xy'[position]}: {shapes}; "
            "as_arrays and Batches need one shape per feature."
        ) from error
