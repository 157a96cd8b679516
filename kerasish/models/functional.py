"""The functional API: `keras.Model(inputs, outputs)`, a model that is a graph of layer calls.

Calling layers on KerasTensors (`keras.Input(...)`) records `Node`s; `Functional` walks them back
from the outputs to the inputs once, and keeps a *plan*: each layer call in topological order, with
the tensors it reads and writes named by integers. The layers themselves sit in one list attribute
(`_layers`, Keras's `model.layers` order: inputs first), so the model is an NNX graph like any other
and a compiled step calls the traced copies of the layers. Shared layers appear once and are called
once per node; models used as layers are ordinary nodes.

Owns: building the plan (with Keras's errors for disconnected graphs and non-symbolic inputs),
running it, the inputs/outputs API (`inputs`, `outputs`, `input_shape`, `output_shape`,
`output_names`, `get_layer`) and matching user data (lists or dicts) to the inputs.
Must not: know about training, losses or files.
"""

from __future__ import annotations

from typing import Any

import jax
import numpy as np

from kerasish.layers import masks
from kerasish.layers.base import Layer
from kerasish.layers.core import InputLayer
from kerasish.layers.op_layer import OpLayer
from kerasish.layers.symbolic import KerasTensor, Node
from kerasish.models.model import Model
from kerasish.utils import naming


class _Ref:
    """Where a tensor goes in a node's arguments: tensor number `index` of the plan."""
    __slots__ = ("index",)

    def __init__(self, index: int):
        self.index = index

    def __repr__(self) -> str:
        return f"<tensor {self.index}>"


def _is_kt(value) -> bool:
    return isinstance(value, KerasTensor)


def _leaves(tree) -> list:
    return jax.tree.leaves(tree, is_leaf=lambda v: _is_kt(v) or isinstance(v, _Ref))


def _map(fn, tree):
    return jax.tree.map(fn, tree, is_leaf=lambda v: _is_kt(v) or isinstance(v, _Ref))


def _check_symbolic(structure, what: str) -> None:
    for value in _leaves(structure):
        if not _is_kt(value):
            raise ValueError(f"All `{what}` values must be KerasTensors (made by `keras.Input` and layers called on "
                             f"them). Received: {what}={structure!r} including {value!r} "
                             f"of type {type(value).__name__}")


class Functional(Model):
    """A model defined by its input and output KerasTensors.

    Example:
        >>> inputs = keras.Input(shape=(784,))
        >>> x = layers.Dense(64, activation="relu")(inputs)
        >>> model = keras.Model(inputs=inputs, outputs=layers.Dense(10)(x), name="mnist_model")
    """

    def __init__(self, inputs, outputs, name: str | None = None, trainable: bool = True, **kwargs):
        super().__init__(name=name or naming.unique_name("functional"), trainable=trainable, **kwargs)
        if isinstance(inputs, tuple):
            inputs = list(inputs)
        if isinstance(outputs, tuple):
            outputs = list(outputs)
        _check_symbolic(inputs, "inputs")
        _check_symbolic(outputs, "outputs")
        input_tensors, output_tensors = _leaves(inputs), _leaves(outputs)
        for tensor in input_tensors:
            node = tensor._keras_history
            if node is None or not isinstance(node.layer, InputLayer):
                raise ValueError(f"Model inputs must come from `keras.Input` (thus holding past layer metadata). "
                                 f"Received: inputs={tensor!r}, made by layer "
                                 f"'{getattr(getattr(node, 'layer', None), 'name', None)}'.")
        numbers: dict[int, int] = {}

        def number(tensor: KerasTensor) -> int:
            return numbers.setdefault(id(tensor), len(numbers))
        input_ids = [number(t) for t in input_tensors]
        nodes, layers = _topological_nodes(input_tensors, output_tensors)
        position = {id(layer): i for i, layer in enumerate(layers)}
        plan = []
        for node in nodes:
            index = position[id(node.layer)]
            to_ref = lambda v: _Ref(number(v)) if _is_kt(v) else v  # noqa: E731
            plan.append((index, _map(to_ref, node.args), _map(to_ref, node.kwargs), _map(to_ref, node.outputs)))
        self._layers = layers
        self._plan = tuple(plan)
        self._input_refs = _map(lambda t: _Ref(number(t)), inputs)
        self._output_refs = _map(lambda t: _Ref(number(t)), outputs)
        self._input_tensors, self._output_tensors = input_tensors, output_tensors
        self._inputs_struct, self._outputs_struct = inputs, outputs
        self._input_ids = input_ids
        self._tensors = {number(t): t for node in nodes for t in _leaves((node.args, node.kwargs, node.outputs))
                         if _is_kt(t)}
        self._tensors.update({number(t): t for t in input_tensors})
        self._output_shape = _map(lambda t: t.shape, outputs)
        self._build_shape = _map(lambda t: t.shape, inputs)
        self.built = True

    # -- structure --------------------------------------------------------------------------
    def _sublayers(self) -> list[Layer]:
        return list(self._layers)

    @property
    def layers(self) -> list[Layer]:
        """The layers in Keras's order; op nodes (`keras.ops` calls, operators) are not layers."""
        return [layer for layer in self._layers if not isinstance(layer, OpLayer)]

    @property
    def inputs(self) -> list[KerasTensor]:
        return list(self._input_tensors)

    @property
    def outputs(self) -> list[KerasTensor]:
        return list(self._output_tensors)

    @property
    def input(self):
        return self._inputs_struct

    @property
    def output(self):
        return self._outputs_struct

    @property
    def input_shape(self):
        shapes = [t.shape for t in self._input_tensors]
        return shapes[0] if len(shapes) == 1 and _is_kt(self._inputs_struct) else _map(lambda t: t.shape,
                                                                                       self._inputs_struct)

    @property
    def output_shape(self):
        return self._output_shape

    @property
    def input_names(self) -> list[str]:
        return [t._keras_history.layer.name for t in self._input_tensors]

    @property
    def output_names(self) -> list[str]:
        if isinstance(self._outputs_struct, dict):
            return list(self._outputs_struct)
        return [t._keras_history.layer.name for t in self._output_tensors]

    # -- running ----------------------------------------------------------------------------
    def call(self, inputs, training=None, mask=None):
        flat = self._flatten_inputs(inputs)
        if mask is not None:
            for x, m in zip(flat, mask if isinstance(mask, (list, tuple)) else [mask]):
                if m is not None:
                    masks.set_keras_mask(x, m)
        values = dict(zip(self._input_ids, flat))
        for index, args, kwargs, outputs in self._plan:
            fill = lambda v: values[v.index] if isinstance(v, _Ref) else v  # noqa: E731
            result = self._layers[index](*_map(fill, args), **_map(fill, kwargs))
            for ref, value in zip(_leaves(outputs), jax.tree.leaves(result)):
                values[ref.index] = value
        return _map(lambda ref: values[ref.index], self._output_refs)

    def _flatten_inputs(self, inputs) -> list:
        """The user's inputs in the order of `model.inputs`: a list, a dict keyed by input names, or
        one array; Keras's errors for a wrong count or unknown names."""
        expected = self._input_tensors
        names = self.input_names
        if isinstance(inputs, dict):
            if isinstance(self._inputs_struct, dict):
                keys = list(self._inputs_struct)
                missing = [k for k in keys if k not in inputs]
                if missing:
                    raise ValueError(f"Missing data for input(s) {missing} of model '{self.name}'. Expected the "
                                     f"keys {keys}; received the keys {sorted(inputs)}.")
                flat = [inputs[k] for k in keys]
            else:
                missing = [n for n in names if n not in inputs]
                if missing:
                    raise ValueError(f"Missing data for input(s) {missing} of model '{self.name}'. Expected the "
                                     f"keys {names}; received the keys {sorted(inputs)}.")
                flat = [inputs[n] for n in names]
        elif isinstance(inputs, (list, tuple)):
            flat = list(inputs)
        else:
            flat = [inputs]
        if len(flat) != len(expected):
            raise ValueError(f"Layer \"{self.name}\" expects {len(expected)} input(s), but it received "
                             f"{len(flat)} input tensors.")
        for i, (tensor, value) in enumerate(zip(expected, flat)):
            shape = tuple(np.shape(value))
            want = tensor.shape
            if len(shape) != len(want) or any(w is not None and w != s for w, s in zip(want, shape)):
                raise ValueError(f"Input {i} of layer \"{self.name}\" is incompatible with the layer: expected "
                                 f"shape={want}, found shape={shape}")
        return flat

    def _build_on_call(self, args, kwargs) -> None:
        self.built = True

    def _connections(self) -> list[list[str]] | None:
        """For `summary()`: each layer's inputs as `name[node][tensor]`; None for a chain of layers
        with one input and one output (Keras then leaves the column out)."""
        history: dict[int, str] = {}
        for ref in _leaves(self._input_refs):
            history[ref.index] = f"{self._tensors[ref.index]._keras_history.layer.name}[0][0]"
        per_layer: dict[int, list[str]] = {}
        node_count: dict[int, int] = {}
        for index, args, kwargs, outputs in self._plan:
            node = node_count.get(index, 0)
            node_count[index] = node + 1
            sources = [history[v.index] for v in _leaves((args, kwargs)) if isinstance(v, _Ref)]
            per_layer.setdefault(index, []).extend(sources)
            for position, ref in enumerate(_leaves(outputs)):
                history[ref.index] = f"{self._layers[index].name}[{node}][{position}]"
        if self._is_chain(node_count):
            return None
        return [per_layer.get(i, []) for i, layer in enumerate(self._layers) if not isinstance(layer, OpLayer)]

    def _is_chain(self, node_count: dict[int, int]) -> bool:
        """Keras's "sequential-like" test: no layer is called twice, no node reads more than one
        tensor, and no two nodes (input layers included) lie at the same depth from the outputs."""
        reads = [[v.index for v in _leaves((args, kwargs)) if isinstance(v, _Ref)] for _, args, kwargs, _ in self._plan]
        if any(n > 1 for n in node_count.values()) or any(len(r) > 1 for r in reads):
            return False
        producer = {ref.index: n for n, (_, _, _, outputs) in enumerate(self._plan) for ref in _leaves(outputs)}
        depth = [0] * len(self._plan)
        input_depth = {ref.index: 0 for ref in _leaves(self._input_refs)}
        for n in reversed(range(len(self._plan))):
            for r in reads[n]:
                if r in producer:
                    depth[producer[r]] = max(depth[producer[r]], depth[n] + 1)
                else:
                    input_depth[r] = max(input_depth[r], depth[n] + 1)
        depths = depth + list(input_depth.values())
        return len(set(depths)) == len(depths)

    # -- config (Keras 3's functional format) -------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        """`layers` (each with `name` and `inbound_nodes` of `__keras_tensor__` references),
        `input_layers`, `output_layers`: the format of Keras 3's `config.json`."""
        from kerasish.layers import serialize
        history: dict[int, list] = {}
        for ref in _leaves(self._input_refs):
            history[ref.index] = [self._tensors[ref.index]._keras_history.layer.name, 0, 0]
        nodes_of: dict[int, list] = {i: [] for i in range(len(self._layers))}
        for index, args, kwargs, outputs in self._plan:
            node_index = len(nodes_of[index])
            for position, ref in enumerate(_leaves(outputs)):
                history[ref.index] = [self._layers[index].name, node_index, position]

            def encode(value):
                if not isinstance(value, _Ref):
                    return value
                tensor = self._tensors[value.index]
                return {"class_name": "__keras_tensor__",
                        "config": {"shape": list(tensor.shape), "dtype": tensor.dtype,
                                   "keras_history": history[value.index]}}
            nodes_of[index].append({"args": _listify(_map(encode, args)), "kwargs": _map(encode, kwargs)})
        layers = [{**serialize(layer), "name": layer.name, "inbound_nodes": nodes_of[i]}
                  for i, layer in enumerate(self._layers)]
        return {"name": self.name, "trainable": self.trainable, "layers": layers,
                "input_layers": _map(lambda ref: history[ref.index], self._input_refs),
                "output_layers": _map(lambda ref: history[ref.index], self._output_refs)}

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: dict | None = None) -> "Functional":
        """Rebuilds the graph: each layer from its config, then its calls replayed in dependency order."""
        from kerasish.layers import deserialize
        if not isinstance(config, dict) or "layers" not in config or "output_layers" not in config:
            raise ValueError(f"Expected a functional model config with 'layers', 'input_layers' and "
                             f"'output_layers'. Received: {str(config)[:200]}")
        layers = {}
        for entry in config["layers"]:
            layers[entry["name"]] = deserialize(entry, custom_objects=custom_objects)
        tensors: dict[tuple, KerasTensor] = {}
        pending = []
        # Tensors are keyed by the config entry's name, not `layer.name`: a custom layer whose
        # get_config leaves out "name" gets a new automatic name (as in Keras).
        for entry in config["layers"]:
            layer = layers[entry["name"]]
            if isinstance(layer, InputLayer):
                tensors[(entry["name"], 0, 0)] = layer.output
            for node_index, node in enumerate(entry.get("inbound_nodes", [])):
                pending.append((layer, node_index, node, entry["name"]))
        while pending:
            ready = [item for item in pending if _resolvable(item[2], tensors)]
            ready = [item for item in ready if not any(other[0] is item[0] and other[1] < item[1]
                                                       for other in pending)]
            if not ready:
                raise ValueError(f"Cannot rebuild functional model '{config.get('name')}': the inbound nodes of "
                                 f"{sorted({item[0].name for item in pending})} refer to tensors no layer produces.")
            for layer, node_index, node, key in ready:
                decode = lambda v: tensors[tuple(v["config"]["keras_history"])] if _is_tensor_ref(v) else v  # noqa: E731
                args = _decode(node.get("args", []), decode)
                kwargs = _decode(node.get("kwargs", {}), decode)
                outputs = layer(*args, **kwargs)
                for position, tensor in enumerate(jax.tree.leaves(outputs, is_leaf=_is_kt)):
                    tensors[(key, node_index, position)] = tensor
                pending.remove((layer, node_index, node, key))

        def lookup(spec):
            if isinstance(spec, dict):
                return {k: lookup(v) for k, v in spec.items()}
            if spec and isinstance(spec[0], (list, tuple)):
                return [lookup(v) for v in spec]
            return tensors[tuple(spec)]
        return cls(inputs=lookup(config["input_layers"]), outputs=lookup(config["output_layers"]),
                   name=config.get("name"), trainable=config.get("trainable", True))

    def __repr__(self) -> str:
        return f"<Functional name={self.name}, built=True>"


def _topological_nodes(inputs: list[KerasTensor], outputs: list[KerasTensor]) -> tuple[list[Node], list[Layer]]:
    """The nodes between `inputs` and `outputs`, each after the nodes it reads from; and the layers in
    Keras's `model.layers` order (deepest first counting from the outputs, ties in the order a
    depth-first walk from the outputs meets them)."""
    given = {id(t) for t in inputs}
    order: list[Node] = []
    done: set[int] = set()
    first_seen: dict[int, int] = {}
    visited_layers: list[str] = []

    def visit(tensor: KerasTensor, consumer: str | None):
        if id(tensor) in given:
            first_seen.setdefault(id(tensor._keras_history.layer), len(first_seen))
            return
        node = tensor._keras_history
        if node is None or isinstance(node.layer, InputLayer):
            raise ValueError(f"Graph disconnected: cannot find parent for tensor {tensor!r} at layer "
                             f"\"{consumer or 'the outputs'}\". The following previous layers were accessed "
                             f"without issue: {visited_layers}")
        if id(node) in done:
            return
        first_seen.setdefault(id(node.layer), len(first_seen))
        for parent in node.input_tensors:
            visit(parent, node.layer.name)
        done.add(id(node))
        order.append(node)
        visited_layers.append(node.layer.name)
    for tensor in outputs:
        visit(tensor, None)
    depth: dict[int, int] = {}
    layer_depth: dict[int, int] = {}
    layers: dict[int, Layer] = {}
    for node in reversed(order):
        d = max(depth.setdefault(id(node), 0), layer_depth.get(id(node.layer), 0))
        depth[id(node)], layer_depth[id(node.layer)] = d, d
        layers[id(node.layer)] = node.layer
        for parent in node.input_tensors:
            source = parent._keras_history
            if id(parent) in given or isinstance(source.layer, InputLayer):
                layer_depth[id(source.layer)] = max(layer_depth.get(id(source.layer), 0), d + 1)
                layers[id(source.layer)] = source.layer
            else:
                depth[id(source)] = max(depth.get(id(source), 0), d + 1)
    for tensor in inputs:
        layers.setdefault(id(tensor._keras_history.layer), tensor._keras_history.layer)
        layer_depth.setdefault(id(tensor._keras_history.layer), 0)
    ranked = sorted(layers, key=lambda key: (-layer_depth[key], first_seen.get(key, 1 << 30)))
    return order, [layers[key] for key in ranked]


def _listify(value):
    return list(value) if isinstance(value, tuple) else value


def _is_tensor_ref(value) -> bool:
    return isinstance(value, dict) and value.get("class_name") == "__keras_tensor__"


def _decode(value, decode):
    if _is_tensor_ref(value):
        return decode(value)
    if isinstance(value, dict):
        return {k: _decode(v, decode) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_decode(v, decode) for v in value]
    return value


def _resolvable(node: dict, tensors: dict) -> bool:
    found = []
    _decode(node, lambda v: found.append(tuple(v["config"]["keras_history"]) in tensors) or None)
    return all(found)


def functional_arguments(args: tuple, kwargs: dict) -> tuple[Any, Any, dict] | None:
    """(inputs, outputs, other kwargs) when a Model is created the functional way, else None."""
    if "inputs" in kwargs and "outputs" in kwargs:
        rest = {k: v for k, v in kwargs.items() if k not in ("inputs", "outputs")}
        return kwargs["inputs"], kwargs["outputs"], rest
    if len(args) >= 2:
        return args[0], args[1], dict(kwargs)
    if len(args) == 1 and "outputs" in kwargs:
        return args[0], kwargs["outputs"], {k: v for k, v in kwargs.items() if k != "outputs"}
    return None
