"""Lambda: wraps an arbitrary expression (a function of the inputs) as a layer.

`get_config` writes the function as Keras 3 does: a Python lambda as
`{"class_name": "__lambda__", "config": {"code", "defaults", "closure"}}` (marshalled bytecode in
base64, which only the same Python version can read), a named function as Keras's function entry
(`{"module": "builtins", "class_name": "function", "config": name, ...}`, found again through
`custom_objects` or the registry). Loading a lambda runs code from the file, so `from_config`
refuses it with Keras's ValueError unless safe mode is off (`safe_mode=False` when loading, or
`keras.config.enable_unsafe_deserialization()`).
"""

from __future__ import annotations

import codecs
import inspect
import marshal
import types
from typing import Any, Callable

from kerasish import serialization
from kerasish.layers.base import Layer
from kerasish.serialization import layer_config

_REFUSED = (
    "Requested the deserialization of a `Lambda` layer whose `function` is a Python lambda. This carries a "
    "potential risk of arbitrary code execution and thus it is disallowed by default. If you trust the source of "
    "the artifact, you can override this error by passing `safe_mode=False` to the loading function, or calling "
    "`keras.config.enable_unsafe_deserialization().")


def _is_lambda(fn: Any) -> bool:
    return isinstance(fn, types.LambdaType) and fn.__name__ == "<lambda>"


def _function_config(fn: Any) -> Any:
    """A function as Lambda's config holds it (see the module docstring).

    Raises:
        ValueError: for something that is not callable.
    """
    if _is_lambda(fn):
        code = codecs.encode(marshal.dumps(fn.__code__), "base64").decode("ascii")
        closure = tuple(cell.cell_contents for cell in fn.__closure__) if fn.__closure__ else None
        return {"class_name": "__lambda__", "config": {"code": code, "defaults": fn.__defaults__, "closure": closure}}
    if callable(fn):
        return serialization.serialize_keras_object(fn)
    raise ValueError(f"Invalid input type for serialization. Received: {fn} of type {type(fn)}.")


def _function_from_config(entry: Any, safe_mode: bool, custom_objects) -> Any:
    """Reads back what `_function_config` wrote (other values are returned as they are)."""
    if not isinstance(entry, dict) or "class_name" not in entry:
        return entry
    if entry["class_name"] == "__lambda__":
        if safe_mode:
            raise ValueError(_REFUSED)
        inner = entry.get("config") or {}
        stored = {"config": {"value": [inner.get("code"), inner.get("defaults"), inner.get("closure")]}}
        with serialization.SafeModeScope(False):
            return serialization.load_lambda(stored)
    if entry["class_name"] == "function":
        name = entry.get("config")
        fn = serialization.get_registered_object(name, custom_objects)
        if fn is None:
            raise ValueError(f"Could not locate function '{name}'. Make sure custom functions are decorated with "
                             "`@keras.saving.register_keras_serializable()` or passed in `custom_objects`.")
        return fn
    from kerasish.saving.model_config import deserialize_layer
    return deserialize_layer(entry, custom_objects)


class Lambda(Layer):
    """`function(inputs, **arguments)` as a layer (the function may also take `mask` and `training`).

    Args:
        function: the function to apply.
        output_shape: the output shape without the batch axis, or a function of the input shape;
            inferred by tracing `function` when None.
        mask: a fixed output mask, or a function `(inputs, mask) -> mask`.
        arguments: extra keyword arguments for `function`.

    Example:
        >>> keras.layers.Lambda(lambda x: x ** 2)
    """

    def __init__(self, function: Callable, output_shape=None, mask=None, arguments: dict | None = None, **kwargs):
        super().__init__(**kwargs)
        if not callable(function):
            raise ValueError(f"Lambda: `function` must be callable. Received: function={function!r}")
        self.function = function
        self.arguments = dict(arguments or {})
        self.mask = mask
        self.supports_masking = mask is not None
        self._declared_output_shape = output_shape
        parameters = inspect.signature(function).parameters
        self._fn_expects_mask_arg = "mask" in parameters
        self._fn_expects_training_arg = "training" in parameters

    def call(self, inputs, mask=None, training=None):
        kwargs = dict(self.arguments)
        if self._fn_expects_mask_arg:
            kwargs["mask"] = mask
        if self._fn_expects_training_arg:
            kwargs["training"] = training
        return self.function(inputs, **kwargs)

    def compute_output_shape(self, input_shape):
        declared = self._declared_output_shape
        if declared is None:
            try:
                return super().compute_output_shape(input_shape)
            except Exception as err:  # any failure of the traced function means the same thing here
                raise NotImplementedError("We could not automatically infer the shape of the Lambda's output. Please "
                                          "specify the `output_shape` argument for this Lambda layer.") from err
        if callable(declared):
            return declared(input_shape)
        batch = input_shape[0] if isinstance(input_shape, (tuple, list)) and input_shape and \
            not isinstance(input_shape[0], (tuple, list)) else None
        return (batch, *declared)

    def compute_mask(self, inputs, mask=None):
        return self.mask(inputs, mask) if callable(self.mask) else self.mask

    def get_config(self):
        config = {"function": _function_config(self.function)}
        if self._declared_output_shape is not None:
            shape = self._declared_output_shape
            config["output_shape"] = _function_config(shape) if callable(shape) else shape
        if self.mask is not None:
            config["mask"] = _function_config(self.mask) if callable(self.mask) else \
                serialization.serialize_keras_object(self.mask)
        config["arguments"] = serialization.serialize_keras_object(self.arguments)
        return layer_config(self, **config)

    @classmethod
    def from_config(cls, config: dict, custom_objects=None, safe_mode: bool | None = None) -> "Lambda":
        """Rebuilds the layer; refuses stored Python lambdas in safe mode.

        Raises:
            ValueError: Keras's message for a stored lambda while safe mode is on; an unknown function name.
        """
        config = dict(config)
        safe = serialization.in_safe_mode() if safe_mode is None else bool(safe_mode)
        config["function"] = _function_from_config(config["function"], safe, custom_objects)
        for key in ("output_shape", "mask"):
            if key in config:
                value = _function_from_config(config[key], safe, custom_objects)
                if key == "output_shape" and isinstance(value, list):
                    value = tuple(value)
                config[key] = value
        return cls(**config)


__all__ = ["Lambda"]
