"""Keras 3's device vocabulary on `jax.sharding`: devices, `DeviceMesh`, `TensorLayout`, `LayoutMap`.

Owns: naming devices and their grid (a `jax.sharding.Mesh`), a tensor's layout over that grid (a
`NamedSharding`: one mesh axis name or None per tensor dimension) and the map from weight paths to
layouts, matched as Keras 3 matches them (the exact path, else keys as regular expressions that
must match the whole path; two matching keys are an error). Must not: place arrays or train;
`parallel` decides what goes where.
"""

from __future__ import annotations

import collections.abc
import math
import re
from typing import Any, Iterator, Sequence

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

__all__ = ["DeviceMesh", "LayoutMap", "TensorLayout", "get_device_count", "list_devices"]


def list_devices(device_type: str | None = None) -> list:
    """All devices of `device_type` ("cpu", "gpu", "tpu"; default: JAX's default backend), every process."""
    return list(jax.devices(device_type.lower()) if device_type else jax.devices())


def get_device_count(device_type: str | None = None) -> int:
    """The number of devices of `device_type` (default: JAX's default backend), every process."""
    return len(list_devices(device_type))


def _device(entry: Any):
    """A JAX device, from a device or Keras's "type:id" spelling (e.g. "cpu:0")."""
    if not isinstance(entry, str):
        return entry
    kind, _, index = entry.partition(":")
    matches = [d for d in jax.devices(kind.lower()) if str(d.id) == (index or "0")]
    if not matches:
        raise ValueError(f"Unknown device {entry!r}. Expected one of {[f'{d.platform}:{d.id}' for d in jax.devices()]}")
    return matches[0]


class DeviceMesh:
    """A named grid of devices, e.g. `DeviceMesh((2, 4), ("batch", "model"))`.

    Args:
        shape: the grid's shape; its product is the number of devices.
        axis_names: one name per axis of `shape`.
        devices: the devices (JAX devices or "cpu:0"-style names); default `list_devices()`.

    Raises:
        ValueError: for an empty shape, a shape and names of different lengths, or a device count that
            is not the shape's product.
    """

    def __init__(self, shape: Sequence[int], axis_names: Sequence[str], devices: Sequence | None = None):
        if not shape or not axis_names:
            raise ValueError(f"Shape and axis_names cannot be empty. Received: shape={shape}, axis_names={axis_names}")
        shape, axis_names = tuple(int(s) for s in shape), tuple(axis_names)
        if len(shape) != len(axis_names):
            raise ValueError(f"Shape and axis_names should have same size (they are mismatched). Received: "
                             f"shape={shape}, axis_names={axis_names}")
        devices = np.asarray([_device(d) for d in np.ravel(np.asarray(
            list_devices() if devices is None else devices, dtype=object))], dtype=object)
        if math.prod(shape) != devices.size:
            raise ValueError(f"Shape does not match the number of devices. Received: shape={shape}; "
                             f"devices.shape={devices.shape}")
        self._shape, self._axis_names = shape, axis_names
        self._devices = devices.reshape(shape)
        self.jax_mesh = Mesh(self._devices, axis_names)

    @property
    def shape(self) -> tuple[int, ...]:
        return self._shape

    @property
    def axis_names(self) -> tuple[str, ...]:
        return self._axis_names

    @property
    def devices(self) -> np.ndarray:
        return self._devices

    @property
    def backend_mesh(self) -> Mesh:
        """The `jax.sharding.Mesh`."""
        return self.jax_mesh

    def axis_size(self, name: str) -> int:
        return self._shape[self._axis_names.index(name)]

    def __repr__(self) -> str:
        return f"<DeviceMesh shape={self.shape}, axis_names={self.axis_names}>"


class TensorLayout:
    """How a tensor is split over a mesh: one mesh axis name (or None: not split) per dimension.

    Args:
        axes: e.g. `(None, "model")` splits a kernel's columns over the "model" axis.
        device_mesh: the mesh; may be set once later (a `LayoutMap` sets its own).

    Raises:
        ValueError: for axis names that are not in the mesh, or a mesh set twice.
    """

    def __init__(self, axes: Sequence[str | None], device_mesh: DeviceMesh | None = None):
        self._axes = tuple(axes)
        self._device_mesh = device_mesh
        self._validate_axes()

    @property
    def axes(self) -> tuple[str | None, ...]:
        return self._axes

    @property
    def device_mesh(self) -> DeviceMesh | None:
        return self._device_mesh

    @device_mesh.setter
    def device_mesh(self, device_mesh: DeviceMesh) -> None:
        if self._device_mesh is not None:
            raise ValueError(f"Cannot override device mesh value. Existing value is {self._device_mesh}")
        self._device_mesh = device_mesh
        self._validate_axes()

    def _validate_axes(self) -> None:
        if self._device_mesh is None:
            return
        unknown = {a for a in self._axes if a is not None} - set(self._device_mesh.axis_names)
        if unknown:
            raise ValueError(f"Invalid axis names for Layout: {sorted(unknown)} are not in the mesh. Valid axis names: "
                             f"{set(self._device_mesh.axis_names)}, Got {set(a for a in self._axes if a is not None)}")

    @property
    def backend_layout(self) -> NamedSharding:
        """The `jax.sharding.NamedSharding`."""
        if self._device_mesh is None:
            raise ValueError(f"{self} has no device mesh yet: pass `device_mesh=` or put it in a LayoutMap.")
        return NamedSharding(self._device_mesh.jax_mesh, P(*self._axes))

    def __repr__(self) -> str:
        return f"<TensorLayout axes={self.axes}, device_mesh={self.device_mesh}>"


class LayoutMap(collections.abc.MutableMapping):
    """Maps weight paths to `TensorLayout`s; keys are regular expressions over paths (e.g. `".*dense.*kernel"`).

    A lookup takes the exact key if there is one, else the one key that matches the whole path
    (`re.fullmatch`); no match gives None (the weight is replicated). Tuples of axis names are turned into
    `TensorLayout`s on this map's mesh.

    Raises:
        ValueError: a key set twice, a value that is neither a TensorLayout nor a tuple, axis names not in
            the mesh, or (on lookup) a path that several keys match.
    """

    def __init__(self, device_mesh: DeviceMesh):
        self._layout_map: dict[str, TensorLayout] = {}
        self._device_mesh = device_mesh

    @property
    def device_mesh(self) -> DeviceMesh:
        return self._device_mesh

    def __getitem__(self, key: str) -> TensorLayout | None:
        if key in self._layout_map:
            return self._layout_map[key]
        matches = [pattern for pattern in self._layout_map if re.fullmatch(pattern, key)]
        if len(matches) > 1:
            raise ValueError(f"Path '{key}' matches multiple layout specification keys: {matches}. Please make sure "
                             "each tensor/variable path only matches at most one layout specification key in the "
                             "LayoutMap.")
        return self._layout_map[matches[0]] if matches else None

    def __setitem__(self, key: str, layout) -> None:
        if not isinstance(key, str):
            raise TypeError(f"LayoutMap keys are regex strings over weight paths. Received: {key!r}")
        if key in self._layout_map:
            raise ValueError(f"{key} already exist in the LayoutMap with value {self._layout_map[key]}. Please make "
                             "sure to not use duplicated keys.")
        if isinstance(layout, (tuple, list)):
            layout = TensorLayout(axes=tuple(layout), device_mesh=None)
        if not isinstance(layout, TensorLayout):
            raise ValueError(f"{layout} should be a TensorLayout type, got {type(layout)}")
        if layout.device_mesh is None and self._device_mesh is not None:
            layout.device_mesh = self._device_mesh
        self._layout_map[key] = layout

    def __delitem__(self, key: str) -> None:
        del self._layout_map[key]

    def __len__(self) -> int:
        return len(self._layout_map)

    def __iter__(self) -> Iterator[str]:
        return iter(self._layout_map)
