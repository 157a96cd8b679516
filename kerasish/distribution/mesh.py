"""Keras 3's distribution API (`keras.distribution`) on `jax.sharding`.

Owns: which devices exist, the device mesh, where each array lives (`NamedSharding`s for batches,
parameters and optimizer state), and the choice set by `set_distribution`. Must not: run training
or move data itself; the engine asks it for shardings and the loop for per-process batch slices.
XLA inserts the gradient all-reduce from these shardings; there is no pmap.
"""

from __future__ import annotations

import re
from typing import Any, Sequence

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P


def list_devices(device_type: str | None = None) -> list:
    """All devices of `device_type` ("cpu", "gpu", "tpu"; default: JAX's default backend), every process."""
    return list(jax.devices(device_type.lower()) if device_type else jax.devices())


class DeviceMesh:
    """A named grid of devices, e.g. `DeviceMesh((2, 4), ("batch", "model"))`."""

    def __init__(self, shape: Sequence[int], axis_names: Sequence[str], devices: Sequence | None = None):
        shape, axis_names = tuple(int(s) for s in shape), tuple(axis_names)
        if len(shape) != len(axis_names):
            raise ValueError(f"Shape and axis_names cannot be mismatched. Received: shape={shape}, "
                             f"axis_names={axis_names}")
        devices = list(devices) if devices is not None else list_devices()
        if int(np.prod(shape)) != len(devices):
            raise ValueError(f"Shape {shape} does not match the number of devices: {len(devices)}. "
                             f"Received devices={devices}")
        self.shape, self.axis_names = shape, axis_names
        self.devices = np.asarray(devices, dtype=object).reshape(shape)
        self.jax_mesh = Mesh(self.devices, axis_names)


class LayoutMap(dict):
    """Maps weight-path regexes (e.g. `"dense.*kernel"`) to a tuple of mesh axis names (or None) per dim."""

    def __init__(self, device_mesh: DeviceMesh):
        super().__init__()
        self.device_mesh = device_mesh

    def __setitem__(self, key: str, layout: Sequence[str | None]):
        if not isinstance(key, str):
            raise TypeError(f"LayoutMap keys are regex strings over weight paths. Received: {key!r}")
        layout = tuple(layout)
        unknown = [a for a in layout if a is not None and a not in self.device_mesh.axis_names]
        if unknown:
            raise ValueError(f"Layout {layout} names axes {unknown} that are not in the mesh "
                             f"{self.device_mesh.axis_names}.")
        super().__setitem__(key, layout)

    def layout_for(self, path: str) -> tuple | None:
        matches = [key for key in self if re.search(key, path)]
        if len(matches) > 1:
            raise ValueError(f"Weight path '{path}' matches several LayoutMap keys: {matches}; make them "
                             "more specific.")
        return self[matches[0]] if matches else None


class Distribution:
    """Base: a mesh and the name of the axis the batch is split over."""

    def __init__(self, device_mesh: DeviceMesh, batch_dim_name: str):
        if batch_dim_name not in device_mesh.axis_names:
            raise ValueError(f"batch_dim_name '{batch_dim_name}' is not an axis of the mesh "
                             f"{device_mesh.axis_names}.")
        self.device_mesh, self.batch_dim_name = device_mesh, batch_dim_name

    @property
    def mesh(self) -> Mesh:
        return self.device_mesh.jax_mesh

    @property
    def batch_shards(self) -> int:
        return self.device_mesh.shape[self.device_mesh.axis_names.index(self.batch_dim_name)]

    def batch_sharding(self) -> NamedSharding:
        return NamedSharding(self.mesh, P(self.batch_dim_name))

    def replicated(self) -> NamedSharding:
        return NamedSharding(self.mesh, P())

    def weight_sharding(self, path: str, shape: tuple) -> NamedSharding:
        return self.replicated()

    def padded_batch(self, batch_size: int) -> int:
        """The batch size rounded up to a multiple of the batch shards (extra rows are masked out)."""
        return -(-batch_size // self.batch_shards) * self.batch_shards

    def distribute(self, array: np.ndarray, axis: int = 0) -> jax.Array:
        """A global array split over the batch axis (`axis` of `array`) from this process's rows.

        Every process passes the same global batch; each keeps its own contiguous block of rows,
        as `jax.make_array_from_process_local_data` expects.
        """
        spec = P(*([None] * axis), self.batch_dim_name)
        sharding = NamedSharding(self.mesh, spec)
        if jax.process_count() == 1:
            return jax.device_put(array, sharding)
        n, count, index = array.shape[axis], jax.process_count(), jax.process_index()
        if n % count:
            raise ValueError(f"A global batch of {n} rows cannot be split evenly over {count} processes.")
        local = np.take(array, np.arange(index * n // count, (index + 1) * n // count), axis=axis)
        return jax.make_array_from_process_local_data(sharding, local, array.shape)


class DataParallel(Distribution):
    """Every device holds all weights; each batch is split over the devices (Keras's DataParallel)."""

    def __init__(self, device_mesh: DeviceMesh | None = None, devices: Sequence | None = None):
        if device_mesh is None:
            devices = list(devices) if devices is not None else list_devices()
            device_mesh = DeviceMesh((len(devices),), ("batch",), devices)
        super().__init__(device_mesh, device_mesh.axis_names[0])


class ModelParallel(Distribution):
    """Batch split over `batch_dim_name`; weights laid out by `layout_map` (others replicated)."""

    def __init__(self, *, layout_map: LayoutMap, batch_dim_name: str | None = None, device_mesh=None):
        if not isinstance(layout_map, LayoutMap):
            raise TypeError(f"`layout_map` must be a keras.distribution.LayoutMap. Received: {layout_map!r}")
        mesh = device_mesh or layout_map.device_mesh
        super().__init__(mesh, batch_dim_name or mesh.axis_names[0])
        self.layout_map = layout_map

    def weight_sharding(self, path: str, shape: tuple) -> NamedSharding:
        layout = self.layout_map.layout_for(path)
        if layout is None:
            return self.replicated()
        if len(layout) != len(shape):
            raise ValueError(f"Layout {layout} for weight '{path}' has {len(layout)} axes, but the weight "
                             f"has shape {shape}.")
        for axis, size in zip(layout, shape):
            if axis is not None and size % self.device_mesh.shape[self.device_mesh.axis_names.index(axis)]:
                raise ValueError(f"Weight '{path}' of shape {shape} cannot be split over mesh axis '{axis}' "
                                 f"of size {self.device_mesh.shape[self.device_mesh.axis_names.index(axis)]}.")
        return NamedSharding(self.mesh, P(*layout))


_current: dict[str, Distribution | None] = {"distribution": None}


def set_distribution(value: Distribution | None) -> None:
    """Sets the distribution used by models compiled afterwards (None: one device)."""
    if value is not None and not isinstance(value, Distribution):
        raise TypeError(f"Expected a keras.distribution.Distribution or None. Received: {value!r}")
    _current["distribution"] = value


def distribution() -> Distribution | None:
    return _current["distribution"]


def initialize(job_addresses: str | None = None, num_processes: int | None = None,
               process_id: int | None = None, **kwargs: Any) -> None:
    """Starts JAX's multi-process runtime, like `keras.distribution.initialize`.

    Arguments default to the environment variables Keras reads: `KERAS_DISTRIBUTION_JOB_ADDRESSES`
    (the first address is the coordinator), `KERAS_DISTRIBUTION_NUM_PROCESSES`,
    `KERAS_DISTRIBUTION_PROCESS_ID`. On a cluster JAX detects (TPU pods, SLURM) all may be omitted.
    """
    import os
    job_addresses = job_addresses or os.environ.get("KERAS_DISTRIBUTION_JOB_ADDRESSES")
    if num_processes is None and "KERAS_DISTRIBUTION_NUM_PROCESSES" in os.environ:
        num_processes = int(os.environ["KERAS_DISTRIBUTION_NUM_PROCESSES"])
    if process_id is None and "KERAS_DISTRIBUTION_PROCESS_ID" in os.environ:
        process_id = int(os.environ["KERAS_DISTRIBUTION_PROCESS_ID"])
    coordinator = job_addresses.split(",")[0] if job_addresses else None
    jax.distributed.initialize(coordinator_address=coordinator, num_processes=num_processes,
                               process_id=process_id, **kwargs)
