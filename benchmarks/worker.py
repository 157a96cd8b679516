"""One benchmark worker: a fresh process that trains one system and answers the parent on a pipe.

Owns: the protocol, the clocks, and what only the process itself can see (its peak RSS, JAX's
compile events). Must not: read /proc for other processes (the parent does that), or print
anything but protocol lines on its stdout (library output is sent to stderr).

Protocol (JSON lines on stdout; commands on stdin):
  worker -> {"event": "warm", ...}    after epoch 0 (untimed; it includes the compile), unasked
  parent -> "go"                      run one timed epoch now
  worker -> {"event": "epoch", ...}
  parent -> "finish"                  test accuracy, peak memory, then exit
  worker -> {"event": "done", ...}

Run by run.py as:  python benchmarks/worker.py SYSTEM --model mlp --data F.npz --epochs E
                   --batch-size 128 --spawn-time T
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(1, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from systems import SYSTEMS  # noqa: E402

COMPILE_EVENTS = ("/jax/core/compile/jaxpr_trace_duration",
                  "/jax/core/compile/jaxpr_to_mlir_module_duration",
                  "/jax/core/compile/backend_compile_duration")


class CompileClock:
    """Wall time JAX spent tracing, lowering and compiling: the union of those events' spans
    (nested traces would be counted twice if durations were summed)."""

    def __init__(self):
        self.spans: list[tuple[float, float]] = []
        import jax.monitoring

        def listen(event, start, end, **_kwargs):
            if event in COMPILE_EVENTS:
                self.spans.append((start, end))
        jax.monitoring.register_event_time_span_listener(listen)

    def seconds(self, since: float = 0.0, until: float = float("inf")) -> float:
        total, reach = 0.0, since
        for start, end in sorted(self.spans):
            start, end = max(start, reach), min(end, until)
            if end > start:
                total += end - start
                reach = end
        return total


class Hooks:
    def __init__(self, channel, command_in, spawn_time: float, setup_done: float, compile_clock):
        self.out, self.commands = channel, command_in
        self.spawn_time, self.setup_done, self.compiles = spawn_time, setup_done, compile_clock
        self.first_batch_time = None
        self.t0 = None

    def send(self, message: dict) -> None:
        self.out.write(json.dumps(message) + "\n")
        self.out.flush()

    def begin(self, epoch: int) -> None:
        if epoch > 0:
            command = self.commands.readline().strip()
            if command != "go":
                raise RuntimeError(f"worker expected 'go' before epoch {epoch}, received {command!r}")
        self.t0 = time.time()

    def first_batch(self) -> None:
        self.first_batch_time = time.time()

    def end(self, epoch: int, samples: int) -> None:
        t1 = time.time()
        compile_s = self.compiles.seconds(self.t0, t1) if self.compiles else None
        if epoch == 0:
            first = self.first_batch_time
            clock = self.compiles.seconds if self.compiles else (lambda *_: None)
            self.send({"event": "warm", "time_to_first_batch_s": first - self.spawn_time,
                       "setup_s": self.setup_done - self.spawn_time,
                       "setup_compile_s": clock(self.spawn_time, self.setup_done),
                       "first_call_s": first - self.setup_done,
                       "compile_s": clock(self.setup_done, first),
                       "epoch0_s": t1 - self.t0, "epoch0_compile_s": compile_s, "samples": samples})
        else:
            self.send({"event": "epoch", "epoch": epoch, "seconds": t1 - self.t0, "samples": samples,
                       "compile_s": compile_s})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("system", choices=sorted(SYSTEMS))
    parser.add_argument("--model", choices=["mlp", "cnn"], required=True)
    parser.add_argument("--data", required=True, help=".npz with x_train, y_train, x_test, y_test")
    parser.add_argument("--epochs", type=int, required=True, help="timed epochs (epoch 0 comes on top)")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--spawn-time", type=float, required=True, help="time.time() just before the spawn")
    args = parser.parse_args()

    channel = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # anything a library prints goes to stderr, not into the protocol
    sys.stdout = sys.stderr

    with np.load(args.data) as files:
        data = {k: files[k] for k in files.files}
    cls, options = SYSTEMS[args.system]
    compiles = CompileClock() if cls.__name__ != "TorchSystem" else None
    system = cls(args.model, data, args.batch_size, args.seed, **options)
    system.setup()
    hooks = Hooks(channel, sys.stdin, args.spawn_time, time.time(), compiles)
    system.train(args.epochs + 1, hooks)

    command = sys.stdin.readline().strip()
    if command != "finish":
        raise RuntimeError(f"worker expected 'finish', received {command!r}")
    t = time.time()
    probabilities = system.predict(data["x_test"])
    accuracy = float(np.mean(np.argmax(probabilities, -1) == data["y_test"]))
    hooks.send({"event": "done", "test_accuracy": accuracy, "predict_s": time.time() - t,
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "compile_spans": len(compiles.spans) if compiles else None, "info": system.info()})


if __name__ == "__main__":
    main()
