"""The systems the benchmark compares, each training the same model on the same arrays.

Owns: building the MLP / convnet in each framework and training it epoch by epoch under the
worker's hooks. Must not: time anything or talk to the parent; `worker.py` does that through
three hooks every system calls:

    hooks.begin(epoch)       before an epoch (blocks until the parent says "go", except epoch 0)
    hooks.first_batch()      once, as soon as the first trained batch is finished on the device
    hooks.end(epoch, n)      after an epoch whose results are finished, with the samples trained

Each framework is imported inside its system, so a worker loads only its own framework.
Models (identical in every system; glorot-uniform kernels, zero biases):
  mlp: Dense 512 relu, Dense 512 relu, Dense 10 softmax; RMSprop(lr 1e-3, rho 0.9, eps 1e-7)
  cnn: Conv 32 3x3 relu, MaxPool 2, Conv 64 3x3 relu, MaxPool 2, Flatten, Dropout 0.5,
       Dense 10 softmax; Adam(lr 1e-3, eps 1e-7)   (the keras.io MNIST convnet)
Loss: sparse categorical cross-entropy; the Keras-API systems also track accuracy, as users do.
"""

from __future__ import annotations

import os
import sys

import numpy as np

LR = 1e-3
EPS = 1e-7  # Keras's default epsilon for RMSprop and Adam; the others are set to match


class System:
    """One framework's training run. Subclasses set `self.samples_per_epoch` in `setup`."""

    def __init__(self, model: str, data: dict, batch_size: int, seed: int, **options):
        self.model_name, self.data, self.batch_size, self.seed = model, data, batch_size, seed
        self.options = options
        self.samples_per_epoch = len(data["x_train"])

    def setup(self) -> None:
        raise NotImplementedError

    def train(self, epochs: int, hooks) -> None:
        raise NotImplementedError

    def predict(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def info(self) -> dict:
        """Settings the system chose itself, for the report."""
        return {}


# --------------------------------------------------------------------- Keras API: kerasish, Keras 3

def build_keras_model(keras, name: str):
    layers = keras.layers
    if name == "mlp":
        return keras.Sequential([
            keras.Input(shape=(784,)),
            layers.Dense(512, activation="relu"),
            layers.Dense(512, activation="relu"),
            layers.Dense(10, activation="softmax"),
        ])
    return keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Flatten(),
        layers.Dropout(0.5),
        layers.Dense(10, activation="softmax"),
    ])


class KerasAPISystem(System):
    """`model.fit` of kerasish or of Keras 3 (JAX backend): the same user code, another import.

    Epoch 0 is one `fit(epochs=1)` with a callback that waits for the first batch; the timed
    epochs are one `fit(epochs=E)` whose callback blocks in `on_epoch_begin` until the parent says
    go, so the fit loop itself (shuffling, chunking, callbacks) runs as users run it. With
    `per_fit`, each timed epoch is instead its own `fit(epochs=1)` call, as scripts that call `fit`
    in a loop do: what one `fit` call costs beyond its epoch counts too.
    """

    def setup(self) -> None:
        library = self.options["library"]
        if library == "keras":
            os.environ["KERAS_BACKEND"] = "jax"
            import keras
        else:
            if self.options.get("root_env"):  # another checkout's kerasish, for before / after rows
                root = os.environ.get(self.options["root_env"])
                if not root:
                    raise RuntimeError(f"system needs ${self.options['root_env']}: the checkout to import kerasish from")
                sys.path.insert(0, root)
            import kerasish as keras
        self.keras = keras
        keras.utils.set_random_seed(self.seed)
        self.model = build_keras_model(keras, self.model_name)
        optimizer = (keras.optimizers.RMSprop(learning_rate=LR, rho=0.9, epsilon=EPS) if self.model_name == "mlp"
                     else keras.optimizers.Adam(learning_rate=LR, epsilon=EPS))
        extra = {k: self.options[k] for k in ("steps_per_execution",) if k in self.options}  # else the default
        self.model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"], **extra)

    def _callbacks(self, hooks, offset: int, watch_first_batch: bool):
        keras = self.keras
        n = self.samples_per_epoch

        class Gate(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                hooks.begin(epoch + offset)

            def on_epoch_end(self, epoch, logs=None):
                _block(logs)  # the epoch's last loss: every step before it has run
                hooks.end(epoch + offset, n)

        class FirstBatch(Gate):
            seen = False
            # kerasish: a batch hook that only reads logs now and then (as its progress bar does)
            # must not make `fit` fall back to one step per compiled call; Keras 3 ignores this.
            lazy_batch_logs = True

            def on_train_batch_end(self, batch, logs=None):
                if not self.seen:
                    self.seen = True
                    _block(logs)
                    hooks.first_batch()

        return [FirstBatch() if watch_first_batch else Gate()]

    def train(self, epochs: int, hooks) -> None:
        x, y = self.data["x_train"], self.data["y_train"]
        fit = dict(batch_size=self.batch_size, verbose=0, shuffle=True)
        self.model.fit(x, y, epochs=1, callbacks=self._callbacks(hooks, 0, True), **fit)
        if epochs > 1 and self.options.get("per_fit"):
            # each timed epoch is its own fit(epochs=1) call, timed from before the call to its return
            for epoch in range(1, epochs):
                hooks.begin(epoch)
                history = self.model.fit(x, y, epochs=1, **fit)
                _block(history.history)
                hooks.end(epoch, self.samples_per_epoch)
        elif epochs > 1:
            self.model.fit(x, y, epochs=epochs - 1, callbacks=self._callbacks(hooks, 1, False), **fit)

    def predict(self, x):
        return np.asarray(self.model.predict(x, batch_size=1000, verbose=0))

    def info(self) -> dict:
        """kerasish only: what its engine chose (steps per compiled call, scan or unrolled)."""
        engine = getattr(self.model, "_engine", None)
        if engine is None:
            return {}
        train_keys = [key for key in getattr(engine, "_functions", {}) if isinstance(key, tuple) and key[0] == "train"]
        use_scan = getattr(engine, "use_scan", None)
        return {"steps_per_execution": str(getattr(engine, "steps_per_execution", None)),
                "steps_per_call": [key[-2] for key in train_keys if len(key) >= 3],
                "loop": "scan" if callable(use_scan) and use_scan() else "unroll",
                "kerasish_compile_seconds": getattr(engine, "compile_seconds", None)}


def _block(logs) -> None:
    """Waits for the values in a callback's logs (device arrays in Keras 3, floats in kerasish)."""
    for value in (logs or {}).values():
        np.asarray(value)


# --------------------------------------------------------------------- hand-written flax.linen + optax

class FlaxSystem(System):
    """A flax.linen model and an optax optimizer in the loop a JAX user would write by hand.

    loop="step": one `jax.jit` train step per batch, batches gathered on the host with NumPy from a
    per-epoch permutation (the Flax tutorials' loop). loop="scan": the data lives on the device and
    one jitted call runs the whole epoch as a `lax.scan` over index rows. Both drop the last partial
    batch (468 full batches of 128 from 60,000), so the shapes never change.
    """

    def setup(self) -> None:
        import jax
        import jax.numpy as jnp
        import optax
        from flax import linen as nn

        self.jax = jax
        glorot, zeros = nn.initializers.glorot_uniform(), nn.initializers.zeros
        name = self.model_name

        class Net(nn.Module):
            @nn.compact
            def __call__(self, x, train: bool):
                if name == "mlp":
                    x = nn.relu(nn.Dense(512, kernel_init=glorot, bias_init=zeros)(x))
                    x = nn.relu(nn.Dense(512, kernel_init=glorot, bias_init=zeros)(x))
                else:
                    x = nn.relu(nn.Conv(32, (3, 3), padding="VALID", kernel_init=glorot, bias_init=zeros)(x))
                    x = nn.max_pool(x, (2, 2), strides=(2, 2))
                    x = nn.relu(nn.Conv(64, (3, 3), padding="VALID", kernel_init=glorot, bias_init=zeros)(x))
                    x = nn.max_pool(x, (2, 2), strides=(2, 2))
                    x = x.reshape((x.shape[0], -1))
                    x = nn.Dropout(0.5, deterministic=not train)(x)
                return nn.Dense(10, kernel_init=glorot, bias_init=zeros)(x)  # logits

        net = Net()
        self.tx = (optax.rmsprop(LR, decay=0.9, eps=EPS) if name == "mlp" else optax.adam(LR, eps=EPS))
        key = jax.random.key(self.seed)
        x = self.data["x_train"]
        self.params = net.init(key, jnp.zeros((1, *x.shape[1:]), jnp.float32), train=False)["params"]
        self.opt_state = self.tx.init(self.params)
        self.dropout_key = jax.random.fold_in(key, 1)
        self.steps = len(x) // self.batch_size
        self.samples_per_epoch = self.steps * self.batch_size
        self.rng = np.random.default_rng(self.seed)

        def step(params, opt_state, xb, yb, step_index):
            rng = jax.random.fold_in(self.dropout_key, step_index)

            def loss_fn(p):
                logits = net.apply({"params": p}, xb, train=True, rngs={"dropout": rng})
                return optax.softmax_cross_entropy_with_integer_labels(logits, yb).mean()
            loss, grads = jax.value_and_grad(loss_fn)(params)
            updates, opt_state = self.tx.update(grads, opt_state, params)
            return optax.apply_updates(params, updates), opt_state, loss

        def epoch(params, opt_state, x_all, y_all, index_rows, first_step):
            def body(carry, inputs):
                params, opt_state = carry
                rows, i = inputs
                params, opt_state, loss = step(params, opt_state, x_all[rows], y_all[rows], first_step + i)
                return (params, opt_state), loss
            (params, opt_state), losses = jax.lax.scan(
                body, (params, opt_state), (index_rows, jnp.arange(index_rows.shape[0])))
            return params, opt_state, losses[-1]

        self.step_fn = jax.jit(step, donate_argnums=(0, 1))
        self.epoch_fn = jax.jit(epoch, donate_argnums=(0, 1))
        self.predict_fn = jax.jit(lambda params, xb: jax.nn.softmax(net.apply({"params": params}, xb, train=False)))
        if self.options["loop"] == "scan":
            self.x_device = jax.device_put(x)
            self.y_device = jax.device_put(self.data["y_train"])

    def _index_rows(self) -> np.ndarray:
        order = self.rng.permutation(len(self.data["x_train"]))[: self.samples_per_epoch]
        return order.reshape(self.steps, self.batch_size).astype(np.int32)

    def train(self, epochs: int, hooks) -> None:
        jax = self.jax
        x, y = self.data["x_train"], self.data["y_train"]
        global_step = 0
        for epoch in range(epochs):
            hooks.begin(epoch)
            rows = self._index_rows()
            if self.options["loop"] == "scan":
                self.params, self.opt_state, loss = self.epoch_fn(
                    self.params, self.opt_state, self.x_device, self.y_device, rows, np.int32(global_step))
                jax.block_until_ready((self.params, loss))
                if epoch == 0:  # the first trained batch is visible only when the whole epoch is
                    hooks.first_batch()
            else:
                for i, batch in enumerate(rows):
                    self.params, self.opt_state, loss = self.step_fn(
                        self.params, self.opt_state, x[batch], y[batch], np.int32(global_step + i))
                    if epoch == 0 and i == 0:
                        jax.block_until_ready(loss)
                        hooks.first_batch()
                jax.block_until_ready((self.params, loss))
            global_step += self.steps
            hooks.end(epoch, self.samples_per_epoch)

    def predict(self, x):
        return np.concatenate([np.asarray(self.predict_fn(self.params, x[i:i + 1000]))
                               for i in range(0, len(x), 1000)])


# --------------------------------------------------------------------- PyTorch (CPU, eager)

class TorchSystem(System):
    """PyTorch eager on the CPU with 2 threads: index a shuffled permutation, step, repeat.

    The data are NCHW tensors made once; the last partial batch is trained, as in `fit`.
    """

    def setup(self) -> None:
        import torch
        from torch import nn

        torch.set_num_threads(2)
        torch.manual_seed(self.seed)
        self.torch = torch
        x = self.data["x_train"]
        if self.model_name == "cnn":
            x = x.transpose(0, 3, 1, 2)
            net = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
                                nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
                                nn.Flatten(), nn.Dropout(0.5), nn.Linear(1600, 10))
        else:
            net = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10))
        for module in net.modules():
            if isinstance(module, (nn.Linear, nn.Conv2d)):
                nn.init.xavier_uniform_(module.weight)
                nn.init.zeros_(module.bias)
        self.net = net
        self.x = torch.from_numpy(np.ascontiguousarray(x))
        self.y = torch.from_numpy(self.data["y_train"].astype(np.int64))
        self.optimizer = (torch.optim.RMSprop(net.parameters(), lr=LR, alpha=0.9, eps=EPS) if self.model_name == "mlp"
                          else torch.optim.Adam(net.parameters(), lr=LR, eps=EPS))
        self.loss_fn = nn.CrossEntropyLoss()

    def train(self, epochs: int, hooks) -> None:
        torch, n, b = self.torch, len(self.x), self.batch_size
        self.net.train()
        for epoch in range(epochs):
            hooks.begin(epoch)
            order = torch.randperm(n)
            for i, start in enumerate(range(0, n, b)):
                index = order[start:start + b]
                self.optimizer.zero_grad(set_to_none=True)
                loss = self.loss_fn(self.net(self.x[index]), self.y[index])
                loss.backward()
                self.optimizer.step()
                if epoch == 0 and i == 0:
                    hooks.first_batch()
            hooks.end(epoch, n)

    def predict(self, x):
        torch = self.torch
        if self.model_name == "cnn":
            x = x.transpose(0, 3, 1, 2)
        self.net.eval()
        with torch.no_grad():
            return torch.softmax(self.net(torch.from_numpy(np.ascontiguousarray(x))), -1).numpy()


#: name -> (class, options); the order is the order of the report's rows
SYSTEMS = {
    "kerasish": (KerasAPISystem, {"library": "kerasish"}),
    "kerasish-spe32": (KerasAPISystem, {"library": "kerasish", "steps_per_execution": 32}),
    "keras3": (KerasAPISystem, {"library": "keras"}),
    "keras3-spe32": (KerasAPISystem, {"library": "keras", "steps_per_execution": 32}),
    "kerasish-perfit": (KerasAPISystem, {"library": "kerasish", "per_fit": True}),
    "keras3-perfit": (KerasAPISystem, {"library": "keras", "per_fit": True}),
    "baseline": (KerasAPISystem, {"library": "kerasish", "root_env": "KERASISH_BASELINE"}),
    "baseline-perfit": (KerasAPISystem, {"library": "kerasish", "per_fit": True, "root_env": "KERASISH_BASELINE"}),
    "flax-step": (FlaxSystem, {"loop": "step"}),
    "flax-scan": (FlaxSystem, {"loop": "scan"}),
    "torch": (TorchSystem, {}),
}

DESCRIPTIONS = {
    "kerasish": "kerasish `fit`, default compile settings (what they chose is listed under each table)",
    "kerasish-spe32": "kerasish `fit`, steps_per_execution=32",
    "keras3": "Keras 3 (JAX backend) `fit`, default settings",
    "keras3-spe32": "Keras 3 (JAX backend) `fit`, steps_per_execution=32",
    "kerasish-perfit": "kerasish, every timed epoch its own `fit(epochs=1)` call (timed from call to return)",
    "keras3-perfit": "Keras 3 (JAX backend), every timed epoch its own `fit(epochs=1)` call",
    "baseline": "as kerasish, importing kerasish from the checkout in $KERASISH_BASELINE",
    "baseline-perfit": "as kerasish-perfit, importing kerasish from the checkout in $KERASISH_BASELINE",
    "flax-step": "flax.linen + optax, one `jax.jit` step per batch, NumPy batches from the host",
    "flax-scan": "flax.linen + optax, whole epoch in one jitted `lax.scan`, data on device",
    "torch": "PyTorch eager, CPU, torch.set_num_threads(2)",
}
