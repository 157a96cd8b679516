"""Throughput of one network written as a Sequential, a functional and a subclassed model (the
one-object-one-graph promise: the same compiled program, so the same speed), and of the functional
API guide's two-input, two-output ticket classifier against Keras 3. Each system runs in its own
process; the systems take turns over rounds.

    python benchmarks/model_kinds.py [--rounds 3] [--epochs 3] [--systems mlp-sequential,...]
                                     [--out benchmarks/results/model-kinds-DATE.md]

Models (random data, the same seed in every system):

- `mlp-*`: Dense 512 relu, Dense 512 relu, Dense 10 softmax on 16,384 rows of 784 features;
  RMSprop(1e-3), batch 128. `cnn-*`: the keras.io MNIST convnet on 4,096 28x28x1 images; Adam(1e-3),
  batch 128. Each written three ways: `Sequential([...])`, `Model(inputs, outputs)`, and a
  `Model` subclass whose `call` chains the layers.
- `tickets-*`: the guide's "models with multiple inputs and outputs" example at the guide's sizes:
  title (10 words) and body (100 words) token ids from a 10,000-word vocabulary, each through an
  Embedding of 64 and an LSTM (128 for titles, 32 for bodies), concatenated with 12 binary tags;
  a `priority` output (1 logit, binary cross-entropy) and a `department` output (4 logits,
  categorical cross-entropy), loss weights 1.0 and 0.2, RMSprop(1e-3); x and y as dicts keyed by
  input and output names, 1,280 samples, batch 32.
- `pooled-*`: the same model with each LSTM replaced by a mean over the words (`keras.ops.mean`):
  what is left is the embeddings' gradients, the two losses and the optimizer on the two
  10,000 x 64 tables, the part of the step that the engine rather than a layer decides; 8,192
  samples, batch 32.

Reported: samples/s of the epochs after the first (which compiles), median over each worker's
epochs and then over rounds; ratios are medians of the ratios within each round. Every worker also
reports its CPU seconds per epoch and the CPU that other processes used while it trained
(`procstat`: machine busy time minus the worker's own, in cores), and the table gives the load
average before and after the run: on a shared machine that is what the ratios must be read against.
The CPU-time ratio is the steadier one there: wall time then measures the share of the cores a
process wins (a process with more runnable threads, like Keras's Python thread dispatching each
step while XLA computes the previous one, wins more), while CPU time measures the work done.

For the model kinds, a noise-free check backs the ratio: each kerasish MLP / CNN worker dumps the
optimized XLA program of its training step (`--xla_dump_to`, with kerasish's persistent compilation
cache off so the program is compiled in the worker), and the report says whether the functional
and subclassed programs equal the Sequential one instruction for instruction (names and source
locations aside).
"""

from __future__ import annotations

import argparse
import collections
import datetime
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

KINDS = ("sequential", "functional", "subclassed")
SYSTEMS = ([f"mlp-{kind}" for kind in KINDS] + [f"cnn-{kind}" for kind in KINDS]
           + ["tickets-kerasish", "tickets-keras3", "pooled-kerasish", "pooled-keras3"])
VOCAB, TAGS, DEPARTMENTS = 10000, 12, 4


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


def _tickets(k, pooled: bool):
    """The ticket classifier: two token sequences and the tags in, priority and department out."""
    title = k.Input(shape=(None,), name="title")
    body = k.Input(shape=(None,), name="body")
    tags = k.Input(shape=(TAGS,), name="tags")
    if pooled:
        title_features = k.ops.mean(k.layers.Embedding(VOCAB, 64)(title), axis=1)
        body_features = k.ops.mean(k.layers.Embedding(VOCAB, 64)(body), axis=1)
    else:
        title_features = k.layers.LSTM(128)(k.layers.Embedding(VOCAB, 64)(title))
        body_features = k.layers.LSTM(32)(k.layers.Embedding(VOCAB, 64)(body))
    features = k.layers.concatenate([title_features, body_features, tags])
    outputs = {"priority": k.layers.Dense(1, name="priority")(features),
               "department": k.layers.Dense(DEPARTMENTS, name="department")(features)}
    model = k.Model(inputs=[title, body, tags], outputs=outputs)
    model.compile(optimizer=k.optimizers.RMSprop(1e-3),
                  loss={"priority": k.losses.BinaryCrossentropy(from_logits=True),
                        "department": k.losses.CategoricalCrossentropy(from_logits=True)},
                  loss_weights={"priority": 1.0, "department": 0.2})
    return model


def _ticket_data(rng, n):
    x = {"title": rng.integers(0, VOCAB, (n, 10)), "body": rng.integers(0, VOCAB, (n, 100)),
         "tags": rng.integers(0, 2, (n, TAGS)).astype("float32")}
    y = {"priority": rng.random((n, 1)), "department": rng.integers(0, 2, (n, DEPARTMENTS))}
    return x, y


def worker(system: str, epochs: int) -> dict:
    """Trains one system for 1 + `epochs` epochs in one `fit`; reports the epochs after the first."""
    import numpy as np

    from procstat import Window
    family, kind = system.split("-", 1)
    if kind == "keras3":
        os.environ.setdefault("KERAS_BACKEND", "jax")
        import keras as k
    else:
        import kerasish as k
    k.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    batch_size = 128
    if family == "mlp":
        n, model = 16384, _mlp(k, kind)
        x, y = rng.normal(size=(n, 784)).astype("float32"), rng.integers(0, 10, n)
        model.compile(k.optimizers.RMSprop(1e-3), "sparse_categorical_crossentropy", metrics=["accuracy"])
    elif family == "cnn":
        n, model = 4096, _cnn(k, kind)
        x, y = rng.normal(size=(n, 28, 28, 1)).astype("float32"), rng.integers(0, 10, n)
        model.compile(k.optimizers.Adam(1e-3), "sparse_categorical_crossentropy", metrics=["accuracy"])
    else:
        n, batch_size = (1280, 32) if family == "tickets" else (8192, 32)
        model = _tickets(k, pooled=family == "pooled")
        x, y = _ticket_data(rng, n)
    epochs_seen: list[dict] = []

    class Clock(k.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.window, self.cpu, self.start = Window(os.getpid()), time.process_time(), time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            wall = time.perf_counter() - self.start  # the logs' loss was read: the device has finished
            usage = self.window.close()
            epochs_seen.append({"wall_s": wall, "cpu_s": time.process_time() - self.cpu,
                                "others_cores": usage["others_cores"] + usage["steal_cores"]})
    model.fit(x, y, batch_size=batch_size, epochs=epochs + 1, verbose=0, callbacks=[Clock()])
    timed = epochs_seen[1:]
    return {"system": system, "samples_per_s": n / statistics.median(e["wall_s"] for e in timed),
            "cpu_s_per_epoch": statistics.median(e["cpu_s"] for e in timed),
            "others_cores": statistics.median(e["others_cores"] for e in timed)}


# -- the compiled programs of the model kinds ----------------------------------------------------

def _dumps_program(system: str) -> bool:
    return system.split("-", 1)[0] in ("mlp", "cnn")


def program_signature(text: str) -> collections.Counter:
    """The instructions of an optimized HLO module with every name and source location removed:
    two programs with equal signatures do the same operations on the same shapes."""
    lines = collections.Counter()
    for line in text.splitlines():
        if line.startswith(("FileNames", "FunctionNames", "FileLocations", "StackFrames")):
            break  # the tables of source locations that close the module
        line = re.sub(r", metadata=\{[^}]*\}", "", line.strip())
        if "=" not in line or line.startswith(("HloModule", "//")):
            continue
        lines[re.sub(r"[\w.\-]+: ", ": ", re.sub(r"%[\w.\-]+", "%", line))] += 1
    return lines


def _train_program(dump_dir: Path) -> str | None:
    """The optimized program of kerasish's compiled training function in an XLA dump folder."""
    found = sorted(dump_dir.glob("*jit_train*after_optimizations.txt"))
    return found[-1].read_text() if found else None


def _same_programs(programs: dict[str, str | None]) -> dict[str, str]:
    verdicts = {}
    for family in ("mlp", "cnn"):
        base = programs.get(f"{family}-sequential")
        for kind in KINDS[1:]:
            if f"{family}-{kind}" not in programs:
                continue  # not in this run
            other = programs[f"{family}-{kind}"]
            if base is None or other is None:
                verdicts[f"{family}-{kind}"] = "not compared (no dump)"
            elif program_signature(base) == program_signature(other):
                verdicts[f"{family}-{kind}"] = "identical to the Sequential one"
            else:
                diff = program_signature(base) - program_signature(other)
                diff += program_signature(other) - program_signature(base)
                verdicts[f"{family}-{kind}"] = f"differs from the Sequential one in {sum(diff.values())} instructions"
    return verdicts


# -- the experiment -------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs per worker (after one untimed)")
    parser.add_argument("--systems", default=",".join(SYSTEMS))
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.epochs)))
        return
    systems = [s for s in args.systems.split(",") if s]
    unknown = [s for s in systems if s not in SYSTEMS]
    if unknown:
        parser.error(f"unknown systems {unknown}; choose from {SYSTEMS}")
    env = {**os.environ, "JAX_PLATFORMS": "cpu", "KERAS_BACKEND": "jax"}
    runs: dict[str, list[dict]] = {s: [] for s in systems}
    programs: dict[str, str | None] = {}
    load_before, started = os.getloadavg(), time.time()
    with tempfile.TemporaryDirectory() as dumps:
        for round_ in range(args.rounds):
            for system in systems:
                worker_env = env
                if round_ == 0 and _dumps_program(system):
                    folder = Path(dumps) / system
                    worker_env = {**env, "KERASISH_COMPILATION_CACHE": "0",
                                  "XLA_FLAGS": f"{env.get('XLA_FLAGS', '')} --xla_dump_to={folder} "
                                               "--xla_dump_hlo_as_text --xla_dump_hlo_module_re=.*train.*"}
                out = subprocess.run([sys.executable, __file__, "--worker", system, "--epochs", str(args.epochs)],
                                     capture_output=True, text=True, env=worker_env, check=True)
                runs[system].append(json.loads(out.stdout.strip().splitlines()[-1]))
                if round_ == 0 and _dumps_program(system):
                    programs[system] = _train_program(Path(dumps) / system)
    minutes = (time.time() - started) / 60
    verdicts = _same_programs(programs)
    text = report(runs, verdicts, args, load_before, os.getloadavg(), minutes)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")
        Path(args.out).with_suffix(".json").write_text(json.dumps({"runs": runs, "programs": verdicts}, indent=1) + "\n")


def report(runs, verdicts, args, load_before, load_after, minutes) -> str:
    def median(system, key):
        return statistics.median(r[key] for r in runs[system])

    def per_round(a, b):
        """(throughput ratios, CPU-time ratios) of a over b, one per round (higher: a is faster)."""
        pairs = list(zip(runs[a], runs[b]))
        return ([x["samples_per_s"] / y["samples_per_s"] for x, y in pairs],
                [y["cpu_s_per_epoch"] / x["cpu_s_per_epoch"] for x, y in pairs])

    def row(label, a, b):
        wall, cpu = per_round(a, b)
        return (f"| {label} | {statistics.median(wall):.2f} | {min(wall):.2f}-{max(wall):.2f} | "
                f"{statistics.median(cpu):.2f} |")
    command = " ".join(["python benchmarks/model_kinds.py", f"--rounds {args.rounds}", f"--epochs {args.epochs}"]
                       + ([f"--systems {args.systems}"] if args.systems != ",".join(SYSTEMS) else []))
    lines = [f"# Model kinds, {datetime.date.today()}", "",
             f"`{command}`: {args.rounds} rounds, systems interleaved, each a fresh process training 1 + "
             f"{args.epochs} epochs; {os.cpu_count()} cores; load average (1, 5, 15 min) "
             f"{', '.join(f'{v:.1f}' for v in load_before)} before and "
             f"{', '.join(f'{v:.1f}' for v in load_after)} after ({minutes:.0f} min).", "",
             "| system | samples/s (median) | CPU s per epoch | others' CPU while it trained (cores) |",
             "| --- | --- | --- | --- |"]
    lines += [f"| {s} | {median(s, 'samples_per_s'):,.0f} | {median(s, 'cpu_s_per_epoch'):.2f} | "
              f"{median(s, 'others_cores'):.2f} |" for s in runs]
    lines += ["", "| speed ratio (median of per-round ratios) | samples/s | range over rounds | CPU s per epoch, inverse |",
              "| --- | --- | --- | --- |"]
    for family in ("mlp", "cnn"):
        for kind in KINDS[1:]:
            a, b = f"{family}-{kind}", f"{family}-sequential"
            if a in runs and b in runs:
                lines.append(row(f"{family} {kind} / sequential", a, b))
    for family, label in (("tickets", "ticket classifier (guide, LSTMs)"), ("pooled", "ticket classifier, mean-pooled")):
        a, b = f"{family}-kerasish", f"{family}-keras3"
        if a in runs and b in runs:
            lines.append(row(f"{label}: kerasish / Keras 3", a, b))
    if verdicts:
        lines += ["", "Compiled training programs (optimized XLA, names and source locations aside):", ""]
        lines += [f"- {system}: {verdict}" for system, verdict in verdicts.items()]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
