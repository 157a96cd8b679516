"""Every example runs end to end in its fast `--smoke` mode, prints its test accuracy and writes its PNGs.

Each example runs in its own Python process, as a user runs it (`python examples/NAME.py --smoke`).
The processes share a JAX persistent compilation cache (the one in $JAX_COMPILATION_CACHE_DIR if set,
else one under .pytest_cache/), so identical programs compile once across examples and test runs.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"

# example -> the PNGs it writes into --out (None: it takes no --out)
EXPECTED = {
    "hello_world": None,
    "mnist_mlp": None,
    "mnist_cnn": ["mnist_cnn_history.png"],
    "pass_the_class": ["pass_the_class.png"],
    "study_advisor": None,
    "adding_machine": ["adding_machine.png"],
    "optimizers": ["optimizers.png"],
    "vanishing_gradients": ["vanishing_gradients.png", "vanishing_gradients_loss.png"],
    "overfitting": ["overfitting.png"],
    "first_layer": ["first_layer_filters.png", "first_layer_outputs.png"],
}

FINAL_LINE = re.compile(r"^Test accuracy: .*?(\d\.\d{4})", re.MULTILINE)


def test_the_examples_exist():
    missing = [name for name in EXPECTED if not (EXAMPLES / f"{name}.py").is_file()]
    assert not missing


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    cache = os.environ.get("JAX_COMPILATION_CACHE_DIR") or str(ROOT / ".pytest_cache" / "jax-compilation-cache")
    return {**os.environ, "JAX_PLATFORMS": "cpu", "JAX_COMPILATION_CACHE_DIR": cache,
            "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0", "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "-1",
            "MPLBACKEND": "Agg"}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_smoke(name, env, tmp_path):
    pytest.importorskip("matplotlib")
    pngs = EXPECTED[name]
    command = [sys.executable, str(EXAMPLES / f"{name}.py"), "--smoke"]
    if pngs is not None:
        command += ["--out", str(tmp_path / "out")]
    result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"{name} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"

    final = result.stdout.strip().splitlines()[-1]
    match = FINAL_LINE.search(final)
    assert match, f"{name}'s last line should report the test accuracy; it is: {final!r}"
    for value in re.findall(r"\d\.\d{4}", final):
        assert 0.0 <= float(value) <= 1.0

    for png in pngs or []:
        path = tmp_path / "out" / png
        assert path.is_file(), f"{name} did not write {png}; it printed:\n{result.stdout[-2000:]}"
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5000
    if pngs:
        assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(pngs)


def test_examples_read_as_keras_user_code():
    for name in EXPECTED:
        source = (EXAMPLES / f"{name}.py").read_text()
        assert source.startswith('"""'), f"{name}.py should open with a docstring naming the idea it shows"
        assert "import kerasish as keras" in source and "from kerasish import layers" in source
        assert '"--smoke"' in source and '"--epochs"' in source
        assert ('"--out"' in source) == (EXPECTED[name] is not None)


@pytest.mark.slow
def test_smoke_keeps_an_explicit_epochs(env, tmp_path):
    """`--smoke` shrinks the data and makes the default one epoch, but an explicit `--epochs` wins."""
    command = [sys.executable, str(EXAMPLES / "hello_world.py"), "--smoke", "--epochs", "2"]
    result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert re.findall(r"^Epoch (\d+)/(\d+)", result.stdout, re.MULTILINE) == [("1", "2"), ("2", "2")]
