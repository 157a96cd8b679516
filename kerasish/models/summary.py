"""`model.summary()`: Keras 3's table of layers, output shapes and parameter counts."""

from __future__ import annotations

import math
import shutil
import textwrap

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


def _column_widths(positions: list[float], line_length: int) -> list[int]:
    """Keras's column widths for a table `line_length` wide (the positions are fractions of it),
    fitted as its table renderer fits them: each column also takes two spaces of padding, and the
    excess over the room left by the borders is taken from the columns evenly."""
    widths, current = [], 0
    for position in positions:
        width = int(position * line_length) - current
        if width < 4:
            raise ValueError("Insufficient console width to print summary.")
        widths.append(width + 2)
        current += width
    excess = sum(widths) - (line_length - len(widths) - 1)
    for i in range(len(widths)):
        if excess <= 0:
            break
        cut = round(excess / (len(widths) - i))
        widths[i] -= cut
        excess -= cut
    return widths


def _fit(text: str, width: int) -> list[str]:
    """A cell's lines: wrapped at spaces, a word longer than the column cut with "…"."""
    lines = textwrap.wrap(text, width, break_long_words=False) or [""]
    return [line if len(line) <= width else line[:width - 1] + "…" for line in lines]


def print_summary(model, line_length=None, positions=None, print_fn=None, show_trainable=False) -> None:
    connections = model._connections() if hasattr(model, "_connections") else None
    if connections is None:
        default_length, positions = 88, positions or [0.45, 0.80, 1.0]
        headers, aligns = ["Layer (type)", "Output Shape", "Param #"], ["<", "<", ">"]
    else:
        default_length, positions = 108, positions or [0.3, 0.56, 0.74, 1.0]
        headers, aligns = ["Layer (type)", "Output Shape", "Param #", "Connected to"], ["<", "<", ">", "<"]
    if show_trainable:
        default_length += 12
        positions = [p * 0.90 for p in positions] + [1.0]
        headers, aligns = headers + ["Trainable"], aligns + ["^"]
    line_length = line_length or min(default_length, shutil.get_terminal_size().columns - 4)
    widths = _column_widths(positions, line_length)

    def row(cells, left, sep, right, aligns):
        """One table row; a long cell wraps onto more lines, as Keras's table wraps it."""
        wrapped = [_fit(str(cell), width - 2) for cell, width in zip(cells, widths)]
        lines = []
        for k in range(max(len(w) for w in wrapped)):
            parts = []
            for pieces, width, align in zip(wrapped, widths, aligns):
                text = pieces[k] if k < len(pieces) else ""
                parts.append(" " + format(text, f"{align}{width - 2}") + " ")
            lines.append(left + sep.join(parts) + right)
        return "\n".join(lines)

    def rule(left, mid, right, fill):
        return left + mid.join(fill * w for w in widths) + right

    lines = [f'Model: "{model.name}"', rule("┏", "┳", "┓", "━"),
             row(headers, "┃", "┃", "┃", aligns), rule("┡", "╇", "┩", "━")]
    layers = model.layers
    for i, layer in enumerate(layers):
        shape = str(layer._output_shape) if layer.built and layer._output_shape is not None else "?"
        params = f"{layer.count_params():,}" if layer.built else "0 (unbuilt)"
        cells = [f"{layer.name} ({type(layer).__name__})", shape, params]
        if connections is not None:
            cells.append(", ".join(connections[i]) or "-")
        trainable = [("Y" if layer.trainable else "N") if layer.weights else "-"] if show_trainable else []
        lines.append(row(cells + trainable, "│", "│", "│", aligns))
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
    if opt_state is not None:  # Keras counts the optimizer's variables (iteration, learning rate, slots)
        leaves = [np.asarray(v) for v in opt.variables]
        n_opt = sum(leaf.size for leaf in leaves)
        total, total_bytes = total + n_opt, total_bytes + sum(leaf.nbytes for leaf in leaves)
    lines.append(f" Total params: {total:,} ({_bytes(total_bytes)})")
    lines.append(f" Trainable params: {n_train:,} ({_bytes(b_train)})")
    lines.append(f" Non-trainable params: {n_frozen:,} ({_bytes(b_frozen)})")
    if opt_state is not None:
        lines.append(f" Optimizer params: {n_opt:,} ({_bytes(total_bytes - b_train - b_frozen)})")
    if print_fn is None:
        print("\n".join(lines))
    else:  # Keras hands a print_fn the whole table at once
        print_fn("\n".join(lines) + "\n")
