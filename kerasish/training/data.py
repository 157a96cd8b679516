"""Turning what users pass to fit/evaluate/predict into fixed-shape device batches.

Owns: validation of x / y / sample_weight (Keras's errors), validation_split, class weights,
per-epoch shuffling (NumPy generator seeded from the run's seed and the epoch number), padding of
the last batch with a 0/1 mask, and streaming of Python iterables with a prefetch of one batch.
Must not: compile anything or know about models; it hands index chunks or batches to the loop.
"""

from __future__ import annotations

import collections.abc
import itertools
import math
from typing import Any, Iterator

import jax
import numpy as np

#: arrays up to this size are put on the device once per `fit`; bigger ones are streamed
DEVICE_RESIDENT_BYTES = 2 << 30


def to_numpy(value: Any, name: str) -> np.ndarray:
    if value is None:
        return None
    if isinstance(value, (list, tuple)) and value and not np.isscalar(value[0]) and not hasattr(value[0], "shape"):
        raise TypeError(f"kerasish Sequential models take a single array for `{name}`. "
                        f"Received a {type(value).__name__} of {len(value)} items.")
    try:
        array = np.asarray(value)
    except Exception as error:  # numpy's own error is the useful part of the message
        raise TypeError(f"Could not convert `{name}` to an array: {error}") from error
    if array.dtype == object:
        raise TypeError(f"`{name}` must be a numeric array. Received an array of Python objects "
                        f"(dtype=object) with shape {array.shape}.")
    if array.ndim == 0:
        raise ValueError(f"`{name}` must have a batch dimension. Received a scalar: {name}={value!r}")
    return array


def check_cardinality(**arrays: np.ndarray | None) -> int:
    sizes = {name: len(a) for name, a in arrays.items() if a is not None}
    if len(set(sizes.values())) > 1:
        detail = "\n".join(f"'{name}' sizes: {n}" for name, n in sizes.items())
        raise ValueError("Data cardinality is ambiguous. Make sure all arrays contain the same number "
                         f"of samples.{detail}\n")
    return next(iter(sizes.values()))


def class_weights_to_sample_weights(y: np.ndarray, class_weight: dict) -> np.ndarray:
    if not isinstance(class_weight, dict):
        raise TypeError(f"`class_weight` must be a dict mapping class index to weight. "
                        f"Received: class_weight={class_weight!r}")
    labels = y.argmax(-1) if y.ndim > 1 and y.shape[-1] > 1 else y.reshape(len(y), -1)[:, 0]
    labels = np.rint(labels).astype(np.int64)
    missing = sorted(set(np.unique(labels).tolist()) - set(int(k) for k in class_weight))
    if missing:
        raise ValueError(f"`class_weight` must contain all classes in the data. The classes "
                         f"{missing} exist in the data but not in `class_weight`.")
    lookup = {int(k): float(v) for k, v in class_weight.items()}
    return np.array([lookup[int(c)] for c in labels], np.float32)


class ArrayData:
    """In-memory arrays (x, y, sample_weight), batched by index so they can live on the device."""

    def __init__(self, x, y=None, sample_weight=None, class_weight=None):
        self.x = to_numpy(x, "x")
        self.y = to_numpy(y, "y")
        sample_weight = to_numpy(sample_weight, "sample_weight")
        self.n = check_cardinality(x=self.x, y=self.y, sample_weight=sample_weight)
        if sample_weight is not None and sample_weight.ndim > 1:
            sample_weight = sample_weight.reshape(self.n, -1).mean(axis=1)
        if class_weight is not None:
            if self.y is None:
                raise ValueError("`class_weight` needs targets `y`.")
            cw = class_weights_to_sample_weights(self.y, class_weight)
            sample_weight = cw if sample_weight is None else sample_weight * cw
        self.sample_weight = (np.ones(self.n, np.float32) if sample_weight is None
                              else sample_weight.astype(np.float32))

    def arrays(self) -> tuple[np.ndarray, ...]:
        return (self.x, self.y, self.sample_weight) if self.y is not None else (self.x,)

    def split(self, validation_split: float) -> tuple["ArrayData", "ArrayData"]:
        """Keras's validation_split: the last fraction of the samples, taken before shuffling."""
        if not 0 < validation_split < 1:
            raise ValueError(f"`validation_split` must be between 0 and 1. Received: {validation_split}")
        cut = int(self.n * (1.0 - validation_split))
        if cut == 0 or cut == self.n:
            raise ValueError(f"validation_split={validation_split} leaves an empty training or validation "
                             f"set for {self.n} samples.")
        return self._subset(slice(0, cut)), self._subset(slice(cut, None))

    def _subset(self, index) -> "ArrayData":
        out = object.__new__(ArrayData)
        out.x, out.y, out.sample_weight = self.x[index], None if self.y is None else self.y[index], \
            self.sample_weight[index]
        out.n = len(out.x)
        return out

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in self.arrays())

    def epoch_plan(self, batch_size: int, shuffle: bool, seed: int, epoch: int):
        """Row indices [steps, batch] and 0/1 masks for one epoch; the last batch is padded."""
        order = np.arange(self.n)
        if shuffle:
            order = np.random.default_rng([seed, epoch]).permutation(self.n)
        steps = max(1, math.ceil(self.n / batch_size))
        padded = np.zeros(steps * batch_size, np.int32)
        padded[: self.n] = order
        mask = np.zeros(steps * batch_size, np.float32)
        mask[: self.n] = 1.0
        return padded.reshape(steps, batch_size), mask.reshape(steps, batch_size)


def pad_rows(a: np.ndarray | None, rows: int) -> np.ndarray | None:
    """`a` with zero rows appended along axis 0 up to `rows` (padding that a mask leaves out)."""
    if a is None or len(a) >= rows:
        return a
    return np.concatenate([a, np.zeros((rows - len(a), *a.shape[1:]), a.dtype)])


def unpack_batch(batch: Any) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """(x,), (x, y) or (x, y, sample_weight) from what an iterable yields."""
    if isinstance(batch, dict):
        raise TypeError("kerasish Sequential models expect batches of (x, y) or (x, y, sample_weight), "
                        f"not dicts. Received keys {sorted(batch)}.")
    if not isinstance(batch, (tuple, list)):
        return to_numpy(batch, "x"), None, None
    if not 1 <= len(batch) <= 3:
        raise ValueError(f"Data yielded by an iterable must be (x,), (x, y) or (x, y, sample_weight). "
                         f"Received a {type(batch).__name__} of length {len(batch)}.")
    x, y, sw = (*batch, None, None)[:3]
    return to_numpy(x, "x"), to_numpy(y, "y"), to_numpy(sw, "sample_weight")


def is_iterable_data(x: Any) -> bool:
    """Generators, iterators, Sequence-like data sets, and lists of (x, y) batch tuples."""
    if isinstance(x, list) and x and all(isinstance(b, tuple) and b and hasattr(b[0], "shape") for b in x):
        return True
    return (isinstance(x, (collections.abc.Iterator, collections.abc.Iterable))
            and not isinstance(x, (np.ndarray, list, tuple, str, bytes, dict)) and not hasattr(x, "__array__"))


class IterableData:
    """Batches from a Python iterable or generator, padded to the first batch's size.

    A re-iterable object (a list of batches, a `keras.utils.PyDataset`-like Sequence) starts again
    each epoch; a one-shot iterator is consumed across epochs `steps_per_epoch` batches at a time.
    """

    def __init__(self, source: Any, steps_per_epoch: int | None = None):
        self.source, self.steps = source, steps_per_epoch
        self.one_shot = isinstance(source, collections.abc.Iterator)
        self._iterator: Iterator | None = None
        self._peeked: list = []
        self.batch_size: int | None = None

    def _fresh(self) -> Iterator:
        if not self.one_shot and hasattr(self.source, "__getitem__") and hasattr(self.source, "__len__"):
            return (self.source[i] for i in range(len(self.source)))
        return iter(self.source)

    def peek(self) -> tuple[np.ndarray, np.ndarray | None]:
        """The first batch's (x, y) (kept, and yielded first by the next epoch)."""
        if not self._peeked:
            if self._iterator is None:
                self._iterator = self._fresh()
            batch = next(self._iterator, None)
            if batch is None:
                raise ValueError("The iterable passed as `x` yielded no batches.")
            self._peeked.append(batch)
        return unpack_batch(self._peeked[0])[:2]

    def epoch(self) -> Iterator[tuple]:
        if self._iterator is None or (not self.one_shot and not self._peeked):
            self._iterator = self._fresh()
        batches = itertools.chain(self._peeked, self._iterator)
        self._peeked = []
        if self.steps is not None:
            batches = itertools.islice(batches, self.steps)
        for batch in batches:
            yield self.pad(*unpack_batch(batch))
        if hasattr(self.source, "on_epoch_end") and not self.one_shot:
            self.source.on_epoch_end()  # a keras.utils.PyDataset-style source reshuffles here

    def pad(self, x, y, sw):
        n = len(x)
        check_cardinality(x=x, y=y, sample_weight=sw)
        if self.batch_size is None:
            self.batch_size = n
        size = max(self.batch_size, n)
        mask = np.zeros(size, np.float32)
        mask[:n] = 1.0
        sw = np.ones(n, np.float32) if sw is None else sw.reshape(n, -1).mean(axis=1).astype(np.float32)

        return pad_rows(x, size), pad_rows(y, size), pad_rows(sw, size), mask, n


def prefetch(batches: Iterator[tuple], depth: int = 1) -> Iterator[tuple]:
    """Puts the next `depth` items on the device while the current one is being used.

    Items are tuples whose last element is passed through; NumPy arrays in the others (also inside
    one nested tuple) are sent with `jax.device_put`, which returns at once.
    """
    def send(value):
        if isinstance(value, tuple):
            return tuple(send(v) for v in value)
        return jax.device_put(value) if isinstance(value, np.ndarray) else value

    queue: collections.deque = collections.deque()
    for batch in batches:
        *arrays, last = batch
        if depth:
            arrays = [send(a) for a in arrays]
        queue.append((*arrays, last))
        if len(queue) > depth:
            yield queue.popleft()
    while queue:
        yield queue.popleft()
