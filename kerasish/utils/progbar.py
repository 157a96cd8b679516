"""Keras's progress bar: `12/422 ━━━━━━━━━━━━━━━━━━━━ 3s 8ms/step - accuracy: 0.91 - loss: 0.30`.

Draws in place on a terminal (ANSI styles as Keras); elsewhere prints one line when a bar completes.
Values are asked for through a function, so the caller reads device values only when a line is drawn.
"""

from __future__ import annotations

import sys
import time
from typing import Callable, Mapping


def _format_time(seconds: float) -> str:
    if seconds >= 3600:
        return f"{int(seconds // 3600)}:{int(seconds % 3600 // 60):02d}:{int(seconds % 60):02d}"
    if seconds >= 60:
        return f"{int(seconds // 60)}:{int(seconds % 60):02d}"
    return f"{int(seconds)}s"


def _format_per_step(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.0f}s/step"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/step"
    return f"{seconds * 1e6:.0f}us/step"


def format_logs(values: Mapping[str, float]) -> str:
    return "".join(f" - {k}: {v:.4f}" if abs(v) >= 1e-3 or v == 0 else f" - {k}: {v:.4e}"
                   for k, v in values.items())


class Progbar:
    """A progress bar for `target` steps (None if unknown); `verbose` 1 = bar, 2 = one line at the end."""

    def __init__(self, target: int | None, verbose: int = 1, interval: float = 0.1, stream=None):
        self.target, self.verbose, self.interval = target, verbose, interval
        self.stream = stream or sys.stdout
        self.dynamic = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.start = time.perf_counter()
        self._last_draw = 0.0
        self._width = 0

    def update(self, current: int, values: Callable[[], Mapping[str, float]] | Mapping[str, float] = (),
               finalize: bool | None = None) -> None:
        now = time.perf_counter()
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        if not finalize and (not self.dynamic or self.verbose != 1 or now - self._last_draw < self.interval):
            return
        self._last_draw = now
        logs = values() if callable(values) else values
        elapsed = now - self.start
        per_step = elapsed / max(current, 1)
        if self.verbose == 2:
            if finalize:
                self._write(f"{current}/{self.target} - {_format_time(elapsed)} - "
                            f"{_format_per_step(per_step)}{format_logs(logs)}\n")
            return
        self._write(self._line(current, elapsed, per_step, logs, finalize) + ("\n" if finalize else ""))

    def _line(self, current, elapsed, per_step, logs, finalize) -> str:
        width = 20
        if self.target:
            done = min(width, int(width * current / self.target))
            bar = "━" * width
            counter = f"{current}/{self.target}"
            if self.dynamic:
                bar = f"\x1b[32m{'━' * done}\x1b[0m\x1b[37m{'━' * (width - done)}\x1b[0m"
                counter = f"\x1b[1m{counter}\x1b[0m"
            shown = elapsed if finalize else per_step * (self.target - current)
        else:
            bar, counter, shown = "", f"{current}/Unknown", elapsed
        timing = _format_time(shown)
        if self.dynamic:
            timing = f"\x1b[1m{timing}\x1b[0m"
        line = f"{counter} {bar} {timing} {_format_per_step(per_step)}{format_logs(logs)}"
        if self.dynamic:
            padding = max(0, self._width - len(line))
            self._width = len(line)
            return "\r" + line + " " * padding
        return line

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()
