"""Which lowering `kerasish.ops.max_pool` / `average_pool` should take: compiled gradient time.

For each shape and data format, the compiled `jax.grad` of `sum(sin(pool(x)))` through
`kerasish.ops` (1-D/2-D max pools on `kerasish.kernels.max_pool2d`, transposes included for
channels_first; average pools on `lax.reduce_window`) against plain `lax.reduce_window` in the
input's own layout, and `kernels.avg_pool2d` against `ops.average_pool`. The variants run
interleaved, five rounds, and the best time of each is reported, with the ratio.

Run:  python benchmarks/pool_lowering.py   (well under a minute on 2 cores)
"""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

import kerasish
from kerasish import kernels


def reduce_window_pool(x, mode: str, pool: int, data_format: str):
    n = x.ndim - 2
    window = (1, 1) + (pool,) * n if data_format == "channels_first" else (1,) + (pool,) * n + (1,)
    if mode == "max":
        return lax.reduce_window(x, np.array(-np.inf, x.dtype), lax.max, window, window, "VALID")
    return lax.reduce_window(x, np.array(0, x.dtype), lax.add, window, window, "VALID") / pool ** n


def ops_pool(x, mode: str, pool: int, data_format: str):
    fn = kerasish.ops.max_pool if mode == "max" else kerasish.ops.average_pool
    return fn(x, pool, pool, "valid", data_format)


def best_times(fns: dict, x, rounds: int = 5) -> dict[str, float]:
    compiled = {name: jax.jit(jax.grad(lambda x, f=f: jnp.sum(jnp.sin(f(x))))) for name, f in fns.items()}
    for f in compiled.values():
        f(x).block_until_ready()
    times = {name: [] for name in compiled}
    for _ in range(rounds):
        for name, f in compiled.items():
            start = time.perf_counter()
            f(x).block_until_ready()
            times[name].append(time.perf_counter() - start)
    return {name: min(t) for name, t in times.items()}


def main() -> None:
    rng = np.random.default_rng(0)
    for mode, shape, data_format in [("max", (32, 64, 56, 56), "channels_first"),
                                     ("max", (64, 1024, 64), "channels_last"),
                                     ("max", (64, 64, 1024), "channels_first"),
                                     ("average", (32, 64, 56, 56), "channels_first")]:
        x = jnp.asarray(rng.random(shape, dtype=np.float32))
        t = best_times({"reduce_window": lambda x: reduce_window_pool(x, mode, 2, data_format),
                        "ops": lambda x: ops_pool(x, mode, 2, data_format)}, x)
        print(f"{mode} {shape} {data_format}: reduce_window {t['reduce_window'] * 1e3:.1f} ms, "
              f"ops {t['ops'] * 1e3:.1f} ms, ratio {t['reduce_window'] / t['ops']:.2f}x")
    for shape, padding in [((32, 56, 56, 64), "valid"), ((32, 56, 56, 64), "same")]:
        x = jnp.asarray(rng.random(shape, dtype=np.float32))
        t = best_times({"kernels": lambda x: kernels.avg_pool2d(x, 3, 2, padding),
                        "ops": lambda x: kerasish.ops.average_pool(x, 3, 2, padding)}, x)
        print(f"average {shape} {padding}: kernels.avg_pool2d {t['kernels'] * 1e3:.1f} ms, "
              f"ops.average_pool {t['ops'] * 1e3:.1f} ms, ratio {t['kernels'] / t['ops']:.2f}x")


if __name__ == "__main__":
    main()
