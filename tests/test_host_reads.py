"""`fit` reads nothing back from the device per step: the metric results at the end of an epoch are the
only device-to-host reads, and they all happen in `Engine.results`.

`jax.transfer_guard_device_to_host("disallow")` cannot check this on CPU (there it does not fire for
`np.asarray` or `float()`), so the reads are counted instead: the ways a `jax.Array` reaches the host
are patched for the duration of the run (its conversion methods, `jax.device_get`, and NumPy's
conversion functions, which on CPU read through the buffer protocol, out of Python's reach), and each
read records where it came from. The last tests inject a per-step read and show that the count
catches it.
"""

from __future__ import annotations

import contextlib
import threading
import traceback

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import kerasish as keras
from kerasish import layers
from kerasish.training.engine import Engine

ARRAY_TYPE = type(jnp.zeros(()))

# Every method through which a jax.Array's values reach Python or NumPy.
READ_METHODS = ("__array__", "__float__", "__int__", "__bool__", "__index__", "__complex__", "item", "tolist",
                "__format__", "__repr__", "__str__", "__dlpack__", "__iter__", "__reduce__")
# NumPy functions that turn their first argument into a NumPy array.
NUMPY_READERS = ("asarray", "asanyarray", "array", "ascontiguousarray", "copy")


def _holds_array(value) -> bool:
    if isinstance(value, (list, tuple)):
        return any(isinstance(item, jax.Array) for item in value)
    return isinstance(value, jax.Array)


class HostReads:
    """What was read back while `counting()` was active: reads inside `Engine.results` and elsewhere."""

    def __init__(self) -> None:
        self.results_calls = 0
        self.inside_results = 0
        self.elsewhere: list[str] = []  # where each read outside Engine.results came from
        self._local = threading.local()

    def _depth(self, name: str) -> int:
        return getattr(self._local, name, 0)

    def _wrap(self, function, only_arrays: bool = False):
        def read(*args, **kwargs):
            if self._depth("reading") or (only_arrays and not (args and _holds_array(args[0]))):  # a read inside a read (device_get -> __array__) counts once
                return function(*args, **kwargs)
            if self._depth("results"):
                self.inside_results += 1
            else:
                frames = traceback.extract_stack(limit=6)[:-1]
                self.elsewhere.append(" <- ".join(f"{f.name} ({f.filename.rsplit('/', 1)[-1]}:{f.lineno})"
                                                  for f in reversed(frames)))
            self._local.reading = 1
            try:
                return function(*args, **kwargs)
            finally:
                self._local.reading = 0
        return read

    def _wrap_results(self, results):
        def counted(*args, **kwargs):
            self.results_calls += 1
            self._local.results = self._depth("results") + 1
            try:
                return results(*args, **kwargs)
            finally:
                self._local.results -= 1
        return counted

    @contextlib.contextmanager
    def counting(self, monkeypatch: pytest.MonkeyPatch):
        with monkeypatch.context() as patch:
            for name in READ_METHODS:
                if name in ARRAY_TYPE.__dict__:
                    patch.setattr(ARRAY_TYPE, name, self._wrap(ARRAY_TYPE.__dict__[name]))
            patch.setattr(jax, "device_get", self._wrap(jax.device_get))
            for name in NUMPY_READERS:
                patch.setattr(np, name, self._wrap(getattr(np, name), only_arrays=True))
            patch.setattr(Engine, "results", self._wrap_results(Engine.results))
            yield self


def _data(n=300, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    return rng.normal(size=(n, 2)).astype("float32") + np.where(y[:, None] == 1, 1.5, -1.5), y


def _model(steps_per_execution="auto"):
    model = keras.Sequential([keras.Input((2,)), layers.Dense(8, activation="relu"),
                              layers.Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"],
                  steps_per_execution=steps_per_execution)
    return model


def _count_fit(monkeypatch, model, callbacks=None, epochs=2) -> HostReads:
    x, y = _data()
    reads = HostReads()
    with reads.counting(monkeypatch):
        history = model.fit(x, y, epochs=epochs, batch_size=16, verbose=0, validation_split=0.2,
                            callbacks=callbacks)
    assert len(history.history["loss"]) == epochs
    return reads


def test_the_counter_sees_every_way_to_read_an_array(monkeypatch):
    reads = HostReads()
    with reads.counting(monkeypatch):
        value, vector = jnp.float32(2.5), jnp.arange(3)
        float(value), int(value), bool(value), complex(value), value.item(), vector.tolist()
        np.asarray(vector), jax.device_get(vector), f"{value:.2f}", repr(vector), str(vector), list(vector)
        np.from_dlpack(vector), np.array(vector), np.asarray([value, value]), np.asarray(np.ones(2))
    assert len(reads.elsewhere) == 15 and reads.inside_results == reads.results_calls == 0


@pytest.mark.parametrize("steps_per_execution", [1, "auto"])
def test_fit_reads_back_only_the_epoch_end_results(monkeypatch, steps_per_execution):
    model = _model(steps_per_execution)
    reads = _count_fit(monkeypatch, model)  # the first fit compiles: it must not read per step either
    assert reads.elsewhere == []
    assert reads.results_calls == 2 * 2  # per epoch: the training metrics and the validation metrics
    assert reads.inside_results > 0
    again = _count_fit(monkeypatch, model, epochs=3)
    assert again.elsewhere == [] and again.results_calls == 3 * 2
    assert again.inside_results == reads.inside_results * 3 // 2  # the same reads each epoch


class _ReadLossEveryBatch(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        float(logs["loss"])


class _ReadWeightsEveryBatch(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        self.model.get_weights()


def test_a_per_step_read_of_the_logs_is_caught(monkeypatch):
    reads = _count_fit(monkeypatch, _model(), callbacks=[_ReadLossEveryBatch()])
    steps = 2 * -(-240 // 16)
    assert reads.results_calls == 2 * 2 + steps


def test_a_per_step_read_of_the_weights_is_caught(monkeypatch):
    reads = _count_fit(monkeypatch, _model(), callbacks=[_ReadWeightsEveryBatch()])
    assert len(reads.elsewhere) >= 2 * -(-240 // 16)
    assert any("get_weights" in where for where in reads.elsewhere)


def test_a_per_step_read_inside_the_engine_is_caught(monkeypatch):
    model = _model(1)
    make = Engine.train_function

    def train_function_that_reads(engine, *args, **kwargs):
        step = make(engine, *args, **kwargs)

        def reading_step(state, mstate, *data):
            state, mstate = step(state, mstate, *data)
            np.asarray(mstate["loss"][0])  # the kind of read a careless change to the loop would add
            return state, mstate
        return reading_step

    monkeypatch.setattr(Engine, "train_function", train_function_that_reads)
    reads = _count_fit(monkeypatch, model)
    assert reads.results_calls == 2 * 2
    assert len(reads.elsewhere) == 2 * -(-240 // 16)
    assert all("reading_step" in where for where in reads.elsewhere)
