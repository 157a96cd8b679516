"""Shared pieces of the single-model benchmarks (transformer.py; lstm.py can use them too): the
timed training loops of each kind of system and the interleaved-rounds driver.

Owns: what one epoch's clock and the first trained batch mean for a Keras-API `fit` and for a
hand-written `nnx.jit` step loop, running each system in its own fresh process round after round
(the order rotated every round), and the report table. Must not: know any model.

A worker prints one JSON line: {"system", "samples_per_s", "first_batch_s", "compile_s"}.
"""

from __future__ import annotations

import datetime
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np


def fit_marks(keras, model, x, y, batch_size: int, epochs: int) -> dict:
    """`model.fit` for epoch 0 plus `epochs` timed ones: per-epoch seconds and when the first
    batch's results reached the host."""
    from systems import _block
    marks: dict = {"epochs": []}

    class Clock(keras.callbacks.Callback):
        lazy_batch_logs = True  # kerasish: this hook reads logs once; Keras 3 ignores the attribute

        def on_epoch_begin(self, epoch, logs=None):
            marks["t0"] = time.time()

        def on_train_batch_end(self, batch, logs=None):
            if "first" not in marks:
                _block(logs)
                marks["first"] = time.time()

        def on_epoch_end(self, epoch, logs=None):
            _block(logs)
            marks["epochs"].append(time.time() - marks["t0"])
    model.fit(x, y, batch_size=batch_size, epochs=epochs + 1, shuffle=True, verbose=0, callbacks=[Clock()])
    return marks


def step_loop_marks(train_step, model, optimizer, x, y, batch_size: int, epochs: int) -> dict:
    """The loop a JAX user writes: a per-epoch permutation, NumPy batches, `train_step(model,
    optimizer, xb, yb) -> (loss, ...)` per batch."""
    import jax
    marks: dict = {"epochs": []}
    rng = np.random.default_rng(0)
    for _ in range(epochs + 1):
        marks["t0"] = time.time()
        order = rng.permutation(len(x))
        for start in range(0, len(x), batch_size):
            rows = order[start:start + batch_size]
            loss, *_ = train_step(model, optimizer, x[rows], y[rows])
            if "first" not in marks:
                jax.block_until_ready(loss)
                marks["first"] = time.time()
        jax.block_until_ready(loss)
        marks["epochs"].append(time.time() - marks["t0"])
    return marks


def result(system: str, samples: int, marks: dict, spawn: float, clock) -> dict:
    return {"system": system, "samples_per_s": samples / statistics.median(marks["epochs"][1:]),
            "first_batch_s": marks["first"] - spawn, "compile_s": clock.seconds()}


def run_rounds(script: str, systems: list[str], rounds: int, worker_args: list[str]) -> dict[str, list[dict]]:
    """Runs `script --worker SYSTEM --spawn T *worker_args` for every system, `rounds` times."""
    env = {**os.environ, "JAX_PLATFORMS": os.environ.get("JAX_PLATFORMS", "cpu"), "KERAS_BACKEND": "jax"}
    runs: dict[str, list[dict]] = {s: [] for s in systems}
    for round_index in range(rounds):
        for system in systems[round_index % len(systems):] + systems[:round_index % len(systems)]:
            command = [sys.executable, script, "--worker", system, "--spawn", repr(time.time()), *worker_args]
            out = subprocess.run(command, capture_output=True, text=True, env=env)
            if out.returncode:
                raise RuntimeError(f"{system} failed:\n{out.stderr[-3000:]}")
            runs[system].append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(json.dumps(runs[system][-1]), file=sys.stderr)
    return runs


def report(title: str, runs: dict[str, list[dict]]) -> str:
    """A Markdown table of medians over rounds, and kerasish's ratios measured within each round."""
    import jax

    def median(system, key):
        return statistics.median(r[key] for r in runs[system])

    def ratio(a, b):
        return statistics.median(x["samples_per_s"] / y["samples_per_s"] for x, y in zip(runs[a], runs[b]))
    lines = [f"# {title}, {datetime.date.today()} (device: {jax.default_backend()}, {os.cpu_count()} cores)", "",
             f"Command: `python {os.path.relpath(sys.argv[0])} {' '.join(sys.argv[1:])}`", "",
             "| system | samples/s (median) | time to first trained batch, s | compile, s |", "| --- | --- | --- | --- |"]
    lines += [f"| {s} | {median(s, 'samples_per_s'):,.0f} | {median(s, 'first_batch_s'):.1f} | "
              f"{median(s, 'compile_s'):.1f} |" for s in runs]
    if "kerasish" in runs:
        lines += ["", "| ratio (median of per-round ratios) | value |", "| --- | --- |"]
        lines += [f"| kerasish / {other} | {ratio('kerasish', other):.2f} |" for other in runs if other != "kerasish"]
    return "\n".join(lines)
