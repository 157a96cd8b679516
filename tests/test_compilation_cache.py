"""JAX's persistent compilation cache: untouched by `import kerasish`, on from the first `compile`, and
switchable off before (environment variable, `keras.config.disable_compilation_cache()`) and after
(the JAX settings kerasish changed are restored); a cache the user configured is never touched.

Each case runs in its own Python process, since the cache is process-wide JAX configuration.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

# Prints one JSON line: the JAX settings at each named point, cache hits and misses from model building on.
SCRIPT = """
import json, sys
import jax, jax.monitoring
from jax._src import compilation_cache as jax_internal_cache
events = []
jax.monitoring.register_event_listener(lambda name, **kw: events.append(name))
NAMES = ("jax_compilation_cache_dir", "jax_persistent_cache_min_compile_time_secs",
         "jax_persistent_cache_min_entry_size_bytes", "jax_enable_compilation_cache")
report = {}
def snapshot(point):
    report[point] = {name: getattr(jax.config, name) for name in NAMES}
    report[point]["jax_cache_open"] = jax_internal_cache._cache is not None
snapshot("before_import")
import numpy as np, kerasish as keras
snapshot("after_import")
if "disable_first" in sys.argv:
    keras.config.disable_compilation_cache()
start = len(events)  # from the first program: weight initializers are cached too
model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
model.compile("sgd", "mse")
model.fit(np.ones((8, 3), "float32"), np.zeros((8, 2), "float32"), verbose=0)
model.predict(np.ones((4, 3), "float32"), verbose=0)
after_compile = events[start:]
report["hits"] = after_compile.count("/jax/compilation_cache/cache_hits")
report["misses"] = after_compile.count("/jax/compilation_cache/cache_misses")
snapshot("after_fit")
if "disable_after" in sys.argv:
    keras.config.disable_compilation_cache()
    snapshot("after_disable")
    def user_program(v):
        return jax.numpy.sin(v) * 3.25 + 1.5
    jax.jit(user_program)(np.arange(7.0)).block_until_ready()
print(json.dumps(report))
"""


def _run(tmp_path, *args, **env):
    full = {**os.environ, "KERASISH_CACHE_DIR": str(tmp_path / "kerasish"), **env}
    full["PYTHONPATH"] = str(Path(__file__).parents[1]) + os.pathsep + full.get("PYTHONPATH", "")
    for name in ("JAX_COMPILATION_CACHE_DIR", "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS",
                 "KERASISH_COMPILATION_CACHE"):
        if name not in env:
            full.pop(name, None)
    out = subprocess.run([sys.executable, "-c", SCRIPT, *args], env=full, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def _files(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()} if folder.exists() else set()


def test_import_changes_nothing_and_compile_turns_the_cache_on(tmp_path):
    report = _run(tmp_path)
    assert report["after_import"] == report["before_import"]
    assert report["after_import"]["jax_compilation_cache_dir"] is None
    assert report["after_fit"]["jax_compilation_cache_dir"] == str(tmp_path / "kerasish" / "jax")
    assert report["after_fit"]["jax_persistent_cache_min_compile_time_secs"] == 0.0
    assert _files(tmp_path / "kerasish" / "jax")


def test_a_second_run_loads_its_programs_from_the_cache(tmp_path):
    first = _run(tmp_path)
    assert first["misses"] > 0
    second = _run(tmp_path)  # every program (initializers included) now comes from the cache
    assert second["misses"] == 0 and second["hits"] >= first["misses"]


@pytest.mark.parametrize("how", ["env-0", "env-false", "config-call"])
def test_the_cache_can_be_switched_off_before_the_first_compile(tmp_path, how):
    if how == "config-call":
        report = _run(tmp_path, "disable_first")
    else:
        report = _run(tmp_path, KERASISH_COMPILATION_CACHE=how.split("-")[1])
    assert report["after_fit"] == report["before_import"]
    assert report["hits"] == report["misses"] == 0
    assert not (tmp_path / "kerasish").exists()


def test_disable_after_enable_gives_jax_its_settings_back(tmp_path):
    report = _run(tmp_path, "disable_after")
    assert report["after_fit"]["jax_cache_open"]
    assert report["after_disable"] == report["before_import"]
    written = _files(tmp_path / "kerasish" / "jax")
    assert written  # fit's programs were cached before disable(); the jit after it was not
    assert not any("user_program" in name for name in written)


def test_a_cache_the_user_configured_is_never_touched(tmp_path):
    user = tmp_path / "user"
    report = _run(tmp_path, "disable_after", JAX_COMPILATION_CACHE_DIR=str(user),
                  JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS="0")
    for point in ("after_import", "after_fit", "after_disable"):
        assert report[point]["jax_compilation_cache_dir"] == str(user)
        assert report[point]["jax_persistent_cache_min_compile_time_secs"] == \
            report["before_import"]["jax_persistent_cache_min_compile_time_secs"]
    assert any("user_program" in name for name in _files(user))  # still the user's cache after disable()
    assert not (tmp_path / "kerasish").exists()
