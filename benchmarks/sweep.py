"""Samples/s against batch size (32 ... 1024) for kerasish and Keras 3 `fit` on the MLP, and its plot.

    python benchmarks/sweep.py            # about 6 minutes on 2 busy cores
    python benchmarks/sweep.py --quick    # 3 batch sizes, small subset
    (also run by `python benchmarks/run.py`, unless --no-sweep)

Owns: the sweep's loop over batch sizes and benchmarks/results/batch_size_sweep.png (+ .json).
Each batch size is a fresh pair of workers driven exactly like run.py's rounds (same contamination
rule), so every point is a median of clean epochs where there are any.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import run as bench  # noqa: E402

BATCH_SIZES = (32, 64, 128, 256, 512, 1024)
SYSTEMS = ("kerasish", "keras3")
LABELS = {"kerasish": "kerasish fit (default settings)", "keras3": "Keras 3 fit (JAX backend, default settings)"}
COLORS = {"kerasish": "#1f77b4", "keras3": "#d62728"}


def run(args, tmp: Path, out: Path) -> dict:
    quick = getattr(args, "quick", False)
    batch_sizes = (32, 128, 1024) if quick else BATCH_SIZES
    samples = 5_120 if quick else 30_720
    epochs = 1 if quick else 3
    data, n = bench.prepare_data("mlp", samples, tmp)
    print(f"SWEEP: MLP, {n} training samples, epoch 0 + {epochs} timed epochs per batch size")
    points = []
    for batch_size in batch_sizes:
        print(f" batch {batch_size}")
        records = bench.drive("mlp", list(SYSTEMS), data, epochs, batch_size, args, tmp)
        point = {"batch_size": batch_size}
        for system, record in records.items():
            point[system] = bench.summarize(record)
        points.append(point)
    png = out / "batch_size_sweep.png"
    plot(points, png, n, bench.machine())
    sweep = {"systems": list(SYSTEMS), "train_samples": n, "epochs": epochs, "points": points, "png": png.name}
    (out / "batch_size_sweep.json").write_text(json.dumps(sweep, indent=1))
    return sweep


def plot(points: list[dict], path: Path, n: int, machine: dict) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 4.8), dpi=130)
    sizes = [p["batch_size"] for p in points]
    # per batch size, both systems on the same footing (clean medians, or all-epoch medians of both)
    rows = {system: [] for system in SYSTEMS}
    any_busy = False
    for p in points:
        if not all(p[s].get("samples_per_s") for s in SYSTEMS):
            continue
        _, _, clean = bench.comparable(*(p[s] for s in SYSTEMS))
        any_busy |= not clean
        for system in SYSTEMS:
            s = p[system]
            if clean:
                rows[system].append((p["batch_size"], s["samples_per_s"], s["samples_per_s_min"],
                                     s["samples_per_s_max"], True))
            else:
                rows[system].append((p["batch_size"], s["samples_per_s_all_epochs"], s["samples_per_s_all_min"],
                                     s["samples_per_s_all_max"], False))
    for system, points_ in rows.items():
        if not points_:
            continue
        x = [r[0] for r in points_]
        y = [r[1] for r in points_]
        yerr = [[r[1] - r[2] for r in points_], [r[3] - r[1] for r in points_]]
        ax.errorbar(x, y, yerr=yerr, marker="o", ms=7, capsize=3, lw=2, color=COLORS[system], label=LABELS[system])
        for b, v, _lo, _hi, clean in points_:
            if not clean:  # measured while other processes used the CPU: hollow
                ax.plot([b], [v], "o", ms=9, mfc="white", mec=COLORS[system], mew=2, zorder=3)
    if any_busy:
        ax.plot([], [], "o", ms=9, mfc="white", mec="gray", mew=2,
                label="hollow: no clean epoch at this batch size;\nmedians of all epochs of both")
    ax.set_xscale("log", base=2)
    ax.set_xticks(sizes, [str(b) for b in sizes])
    ax.set_xlabel("batch size")
    ax.set_ylabel("training samples / second (median epoch)")
    ax.set_ylim(bottom=0)
    ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.grid(True, alpha=0.3)
    ax.set_title(f"MLP 784-512-512-10 on Fashion-MNIST ({n:,} samples), CPU\n"
                 f"{machine['cpu']}, {machine['cores']} cores; bars: min–max of the epochs in the median", fontsize=10)
    ax.legend(loc="lower right", fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--threshold", type=float, default=0.10)
    parser.add_argument("--quiet-wait", type=float, default=3.0)
    parser.add_argument("--out", default=str(bench.RESULTS))
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="kerasish-sweep-") as tmp:
        sweep = run(args, Path(tmp), out)
    for point in sweep["points"]:
        print(point["batch_size"], {s: round(point[s]["samples_per_s"] or 0) for s in SYSTEMS})
    print(f"wrote {out / sweep['png']}")


if __name__ == "__main__":
    main()
