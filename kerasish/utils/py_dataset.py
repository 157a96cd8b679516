"""`keras.utils.PyDataset` (old name `Sequence`): batches computed by Python code, read by `fit`.

Owns: the PyDataset protocol (`__len__` / `num_batches`, `__getitem__(index)` -> one batch,
`on_epoch_begin`, `on_epoch_end`) and its parallel read-ahead. Must not: know about models or
the training loop, which reads a PyDataset the way it reads any indexable data set: batches
0, 1, ... in order, then `on_epoch_end()`.

Parallelism (`workers`, `use_multiprocessing`, `max_queue_size`): when `workers > 1` (or
`use_multiprocessing=True`), a read of batch `i` that continues an in-order pass (0, or the batch
after the last one read) keeps up to `max_queue_size` later batches being computed by a pool of
`workers` threads (or forked processes). Reads out of order are computed at once, in the caller,
and stop the read-ahead. `on_epoch_end` drops what was read ahead before the subclass's hook runs
(a reshuffle there is seen by the next epoch), and the first in-order read of an epoch calls
`on_epoch_begin`. Processes are forked per epoch, as Keras does, so they see the data set as it is
then; its batches travel back pickled.
"""

from __future__ import annotations

import collections
import concurrent.futures
import functools
import multiprocessing
import threading
import warnings
from typing import Any, Callable

__all__ = ["PyDataset", "Sequence"]

#: the data set a forked worker process reads (set in the parent just before the fork)
_FORKED: dict[str, Any] = {}

#: set while a thread computes a batch: `dataset[i]` (and `super().__getitem__`) then reads directly
_COMPUTING = threading.local()


def _read_in_worker(index: int):
    return _raw_getitem(_FORKED["dataset"], index)


def _raw_getitem(dataset: "PyDataset", index: int):
    """Batch `index` from the subclass's own `__getitem__`, bypassing the read-ahead."""
    outer = getattr(_COMPUTING, "active", False)
    _COMPUTING.active = True
    try:
        return dataset[index]
    finally:
        _COMPUTING.active = outer


class _ReadAhead:
    """Batches computed ahead by a pool of threads or forked processes, handed out in order."""

    def __init__(self, dataset: "PyDataset"):
        self.dataset = dataset
        self.pending: collections.OrderedDict[int, concurrent.futures.Future] = collections.OrderedDict()
        workers = max(1, dataset._workers)
        if dataset._use_multiprocessing:
            _FORKED["dataset"] = dataset
            self.pool = concurrent.futures.ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"))
            self.submit = functools.partial(self.pool.submit, _read_in_worker)
        else:
            self.pool = concurrent.futures.ThreadPoolExecutor(workers, thread_name_prefix="PyDataset")
            self.submit = functools.partial(self.pool.submit, _raw_getitem, dataset)

    def take(self, index: int):
        """Batch `index`, after topping the queue up to `max_queue_size` batches ahead of it."""
        total = self.dataset.num_batches
        end = index + 1 + self.dataset._max_queue_size
        for i in range(index, end if total is None else min(total, end)):
            if i not in self.pending:
                self.pending[i] = self.submit(i)
        return self.pending.pop(index).result()

    def close(self) -> None:
        for future in self.pending.values():
            future.cancel()
        self.pending.clear()
        self.pool.shutdown(wait=True, cancel_futures=True)
        _FORKED.pop("dataset", None)


class PyDataset:
    """Base class for a data set of batches computed in Python.

    Subclasses implement `__len__` (the number of batches) or the `num_batches` property (None for
    an endless data set), and `__getitem__(index)` returning one batch: `x`, `(x,)`, `(x, y)` or
    `(x, y, sample_weight)`. `on_epoch_begin` / `on_epoch_end` may be overridden (e.g. to reshuffle).

    Args:
        workers: how many threads (or processes) compute batches ahead of `fit`; 1 computes them in order
            in the training loop.
        use_multiprocessing: compute batches in forked processes instead of threads (the data set and its
            batches must pickle; worth it for CPU-bound Python code that holds the GIL).
        max_queue_size: how many batches may be computed ahead.

    Raises:
        ValueError: for a negative `workers` or a `max_queue_size` below 1.

    Example:
        >>> class Squares(keras.utils.PyDataset):
        ...     def __init__(self, n, batch_size, **kwargs):
        ...         super().__init__(**kwargs)
        ...         self.n, self.batch_size = n, batch_size
        ...     def __len__(self):
        ...         return math.ceil(self.n / self.batch_size)
        ...     def __getitem__(self, index):
        ...         x = np.arange(index * self.batch_size, min(self.n, (index + 1) * self.batch_size), dtype="float32")
        ...         return x[:, None], x[:, None] ** 2
        >>> model.fit(Squares(1000, 32, workers=4), epochs=2)
    """

    def __init__(self, workers: int = 1, use_multiprocessing: bool = False, max_queue_size: int = 10):
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 0:
            raise ValueError(f"`workers` must be a non-negative integer. Received: workers={workers!r}")
        if isinstance(max_queue_size, bool) or not isinstance(max_queue_size, int) or max_queue_size < 1:
            raise ValueError(f"`max_queue_size` must be a positive integer. Received: max_queue_size={max_queue_size!r}")
        self._workers, self._use_multiprocessing, self._max_queue_size = workers, bool(use_multiprocessing), max_queue_size

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "__getitem__" in cls.__dict__:  # the subclass's reader, served through the read-ahead
            cls.__getitem__ = _served(cls.__dict__["__getitem__"])
        if "on_epoch_end" in cls.__dict__:
            cls.on_epoch_end = _ends_epoch(cls.__dict__["on_epoch_end"])

    # -- Keras's attributes (with its warning when a subclass skipped super().__init__) -----------
    def _settings(self) -> None:
        if not hasattr(self, "_workers"):
            self._workers, self._use_multiprocessing, self._max_queue_size = 1, False, 10
            warnings.warn("Your `PyDataset` class should call `super().__init__(**kwargs)` in its constructor. "
                          "`**kwargs` can include `workers`, `use_multiprocessing`, `max_queue_size`. Do not pass "
                          "these arguments to `fit()`, as they will be ignored.", stacklevel=3)

    @property
    def workers(self) -> int:
        self._settings()
        return self._workers

    @workers.setter
    def workers(self, value: int) -> None:
        self._workers = value

    @property
    def use_multiprocessing(self) -> bool:
        self._settings()
        return self._use_multiprocessing

    @use_multiprocessing.setter
    def use_multiprocessing(self, value: bool) -> None:
        self._use_multiprocessing = value

    @property
    def max_queue_size(self) -> int:
        self._settings()
        return self._max_queue_size

    @max_queue_size.setter
    def max_queue_size(self, value: int) -> None:
        self._max_queue_size = value

    # -- the protocol ----------------------------------------------------------------------------
    def __getitem__(self, index: int):
        raise NotImplementedError(f"{type(self).__name__} must implement `__getitem__(index)`, returning batch `index`.")

    @property
    def num_batches(self) -> int | None:
        """The number of batches (`len(self)`), or None for an endless data set."""
        if hasattr(self, "__len__"):
            return len(self)
        raise NotImplementedError("You need to implement the `num_batches` property:\n\n"
                                  "@property\ndef num_batches(self):\n  return ...")

    def __iter__(self):
        total = self.num_batches
        index = 0
        while total is None or index < total:
            yield self[index]
            index += 1

    def on_epoch_begin(self) -> None:
        """Called before the first batch of each epoch is read."""

    def on_epoch_end(self) -> None:
        """Called after the last batch of each epoch was read."""

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        for key in ("_kerasish_reader", "_kerasish_lock", "_kerasish_next"):  # a copy starts afresh
            state.pop(key, None)
        return state


def _parallel(dataset: PyDataset) -> bool:
    dataset._settings()
    return dataset._workers > 1 or (dataset._workers > 0 and dataset._use_multiprocessing)


def _served(read: Callable[[PyDataset, int], Any]) -> Callable[[PyDataset, int], Any]:
    """`dataset[index]` for a subclass whose own reader is `read`."""
    @functools.wraps(read)
    def __getitem__(self: PyDataset, index: int):
        if getattr(_COMPUTING, "active", False):
            return read(self, index)
        return _serve(self, index)
    return __getitem__


def _serve(self: PyDataset, index: int):
    """Batch `index`, keeping track of the in-order pass (an epoch): reading batch 0 when no pass is
    open (or the last one was read to its end) starts one and calls `on_epoch_begin`. With workers,
    in-order reads come from the read-ahead; any other read is computed here."""
    lock = self.__dict__.setdefault("_kerasish_lock", threading.Lock())
    with lock:
        expected = self.__dict__.get("_kerasish_next")
        if index == 0 and expected in (None, self.num_batches):
            _stop_reading_ahead(self)
            self.on_epoch_begin()
            expected = 0
        if index != expected:
            _stop_reading_ahead(self)
            return _raw_getitem(self, index)
        self._kerasish_next = index + 1
        if not _parallel(self):
            return _raw_getitem(self, index)
        reader = self.__dict__.get("_kerasish_reader")
        if reader is None:
            reader = self._kerasish_reader = _ReadAhead(self)
        batch = reader.take(index)
        if self._kerasish_next == self.num_batches:
            _stop_reading_ahead(self)
        return batch


def _stop_reading_ahead(dataset: PyDataset) -> None:
    reader = dataset.__dict__.pop("_kerasish_reader", None)
    if reader is not None:
        reader.close()


def _close_pass(dataset: PyDataset) -> None:
    _stop_reading_ahead(dataset)
    dataset.__dict__.pop("_kerasish_next", None)


def _ends_epoch(hook: Callable[[PyDataset], None]) -> Callable[[PyDataset], None]:
    @functools.wraps(hook)
    def on_epoch_end(self: PyDataset) -> None:
        _close_pass(self)
        hook(self)
    return on_epoch_end


PyDataset.on_epoch_end = _ends_epoch(PyDataset.on_epoch_end)
Sequence = PyDataset
