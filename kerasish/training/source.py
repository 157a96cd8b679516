"""A data set ready for the compiled functions: device arrays and per-epoch index plans, or a stream.

Owns: where the data lives during `fit` / `evaluate` (on the device, or streamed chunk by chunk
from the host), and which rows each compiled call gets. Must not: compile anything or know about
models; `training.loop` asks it for chunks.
"""

from __future__ import annotations

import math

import jax
import numpy as np

from kerasish.training import data as data_lib


class Source:
    """A data set ready for the compiled functions: device arrays + per-epoch index plans, or a stream."""

    def __init__(self, engine, x, y, sample_weight, class_weight, batch_size, steps, *, need_y: bool):
        self.engine = engine
        self.batch_size = batch_size or 32
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
            self.steps = math.ceil(self.arrays.n / self.batch_size)
            if steps is not None:
                self.steps = min(self.steps, steps)
            self.sample_x, self.sample_y = self.arrays.x, self.arrays.y
            self._device = None

    def device_arrays(self):
        """The data set on the device, once per `fit`; rows are padded to a bucketed count so that
        data sets of nearby sizes share one compiled program (indices never reach the padding)."""
        if self._device is None:
            size = bucket_rows(self.arrays.n)
            self._device = tuple(jax.device_put(data_lib.pad_rows(a, size)) for a in self.arrays.arrays())
        return self._device

    def chunks(self, k: int, *, shuffle: bool, seed: int, epoch: int):
        """(data, indices [k, B] or None, masks [k, B], last step number) for each compiled call.

        Arrays that fit (`data.DEVICE_RESIDENT_BYTES`) on one device: the data set stays on the
        device and each call gets row indices. Otherwise each call gets its k batches gathered on
        the host and stacked [k, B, ...]; the next chunk is sent while the current one trains.
        Under a distribution those stacks are split over the batch shards (B rounded up to a
        multiple of them).
        """
        if self.arrays is not None:
            yield from data_lib.prefetch(self._array_chunks(k, shuffle, seed, epoch), depth=1)
            return
        dist = self.engine.distribution
        step = 0
        for x, y, sw, mask, _n in data_lib.prefetch(self.stream.epoch(), depth=0 if dist else 1):
            step += 1
            if dist is None:
                yield (x, y, sw), np.arange(len(mask), dtype=np.int32)[None], mask[None], step
                continue
            width = dist.padded_batch(len(mask))
            data = tuple(dist.distribute(_pad_columns(np.asarray(a)[None], width), axis=1) for a in (x, y, sw))
            yield data, None, dist.distribute(_pad_columns(mask[None], width), axis=1), step

    def _array_chunks(self, k, shuffle, seed, epoch):
        """The (data, indices, masks, last step) of each call over in-memory arrays."""
        dist = self.engine.distribution
        resident = dist is None and self.arrays.nbytes <= data_lib.DEVICE_RESIDENT_BYTES
        indices, masks = self.arrays.epoch_plan(self.batch_size, shuffle, seed, epoch)
        indices, masks = indices[: self.steps], masks[: self.steps]
        for start in range(0, len(indices), k):
            idx, msk = data_lib.pad_rows(indices[start:start + k], k), data_lib.pad_rows(masks[start:start + k], k)
            last = min(start + k, len(indices))
            if resident:
                yield self.device_arrays(), idx, msk, last
            elif dist is None:
                yield tuple(a[idx] for a in self.arrays.arrays()), None, msk, last
            else:
                width = dist.padded_batch(idx.shape[1])
                idx, msk = _pad_columns(idx, width), _pad_columns(msk, width)
                data = tuple(dist.distribute(a[idx], axis=1) for a in self.arrays.arrays())
                yield data, None, dist.distribute(msk, axis=1), last


def bucket_rows(n: int) -> int:
    """`n` rounded up to one of 8 sizes per power of two (at most 12.5% more rows)."""
    if n <= 64:
        return 64
    step = 1 << (n.bit_length() - 4)
    return -(-n // step) * step


def _pad_columns(a: np.ndarray, width: int) -> np.ndarray:
    """Pads axis 1 of [k, B, ...] to `width` with zeros (masked-out rows)."""
    if a.shape[1] == width:
        return a
    pad = np.zeros((a.shape[0], width - a.shape[1], *a.shape[2:]), a.dtype)
    return np.concatenate([a, pad], axis=1)
