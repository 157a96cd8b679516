"""The data path of fit / evaluate: where the data live, what each compiled call gets, pytree data.

Checked against NumPy gathers of the same index plans, and against Keras 3's own data adapter
(its errors, validation split and class weights) where Keras decides the behaviour.
"""

import types

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import kerasish as keras
from kerasish import layers
from kerasish.training import data as data_lib
from kerasish.training import source as source_lib
from kerasish.training.source import Source

NO_DIST = types.SimpleNamespace(distribution=None)


def _blobs(n=96, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x = rng.normal(size=(n, 2)) + np.where(y[:, None] == 1, 1.5, -1.5)
    return x.astype("float32"), y


def _chunks(source, k, shuffle=False, epoch=0):
    """Every chunk as host NumPy pytrees: [(data, masks, last step)]."""
    out = []
    for data, indices, masks, last in source.chunks(k, shuffle=shuffle, seed=3, epoch=epoch):
        assert indices is None
        out.append((jax.tree.map(np.asarray, data), np.asarray(masks), last))
    return out


def _expected_rows(arrays, k, batch, shuffle=False, epoch=0):
    """The same chunks from the index plan, gathered with NumPy: [(x, y, sw, masks)]."""
    indices, masks = arrays.epoch_plan(batch, shuffle, 3, epoch)
    steps = len(indices)
    indices = np.concatenate([indices, np.zeros((-steps % k, batch), np.int32)])
    masks = np.concatenate([masks, np.zeros((-steps % k, batch), np.float32)])
    return [(indices[s:s + k], masks[s:s + k]) for s in range(0, len(indices), k)]


# -- padding in the plan, data used in place -----------------------------------------------------

def test_chunks_gather_rows_of_the_users_array_and_pad_only_the_plan():
    x, y = _blobs(n=70)
    source = Source(NO_DIST, x, y, None, None, 32, None, need_y=True)
    assert source.arrays.x is x  # no copy of the data set
    got = _chunks(source, k=2)
    expected = _expected_rows(source.arrays, 2, 32)
    assert [last for *_, last in got] == [2, 3]
    for (data, masks, _), (idx, msk) in zip(got, expected):
        gx, gy, gw = data
        assert gx.shape == (2, 32, 2) and gy.shape == (2, 32) and gw.shape == (2, 32)
        np.testing.assert_array_equal(masks, msk)
        np.testing.assert_array_equal(gx, x[idx])
        np.testing.assert_array_equal(gy, y[idx])
        np.testing.assert_array_equal(gw, np.ones((2, 32)))
    assert sum(float(m.sum()) for _, m, _ in got) == 70  # padded slots are masked out


def test_shuffled_chunks_follow_the_seeded_plan():
    x, y = _blobs(n=100)
    source = Source(NO_DIST, x, y, None, None, 16, None, need_y=True)
    for epoch in (0, 1):
        got = _chunks(source, k=4, shuffle=True, epoch=epoch)
        for (data, _, _), (idx, _) in zip(got, _expected_rows(source.arrays, 4, 16, True, epoch)):
            np.testing.assert_array_equal(data[0], x[idx])


def test_host_gathers_are_aligned_and_adopted_by_jax_without_a_copy():
    x = np.arange(70 * 5, dtype=np.float32).reshape(70, 5)
    rows = data_lib.take_rows(x, np.array([[3, 1], [0, 69]]))
    assert rows.ctypes.data % data_lib.ALIGN == 0
    np.testing.assert_array_equal(rows, x[[[3, 1], [0, 69]]])
    device = jax.device_put(rows)
    assert device.unsafe_buffer_pointer() == rows.ctypes.data  # the CPU client uses the buffer as it is


def test_fits_read_an_array_changed_in_place_and_never_upload_it(monkeypatch):
    x, y = _blobs(n=64)
    sent = []
    real_put = jax.device_put

    def spy(tree, *args, **kwargs):
        sent.extend(np.shape(leaf) for leaf in jax.tree.leaves(tree))
        return real_put(tree, *args, **kwargs)
    monkeypatch.setattr(jax, "device_put", spy)

    def model():
        keras.utils.set_random_seed(4)
        m = keras.Sequential([keras.Input((2,)), layers.Dense(4, activation="relu"), layers.Dense(2, activation="softmax")])
        m.compile(keras.optimizers.SGD(0.1), "sparse_categorical_crossentropy")
        return m
    a, b = model(), model()
    a.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    x *= -1.0  # in place, between two fits
    a.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    b.fit(-x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    b.fit(x.copy(), y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    assert a._engine.trace_counts["train"] == 1  # one compiled program for every fit
    assert not any(shape[:1] == (64,) for shape in sent)  # the data set itself was never sent


# -- where the data live: host gather, device gather, uploads kept only when provably safe ------

def test_device_placements_give_the_host_gathers_chunks(monkeypatch):
    x, y = _blobs(n=50)
    host = _chunks(Source(NO_DIST, x, y, None, None, 16, None, need_y=True), k=2)
    on_device = _chunks(Source(NO_DIST, jnp.asarray(x), jnp.asarray(y), None, None, 16, None, need_y=True), k=2)
    monkeypatch.setattr(source_lib, "HOST_GATHER_BACKENDS", ())  # as on an accelerator: upload, gather there
    uploaded = _chunks(Source(NO_DIST, x, y, None, None, 16, None, need_y=True), k=2)
    monkeypatch.setattr(data_lib, "DEVICE_RESIDENT_BYTES", 0)  # too big for the device: gathered on the host
    streamed = _chunks(Source(NO_DIST, x, y, None, None, 16, None, need_y=True), k=2)
    for other in (on_device, uploaded, streamed):
        assert len(other) == len(host)
        for (d1, m1, l1), (d2, m2, l2) in zip(host, other):
            jax.tree.map(np.testing.assert_array_equal, d1, d2)
            np.testing.assert_array_equal(m1, m2)
            assert l1 == l2


def test_uploads_are_kept_across_fits_only_for_read_only_memory(monkeypatch):
    monkeypatch.setattr(source_lib, "HOST_GATHER_BACKENDS", ())
    frozen = np.frombuffer(np.arange(40, dtype=np.float32).tobytes(), np.float32).reshape(20, 2)
    writable = np.arange(40, dtype=np.float32).reshape(20, 2)
    locked = writable.copy()
    locked.flags.writeable = False  # owns its memory: NumPy lets it be made writable again
    view = writable[:]
    view.flags.writeable = False  # a read-only view of writable memory
    assert source_lib.read_only_memory(frozen) and source_lib.read_only_memory(frozen[2:])
    assert not any(source_lib.read_only_memory(a) for a in (writable, locked, view))
    assert source_lib.uploaded(frozen) is source_lib.uploaded(frozen)
    assert source_lib.uploaded(writable) is not source_lib.uploaded(writable)
    first = Source(NO_DIST, frozen, np.zeros(20), None, None, 8, None, need_y=True)._placed()[0][0]
    again = Source(NO_DIST, frozen, np.zeros(20), None, None, 8, None, need_y=True)._placed()[0][0]
    assert first is again


def test_every_placement_trains_to_the_same_weights(monkeypatch):
    x, y = _blobs(n=80)
    frozen = np.frombuffer(x.tobytes(), np.float32).reshape(x.shape)

    def train(x_in, y_in=None, **patches):
        with monkeypatch.context() as patch:
            for name, value in patches.items():
                patch.setattr(source_lib, name, value)
            keras.utils.set_random_seed(7)
            m = keras.Sequential([keras.Input((2,)), layers.Dense(8, activation="relu"), layers.Dense(2, activation="softmax")])
            m.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy", metrics=["accuracy"])
            m.fit(x_in, y_in, batch_size=16, epochs=2, shuffle=False, verbose=0)
            return m.get_weights()
    reference = train(x, y)
    for weights in (train(jnp.asarray(x), jnp.asarray(y)), train(frozen, y, HOST_GATHER_BACKENDS=()),
                    train([(x[i:i + 16], y[i:i + 16]) for i in range(0, 80, 16)])):
        for a, b in zip(reference, weights):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_pace_bounds_the_calls_in_flight(monkeypatch):
    x, y = _blobs(n=160)
    source = Source(NO_DIST, x, y, None, None, 8, None, need_y=True)
    seen = []
    real_take = data_lib.take_rows
    monkeypatch.setattr(data_lib, "take_rows", lambda tree, idx: (seen.append(len(source._pending)), real_take(tree, idx))[1])
    slow = jax.jit(lambda a: jnp.tanh(a @ a.T).sum())
    for data, _, _, _ in source.chunks(1, shuffle=False, seed=0, epoch=0):
        source.pace({"loss": slow(jnp.ones((64, 64))), "data": data})
    assert len(seen) == 20 * 2  # x and y of 20 calls
    assert max(seen) <= source_lib.MAX_CALLS_AHEAD


# -- pytree data ----------------------------------------------------------------------------------

def _pytree_data(n=40):
    rng = np.random.default_rng(1)
    x = {"pixels": rng.normal(size=(n, 3, 2)).astype("float32"), "ids": rng.integers(0, 9, (n, 4)).astype("int32")}
    y = (rng.integers(0, 2, n), rng.normal(size=(n, 1)).astype("float32"))
    return x, y


def test_pytree_data_keeps_its_structure_in_every_chunk():
    x, y = _pytree_data()
    sw = [np.linspace(0, 1, 40), np.full((40, 1), 2.0)]
    source = Source(NO_DIST, x, y, sw, None, 16, None, need_y=True)
    got = _chunks(source, k=2, shuffle=True)
    for (data, masks, _), (idx, msk) in zip(got, _expected_rows(source.arrays, 2, 16, True)):
        gx, gy, gw = data
        assert set(gx) == {"pixels", "ids"} and isinstance(gy, tuple) and isinstance(gw, list)
        np.testing.assert_array_equal(gx["pixels"], x["pixels"][idx])
        assert gx["ids"].dtype == np.int32
        np.testing.assert_array_equal(gy[1], y[1][idx])
        np.testing.assert_allclose(gw[0], np.linspace(0, 1, 40)[idx].astype(np.float32))
        np.testing.assert_array_equal(gw[1], np.full((2, 16), 2.0))
        np.testing.assert_array_equal(masks, msk)
    # no weights given: ones, one array per output
    _, _, gw = _chunks(Source(NO_DIST, x, y, None, None, 16, None, need_y=True), k=3)[0][0]
    assert isinstance(gw, tuple) and len(gw) == 2 and all((w == 1).all() for w in gw)


def test_one_weight_array_is_shared_by_every_output():
    x, y = _pytree_data()
    arrays = data_lib.ArrayData(x, {"a": y[0], "b": y[1]}, np.arange(40.0))
    assert set(arrays.sample_weight) == {"a", "b"}
    for w in arrays.sample_weight.values():
        np.testing.assert_array_equal(w, np.arange(40.0, dtype=np.float32))


def _keras_error(x, y, sample_weight=None, class_weight=None):
    from keras.src.trainers.data_adapters.array_data_adapter import ArrayDataAdapter
    with pytest.raises(ValueError) as keras_error:
        ArrayDataAdapter(x, y, sample_weight=sample_weight, class_weight=class_weight)
    return str(keras_error.value)


@pytest.mark.parametrize("case", ["cardinality", "weights_structure", "weights_not_per_sample",
                                  "class_weight_several_outputs", "class_and_sample_weight"])
def test_errors_are_keras_errors(case):
    x, y = _pytree_data()
    kwargs = {
        "cardinality": dict(x=[x["pixels"], x["ids"][:39]], y=[y[0], y[1]]),
        "weights_structure": dict(x=x, y=list(y), sample_weight=[np.ones(40)]),
        "weights_not_per_sample": dict(x=x, y=list(y), sample_weight=np.ones((40, 3))),
        "class_weight_several_outputs": dict(x=x, y=list(y), class_weight={0: 1.0, 1: 2.0}),
        "class_and_sample_weight": dict(x=x["pixels"], y=y[0], sample_weight=np.ones(40), class_weight={0: 1.0, 1: 2.0}),
    }[case]
    expected = _keras_error(**kwargs)
    with pytest.raises(ValueError) as ours:
        data_lib.ArrayData(**kwargs)
    assert str(ours.value).splitlines()[0] == expected.splitlines()[0]
    if case == "cardinality":
        assert str(ours.value) == expected  # every leaf's size, Keras's layout


def test_validation_split_and_class_weights_match_keras():
    from keras.src.trainers.data_adapters import array_slicing, data_adapter_utils
    x, y = _pytree_data(n=43)
    train, val = data_lib.ArrayData(x, y).split(0.3)
    keras_train, keras_val = array_slicing.train_validation_split((x, y), validation_split=0.3)
    for ours, theirs in ((train, keras_train), (val, keras_val)):
        jax.tree.map(np.testing.assert_array_equal, (ours.x, ours.y), theirs)
        assert ours.n == len(theirs[1][0])
    labels = np.array([0, 2, 1, 2, 2, 0])
    for target in (labels, np.eye(3)[labels], labels[:, None]):
        np.testing.assert_array_equal(
            data_lib.ArrayData(np.zeros((6, 2)), target, class_weight={0: 0.5, 1: 2.0, 2: 3.0}).sample_weight,
            data_adapter_utils.class_weight_to_sample_weights(target, {0: 0.5, 1: 2.0, 2: 3.0}))


def test_iterables_of_pytree_batches_are_padded_per_leaf():
    x, y = _pytree_data(n=40)
    batches = [({k: v[i:i + 16] for k, v in x.items()}, (y[0][i:i + 16], y[1][i:i + 16])) for i in range(0, 40, 16)]
    source = Source(NO_DIST, iter(batches), None, None, None, None, None, need_y=True)
    assert set(source.sample_x) == {"pixels", "ids"}
    got = _chunks(source, k=1)
    assert [last for *_, last in got] == [1, 2, 3]
    (gx, gy, gw), masks, _ = got[-1]
    assert gx["pixels"].shape == (1, 16, 3, 2) and gy[0].shape == (1, 16)
    np.testing.assert_array_equal(masks[0], [1.0] * 8 + [0.0] * 8)
    np.testing.assert_array_equal(gx["ids"][0, :8], x["ids"][32:])
    np.testing.assert_array_equal(gx["ids"][0, 8:], 0)
    assert isinstance(gw, tuple) and (gw[0][0, :8] == 1).all()
    # a dict alone is x (Keras's rule); a batch of 4 parts is an error
    assert set(data_lib.unpack_batch({"pixels": x["pixels"]})[0]) == {"pixels"}
    with pytest.raises(ValueError, match="Data is expected to be in format"):
        data_lib.unpack_batch((x["ids"],) * 4)


class _FourShards:
    """A distribution that splits batches over 4 shards (device_put stands in for the split)."""

    def __init__(self):
        self.calls = []

    def padded_batch(self, batch_size):
        return -(-batch_size // 4) * 4

    def distribute(self, array, axis=0):
        self.calls.append((array.shape, axis))
        return jax.device_put(array)


@pytest.mark.parametrize("iterable", [False, True])
def test_distributed_chunks_pad_columns_and_split_every_leaf(iterable):
    x, y = _pytree_data(n=30)
    dist = _FourShards()
    engine = types.SimpleNamespace(distribution=dist)
    if iterable:
        batches = [({k: v[i:i + 10] for k, v in x.items()}, (y[0][i:i + 10], y[1][i:i + 10])) for i in (0, 10, 20)]
        source = Source(engine, batches, None, None, None, None, None, need_y=True)
    else:
        source = Source(engine, x, y, None, None, 10, None, need_y=True)
    got = _chunks(source, k=1 if iterable else 2)
    (gx, gy, gw), masks, _ = got[0]
    assert gx["pixels"].shape[1:] == (12, 3, 2) and gy[1].shape[1:] == (12, 1)
    np.testing.assert_array_equal(masks[0], [1.0] * 10 + [0.0] * 2)
    np.testing.assert_array_equal(gx["ids"][0, :10], x["ids"][:10])
    leaves_per_chunk = len(jax.tree.leaves((gx, gy, gw))) + 1  # and the mask
    assert len(dist.calls) == leaves_per_chunk * len(got) and all(axis == 1 for _, axis in dist.calls)
