"""Layers and models <-> Keras 3's `config.json`: classes found by name, never by running code.

A layer is `{"module", "class_name", "config", "registered_name", "build_config"?}`; a Sequential's
config lists its layers (an `InputLayer` entry first when the input shape is known) and its
`build_input_shape`; the top-level model adds `compile_config`. Classes come only from the
registry (`register_keras_serializable`, `custom_object_scope`), `custom_objects`, and kerasish's
own layers and models; a config naming anything else is refused with `UnknownObjectError` (a
ValueError that is also a TypeError, the type Keras raises). A Python lambda anywhere in a
config is refused in safe mode, with Keras's message.

Owns: Sequential's config in Keras's format, layer/model (de)serialization with build configs.
Functional models: `Functional.get_config` / `Functional.from_config(config, custom_objects)`
(the functional API's own module) are called through the same path. Must not: touch weights.
"""

from __future__ import annotations

from typing import Any, Mapping

from kerasish import serialization
from kerasish.layers.base import Layer
from kerasish.serialization import CustomObjectScope, serialize_keras_object


class UnknownObjectError(ValueError, TypeError):
    """A config names a class that is neither built in, registered, nor in `custom_objects`."""


# -- finding classes ------------------------------------------------------------------------------------
def _builtin_classes() -> dict[str, type]:
    from kerasish import layers, models
    out = {name: getattr(layers, name) for name in layers.__all__
           if isinstance(getattr(layers, name), type) and issubclass(getattr(layers, name), Layer)}
    out.update({name: getattr(models, name) for name in models.__all__ if isinstance(getattr(models, name), type)})
    return out


def find_class(config: Mapping[str, Any], custom_objects: Mapping[str, Any] | None, what: str = "layer") -> type:
    """The class a `{"class_name", "registered_name", "module"}` entry names.

    Raises:
        UnknownObjectError: when no registered, custom or built-in class has that name.
    """
    class_name = config.get("class_name")
    registered = config.get("registered_name")
    module = config.get("module") or ""
    for name in (registered, class_name):
        cls = serialization.get_registered_object(name, custom_objects)
        if isinstance(cls, type):
            return cls
    builtins = _builtin_classes()
    if class_name in builtins and (not module or module.split(".")[0] in ("keras", "kerasish")):
        return builtins[class_name]
    raise UnknownObjectError(
        f"Unknown {what}: '{class_name}' (module {config.get('module')!r}). Please ensure you are using a "
        "`keras.utils.custom_object_scope` and that this object is included in the scope, or pass it in "
        "`custom_objects`, or register it with `@keras.saving.register_keras_serializable()`. kerasish never "
        "imports modules named in a file.")


def refuse_code(config: Any, path: str = "config") -> None:
    """Raises Keras's ValueError if `config` stores a Python lambda anywhere and safe mode is on."""
    if not serialization.in_safe_mode():
        return
    if isinstance(config, dict):
        if config.get("class_name") == "Lambda" and isinstance(config.get("config"), dict):
            return  # Lambda.from_config refuses its stored lambdas itself, with Keras's Lambda wording
        if config.get("class_name") == "__lambda__":
            raise ValueError(f"{serialization.LAMBDA_REFUSED} (found at {path})")
        for key, value in config.items():
            refuse_code(value, f"{path}.{key}")
    elif isinstance(config, (list, tuple)):
        for i, value in enumerate(config):
            refuse_code(value, f"{path}[{i}]")


# -- layers ---------------------------------------------------------------------------------------------
def _overrides_build(layer: Layer) -> bool:
    return type(layer).build is not Layer.build


def build_config(layer: Layer) -> dict | None:
    """Keras's `get_build_config()`: the input shape the layer was built for (layers with a `build`)."""
    from kerasish.models import Sequential
    if isinstance(layer, Sequential):
        return None if layer._input_shape is None or not layer.built else {"input_shape": list(layer._input_shape)}
    if not layer.built or layer._build_shape is None or not _overrides_build(layer):
        return None
    return {"input_shape": _shape(layer._build_shape)}


def _shape(shape, leaf=list):
    """A (possibly nested: list or dict of) shape with each leaf shape made a `leaf` (list for JSON)."""
    if isinstance(shape, dict):
        return {k: _shape(v, leaf) for k, v in shape.items()}
    if isinstance(shape, (list, tuple)) and shape and isinstance(shape[0], (list, tuple, dict)):
        return [_shape(s, leaf) for s in shape]
    return leaf(shape)


def serialize_layer(layer: Layer) -> dict[str, Any]:
    """A layer (or model) as one entry of Keras's `config.json`."""
    cls = type(layer)
    config = layer.get_config()
    if not isinstance(config, dict):
        raise TypeError(f"The `get_config()` method of {layer!r} should return a dict. It returned: {config!r}")
    entry = {"module": serialization.keras_module(cls), "class_name": cls.__name__,
             "config": serialize_keras_object(config), "registered_name": serialization.registered_name(cls)}
    user_build_config = user_hook(layer, "get_build_config", own_too=True)
    shape = user_build_config() if user_build_config is not None else build_config(layer)
    if shape is not None:
        entry["build_config"] = shape
    return entry


def user_hook(obj, name: str, own_too: bool = False):
    """`obj.<name>` when the user's class defines that Keras saving hook (`get_build_config`,
    `build_from_config`, `get_compile_config`, `compile_from_config`, `save_assets`, ...), else None:
    kerasish's own classes keep their built-in handling, unless `own_too` (a kerasish layer that
    defines Keras's build hooks, as MultiHeadAttention does, writes and reads Keras's build config)."""
    for klass in type(obj).__mro__:
        if name in vars(klass):
            return None if klass.__module__.startswith("kerasish.") and not own_too else getattr(obj, name)
    return None


def deserialize_layer(config: Mapping[str, Any], custom_objects: Mapping[str, Any] | None = None) -> Layer:
    """Rebuilds a layer (or model) from `serialize_layer`'s output (or Keras's), built if the entry
    has a `build_config`.

    Raises:
        UnknownObjectError: for a class that is not built in, registered, nor in `custom_objects`.
        ValueError: for a malformed entry, or a Python lambda in safe mode.
    """
    if not isinstance(config, Mapping) or "class_name" not in config:
        raise ValueError(f"Expected a layer config dict with 'class_name' and 'config'. Received: {config!r}")
    refuse_code(config)
    cls = find_class(config, custom_objects)
    inner = config.get("config") or {}
    if not isinstance(inner, dict):
        raise ValueError(f"The config of '{config['class_name']}' must be a dict. Received: {inner!r}")
    policy = inner.get("dtype")
    if isinstance(policy, dict) and policy.get("class_name") not in (None, "DTypePolicy", "Policy"):
        raise ValueError(f"Layer '{inner.get('name')}' uses the dtype policy {policy.get('class_name')!r} "
                         f"({(policy.get('config') or {})}); kerasish has DTypePolicy only (no quantization).")
    with CustomObjectScope(custom_objects):
        if _takes_custom_objects(cls):
            layer = cls.from_config(dict(inner), custom_objects=custom_objects)
        else:
            layer = cls.from_config(dict(inner))
    build_from_config = user_hook(layer, "build_from_config", own_too=True)
    if config.get("build_config") is not None and build_from_config is not None:
        build_from_config(config["build_config"])  # the user's own (e.g. `build` with more arguments)
        return layer
    shape = (config.get("build_config") or {}).get("input_shape")
    if shape is not None and not layer.built:
        _build(layer, _shape(shape, tuple))
    return layer


def _takes_custom_objects(cls: type) -> bool:
    import inspect
    try:
        return "custom_objects" in inspect.signature(cls.from_config).parameters
    except (TypeError, ValueError):
        return False


def _build(layer: Layer, shape) -> None:
    from kerasish.layers import context, symbolic
    from kerasish.models import Model
    if isinstance(layer, Model):
        layer.build(shape)
    elif _overrides_build(layer):  # as Keras's build_from_config: `build(input_shape)` itself
        with context.scope(context.CallContext(training=False, symbolic=True)):
            layer.build(shape)
        layer._build_shape, layer.built = shape, True
        if any(not sub.built for sub in layer._flatten_layers(include_self=False)):
            symbolic.build_layer(layer, shape)  # sublayers its build leaves to the first call
    else:
        symbolic.build_layer(layer, shape)


# -- Sequential -------------------------------------------------------------------------------------------
def sequential_config(model) -> dict[str, Any]:
    """A Sequential's `get_config()` as Keras 3.15 writes it."""
    layers = []
    if model._input_shape is not None:
        input_layer = model._input_layer
        layers.append({"module": "keras.layers", "class_name": "InputLayer", "config": {
            "batch_shape": list(model._input_shape),
            "dtype": input_layer.input_dtype if input_layer is not None else "float32",
            "sparse": False, "ragged": False,
            "name": input_layer.name if input_layer is not None else "input_layer", "optional": False},
            "registered_name": None})
    layers += [serialize_layer(layer) for layer in model._layers]
    config = {"name": model.name, "trainable": model.trainable,
              "dtype": serialize_keras_object(model.dtype_policy), "layers": layers}
    if model._input_shape is not None:
        config["build_input_shape"] = list(model._input_shape)
    return config


def sequential_from_config(cls, config: Mapping[str, Any], custom_objects: Mapping[str, Any] | None = None):
    """A Sequential (or subclass) from Keras's config; built when the config gives an input shape."""
    from kerasish.layers.core import InputLayer
    if not isinstance(config, Mapping) or not isinstance(config.get("layers"), list):
        raise ValueError(f"Expected a Sequential config dict with a 'layers' list. Received: {config!r}")
    model = cls(name=config.get("name"), trainable=config.get("trainable", True))
    for item in config["layers"]:
        layer = deserialize_layer(item, custom_objects)
        if isinstance(layer, InputLayer):
            model.add(layer)
        else:
            model.add(layer, rebuild=False)
    shape = config.get("build_input_shape") or model._input_shape
    if shape is not None and model._layers:
        model.build(tuple(shape))
    return model
