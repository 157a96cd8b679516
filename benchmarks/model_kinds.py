"""Throughput of the same network written as a Sequential, a functional and a subclassed model (the
one-object-one-graph promise: same compiled program, same speed), and of a two-input, two-output
functional model against Keras 3, each system in its own process, interleaved over rounds.

    python benchmarks/model_kinds.py [--rounds 3] [--out benchmarks/results/model-kinds-DATE.md]

The two-input two-output model has the sizes of the Keras functional API guide's ticket classifier
(12 tags, 10,000-word vocabulary, 4 departments, 64-wide embeddings; titles of 10 words, bodies of
100), with the guide's LSTMs replaced by mean pooling over the words (a `keras.ops.mean` node).
Reported: samples per second of steady-state epochs (the first epoch, which compiles, is left out),
median over rounds, and the ratios measured within each round.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

SYSTEMS = ["mlp-sequential", "mlp-functional", "mlp-subclassed", "cnn-sequential", "cnn-functional",
           "cnn-subclassed", "multi-io-kerasish", "multi-io-keras3"]


def _mlp(k, kind):
    if kind == "sequential":
        return k.Sequential([k.Input((784,)), k.layers.Dense(512, activation="relu"),
                             k.layers.Dense(512, activation="relu"), k.layers.Dense(10, activation="softmax")])
    if kind == "functional":
        inputs = k.Input((784,))
        x = k.layers.Dense(512, activation="relu")(inputs)
        x = k.layers.Dense(512, activation="relu")(x)
        return k.Model(inputs, k.layers.Dense(10, activation="softmax")(x))

    class MLP(k.Model):
        def __init__(self):
            super().__init__()
            self.a, self.b = k.layers.Dense(512, activation="relu"), k.layers.Dense(512, activation="relu")
            self.out = k.layers.Dense(10, activation="softmax")

        def call(self, inputs):
            return self.out(self.b(self.a(inputs)))
    return MLP()


def _cnn(k, kind):
    def stack():
        return [k.layers.Conv2D(32, 3, activation="relu"), k.layers.MaxPooling2D(), k.layers.Conv2D(64, 3, activation="relu"),
                k.layers.MaxPooling2D(), k.layers.Flatten(), k.layers.Dropout(0.5), k.layers.Dense(10, activation="softmax")]
    if kind == "sequential":
        return k.Sequential([k.Input((28, 28, 1)), *stack()])
    if kind == "functional":
        inputs = x = k.Input((28, 28, 1))
        for layer in stack():
            x = layer(x)
        return k.Model(inputs, x)

    class CNN(k.Model):
        def __init__(self):
            super().__init__()
            self.stack = stack()

        def call(self, inputs, training=None):
            x = inputs
            for layer in self.stack:
                x = layer(x, training=training)
            return x
    return CNN()


def _multi_io(k):
    title = k.Input((10,), dtype="int32", name="title")
    body = k.Input((100,), dtype="int32", name="body")
    tags = k.Input((12,), name="tags")
    title_features = k.ops.mean(k.layers.Embedding(10000, 64)(title), axis=1)
    body_features = k.ops.mean(k.layers.Embedding(10000, 64)(body), axis=1)
    x = k.layers.concatenate([title_features, body_features, tags])
    priority = k.layers.Dense(1, name="priority")(x)
    department = k.layers.Dense(4, name="department")(x)
    return k.Model([title, body, tags], {"priority": priority, "department": department})


def worker(system: str, epochs: int) -> dict:
    import numpy as np
    family, kind = system.split("-", 1) if not system.startswith("multi-io") else ("multi-io", system[9:])
    if kind == "keras3":
        os.environ.setdefault("KERAS_BACKEND", "jax")
        import keras as k
    else:
        import kerasish as k
    k.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    if family == "mlp":
        n, model = 16384, _mlp(k, kind)
        x, y = rng.normal(size=(n, 784)).astype("float32"), rng.integers(0, 10, n)
        model.compile(k.optimizers.RMSprop(1e-3), "sparse_categorical_crossentropy", metrics=["accuracy"])
    elif family == "cnn":
        n, model = 4096, _cnn(k, kind)
        x, y = rng.normal(size=(n, 28, 28, 1)).astype("float32"), rng.integers(0, 10, n)
        model.compile(k.optimizers.Adam(1e-3), "sparse_categorical_crossentropy", metrics=["accuracy"])
    else:
        n, model = 8192, _multi_io(k)
        x = [rng.integers(0, 10000, (n, 10)).astype("int32"), rng.integers(0, 10000, (n, 100)).astype("int32"),
             rng.integers(0, 2, (n, 12)).astype("float32")]
        y = {"priority": rng.random((n, 1)).astype("float32"), "department": rng.integers(0, 2, (n, 4)).astype("float32")}
        model.compile(k.optimizers.RMSprop(1e-3),
                      loss={"priority": k.losses.BinaryCrossentropy(from_logits=True),
                            "department": k.losses.CategoricalCrossentropy(from_logits=True)},
                      loss_weights={"priority": 1.0, "department": 0.2})
    times = []

    class Clock(k.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self.start)
    model.fit(x, y, batch_size=128 if family != "multi-io" else 32, epochs=epochs + 1, verbose=0,
              callbacks=[Clock()])
    return {"system": system, "samples_per_s": n / statistics.median(times[1:])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.epochs)))
        return
    env = {**os.environ, "JAX_PLATFORMS": "cpu", "KERAS_BACKEND": "jax"}
    results: dict[str, list[float]] = {s: [] for s in SYSTEMS}
    for _ in range(args.rounds):
        for system in SYSTEMS:
            out = subprocess.run([sys.executable, __file__, "--worker", system, "--epochs", str(args.epochs)],
                                 capture_output=True, text=True, env=env, check=True)
            results[system].append(json.loads(out.stdout.strip().splitlines()[-1])["samples_per_s"])
    ratio = lambda a, b: statistics.median(x / y for x, y in zip(results[a], results[b]))  # noqa: E731
    lines = [f"# Model kinds, {datetime.date.today()} ({args.rounds} rounds, interleaved; samples/s, median)", "",
             "| system | samples/s |", "| --- | --- |"]
    lines += [f"| {s} | {statistics.median(v):,.0f} |" for s, v in results.items()]
    lines += ["", "| ratio (median of per-round ratios) | value |", "| --- | --- |"]
    for family in ("mlp", "cnn"):
        for kind in ("functional", "subclassed"):
            lines.append(f"| {family} {kind} / sequential | {ratio(f'{family}-{kind}', f'{family}-sequential'):.2f} |")
    lines.append(f"| two-input two-output: kerasish / Keras 3 | {ratio('multi-io-kerasish', 'multi-io-keras3'):.2f} |")
    text = "\n".join(lines)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
