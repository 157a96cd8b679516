"""Data-parallel and model-parallel training on many CPU devices and several processes give the
weights one device gives. Each run is a subprocess (the device count is fixed when JAX starts)."""

import ast
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import kerasish as keras

SCRIPT = Path(__file__).parent / "scripts" / "dist_train.py"
TIMEOUT = 240


def _env():
    env = dict(os.environ)
    env.pop("XLA_FLAGS", None)
    env["PYTHONPATH"] = str(Path(__file__).parents[1]) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _run(out, *args):
    proc = subprocess.run([sys.executable, str(SCRIPT), str(out), *map(str, args)], capture_output=True,
                          text=True, timeout=TIMEOUT, env=_env())
    assert proc.returncode == 0, f"worker failed:\n{proc.stdout}\n{proc.stderr[-4000:]}"
    return np.load(out)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run_group(out, model, processes, devices_each):
    """Starts `processes` peers on loopback; a failed or hung peer fails the test with its output."""
    port = _free_port()
    procs = [subprocess.Popen([sys.executable, str(SCRIPT), str(out), model, str(devices_each),
                               "--processes", str(processes), "--process-id", str(i), "--port", str(port)],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=_env())
             for i in range(processes)]
    outputs, failed = [], False
    try:
        for i, proc in enumerate(procs):
            try:
                text, _ = proc.communicate(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                text, _ = proc.communicate()
                failed = True
                text = f"[peer {i} hung and was killed]\n{text}"
            outputs.append(text)
            failed |= proc.returncode != 0
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
    detail = "\n".join(f"--- peer {i} ---\n{text[-3000:]}" for i, text in enumerate(outputs))
    assert not failed, f"a peer failed:\n{detail}"
    return np.load(out)


def _weights(result):
    return [result[f"arr_{i}"] for i in range(len([k for k in result.files if k.startswith("arr_")]))]


def _assert_same_training(a, b):
    for wa, wb in zip(_weights(a), _weights(b), strict=True):
        np.testing.assert_allclose(wa, wb, rtol=2e-4, atol=2e-5)
    np.testing.assert_allclose(a["history"], b["history"], rtol=1e-4)
    np.testing.assert_allclose(a["preds"], b["preds"], rtol=1e-4, atol=1e-5)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    root = tmp_path_factory.mktemp("single")
    return {m: _run(root / f"{m}.npz", m, 1, "--single") for m in ("mlp", "cnn")}


@pytest.mark.parametrize("model", ["mlp", "cnn"])
def test_eight_devices_train_like_one(tmp_path, reference, model):
    result = _run(tmp_path / "dp.npz", model, 8)
    _assert_same_training(result, reference[model])
    report = ast.literal_eval(str(result["report"]))
    assert report["param_devices"] == 8 and report["param_spec"] == "P()"  # replicated
    assert report["batch_devices"] == 8 and report["batch_spec"] == "P(None, 'batch')"
    assert report["batch_shard_rows"] == 3  # 20 rows padded to 24, 3 per device: really split


def test_model_parallel_dense_kernels_are_split_and_train_the_same(tmp_path, reference):
    result = _run(tmp_path / "mp.npz", "mlp", 8, "--model-parallel")
    _assert_same_training(result, reference["mlp"])
    report = ast.literal_eval(str(result["report"]))
    assert report["dense_kernel_spec"] == "P(None, 'model')"


@pytest.mark.parametrize("processes", [2, 4])
def test_processes_on_loopback_train_like_one(tmp_path, reference, processes):
    result = _run_group(tmp_path / f"mp{processes}.npz", "mlp", processes, 2)
    _assert_same_training(result, reference["mlp"])
    report = ast.literal_eval(str(result["report"]))
    assert report["param_devices"] == 2 * processes
    saved = keras.models.load_model(tmp_path / f"mp{processes}.keras")  # the group's checkpoint, one process
    for a, b in zip(saved.get_weights(), _weights(result), strict=True):
        np.testing.assert_array_equal(a, b)
    x = np.random.default_rng(0).normal(size=(150, 12)).astype("float32")
    np.testing.assert_allclose(saved.predict(x[:7], verbose=0), result["preds"], rtol=1e-5, atol=1e-6)


def test_distribution_api_errors():
    with pytest.raises(ValueError, match="does not match the number of devices"):
        keras.distribution.DeviceMesh((3,), ("batch",))
    with pytest.raises(ValueError, match="mismatched"):
        keras.distribution.DeviceMesh((1,), ("batch", "model"))
    mesh = keras.distribution.DeviceMesh((1,), ("batch",))
    layout = keras.distribution.LayoutMap(mesh)
    with pytest.raises(ValueError, match="not in the mesh"):
        layout["dense.*kernel"] = (None, "model")
    with pytest.raises(TypeError):
        keras.distribution.set_distribution("data_parallel")
