"""`keras.utils.split_dataset` on arrays, without TensorFlow or PyTorch.

Owns: Keras's split sizes (fractions or counts, one side the complement of the other) and its
shuffle (Python's `random` seeded by `seed`, the same permutation Keras draws), and `ArrayDataset`,
the sample-level data set each side becomes: `len()` samples, `ds[i]` one sample, iteration over
samples, and `.batch(batch_size)`, a `PyDataset` that `fit` reads (as Keras users batch the
`tf.data.Dataset` Keras returns). Must not: copy more than the rows of each side.
"""

from __future__ import annotations

import math
import random
from typing import Any

import jax
import numpy as np

from kerasish.utils.py_dataset import PyDataset

__all__ = ["ArrayDataset", "split_dataset"]


class ArrayDataset:
    """Samples from an array, or a tuple / list / dict of arrays with the same first dimension."""

    def __init__(self, arrays: Any):
        self.arrays = arrays
        sizes = {len(leaf) for leaf in jax.tree.leaves(arrays)}
        if len(sizes) != 1:
            raise ValueError(f"Expected arrays with the same number of samples. Received sizes {sorted(sizes)}.")
        self._n = sizes.pop()

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, index: int):
        if not -self._n <= index < self._n:
            raise IndexError(f"Sample index {index} is out of range for {self._n} samples.")
        return jax.tree.map(lambda leaf: leaf[index], self.arrays)

    def __iter__(self):
        return (self[i] for i in range(self._n))

    def batch(self, batch_size: int, drop_remainder: bool = False) -> "ArrayBatches":
        """The samples in batches of `batch_size` (the last one smaller unless `drop_remainder`)."""
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"`batch_size` must be a positive integer. Received: batch_size={batch_size!r}")
        return ArrayBatches(self.arrays, self._n, batch_size, drop_remainder)

    def __repr__(self) -> str:
        return f"<ArrayDataset of {self._n} samples>"


class ArrayBatches(PyDataset):
    """Consecutive batches of an `ArrayDataset`'s arrays, as `(x,)`-style structures `fit` reads."""

    def __init__(self, arrays: Any, n: int, batch_size: int, drop_remainder: bool):
        super().__init__()
        self.arrays, self.n, self.batch_size = arrays, n, batch_size
        self._len = n // batch_size if drop_remainder else math.ceil(n / batch_size)

    def __len__(self) -> int:
        return self._len

    def __getitem__(self, index: int):
        if not 0 <= index < self._len:
            raise IndexError(f"Batch index {index} is out of range for {self._len} batches.")
        rows = slice(index * self.batch_size, min(self.n, (index + 1) * self.batch_size))
        batch = jax.tree.map(lambda leaf: leaf[rows], self.arrays)
        return tuple(batch) if isinstance(batch, list) else batch


def _split_sizes(left_size, right_size, total: int) -> tuple[int, int]:
    """Keras's rules: fractions in (0, 1) or counts in (0, total); None is the complement."""
    kinds = {"left_size": left_size, "right_size": right_size}
    for name, size in kinds.items():
        if size is not None and type(size) not in (int, float):
            raise TypeError(f"Invalid `{name}` Type. Expected: int or float or None, Received: "
                            f"type({name})={type(size)}.")
    if left_size == 0 and right_size == 0:
        raise ValueError("Both `left_size` and `right_size` are zero. At least one of the split sizes must be non-zero.")
    for name, size in kinds.items():
        if (type(size) is int and not 0 < size < total) or (type(size) is float and not 0 < size < 1):
            raise ValueError(f"`{name}` should be either a positive integer smaller than {total}, or a float within "
                             f"the range `[0, 1]`. Received: {name}={size}")
    if type(left_size) is float and type(right_size) is float and left_size + right_size > 1:
        raise ValueError("The sum of `left_size` and `right_size` is greater than 1. It must be less than or equal to 1.")
    left = round(left_size * total) if type(left_size) is float else left_size
    right = round(right_size * total) if type(right_size) is float else right_size
    left = total - right if left is None else left
    right = total - left if right is None else right
    if left + right > total:
        raise ValueError(f"The sum of `left_size` and `right_size` should be smaller than the {total}. "
                         f"Received: left_size + right_size = {left + right}and total_length = {total}")
    for size, side in ((left, "left"), (right, "right")):
        if size == 0:
            raise ValueError(f"With `dataset` of length={total}, `left_size`={left} and `right_size`={right}."
                             f"Resulting {side} side dataset split will be empty. Adjust any of the aforementioned "
                             "parameters")
    return int(left), int(right)


def split_dataset(dataset, left_size: int | float | None = None, right_size: int | float | None = None,
                  shuffle: bool = False, seed: int | None = None,
                  preferred_backend: str | None = None) -> tuple[ArrayDataset, ArrayDataset]:
    """Splits the samples of a data set into a left part and a right part (e.g. train / test).

    Args:
        dataset: an array, or a tuple / list / dict of arrays with the same length (or an `ArrayDataset`).
        left_size: a fraction in (0, 1) or a count of samples for the left part; None: the rest.
        right_size: the same for the right part (taken from the end).
        shuffle: shuffle the samples first (Keras's permutation for the same `seed`).
        seed: the shuffle's seed; drawn at random when None.
        preferred_backend: Keras's choice between tf.data and torch datasets. Only None, "jax" or
            "numpy" are accepted here (the parts are `ArrayDataset`s).

    Returns:
        `(left, right)`, two `ArrayDataset`s; `left.batch(32)` is what `fit` reads.

    Raises:
        TypeError: for a data set type that is not arrays, or sizes that are not int / float / None.
        ValueError: when both sizes are None, out of range, or leave a part empty.

    Example:
        >>> left, right = split_dataset(np.random.random((1000, 4)), left_size=0.8)
        >>> len(left), len(right)  # (800, 200)
    """
    if preferred_backend not in (None, "jax", "numpy"):
        raise ValueError(f"`preferred_backend` {preferred_backend!r} needs tf.data or torch, which kerasish does not "
                         "use. Pass None: the parts are kerasish ArrayDatasets.")
    if isinstance(dataset, ArrayDataset):
        dataset = dataset.arrays
    if isinstance(dataset, (list, tuple, dict)):
        arrays = jax.tree.map(np.asarray, dataset, is_leaf=lambda v: not isinstance(v, (list, tuple, dict)))
    elif isinstance(dataset, np.ndarray) or hasattr(dataset, "__array__"):
        arrays = np.asarray(dataset)
    else:
        raise TypeError("The `dataset` argument must be an array, or a list/tuple/dict of arrays. "
                        f"Received: dataset={dataset} of type {type(dataset)}")
    if right_size is None and left_size is None:
        raise ValueError("At least one of the `left_size` or `right_size` must be specified. Received: left_size=None "
                         "and right_size=None")
    total = len(ArrayDataset(arrays))
    order = list(range(total))
    if shuffle:
        random.Random(random.randint(0, int(1e6)) if seed is None else seed).shuffle(order)
    left, right = _split_sizes(left_size, right_size, total)
    order = np.asarray(order)

    def take(rows):
        return ArrayDataset(jax.tree.map(lambda leaf: leaf[rows], arrays))

    return take(order[:left]), take(order[total - right:])
