"""Peak resident memory of `fit` on one large float32 array: kerasish against Keras 3.

    python benchmarks/memory.py                              # 0.88 GiB and 2.6 GiB, kerasish and keras3
    python benchmarks/memory.py --gib 0.88 --systems kerasish
    python benchmarks/memory.py --gib 0.88 --root /some/checkout  # measure another checkout's kerasish

Owns: one fresh process per (system, size), run one after another, never two at once (the numbers
are absolute, and the machine is shared); the table (results/memory-<date>.md and .json).
Must not: time throughput (run.py does that) or import a framework in the parent.

What a child does: imports its framework (RSS "import"), fills a float32 array [n, 784] of the asked
size with random numbers and int32 labels in blocks, so no temporary the size of the data exists
(RSS "data"), builds a small MLP (Dense 64 relu, Dense 10 softmax; RMSprop), and runs
`fit(x, y, epochs=1, batch_size=128, verbose=0)`. Its peak RSS (`ru_maxrss`, the high-water mark of
the whole process) is taken after `fit`. The goal of issue 10: peak at most the data plus 0.5 GiB.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
GIB = 1 << 30
FEATURES = 784


def rss_gib() -> float:
    """The process's resident set now (VmRSS), in GiB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024 / GIB
    raise RuntimeError("/proc/self/status has no VmRSS line")


def peak_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / GIB


def child(system: str, gib: float, batch_size: int, root: str) -> dict:
    """Runs in the fresh process: import, data, model, one epoch of `fit`; returns the numbers."""
    import numpy as np

    out = {"system": system, "gib": gib}
    if system == "keras3":
        os.environ["KERAS_BACKEND"] = "jax"
        import keras
    else:
        sys.path.insert(0, root)
        import kerasish as keras
        out["kerasish_from"] = os.path.dirname(keras.__file__)
    out["rss_import_gib"] = rss_gib()
    rows = int(gib * GIB) // (FEATURES * 4)
    rng = np.random.default_rng(0)
    x = np.empty((rows, FEATURES), np.float32)
    for start in range(0, rows, 65536):
        x[start:start + 65536] = rng.random((min(65536, rows - start), FEATURES), dtype=np.float32)
    y = rng.integers(0, 10, rows).astype(np.int32)
    out.update(rows=rows, data_gib=(x.nbytes + y.nbytes) / GIB, rss_data_gib=rss_gib())
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((FEATURES,)), keras.layers.Dense(64, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(keras.optimizers.RMSprop(1e-3), "sparse_categorical_crossentropy", metrics=["accuracy"])
    start = time.perf_counter()
    history = model.fit(x, y, epochs=1, batch_size=batch_size, verbose=0)
    out.update(fit_s=time.perf_counter() - start, loss=float(history.history["loss"][-1]),
               rss_after_fit_gib=rss_gib(), peak_gib=peak_gib())
    return out


def run_child(system: str, gib: float, batch_size: int, root: str) -> dict:
    command = [sys.executable, __file__, "--child", system, "--gib", str(gib), "--batch-size", str(batch_size),
               "--root", root]
    done = subprocess.run(command, capture_output=True, text=True, cwd=root)
    if done.returncode != 0:
        return {"system": system, "gib": gib, "error": done.stderr[-2000:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def markdown(result: dict) -> str:
    lines = [f"# Peak memory of `fit` on one large float32 array — {result['date']}", "",
             f"Command: `{result['command']}`. Each row is its own fresh process, run alone, one after another. "
             "MLP 784-64-10, RMSprop, one epoch at batch 128, `verbose=0`. RSS in GiB: after importing the "
             "framework, after making the data (x float32 [n, 784] + int32 labels), after `fit`, and the "
             "process's peak (`ru_maxrss`). Goal (issue 10): peak ≤ data + 0.5 GiB.", "",
             "| system | data (GiB) | rows | RSS import | RSS with data | RSS after fit | peak RSS "
             "| peak − data | goal met | fit (s) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|:---:|---:|"]
    for r in result["rows"]:
        if r.get("error"):
            lines.append(f"| {r['system']} | {r['gib']} | failed: {r['error'].splitlines()[-1][:80]} ||||||||")
            continue
        over = r["peak_gib"] - r["data_gib"]
        lines.append(f"| {r['system']} | {r['data_gib']:.2f} | {r['rows']:,} | {r['rss_import_gib']:.2f} | "
                     f"{r['rss_data_gib']:.2f} | {r['rss_after_fit_gib']:.2f} | {r['peak_gib']:.2f} | "
                     f"{over:.2f} | {'yes' if over <= 0.5 else '**no**'} | {r['fit_s']:.1f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gib", type=float, nargs="+", default=[0.88, 2.6], help="sizes of x in GiB")
    parser.add_argument("--systems", default="kerasish,keras3", help="comma-separated: kerasish, keras3")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--root", default=str(HERE.parent), help="the checkout whose kerasish is measured")
    parser.add_argument("--out", default=str(HERE / "results"), help="directory for the report; '' for none")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        channel = os.fdopen(os.dup(1), "w")  # the one JSON line goes here; library output to stderr
        os.dup2(2, 1)
        sys.stdout = sys.stderr
        channel.write(json.dumps(child(args.child, args.gib[0], args.batch_size, args.root)) + "\n")
        channel.close()
        return
    systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    unknown = [s for s in systems if s not in ("kerasish", "keras3")]
    if unknown:
        parser.error(f"unknown systems {unknown}; choose from kerasish, keras3")
    result = {"date": datetime.date.today().isoformat(), "command": "python benchmarks/memory.py " + " ".join(sys.argv[1:]),
              "rows": []}
    for gib in args.gib:
        for system in systems:
            row = run_child(system, gib, args.batch_size, args.root)
            result["rows"].append(row)
            print(json.dumps(row), flush=True)
    text = markdown(result)
    print(text)
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / f"memory-{result['date']}.json").write_text(json.dumps(result, indent=1))
        (out / f"memory-{result['date']}.md").write_text(text)


if __name__ == "__main__":
    main()
