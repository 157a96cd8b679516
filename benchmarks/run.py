"""CPU training benchmark on Fashion-MNIST: kerasish `fit` against Keras 3, hand-written Flax, PyTorch.

    python benchmarks/run.py                      # full run (MLP + CNN), under 20 min on 2 busy cores
    python benchmarks/run.py --quick              # small subsets, few epochs: checks the harness works
    python benchmarks/run.py --sweep              # and the batch-size sweep (or: python benchmarks/sweep.py)
    python benchmarks/run.py --models mlp --systems kerasish,keras3 --epochs 3 --no-sweep

Owns: the experiment — data preparation, one worker process per system, round-robin epochs,
contamination accounting, medians, and the report (benchmarks/results/cpu-<date>.md and .json).
Must not: import a framework other than kerasish's data loader (the workers do the training), or
time anything in its own process (each worker times itself; this process reads /proc around it).

How an epoch is timed: every system runs in its own subprocess (worker.py). All workers start one
after another (each alone, so its time to first trained batch is not shared), run an untimed
epoch 0 that includes compilation, then wait. Rounds follow: in each, the parent tells each worker
in turn "go", the worker trains exactly one epoch while the others sleep on their pipe, and the
parent reads /proc/stat and /proc/<pid>/stat around it. CPU used by any process but the active
worker (plus hypervisor steal) above --threshold cores marks the epoch contaminated; medians use
clean epochs only. The order of systems rotates each round so drift and neighbours cancel.
See benchmarks/README.md for the columns.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import select
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(ROOT))

import procstat  # noqa: E402
from systems import DESCRIPTIONS, SYSTEMS  # noqa: E402

RESULTS = HERE / "results"
READ_TIMEOUT_S = 900


# --------------------------------------------------------------------- data

def prepare_data(model: str, n_train: int | None, directory: Path) -> tuple[Path, int]:
    """Fashion-MNIST as the models take it (floats in [0, 1]; int32 labels), written once to .npz."""
    from kerasish.datasets import fashion_mnist

    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data(verbose=False)
    if n_train is not None:
        x_train, y_train = x_train[:n_train], y_train[:n_train]
    shape = (-1, 784) if model == "mlp" else (-1, 28, 28, 1)
    path = directory / f"fashion_mnist_{model}_{len(x_train)}.npz"
    np.savez(path, x_train=(x_train.astype(np.float32) / 255).reshape(shape), y_train=y_train.astype(np.int32),
             x_test=(x_test.astype(np.float32) / 255).reshape(shape), y_test=y_test.astype(np.int32))
    return path, len(x_train)


# --------------------------------------------------------------------- workers

class Worker:
    """A worker subprocess and its pipes; stderr goes to a log file shown when it fails."""

    def __init__(self, system: str, model: str, data: Path, epochs: int, batch_size: int, log_dir: Path,
                 cache_dir: Path | None = None, tag: str = ""):
        self.system = system
        name = f"{model}-{system}-b{batch_size}{tag}"
        self.log_path = log_dir / f"{name}.log"
        # kerasish turns on JAX's persistent compilation cache by default: give every worker its own
        # empty one, so each compiles from scratch (a first run), unless a warm one is passed on purpose.
        self.cache_dir = cache_dir or log_dir / f"cache-{name}"
        self.spawn_time = time.time()
        command = [sys.executable, str(HERE / "worker.py"), system, "--model", model, "--data", str(data),
                   "--epochs", str(epochs), "--batch-size", str(batch_size), "--spawn-time", repr(self.spawn_time)]
        env = dict(os.environ, PYTHONUNBUFFERED="1", KERASISH_CACHE_DIR=str(self.cache_dir))
        with open(self.log_path, "w") as log:
            self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                                            env=env, text=True, bufsize=1, cwd=ROOT)
        self.pid = self.process.pid

    def send(self, command: str) -> None:
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()

    def read(self, expected: str) -> dict:
        ready, _, _ = select.select([self.process.stdout], [], [], READ_TIMEOUT_S)
        line = self.process.stdout.readline() if ready else ""
        if not line:
            self.process.kill()
            tail = self.log_path.read_text()[-3000:]
            raise RuntimeError(f"worker {self.system} gave no '{expected}' message "
                               f"({'timeout' if not ready else 'it exited'}); its log ends:\n{tail}")
        message = json.loads(line)
        if message.get("event") != expected:
            raise RuntimeError(f"worker {self.system}: expected '{expected}', received {message}")
        return message

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


def drive(model: str, systems: list[str], data: Path, epochs: int, batch_size: int, args, log_dir: Path,
          cache_check: bool = False, say=print) -> dict:
    """Starts each system's worker alone, then runs `epochs` interleaved rounds; returns raw records."""
    me = os.getpid()
    records = {s: {"system": s, "epochs": [], "error": None} for s in systems}
    workers: dict[str, Worker] = {}
    try:
        for system in systems:
            quiet = procstat.wait_for_quiet(args.quiet_wait, args.threshold)
            worker = Worker(system, model, data, epochs, batch_size, log_dir)
            window = procstat.Window(worker.pid, [me], [w.pid for w in workers.values()])
            try:
                warm = worker.read("warm")
            except RuntimeError as error:
                records[system]["error"] = str(error)
                say(f"  {system}: FAILED to start\n{error}")
                worker.stop()
                continue
            usage = window.close()
            warm.update(usage=usage, contaminated=procstat.contaminated(usage, args.threshold),
                        waited_s=quiet["waited_s"])
            records[system]["warm"] = warm
            workers[system] = worker
            say(f"  {system:15s} first trained batch {warm['time_to_first_batch_s']:6.2f} s "
                f"(compile {_fmt(warm['compile_s'], '.2f')} s), epoch 0 {warm['epoch0_s']:6.2f} s, "
                f"others {usage['others_cores']:.2f} cores")
        names = list(workers)
        for round_index in range(epochs):
            order = names[round_index % len(names):] + names[:round_index % len(names)] if names else []
            for system in order:
                worker = workers[system]
                if records[system]["error"]:
                    continue
                quiet = procstat.wait_for_quiet(args.quiet_wait, args.threshold)
                idle = [w.pid for s, w in workers.items() if s != system]
                window = procstat.Window(worker.pid, [me], idle)
                worker.send("go")
                try:
                    epoch = worker.read("epoch")
                except RuntimeError as error:
                    records[system]["error"] = str(error)
                    say(f"  {system}: FAILED in round {round_index + 1}\n{error}")
                    continue
                usage = window.close()
                epoch.update(samples_per_s=epoch["samples"] / epoch["seconds"], usage=usage,
                             contaminated=procstat.contaminated(usage, args.threshold), waited_s=quiet["waited_s"],
                             round=round_index + 1)
                records[system]["epochs"].append(epoch)
                say(f"  round {round_index + 1}/{epochs} {system:15s} {epoch['samples_per_s']:9.0f} samples/s "
                    f"others {usage['others_cores']:.2f} + steal {usage['steal_cores']:.2f} cores"
                    f"{'  CONTAMINATED' if epoch['contaminated'] else ''}")
        for system, worker in workers.items():
            if records[system]["error"]:
                continue
            worker.send("finish")
            try:
                records[system]["done"] = worker.read("done")
            except RuntimeError as error:
                records[system]["error"] = str(error)
        if cache_check and "kerasish" in workers:
            records["kerasish"]["warm_cache"] = warm_cache_start(model, data, batch_size, args, log_dir,
                                                                 workers["kerasish"].cache_dir, say)
    finally:
        for worker in workers.values():
            worker.stop()
    return records


def warm_cache_start(model, data, batch_size, args, log_dir, cache_dir, say) -> dict | None:
    """Starts kerasish once more on the persistent compilation cache its first run filled:
    the time to first trained batch of a second run of the same script."""
    procstat.wait_for_quiet(args.quiet_wait, args.threshold)
    worker = Worker("kerasish", model, data, 0, batch_size, log_dir, cache_dir=cache_dir, tag="-warm-cache")
    window = procstat.Window(worker.pid, [os.getpid()])
    try:
        warm = worker.read("warm")
        usage = window.close()
        worker.send("finish")
        worker.read("done")
    except RuntimeError as error:
        say(f"  kerasish (warm cache): FAILED\n{error}")
        return None
    finally:
        worker.stop()
    warm.update(usage=usage, contaminated=procstat.contaminated(usage, args.threshold))
    say(f"  kerasish, 2nd run on its warm compilation cache: first trained batch "
        f"{warm['time_to_first_batch_s']:.2f} s (compile {_fmt(warm['compile_s'], '.2f')} s)")
    return warm


# --------------------------------------------------------------------- summary

def summarize(record: dict) -> dict:
    """Medians over clean epochs; when every epoch was contaminated, over all of them (flagged)."""
    epochs = record["epochs"]
    clean = [e["samples_per_s"] for e in epochs if not e["contaminated"]]
    every = [e["samples_per_s"] for e in epochs]
    basis = clean or every
    summary = {"system": record["system"], "description": DESCRIPTIONS[record["system"]],
               "epochs_timed": len(epochs), "epochs_clean": len(clean), "epochs_left_out": len(epochs) - len(clean),
               "all_contaminated": bool(epochs) and not clean,
               "samples_per_s": statistics.median(basis) if basis else None,
               "samples_per_s_min": min(basis) if basis else None, "samples_per_s_max": max(basis) if basis else None,
               "samples_per_s_all_epochs": statistics.median(every) if every else None,
               "samples_per_s_all_min": min(every) if every else None,
               "samples_per_s_all_max": max(every) if every else None,
               # work rather than wall time: samples per second of the worker's own CPU time (all its threads)
               "samples_per_cpu_s": statistics.median(
                   [e["samples"] / max(e["usage"]["active_cores"] * e["usage"]["wall_s"], 1e-9) for e in epochs])
               if epochs else None,
               "others_cores_median": statistics.median([e["usage"]["others_cores"] + e["usage"]["steal_cores"]
                                                         for e in epochs]) if epochs else None,
               "recompile_s_in_timed_epochs": sum(e["compile_s"] or 0.0 for e in epochs),
               "error": record["error"]}
    warm = record.get("warm")
    if warm:
        summary.update(time_to_first_batch_s=warm["time_to_first_batch_s"], setup_s=warm["setup_s"],
                       setup_compile_s=warm["setup_compile_s"], first_call_s=warm["first_call_s"],
                       compile_s=warm["compile_s"], epoch0_s=warm["epoch0_s"],
                       startup_others_cores=warm["usage"]["others_cores"] + warm["usage"]["steal_cores"],
                       startup_contaminated=warm["contaminated"])
    done = record.get("done")
    if done:
        summary.update(peak_rss_mb=done["peak_rss_mb"], test_accuracy=done["test_accuracy"], info=done["info"])
    if record.get("warm_cache"):
        summary["warm_cache_time_to_first_batch_s"] = record["warm_cache"]["time_to_first_batch_s"]
        summary["warm_cache_compile_s"] = record["warm_cache"]["compile_s"]
    return summary


def comparable(a: dict, b: dict) -> tuple[float | None, float | None, bool]:
    """Throughputs of two systems on the same footing: the medians of clean epochs when both have
    clean epochs, else the medians of all epochs of both (never a clean one against a busy one)."""
    if not a["all_contaminated"] and not b["all_contaminated"]:
        return a["samples_per_s"], b["samples_per_s"], True
    return a["samples_per_s_all_epochs"], b["samples_per_s_all_epochs"], False


def paired(records: dict, a: str, b: str, clean: bool) -> list[float]:
    """a / b within each round (epochs minutes apart), over rounds where both ran (and were clean)."""
    by_round = {s: {e["round"]: e for e in records[s]["epochs"]} for s in (a, b)}
    out = []
    for r in sorted(set(by_round[a]) & set(by_round[b])):
        ea, eb = by_round[a][r], by_round[b][r]
        if not clean or not (ea["contaminated"] or eb["contaminated"]):
            out.append(ea["samples_per_s"] / eb["samples_per_s"])
    return out


def ratios(summaries: dict[str, dict[str, dict]], records: dict | None = None) -> list[dict]:
    """The team's targets, each a ratio of two numbers from this one run."""
    def value(model, system, key="samples_per_s"):
        s = summaries.get(model, {}).get(system)
        return None if s is None else s.get(key)

    out = []
    for model, a, b, target, text in (
            ("mlp", "kerasish", "flax-step", 1.05, "MLP: kerasish fit / hand-written per-step jit loop"),
            ("mlp", "kerasish", "keras3", 1.25, "MLP: kerasish fit / Keras 3 fit"),
            ("mlp", "kerasish-spe32", "keras3-spe32", 1.25, "MLP: kerasish fit / Keras 3 fit, both steps_per_execution=32"),
            ("mlp", "kerasish-spe32", "flax-scan", None, "MLP: kerasish spe=32 / hand-written whole-epoch scan"),
            ("mlp", "kerasish-perfit", "keras3-perfit", 1.1, "MLP, one fit per epoch: kerasish / Keras 3"),
            ("mlp", "kerasish-perfit", "flax-step", 1.0, "MLP, one fit per epoch: kerasish / hand-written per-step jit loop"),
            ("mlp", "kerasish-perfit", "kerasish", None, "MLP: kerasish one fit per epoch / one long fit"),
            ("mlp", "kerasish", "baseline", None, "MLP: kerasish / kerasish at $KERASISH_BASELINE (one long fit)"),
            ("mlp", "kerasish-perfit", "baseline-perfit", None,
             "MLP, one fit per epoch: kerasish / kerasish at $KERASISH_BASELINE (before / after a change)"),
            ("cnn", "kerasish", "torch", 1.0, "CNN: kerasish fit / PyTorch CPU eager"),
            ("cnn", "kerasish-spe32", "torch", 1.0, "CNN: kerasish fit spe=32 / PyTorch CPU eager"),
            ("cnn", "kerasish", "keras3", None, "CNN: kerasish fit / Keras 3 fit")):
        sa, sb = summaries.get(model, {}).get(a), summaries.get(model, {}).get(b)
        if not (sa and sb and sa["samples_per_s"] and sb["samples_per_s"]):
            continue
        va, vb, clean = comparable(sa, sb)
        r = va / vb
        out.append({"what": text, "ratio": r, "target": target, "higher_is_better": True,
                    "met": None if target is None else r > target if target == 1.0 else r >= target,
                    "clean": clean, "values": [va, vb],
                    "per_round": paired(records[model], a, b, clean) if records else [],
                    "others": [sa["others_cores_median"], sb["others_cores_median"]],
                    "cpu_ratio": (sa["samples_per_cpu_s"] / sb["samples_per_cpu_s"]
                                  if sa.get("samples_per_cpu_s") and sb.get("samples_per_cpu_s") else None)})
    for model in ("mlp", "cnn"):
        for a, b, key, note in (("kerasish", "keras3", "time_to_first_batch_s", ""),
                                ("kerasish-spe32", "keras3-spe32", "time_to_first_batch_s", ""),
                                ("kerasish", "keras3", "warm_cache_time_to_first_batch_s",
                                 " (kerasish 2nd run, warm compilation cache)")):
            va, vb = value(model, a, key), value(model, b, "time_to_first_batch_s")
            if va and vb:
                out.append({"what": f"{model.upper()}: time to first trained batch, {a} / {b}{note}", "ratio": va / vb,
                            "target": 1.0, "higher_is_better": False, "met": va <= vb, "values": [va, vb],
                            "clean": not (summaries[model][a]["startup_contaminated"]
                                          or summaries[model][b]["startup_contaminated"])})
    return out


# --------------------------------------------------------------------- machine and report

def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
               platform.processor())
    versions = {"python": platform.python_version()}
    for package in ("jax", "jaxlib", "flax", "optax", "keras", "torch", "numpy"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None

    def git(*argv):
        result = subprocess.run(["git", *argv], cwd=ROOT, capture_output=True, text=True)
        return result.stdout.strip() if result.returncode == 0 else None
    dirty = git("status", "--porcelain", "--", "kerasish")
    return {"cpu": cpu, "cores": os.cpu_count(), "versions": versions, "git_commit": git("rev-parse", "HEAD"),
            "kerasish_files_differing_from_commit": len(dirty.splitlines()) if dirty else 0,
            "platform": platform.platform(), "loadavg_at_start": open("/proc/loadavg").read().split()[:3]}


def _fmt(value, spec=",.0f", missing="—"):
    return missing if value is None else format(value, spec)


def markdown(result: dict) -> str:
    m, cfg = result["machine"], result["config"]
    v = m["versions"]
    lines = [f"# CPU training benchmark, Fashion-MNIST — {result['date']}", "",
             f"Machine: {m['cpu']}, {m['cores']} cores ({m['platform']}); load average at start "
             f"{' / '.join(m['loadavg_at_start'])}.  ",
             "Versions: " + ", ".join(f"{k} {v[k]}" for k in v) + ".  ",
             f"Code: commit `{(m['git_commit'] or '?')[:12]}`"
             + (f" with {m['kerasish_files_differing_from_commit']} files under kerasish/ changed or added in the "
                "working tree (measured as they were)" if m["kerasish_files_differing_from_commit"] else "") + ".  ",
             f"Command: `{cfg['command']}`; wall time {result['wall_s'] / 60:.1f} min.", "",
             f"Batch {cfg['batch_size']}. Each system in its own process; one untimed epoch 0 (compile) then "
             f"timed epochs interleaved round-robin. An epoch is **contaminated** when other processes plus "
             f"hypervisor steal used more than {cfg['threshold']} of a core during it; samples/s is the median of "
             f"the clean epochs (marked † where every epoch was contaminated and the median of all is shown). "
             f"See README.md for every column.", ""]
    for model, summaries in result["summaries"].items():
        info = result["models"][model]
        lines += [f"## {model.upper()} — {info['train_samples']:,} training samples"
                  f"{' (subset)' if info['train_samples'] < 60000 else ''}, "
                  f"{info['epochs']} timed epochs + epoch 0", "",
                  "| system | samples/s (median) | min–max | epochs clean / left out | median of all epochs "
                  "| others (cores, median) "
                  "| first trained batch (s) | setup (s) | first call (s) | of which compile (s) | epoch 0 (s) "
                  "| peak RSS (MB) | test acc |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for s in summaries.values():
            if s["error"] and not s.get("samples_per_s"):
                lines.append(f"| {s['system']} | failed: {s['error'].splitlines()[0][:80]} |||||||||||||")
                continue
            dagger = " †" if s["all_contaminated"] else ""
            star = "" if not s.get("startup_contaminated") else " *"
            lines.append(
                f"| {s['system']} | {_fmt(s['samples_per_s'])}{dagger} | {_fmt(s['samples_per_s_min'])}–"
                f"{_fmt(s['samples_per_s_max'])} | {s['epochs_clean']} / {s['epochs_left_out']} | "
                f"{_fmt(s['samples_per_s_all_epochs'])} | "
                f"{_fmt(s['others_cores_median'], '.2f')} | {_fmt(s.get('time_to_first_batch_s'), '.2f')}{star} | "
                f"{_fmt(s.get('setup_s'), '.2f')} | {_fmt(s.get('first_call_s'), '.2f')} | "
                f"{_fmt(s.get('compile_s'), '.2f')} | {_fmt(s.get('epoch0_s'), '.1f')} | "
                f"{_fmt(s.get('peak_rss_mb'))} | {_fmt(s.get('test_accuracy'), '.4f')} |")
        lines.append("")
        for s in summaries.values():
            if s.get("info"):
                i = s["info"]
                lines.append(f"- `{s['system']}` ran steps_per_execution={i.get('steps_per_execution')}: "
                             f"{', '.join(map(str, i.get('steps_per_call') or []))} steps per compiled call, "
                             f"{i.get('loop')} loop.")
            if s.get("warm_cache_time_to_first_batch_s") is not None:
                lines.append(f"- `{s['system']}` started again on the persistent compilation cache its first "
                             f"run filled: first trained batch after {s['warm_cache_time_to_first_batch_s']:.2f} s "
                             f"(compile {_fmt(s['warm_cache_compile_s'], '.2f')} s), against "
                             f"{_fmt(s.get('time_to_first_batch_s'), '.2f')} s with an empty cache (the table).")
        recompiled = [s["system"] for s in summaries.values() if s["recompile_s_in_timed_epochs"] > 0.01]
        lines += ["" if lines[-1] else None, f"Test accuracy after {info['epochs'] + 1} epochs. "
                  + (f"JAX compiled again during timed epochs in: {', '.join(recompiled)}." if recompiled
                     else "No JAX compilation happened during any timed epoch.")
                  + " `*` after a time to first batch: others used more than the threshold while that worker "
                    "started.", ""]
    lines = [line for line in lines if line is not None]
    lines += ["## Targets (ratios from this one run)", "",
              "Throughput ratios compare medians of clean epochs when both systems have some, else the medians "
              "of all epochs of both (\"clean: no\": both measured while others used the CPU shown).", "",
              "Per round: the same ratio within each round (the two epochs minutes apart), their median, then "
              "each from smallest to largest; the spread shows how far one ratio can be trusted on this machine, "
              "and on a busy machine the median of the paired ratios is the steadier estimate.", "",
              "Per CPU-second: the ratio of samples per second of each worker's own CPU time (all epochs): the "
              "work each sample costs, which a busy machine disturbs less than wall time (it does not credit a "
              "system for running two threads at once).", "",
              "| comparison | ratio | values | per round | target | met | clean | others (cores) | per CPU-second |",
              "|---|---:|---:|---:|---:|:---:|:---:|---:|---:|"]
    for r in result["ratios"]:
        target = "—" if r["target"] is None else (f"≥ {r['target']}" if r["higher_is_better"] and r["target"] != 1.0
                                                 else ("> 1" if r["higher_is_better"] else "≤ 1"))
        met = "—" if r["met"] is None else ("yes" if r["met"] else "**no**")
        spec = ",.0f" if r["higher_is_better"] else ".2f"
        values = " / ".join(_fmt(v, spec) for v in r.get("values", []))
        others = " / ".join(_fmt(o, ".2f") for o in r.get("others", [])) or "—"
        per_round = sorted(r.get("per_round", []))
        rounds = (f"median {statistics.median(per_round):.2f}: " + ", ".join(f"{x:.2f}" for x in per_round)
                  if per_round else "—")
        cpu = "—" if r.get("cpu_ratio") is None else f"{r['cpu_ratio']:.2f}x"
        lines.append(f"| {r['what']} | {r['ratio']:.2f}x | {values} | {rounds} | {target} | {met} | "
                     f"{'yes' if r['clean'] else 'no'} | {others} | {cpu} |")
    lines += ["", "## Systems", ""] + [f"- `{name}`: {text}" for name, text in DESCRIPTIONS.items()]
    if result.get("sweep"):
        lines += ["", "## Batch-size sweep (MLP, default settings)", "",
                  f"{result['sweep'].get('note', '')} {result['sweep']['train_samples']:,} training samples, "
                  f"epoch 0 + {result['sweep']['epochs']} timed epochs per batch size, same rules as above.", "",
                  f"![samples/s against batch size]({result['sweep']['png']})", "",
                  "| batch | " + " | ".join(result["sweep"]["systems"]) + " |",
                  "|---:|" + "---:|" * len(result["sweep"]["systems"])]
        for point in result["sweep"]["points"]:
            a, b = (point[s] for s in result["sweep"]["systems"])
            va, vb, clean = comparable(a, b)
            mark = "" if clean else " †"
            lines.append(f"| {point['batch_size']} | {_fmt(va)}{mark} | {_fmt(vb)}{mark} |")
        lines += ["", "† no clean epoch for one of the two: medians of all epochs of both."]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------- main

def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="subsets and 1-2 timed epochs: a harness check")
    parser.add_argument("--epochs", type=int, help="timed epochs for the MLP (default 3; quick 2)")
    parser.add_argument("--cnn-epochs", type=int, help="timed epochs for the CNN (default 3; quick 1)")
    parser.add_argument("--mlp-samples", type=int, help="MLP training samples (default all 60,000; quick 10,240)")
    parser.add_argument("--cnn-samples", type=int, help="CNN training samples (default 8,192 = 64 batches; "
                        "quick 1,024)")
    parser.add_argument("--systems", default=",".join(s for s in SYSTEMS if not s.endswith("-perfit")
                                                      and not s.startswith("baseline")),
                        help=f"comma-separated, from {', '.join(SYSTEMS)} (default: all but the -perfit and "
                             "baseline ones)")
    parser.add_argument("--models", default="mlp,cnn", help="comma-separated: mlp, cnn")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--threshold", type=float, default=0.10, help="cores others may use before an epoch "
                        "counts as contaminated (default 0.10)")
    parser.add_argument("--quiet-wait", type=float, help="seconds to wait, at most, for a quiet machine before "
                        "each epoch and each start (default 6; quick 1)")
    parser.add_argument("--sweep", action="store_true", help="also run the batch-size sweep (sweep.py)")
    parser.add_argument("--no-cache-check", dest="cache_check", action="store_false",
                        help="skip the second kerasish start on its warm persistent compilation cache")
    parser.add_argument("--out", default=str(RESULTS), help="directory for the report")
    parser.add_argument("--report", metavar="JSON", help="only recompute the summaries from the raw epochs of a "
                        ".json this script wrote, and write it and its .md again")
    args = parser.parse_args(argv)
    args.systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    args.models = [m.strip() for m in args.models.split(",") if m.strip()]
    unknown = [s for s in args.systems if s not in SYSTEMS] + [m for m in args.models if m not in ("mlp", "cnn")]
    if unknown:
        parser.error(f"unknown system or model {unknown}; systems are {', '.join(SYSTEMS)}; models mlp, cnn")
    q = args.quick
    args.quiet_wait = (1.0 if q else 6.0) if args.quiet_wait is None else args.quiet_wait
    args.epochs = args.epochs or (2 if q else 3)
    args.cnn_epochs = args.cnn_epochs or (1 if q else 3)
    args.mlp_samples = args.mlp_samples or (10_240 if q else None)
    args.cnn_samples = args.cnn_samples or (1_024 if q else 8_192)
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.report:
        path = Path(args.report)
        result = json.loads(path.read_text())
        result["summaries"] = {m: {s: summarize(r) for s, r in records.items()}
                               for m, records in result["records"].items()}
        result["ratios"] = ratios(result["summaries"], result["records"])
        path.write_text(json.dumps(result, indent=1))
        path.with_suffix(".md").write_text(markdown(result))
        print(f"wrote {path.with_suffix('.md')}")
        return
    started = time.time()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    result = {"date": datetime.date.today().isoformat(), "machine": machine(),
              "config": {"command": "python benchmarks/run.py " + " ".join(sys.argv[1:] if argv is None else argv),
                         "batch_size": args.batch_size, "threshold": args.threshold, "quiet_wait": args.quiet_wait,
                         "systems": args.systems},
              "models": {}, "records": {}, "summaries": {}}
    print(f"{result['machine']['cpu']}, {result['machine']['cores']} cores; load {result['machine']['loadavg_at_start']}")
    with tempfile.TemporaryDirectory(prefix="kerasish-bench-") as tmp:
        tmp = Path(tmp)
        for model in args.models:
            epochs = args.epochs if model == "mlp" else args.cnn_epochs
            data, n = prepare_data(model, args.mlp_samples if model == "mlp" else args.cnn_samples, tmp)
            print(f"{model.upper()}: {n} training samples, batch {args.batch_size}, epoch 0 + {epochs} timed epochs")
            records = drive(model, args.systems, data, epochs, args.batch_size, args, tmp, args.cache_check)
            result["models"][model] = {"train_samples": n, "epochs": epochs}
            result["records"][model] = records
            result["summaries"][model] = {s: summarize(r) for s, r in records.items()}
        if args.sweep:
            import sweep
            result["sweep"] = sweep.run(args, tmp, out)
    result["ratios"] = ratios(result["summaries"], result["records"])
    result["wall_s"] = time.time() - started
    stem = f"cpu-{result['date']}{'-quick' if args.quick else ''}"
    (out / f"{stem}.json").write_text(json.dumps(result, indent=1))
    (out / f"{stem}.md").write_text(markdown(result))
    print(markdown(result))
    print(f"wrote {out / stem}.md and .json in {result['wall_s'] / 60:.1f} min")


if __name__ == "__main__":
    main()
