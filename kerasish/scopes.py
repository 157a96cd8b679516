"""`keras.name_scope` and `keras.device`: context managers of Keras 3 (JAX backend).

`name_scope` keeps a stack of scope names whose joined path `current_path()` Keras prefixes to the
path of variables created inside (`with keras.name_scope("block"): v = keras.Variable(...)` has the
path "block/<name>"); it also opens `jax.named_scope`, so the names appear in profiles and HLO.
`device` makes a device (a "cpu:0"/"gpu:1" string or a `jax.Device`) JAX's default one.
"""

from __future__ import annotations

import threading

import jax

__all__ = ["current_path", "device", "name_scope"]

_local = threading.local()


def _stack() -> list:
    if not hasattr(_local, "stack"):
        _local.stack = []
    return _local.stack


class name_scope:  # noqa: N801 (Keras's name)
    """A named scope for variable paths (and JAX's named scopes).

    Args:
        name: the scope name, a string without "/".
        caller: the object opening the scope; with `deduplicate`, re-entering the same name for the
            same caller adds no level.
        deduplicate: see `caller`.
        override_parent: an absolute path that replaces the enclosing scopes' path.
    Raises:
        ValueError: `name` is not a string or contains "/".
    """

    def __init__(self, name, caller=None, deduplicate=True, override_parent=None):
        if not isinstance(name, str) or "/" in name:
            raise ValueError("Argument `name` must be a string and cannot contain character `/`. "
                             f"Received: name={name}")
        self.name = name
        self.caller = caller
        self.deduplicate = deduplicate
        if override_parent is None and deduplicate and getattr(caller, "_parent_path", None) is not None:
            override_parent = caller._parent_path
        self.override_parent = override_parent
        self._pushed = False
        self._jax_scope = None

    def __enter__(self):
        stack = _stack()
        if self.deduplicate and stack and self.caller is not None and stack[-1].caller is self.caller \
                and stack[-1].name == self.name:
            return self
        stack.append(self)
        self._pushed = True
        self._jax_scope = jax.named_scope(self.name)
        self._jax_scope.__enter__()
        return self

    def __exit__(self, *exc):
        if self._pushed:
            self._pushed = False
            stack = _stack()
            if stack and stack[-1] is self:
                stack.pop()
            self._jax_scope.__exit__(*exc)
        return False


def current_path() -> str:
    """The open scopes' names joined by "/" ("" outside any scope)."""
    parts: list[str] = []
    for scope in _stack():
        if scope.override_parent is not None:
            parts = [p for p in scope.override_parent.split("/") if p]
        parts.append(scope.name)
    return "/".join(parts)


def device(device_name):
    """A context manager placing new arrays on `device_name` ("cpu", "cpu:0", "gpu:1", or a
    `jax.Device`), through `jax.default_device`.

    Raises:
        ValueError: `device_name` is neither a string nor a `jax.Device`, or names no device.
    """
    if isinstance(device_name, jax.Device):
        return jax.default_device(device_name)
    if not isinstance(device_name, str):
        raise ValueError("Invalid value for argument `device_name`. Expected a string like 'gpu:0' or a "
                         f"`jax.Device` instance. Received: device_name='{device_name}'")
    kind, _, index = device_name.lower().partition(":")
    try:
        devices = jax.devices(kind)
        return jax.default_device(devices[int(index) if index else 0])
    except (RuntimeError, ValueError, IndexError) as error:
        raise ValueError(f"No JAX device matches device_name='{device_name}' "
                         f"(available: {[str(d) for d in jax.devices()]}).") from error
