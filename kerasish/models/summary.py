"""`model.summary()`: Keras 3's table of layers, output shapes and parameter counts."""

from __future__ import annotations

import math

import numpy as np


def _bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.2f} {unit}"
        size /= 1024
    return f"{size:.2f} GB"


def _weight_bytes(weights) -> int:
    return sum(math.prod(w.shape) * np.dtype(w.dtype).itemsize for w in weights)


def print_summary(model, line_length=None, print_fn=None, show_trainable=False) -> None:
    print_fn = print_fn or (lambda line, *a, **k: print(line))
    connections = model._connections() if hasattr(model, "_connections") else None
    widths = [33, 24, 15] + ([9] if show_trainable else []) + ([25] if connections else [])
    if line_length:
        scale = line_length / sum(widths)
        widths = [max(8, int(w * scale)) for w in widths]
    headers = ["Layer (type)", "Output Shape", "Param #"] + (["Trainable"] if show_trainable else []) + \
        (["Connected to"] if connections else [])
    aligns = ["<", "<", ">", "<", "<"]

    def row(cells, left, sep, right, aligns):
        parts = []
        for cell, width, align in zip(cells, widths, aligns):
            text = str(cell)
            if len(text) > width - 2:
                text = text[: width - 3] + "…"
            parts.append(" " + (text.rjust(width - 2) if align == ">" else text.ljust(width - 2)) + " ")
        return left + sep.join(parts) + right

    def rule(left, mid, right, fill):
        return left + mid.join(fill * w for w in widths) + right

    lines = [f'Model: "{model.name}"', rule("┏", "┳", "┓", "━"),
             row(headers, "┃", "┃", "┃", aligns), rule("┡", "╇", "┩", "━")]
    layers = model.layers
    for i, layer in enumerate(layers):
        shape = str(layer._output_shape) if layer.built and layer._output_shape is not None else "?"
        params = f"{layer.count_params():,}" if layer.built else "0 (unbuilt)"
        cells = [f"{layer.name} ({type(layer).__name__})", shape, params]
        if show_trainable:
            cells.append("Y" if layer.trainable else "N")
        sources = connections[i] if connections else []
        lines.append(row(cells + ([sources[0] if sources else "-"] if connections else []), "│", "│", "│", aligns))
        for extra in sources[1:]:  # one line per further connection, as Keras prints them
            lines.append(row([""] * len(cells) + [extra], "│", "│", "│", aligns))
        if i < len(layers) - 1:
            lines.append(rule("├", "┼", "┤", "─"))
    lines.append(rule("└", "┴", "┘", "─"))
    trainable = model.trainable_weights if model.built else []
    frozen = model.non_trainable_weights if model.built else []
    n_train = sum(math.prod(w.shape) for w in trainable)
    n_frozen = sum(math.prod(w.shape) for w in frozen)
    b_train, b_frozen = _weight_bytes(trainable), _weight_bytes(frozen)
    total, total_bytes = n_train + n_frozen, b_train + b_frozen
    opt = model.optimizer
    opt_state = getattr(opt, "state", None) if opt is not None else None
    if opt_state is not None:
        import jax
        leaves = [leaf for leaf in jax.tree.leaves(opt_state) if hasattr(leaf, "shape")]
        n_opt = sum(math.prod(leaf.shape) for leaf in leaves)
        total, total_bytes = total + n_opt, total_bytes + sum(leaf.size * leaf.dtype.itemsize for leaf in leaves)
    lines.append(f" Total params: {total:,} ({_bytes(total_bytes)})")
    lines.append(f" Trainable params: {n_train:,} ({_bytes(b_train)})")
    lines.append(f" Non-trainable params: {n_frozen:,} ({_bytes(b_frozen)})")
    if opt_state is not None:
        lines.append(f" Optimizer params: {n_opt:,} ({_bytes(total_bytes - b_train - b_frozen)})")
    for line in lines:
        print_fn(line)
