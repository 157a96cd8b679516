"""Plots for the examples: training curves, decision boundaries, filters, feature maps, gradient norms.

Owns: turning arrays and `History` objects into PNG files. Must not: train, change a model, or
touch matplotlib's global state. Each function draws on its own `matplotlib.figure.Figure` (no
pyplot, so no display and no backend switch is needed: PNGs are rendered by Agg) and returns the
path it wrote. matplotlib is an optional extra (`pip install kerasish[plot]`), imported only here,
only when a function is called.

    >>> history = model.fit(x, y, validation_split=0.1, epochs=5)
    >>> keras.utils.plot_history(history, "history.png")
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

PathLike = str | os.PathLike


def _figure(ncols: int = 1, nrows: int = 1, *, panel_size=(4.8, 3.6), **subplot_kw):
    """A new Figure (not registered with pyplot) and its axes as a flat list."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError("Plotting needs matplotlib, which is an optional extra of kerasish. "
                          "Install it with `pip install kerasish[plot]` (or `pip install matplotlib`).") from None
    fig = Figure(figsize=(panel_size[0] * ncols, panel_size[1] * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, **subplot_kw)
    return fig, [ax for row in axes for ax in row]


def _save(fig, path: PathLike) -> str:
    path = Path(path)
    if path.suffix == "":
        raise ValueError(f"Expected `path` to name an image file such as 'plot.png'. Received: path={str(path)!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    return str(path)


def _series(values: Any, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"Expected the series '{name}' to be a non-empty 1-D sequence of numbers. "
                         f"Received a value of shape {array.shape}.")
    return array


def _pretty(name: str) -> str:
    return name.replace("_", " ")


# -- training curves ------------------------------------------------------------------------

def plot_history(history: Any, path: PathLike, metrics: Sequence[str] | None = None,
                 title: str | None = None) -> str:
    """One panel per metric of a `fit` run, the training curve with its `val_` curve.

    Args:
        history: what `model.fit` returns (a `History`), or its `.history` dict.
        path: the PNG to write (parent directories are created).
        metrics: names to plot (e.g. `["loss", "accuracy"]`); default every metric that is not `val_*`.
        title: a title over all panels.

    Returns:
        `path` as a string.

    Raises:
        ValueError: if the history is empty or lacks a requested metric.
        TypeError: if `history` is neither a History nor a dict.
    """
    logs = getattr(history, "history", history)
    if not isinstance(logs, Mapping):
        raise TypeError(f"Expected a History (what `fit` returns) or its `.history` dict. "
                        f"Received: {type(history).__name__}")
    if not logs:
        raise ValueError("The history is empty: was `fit` run for at least one epoch?")
    if metrics is None:
        metrics = [name for name in logs if not name.startswith("val_")] or list(logs)
        metrics.sort(key=lambda name: name != "loss")  # loss first, then the metrics in their order
    else:
        metrics = [metrics] if isinstance(metrics, str) else list(metrics)
        missing = [name for name in metrics if name not in logs]
        if missing or not metrics:
            raise ValueError(f"Metric(s) {missing} are not in the history, which has {sorted(logs)}.")
    fig, axes = _figure(len(metrics))
    for ax, name in zip(axes, metrics):
        train = _series(logs[name], name)
        epochs = np.arange(1, len(train) + 1)
        ax.plot(epochs, train, marker="o", markersize=3, label="training")
        if f"val_{name}" in logs:
            val = _series(logs[f"val_{name}"], f"val_{name}")
            ax.plot(np.arange(1, len(val) + 1), val, marker="o", markersize=3, label="validation")
        ax.set_xlabel("epoch")
        ax.set_ylabel(_pretty(name))
        ax.set_title(_pretty(name))
        ax.grid(alpha=0.3)
        ax.legend()
        _integer_ticks(ax)
    if title:
        fig.suptitle(title)
    return _save(fig, path)


def plot_curves(curves: Mapping[str, Any], path: PathLike, *, title: str | None = None, xlabel: str = "epoch",
                ylabel: str | None = None, logy: bool = False, start: int = 1, sharey: bool = False) -> str:
    """Several named series on shared axes, e.g. the training loss of each optimizer.

    `curves` maps a legend label to a 1-D series. To draw side-by-side panels instead, map each
    panel title to such a dict (`{"L2": {"training": [...], "validation": [...]}, ...}`); a label
    used in several panels keeps its colour.

    Args:
        curves: `{label: series}` or `{panel title: {label: series}}`.
        path: the PNG to write.
        title: the figure's title.
        xlabel, ylabel: axis labels.
        logy: a logarithmic y axis.
        start: the x value of each series' first point (1 for epochs, 0 for steps).
        sharey: panels share their axes (to compare the same quantity across panels).

    Returns:
        `path` as a string.

    Raises:
        ValueError: on an empty mapping, a series that is not 1-D numbers, or mixing the two forms.
    """
    if not isinstance(curves, Mapping) or not curves:
        raise ValueError(f"Expected a non-empty dict of series. Received: {curves!r}")
    nested = [isinstance(value, Mapping) for value in curves.values()]
    if any(nested) and not all(nested):
        raise ValueError("Pass either {label: series} or {panel title: {label: series}}, not a mixture.")
    panels = dict(curves) if all(nested) else {None: curves}
    ncols = 2 if len(panels) == 4 else min(len(panels), 3)
    size = (6.4, 4.2) if len(panels) == 1 else (4.8, 3.6)
    fig, axes = _figure(ncols, math.ceil(len(panels) / ncols), panel_size=size,
                        sharex=bool(sharey), sharey=bool(sharey))
    for ax in axes[len(panels):]:
        ax.axis("off")
    colours: dict[str, Any] = {}
    longest = max(len(values) for series in panels.values() for values in (series or {"": []}).values())
    for ax, (panel_title, series) in zip(axes, panels.items()):
        if not series:
            raise ValueError(f"Panel {panel_title!r} has no series.")
        for label, values in series.items():
            values = _series(values, str(label))
            style = {"color": colours[label]} if label in colours else {}
            line, = ax.plot(np.arange(start, start + len(values)), values, label=str(label),
                            marker="o" if longest <= 30 else None, markersize=3, **style)
            colours.setdefault(label, line.get_color())
        if panel_title is not None:
            ax.set_title(str(panel_title))
        if not sharey or ax in axes[len(panels) - ncols:]:  # shared axes: x labels on the bottom row only
            ax.set_xlabel(xlabel)
        if logy:
            ax.set_yscale("log")
        ax.grid(alpha=0.3)
        ax.legend()
        if xlabel == "epoch":
            _integer_ticks(ax)
    if ylabel:
        for ax in axes[:len(panels)][::ncols] if sharey else axes[:len(panels)]:
            ax.set_ylabel(ylabel)
    if title:
        fig.suptitle(title)
    return _save(fig, path)


def plot_gradient_norms(norms: Mapping[str, Any], path: PathLike, *, layer_names: Sequence[str] | None = None,
                        title: str | None = "Gradient norm of each layer's kernel",
                        xlabel: str = "layer (1 = next to the input)") -> str:
    """Per-layer gradient norms of several networks, on a log scale, input side on the left.

    Args:
        norms: `{network label: per-layer norms}`, every series as long as the network is deep.
        path: the PNG to write.
        layer_names: tick labels for the layers (default 1, 2, ...).
        title: the figure's title.
        xlabel: the x axis label.

    Returns:
        `path` as a string.

    Raises:
        ValueError: on an empty mapping, series of different lengths, or norms that are not positive.
    """
    if not isinstance(norms, Mapping) or not norms:
        raise ValueError(f"Expected a non-empty dict {{label: per-layer norms}}. Received: {norms!r}")
    series = {label: _series(values, str(label)) for label, values in norms.items()}
    depths = {len(values) for values in series.values()}
    if len(depths) != 1:
        raise ValueError(f"Every network needs one norm per layer and the same number of layers. "
                         f"Received lengths { {k: len(v) for k, v in series.items()} }.")
    if any(np.any(~np.isfinite(v)) or np.any(v <= 0) for v in series.values()):
        raise ValueError("Gradient norms must be finite and positive to be drawn on a log scale.")
    depth = depths.pop()
    if layer_names is not None and len(layer_names) != depth:
        raise ValueError(f"Expected {depth} layer names. Received {len(layer_names)}.")
    fig, (ax,) = _figure(panel_size=(7.0, 4.2))
    x = np.arange(1, depth + 1)
    for label, values in series.items():
        ax.plot(x, values, marker="o", label=str(label))
    ax.set_yscale("log")
    ax.set_xticks(x, layer_names if layer_names is not None else [str(i) for i in x])
    ax.set_xlabel(xlabel)
    ax.set_ylabel("gradient norm (log scale)")
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    if title:
        ax.set_title(title)
    return _save(fig, path)


# -- what a model learned -------------------------------------------------------------------

def plot_decision_boundary(model: Any, x: Any, y: Any, path: PathLike, *, resolution: int = 200,
                           feature_names: Sequence[str] = ("feature 1", "feature 2"),
                           class_names: Sequence[str] = ("class 0", "class 1"), title: str | None = None) -> str:
    """A two-feature binary classifier's predicted probability over the plane, its 0.5 contour,
    and the data points coloured by their true class.

    The model is called on a grid covering `x` (with a margin) through `model.predict`; its output
    is read as P(class 1): one sigmoid unit, or the second column of a two-unit softmax.

    Args:
        model: a trained model with `predict` taking `(n, 2)` inputs.
        x: the points, shape `(n, 2)`, in the units the model takes.
        y: their classes, 0/1 of shape `(n,)` (or `(n, 1)`, or one-hot `(n, 2)`).
        path: the PNG to write.
        resolution: grid points per axis.
        feature_names: the axis labels.
        class_names: legend names of class 0 and class 1.
        title: the plot's title.

    Returns:
        `path` as a string.

    Raises:
        ValueError: if `x` is not `(n, 2)`, `y` does not match it, or the model's output is not one
            probability (or two) per point.
    """
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 2 or x.shape[1] != 2 or len(x) == 0:
        raise ValueError(f"plot_decision_boundary draws two features: expected `x` of shape (n, 2). "
                         f"Received shape {x.shape}.")
    labels = np.asarray(y)
    if labels.ndim == 2 and labels.shape[1] == 2:
        labels = labels.argmax(axis=1)
    labels = labels.reshape(-1)
    if len(labels) != len(x):
        raise ValueError(f"`y` has {len(labels)} labels for {len(x)} points.")
    if isinstance(resolution, bool) or not isinstance(resolution, int) or resolution < 2:
        raise ValueError(f"Expected `resolution` to be an integer >= 2. Received: resolution={resolution!r}")
    lo, hi = x.min(axis=0), x.max(axis=0)
    margin = 0.05 * np.where(hi > lo, hi - lo, 1.0)
    gx, gy = np.meshgrid(np.linspace(lo[0] - margin[0], hi[0] + margin[0], resolution),
                         np.linspace(lo[1] - margin[1], hi[1] + margin[1], resolution))
    grid = np.stack([gx.ravel(), gy.ravel()], axis=1).astype(np.float32)
    prob = np.asarray(model.predict(grid, batch_size=4096, verbose=0))
    if prob.ndim == 2 and prob.shape[1] == 2:
        prob = prob[:, 1]
    elif prob.ndim == 2 and prob.shape[1] == 1:
        prob = prob[:, 0]
    if prob.shape != (len(grid),):
        raise ValueError(f"Expected the model to output one probability (or two softmax columns) per point. "
                         f"Received output of shape {prob.shape}.")
    prob = prob.reshape(gx.shape)

    fig, (ax,) = _figure(panel_size=(6.4, 5.0))
    filled = ax.contourf(gx, gy, prob, levels=np.linspace(0, 1, 11), cmap="RdBu", alpha=0.45, vmin=0, vmax=1)
    ax.contour(gx, gy, prob, levels=[0.5], colors="black", linewidths=2)
    fig.colorbar(filled, ax=ax, label=f"model's P({class_names[1]})")
    for value, name, colour, marker in ((0, class_names[0], "tab:red", "v"), (1, class_names[1], "tab:blue", "o")):
        chosen = labels == value
        ax.scatter(x[chosen, 0], x[chosen, 1], c=colour, marker=marker, s=28, edgecolors="black",
                   linewidths=0.6, label=name)
    ax.plot([], [], color="black", linewidth=2, label="decision boundary (P = 0.5)")
    ax.set_xlabel(feature_names[0])
    ax.set_ylabel(feature_names[1])
    ax.legend(loc="best", framealpha=0.9, fontsize="small")
    if title:
        ax.set_title(title)
    return _save(fig, path)


def plot_filters(weights: Any, path: PathLike, *, title: str | None = None) -> str:
    """A convolution kernel's filters as a grid of small grey images (one per output channel).

    Args:
        weights: a Conv2D kernel, shape `(kernel_h, kernel_w, in_channels, filters)` (e.g.
            `model.layers[0].get_weights()[0]`); with several input channels their mean is shown.
        path: the PNG to write.
        title: the figure's title.

    Returns:
        `path` as a string.

    Raises:
        ValueError: if `weights` is not 4-D.
    """
    kernel = np.asarray(weights, dtype=np.float32)
    if kernel.ndim != 4:
        raise ValueError(f"Expected a Conv2D kernel of shape (kernel_h, kernel_w, in_channels, filters). "
                         f"Received shape {kernel.shape}.")
    images = kernel.mean(axis=2).transpose(2, 0, 1)  # (filters, h, w)
    limit = float(np.abs(images).max()) or 1.0
    return _grid(images, path, title=title, cmap="gray", vmin=-limit, vmax=limit,
                 names=[f"filter {i}" for i in range(len(images))], colorbar_label="weight")


def plot_feature_maps(maps: Any, path: PathLike, *, image: Any = None, title: str | None = None) -> str:
    """A layer's output channels for one input, as a grid of images (optionally after the input).

    Args:
        maps: the outputs for one input, shape `(h, w, channels)` or `(1, h, w, channels)`.
        path: the PNG to write.
        image: the input image (`(h, w)` or `(h, w, 1)`), drawn first when given.
        title: the figure's title.

    Returns:
        `path` as a string.

    Raises:
        ValueError: if `maps` is not one image's feature maps, or `image` is not a grey image.
    """
    maps = np.asarray(maps, dtype=np.float32)
    if maps.ndim == 4 and maps.shape[0] == 1:
        maps = maps[0]
    if maps.ndim != 3:
        raise ValueError(f"Expected the feature maps of one input, shape (h, w, channels) or (1, h, w, channels). "
                         f"Received shape {maps.shape}.")
    images = list(maps.transpose(2, 0, 1))
    names = [f"channel {i}" for i in range(len(images))]
    first = None
    if image is not None:
        first = np.asarray(image, dtype=np.float32).squeeze()
        if first.ndim != 2:
            raise ValueError(f"Expected `image` to be one grey image (h, w). Received shape {np.shape(image)}.")
    return _grid(images, path, title=title, cmap="viridis", names=names, first=first, colorbar_label="activation")


def _grid(images, path, *, title, cmap, names, vmin=None, vmax=None, first=None, colorbar_label=None) -> str:
    count = len(images) + (first is not None)
    # 6 to 11 columns, the fewest empty cells (33 panels: 3 rows of 11; 32: 4 rows of 8)
    ncols = count if count <= 8 else min(range(6, 12), key=lambda c: (-count % c, abs(c - 8)))
    nrows = math.ceil(count / ncols)
    fig, axes = _figure(ncols, nrows, panel_size=(1.3, 1.45))
    if vmin is None:
        vmin, vmax = float(np.min(images)), float(np.max(images))
    panels = list(zip(images, names))
    mappable = None
    for i, ax in enumerate(axes):
        ax.set_xticks([])
        ax.set_yticks([])
        if first is not None and i == 0:
            ax.imshow(first, cmap="gray_r")
            ax.set_title("input", fontsize=8)
            continue
        k = i - (first is not None)
        if k >= len(panels):
            ax.axis("off")
            continue
        image, name = panels[k]
        mappable = ax.imshow(image, cmap=cmap, vmin=vmin, vmax=vmax)
        ax.set_title(name, fontsize=8)
    if mappable is not None:
        fig.colorbar(mappable, ax=axes, shrink=0.8, label=colorbar_label)
    if title:
        fig.suptitle(title)
    return _save(fig, path)


def _integer_ticks(ax) -> None:
    """Whole-number ticks on the x axis (epochs), with some room around a single point."""
    from matplotlib.ticker import MaxNLocator
    lo, hi = ax.dataLim.intervalx
    if hi - lo < 2:
        ax.set_xlim(lo - 1, hi + 1)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


__all__ = ["plot_curves", "plot_decision_boundary", "plot_feature_maps", "plot_filters", "plot_gradient_norms",
           "plot_history"]
