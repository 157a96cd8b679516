"""`keras.models.clone_model`: the same architecture with new layers, hence new weights.

Owns: Keras 3's cloning rules. A Sequential model gets each layer cloned in order (on a fresh
`Input` of the same shape, or on `input_tensors`); a functional model is re-run call by call with
cloned layers on new inputs (a shared layer is cloned once, `clone_function` decides each clone,
`call_function` each call, `recursive` clones nested models layer by layer); any other model is
rebuilt from its `get_config()`. Clones of compiled models are compiled the same way. Weights are
never copied: `clone.set_weights(model.get_weights())` does that.
"""

from __future__ import annotations

from typing import Any, Callable

import jax

from kerasish.layers.core import Input, InputLayer
from kerasish.layers.op_layer import OpLayer
from kerasish.layers.symbolic import KerasTensor
from kerasish.models.functional import Functional, _Ref
from kerasish.models.sequential import Sequential

__all__ = ["clone_model"]


def _default_clone(layer):
    if isinstance(layer, OpLayer):  # a keras.ops call on symbolic tensors: stateless, reused as it is
        return layer
    return type(layer).from_config(layer.get_config())


def _cloner(clone_function: Callable | None, call_function: Callable | None, recursive: bool,
            cache: dict[int, Any]) -> Callable:
    """`clone_function` (default: `from_config(get_config())`) applied once per layer object."""
    clone_function = clone_function or _default_clone
    if not callable(clone_function):
        raise ValueError(f"Expected `clone_function` argument to be a callable. Received: clone_function={clone_function}")

    def clone(layer):
        if id(layer) not in cache:
            if recursive and isinstance(layer, (Sequential, Functional)):
                cache[id(layer)] = clone_model(layer, clone_function=clone_function, recursive=True,
                                               call_function=None if isinstance(layer, Sequential) else call_function,
                                               cache=cache)
            else:
                cache[id(layer)] = clone_function(layer)
        return cache[id(layer)]
    return clone


def clone_model(model, input_tensors=None, clone_function: Callable | None = None,
                call_function: Callable | None = None, recursive: bool = False, **kwargs):
    """A new model with the same structure as `model` and freshly initialized weights.

    Args:
        model: a Sequential, functional or subclassed model.
        input_tensors: KerasTensors (`keras.Input`) to build the clone on, with `model.input`'s structure.
            For a Sequential model, one tensor, whose shape and dtype the clone's own `Input` takes.
            Default: new inputs of the same shapes, dtypes and names.
        clone_function: `layer -> new layer`, for each layer (default `layer.__class__.from_config(
            layer.get_config())`); e.g. return the layer itself to share it, or change its config.
        call_function: `(layer, *args, **kwargs) -> outputs`, for each call in a functional model (default
            `layer(*args, **kwargs)`).
        recursive: clone nested Sequential / functional models layer by layer (with `clone_function`)
            instead of passing them whole to `clone_function`.

    Returns:
        The clone (compiled like `model` if `model` is compiled).

    Raises:
        ValueError: for unknown keyword arguments, `clone_function` / `input_tensors` / `call_function`
            with a subclassed model, `call_function` with a Sequential model, or input tensors that are
            not KerasTensors in `model.input`'s structure.

    Example:
        >>> clone = keras.models.clone_model(model)
        >>> clone.set_weights(model.get_weights())
    """
    cache = kwargs.pop("cache", None)
    if kwargs:
        raise ValueError(f"Unexpected keyword argument(s): {tuple(kwargs.keys())}")
    cache = {} if cache is None else cache
    if isinstance(model, Sequential):
        if call_function is not None:
            raise ValueError("`call_function` argument is not supported with Sequential models.  In a Sequential "
                             "model, layers aren't called at model-construction time (they're merely listed). Use "
                             "`call_function` with Functional models only. Received model of type "
                             f"'{type(model).__name__}', with call_function={call_function}")
        clone = _clone_sequential(model, _cloner(clone_function, None, recursive, cache), input_tensors)
    elif isinstance(model, Functional):
        clone = _clone_functional(model, _cloner(clone_function, call_function, recursive, cache), call_function,
                                  input_tensors)
    else:
        if clone_function is not None or input_tensors is not None:
            raise ValueError("Arguments `clone_function` and `input_tensors` are only supported for Sequential models "
                             f"or Functional models. Received model of type '{type(model).__name__}', with "
                             f"clone_function={clone_function} and input_tensors={input_tensors}")
        if call_function is not None:
            raise ValueError("Argument `call_function` is only supported for Functional models. Received model of "
                             f"type '{type(model).__name__}', with call_function={call_function}")
        clone = type(model).from_config(model.get_config())
    if model.compiled:
        from kerasish.saving.compile_config import compile_config, compile_from_config
        config, extras = compile_config(model)
        if config is not None:
            compile_from_config(clone, config, extras)
    return clone


def _clone_sequential(model: Sequential, clone: Callable, input_tensors) -> Sequential:
    layers = [clone(layer) for layer in model.layers]
    source = model._input_layer
    if input_tensors is not None:
        if isinstance(input_tensors, (list, tuple)):
            if len(input_tensors) != 1:
                raise ValueError("Argument `input_tensors` must contain a single tensor.")
            input_tensors = input_tensors[0]
        if not isinstance(input_tensors, KerasTensor):
            raise ValueError(f"Argument `input_tensors` must be a KerasTensor. Received invalid value: "
                             f"input_tensors={input_tensors}")
        # kerasish's InputLayer cannot adopt an existing tensor: a new Input of its shape and dtype stands for it
        layers = [Input(batch_shape=input_tensors.shape, dtype=input_tensors.dtype,
                        name=source.name if source is not None else None)] + layers
    elif source is not None:
        layers = [Input(batch_shape=source.batch_shape, dtype=source.input_dtype, name=source.name)] + layers
    elif model._input_shape is not None:
        layers = [Input(batch_shape=model._input_shape)] + layers
    return Sequential(layers, name=model.name, trainable=model.trainable)


def _clone_functional(model: Functional, clone: Callable, call_function: Callable | None, input_tensors):
    def is_tensor(value):
        return isinstance(value, KerasTensor)

    if input_tensors is not None:
        if not all(is_tensor(t) for t in jax.tree.leaves(input_tensors, is_leaf=is_tensor)):
            raise ValueError(f"All entries in `input_tensors` must be KerasTensors. Received invalid values: "
                             f"inputs_tensors={input_tensors}")
        if jax.tree.structure(input_tensors, is_leaf=is_tensor) != jax.tree.structure(model.input, is_leaf=is_tensor):
            raise ValueError(f"`input_tensors` must have the same structure as model.input\nReference structure: "
                             f"{model.input}\nReceived structure: {input_tensors}")
    else:
        input_tensors = jax.tree.map(lambda t: Input(batch_shape=t.shape, dtype=t.dtype, name=t.name), model.input,
                                     is_leaf=is_tensor)
    tensors: dict[int, KerasTensor] = {}
    for ref, tensor in zip(jax.tree.leaves(model._input_refs, is_leaf=lambda v: isinstance(v, _Ref)),
                           jax.tree.leaves(input_tensors, is_leaf=is_tensor)):
        tensors[ref.index] = tensor

    def resolve(tree):
        return jax.tree.map(lambda v: tensors[v.index] if isinstance(v, _Ref) else v, tree,
                            is_leaf=lambda v: isinstance(v, _Ref))

    for index, args, kwargs, outputs in model._plan:
        layer = model._layers[index]
        if isinstance(layer, InputLayer):
            continue
        new_layer = clone(layer)
        args, kwargs = resolve(args), resolve(kwargs)
        results = call_function(new_layer, *args, **kwargs) if call_function else new_layer(*args, **kwargs)
        refs = jax.tree.leaves(outputs, is_leaf=lambda v: isinstance(v, _Ref))
        for ref, tensor in zip(refs, jax.tree.leaves(results, is_leaf=is_tensor), strict=True):
            tensors[ref.index] = tensor
    output_tensors = resolve(model._output_refs)
    cls = type(model) if _functional_constructor(type(model)) else Functional
    return cls(input_tensors, output_tensors, name=model.name)


def _functional_constructor(cls: type) -> bool:
    """Whether `cls(inputs, outputs, name=...)` builds a functional model (Keras's test of the signature)."""
    import inspect
    try:
        parameters = list(inspect.signature(cls.__init__).parameters)
    except (TypeError, ValueError):
        return False
    return cls is Functional or parameters[1:3] == ["inputs", "outputs"]
