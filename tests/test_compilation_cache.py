"""The persistent compilation cache is on by default, in kerasish's cache directory, and can be turned off."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = """
import numpy as np, kerasish as keras
m = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
m.compile("sgd", "mse")
m.fit(np.ones((8, 3), "float32"), np.zeros((8, 2), "float32"), verbose=0)
print(sorted(m._engine.compile_seconds))
"""


def _run(tmp_path, **env):
    full = {**os.environ, "KERASISH_CACHE_DIR": str(tmp_path), **env}
    full["PYTHONPATH"] = str(Path(__file__).parents[1]) + os.pathsep + full.get("PYTHONPATH", "")
    full.pop("JAX_COMPILATION_CACHE_DIR", None)
    out = subprocess.run([sys.executable, "-c", SCRIPT], env=full, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


def test_cache_is_written_by_default(tmp_path):
    assert "train" in _run(tmp_path)
    assert any((tmp_path / "jax").iterdir())


@pytest.mark.parametrize("value", ["0", "false"])
def test_cache_can_be_switched_off(tmp_path, value):
    _run(tmp_path, KERASISH_COMPILATION_CACHE=value)
    assert not (tmp_path / "jax").exists()
