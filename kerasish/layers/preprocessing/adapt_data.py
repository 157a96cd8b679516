"""How `adapt()` reads data, shared by the layers that learn state from a data set.

`batches(data, steps, whole)` yields NumPy batches from: a NumPy or JAX array (one batch), a
`keras.utils.PyDataset` (indexed batches), or any other iterable of batches (a list of arrays, a
generator); `(x, y)` / `(x, y, sample_weight)` tuples give their `x`. A list or tuple is an iterable of
batches unless `whole` (IntegerLookup reads a list as one batch of values, as Keras does). TensorFlow
data sets are not accepted: kerasish does not depend on TensorFlow.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import jax
import numpy as np


def _x(batch: Any) -> Any:
    return batch[0] if isinstance(batch, tuple) else batch


def batches(data: Any, steps: int | None = None, whole: bool = False) -> Iterator[np.ndarray]:
    """The batches of `data` as NumPy arrays, at most `steps` of them from an iterable.

    Raises:
        TypeError: for data that is neither an array nor an iterable (a `tf.data.Dataset` included).
        ValueError: for an iterable that yields no batch.
    """
    if isinstance(data, (np.ndarray, jax.Array)) or (whole and isinstance(data, (list, tuple))):
        yield np.asarray(data)
        return
    if type(data).__module__.startswith("tensorflow"):
        raise TypeError(f"adapt() received a TensorFlow object ({type(data).__name__}); kerasish does not use "
                        "TensorFlow. Pass NumPy arrays, a keras.utils.PyDataset or an iterable of NumPy batches.")
    if not hasattr(data, "__iter__") or isinstance(data, (str, bytes, dict)):
        raise TypeError(f"Unsupported data type: {type(data)}. `adapt` supports `np.ndarray`, JAX arrays, "
                        "`keras.utils.PyDataset`, and iterables of batches (e.g. list, generator).")
    iterator = iter(data)
    if steps is not None:
        iterator = itertools.islice(iterator, steps)
    first = next(iterator, None)
    if first is None:
        raise ValueError("adapt() received an empty iterable (no batches). Expected at least one batch. Pass a "
                         "non-empty iterable of arrays, e.g. layer.adapt([x]) or layer.adapt(list_of_batches).")
    for batch in itertools.chain([first], iterator):
        yield np.asarray(_x(batch))
