"""A small Transformer-block text classifier trained with `fit`: kerasish against Keras 3 (JAX
backend) and a hand-written Flax NNX + Optax loop, each system in its own process, interleaved rounds.

    python benchmarks/transformer.py [--rounds 3] [--epochs 2] [--samples 2048] [--dtype float32]
                                     [--out benchmarks/results/transformer-DATE.md]

Model (the same maths in every system): token embedding 20000 x 128 plus a learned position
embedding 128 x 128; one Transformer block: MultiHeadAttention (4 heads, key_dim 32, biases),
residual, LayerNormalization (eps 1e-6), feed-forward Dense 128 relu -> Dense 128, residual,
LayerNormalization; GlobalAveragePooling1D; Dense 1 sigmoid. Binary cross-entropy, Adam(1e-3,
eps 1e-7), batch 64, sequences of 128 random token ids, random 0/1 labels. The Keras-API systems
run the keras.io "Text classification with Transformer" code shape (a `TokenAndPositionEmbedding`
and a `TransformerBlock` layer subclass, functional model) and track accuracy, as users do. The
Flax system is what a JAX user writes: `nnx.Embed`, `nnx.MultiHeadAttention`, `nnx.LayerNorm`,
`nnx.Linear`, an `nnx.Optimizer` and an `nnx.jit` train step over NumPy batches.
`--dtype mixed_bfloat16` sets that policy in the Keras-API systems and `dtype=bfloat16` (float32
parameters) in the Flax modules.

`kerasish` runs as users run it, with its persistent compilation cache (warm after the first
round); `kerasish-cold` turns the cache off (`KERASISH_COMPILATION_CACHE=0`), so its time to the
first batch includes every compile, as Keras 3's and Flax's do.

Reported per system: samples/s of the timed epochs (epoch 0, which compiles, is left out; median
over rounds) and the time to the first trained batch (process spawn to the first batch's loss on
the host, compile included). Ratios are medians of the ratios measured within each round.
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

SYSTEMS = ("kerasish", "keras3", "flax-nnx", "kerasish-cold")
VOCAB, WIDTH, HEADS, KEY_DIM, HIDDEN, LENGTH, BATCH = 20000, 128, 4, 32, 128, 128, 64


def _data(samples: int):
    rng = np.random.default_rng(0)
    x = rng.integers(0, VOCAB, (samples, LENGTH)).astype("int32")
    y = rng.integers(0, 2, (samples, 1)).astype("float32")
    return x, y


def _keras_model(keras):
    layers, ops = keras.layers, keras.ops

    class TokenAndPositionEmbedding(layers.Layer):
        def __init__(self, maxlen, vocab_size, embed_dim):
            super().__init__()
            self.token_emb = layers.Embedding(input_dim=vocab_size, output_dim=embed_dim)
            self.pos_emb = layers.Embedding(input_dim=maxlen, output_dim=embed_dim)

        def call(self, x):
            positions = self.pos_emb(ops.arange(start=0, stop=ops.shape(x)[-1], step=1))
            return self.token_emb(x) + positions

    class TransformerBlock(layers.Layer):
        def __init__(self, embed_dim, num_heads, key_dim, ff_dim):
            super().__init__()
            self.att = layers.MultiHeadAttention(num_heads=num_heads, key_dim=key_dim)
            self.ffn_hidden = layers.Dense(ff_dim, activation="relu")
            self.ffn_out = layers.Dense(embed_dim)
            self.layernorm1 = layers.LayerNormalization(epsilon=1e-6)
            self.layernorm2 = layers.LayerNormalization(epsilon=1e-6)

        def call(self, inputs):
            out1 = self.layernorm1(inputs + self.att(inputs, inputs))
            return self.layernorm2(out1 + self.ffn_out(self.ffn_hidden(out1)))

    inputs = keras.Input((LENGTH,), dtype="int32")
    x = TokenAndPositionEmbedding(LENGTH, VOCAB, WIDTH)(inputs)
    x = TransformerBlock(WIDTH, HEADS, KEY_DIM, HIDDEN)(x)
    x = layers.GlobalAveragePooling1D()(x)
    return keras.Model(inputs, layers.Dense(1, activation="sigmoid")(x))


def _keras_api(library: str, x, y, epochs: int, dtype: str) -> dict:
    if library == "keras3":
        os.environ["KERAS_BACKEND"] = "jax"
        import keras
    else:
        if library == "kerasish-cold":  # without kerasish's persistent compilation cache
            os.environ["KERASISH_COMPILATION_CACHE"] = "0"
        import kerasish as keras
    keras.utils.set_random_seed(0)
    if dtype != "float32":
        keras.mixed_precision.set_global_policy(dtype)
    model = _keras_model(keras)
    model.compile(keras.optimizers.Adam(text_fit.LR, epsilon=text_fit.EPS), "binary_crossentropy", metrics=["accuracy"])
    return text_fit.keras_fit(keras, model, x, y, BATCH, epochs)


def _flax(x, y, epochs: int, dtype: str) -> dict:
    import jax
    import jax.numpy as jnp
    from flax import nnx
    compute = jnp.bfloat16 if dtype == "mixed_bfloat16" else jnp.float32

    class Classifier(nnx.Module):
        def __init__(self, rngs):
            self.token = nnx.Embed(VOCAB, WIDTH, dtype=compute, rngs=rngs)
            self.position = nnx.Embed(LENGTH, WIDTH, dtype=compute, rngs=rngs)
            self.attention = nnx.MultiHeadAttention(HEADS, WIDTH, qkv_features=HEADS * KEY_DIM, out_features=WIDTH,
                                                    decode=False, dtype=compute, rngs=rngs)
            self.norm1 = nnx.LayerNorm(WIDTH, epsilon=1e-6, dtype=compute, rngs=rngs)
            self.hidden = nnx.Linear(WIDTH, HIDDEN, dtype=compute, rngs=rngs)
            self.ffn_out = nnx.Linear(HIDDEN, WIDTH, dtype=compute, rngs=rngs)
            self.norm2 = nnx.LayerNorm(WIDTH, epsilon=1e-6, dtype=compute, rngs=rngs)
            self.out = nnx.Linear(WIDTH, 1, dtype=compute, rngs=rngs)

        def __call__(self, tokens):
            h = self.token(tokens) + self.position(jnp.arange(tokens.shape[-1]))
            h = self.norm1(h + self.attention(h))
            h = self.norm2(h + self.ffn_out(jax.nn.relu(self.hidden(h))))
            return self.out(h.mean(axis=1)).astype(jnp.float32)

    return text_fit.nnx_loop(Classifier(nnx.Rngs(0)), x, y, BATCH, epochs)


def worker(system: str, samples: int, epochs: int, spawn: float, dtype: str) -> dict:
    from worker import CompileClock
    clock = CompileClock()
    x, y = _data(samples)
    marks = _flax(x, y, epochs, dtype) if system == "flax-nnx" else _keras_api(system, x, y, epochs, dtype)
    return text_fit.result(system, samples, marks, spawn, clock)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=2, help="timed epochs per worker (after epoch 0)")
    parser.add_argument("--samples", type=int, default=2048)
    parser.add_argument("--dtype", default="float32", choices=["float32", "mixed_bfloat16"])
    parser.add_argument("--systems", default=",".join(SYSTEMS))
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--spawn", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.samples, args.epochs, args.spawn, args.dtype)))
        return
    runs = text_fit.rounds(__file__, args.systems.split(","), args.rounds,
                           ["--samples", str(args.samples), "--epochs", str(args.epochs), "--dtype", args.dtype])
    import jax
    text = "\n".join([f"# Transformer-block classifier, {datetime.date.today()} ({args.rounds} rounds interleaved, "
                      f"{args.samples} samples, {args.epochs} timed epochs per run, batch {BATCH}, sequences of "
                      f"{LENGTH}, {args.dtype}; device: {jax.default_backend()}, {os.cpu_count()} cores)", "",
                      f"Command: `python benchmarks/transformer.py {' '.join(sys.argv[1:])}`", "",
                      *text_fit.table(runs)])
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
