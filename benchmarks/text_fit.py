"""Shared harness of the text-classifier benchmarks (lstm.py; usable by any binary classifier over
token ids): the Keras-API `fit` run and the hand-written Flax NNX + Optax loop, each timed the same
way, the interleaved rounds of worker processes, and the report table.

Owns: clocks (epoch times, the first trained batch), the subprocess rounds, the table. Must not:
build models (each benchmark script does) or import a framework at module level.

A worker's "marks" are `{"epochs": [seconds per epoch, epoch 0 first], "cpu_epochs": [CPU seconds
of the process (all threads) per epoch], "first": time.time() when the first batch's loss reached
the host}`. On a shared machine the CPU seconds are the steadier measure: wall time includes the
time other processes held the cores.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time

LR, EPS = 1e-3, 1e-7  # Adam, as Keras's defaults write it


def keras_fit(keras, model, x, y, batch_size: int, epochs: int) -> dict:
    """`model.fit` for `epochs` (+ epoch 0), timed by a callback; returns the marks."""
    from systems import _block
    marks: dict = {"epochs": [], "cpu_epochs": []}

    class Clock(keras.callbacks.Callback):
        lazy_batch_logs = True  # kerasish: this hook reads logs once; Keras 3 ignores the attribute

        def on_epoch_begin(self, epoch, logs=None):
            marks["t0"], marks["cpu0"] = time.time(), time.process_time()

        def on_train_batch_end(self, batch, logs=None):
            if "first" not in marks:
                _block(logs)
                marks["first"] = time.time()

        def on_epoch_end(self, epoch, logs=None):
            _block(logs)
            marks["epochs"].append(time.time() - marks["t0"])
            marks["cpu_epochs"].append(time.process_time() - marks["cpu0"])
    model.fit(x, y, batch_size=batch_size, epochs=epochs + 1, shuffle=True, verbose=0, callbacks=[Clock()])
    return marks


def nnx_loop(model, x, y, batch_size: int, epochs: int) -> dict:
    """What a Flax user writes: `nnx.Optimizer(adam)`, an `nnx.jit` step of sigmoid cross-entropy on
    the model's logits, NumPy batches of a shuffled order; returns the marks."""
    import jax
    import jax.numpy as jnp
    import numpy as np
    import optax
    from flax import nnx
    optimizer = nnx.Optimizer(model, optax.adam(LR, eps=EPS), wrt=nnx.Param)

    @nnx.jit
    def train_step(model, optimizer, xb, yb):
        def loss_fn(model):
            logits = model(xb)
            return optax.sigmoid_binary_cross_entropy(logits, yb).mean(), logits
        (loss, logits), grads = nnx.value_and_grad(loss_fn, has_aux=True)(model)
        optimizer.update(model, grads)
        return loss, jnp.mean((logits > 0) == (yb > 0.5))

    marks: dict = {"epochs": [], "cpu_epochs": []}
    rng = np.random.default_rng(0)
    for _ in range(epochs + 1):
        marks["t0"], marks["cpu0"] = time.time(), time.process_time()
        order = rng.permutation(len(x))
        for start in range(0, len(x), batch_size):
            rows = order[start:start + batch_size]
            loss, _ = train_step(model, optimizer, x[rows], y[rows])
            if "first" not in marks:
                jax.block_until_ready(loss)
                marks["first"] = time.time()
        jax.block_until_ready(loss)
        marks["epochs"].append(time.time() - marks["t0"])
        marks["cpu_epochs"].append(time.process_time() - marks["cpu0"])
    return marks


def result(system: str, samples: int, marks: dict, spawn: float, clock) -> dict:
    """A worker's answer: samples/s and samples per CPU-second of the timed epochs, time to the first
    trained batch, compile time."""
    return {"system": system, "samples_per_s": samples / statistics.median(marks["epochs"][1:]),
            "samples_per_cpu_s": samples / statistics.median(marks["cpu_epochs"][1:]),
            "first_batch_s": marks["first"] - spawn, "compile_s": clock.seconds()}


def rounds(script: str, systems: list[str], count: int, arguments: list[str]) -> dict[str, list[dict]]:
    """Runs `script --worker SYSTEM ARGUMENTS --spawn T` for every system, `count` rounds, the order
    rotating each round; each worker prints its `result` as the last line of its stdout."""
    env = {**os.environ, "JAX_PLATFORMS": os.environ.get("JAX_PLATFORMS", "cpu"), "KERAS_BACKEND": "jax"}
    runs: dict[str, list[dict]] = {s: [] for s in systems}
    for index in range(count):
        shift = index % len(systems)
        for system in systems[shift:] + systems[:shift]:
            command = [sys.executable, script, "--worker", system, *arguments, "--spawn", repr(time.time())]
            out = subprocess.run(command, capture_output=True, text=True, env=env)
            if out.returncode:
                raise RuntimeError(f"{system} failed:\n{out.stderr[-3000:]}")
            runs[system].append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(json.dumps(runs[system][-1]), file=sys.stderr)
    return runs


def table(runs: dict[str, list[dict]], reference: str = "kerasish") -> list[str]:
    """Markdown rows: each system's medians, then `reference` / each other system (median of the
    per-round ratios)."""
    def median(system, key):
        return statistics.median(r[key] for r in runs[system])

    def ratio(a, b, key):
        return statistics.median(x[key] / y[key] for x, y in zip(runs[a], runs[b]))
    lines = ["| system | samples/s (median) | samples per CPU-second | time to first trained batch, s | compile, s |",
             "| --- | --- | --- | --- | --- |"]
    lines += [f"| {s} | {median(s, 'samples_per_s'):,.0f} | {median(s, 'samples_per_cpu_s'):,.0f} | "
              f"{median(s, 'first_batch_s'):.1f} | {median(s, 'compile_s'):.1f} |" for s in runs]
    lines += ["", "| ratio (median of per-round ratios) | wall | per CPU-second |", "| --- | --- | --- |"]
    lines += [f"| {reference} / {other} | {ratio(reference, other, 'samples_per_s'):.2f} | "
              f"{ratio(reference, other, 'samples_per_cpu_s'):.2f} |" for other in runs if other != reference
              and reference in runs]
    return lines
