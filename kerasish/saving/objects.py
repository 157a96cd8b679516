"""`keras.saving.deserialize_keras_object`: any entry Keras 3 (or `serialize_keras_object`) writes,
back to its object.

Plain values and containers come back item by item; Keras's special entries (`__numpy__`,
`__tensor__`, `__bytes__`, `__slice__`, `__ellipsis__`) as the values they stand for; a function
entry as the registered, custom or built-in function of that name; a class entry through the family
its `module` names (`keras.regularizers` -> `kerasish.regularizers.deserialize`, ...), a registered or
custom class through its own `from_config`, and layers and models through `deserialize_layer`.

Owns: that dispatch. Must not: import modules named in a config (classes come from kerasish, the
registry or `custom_objects` only), or run stored code (lambdas are refused in safe mode).
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from kerasish import serialization
from kerasish.saving.model_config import UnknownObjectError, deserialize_layer, refuse_code


def _families() -> tuple[tuple[str, Any], ...]:
    """(Keras module, the kerasish `deserialize` of that family), most specific module first."""
    from kerasish import constraints, initializers, losses, metrics, optimizers, regularizers
    from kerasish.optimizers import schedules
    return (("keras.optimizers.schedules", schedules.deserialize), ("keras.regularizers", regularizers.deserialize),
            ("keras.initializers", initializers.deserialize), ("keras.constraints", constraints.deserialize),
            ("keras.losses", losses.deserialize), ("keras.metrics", metrics.deserialize),
            ("keras.optimizers", optimizers.deserialize))


def _function(entry: Mapping[str, Any], custom_objects) -> Any:
    """Keras's `{"class_name": "function", "config": name, ...}`: a registered or custom function
    first, then kerasish's activations, losses and metrics of that name."""
    name = entry.get("config")
    if not isinstance(name, str):
        raise TypeError(f"Expected 'config' to be a non-null str for a function class name. Received: {entry!r}")
    for key in (entry.get("registered_name"), name):
        found = serialization.get_registered_object(key, custom_objects)
        if found is not None:
            return found
    from kerasish import activations, losses, metrics
    for module in (activations, losses, metrics):
        fn = getattr(module, name, None)
        if callable(fn) and not isinstance(fn, type):
            return fn
    raise UnknownObjectError(f"Unknown function: '{name}' (module {entry.get('module')!r}). Register it with "
                             "`@keras.saving.register_keras_serializable()` or pass it in `custom_objects`.")


def _special(class_name: str, inner: Any, custom_objects, safe_mode: bool) -> Any:
    if class_name in ("__numpy__", "__tensor__"):
        value = np.array(inner["value"], dtype=inner["dtype"])
        if class_name == "__tensor__":
            import jax.numpy as jnp
            return jnp.asarray(value)
        return value
    if class_name == "__bytes__":
        return inner["value"].encode("utf-8")
    if class_name == "__ellipsis__":
        return Ellipsis
    if class_name == "__slice__":
        return slice(*(deserialize_keras_object(inner[k], custom_objects, safe_mode) for k in ("start", "stop", "step")))
    raise ValueError(f"kerasish cannot rebuild Keras's '{class_name}' entries (TensorFlow-only or code). "
                     f"Received: {inner!r}")


def _class_entry(entry: Mapping[str, Any], custom_objects) -> Any:
    from kerasish.layers.base import Layer
    for key in (entry.get("registered_name"), entry.get("class_name")):
        cls = serialization.get_registered_object(key, custom_objects)
        if isinstance(cls, type):
            if issubclass(cls, Layer):
                return deserialize_layer(entry, custom_objects)
            with serialization.CustomObjectScope(custom_objects):
                return cls.from_config(dict(entry.get("config") or {}))
    module = entry.get("module") or ""
    for prefix, deserialize in _families():
        if module == prefix or module.startswith(prefix + "."):
            with serialization.CustomObjectScope(custom_objects):
                return deserialize(dict(entry), custom_objects=custom_objects)
    return deserialize_layer(entry, custom_objects)


def deserialize_keras_object(config: Any, custom_objects: Mapping[str, Any] | None = None,
                             safe_mode: bool = True, **kwargs) -> Any:
    """Rebuilds whatever `keras.saving.serialize_keras_object` (or Keras 3) wrote.

    Example:
        >>> entry = keras.saving.serialize_keras_object(keras.regularizers.L1(0.005))
        >>> keras.saving.deserialize_keras_object(entry)  # an L1 regularizer, l1=0.005

    Raises:
        ValueError: for unknown keyword arguments, a Python lambda in safe mode, or an entry kerasish
            cannot rebuild (TensorFlow type specs).
        UnknownObjectError: for a class or function that is not built in, registered, nor custom.
    """
    if kwargs:
        raise ValueError(f"Invalid keyword arguments: {sorted(kwargs)}")
    with serialization.SafeModeScope(safe_mode):
        if config is None or isinstance(config, (bool, int, float, str)):
            return config
        if isinstance(config, (list, tuple)):
            return [deserialize_keras_object(item, custom_objects, safe_mode) for item in config]
        if not isinstance(config, Mapping):
            raise TypeError(f"Could not parse config: {config!r}")
        if "class_name" not in config or "config" not in config:
            return {key: deserialize_keras_object(value, custom_objects, safe_mode) for key, value in config.items()}
        refuse_code(config)
        class_name, inner = config["class_name"], config["config"]
        if class_name.startswith("__") and class_name.endswith("__") and class_name != "__lambda__":
            return _special(class_name, inner, custom_objects, safe_mode)
        if class_name == "function":
            return _function(config, custom_objects)
        return _class_entry(config, custom_objects)
