"""The issue's LSTM text classifier trained on the CPU: kerasish `fit` against Keras 3 (JAX backend)
`fit` and a hand-written Flax NNX + Optax loop, each system in its own process, interleaved rounds.

    python benchmarks/lstm.py [--rounds 3] [--epochs 2] [--samples 4096] [--out benchmarks/results/lstm-DATE.md]

Model (the same in every system): Embedding 20000 x 128, LSTM 64 (tanh / sigmoid, Keras's gates),
Dense 1 sigmoid; binary cross-entropy, Adam(1e-3, eps 1e-7); sequences of 200 random token ids,
random 0/1 labels, batch 64. The Keras-API systems track accuracy, as users do. The Flax system is
what a JAX user writes: `nnx.Embed`, `nnx.RNN(nnx.OptimizedLSTMCell)`, `nnx.Linear`, an
`nnx.Optimizer` and an `nnx.jit` train step over NumPy batches.

Reported per system: samples/s of the timed epochs (epoch 0, which compiles, is left out; median
over rounds), and the time to the first trained batch (process spawn to the first batch's loss on
the host, compile included). Ratios are medians of the ratios measured within each round. The
clocks, rounds and table are `text_fit`'s; compile time is `worker.CompileClock`'s.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(HERE.parent))

import text_fit  # noqa: E402

SYSTEMS = ("kerasish", "keras3", "flax-nnx")
VOCAB, WIDTH, UNITS, LENGTH, BATCH = 20000, 128, 64, 200, 64


def _data(samples: int):
    rng = np.random.default_rng(0)
    x = rng.integers(0, VOCAB, (samples, LENGTH)).astype("int32")
    y = rng.integers(0, 2, (samples, 1)).astype("float32")
    return x, y


def _keras_model(library: str):
    if library == "keras3":
        os.environ["KERAS_BACKEND"] = "jax"
        import keras
    else:
        import kerasish as keras
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((LENGTH,), dtype="int32"), keras.layers.Embedding(VOCAB, WIDTH),
                              keras.layers.LSTM(UNITS), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(keras.optimizers.Adam(text_fit.LR, epsilon=text_fit.EPS), "binary_crossentropy",
                  metrics=["accuracy"])
    return keras, model


def _flax_model():
    from flax import nnx

    class Classifier(nnx.Module):
        def __init__(self, rngs):
            self.embed = nnx.Embed(VOCAB, WIDTH, rngs=rngs)
            self.lstm = nnx.RNN(nnx.OptimizedLSTMCell(WIDTH, UNITS, rngs=rngs))
            self.out = nnx.Linear(UNITS, 1, rngs=rngs)

        def __call__(self, tokens):
            return self.out(self.lstm(self.embed(tokens))[:, -1])
    return Classifier(nnx.Rngs(0))


def worker(system: str, samples: int, epochs: int, spawn: float) -> dict:
    from worker import CompileClock
    clock = CompileClock()
    x, y = _data(samples)
    if system == "flax-nnx":
        marks = text_fit.nnx_loop(_flax_model(), x, y, BATCH, epochs)
    else:
        keras, model = _keras_model(system)
        marks = text_fit.keras_fit(keras, model, x, y, BATCH, epochs)
    return text_fit.result(system, samples, marks, spawn, clock)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=2, help="timed epochs per worker (after epoch 0)")
    parser.add_argument("--samples", type=int, default=4096)
    parser.add_argument("--systems", default=",".join(SYSTEMS))
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--spawn", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.samples, args.epochs, args.spawn)))
        return
    runs = text_fit.rounds(__file__, args.systems.split(","), args.rounds,
                           ["--samples", str(args.samples), "--epochs", str(args.epochs)])
    import jax
    lines = [f"# LSTM text classifier, {datetime.date.today()} ({args.rounds} rounds interleaved, {args.samples} "
             f"samples, {args.epochs} timed epochs per run, batch {BATCH}, sequences of {LENGTH}; "
             f"device: {jax.default_backend()}, {os.cpu_count()} cores)", "",
             f"Command: `python benchmarks/lstm.py {' '.join(sys.argv[1:])}`", "", *text_fit.table(runs)]
    text = "\n".join(lines)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
