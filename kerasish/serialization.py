"""Name lookup and config (de)serialization shared by the leaf modules, in Keras 3's format.

Owns the registry of user objects (`register_keras_serializable`, `get_custom_objects`,
`custom_object_scope`), the one `resolve` function behind every leaf's `get` / `deserialize`, the
safe-mode switch of loading, and `serialize_keras_object`, which writes any object in the exact form
Keras 3 writes into `config.json`:

    {"module": "keras.initializers", "class_name": "GlorotUniform", "config": {...}, "registered_name": None}

kerasish built-ins are written under the Keras module that has a class of the same name (so Keras 3
reads kerasish configs); user classes under their Python module with their registered name. It
knows nothing about what it resolves (each leaf passes its own registry of names) and must not
import any other kerasish module.
"""

from __future__ import annotations

import base64
import builtins
import binascii
import inspect
import marshal
import re
import types
from typing import Any, Callable, Mapping

_CUSTOM_OBJECTS: dict[str, Any] = {}  # "Package>Name" (or any key a user adds) -> class or function
_CUSTOM_NAMES: dict[Any, str] = {}  # class or function -> "Package>Name"
_SCOPES: list[dict[str, Any]] = []  # custom_object_scope stack; the innermost is last
_SAFE_MODE: dict[str, Any] = {"default": True, "scopes": []}

# kerasish module -> the Keras 3 module that exports a class of the same name.
_KERAS_MODULES = (
    ("kerasish.layers", "keras.layers"), ("kerasish.initializers", "keras.initializers"),
    ("kerasish.regularizers", "keras.regularizers"), ("kerasish.constraints", "keras.constraints"),
    ("kerasish.losses", "keras.losses"), ("kerasish.metrics", "keras.metrics"),
    ("kerasish.optimizers.schedules", "keras.optimizers.schedules"), ("kerasish.optimizers", "keras.optimizers"),
    ("kerasish.mixed_precision", "keras"), ("kerasish.models", "keras"), ("kerasish.random", "keras.random"),
)
# kerasish classes Keras 3 has no class for: written under kerasish's own module.
_KERASISH_ONLY = {"Maxout": "kerasish.layers", "OpLayer": "kerasish.layers", "Momentum": "kerasish.optimizers",
                  "OptaxOptimizer": "kerasish.optimizers"}
# Keras classes that are not exported: Keras writes their source module and their name as registered name.
_KERAS_PRIVATE = {"Functional": "keras.src.models.functional"}

LAMBDA_REFUSED = (
    "Requested the deserialization of a Python lambda. This carries a potential risk of arbitrary code "
    "execution and thus it is disallowed by default. If you trust the source of the artifact, you can "
    "override this error by passing `safe_mode=False` to the loading function, or calling "
    "`keras.config.enable_unsafe_deserialization()`.")


def to_snake_case(name: str) -> str:
    """`GlorotUniform` -> `glorot_uniform`, `KLDivergence` -> `kl_divergence`, like Keras."""
    name = re.sub(r"\W+", "", name)
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


# -- the registry ------------------------------------------------------------------------------------
def register_keras_serializable(package: str = "Custom", name: str | None = None) -> Callable:
    """Decorator registering a class or function as `"package>name"` for deserialization
    (also `keras.saving.register_keras_serializable` and `keras.utils.register_keras_serializable`).

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


def get_custom_objects() -> dict[str, Any]:
    """The live global dictionary of custom objects; entries added to it are found on load.
    Objects given to `custom_object_scope` are not in it."""
    return _CUSTOM_OBJECTS


class CustomObjectScope:
    """`with custom_object_scope({"MyLayer": MyLayer}):` makes the objects visible to every
    deserialization inside the block (`load_model`, `from_config`, `layers.deserialize`, ...).

    Example:
        >>> with keras.saving.custom_object_scope({"MyLayer": MyLayer}):
        ...     model = keras.models.load_model("m.keras")
    """

    def __init__(self, custom_objects: Mapping[str, Any] | None = None):
        if custom_objects is not None and not isinstance(custom_objects, Mapping):
            raise TypeError(f"`custom_objects` must be a dict of names to objects. Received: {custom_objects!r}")
        self.custom_objects = dict(custom_objects or {})

    def __enter__(self) -> "CustomObjectScope":
        _SCOPES.append({**(_SCOPES[-1] if _SCOPES else {}), **self.custom_objects})
        return self

    def __exit__(self, *exc) -> None:
        _SCOPES.pop()


custom_object_scope = CustomObjectScope


def get_registered_name(obj: Any) -> str:
    """The `"package>name"` an object was registered under, else its `__name__`."""
    return _CUSTOM_NAMES.get(obj, getattr(obj, "__name__", type(obj).__name__))


def get_registered_object(
    name: str, custom_objects: Mapping[str, Any] | None = None, module_objects: Mapping[str, Any] | None = None
) -> Any | None:
    """Looks `name` up in the innermost `custom_object_scope`, the global registry, `custom_objects`,
    then `module_objects` (Keras's order); None if absent."""
    if not isinstance(name, str):
        return None
    for table in (_SCOPES[-1] if _SCOPES else {}, _CUSTOM_OBJECTS, custom_objects or {}, module_objects or {}):
        if name in table:
            return table[name]
    return None


# -- safe mode -------------------------------------------------------------------------------------
class SafeModeScope:
    """Within the block, loading refuses (True) or allows (False) code stored in a file."""

    def __init__(self, safe_mode: bool | None = True):
        self.safe_mode = safe_mode

    def __enter__(self) -> "SafeModeScope":
        _SAFE_MODE["scopes"].append(self.safe_mode)
        return self

    def __exit__(self, *exc) -> None:
        _SAFE_MODE["scopes"].pop()


def in_safe_mode() -> bool:
    """Whether code-carrying configs (Python lambdas) are refused right now."""
    for value in reversed(_SAFE_MODE["scopes"]):
        if value is not None:
            return bool(value)
    return bool(_SAFE_MODE["default"])


def enable_unsafe_deserialization() -> None:
    """Allows lambdas stored in files everywhere (Keras's `keras.config.enable_unsafe_deserialization`)."""
    _SAFE_MODE["default"] = False


# -- writing Keras 3's format ----------------------------------------------------------------------
def keras_module(cls: type) -> str | None:
    """The `module` Keras 3 writes for `cls`: the public Keras module for built-ins, else the class's."""
    module = cls.__module__
    if module.startswith("kerasish.") and cls.__name__ in _KERASISH_ONLY:
        return _KERASISH_ONLY[cls.__name__]
    if module.startswith("kerasish.") and cls.__name__ in _KERAS_PRIVATE:
        return _KERAS_PRIVATE[cls.__name__]
    for prefix, keras_name in _KERAS_MODULES:
        if module == prefix or module.startswith(prefix + "."):
            return keras_name
    return None if module == "__main__" else module


def _is_builtin(cls: type) -> bool:
    return cls.__module__.startswith("kerasish.") and cls not in _CUSTOM_NAMES


def registered_name(cls: type) -> str | None:
    """The `registered_name` Keras 3 writes: None for built-ins (their own name for the few Keras does
    not export), the registered or class name for user classes."""
    if _is_builtin(cls):
        return cls.__name__ if cls.__name__ in _KERAS_PRIVATE else None
    return get_registered_name(cls)


def serialize_keras_object(obj: Any) -> Any:
    """`obj` as Keras 3 writes it: plain values as they are (tuples become lists only in JSON),
    containers item by item, functions by registered name, objects with `get_config` as
    `{"module", "class_name", "config", "registered_name"}` plus `build_config` / `compile_config`
    where the object has them.

    Raises:
        TypeError: for an object that has no `get_config` and is not a plain value or a function.
    """
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, (list, tuple)):
        items = [serialize_keras_object(item) for item in obj]
        return tuple(items) if isinstance(obj, tuple) else items
    if isinstance(obj, dict):
        return {key: serialize_keras_object(value) for key, value in obj.items()}
    if type(obj).__module__ == "numpy":
        return obj.tolist() if getattr(obj, "ndim", 0) else obj.item()
    if isinstance(obj, types.FunctionType):
        return _serialize_function(obj)
    if not hasattr(obj, "get_config"):
        raise TypeError(f"Cannot serialize object {obj!r} of type {type(obj).__name__}. To be serializable, "
                        "a class must implement the `get_config()` method.")
    config = obj.get_config()
    if not isinstance(config, dict):
        raise TypeError(f"The `get_config()` method of {obj!r} should return a dict. It returned: {config!r}")
    cls = type(obj)
    out = {"module": keras_module(cls), "class_name": cls.__name__,
           "config": {key: serialize_keras_object(value) for key, value in config.items()},
           "registered_name": registered_name(cls)}
    build_config = obj.get_build_config() if hasattr(obj, "get_build_config") else None
    if build_config is not None:
        out["build_config"] = build_config
    return out


def _serialize_function(fn: types.FunctionType) -> dict[str, Any]:
    """Keras 3 writes every plain function (built-in or registered) in this one form."""
    if fn.__name__ == "<lambda>":
        raise TypeError("Cannot serialize a Python lambda: kerasish does not write code into files. Use a named "
                        "function registered with `@keras.saving.register_keras_serializable()` instead.")
    return {"module": "builtins", "class_name": "function", "config": get_registered_name(fn),
            "registered_name": "function"}


def serialize_activation(fn: Any) -> Any:
    """An activation as a layer config holds it: a built-in's name (`"relu"`), Keras's function form
    for a user function, the full form for an object with `get_config`."""
    if isinstance(fn, types.FunctionType) and fn.__module__.startswith("kerasish.") and fn not in _CUSTOM_NAMES:
        return fn.__name__
    return serialize_keras_object(fn)


def serialize_object(obj: Any) -> dict[str, Any]:
    """The short form `{"class_name": ..., "config": obj.get_config()}` (registered classes use their
    registered name); leaf modules' `serialize` functions use it.

    Raises:
        TypeError: if `obj` has no `get_config`.
    """
    if not hasattr(obj, "get_config"):
        raise TypeError(f"Cannot serialize {obj!r}: it has no get_config() method.")
    return {"class_name": get_registered_name(type(obj)), "config": obj.get_config()}


def layer_config(layer: Any, /, **fields: Any) -> dict[str, Any]:
    """A built-in layer's config as Keras 3 writes it: name, trainable, the dtype policy as a
    `DTypePolicy` dict, the activity regularizer (when set), then the layer's own `fields`."""
    config = {"name": layer.name, "trainable": layer.trainable,
              "dtype": serialize_keras_object(layer.dtype_policy)}
    if getattr(layer, "activity_regularizer", None) is not None and "activity_regularizer" not in fields:
        config["activity_regularizer"] = serialize_keras_object(layer.activity_regularizer)
    config.update(fields)
    return config


def weight_args_config(layer: Any, *roles: str, activity: bool = False, extra_initializers=()) -> dict[str, Any]:
    """`{role}_initializer`, `{role}_regularizer` and `{role}_constraint` of each weight role (`"kernel"`,
    `"bias"`) in Keras's key order; `activity_regularizer` after the regularizers when `activity`, and
    `extra_initializers` (attribute names) after the roles' initializers."""
    config = {f"{role}_initializer": serialize_keras_object(getattr(layer, f"{role}_initializer")) for role in roles}
    config.update({name: serialize_keras_object(getattr(layer, name)) for name in extra_initializers})
    config.update({f"{role}_regularizer": serialize_keras_object(getattr(layer, f"{role}_regularizer"))
                   for role in roles})
    if activity:
        config["activity_regularizer"] = serialize_keras_object(layer.activity_regularizer)
    config.update({f"{role}_constraint": serialize_keras_object(getattr(layer, f"{role}_constraint"))
                   for role in roles})
    return config


def pop_keras_only(config: Mapping[str, Any], cls_name: str, defaults: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of `config` without the keys Keras 3 writes for features kerasish does not have;
    each must hold its default (Keras's `quantization_config=None`, `renorm=False`, ...).

    Raises:
        ValueError: naming the key and its value when a feature is in use.
    """
    config = dict(config)
    for key, default in defaults.items():
        value = config.pop(key, default)
        if value != default:
            raise ValueError(f"{cls_name}: `{key}={value!r}` is not supported by kerasish (only the default "
                             f"{key}={default!r} is).")
    return config


# -- reading -------------------------------------------------------------------------------------------
def load_lambda(config: Mapping[str, Any]) -> types.FunctionType:
    """The Python lambda a Keras config stores as `{"class_name": "__lambda__", "config": {"value": ...}}`
    (marshalled bytecode, defaults, closure). This runs code from the file, so it is refused unless safe
    mode is off (`safe_mode=False` or `enable_unsafe_deserialization()`).

    Raises:
        ValueError: Keras's message in safe mode; a description of the damage for a malformed entry.
    """
    if in_safe_mode():
        raise ValueError(LAMBDA_REFUSED)
    value = (config.get("config") or {}).get("value")
    code, defaults, closure = (value, None, None) if isinstance(value, str) else (list(value or []) + [None] * 3)[:3]
    try:
        compiled = marshal.loads(base64.b64decode(code.encode("ascii")))
    except (AttributeError, binascii.Error, EOFError, ValueError, TypeError) as e:
        raise ValueError(f"The stored lambda cannot be read: its bytecode is damaged or was written by another "
                         f"Python version ({e}).") from None
    if not isinstance(compiled, types.CodeType):
        raise ValueError(f"The stored lambda holds {type(compiled).__name__}, not Python bytecode.")
    cells = None if closure is None else tuple(types.CellType(v) for v in closure)
    return types.FunctionType(compiled, {"__builtins__": builtins}, compiled.co_name,
                              None if defaults is None else tuple(defaults), cells)


def resolve(
    identifier: Any,
    registry: Mapping[str, Any],
    kind: str,
    custom_objects: Mapping[str, Any] | None = None,
) -> Any:
    """Turns a name, a config dict, a class, an instance or a callable into an object.

    Args:
        identifier: a registry key (`"glorot_uniform"`, `"GlorotUniform"`, `"Custom>Foo"`), a dict
            `{"class_name": ..., "config": ...}` (Keras's `module` / `registered_name` keys are
            accepted), a class (instantiated with no arguments), or an instance / callable (returned
            as is).
        registry: this module's names -> classes or functions.
        kind: what is being looked up, for the error message (`"loss"`, `"initializer"`, ...).
        custom_objects: extra names -> classes or functions, checked after the global registry.

    Returns:
        An instance for class names, the function itself for function names.

    Raises:
        ValueError: `Could not interpret {kind} identifier: ...` listing the accepted names, or
            Keras's message for a Python lambda stored in a config while in safe mode.
    """
    obj = None
    if isinstance(identifier, str):
        obj = get_registered_object(identifier, custom_objects, registry)
    elif isinstance(identifier, Mapping) and "class_name" in identifier:
        if identifier["class_name"] == "__lambda__":
            return load_lambda(identifier)
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
