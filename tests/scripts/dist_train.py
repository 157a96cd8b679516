"""Trains a small MLP or CNN under a distribution and writes its final weights to an .npz file.

Run by tests/test_distribution.py in subprocesses:
    python dist_train.py OUT MODEL DEVICES [--processes N --process-id I --port P] [--model-parallel]
"""

import argparse
import os
import sys

parser = argparse.ArgumentParser()
parser.add_argument("out")
parser.add_argument("model", choices=["mlp", "cnn"])
parser.add_argument("devices", type=int, help="CPU devices in this process")
parser.add_argument("--processes", type=int, default=1)
parser.add_argument("--process-id", type=int, default=0)
parser.add_argument("--port", type=int, default=0)
parser.add_argument("--single", action="store_true", help="no distribution at all (the reference)")
parser.add_argument("--model-parallel", action="store_true")
args = parser.parse_args()
os.environ["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={args.devices}"
os.environ["JAX_PLATFORMS"] = "cpu"

import jax  # noqa: E402

if args.processes > 1:
    jax.config.update("jax_cpu_collectives_implementation", "gloo")

import numpy as np  # noqa: E402

import kerasish as keras  # noqa: E402
from kerasish import layers  # noqa: E402

if args.processes > 1:
    keras.distribution.initialize(job_addresses=f"127.0.0.1:{args.port}", num_processes=args.processes,
                                  process_id=args.process_id)
    assert jax.process_count() == args.processes and len(jax.devices()) == args.devices * args.processes

if args.model_parallel:
    mesh = keras.distribution.DeviceMesh((2, len(jax.devices()) // 2), ("batch", "model"))
    layout = keras.distribution.LayoutMap(mesh)
    layout["dense(_1)?/kernel"] = (None, "model")  # the two hidden layers (16 and 8 units)
    keras.distribution.set_distribution(keras.distribution.ModelParallel(layout_map=layout, batch_dim_name="batch"))
elif not args.single:
    keras.distribution.set_distribution(keras.distribution.DataParallel())

keras.utils.set_random_seed(7)  # before the layers: Dropout seeds its generator when created, as in Keras
rng = np.random.default_rng(0)
if args.model == "mlp":
    x = rng.normal(size=(150, 12)).astype("float32")
    y = (x[:, :3].sum(1) > 0).astype("int64") + (x[:, 3] > 1)
    stack = [keras.Input((12,)), layers.Dense(16, activation="relu"), layers.Dropout(0.2),
             layers.Dense(8, activation="tanh"), layers.Dense(3, activation="softmax")]
else:
    x = rng.normal(size=(90, 8, 8, 1)).astype("float32")
    y = (x[:, :4].mean((1, 2, 3)) > 0).astype("int64")
    stack = [keras.Input((8, 8, 1)), layers.Conv2D(4, 3, padding="same", activation="relu"),
             layers.MaxPooling2D(), layers.Flatten(), layers.Dense(8, activation="relu"),
             layers.Dense(2, activation="softmax")]

model = keras.Sequential(stack)
model.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy", metrics=["accuracy"])
history = model.fit(x, y, batch_size=20, epochs=3, verbose=0)  # 20 is not a multiple of 8 devices
loss, acc = model.evaluate(x, y, verbose=0)
preds = model.predict(x[:7], verbose=0)

dist = keras.distribution.distribution()
report = {}
if dist is not None:
    kernel = model.layers[0].weights[0].value
    report["param_devices"] = len(kernel.sharding.device_set)
    report["param_spec"] = str(kernel.sharding.spec)
    batch = dist.distribute(np.zeros((2, dist.padded_batch(20), 3), "float32"), axis=1)
    report["batch_spec"] = str(batch.sharding.spec)
    report["batch_shard_rows"] = batch.addressable_shards[0].data.shape[1]
    report["batch_devices"] = len(batch.sharding.device_set)
    if args.model_parallel:
        dense = [layer for layer in model.layers if isinstance(layer, layers.Dense)][0]
        report["dense_kernel_spec"] = str(dense.weights[0].value.sharding.spec)

if args.processes > 1:  # every process takes part in saving; process 0 writes the file
    model.save(args.out.replace(".npz", ".keras"))
if jax.process_index() == 0:
    np.savez(args.out, *model.get_weights(), loss=loss, acc=acc, preds=preds,
             history=np.asarray(history.history["loss"]), report=np.asarray(repr(report)))
print("done", jax.process_index(), report, flush=True)
sys.exit(0)
