"""Symbolic tensors and shape inference: what a layer does to shapes, without running it.

`KerasTensor` is what `keras.Input` returns and what a layer called on KerasTensors returns. The
output shape comes from tracing the layer's `call` with `jax.eval_shape` inside a *symbolic* call
context (weights are created concretely, assignments are not applied). Unknown dimensions (None)
are traced twice with two different sizes; a dimension of the output that changes with them is
unknown too. Each call on KerasTensors is recorded as a `Node` on its outputs, from which the
functional API builds graphs.

Must not: run a layer on data, or keep arrays.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from kerasish.layers import context, masks
from kerasish.utils import naming

# Unknown dimensions are traced at these two sizes: large enough for any kernel or pooling window,
# 60 apart so strides up to 60 still give different output sizes, divisible by 2, 3, 4, 5, 6, 10,
# 12, 15, 20 and 30 for reshapes. A dimension of the output that differs between them is unknown.
_PROBE_SIZES = (60, 120)


class KerasTensor:
    """A symbolic tensor: a shape (None for unknown dimensions), a dtype and a name."""

    def __init__(self, shape, dtype: Any = "float32", name: str | None = None):
        self.shape = tuple(shape)
        self.dtype = jnp.dtype(dtype).name
        self.name = name or naming.unique_name("keras_tensor")
        self.sparse = self.ragged = False  # kerasish has neither; Keras's attributes, always False
        self._keras_history: "Node | None" = None
        self._keras_mask: "KerasTensor | None" = None

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self) -> str:
        return (f"<KerasTensor shape={self.shape}, dtype={self.dtype}, sparse={self.sparse}, ragged={self.ragged}, "
                f"name={self.name}>")

    def __array__(self, *args, **kwargs):
        raise TypeError(f"A KerasTensor is symbolic: it has no value. {self!r} cannot become a NumPy array; "
                        "use it as an input to layers or `keras.ops` functions to build a model.")

    def __bool__(self):
        raise TypeError("A symbolic KerasTensor cannot be used as a Python bool.")

    # Operators build graph nodes, as in Keras 3 functional models.
    def __getitem__(self, key):
        return op_call(lambda x: x[key], (self,), {}, "getitem")

    def __neg__(self):
        return op_call(jnp.negative, (self,), {}, "negative")

    def __abs__(self):
        return op_call(jnp.abs, (self,), {}, "abs")


def _binary(name: str, fn, reflected: bool = False):
    def method(self, other):
        args = (other, self) if reflected else (self, other)
        return op_call(fn, args, {}, name)
    return method


for _name, _fn in (("add", jnp.add), ("sub", jnp.subtract), ("mul", jnp.multiply), ("truediv", jnp.true_divide),
                   ("floordiv", jnp.floor_divide), ("mod", jnp.mod), ("pow", jnp.power), ("matmul", jnp.matmul),
                   ("lt", jnp.less), ("le", jnp.less_equal), ("gt", jnp.greater), ("ge", jnp.greater_equal),
                   ("and", jnp.logical_and), ("or", jnp.logical_or)):
    setattr(KerasTensor, f"__{_name}__", _binary(_name, _fn))
    if _name not in ("lt", "le", "gt", "ge"):
        setattr(KerasTensor, f"__r{_name}__", _binary(_name, _fn, reflected=True))


class Node:
    """One call of `layer` on KerasTensors: its arguments and its outputs."""

    def __init__(self, layer, args: tuple, kwargs: dict, outputs: Any):
        self.layer, self.args, self.kwargs, self.outputs = layer, args, kwargs, outputs

    @property
    def input_tensors(self) -> list[KerasTensor]:
        return [t for t in jax.tree.leaves((self.args, self.kwargs), is_leaf=_is_kt) if _is_kt(t)]


def _is_kt(value: Any) -> bool:
    return isinstance(value, KerasTensor)


def any_symbolic(args, kwargs) -> bool:
    return any(_is_kt(leaf) for leaf in jax.tree.leaves((args, kwargs), is_leaf=_is_kt))


def _probe(tree, size: int):
    """KerasTensors -> ShapeDtypeStructs with every unknown dimension set to `size`."""
    return jax.tree.map(lambda t: jax.ShapeDtypeStruct(tuple(size if d is None else d for d in t.shape), t.dtype)
                        if _is_kt(t) else t, tree, is_leaf=_is_kt)


def output_spec(layer, args: tuple, kwargs: dict):
    """The layer's outputs on KerasTensor inputs, as KerasTensors (built first if needed)."""
    if not layer.built:
        first = args[0] if args else kwargs.get("inputs")
        shape = jax.tree.map(lambda t: t.shape, first, is_leaf=_is_kt)
        if _overrides_build(layer):
            with context.scope(context.CallContext(training=False, symbolic=True)):
                layer.build(shape)
        layer._build_shape = shape
        layer.built = True
    results = []
    for size in _PROBE_SIZES:
        probe_args, probe_kwargs = _probe(args, size), _probe(kwargs, size)
        static_kwargs = {k: v for k, v in probe_kwargs.items() if not isinstance(v, jax.ShapeDtypeStruct)
                         and not any(isinstance(x, jax.ShapeDtypeStruct) for x in jax.tree.leaves(v))}
        dynamic_kwargs = {k: v for k, v in probe_kwargs.items() if k not in static_kwargs}

        input_masks = _probe(_input_masks((args, {k: kwargs[k] for k in dynamic_kwargs})), size)

        def run(a, kw, in_masks):
            for tracer, mask in zip(jax.tree.leaves((a, kw)), in_masks):
                if mask is not None:
                    masks.set_keras_mask(tracer, mask)
            with context.scope(context.CallContext(training=False, symbolic=True)):
                out = layer(*a, **kw, **static_kwargs)
            return out, [masks.get_keras_mask(leaf) for leaf in jax.tree.leaves(out)]
        results.append(jax.eval_shape(run, probe_args, dynamic_kwargs, input_masks))
    (first, first_masks), (second, second_masks) = results
    outputs = jax.tree.map(_merge_probes, first, second)
    for tensor, a, b in zip(jax.tree.leaves(outputs, is_leaf=_is_kt), first_masks, second_masks):
        if a is not None:
            tensor._keras_mask = _merge_probes(a, b)
    layer._output_shape = jax.tree.map(lambda t: t.shape, outputs, is_leaf=_is_kt)
    return outputs


def _merge_probes(a, b) -> KerasTensor:
    """The KerasTensor of two traces at different probe sizes: dimensions that differ are unknown."""
    return KerasTensor(tuple(x if x == y else None for x, y in zip(a.shape, b.shape)), a.dtype)


def _input_masks(tree) -> list:
    """The masks (KerasTensors or None) of the KerasTensors among `tree`'s leaves, in leaf order."""
    return [getattr(t, "_keras_mask", None) if _is_kt(t) else None for t in jax.tree.leaves(tree, is_leaf=_is_kt)]


def _overrides_build(layer) -> bool:
    from kerasish.layers.base import Layer
    return type(layer).build is not Layer.build


def call(layer, args: tuple, kwargs: dict):
    """`layer(*args, **kwargs)` on KerasTensors: outputs as KerasTensors, the call recorded as a Node."""
    outputs = output_spec(layer, args, kwargs)
    node = Node(layer, args, kwargs, outputs)
    for tensor in jax.tree.leaves(outputs, is_leaf=_is_kt):
        tensor._keras_history = node
    layer._inbound_nodes.values.append(node)
    return outputs


def output_shape(layer, input_shape, *args, **kwargs):
    """`compute_output_shape` by tracing: shapes in, shapes out (same nesting)."""
    inputs = jax.tree.map(lambda s: KerasTensor(s), input_shape,
                          is_leaf=lambda s: isinstance(s, tuple) and all(d is None or isinstance(d, int) for d in s))
    outputs = output_spec(layer, (inputs, *args), kwargs)
    return jax.tree.map(lambda t: t.shape, outputs, is_leaf=_is_kt)


def shape_of(value: Any) -> Any:
    """The shape(s) of an array or a nest of arrays, as tuples."""
    return jax.tree.map(lambda a: tuple(a.shape), value)


def build_layer(layer, input_shape):
    """Builds `layer` for `input_shape` if needed and returns its output shape.

    Layers that define `compute_output_shape` are built directly (`build`, then the shape rule);
    the others are traced symbolically, which also builds the layers they call.
    """
    from kerasish.layers.base import Layer
    if type(layer).compute_output_shape is Layer.compute_output_shape:
        if layer.built and layer._output_shape is not None and layer._build_shape == input_shape:
            return layer._output_shape
        return output_shape(layer, input_shape)
    if not layer.built:
        with context.scope(context.CallContext(training=False, symbolic=True)):
            if _overrides_build(layer):
                layer.build(input_shape)
        layer._build_shape = input_shape
        layer.built = True
    out = layer.compute_output_shape(input_shape)
    layer._output_shape = out
    return out


def op_call(fn, args: tuple, kwargs: dict, name: str | None = None):
    """`fn(*args, **kwargs)` where some arguments are KerasTensors: a graph node of an `OpLayer`."""
    from kerasish.layers.op_layer import OpLayer
    return OpLayer(fn, name=name)(*args, **kwargs)
