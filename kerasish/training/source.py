"""Where the data set lives during `fit` / `evaluate`, and which rows each compiled call gets.

Owns: the placement of the data and the chunks handed to the compiled functions. Every call gets
its k batches stacked ([k, B, ...] per leaf of x / y / sample_weight, with a [k, B] 0/1 mask), so
the compiled program's shapes depend on k and B only: fits on data sets of any size, and every
path below, share one compiled program. The last batch is padded in the index plan (index 0,
mask 0), never by copying the data. Placement:

- On a CPU backend the "device" is host memory. Arrays stay where the user put them and each
  call's batches are gathered on the host into fresh 64-byte-aligned buffers, which JAX adopts
  without a copy (it would copy a whole NumPy array: NumPy does not promise that alignment). So
  the data set exists once, nothing is uploaded per `fit`, and an array changed in place between
  two fits is read as it is now.
- On an accelerator, host arrays up to `data.DEVICE_RESIDENT_BYTES` are copied to the device for
  the `fit` and gathered there; the copy is kept for later fits only when the array provably
  cannot change (its memory is read-only down to the owner: `np.load(mmap_mode="r")`,
  `np.frombuffer(bytes)`). Bigger arrays are gathered on the host, as on a CPU.
- `jax.Array` leaves are gathered where they are.
- Under a distribution, each call's batches are gathered on the host and split over the batch shards.

Host-gathered chunks are sent one call ahead. When the loop reports each call (`pace`), at most
`MAX_CALLS_AHEAD` calls with host-gathered batches are unfinished, so their memory stays bounded
however much faster the gather is than the model.
Must not: compile the training step or know about models; `training.loop` asks it for chunks.
"""

from __future__ import annotations

import collections
import math
import weakref
from typing import Any, Iterator

import jax
import numpy as np

from kerasish.training import data as data_lib

#: backends whose device memory is host memory: there host arrays are gathered in place
HOST_GATHER_BACKENDS = ("cpu",)

#: calls whose batches may be unfinished at once, once the loop reports its calls through `pace`
MAX_CALLS_AHEAD = 2


class Source:
    """A data set ready for the compiled functions: stacked chunks of batches, from arrays or a stream."""

    def __init__(self, engine, x, y, sample_weight, class_weight, batch_size, steps, *, need_y: bool):
        self.engine = engine
        self.batch_size = batch_size or 32
        self._pending: collections.deque = collections.deque()
        self._leaves: list | None = None
        if data_lib.is_iterable_data(x):
            if y is not None or sample_weight is not None:
                raise ValueError("When `x` is a generator or iterable of batches, pass the targets in the "
                                 "batches and leave `y` and `sample_weight` as None.")
            self.arrays, self.stream = None, data_lib.IterableData(x, steps)
            self.steps = steps if steps is not None else (len(x) if hasattr(x, "__len__") else None)
            self.sample_x, self.sample_y = self.stream.peek()
        else:
            self.arrays = x if isinstance(x, data_lib.ArrayData) else \
                data_lib.ArrayData(x, y, sample_weight, class_weight)
            if need_y and self.arrays.y is None:
                raise ValueError("Training and evaluation need targets: pass `y` (or batches of (x, y)).")
            self.stream = None
            # A data set smaller than a batch is one batch of its own size, as in Keras (no padding
            # rows for a loss whose arithmetic depends on the batch's size).
            self.batch_size = max(1, min(self.batch_size, self.arrays.n))
            self.steps = math.ceil(self.arrays.n / self.batch_size)
            if steps is not None:
                self.steps = min(self.steps, steps)
            self.sample_x, self.sample_y = self.arrays.x, self.arrays.y

    def chunks(self, k: int, *, shuffle: bool, seed: int, epoch: int) -> Iterator[tuple]:
        """(data, None, masks [k, B], last step number) for each compiled call.

        `data` is (x, y, sample_weight), each a pytree of arrays stacked [k, B, ...]; sample_weight
        holds ones when none were given (one array per output when `y` is a structure). For a
        stream of batches k is 1. Under a distribution, B is rounded up to a multiple of the batch
        shards and the stacks are split over them.
        """
        dist = self.engine.distribution
        produce = self._array_chunks(k, shuffle, seed, epoch) if self.arrays is not None else self._stream_chunks()
        yield from data_lib.prefetch(produce, depth=0 if dist is not None and self.arrays is None else 1)

    def pace(self, result: Any) -> None:
        """Reports that the loop made a compiled call with the chunk it took last, `result` being any
        of that call's outputs. Chunks are then gathered at most `MAX_CALLS_AHEAD` calls ahead of
        the device. (`result` may be donated to the next call: a copy of one scalar is kept instead.)"""
        leaves = [leaf for leaf in jax.tree.leaves(result) if isinstance(leaf, jax.Array)]
        if leaves:
            self._pending.append(_first_element(min(leaves, key=lambda leaf: leaf.size)))

    def _wait_for_room(self) -> None:
        while len(self._pending) > MAX_CALLS_AHEAD:
            jax.block_until_ready(self._pending.popleft())

    def _array_chunks(self, k, shuffle, seed, epoch):
        dist = self.engine.distribution
        indices, masks = self.arrays.epoch_plan(self.batch_size, shuffle, seed, epoch)
        indices, masks = indices[: self.steps], masks[: self.steps]
        for start in range(0, len(indices), k):
            idx, msk = data_lib.pad_rows(indices[start:start + k], k), data_lib.pad_rows(masks[start:start + k], k)
            if dist is not None:
                width = dist.padded_batch(idx.shape[1])
                idx, msk = _pad_columns(idx, width), _pad_columns(msk, width)
            self._wait_for_room()
            data = self._gather(idx)
            if dist is not None:
                data, msk = _distribute(dist, data), dist.distribute(msk, axis=1)
            yield data, None, msk, min(start + k, len(indices))

    def _stream_chunks(self):
        dist = self.engine.distribution
        step = 0
        for x, y, sw, mask, _n in self.stream.epoch():
            step += 1
            self._wait_for_room()
            data, mask = jax.tree.map(lambda a: np.asarray(a)[None], (x, y, sw)), mask[None]
            if dist is not None:
                width = dist.padded_batch(mask.shape[1])
                data = _distribute(dist, _pad_columns(data, width))
                mask = dist.distribute(_pad_columns(mask, width), axis=1)
            yield data, None, mask, step

    # -- gathering ---------------------------------------------------------------------------
    def _gather(self, idx: np.ndarray) -> tuple:
        """(x, y, sample_weight) rows `idx` [k, B]: device leaves gathered by one compiled take,
        host leaves into aligned host buffers."""
        leaves, treedef, on_device = self._placed()
        device_rows = iter(_take_on_device(tuple(leaf for leaf, d in zip(leaves, on_device) if d), idx)
                           if any(on_device) else ())
        gathered = [next(device_rows) if d else data_lib.take_rows(leaf, idx) for leaf, d in zip(leaves, on_device)]
        x, y, sw = jax.tree.unflatten(treedef, gathered)
        if sw is None:
            sw = data_lib.ones_like_weights(y, idx.shape)
        return x, y, sw

    def _placed(self) -> tuple[list, Any, list[bool]]:
        """The leaves of (x, y, sample_weight) where they are gathered from, decided once per Source."""
        if self._leaves is None:
            leaves, self._treedef = jax.tree.flatten(self.arrays.arrays())
            dist = self.engine.distribution
            host_bytes = sum(leaf.nbytes for leaf in leaves if not isinstance(leaf, jax.Array))
            upload = (dist is None and jax.default_backend() not in HOST_GATHER_BACKENDS
                      and host_bytes <= data_lib.DEVICE_RESIDENT_BYTES)
            placed = []
            for leaf in leaves:
                if isinstance(leaf, jax.Array):
                    placed.append((leaf, True) if dist is None else (np.asarray(leaf), False))
                else:
                    placed.append((uploaded(leaf), True) if upload else (leaf, False))
            self._leaves = [leaf for leaf, _ in placed]
            self._on_device = [on for _, on in placed]
        return self._leaves, self._treedef, self._on_device


@jax.jit
def _first_element(leaf: jax.Array) -> jax.Array:
    """A new one-element array computed from `leaf`: ready only once `leaf` is."""
    return leaf.reshape(-1)[:1]


@jax.jit
def _take_on_device(leaves: tuple, index: jax.Array) -> tuple:
    """Rows `index` [k, B] of each device array: [k, B, ...] each."""
    return tuple(leaf[index] for leaf in leaves)


# -- uploads kept across fits, only for arrays that cannot change ---------------------------------

_UPLOADS: dict[int, tuple[weakref.ref, tuple, jax.Array]] = {}


def uploaded(array: np.ndarray) -> jax.Array:
    """`array` on the default device. The copy is reused by later fits only when `array`'s memory
    cannot change (`read_only_memory`); anything else is copied again, so a fit never trains on
    values the user has since overwritten."""
    if not read_only_memory(array):
        return jax.device_put(array)
    key = (array.__array_interface__["data"][0], array.shape, array.dtype.str, array.strides)
    hit = _UPLOADS.get(id(array))
    if hit is not None and hit[0]() is array and hit[1] == key:
        return hit[2]
    device = jax.device_put(array)
    _UPLOADS[id(array)] = (weakref.ref(array, lambda _ref, i=id(array): _UPLOADS.pop(i, None)), key, device)
    return device


def read_only_memory(array: np.ndarray) -> bool:
    """Whether nothing can write `array`'s memory: every array down its chain of bases is read-only,
    and the chain ends in an object whose buffer is read-only (bytes, a read-only mmap). An array
    that owns its memory is never proof: NumPy lets its owner set `writeable` back to True."""
    base: Any = array
    while isinstance(base, np.ndarray):
        if base.flags.writeable or base.base is None:
            return False
        base = base.base
    try:
        return memoryview(base).readonly
    except TypeError:  # not a buffer at all: nothing proves it is read-only
        return False


def _distribute(dist, tree: Any) -> Any:
    return jax.tree.map(lambda a: dist.distribute(np.asarray(a), axis=1), tree)


def _pad_columns(tree: Any, width: int) -> Any:
    """Pads axis 1 of every [k, B, ...] leaf to `width` with zeros (masked-out rows; index 0)."""
    def pad(a):
        if a.shape[1] == width:
            return a
        return np.concatenate([a, np.zeros((a.shape[0], width - a.shape[1], *a.shape[2:]), a.dtype)], axis=1)
    return jax.tree.map(pad, tree)

