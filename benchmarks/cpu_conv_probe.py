"""CPU probe: which conv / max-pool formulation trains the keras.io MNIST convnet fastest.

Measures, on the local CPU, with all variants interleaved round by round (medians):

  ops     each layer's op alone, forward + backward, per formulation
  model   value_and_grad of the loss through the whole convnet (batch 128, jit)
  train   a full Adam training step (optax), one jitted call per step
  scan    8 steps in one lax.scan vs 8 Python-dispatched steps, native XLA vs auto
  flags   the model with XLA CPU flags set (each config in its own subprocess)

A full run repeats "model" and "train" in a subprocess with
GLIBC_TUNABLES=glibc.malloc.hugetlb=1: XLA:CPU gets a fresh temp buffer of tens of
MB from malloc on every call, glibc maps it anew (mmap above 32 MB), and first-touch
page faults then cost about as much as the convnet's arithmetic; huge pages cut the
faults ~60x. (A lax.scan over steps amortises the same cost.)

For each timing window it reads /proc/stat and this process's CPU time, and reports
how much CPU *other* processes used ("others %", of all cores), because the machine
may be shared; "ms quiet (n)" is the median over the n windows where others used < 10%.

Run:  python benchmarks/cpu_conv_probe.py                  (about 5 minutes on 2 idle cores)
      python benchmarks/cpu_conv_probe.py --wait-quiet 30  (on a shared machine)
      python benchmarks/cpu_conv_probe.py --quick          (fewer rounds, no flags section)
Writes benchmarks/results/cpu_conv_probe.md.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import resource
import subprocess
import sys
import time
from typing import NamedTuple

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import jax  # noqa: E402
from jax import lax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402

from kerasish import kernels  # noqa: E402
from kerasish.kernels import conv as conv_mod  # noqa: E402
from kerasish.kernels.pooling import resolve_pool_impl  # noqa: E402

BATCH = 128
HZ = os.sysconf("SC_CLK_TCK")
NCPU = os.cpu_count()

# ---------------------------------------------------------------- alternatives
# Formulations that lost and so are not in kerasish.kernels; kept here to re-measure.


def conv_concat(x, k):
    """im2col by concatenating the kh*kw shifted slices; plain autodiff."""
    kh, kw, cin, cout = k.shape
    oh, ow = x.shape[1] - kh + 1, x.shape[2] - kw + 1
    views = conv_mod.tap_slices(x, (kh, kw), (1, 1), (1, 1), (oh, ow))
    return lax.concatenate(views, 3) @ k.reshape(-1, cout)


def conv_shifted(x, k):
    """Sum of kh*kw matmuls, one per kernel tap; plain autodiff."""
    kh, kw, cin, cout = k.shape
    oh, ow = x.shape[1] - kh + 1, x.shape[2] - kw + 1
    views = conv_mod.tap_slices(x, (kh, kw), (1, 1), (1, 1), (oh, ow))
    return sum(v @ k[t // kw, t % kw] for t, v in enumerate(views))


def conv_patches_op(x, k):
    """lax.conv_general_dilated_patches (itself a convolution) + one matmul."""
    kh, kw, cin, cout = k.shape
    p = lax.conv_general_dilated_patches(
        x, (kh, kw), (1, 1), "VALID", dimension_numbers=("NHWC", "HWIO", "NHWC")
    )  # feature order (cin, kh, kw)
    return p @ k.transpose(2, 0, 1, 3).reshape(-1, cout)


def pool_reshape_autodiff(x):
    """2x2 max-pool as reshape + max, gradient from jnp.max (ties share the gradient)."""
    n, h, w, c = x.shape
    return x[:, : h // 2 * 2, : w // 2 * 2].reshape(n, h // 2, 2, w // 2, 2, c).max((2, 4))


CONVS = {
    "xla": lambda x, k: kernels.conv2d(x, k, impl="xla"),
    "im2col": lambda x, k: kernels.conv2d(x, k, impl="im2col"),
    "auto": lambda x, k: kernels.conv2d(x, k),
    "concat": conv_concat,
    "shifted": conv_shifted,
    "patches_op": conv_patches_op,
}
POOLS = {
    "xla": lambda x: kernels.max_pool2d(x, 2, impl="xla"),
    "reshape": lambda x: kernels.max_pool2d(x, 2, impl="reshape"),
    "slices": lambda x: kernels.max_pool2d(x, 2, impl="slices"),
    "auto": lambda x: kernels.max_pool2d(x, 2),
    "reshape_autodiff": pool_reshape_autodiff,
}

# ---------------------------------------------------------------- the convnet


def init_params(seed=0):
    r = np.random.default_rng(seed)

    def glorot(shape, fan_in, fan_out):
        lim = np.sqrt(6 / (fan_in + fan_out))
        return jnp.asarray(r.uniform(-lim, lim, shape), jnp.float32)

    return {
        "k1": glorot((3, 3, 1, 32), 9, 288), "b1": jnp.zeros(32),
        "k2": glorot((3, 3, 32, 64), 288, 576), "b2": jnp.zeros(64),
        "w": glorot((1600, 10), 1600, 10), "b": jnp.zeros(10),
    }


def make_loss(conv_name, pool_name):
    conv, pool = CONVS[conv_name], POOLS[pool_name]

    def loss(params, x, y, key):
        h = pool(jax.nn.relu(conv(x, params["k1"]) + params["b1"]))
        h = pool(jax.nn.relu(conv(h, params["k2"]) + params["b2"]))
        h = h.reshape(h.shape[0], -1)
        h = jnp.where(jax.random.bernoulli(key, 0.5, h.shape), h / 0.5, 0.0)
        logits = h @ params["w"] + params["b"]
        return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()

    return loss


def make_train_step(conv_name, pool_name, tx):
    grad_fn = jax.value_and_grad(make_loss(conv_name, pool_name))

    def step(state, batch):
        params, opt_state, key = state
        key, sub = jax.random.split(key)
        loss, grads = grad_fn(params, batch[0], batch[1], sub)
        updates, opt_state = tx.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state, key), loss

    return step


def flops_per_sample():
    fwd = 26 * 26 * 32 * 9 * 2 + 11 * 11 * 64 * 288 * 2 + 1600 * 10 * 2
    return 3 * fwd  # forward + two backward matmuls per layer


# ---------------------------------------------------------------- timing


def cpu_jiffies():
    with open("/proc/stat") as f:
        v = [int(t) for t in f.readline().split()[1:]]
    busy = sum(v) - v[3] - v[4]  # minus idle, iowait
    with open("/proc/self/stat") as f:
        s = f.read().rsplit(")", 1)[1].split()
    return busy, int(s[11]) + int(s[12])  # utime + stime of this process


class Timing(NamedTuple):
    rounds: int  # interleaved rounds; each variant is timed once per round
    quiet_s: float  # before each round, wait up to this long for other processes to go idle


def wait_for_quiet(max_wait_s, threshold=0.10):
    """Sleeps in 1 s samples until other processes use < threshold of the CPUs
    (we are idle meanwhile, so all busy time is theirs) or max_wait_s has passed."""
    deadline = time.monotonic() + max_wait_s
    while time.monotonic() < deadline:
        b0, _ = cpu_jiffies()
        time.sleep(1.0)
        b1, _ = cpu_jiffies()
        if (b1 - b0) / HZ / NCPU < threshold:
            return


class Stat(NamedTuple):
    median: float  # seconds per call, all rounds
    others: float  # median share of all CPUs that other processes used in the windows
    minimum: float
    quiet: float  # median over the windows where others used < 10% (nan if none)
    n_quiet: int
    faults: float  # median minor page faults per call (first touches of fresh memory)

    def best(self):
        """The quiet-window median when some windows were quiet, else the overall median."""
        return self.quiet if self.n_quiet else self.median

    def cells(self, scale=1e3, digits=1):
        q = f"{scale * self.quiet:.{digits}f} ({self.n_quiet})" if self.n_quiet else "-"
        return (f"{scale * self.median:.{digits}f} | {scale * self.minimum:.{digits}f} | {q} "
                f"| {100 * self.others:.0f}")


STAT_HEADER = "ms median | ms min | ms quiet (n) | others %"


def interleaved(cases, timing, reps):
    """cases: name -> zero-arg callable returning something to block on.
    Times every case once per round, rounds interleaved; returns name -> Stat."""
    for fn in cases.values():  # compile + warm up
        jax.block_until_ready(fn())
    times, others, faults = ({n: [] for n in cases} for _ in range(3))
    for _ in range(timing.rounds):
        wait_for_quiet(timing.quiet_s)
        for name, fn in cases.items():
            b0, m0 = cpu_jiffies()
            f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
            t0 = time.perf_counter()
            for _ in range(reps):
                out = fn()
            jax.block_until_ready(out)
            dt = time.perf_counter() - t0
            b1, m1 = cpu_jiffies()
            times[name].append(dt / reps)
            others[name].append(max(0, (b1 - b0) - (m1 - m0)) / HZ / (dt * NCPU))
            faults[name].append((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0) / reps)
    stats = {}
    for n in cases:
        t, o = np.array(times[n]), np.array(others[n])
        quiet = t[o < 0.10]
        stats[n] = Stat(float(np.median(t)), float(np.median(o)), float(t.min()),
                        float(np.median(quiet)) if len(quiet) else float("nan"), len(quiet),
                        float(np.median(faults[n])))
    return stats


def data(n_batches=1, seed=1):
    r = np.random.default_rng(seed)
    x = jnp.asarray(r.random((n_batches, BATCH, 28, 28, 1)), jnp.float32)
    y = jnp.asarray(r.integers(0, 10, (n_batches, BATCH)), jnp.int32)
    return x, y


# ---------------------------------------------------------------- sections


def section_ops(timing, summary):
    r = np.random.default_rng(2)
    arr = lambda *s: jnp.asarray(r.normal(size=s), jnp.float32)  # noqa: E731
    x1, k1 = arr(BATCH, 28, 28, 1), arr(3, 3, 1, 32)
    x2, k2 = arr(BATCH, 13, 13, 32), arr(3, 3, 32, 64)
    p1, p2, k3 = arr(BATCH, 26, 26, 32), arr(BATCH, 11, 11, 64), arr(3, 3, 32, 32)
    cases = {}
    for name in ("xla", "im2col", "concat", "shifted", "patches_op"):
        c = CONVS[name]
        g1 = jax.jit(jax.grad(lambda k, x, c=c: jnp.sum(c(x, k) ** 2)))
        g2 = jax.jit(jax.grad(lambda x, k, c=c: jnp.sum(c(x, k) ** 2), (0, 1)))
        cases[("conv1 28x28x1->32, d/dk", name)] = lambda g=g1: g(k1, x1)
        cases[("conv2 13x13x32->64, d/dx,dk", name)] = lambda g=g2: g(x2, k2)
    for name in ("xla", "reshape", "slices", "reshape_autodiff"):
        g = jax.jit(jax.grad(lambda x, p=POOLS[name]: jnp.sum(p(x) ** 2)))
        cases[("maxpool 2x2 26x26x32, d/dx", name)] = lambda g=g: g(p1)
        cases[("maxpool 2x2 11x11x64, d/dx", name)] = lambda g=g: g(p2)
    pools = [("maxpool 3x3/2 same 26x26x32, d/dx", kernels.max_pool2d, 3, ("xla", "slices")),
             ("avgpool 2x2 26x26x32, d/dx", kernels.avg_pool2d, 2, ("xla", "reshape", "slices")),
             ("avgpool 3x3/2 same 26x26x32, d/dx", kernels.avg_pool2d, 3, ("xla", "slices"))]
    for label, fn, size, impls in pools:
        for impl in impls:
            pool = lambda x, fn=fn, size=size, impl=impl: fn(x, size, 2, "same", impl)  # noqa: E731
            g = jax.jit(jax.grad(lambda x, pool=pool: jnp.sum(pool(x) ** 2)))
            cases[(label, impl)] = lambda g=g: g(p1)
            # as in a network: relu -> pool -> conv (the conv's im2col gather reads the pool)
            net = lambda x, pool=pool: kernels.conv2d(pool(jax.nn.relu(x)), k3)  # noqa: E731
            g = jax.jit(jax.grad(lambda x, net=net: jnp.sum(net(x) ** 2)))
            cases[(label.replace(", d/dx", ", relu->pool->conv d/dx"), impl)] = lambda g=g: g(p1)
    res = interleaved(cases, timing, reps=5)
    lines = [f"| op (forward + backward, batch 128) | formulation | {STAT_HEADER} |",
             "|---|---|---:|---:|---:|---:|"]
    for (op, name), st in res.items():
        lines.append(f"| {op} | {name} | {st.cells(digits=2)} |")
    return lines


MODEL_VARIANTS = [
    ("xla", "xla"), ("xla", "reshape"), ("im2col", "xla"), ("im2col", "reshape"),
    ("im2col", "slices"), ("im2col", "reshape_autodiff"), ("concat", "reshape"),
    ("shifted", "reshape"), ("patches_op", "reshape"), ("auto", "auto"),
]


def model_results(timing, variants=MODEL_VARIANTS):
    params = init_params()
    x, y = data()
    key = jax.random.key(0)
    cases = {}
    for v in variants:
        f = jax.jit(jax.value_and_grad(make_loss(*v)))
        cases[v] = lambda f=f: f(params, x[0], y[0], key)
    return interleaved(cases, timing, reps=4)


def section_model(timing, summary):
    res = model_results(timing)
    fl = flops_per_sample()
    base = res[("xla", "xla")]
    lines = [
        f"| conv | max-pool | {STAT_HEADER} | samples/s | GFLOP/s | vs xla/xla "
        "| page faults/call |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for (c, p), st in res.items():
        # throughput from the quiet-window median when there is one, else the overall median
        t, t0 = (st.quiet, base.quiet) if st.n_quiet and base.n_quiet else (st.median, base.median)
        lines.append(
            f"| {c} | {p} | {st.cells()} | {BATCH / t:,.0f} | {BATCH * fl / t / 1e9:.0f} "
            f"| {t0 / t:.2f}x | {st.faults:,.0f} |"
        )
    auto, fastest = res[("auto", "auto")], min(res, key=lambda v: res[v].best())
    summary.append(
        f"- Convnet value_and_grad: auto/auto {1e3 * auto.best():.1f} ms/step "
        f"({BATCH / auto.best():,.0f} samples/s) vs native xla/xla {1e3 * base.best():.1f} ms "
        f"({base.best() / auto.best():.2f}x); fastest variant {'/'.join(fastest)} "
        f"{1e3 * res[fastest].best():.1f} ms."
    )
    return lines


LOOP, SCAN = "8 jitted steps, Python loop", "lax.scan over 8 steps"


def section_train_and_scan(timing, summary):
    tx = optax.adam(1e-3)
    params = init_params()
    state = (params, tx.init(params), jax.random.key(0))
    xs, ys = data(8)
    cases = {}
    for v in (("xla", "xla"), ("auto", "auto")):
        step = make_train_step(*v, tx)
        jstep = jax.jit(step)
        scan8 = jax.jit(lambda s, b, step=step: lax.scan(step, s, b))

        def loop8(jstep=jstep):
            s, loss = state, None
            for i in range(8):
                s, loss = jstep(s, (xs[i], ys[i]))
            return s, loss

        cases[(v, LOOP)] = loop8
        cases[(v, SCAN)] = lambda scan8=scan8: scan8(state, (xs, ys))
    res = interleaved(cases, timing, reps=1)
    lines = [
        f"| conv/pool | how | per step: {STAT_HEADER} | samples/s | page faults/step |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for ((c, p), how), st in res.items():
        per_step = Stat(st.median / 8, st.others, st.minimum / 8, st.quiet / 8, st.n_quiet,
                        st.faults / 8)
        t = per_step.best()
        lines.append(f"| {c}/{p} | {how} | {per_step.cells()} | {BATCH / t:,.0f} "
                     f"| {per_step.faults:,.0f} |")
    for v in (("xla", "xla"), ("auto", "auto")):
        loop, scan = res[(v, LOOP)].best() / 8, res[(v, SCAN)].best() / 8
        summary.append(
            f"- Adam step with {'/'.join(v)}: Python loop {1e3 * loop:.1f} ms/step, "
            f"lax.scan {1e3 * scan:.1f} ms/step (scan takes {scan / loop:.2f}x the loop's time)."
        )
    return lines


HUGETLB = {"GLIBC_TUNABLES": "glibc.malloc.hugetlb=1"}  # malloc asks for transparent huge pages
ENV_CONFIGS = [
    {},
    {"XLA_FLAGS": "--xla_cpu_experimental_ynn_fusion_type="},  # YNNPACK fusions off: Eigen dots
    {"XLA_FLAGS": "--xla_cpu_use_xnnpack=true"},
    {"XLA_FLAGS": "--xla_cpu_use_onednn=true"},
    {"XLA_FLAGS": "--xla_cpu_enable_fast_math=true"},
    {"XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false"},
    {"XLA_FLAGS": "--xla_cpu_use_thunk_runtime=false"},
    HUGETLB,
]
LIBRARY_MARKERS = {"YNNPACK": "__ynn_fusion", "XNNPACK": "__xnn_fusion", "oneDNN": "__onednn"}


def library_calls(variant):
    """Which CPU libraries the compiled step calls (to tell whether a flag did anything)."""
    params, (x, y), key = init_params(), data(), jax.random.key(0)
    text = jax.jit(jax.value_and_grad(make_loss(*variant))).lower(
        params, x[0], y[0], key).compile().as_text()
    found = {name: text.count(marker) for name, marker in LIBRARY_MARKERS.items()}
    return ", ".join(f"{k} x{v}" for k, v in found.items() if v) or "none (Eigen / emitted loops)"


def env_label(env):
    return " ".join(f"{k}={v}" for k, v in env.items()) or "(none)"


def child(args, env, timing):
    """Runs this script with extra environment (read at process start) and returns its JSON."""
    proc = subprocess.run(
        [sys.executable, __file__, *args, "--rounds", str(timing.rounds),
         "--wait-quiet", str(timing.quiet_s)],
        env=dict(os.environ, **env), capture_output=True, text=True,
    )
    if proc.returncode != 0:
        raise RuntimeError((proc.stderr.strip().splitlines() or ["?"])[-1][:160])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def section_flags(timing, summary):
    lines = [
        f"| process environment | xla/xla: {STAT_HEADER} | auto/auto: {STAT_HEADER} "
        "| auto page faults/call | library fusions (auto step) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for env in ENV_CONFIGS:
        try:
            res = child(["--child-model"], env, timing)
        except RuntimeError as e:
            lines.append(f"| `{env_label(env)}` |" + " - |" * 9 + f" failed: {e} |")
            continue
        xla, auto = Stat(*res["xla"]), Stat(*res["auto"])
        lines.append(f"| `{env_label(env)}` | {xla.cells()} | {auto.cells()} | {auto.faults:,.0f} "
                     f"| {res['libs']} |")
    return lines


SECTIONS = {
    "ops": ("Single ops", section_ops),
    "model": ("Convnet value_and_grad", section_model),
    "train": ("Adam training step: per-step loop vs lax.scan", section_train_and_scan),
    "flags": ("XLA CPU flags and allocator (separate processes)", section_flags),
}


def run_sections(names, timing):
    """Runs sections in this process; returns (markdown lines, summary lines)."""
    tunables = os.environ.get("GLIBC_TUNABLES")
    suffix = f" (GLIBC_TUNABLES={tunables})" if tunables else ""
    body, summary = [], []
    for name in names:
        title, fn = SECTIONS[name]
        t0 = time.perf_counter()
        before = len(summary)
        lines = fn(timing, summary)
        if tunables:
            summary[before:] = [f"- With GLIBC_TUNABLES={tunables}: {line[2:]}"
                                for line in summary[before:]]
        body += [f"## {title}{suffix}", "", *lines, ""]
        print("\n".join(body[-len(lines) - 3:]), f"({time.perf_counter() - t0:.0f} s)", flush=True)
    return body, summary


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer rounds; no flags or allocator runs")
    ap.add_argument("--only", choices=list(SECTIONS), help="run one section, write no results file")
    ap.add_argument("--rounds", type=int, help="interleaved timing rounds (default 7, quick 3)")
    ap.add_argument("--wait-quiet", type=float, default=0.0, metavar="S",
                    help="before each timing round wait up to S seconds for other processes "
                         "to use < 10%% of the CPUs (for shared machines)")
    ap.add_argument("--child-model", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--child-sections", help=argparse.SUPPRESS)
    args = ap.parse_args()
    timing = Timing(args.rounds or (3 if args.quick else 7), args.wait_quiet)
    if args.child_model:
        res = model_results(timing, [("xla", "xla"), ("auto", "auto")])
        libs = library_calls(("auto", "auto"))
        print(json.dumps({"xla": res[("xla", "xla")], "auto": res[("auto", "auto")], "libs": libs}))
        return
    if args.child_sections:
        body, summary = run_sections(args.child_sections.split(","), timing)
        print(json.dumps({"body": body, "summary": summary}))
        return
    if args.only:
        run_sections([args.only], timing)
        return
    body, summary = run_sections(["ops", "model", "train"], timing)
    if not args.quick:
        res = child(["--child-sections", "model,train"], HUGETLB, timing)
        print("\n".join(res["body"]), flush=True)
        body += res["body"]
        summary += res["summary"]
        more, _ = run_sections(["flags"], timing)
        body += more
    header = [
        "# CPU conv / pooling probe",
        "",
        f"jax {jax.__version__}, backend {jax.default_backend()}, {NCPU} CPUs "
        f"({platform_name()}); batch {BATCH}; medians of {timing.rounds} interleaved rounds. "
        "'others %' is CPU used by other processes during the timing windows (share of all cores); "
        f"rounds waited up to {timing.quiet_s:.0f} s for them to go quiet. "
        "'page faults' are minor faults (first touches of freshly mapped memory).",
        "",
        f"Here `impl='auto'` resolves to: conv2d `{conv_mod.resolve_conv_impl('auto', 0)}`, "
        f"max_pool2d `{resolve_pool_impl('auto', 'max', ((2, 2), (2, 2)))}` (2x2/2) and "
        f"`{resolve_pool_impl('auto', 'max', ((3, 3), (2, 2)))}` (3x3/2), "
        f"avg_pool2d `{resolve_pool_impl('auto', 'avg', ((2, 2), (2, 2)))}`.",
        "",
    ]
    print("\n".join(summary))
    path = ROOT / "benchmarks" / "results" / "cpu_conv_probe.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([*header, "## Summary", "", *summary, "", *body]) + "\n")
    print(f"wrote {path}")


def platform_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


if __name__ == "__main__":
    main()
