"""Exact resumption on CPU: a run split across processes (save + load_model, or a kill +
BackupAndRestore) ends with the same bits as an uninterrupted one.

The training code is one script (SCRIPT): the parts that must happen in another process (loading
in a fresh interpreter, being killed) run it as a subprocess; the rest runs it in this process.
"""

import os
import subprocess
import sys

import jax
import numpy as np
import pytest

SCRIPT = r'''
import os, sys
import jax
import numpy as np
import kerasish as keras
from kerasish import layers

rng = np.random.default_rng(0)
x = rng.normal(size=(256, 10)).astype("float32")
y = (x[:, :3].sum(axis=1) > 0).astype("int32") + (x[:, 3] > 1).astype("int32")
FIT = dict(batch_size=32, verbose=0)  # 8 steps per epoch
KILLED = 17  # the exit status of a kill (an exception would exit with 1)


def build():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((10,)), layers.Dense(32, activation="relu"), layers.Dropout(0.3),
                              layers.BatchNormalization(), layers.Dense(3, activation="softmax")])
    model.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


class Kill(keras.callbacks.Callback):
    """Ends the process at once (no cleanup, like a crash) when training reaches `at`."""

    def __init__(self, at):
        super().__init__()
        self.at, self.epoch = at, None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if self.at == ("epoch", epoch):
            os._exit(KILLED)

    def on_train_batch_end(self, batch, logs=None):
        if self.at == ("batch", self.epoch, batch):
            os._exit(KILLED)


def run(mode, work, kill=False):
    """Trains as `mode` says; returns every weight and optimizer state array."""
    if mode == "full":
        model = build()
        model.fit(x, y, epochs=6, **FIT)
    elif mode == "first_half":
        model = build()
        model.fit(x, y, epochs=3, **FIT)
        model.save(os.path.join(work, "half.keras"))
    elif mode == "second_half":
        model = keras.models.load_model(os.path.join(work, "half.keras"))
        model.fit(x, y, epochs=6, initial_epoch=3, **FIT)
    else:  # "epoch": backups every epoch, killed after epoch 3; "batch": every 2 steps, killed in epoch 5
        model = build()
        backup = keras.callbacks.BackupAndRestore(os.path.join(work, "backup"),
                                                  save_freq="epoch" if mode == "epoch" else 2)
        at = ("epoch", 2) if mode == "epoch" else ("batch", 4, 4)
        model.fit(x, y, epochs=6, callbacks=[backup] + ([Kill(at)] if kill else []), **FIT)
    return [*model.get_weights(), *[np.asarray(v) for v in jax.tree.leaves(model.optimizer.state)]]


if __name__ == "__main__":
    mode, work = sys.argv[1], sys.argv[2]
    arrays = run(mode, work, kill=True)
    np.savez(os.path.join(work, mode + ".npz"), *arrays)
'''


def _script():
    namespace = {"__name__": "resume_script"}
    exec(compile(SCRIPT, "resume_script", "exec"), namespace)
    return namespace


@pytest.fixture(scope="module")
def compile_cache(tmp_path_factory):
    """The subprocesses compile the same programs: a shared persistent cache compiles them once."""
    return {"JAX_COMPILATION_CACHE_DIR": str(tmp_path_factory.mktemp("jax_cache")),
            "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0", "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "0"}


def _subprocess(tmp_path, mode, env, expect_rc=0):
    script = tmp_path / "run.py"
    script.write_text(SCRIPT)
    done = subprocess.run([sys.executable, str(script), mode, str(tmp_path)], capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=300)
    assert done.returncode == expect_rc, done.stderr[-3000:]
    if expect_rc == 0:
        with np.load(tmp_path / f"{mode}.npz") as arrays:
            return [arrays[f"arr_{i}"] for i in range(len(arrays.files))]


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    return _script()["run"]("full", str(tmp_path_factory.mktemp("full")))


def _assert_bit_identical(a, b):
    assert len(a) == len(b)
    for u, v in zip(a, b):
        assert u.dtype == v.dtype and u.shape == v.shape and u.tobytes() == v.tobytes()


def test_save_then_load_and_continue_in_a_new_process_is_bit_identical(uninterrupted, tmp_path, compile_cache):
    _script()["run"]("first_half", str(tmp_path))
    _assert_bit_identical(_subprocess(tmp_path, "second_half", compile_cache), uninterrupted)


@pytest.mark.parametrize("mode", ["epoch", "batch"])
def test_a_killed_fit_resumes_with_backup_and_restore(uninterrupted, tmp_path, compile_cache, mode):
    _subprocess(tmp_path, mode, compile_cache, expect_rc=17)  # killed after epoch 3, or after step 5 of epoch 5
    assert (tmp_path / "backup" / "latest.weights.h5").exists()
    _assert_bit_identical(_script()["run"](mode, str(tmp_path)), uninterrupted)
    assert not (tmp_path / "backup").exists()  # delete_checkpoint=True: removed when the run finished


def test_an_optax_optimizer_resumes_bit_exactly_from_its_raw_state(tmp_path):
    """Keras has no place for an optax transformation's state: it travels in kerasish's group."""
    import optax
    import kerasish as keras
    from kerasish import layers
    rng = np.random.default_rng(1)
    x = rng.normal(size=(32, 6)).astype("float32")
    y = (x[:, 0] > 0).astype("int32")

    def make():
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((6,)), layers.Dense(8, activation="relu"), layers.Dense(2)])
        model.compile(optax.inject_hyperparams(optax.adamw)(learning_rate=0.01),
                      keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        return model
    model = make()
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    model.save_weights(tmp_path / "optax.weights.h5")
    resumed = make()
    resumed.load_weights(tmp_path / "optax.weights.h5")
    _assert_bit_identical([np.asarray(a) for a in jax.tree.leaves(model.optimizer.state)],
                          [np.asarray(a) for a in jax.tree.leaves(resumed.optimizer.state)])
    model.fit(x, y, batch_size=16, epochs=1, verbose=0, shuffle=False)
    resumed.fit(x, y, batch_size=16, epochs=1, verbose=0, shuffle=False)
    _assert_bit_identical(model.get_weights(), resumed.get_weights())

