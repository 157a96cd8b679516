"""Data-parallel and model-parallel training on many CPU devices and several processes give the
weights one device gives. Each run is a subprocess (the device count is fixed when JAX starts)."""

import ast
import os
import socket
import subprocess
import sys
from pathlib import Path

import jax
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


# -- TensorLayout, LayoutMap and ModelParallel's arguments as Keras 3 takes them (one device) ----------

def _mesh2d():
    return keras.distribution.DeviceMesh((1, 1), ("batch", "model"), keras.distribution.list_devices()[:1])


def test_layout_map_lookup_matches_keras():
    keras_dist = pytest.importorskip("keras").distribution
    ours, theirs = keras.distribution.LayoutMap(_mesh2d()), keras_dist.LayoutMap(None)
    for key, axes in ((".*dense.*kernel", (None, "model")), (".*dense.*bias", ("model",)),
                      ("conv2d_1/kernel", (None, None, None, "model")), ("emb.*", ("model", None))):
        ours[key], theirs[key] = axes, axes
    for path in ("dense/kernel", "sequential/dense_1/kernel", "dense/bias", "conv2d_1/kernel", "conv2d_12/kernel",
                 "embedding/embeddings", "my_emb", "x/emb"):
        expected = theirs[path]
        assert (ours[path] is None) == (expected is None), path
        if expected is not None:
            assert ours[path].axes == expected.axes and ours[path].device_mesh is ours.device_mesh
    ours["dense/kernel"] = ("model", None)  # an exact key wins over the patterns that match too
    assert ours["dense/kernel"].axes == ("model", None)
    ours["dense.*"] = (None,)
    with pytest.raises(ValueError, match="matches multiple layout specification keys"):
        ours["dense/bias"]
    with pytest.raises(ValueError, match="already exist in the LayoutMap"):
        ours["dense.*"] = (None,)
    with pytest.raises(ValueError, match="should be a TensorLayout type"):
        ours["other"] = "model"
    assert len(ours) == 6 and "emb.*" in list(ours)
    del ours["emb.*"]
    assert ours["my_emb"] is None


def test_tensor_layout():
    mesh = _mesh2d()
    layout = keras.distribution.TensorLayout((None, "model"))
    assert layout.device_mesh is None and layout.axes == (None, "model")
    with pytest.raises(ValueError, match="has no device mesh yet"):
        layout.backend_layout
    layout.device_mesh = mesh
    assert layout.backend_layout.spec == jax.sharding.PartitionSpec(None, "model")
    with pytest.raises(ValueError, match="Cannot override device mesh value"):
        layout.device_mesh = mesh
    with pytest.raises(ValueError, match="Invalid axis names for Layout"):
        keras.distribution.TensorLayout(("data",), mesh)
    x = np.arange(6.0).reshape(2, 3)
    placed = keras.distribution.distribute_tensor(x, layout)
    assert placed.sharding.spec == layout.backend_layout.spec
    inside = jax.jit(lambda a: keras.distribution.distribute_tensor(a * 2, layout))(x)
    np.testing.assert_array_equal(inside, x * 2)
    symbolic = keras.Input((3,))
    assert keras.distribution.distribute_tensor(symbolic, layout) is symbolic


def test_model_parallel_takes_keras3_arguments():
    mesh = _mesh2d()
    layout_map = keras.distribution.LayoutMap(mesh)
    layout_map[".*dense.*kernel"] = (None, "model")
    parallel = keras.distribution.ModelParallel(layout_map=layout_map, batch_dim_name="batch")
    assert parallel.device_mesh is mesh and parallel.batch_dim_name == "batch" and parallel.num_model_replicas == 1
    assert keras.distribution.ModelParallel(layout_map=layout_map).batch_dim_name == "batch"  # the mesh's first axis
    assert keras.distribution.ModelParallel(layout_map=layout_map, device_mesh=mesh).device_mesh is mesh
    with pytest.raises(ValueError, match="takes its mesh from `layout_map.device_mesh`"):
        keras.distribution.ModelParallel(layout_map=layout_map, device_mesh=_mesh2d())
    with pytest.raises(TypeError):
        keras.distribution.ModelParallel(mesh, layout_map)  # keyword-only, as in Keras 3
    with pytest.raises(ValueError, match="You must specify a layout_map argument"):
        keras.distribution.ModelParallel()
    with pytest.raises(ValueError, match="must be a `LayoutMap` instance"):
        keras.distribution.ModelParallel(layout_map={".*": (None,)})
    with pytest.raises(TypeError, match="unexpected keyword arguments"):
        keras.distribution.ModelParallel(layout_map=layout_map, batch_dim="batch")
    assert parallel.get_data_layout((8, 3)).axes == ("batch", None)
    assert parallel.get_tensor_layout("dense/kernel").axes == (None, "model")

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4), keras.layers.Dense(1)])
    kernel = model.layers[0].kernel
    assert parallel.get_variable_layout(kernel).axes == (None, "model")
    assert parallel.get_variable_layout(model.layers[0].bias).axes == (None,)
    with parallel.scope():
        assert keras.distribution.distribution() is parallel
        model.compile(optimizer="sgd", loss="mse")
    assert keras.distribution.distribution() is None
    history = model.fit(np.ones((8, 3), "float32"), np.zeros((8, 1), "float32"), epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_data_parallel_and_device_mesh_arguments():
    devices = keras.distribution.list_devices()
    assert keras.distribution.get_device_count() == len(devices)
    data_parallel = keras.distribution.DataParallel(devices=devices[:1])
    assert data_parallel.batch_dim_name == "batch" and data_parallel.num_model_replicas == 1
    with pytest.warns(UserWarning, match="Expect the input mesh to be 1D"):
        keras.distribution.DataParallel(device_mesh=_mesh2d())
    with pytest.raises(ValueError, match="Expect `mesh` to be an instance of `DeviceMesh`"):
        keras.distribution.DataParallel(device_mesh="mesh")
    mesh = keras.distribution.DeviceMesh((1,), ["batch"], devices=[f"{devices[0].platform}:{devices[0].id}"])
    assert mesh.devices[0] == devices[0] and mesh.backend_mesh.axis_names == ("batch",)
    with pytest.raises(ValueError, match="cannot be empty"):
        keras.distribution.DeviceMesh((), ())
