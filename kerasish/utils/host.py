"""Reading device arrays back to the host, also when an array spans several processes."""

from __future__ import annotations

import jax
import numpy as np


def to_host(array) -> np.ndarray:
    """A NumPy copy of `array`. A replicated multi-process array is read from a local shard; a
    sharded one is gathered from every process (all processes must call this together then)."""
    if not isinstance(array, jax.Array) or array.is_fully_addressable:
        return np.asarray(array)
    if array.sharding.is_fully_replicated:
        return np.asarray(array.addressable_data(0))
    from jax.experimental import multihost_utils
    return np.asarray(multihost_utils.process_allgather(array, tiled=True))
