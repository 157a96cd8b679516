"""`keras.utils.plot_model` and `model_to_dot`: a model's layer graph as a Graphviz picture.

Owns: turning a model into a `pydot.Dot` (one box per layer or op, an edge per tensor passed between
them; a Sequential model as a chain; a subclassed model as one box; nested models as clusters with
`expand_nested`) and writing it with Graphviz's `dot`. pydot is an optional extra
(`pip install kerasish[plot]`) and Graphviz a system package (`apt-get install graphviz`, `brew install
graphviz`); both are looked for only when a function is called, and their absence is an ImportError
that says what to install.
"""

from __future__ import annotations

import os
import shutil
from html import escape
from typing import Any

import jax

__all__ = ["model_to_dot", "plot_model"]


def _pydot():
    try:
        import pydot
    except ImportError:
        return None
    return pydot


def _pydot_for(model, caller: str):
    """pydot, once `model` is known to be built and pydot to be installed."""
    if not model.built:
        raise ValueError("This model has not yet been built. Build the model first by calling `build()` or by "
                         "calling the model on a batch of data.")
    pydot = _pydot()
    if pydot is None:
        raise ImportError(f"You must install pydot (`pip install pydot`, or `pip install kerasish[plot]`) for "
                          f"{caller} to work.")
    return pydot


def _check_graphviz(pydot) -> bool:
    """Whether Graphviz's `dot` program runs (pydot calls it to render)."""
    if shutil.which("dot") is None:
        return False
    try:
        pydot.Dot.create(pydot.Dot())
    except (OSError, pydot.PydotException):  # pydot's error when `dot` fails
        return False
    return True


def _models():
    from kerasish.models.functional import Functional
    from kerasish.models.sequential import Sequential
    return Functional, Sequential


def _shape_text(shape: Any) -> str:
    if shape is None:
        return "?"
    if isinstance(shape, dict):
        return ", ".join(f"{key}: {value}" for key, value in shape.items())
    return str(shape)


def _io_shapes(layer) -> tuple[Any, Any]:
    def shapes(tensors):
        return jax.tree.map(lambda t: tuple(t.shape), tensors, is_leaf=lambda t: hasattr(t, "shape"))
    try:
        input_shape = shapes(layer.input)
    except (AttributeError, ValueError):
        input_shape = getattr(layer, "_build_shape", None)
    try:
        output_shape = shapes(layer.output)
    except (AttributeError, ValueError):
        output_shape = getattr(layer, "_output_shape", None)
    return input_shape, output_shape


def _activation_name(layer) -> str:
    activation = layer.activation
    return getattr(activation, "name", None) or getattr(activation, "__name__", None) or str(activation)


def _label(layer, show_shapes, show_dtype, show_layer_names, show_layer_activations, show_trainable) -> str:
    """The HTML-like Graphviz label of one box: name/class, then activation, shapes, dtype, trainable."""
    kind = type(layer).__name__
    columns = max(1, int(show_dtype) + int(show_trainable) + 2 * int(show_shapes))
    title = f"<b>{escape(layer.name)}</b> ({kind})" if show_layer_names else f"<b>{kind}</b>"
    rows = [f'<tr><td colspan="{columns}" bgcolor="black"><font point-size="16" color="white">{title}</font></td></tr>']
    if show_layer_activations and getattr(layer, "activation", None) is not None:
        rows.append(f'<tr><td bgcolor="white" colspan="{columns}"><font point-size="14">Activation: '
                    f"<b>{escape(_activation_name(layer))}</b></font></td></tr>")
    cells = []
    if show_shapes:
        input_shape, output_shape = _io_shapes(layer)
        if kind != "InputLayer":
            cells.append(f'<td bgcolor="white"><font point-size="14">Input shape: '
                         f"<b>{escape(_shape_text(input_shape))}</b></font></td>")
        cells.append(f'<td bgcolor="white"><font point-size="14">Output shape: '
                     f"<b>{escape(_shape_text(output_shape))}</b></font></td>")
    if show_dtype:
        try:
            dtype = jax.tree.map(lambda t: t.dtype, layer.output, is_leaf=lambda t: hasattr(t, "dtype"))
        except (AttributeError, ValueError):
            dtype = None
        cells.append(f'<td bgcolor="white"><font point-size="14">Output dtype: <b>{escape(str(dtype or "?"))}</b>'
                     "</font></td>")
    if show_trainable and getattr(layer, "weights", None):
        color, text = ("forestgreen", "Trainable") if layer.trainable else ("firebrick", "Non-trainable")
        cells.append(f'<td bgcolor="{color}"><font point-size="14" color="white"><b>{text}</b></font></td>')
    if cells:
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return f'<<table border="0" cellborder="1" bgcolor="black" cellpadding="10">{"".join(rows)}</table>>'


def _functional_edges(model) -> tuple[list, list[tuple[Any, Any, int, int]]]:
    """The layers (and ops) of a functional model reached from its outputs, in the model's order, and
    the edges (source layer, destination layer, output index of the source, input index of the destination)."""
    layers, edges, seen = {}, [], set()
    stack = list(model.outputs)
    while stack:
        node = stack.pop()._keras_history
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        layers[id(node.layer)] = node.layer
        for position, tensor in enumerate(node.input_tensors):
            source = tensor._keras_history
            outputs = jax.tree.leaves(source.outputs, is_leaf=lambda t: hasattr(t, "_keras_history"))
            index = next((i for i, out in enumerate(outputs) if out is tensor), 0)
            edges.append((source.layer, node.layer, index, position))
            stack.append(tensor)
    order = {id(layer): i for i, layer in enumerate(model._sublayers())}
    return sorted(layers.values(), key=lambda layer: order.get(id(layer), len(order))), edges


def _exit_layer(layer, index: int, expand: bool):
    """The box an edge leaving `layer` (output `index`) starts from: inside a nested model when expanded."""
    Functional, Sequential = _models()
    while expand and isinstance(layer, (Functional, Sequential)):
        if isinstance(layer, Functional):
            history = layer.outputs[index]._keras_history
            outputs = jax.tree.leaves(history.outputs, is_leaf=lambda t: hasattr(t, "_keras_history"))
            index = next((i for i, out in enumerate(outputs) if out is layer.outputs[index]), 0)
            layer = history.layer
        else:
            layer = layer.layers[-1]
    return layer


def _entry_layer(layer, index: int, expand: bool):
    """The box an edge into `layer` (input `index`) ends at: inside a nested model when expanded."""
    Functional, Sequential = _models()
    while expand and isinstance(layer, (Functional, Sequential)):
        if isinstance(layer, Functional):
            layer, index = layer.inputs[index]._keras_history.layer, 0
        else:
            layer = layer.layers[0]
    return layer


def model_to_dot(model, show_shapes: bool = False, show_dtype: bool = False, show_layer_names: bool = True,
                 rankdir: str = "TB", expand_nested: bool = False, dpi: int = 200, subgraph: bool = False,
                 show_layer_activations: bool = False, show_trainable: bool = False, splines: str = "ortho",
                 **kwargs):
    """The model as a `pydot.Dot` (a `pydot.Cluster` with `subgraph=True`); arguments as `plot_model`.

    Raises:
        ValueError: for a model that is not built, or unknown keyword arguments.
        ImportError: when pydot is not installed.
    """
    pydot = _pydot_for(model, "model_to_dot")
    if kwargs.pop("layer_range", None) is not None:
        raise ValueError("Argument `layer_range` is no longer supported.")
    if kwargs:
        raise ValueError(f"Unrecognized keyword arguments: {kwargs}")
    if subgraph:
        dot = pydot.Cluster(style="dashed", graph_name=model.name)
        dot.set("label", model.name)
        dot.set("labeljust", "l")
    else:
        dot = pydot.Dot()
        for key, value in (("rankdir", rankdir), ("concentrate", True), ("dpi", dpi), ("splines", splines)):
            dot.set(key, value)
        dot.set_node_defaults(shape="record")
    options = dict(show_shapes=show_shapes, show_dtype=show_dtype, show_layer_names=show_layer_names,
                   show_layer_activations=show_layer_activations, show_trainable=show_trainable)

    def box(layer):
        node = pydot.Node(str(id(layer)), label=_label(layer, **options))
        for key, value in (("fontname", "Helvetica"), ("border", "0"), ("margin", "0")):
            node.set(key, value)
        dot.add_node(node)

    def edge(source, destination):
        if not dot.get_edge(str(id(source)), str(id(destination))):
            line = pydot.Edge(str(id(source)), str(id(destination)))
            line.set("penwidth", "2")
            dot.add_edge(line)

    Functional, Sequential = _models()
    if isinstance(model, Sequential):
        layers, edges = model.layers, [(a, b, 0, 0) for a, b in zip(model.layers, model.layers[1:])]
    elif isinstance(model, Functional):
        layers, edges = _functional_edges(model)
    else:
        box(model)  # a subclassed model: one box
        return dot
    for layer in layers:
        if expand_nested and isinstance(layer, (Functional, Sequential)):
            dot.add_subgraph(model_to_dot(layer, expand_nested=True, subgraph=True, **options))
        else:
            box(layer)
    for source, destination, output_index, input_index in edges:
        edge(_exit_layer(source, output_index, expand_nested), _entry_layer(destination, input_index, expand_nested))
    return dot


def plot_model(model, to_file: str | os.PathLike = "model.png", show_shapes: bool = False, show_dtype: bool = False,
               show_layer_names: bool = False, rankdir: str = "TB", expand_nested: bool = False, dpi: int = 200,
               show_layer_activations: bool = False, show_trainable: bool = False, splines: str = "ortho", **kwargs):
    """Draws the model's layer graph into `to_file` (its extension picks the format: png, svg, pdf, ...).

    Args:
        model: a built model (Sequential: a chain; functional: its graph; subclassed: one box).
        to_file: the image file to write.
        show_shapes, show_dtype, show_layer_names, show_layer_activations, show_trainable: what each box shows.
        rankdir: "TB" (top to bottom) or "LR" (left to right).
        expand_nested: draw nested models' layers inside dashed clusters.
        dpi: the image resolution.
        splines: how edges are drawn ("ortho", "curved", "polyline", "spline", "line").

    Returns:
        An `IPython.display.Image` of the file when IPython is installed (and the format is not pdf), else None.

    Raises:
        ImportError: when pydot is not installed (`pip install kerasish[plot]`), or Graphviz's `dot` program
            is not found (`apt-get install graphviz`, `brew install graphviz`, or graphviz.org/download).
        ValueError: for a model that is not built, or unknown keyword arguments.

    Example:
        >>> keras.utils.plot_model(model, "model.png", show_shapes=True)
    """
    pydot = _pydot_for(model, "`plot_model`")
    if not _check_graphviz(pydot):
        raise ImportError("You must install graphviz (see instructions at https://graphviz.gitlab.io/download/; "
                          "`apt-get install graphviz` on Debian/Ubuntu, `brew install graphviz` on macOS) for "
                          "`plot_model` to work: its `dot` program was not found on the PATH.")
    dot = model_to_dot(model, show_shapes=show_shapes, show_dtype=show_dtype, show_layer_names=show_layer_names,
                       rankdir=rankdir, expand_nested=expand_nested, dpi=dpi,
                       show_layer_activations=show_layer_activations, show_trainable=show_trainable, splines=splines,
                       **kwargs)
    to_file = os.fspath(to_file)
    extension = os.path.splitext(to_file)[1][1:] or "png"
    dot.write(to_file, format=extension)
    if extension != "pdf":
        try:
            from IPython import display
        except ImportError:
            return None
        return display.Image(filename=to_file)
    return None
