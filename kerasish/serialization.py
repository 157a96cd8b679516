"""Name lookup and config (de)serialization shared by the leaf modules.

Owns the global registry of user objects (`register_keras_serializable`) and the one `resolve`
function behind every leaf's `get` / `deserialize`. It knows nothing about what it resolves: each
leaf passes its own registry of names. It must not import any other kerasish module.

Serialized form (Keras 3 compatible): `{"class_name": ..., "config": {...}}`. Keras's extra keys
(`module`, `registered_name`) are accepted on the way in.
"""

from __future__ import annotations

import inspect
import re
from typing import Any, Callable, Mapping

_CUSTOM_OBJECTS: dict[str, Any] = {}  # "Package>Name" -> class or function
_CUSTOM_NAMES: dict[Any, str] = {}  # class or function -> "Package>Name"


def to_snake_case(name: str) -> str:
    """`GlorotUniform` -> `glorot_uniform`, `KLDivergence` -> `kl_divergence`, like Keras."""
    name = re.sub(r"\W+", "", name)
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def register_keras_serializable(package: str = "Custom", name: str | None = None) -> Callable:
    """Decorator registering a class or function as `"package>name"` for deserialization.

    Raises:
        ValueError: for a class without `get_config`.

    Example:
        >>> @register_keras_serializable(package="my_pkg")
        ... def scaled_tanh(x):
        ...     return 2.0 * jnp.tanh(x)
    """

    def decorator(obj: Any) -> Any:
        registered_name = f"{package}>{name if name is not None else obj.__name__}"
        if inspect.isclass(obj) and not hasattr(obj, "get_config"):
            raise ValueError("Cannot register a class that does not have a get_config() method.")
        _CUSTOM_OBJECTS[registered_name] = obj
        _CUSTOM_NAMES[obj] = registered_name
        return obj

    return decorator


def get_registered_name(obj: Any) -> str:
    """The `"package>name"` an object was registered under, else its `__name__`."""
    return _CUSTOM_NAMES.get(obj, getattr(obj, "__name__", type(obj).__name__))


def get_registered_object(
    name: str, custom_objects: Mapping[str, Any] | None = None, module_objects: Mapping[str, Any] | None = None
) -> Any | None:
    """Looks `name` up in the global registry, then `custom_objects`, then `module_objects`; None if absent."""
    for table in (_CUSTOM_OBJECTS, custom_objects or {}, module_objects or {}):
        if name in table:
            return table[name]
    return None


def serialize_object(obj: Any) -> dict[str, Any]:
    """`{"class_name": ..., "config": obj.get_config()}`; registered classes use their registered name.

    Raises:
        TypeError: if `obj` has no `get_config`.
    """
    if not hasattr(obj, "get_config"):
        raise TypeError(f"Cannot serialize {obj!r}: it has no get_config() method.")
    return {"class_name": get_registered_name(type(obj)), "config": obj.get_config()}


def resolve(
    identifier: Any,
    registry: Mapping[str, Any],
    kind: str,
    custom_objects: Mapping[str, Any] | None = None,
) -> Any:
    """Turns a name, a config dict, a class, an instance or a callable into an object.

    Args:
        identifier: a registry key (`"glorot_uniform"`, `"GlorotUniform"`, `"Custom>Foo"`), a dict
            `{"class_name": ..., "config": ...}`, a class (instantiated with no arguments), or an
            instance / callable (returned as is).
        registry: this module's names -> classes or functions.
        kind: what is being looked up, for the error message (`"loss"`, `"initializer"`, ...).
        custom_objects: extra names -> classes or functions, checked after the global registry.

    Returns:
        An instance for class names, the function itself for function names.

    Raises:
        ValueError: `Could not interpret {kind} identifier: ...` listing the accepted names.
    """
    obj = None
    if isinstance(identifier, str):
        obj = get_registered_object(identifier, custom_objects, registry)
    elif isinstance(identifier, Mapping) and "class_name" in identifier:
        class_name = identifier.get("registered_name") or identifier["class_name"]
        config = identifier.get("config")
        if class_name == "function" or identifier["class_name"] == "function":
            obj = get_registered_object(config, custom_objects, registry) if isinstance(config, str) else None
        else:
            cls = get_registered_object(class_name, custom_objects, registry)
            if cls is None and class_name != identifier["class_name"]:
                cls = get_registered_object(identifier["class_name"], custom_objects, registry)
            if inspect.isclass(cls):
                obj = cls.from_config(dict(config or {})) if hasattr(cls, "from_config") else cls(**(config or {}))
    elif callable(identifier):
        obj = identifier
    if inspect.isclass(obj):
        obj = obj()
    if obj is None or not callable(obj):
        names = ", ".join(sorted(registry))
        raise ValueError(f"Could not interpret {kind} identifier: {identifier}. Expected one of: {names}")
    return obj
