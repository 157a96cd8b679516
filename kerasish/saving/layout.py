"""Where Keras 3 keeps each variable of a model in a weights file, computed for a kerasish model.

Keras walks a model like this: a Sequential or functional model's `layers` first, then every
attribute in alphabetical order (private ones last); a layer reached for the first time gets the
group `<path>/vars` holding its own variables (trainable then non-trainable, in creation order) as
datasets `0`, `1`, ...; a list or dict of layers names its items by class (`dense`, `dense_1`, ...,
nested lists `container`, `container_1`); the optimizer is the group `optimizer`. Keras saves no
seed-generator state (its SeedGenerator is not saveable): those variables, and any other the walk
does not reach, are the *extra* variables kerasish keeps in its own group.

Owns: that walk over a kerasish model (an NNX graph), and each variable's NNX path.
Must not: read or write files, or know about optimizers' state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

from flax import nnx

from kerasish.layers.base import Layer
from kerasish.serialization import to_snake_case

# Attributes of kerasish's own classes that hold layers Keras does not walk from there
# (a Sequential's list and its InputLayer; Keras skips its own `_layers` the same way).
_INTERNAL = frozenset({"_layers", "_input_layer"})
_CONTAINERS = (list, tuple, dict)


@dataclass
class Entry:
    """One saveable object: its group path ("" for the model itself), the `name` attribute Keras
    writes on the group, and its variables in Keras's order."""
    path: str
    name: str
    variables: list = field(default_factory=list)
    layer: Any = None  # the object itself (what `save_assets` / `load_assets` are called on)

    @property
    def group(self) -> str:
        return f"{self.path}/vars" if self.path else "vars"


def own_variables(layer: Layer) -> list[nnx.Variable]:
    """The layer's own variables as Keras saves them: those created trainable, then the others
    (creation order in each); a frozen layer's weights keep their place."""
    variables = sorted(layer._own_weights(), key=lambda v: v.get_metadata("serial", 1 << 62))

    def created_trainable(v) -> bool:
        return isinstance(v, nnx.Param) or bool(v.get_metadata("frozen", False))
    return [v for v in variables if created_trainable(v)] + [v for v in variables if not created_trainable(v)]


def _walked_layers(obj: Layer) -> Iterator[tuple[str, Any]]:
    """(attribute, value) pairs Keras's walk visits, in its order."""
    from kerasish.models import Model
    if _is_graph_model(obj):
        yield "layers", obj.layers
    names = {n for n in vars(obj) if n not in _INTERNAL and not n.startswith(("_pytree__", "_object__"))}
    for cls in type(obj).__mro__:
        if not cls.__module__.startswith(("kerasish.", "flax.", "builtins")):
            names.update(n for n, attr in vars(cls).items() if isinstance(attr, property))
    if isinstance(obj, Model):
        names.add("layers")
    for name in sorted(names, key=lambda n: f"~{n}" if n.startswith("_") else n):
        try:
            value = getattr(obj, name)
        except Exception:  # noqa: BLE001 - a user property that fails is skipped, as Keras skips it
            continue
        if isinstance(value, Layer) or (isinstance(value, _CONTAINERS) and _holds_layers(value)):
            yield name, value


def _is_graph_model(obj) -> bool:
    from kerasish.models import Sequential
    try:
        from kerasish.models import Functional
    except ImportError:  # the functional API is not in this build
        return isinstance(obj, Sequential)
    return isinstance(obj, (Sequential, Functional))


def _holds_layers(container) -> bool:
    items = container.values() if isinstance(container, dict) else container
    return any(isinstance(i, Layer) or (isinstance(i, _CONTAINERS) and _holds_layers(i)) for i in items)


def _python_name(obj) -> str:
    """The name of Keras's Python class for `obj`, which names its group in a weights file (Keras's
    `GroupQueryAttention` is the class `GroupedQueryAttention`)."""
    return getattr(type(obj), "_keras_python_name", type(obj).__name__)


def _join(path: str, name: str) -> str:
    return f"{path}/{name}" if path else name


def layer_entries(model: Layer) -> list[Entry]:
    """Every layer group of `model` (the model itself first) in Keras's walk order."""
    entries: list[Entry] = []
    visited: set[int] = set()

    def visit(obj: Layer, path: str) -> None:
        if id(obj) in visited:
            return
        visited.add(id(obj))
        entries.append(Entry(path, obj.name, own_variables(obj), obj))
        for name, value in _walked_layers(obj):
            if isinstance(value, Layer):
                visit(value, _join(path, name))
            else:
                visit_container(value, _join(path, name), set())

    def visit_container(container, path: str, seen: set[int]) -> None:
        if id(container) in seen:
            return
        seen.add(id(container))
        used: dict[str, int] = {}
        for item in (container.values() if isinstance(container, dict) else container):
            if isinstance(item, Layer):
                visit(item, _join(path, _unique(to_snake_case(_python_name(item)), used)))
            elif isinstance(item, _CONTAINERS):
                visit_container(item, _join(path, _unique("container", used)), seen)

    visit(model, "")
    return entries


def _unique(name: str, used: dict[str, int]) -> str:
    if name in used:
        used[name] += 1
        return f"{name}_{used[name]}"
    used[name] = 0
    return name


def variable_paths(model: Layer) -> dict[int, tuple]:
    """`id(variable) -> NNX path` for every variable of the model (its first path if shared)."""
    paths: dict[int, tuple] = {}
    for path, node in nnx.iter_graph(model):
        if isinstance(node, nnx.Variable) and id(node) not in paths:
            paths[id(node)] = tuple(path)
    return paths


def extra_variables(model: Layer, entries: list[Entry]) -> dict[str, nnx.Variable]:
    """`"a/b/c" NNX path -> variable` for the variables Keras's layout does not hold (seed state)."""
    held = {id(v) for entry in entries for v in entry.variables}
    out: dict[str, nnx.Variable] = {}
    for path, node in nnx.iter_graph(model):
        if isinstance(node, nnx.Variable) and id(node) not in held:
            held.add(id(node))
            out["/".join(str(p) for p in path)] = node
    return out
