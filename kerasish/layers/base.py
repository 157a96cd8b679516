"""The Layer: a Flax NNX module with Keras's API. One object, one graph.

A layer validates its config in `__init__`, creates its weights in `build(input_shape)` with
`add_weight` (each a `keras.Variable`, an NNX variable), computes in `call`, and describes itself in
`get_config`. Because the layer *is* the `nnx.Module` and its weights are attributes, everything
`call()` touches — nested layers in attributes, lists or dicts, raw Flax modules, seed generators —
is in the graph `nnx.split` sees, and so in what `jax.jit` sees.

Owns: building on first call, the training flag and autocast around `call`, weights in Keras's
order, losses (`add_loss`, activity and weight regularization), freezing. Must not: know about
models, compiling or fitting.
"""

from __future__ import annotations

import inspect
import itertools
import math
import warnings
from typing import Any, Iterator, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from kerasish import constraints as constraints_lib
from kerasish import mixed_precision
from kerasish import regularizers as regularizers_lib
from kerasish.layers import context, input_spec, masks
from kerasish.utils import compilation_cache, naming
from kerasish.variables import Variable

Shape = tuple[int | None, ...]
_SERIAL = itertools.count()  # creation order of layers and variables: Keras's tracking order


def normalize_shape(shape: Any, what: str = "shape") -> Shape:
    """Turns an int or a sequence of ints/None into a tuple; anything else is a TypeError."""
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        return (int(shape),)
    try:
        items = tuple(shape)
    except TypeError:
        raise TypeError(f"Expected `{what}` to be a tuple of integers. Received: {what}={shape!r}") from None
    out = []
    for d in items:
        if d is None:
            out.append(None)
        elif isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d >= 0:
            out.append(int(d))
        else:
            raise TypeError(
                f"Expected `{what}` to be a tuple of non-negative integers or None. Received: {what}={shape!r}")
    return tuple(out)


def positive_int(value: Any, name: str) -> int:
    """Keras's check for `units`, `filters` and friends."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(
            f"Received an invalid value for `{name}`, expected a positive integer. Received: {name}={value!r}")
    return int(value)


class _Stored:
    """Holds Python values on a layer outside the NNX graph's data (a static, by-identity leaf)."""
    __slots__ = ("values",)

    def __init__(self, values=()):
        self.values = list(values)


def _signature_flags(cls) -> tuple[bool, bool, bool, list[str]]:
    """Whether `cls.call` takes `training`, `mask`, and `**kwargs`, and its parameter names after
    `self` (cached per class)."""
    flags = cls.__dict__.get("_call_flags")
    if flags is None:
        params = inspect.signature(cls.call).parameters
        var_kw = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
        names = [name for name, p in params.items()
                 if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY, p.POSITIONAL_ONLY)][1:]
        flags = ("training" in params, "mask" in params, var_kw, names)
        setattr(cls, "_call_flags", flags)
    return flags


def _shape_of(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return type(value)(_shape_of(v) for v in value)
    if isinstance(value, dict):
        return {k: _shape_of(v) for k, v in value.items()}
    shape = getattr(value, "shape", None)
    return None if shape is None else tuple(shape)


def _auto_config(cls, args: tuple, kwargs: dict) -> "_Stored | None":
    """The constructor's arguments (defaults included, `name` left out) as Keras's automatic
    config, or None when they cannot be one (positional-only or `*args` arguments, values that are
    not plain)."""
    try:
        signature = inspect.signature(cls.__init__)
        bound = signature.bind(None, *args, **kwargs)
    except (TypeError, ValueError):
        return None
    parameters = list(signature.parameters.values())
    if any(p.kind is p.POSITIONAL_ONLY for p in parameters[1:]):
        return None
    bound.apply_defaults()
    arguments = dict(bound.arguments)
    arguments.pop(parameters[0].name)
    for p in parameters:
        if p.kind is p.VAR_KEYWORD:
            arguments.update(arguments.pop(p.name, {}))
        elif p.kind is p.VAR_POSITIONAL and arguments.pop(p.name, ()):
            return None
    arguments.pop("name", None)
    plain = (str, int, float, bool, type(None))

    def ok(value) -> bool:
        if isinstance(value, (list, tuple)):
            return all(ok(v) for v in value)
        if isinstance(value, dict):
            return all(isinstance(k, str) and ok(v) for k, v in value.items())
        return isinstance(value, plain)
    return _Stored([arguments]) if ok(arguments) else None


def _default_get_config(cls) -> bool:
    """Whether `cls` inherits the base `Layer.get_config` (no class between defines its own)."""
    for klass in cls.__mro__:
        if "get_config" in klass.__dict__:
            return klass is Layer or klass.__module__.startswith("flax")
    return True


class Layer(nnx.Module, pytree=False):
    """Base class of every kerasish layer (and model).

    Example:
        >>> class Linear(keras.layers.Layer):
        ...     def __init__(self, units=32, **kwargs):
        ...         super().__init__(**kwargs)
        ...         self.units = units
        ...     def build(self, input_shape):
        ...         self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="random_normal")
        ...     def call(self, inputs):
        ...         return keras.ops.matmul(inputs, self.w)
    """

    def __new__(cls, *args, **kwargs):
        instance = super().__new__(cls)
        if _default_get_config(cls):  # only layers without their own get_config need it
            vars(instance)["_auto_config"] = _auto_config(cls, args, kwargs)
        return instance

    def __init_subclass__(cls, **kwargs):
        # Every subclass keeps NNX's graph mode (attributes, lists and dicts traversed as they are).
        super().__init_subclass__(pytree=False, **kwargs)

    def __init__(self, *, activity_regularizer=None, trainable: bool = True, dtype: Any = None,
                 autocast: bool = True, name: str | None = None, **kwargs: Any):
        input_shape = kwargs.pop("input_shape", None)
        batch_input_shape = kwargs.pop("batch_input_shape", None)
        input_dim = kwargs.pop("input_dim", None)
        batch_size = kwargs.pop("batch_size", None)
        if kwargs:
            raise ValueError(f"Unrecognized keyword arguments passed to {type(self).__name__}: {kwargs}")
        if name is not None and not isinstance(name, str):
            raise TypeError(f"Expected `name` to be a string. Received: name={name!r}")
        self.name = name or naming.unique_name(naming.to_snake_case(type(self).__name__))
        self._trainable = bool(trainable)
        self.dtype_policy = mixed_precision.dtype_policy(dtype)
        self.autocast = bool(autocast)
        self.activity_regularizer = regularizers_lib.get(activity_regularizer)
        self.built = False
        self._serial = next(_SERIAL)
        self._eager_losses = _Stored()
        self._inbound_nodes = _Stored()  # calls on KerasTensors (functional graphs), in order
        self._build_shape: Any = None
        self._output_shape: Any = None
        # Keras 2 style `input_shape=` on the first layer is still accepted by Keras 3.
        self._declared_input_shape: Shape | None = None
        if batch_input_shape is not None:
            self._declared_input_shape = normalize_shape(batch_input_shape, "batch_input_shape")
        elif input_shape is not None:
            self._declared_input_shape = (batch_size, *normalize_shape(input_shape, "input_shape"))
        elif input_dim is not None:
            self._declared_input_shape = (batch_size, positive_int(input_dim, "input_dim"))

    # -- dtypes ------------------------------------------------------------------------------
    @property
    def dtype(self) -> str:
        """The dtype of the layer's weights (Keras: `layer.dtype` is the variable dtype)."""
        return self.dtype_policy.variable_dtype

    @property
    def variable_dtype(self) -> str:
        return self.dtype_policy.variable_dtype

    @property
    def compute_dtype(self) -> str:
        return self.dtype_policy.compute_dtype

    # -- what subclasses define -----------------------------------------------------------------
    def build(self, input_shape: Any = None) -> None:
        """Creates the weights for inputs of `input_shape` (batch dimension first)."""
        self.built = True

    def call(self, *args, **kwargs):
        raise NotImplementedError(f"Layer {type(self).__name__} does not have a `call()` method implemented.")

    def compute_output_shape(self, *args, **kwargs):
        """The output shape for inputs of the given shape, found by tracing `call` abstractly."""
        from kerasish.layers import symbolic
        return symbolic.output_shape(self, *args, **kwargs)

    @property
    def supports_masking(self) -> bool:
        """Whether the layer passes masks on (`compute_mask`): True for layers that define
        `compute_mask` or set `supports_masking = True` (on the class or the instance)."""
        value = self.__dict__.get("_supports_masking")
        return type(self).compute_mask is not Layer.compute_mask if value is None else value

    @supports_masking.setter
    def supports_masking(self, value: bool) -> None:
        self._supports_masking = bool(value)

    def _compile_key(self) -> Any:
        """Static (non-variable) data this layer's `call` bakes into compiled code, as a hashable
        value (None: nothing). When it changes (`adapt` of a lookup), the model's compiled functions
        are rebuilt."""
        return None

    def compute_mask(self, inputs, previous_mask=None):
        """The mask of the outputs given the inputs' mask (the default passes it on unchanged)."""
        return previous_mask

    def get_config(self) -> dict[str, Any]:
        """Keras's base config: `name`, `trainable`, the dtype policy, the activity regularizer.

        A subclass that does not define `get_config` gets its constructor's arguments too (Keras's
        automatic config), when they are plain values (str, int, float, bool, None and lists or
        dicts of them); otherwise asking for its config raises NotImplementedError, as in Keras."""
        from kerasish.serialization import layer_config
        config = {"name": self.name}
        if _default_get_config(type(self)):
            auto = self.__dict__.get("_auto_config")
            if auto is None:
                raise NotImplementedError(
                    f"Object {type(self).__name__} was created by passing non-serializable argument values in "
                    "`__init__()` (or positional-only / variadic positional arguments), and therefore the object "
                    "must override `get_config()` in order to be serializable. Please implement `get_config()` "
                    "returning `super().get_config()` updated with the constructor's arguments.")
            config.update(auto.values[0])
            parameters = inspect.signature(type(self).__init__).parameters
            takes_kwargs = "kwargs" in parameters and parameters["kwargs"].kind is inspect.Parameter.VAR_KEYWORD
            if "name" not in parameters and not takes_kwargs:
                config.pop("name")
        base = layer_config(self)
        base.pop("name")
        return {**config, **base}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "Layer":
        return cls(**config)

    # -- weights --------------------------------------------------------------------------------
    def add_weight(self, shape: Sequence[int] | None = None, initializer: Any = None, dtype: Any = None,
                   trainable: bool = True, autocast: bool = True, regularizer: Any = None,
                   constraint: Any = None, aggregation: str = "none", overwrite_with_gradient: bool = False,
                   name: str | None = None) -> Variable:
        """Creates a weight (a `keras.Variable`); assign it to an attribute to track it.

        `initializer` defaults to "glorot_uniform" for float weights and "zeros" otherwise, as in Keras.
        """
        if overwrite_with_gradient:
            raise ValueError("`overwrite_with_gradient=True` is not supported by kerasish.")
        shape = () if shape is None else normalize_shape(shape, "shape")
        if None in shape:
            raise ValueError(f"Cannot create weight '{name}' of layer '{self.name}' with an undefined "
                             f"dimension: shape={shape}.")
        dtype = dtype if dtype is not None else self.variable_dtype
        compilation_cache.ensure_enabled()  # weight initializers are compiled programs too
        if initializer is None:
            initializer = "glorot_uniform" if jnp.issubdtype(jnp.dtype(dtype), jnp.floating) else "zeros"
        variable = Variable(initializer, shape=shape, dtype=dtype, trainable=trainable, autocast=autocast,
                            aggregation=aggregation, name=name,
                            regularizer=regularizers_lib.get(regularizer),
                            constraint=constraints_lib.get(constraint),
                            path=f"{self.name}/{name or 'variable'}", serial=next(_SERIAL))
        return variable

    add_variable = add_weight

    def _direct_children(self) -> tuple[list[nnx.Variable], list["Layer"], list[nnx.Module]]:
        """This layer's own variables, its direct sublayers, and other NNX modules it holds
        (seed generators, raw Flax modules), found in its attributes, lists, tuples and dicts."""
        variables, layers, modules = [], [], []

        def visit(value):
            if isinstance(value, Layer):
                layers.append(value)
            elif isinstance(value, nnx.Variable):
                variables.append(value)
            elif isinstance(value, nnx.Module):
                modules.append(value)
            elif isinstance(value, (list, tuple)):
                for item in value:
                    visit(item)
            elif isinstance(value, dict):
                for item in value.values():
                    visit(item)
        for key, value in vars(self).items():
            if not key.startswith("_pytree__"):
                visit(value)
        variables.sort(key=lambda v: v.get_metadata("serial", 1 << 62))
        layers.sort(key=lambda layer: layer._serial)
        return variables, _unique(layers), _unique(modules)

    def _sublayers(self) -> list["Layer"]:
        """Direct sublayers in Keras's tracking order (creation order; a Sequential's own order)."""
        return self._direct_children()[1]

    def _flatten_layers(self, include_self: bool = True, recursive: bool = True) -> Iterator["Layer"]:
        seen: set[int] = set()

        def walk(layer, depth):
            if id(layer) in seen:
                return
            seen.add(id(layer))
            if depth > 0 or include_self:
                yield layer
            if depth == 0 or recursive:
                for child in layer._sublayers():
                    yield from walk(child, depth + 1)
        yield from walk(self, 0)

    def _own_weights(self) -> list[nnx.Variable]:
        variables, _, modules = self._direct_children()
        for module in modules:
            if not _is_state_module(module):
                variables += [v for _, v in nnx.iter_graph(module) if isinstance(v, nnx.Variable)
                              and not isinstance(v, nnx.RngState)]
        trainable = [v for v in variables if isinstance(v, nnx.Param)]
        return trainable + [v for v in variables if not isinstance(v, nnx.Param)]

    @property
    def weights(self) -> list[nnx.Variable]:
        """Every weight in Keras's order: own trainable, own non-trainable, then each sublayer's."""
        return _unique([w for layer in self._flatten_layers() for w in layer._own_weights()])

    @property
    def trainable_weights(self) -> list[nnx.Variable]:
        if not self.trainable:
            return []
        frozen = {id(w) for layer in self._flatten_layers() if not layer.trainable for w in layer.weights}
        return [w for w in self.weights if isinstance(w, nnx.Param) and id(w) not in frozen]

    @property
    def non_trainable_weights(self) -> list[nnx.Variable]:
        trainable = {id(w) for w in self.trainable_weights}
        return [w for w in self.weights if id(w) not in trainable]

    @property
    def variables(self) -> list[nnx.Variable]:
        """Every variable: the weights plus seed-generator and metric state."""
        extra = [v for layer in self._flatten_layers() for module in layer._direct_children()[2]
                 if _is_state_module(module) for _, v in nnx.iter_graph(module) if isinstance(v, nnx.Variable)]
        return _unique(self.weights + extra)

    @property
    def trainable_variables(self) -> list[nnx.Variable]:
        return self.trainable_weights

    @property
    def non_trainable_variables(self) -> list[nnx.Variable]:
        trainable = {id(w) for w in self.trainable_weights}
        return [v for v in self.variables if id(v) not in trainable]

    def save_own_variables(self, store) -> None:
        """Keras's saving hook: the layer's own variables into `store` under the keys "0", "1", ...
        (trainable then non-trainable, creation order). Override it (calling super) to save more
        state; `load_own_variables` reads it back."""
        from kerasish.saving.layout import own_variables
        for i, variable in enumerate(own_variables(self)):
            store[str(i)] = np.asarray(variable.get_value())

    def load_own_variables(self, store) -> None:
        """Keras's loading hook: assigns `store["0"]`, `store["1"]`, ... to the layer's own variables."""
        from kerasish.saving.layout import own_variables
        variables = own_variables(self)
        if len(store) != len(variables):
            raise ValueError(f"Layer '{self.name}' expected {len(variables)} variables, but received {len(store)} "
                             f"variables during loading. Expected: {[v.name for v in variables]}")
        for i, variable in enumerate(variables):
            variable.assign(store[str(i)])

    def get_weights(self) -> list[np.ndarray]:
        return [np.asarray(w) for w in self.weights]

    def set_weights(self, weights: Sequence[Any]) -> None:
        """Sets the weights from arrays in Keras's order; nothing changes if any is wrong."""
        own = self.weights
        weights = list(weights)
        if len(weights) != len(own):
            raise ValueError(f"You called `set_weights(weights)` on layer '{self.name}' with a weight list of "
                             f"length {len(weights)}, but the layer was expecting {len(own)} weights.")
        for variable, value in zip(own, weights):
            if tuple(variable.shape) != tuple(np.shape(value)):
                raise ValueError(f"Layer {self.name} weight shape {tuple(variable.shape)} is not compatible "
                                 f"with provided weight shape {tuple(np.shape(value))}.")
        for variable, value in zip(own, weights):
            _assign(variable, value)

    def count_params(self) -> int:
        if not self.built:
            raise ValueError(f"You tried to call `count_params` on layer '{self.name}', but the layer isn't "
                             "built. You can build it manually via: `layer.build(input_shape)`.")
        return int(sum(math.prod(w.shape) for w in self.weights))

    # -- trainability -----------------------------------------------------------------------------
    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        """Sets this layer and every layer below it; their weights' types follow (Param or not)."""
        value = bool(value)
        for layer in self._flatten_layers():
            layer._trainable = value
            for variable in layer._own_weights():
                if not value and isinstance(variable, nnx.Param) and isinstance(variable, Variable):
                    variable.trainable = False
                    variable.set_metadata(frozen=True)
                elif value and isinstance(variable, Variable) and variable.get_metadata("frozen", False):
                    variable.trainable = True
                    variable.set_metadata(frozen=False)

    # -- losses ----------------------------------------------------------------------------------
    def add_loss(self, loss: Any) -> None:
        """Adds a scalar (or a list of them) to the losses of this forward pass; `fit` adds them to the
        training loss."""
        values = loss if isinstance(loss, (list, tuple)) else [loss]
        ctx = context.current()
        for value in values:
            value = jnp.asarray(value)
            if ctx is not None:
                ctx.add_loss(self, value)
            else:
                self._eager_losses.values.append(value)

    @property
    def losses(self) -> list:
        """Losses of the last forward pass (`add_loss`, activity regularizers) of this layer and those
        below it, then the weight regularization penalties of the trainable weights."""
        ctx = context.current()
        out = []
        for layer in self._flatten_layers():
            out += ctx.losses_of(layer) if ctx is not None else layer._eager_losses.values
        for variable in self.trainable_weights:
            regularizer = variable.get_metadata("regularizer", None)
            if regularizer is not None:
                out.append(regularizer(variable.get_value()))
        return out

    # -- the functional graph ---------------------------------------------------------------------
    def _first_node(self, what: str):
        if not self._inbound_nodes.values:
            raise AttributeError(f"The layer {self.name} has never been called and thus has no defined {what}.")
        return self._inbound_nodes.values[0]

    @property
    def input(self):
        """The symbolic input of the layer's first call on KerasTensors."""
        node = self._first_node("input")
        if not node.args and isinstance(node.layer, _input_layer_class()):
            return node.outputs
        return node.args[0] if len(node.args) == 1 else list(node.args)

    @property
    def output(self):
        """The symbolic output of the layer's first call on KerasTensors (Keras: node 0)."""
        return self._first_node("output").outputs

    # -- calling -----------------------------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        from kerasish.layers import symbolic
        spec = self.__dict__.get("input_spec")
        if spec is not None:  # Keras checks a layer's `input_spec` on every call, symbolic or not
            input_spec.assert_input_compatibility(spec, args[0] if args else next(iter(kwargs.values()), None),
                                                  self.name)
        if symbolic.any_symbolic(args, kwargs):
            return symbolic.call(self, args, kwargs)
        has_training, has_mask, _, parameters = _signature_flags(type(self))
        ctx = context.current()
        outer = ctx is None
        training = kwargs.get("training")
        if training is None and ctx is not None:
            training = ctx.training
        if has_training:
            if training is not None:
                kwargs["training"] = training
        else:
            kwargs.pop("training", None)
        if not has_mask and kwargs.get("mask") is None:
            kwargs.pop("mask", None)
        first_input = args[0] if args else kwargs.get(parameters[0]) if parameters else None
        previous_mask = masks.fill_mask_arguments(parameters, args, kwargs)
        if args:
            args = (self._cast_inputs(args[0]), *args[1:])
        if not self.built:
            self._build_on_call(args, kwargs)
        ctx = context.CallContext(training=training) if outer else ctx
        policy_mixed = self.compute_dtype != self.variable_dtype
        with context.scope(ctx), context.autocast(self.compute_dtype if policy_mixed and self.autocast else None):
            ctx.called[id(self)] = self
            outputs = self.call(*args, **kwargs)
            if self.activity_regularizer is not None:
                for output in jax.tree.leaves(outputs):
                    penalty = self.activity_regularizer(output)
                    if jnp.ndim(output) > 0:
                        penalty = penalty / jnp.asarray(jnp.shape(output)[0], penalty.dtype)
                    ctx.add_loss(self, penalty)
        if self.supports_masking:
            masks.attach_output_masks(self, first_input, outputs, previous_mask)
        elif previous_mask is not None and not has_mask:
            warnings.warn(f"Layer '{self.name}' (of type {type(self).__name__}) was passed an input with a mask "
                          "attached to it. However, this layer does not support masking and will therefore "
                          "destroy the mask information. Downstream layers will not see the mask.", stacklevel=2)
        if outer and not _any_tracer(outputs):
            for layer in ctx.called.values():
                layer._eager_losses = _Stored(ctx.losses_of(layer))
        return outputs

    def _cast_inputs(self, inputs):
        """Float inputs in the layer's compute dtype (Keras's autocast of the first argument);
        integer and boolean inputs are left as they are."""
        dtype = self.compute_dtype
        if not self.autocast:
            return inputs

        def cast(x):
            if isinstance(x, (jax.Array, np.ndarray)) and jnp.issubdtype(x.dtype, jnp.floating) \
                    and x.dtype != dtype:
                return jnp.asarray(x, dtype)
            if isinstance(x, np.ndarray):
                return jnp.asarray(x)
            return x
        return jax.tree.map(cast, inputs)

    def _build_on_call(self, args, kwargs) -> None:
        shape = _shape_of(args[0] if args else kwargs.get("inputs"))
        if type(self).build is not Layer.build:
            self.build(shape)
        self._build_shape = shape
        self.built = True

    def _check_valid_context(self, error_msg) -> None:
        # Layers build inside traces (first call under jit, shape inference): their new weights are
        # concrete (initializers run at trace time), so the mutation is safe, as in Keras's NNX mode.
        return None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"

    __str__ = __repr__  # Keras prints `<Dense name=dense, built=False>`, not NNX's attribute listing


def _input_layer_class():
    from kerasish.layers.core import InputLayer
    return InputLayer


def _unique(items: list) -> list:
    seen: set[int] = set()
    out = []
    for item in items:
        if id(item) not in seen:
            seen.add(id(item))
            out.append(item)
    return out


def _is_state_module(module: nnx.Module) -> bool:
    """Seed generators and metrics hold state that is not a weight (Keras's `variables` vs `weights`)."""
    from kerasish.random.seed_generator import SeedGenerator
    return isinstance(module, SeedGenerator) or getattr(type(module), "_keras_state_only", False)


def _any_tracer(tree) -> bool:
    return any(isinstance(leaf, jax.core.Tracer) for leaf in jax.tree.leaves(tree))


def _assign(variable: nnx.Variable, value: Any) -> None:
    if isinstance(variable, Variable):
        variable.assign(value)
        return
    old = variable.get_value()
    variable.set_value(jnp.asarray(value, old.dtype))
