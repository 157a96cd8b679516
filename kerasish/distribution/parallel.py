"""Keras 3's distributions on `jax.sharding`: `DataParallel`, `ModelParallel`, and the current choice.

Owns: where each array lives under a distribution (`NamedSharding`s for batches, parameters and
optimizer state), the distribution that `set_distribution` (or `scope()`) makes current, and
multi-process start-up. Must not: run training or move data itself; the engine asks for shardings
(`weight_sharding`, `replicated`) and the data path for per-process batch slices (`distribute`).
XLA inserts the gradient all-reduce from these shardings; there is no pmap.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from typing import Any, Iterator, Sequence

import jax
import numpy as np
from jax.sharding import NamedSharding, PartitionSpec as P

from kerasish.distribution.mesh import DeviceMesh, LayoutMap, TensorLayout, list_devices

__all__ = ["DataParallel", "Distribution", "ModelParallel", "distribute_tensor", "distribution", "initialize",
           "set_distribution"]

DEFAULT_BATCH_DIM_NAME = "batch"


class Distribution:
    """Base: a mesh and the name of its axis the batch is split over.

    Raises:
        ValueError: for a `batch_dim_name` that is not an axis of the mesh.
        NotImplementedError: for `auto_shard_dataset=False` in a multi-process run.
    """

    def __init__(self, device_mesh: DeviceMesh, batch_dim_name: str | None = None, auto_shard_dataset: bool = True):
        if batch_dim_name not in device_mesh.axis_names:
            raise ValueError(f"batch_dim_name '{batch_dim_name}' is not an axis of the mesh {device_mesh.axis_names}.")
        if not auto_shard_dataset and jax.process_count() > 1:
            raise NotImplementedError("auto_shard_dataset=False (each process passing its own part of the data) is not "
                                      "supported: every process passes the same global batches and keeps its rows.")
        self._device_mesh, self._batch_dim_name = device_mesh, batch_dim_name
        self._auto_shard_dataset = auto_shard_dataset
        self._num_processes, self._process_id = jax.process_count(), jax.process_index()

    # -- Keras's attributes ----------------------------------------------------------------------
    @property
    def device_mesh(self) -> DeviceMesh:
        return self._device_mesh

    @property
    def batch_dim_name(self) -> str:
        return self._batch_dim_name

    @property
    def auto_shard_dataset(self) -> bool:
        return self._auto_shard_dataset

    @property
    def num_processes(self) -> int:
        return self._num_processes

    @property
    def num_model_replicas(self) -> int:
        return self.batch_shards

    def get_data_layout(self, data_shape: Sequence[int]) -> TensorLayout:
        """The batch axis split over `batch_dim_name`, the rest whole."""
        return TensorLayout([self.batch_dim_name] + [None] * (len(data_shape) - 1), self.device_mesh)

    def get_variable_layout(self, variable) -> TensorLayout:
        """The variable's own layout, else the one for its path, else replicated."""
        layout = getattr(variable, "_layout", None) or self.get_tensor_layout(variable.path)
        return layout if layout is not None else TensorLayout([None] * len(variable.shape), self.device_mesh)

    def get_tensor_layout(self, path: str) -> TensorLayout | None:
        """The layout for a weight path; None (replicated) unless a subclass lays weights out."""
        return None

    @contextlib.contextmanager
    def scope(self) -> Iterator[None]:
        """Makes this distribution current inside the `with` block."""
        previous = distribution()
        set_distribution(self)
        try:
            yield
        finally:
            set_distribution(previous)

    # -- what the engine and the data path ask -------------------------------------------------
    @property
    def mesh(self):
        return self.device_mesh.jax_mesh

    @property
    def batch_shards(self) -> int:
        return self.device_mesh.axis_size(self.batch_dim_name)

    def batch_sharding(self) -> NamedSharding:
        return NamedSharding(self.mesh, P(self.batch_dim_name))

    def replicated(self) -> NamedSharding:
        return NamedSharding(self.mesh, P())

    def weight_sharding(self, path: str, shape: tuple) -> NamedSharding:
        """Where the weight at `path` lives: its `get_tensor_layout` on this mesh, else replicated."""
        layout = self.get_tensor_layout(path)
        if layout is None:
            return self.replicated()
        if len(layout.axes) != len(shape):
            raise ValueError(f"Layout {layout.axes} for weight '{path}' has {len(layout.axes)} axes, but the weight "
                             f"has shape {shape}.")
        for axis, size in zip(layout.axes, shape):
            if axis is not None and size % self.device_mesh.axis_size(axis):
                raise ValueError(f"Weight '{path}' of shape {shape} cannot be split over mesh axis '{axis}' of size "
                                 f"{self.device_mesh.axis_size(axis)}.")
        return NamedSharding(self.mesh, P(*layout.axes))

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

    def __repr__(self) -> str:
        return f"<{type(self).__name__} device_mesh={self.device_mesh}>"


class DataParallel(Distribution):
    """Every device holds all weights; each batch is split over the devices.

    Args:
        device_mesh: a mesh whose first axis splits the batch (a warning if it has more axes).
        devices: devices for a 1D mesh named "batch" (when `device_mesh` is not given).
        auto_shard_dataset: as in Keras; only True in multi-process runs.

    Raises:
        ValueError: for a `device_mesh` that is not a `DeviceMesh`.
    """

    def __init__(self, device_mesh: DeviceMesh | None = None, devices: Sequence | None = None,
                 auto_shard_dataset: bool = True):
        if device_mesh is not None:
            if not isinstance(device_mesh, DeviceMesh):
                raise ValueError(f"Expect `mesh` to be an instance of `DeviceMesh`. Received: mesh={device_mesh} "
                                 f"(of type {type(device_mesh)})")
            if device_mesh.devices.ndim != 1:
                warnings.warn(f"Expect the input mesh to be 1D, but received mesh.devices.ndim="
                              f"{device_mesh.devices.ndim}. The first axis will be used for data-parallel sharding.",
                              stacklevel=2)
            super().__init__(device_mesh, device_mesh.axis_names[0], auto_shard_dataset)
            return
        devices = list(devices) if devices else list_devices()
        super().__init__(DeviceMesh((len(devices),), (DEFAULT_BATCH_DIM_NAME,), devices), DEFAULT_BATCH_DIM_NAME,
                         auto_shard_dataset)

    @property
    def num_model_replicas(self) -> int:
        return int(self.device_mesh.devices.size)


class ModelParallel(Distribution):
    """Batch split over `batch_dim_name`; weights laid out by `layout_map` (the others replicated).

    Takes its arguments as Keras 3 does: keyword-only, the mesh being `layout_map.device_mesh`.
    Keras 3 drops a `device_mesh=` argument (the older signature); here one that is not the layout
    map's mesh is an error instead of being ignored.

    Args:
        layout_map: a `LayoutMap` from weight paths to layouts.
        batch_dim_name: the mesh axis that splits the batch; default the mesh's first axis.
        auto_shard_dataset: as in Keras; only True in multi-process runs.

    Raises:
        ValueError: without a `LayoutMap`, with another mesh in `device_mesh`, or when in a multi-process run
            the processes cannot be spread evenly over the model replicas.
        TypeError: for any other keyword argument.

    Example:
        >>> mesh = DeviceMesh((2, 4), ("batch", "model"))
        >>> layout_map = LayoutMap(mesh)
        >>> layout_map[".*dense.*kernel"] = (None, "model")
        >>> set_distribution(ModelParallel(layout_map=layout_map, batch_dim_name="batch"))
    """

    def __init__(self, *, layout_map: LayoutMap | None = None, batch_dim_name: str | None = None,
                 auto_shard_dataset: bool = True, **kwargs: Any):
        device_mesh = kwargs.pop("device_mesh", None)
        if kwargs:
            raise TypeError(f"ModelParallel got unexpected keyword arguments: {sorted(kwargs)}")
        if layout_map is None:
            raise ValueError("You must specify a layout_map argument.")
        if not isinstance(layout_map, LayoutMap):
            raise ValueError(f"Argument `layout_map` must be a `LayoutMap` instance. Received: layout_map={layout_map}")
        if device_mesh is not None and device_mesh is not layout_map.device_mesh:
            raise ValueError("ModelParallel takes its mesh from `layout_map.device_mesh` (Keras 3 ignores "
                             f"`device_mesh=`). Received a different mesh: device_mesh={device_mesh}, "
                             f"layout_map.device_mesh={layout_map.device_mesh}")
        mesh = layout_map.device_mesh
        super().__init__(mesh, batch_dim_name or mesh.axis_names[0], auto_shard_dataset)
        self._layout_map = layout_map
        if self.num_processes > 1 and self.num_processes > self.num_model_replicas \
                and self.num_processes % self.num_model_replicas:
            raise ValueError("If `num_processes` is greater than `num_model_replicas`, `num_processes` must be "
                             f"divisible by `num_model_replicas`. Got num_processes={self.num_processes}, "
                             f"num_model_replicas={self.num_model_replicas}.")

    @property
    def layout_map(self) -> LayoutMap:
        return self._layout_map

    def get_tensor_layout(self, path: str) -> TensorLayout | None:
        return self._layout_map[path]


_current: dict[str, Distribution | None] = {"distribution": None}


def set_distribution(value: Distribution | None) -> None:
    """Sets the distribution used by models compiled afterwards (None: one device)."""
    if value is not None and not isinstance(value, Distribution):
        raise TypeError(f"Expected a keras.distribution.Distribution or None. Received: {value!r}")
    _current["distribution"] = value


def distribution() -> Distribution | None:
    """The current distribution (None: one device)."""
    return _current["distribution"]


def distribute_tensor(tensor, layout: TensorLayout):
    """`tensor` laid out as `layout` says: a sharding constraint inside a compiled function, a placement
    outside one. KerasTensors (symbolic) are returned as they are."""
    from kerasish.layers.symbolic import KerasTensor
    if isinstance(tensor, KerasTensor):
        return tensor
    sharding = layout.backend_layout
    if isinstance(tensor, jax.core.Tracer):
        return jax.lax.with_sharding_constraint(tensor, sharding)
    return jax.device_put(tensor, sharding)


def initialize(job_addresses: str | None = None, num_processes: int | None = None,
               process_id: int | None = None, **kwargs: Any) -> None:
    """Starts JAX's multi-process runtime, like `keras.distribution.initialize`.

    Arguments default to the environment variables Keras reads: `KERAS_DISTRIBUTION_JOB_ADDRESSES`
    (the first address is the coordinator), `KERAS_DISTRIBUTION_NUM_PROCESSES`,
    `KERAS_DISTRIBUTION_PROCESS_ID`. On a cluster JAX detects (TPU pods, SLURM) all may be omitted.
    """
    job_addresses = job_addresses or os.environ.get("KERAS_DISTRIBUTION_JOB_ADDRESSES")
    if num_processes is None and "KERAS_DISTRIBUTION_NUM_PROCESSES" in os.environ:
        num_processes = int(os.environ["KERAS_DISTRIBUTION_NUM_PROCESSES"])
    if process_id is None and "KERAS_DISTRIBUTION_PROCESS_ID" in os.environ:
        process_id = int(os.environ["KERAS_DISTRIBUTION_PROCESS_ID"])
    coordinator = job_addresses.split(",")[0] if job_addresses else None
    jax.distributed.initialize(coordinator_address=coordinator, num_processes=num_processes,
                               process_id=process_id, **kwargs)
