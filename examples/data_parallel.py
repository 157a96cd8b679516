"""Data-parallel training: the MNIST MLP on every device, with one extra line.

`keras.distribution.set_distribution(keras.distribution.DataParallel())` before building the model:
each batch is split over all devices (jax.sharding), weights are replicated, and XLA inserts the
gradient all-reduce. The same script runs unchanged on one GPU, a node with several GPUs, or a TPU
slice. On a CPU-only machine `--cpu-devices 8` splits the CPU into 8 XLA devices to show it.

Multi-host: start the same script on every host with `--coordinator HOST:PORT --processes N
--process-id I` (or set KERAS_DISTRIBUTION_JOB_ADDRESSES / _NUM_PROCESSES / _PROCESS_ID); each
process feeds its own share of every batch and only process 0 prints.
"""

import argparse
import os

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--epochs", type=int, default=None, help="default: 3; 1 with --smoke")
parser.add_argument("--batch-size", type=int, default=256)
parser.add_argument("--cpu-devices", type=int, default=8, help="XLA CPU devices when there is no GPU/TPU")
parser.add_argument("--coordinator", default=None, help="HOST:PORT of process 0 for multi-host runs")
parser.add_argument("--processes", type=int, default=None)
parser.add_argument("--process-id", type=int, default=None)
parser.add_argument("--smoke", action="store_true", help="a few hundred samples, one epoch unless --epochs")
parser.add_argument("--out", default=None, help="unused; accepted like the other examples")
args = parser.parse_args()
if args.cpu_devices > 1:
    os.environ.setdefault("XLA_FLAGS", f"--xla_force_host_platform_device_count={args.cpu_devices}")

import jax  # noqa: E402

import kerasish as keras  # noqa: E402
from kerasish import layers  # noqa: E402

if args.coordinator or os.environ.get("KERAS_DISTRIBUTION_JOB_ADDRESSES"):
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    keras.distribution.initialize(args.coordinator, args.processes, args.process_id)

keras.distribution.set_distribution(keras.distribution.DataParallel())  # the one line
print(f"{jax.process_count()} process(es), {len(jax.devices())} {jax.default_backend()} devices")

(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
x_train = x_train.reshape(-1, 784).astype("float32") / 255
x_test = x_test.reshape(-1, 784).astype("float32") / 255
epochs = args.epochs if args.epochs is not None else 1 if args.smoke else 3  # an explicit --epochs wins
if args.smoke:
    x_train, y_train, x_test, y_test = x_train[:512], y_train[:512], x_test[:256], y_test[:256]

keras.utils.set_random_seed(0)
model = keras.Sequential([keras.Input((784,)), layers.Dense(512, activation="relu"), layers.Dropout(0.2),
                          layers.Dense(512, activation="relu"), layers.Dropout(0.2),
                          layers.Dense(10, activation="softmax")])
model.compile(keras.optimizers.RMSprop(1e-3), "sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(x_train, y_train, batch_size=args.batch_size, epochs=epochs, validation_split=0.1, verbose=2)
kernel = model.layers[0].weights[0].value
print(f"first kernel lives on {len(kernel.sharding.device_set)} devices ({kernel.sharding.spec})")
loss, acc = model.evaluate(x_test, y_test, verbose=0)
print(f"Test accuracy: {acc:.4f}")
