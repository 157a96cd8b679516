"""Sequence data: `pad_sequences` and `timeseries_dataset_from_array`, on NumPy, without TensorFlow.

Owns: padding / truncating lists of sequences to one array, and sliding windows over a time series
served as a `PyDataset` of batches (windows are gathered per batch by index, never all at once).
Must not: know about models; `fit` reads the windows like any PyDataset.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from kerasish.utils.py_dataset import PyDataset

__all__ = ["pad_sequences", "timeseries_dataset_from_array"]


def pad_sequences(sequences, maxlen: int | None = None, dtype: Any = "int32", padding: str = "pre",
                  truncating: str = "pre", value: Any = 0.0) -> np.ndarray:
    """Pads (or truncates) sequences to one length: `(num_samples, maxlen, *sample_shape)`.

    Args:
        sequences: a list of sequences (lists or arrays; each element may itself be an array).
        maxlen: the length of the result; default the longest sequence.
        dtype: of the result ("int32" by default, so floats are truncated; `object` for strings).
        padding: "pre" or "post": where the padding goes.
        truncating: "pre" or "post": which end of a too-long sequence is dropped.
        value: the padding value.

    Raises:
        ValueError: for a non-iterable sequence, a bad `padding` / `truncating`, a string `value` with a
            numeric dtype, or sequences whose elements differ in shape.

    Example:
        >>> pad_sequences([[1, 2, 3], [4, 5]], maxlen=4)  # [[0, 1, 2, 3], [0, 0, 4, 5]]
    """
    lengths, sample_shape = [], None
    for sequence in sequences:
        try:
            lengths.append(len(sequence))
        except TypeError as error:
            raise ValueError(f"`sequences` must be a list of iterables. Found non-iterable: {sequence}") from error
        if sample_shape is None and len(sequence):
            sample_shape = np.asarray(sequence).shape[1:]
    sample_shape = sample_shape or ()
    maxlen = max(lengths, default=0) if maxlen is None else int(maxlen)
    is_text = np.issubdtype(dtype, np.str_) or np.issubdtype(dtype, np.bytes_)
    if isinstance(value, str) and dtype is not object and not is_text:
        raise ValueError(f"`dtype` {dtype} is not compatible with `value`'s type: {type(value)}\n"
                         "You should set `dtype=object` for variable length strings.")
    if truncating not in ("pre", "post"):
        raise ValueError(f'Truncating type "{truncating}" not understood')
    if padding not in ("pre", "post"):
        raise ValueError(f'Padding type "{padding}" not understood')
    out = np.full((len(lengths), maxlen, *sample_shape), value, dtype=dtype)
    for row, sequence in enumerate(sequences):
        if not len(sequence) or not maxlen:
            continue
        kept = np.asarray(sequence[-maxlen:] if truncating == "pre" else sequence[:maxlen], dtype=dtype)
        if kept.shape[1:] != sample_shape:
            raise ValueError(f"Shape of sample {kept.shape[1:]} of sequence at position {row} is different from "
                             f"expected shape {sample_shape}")
        if padding == "post":
            out[row, : len(kept)] = kept
        else:
            out[row, maxlen - len(kept):] = kept
    return out


class TimeseriesWindows(PyDataset):
    """Batches of windows `data[start + p + i * sampling_rate]` (i < sequence_length), with
    `targets[start + p]` when there are targets; `p` runs over the (possibly shuffled) positions."""

    def __init__(self, data, targets, positions: np.ndarray, sequence_length: int, sampling_rate: int,
                 batch_size: int | None, start_index: int):
        super().__init__()
        self.data, self.targets, self.positions = data, targets, positions
        self.offsets = np.arange(sequence_length) * sampling_rate
        self.batch_size, self.start_index = batch_size, start_index

    def __len__(self) -> int:
        return len(self.positions) if self.batch_size is None else math.ceil(len(self.positions) / self.batch_size)

    def __getitem__(self, index: int):
        if not 0 <= index < len(self):
            raise IndexError(f"Batch index {index} is out of range for {len(self)} batches.")
        if self.batch_size is None:
            starts = self.positions[index]
        else:
            starts = self.positions[index * self.batch_size:(index + 1) * self.batch_size]
        starts = np.asarray(starts) + self.start_index
        windows = np.asarray(self.data)[starts[..., None] + self.offsets]
        if self.targets is None:
            return windows
        return windows, np.asarray(self.targets)[starts]


def _check_index_arguments(data, start_index, end_index, sampling_rate, sequence_stride) -> None:
    n = len(data)
    if start_index:
        if start_index < 0:
            raise ValueError(f"`start_index` must be 0 or greater. Received: start_index={start_index}")
        if start_index >= n:
            raise ValueError("`start_index` must be lower than the length of the data. Received: "
                             f"start_index={start_index}, for data of length {n}")
    if end_index:
        if start_index and end_index <= start_index:
            raise ValueError("`end_index` must be higher than `start_index`. Received: "
                             f"start_index={start_index}, and end_index={end_index} ")
        if end_index >= n:
            raise ValueError("`end_index` must be lower than the length of the data. Received: "
                             f"end_index={end_index}, for data of length {n}")
        if end_index <= 0:
            raise ValueError(f"`end_index` must be higher than 0. Received: end_index={end_index}")
    for name, stride in (("sampling_rate", sampling_rate), ("sequence_stride", sequence_stride)):
        if stride <= 0:
            raise ValueError(f"`{name}` must be higher than 0. Received: {name}={stride}")
        if stride >= n:
            raise ValueError(f"`{name}` must be lower than the length of the data. Received: {name}={stride}, "
                             f"for data of length {n}")


def timeseries_dataset_from_array(data, targets, sequence_length: int, sequence_stride: int = 1,
                                  sampling_rate: int = 1, batch_size: int | None = 128, shuffle: bool = False,
                                  seed: int | None = None, start_index: int | None = None,
                                  end_index: int | None = None, format: str = "tf") -> TimeseriesWindows:
    """Sliding windows over a time series, as a `PyDataset` of batches that `fit` reads.

    Window `k` holds `data[s + k * sequence_stride + i * sampling_rate]` for `i < sequence_length`,
    `s = start_index`, its target `targets[s + k * sequence_stride]`; windows end before `end_index`.
    Keras 3 returns a `tf.data.Dataset` (format "tf") or a Grain dataset (format "grain"); here both
    give the same PyDataset (a Python iterable of NumPy batches, `len()` batches), since neither
    library is needed. With `shuffle`, the window order is Keras's first shuffle (`RandomState(seed)`
    over the start positions); Keras's extra tf.data buffer shuffle is not reproduced.

    Args:
        data: an array (or sequence) of time steps, axis 0 being time.
        targets: one target per time step (window k gets the one at its start), or None.
        sequence_length: steps per window.
        sequence_stride: steps between the starts of consecutive windows.
        sampling_rate: steps between consecutive elements of a window.
        batch_size: windows per batch (the last may be smaller); None yields single windows.
        shuffle: shuffle the windows once, by `seed` (drawn at random when None).
        start_index, end_index: only steps in `[start_index, end_index)` are used.
        format: "tf" or "grain" (both accepted; see above).

    Returns:
        A `PyDataset` of `(windows, targets)` batches, or of `windows` when `targets` is None.

    Raises:
        ValueError: for indices or strides out of range, or an unknown `format`.

    Example:
        >>> ds = timeseries_dataset_from_array(np.arange(100), None, sequence_length=10, batch_size=8)
        >>> ds[0].shape  # (8, 10)
    """
    _check_index_arguments(data, start_index, end_index, sampling_rate, sequence_stride)
    if format not in ("tf", "grain"):
        raise ValueError(f'`format` should be either "tf" or "grain". Received: format={format}')
    start = start_index or 0
    end = len(data) if end_index is None else end_index
    count = end - start - (sequence_length - 1) * sampling_rate
    if targets is not None:
        count = min(count, len(targets))
    positions = np.arange(0, max(count, 0), sequence_stride, dtype="int64")
    if shuffle:
        if seed is None:
            seed = np.random.randint(1e6)
        np.random.RandomState(seed).shuffle(positions)
    return TimeseriesWindows(data, targets, positions, sequence_length, sampling_rate, batch_size, start)
