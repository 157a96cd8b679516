"""keras.utils tools: PyDataset through fit/evaluate/predict (threads, processes, epoch hooks),
pad_sequences against Keras 3, timeseries windows and split_dataset against direct NumPy
computations (Keras builds both on tf.data, absent here), get_file offline and over file:// URLs,
plot_model rendering a PNG and its errors without pydot or Graphviz."""

import hashlib
import math
import os
import random
import tarfile
import threading
import warnings

import numpy as np
import pytest

import kerasish as keras

keras_ref = pytest.importorskip("keras")


# -- PyDataset --------------------------------------------------------------------------------

class Batches(keras.utils.PyDataset):
    """Linear-regression batches; reshuffles its batch order at each epoch end; records its calls."""

    def __init__(self, n=96, batch_size=16, **kwargs):
        super().__init__(**kwargs)
        rng = np.random.default_rng(0)
        self.x = rng.normal(size=(n, 3)).astype("float32")
        self.y = (self.x @ np.array([[1.0], [-2.0], [0.5]], "float32")).astype("float32")
        self.batch_size, self.order = batch_size, np.arange(math.ceil(n / batch_size))
        self.calls, self.threads = [], set()

    def __len__(self):
        return len(self.order)

    def __getitem__(self, index):
        self.threads.add(threading.current_thread().name)
        rows = slice(self.order[index] * self.batch_size, (self.order[index] + 1) * self.batch_size)
        return self.x[rows], self.y[rows]

    def on_epoch_begin(self):
        self.calls.append("begin")

    def on_epoch_end(self):
        self.calls.append("end")
        self.order = np.random.default_rng(len(self.calls)).permutation(self.order)


def _train(dataset, epochs=2):
    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
    history = model.fit(dataset, epochs=epochs, verbose=0)
    return model, history


def test_fit_reads_a_pydataset_and_calls_its_epoch_hooks():
    dataset = Batches()
    model, history = _train(dataset)
    assert dataset.calls == ["begin", "end", "begin", "end"]
    assert history.history["loss"][1] < history.history["loss"][0]
    reference = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    reference.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
    reference.set_weights(model.get_weights())
    np.testing.assert_allclose(model.evaluate(dataset, verbose=0), reference.evaluate(dataset.x, dataset.y, verbose=0),
                               rtol=1e-5)
    np.testing.assert_allclose(model.predict(Batches(), verbose=0), model.predict(dataset.x, verbose=0), rtol=1e-6)


def test_threads_and_processes_give_the_same_training_as_in_order_reads():
    expected, _ = _train(Batches())
    threaded = Batches(workers=3, max_queue_size=2)
    model, _ = _train(threaded)
    assert any(name.startswith("PyDataset") for name in threaded.threads)  # computed by the pool
    for a, b in zip(model.get_weights(), expected.get_weights()):
        np.testing.assert_array_equal(a, b)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="os.fork", category=RuntimeWarning)  # JAX's note on fork()
        model, _ = _train(Batches(workers=2, use_multiprocessing=True))
    for a, b in zip(model.get_weights(), expected.get_weights()):
        np.testing.assert_array_equal(a, b)


class Pids(keras.utils.PyDataset):
    def __len__(self):
        return 4

    def __getitem__(self, index):
        if index == 3:
            raise RuntimeError("batch 3 is broken")
        return np.full((2, 1), os.getpid()), np.full((2, 1), index)


def test_read_ahead_runs_in_worker_processes_and_reports_their_errors():
    dataset = Pids(workers=2, use_multiprocessing=True)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="os.fork", category=RuntimeWarning)
        batches = [dataset[i] for i in range(3)]
        with pytest.raises(RuntimeError, match="batch 3 is broken"):
            dataset[3]
    assert [int(y[0, 0]) for _, y in batches] == [0, 1, 2]
    assert all(int(x[0, 0]) != os.getpid() for x, _ in batches)
    assert int(dataset[1][0][0, 0]) == os.getpid()  # out of order: computed here, at once


def test_pydataset_arguments_and_keras_attributes():
    dataset = Batches(workers=4, use_multiprocessing=False, max_queue_size=3)
    assert (dataset.workers, dataset.use_multiprocessing, dataset.max_queue_size) == (4, False, 3)
    assert dataset.num_batches == 6 and keras.utils.Sequence is keras.utils.PyDataset
    for bad in ({"workers": -1}, {"max_queue_size": 0}, {"workers": 1.5}):
        with pytest.raises(ValueError, match="must be a"):
            Batches(**bad)

    class NoSuper(keras.utils.PyDataset):
        def __init__(self):
            pass

        def __len__(self):
            return 1

        def __getitem__(self, index):
            return np.zeros((1, 1)), np.zeros((1, 1))

    with pytest.warns(UserWarning, match=r"should call `super\(\).__init__\(\*\*kwargs\)`"):
        assert NoSuper().workers == 1
    with pytest.raises(NotImplementedError):
        keras.utils.PyDataset()[0]


# -- pad_sequences ------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs", [
    {}, {"maxlen": 2}, {"maxlen": 5, "padding": "post"}, {"maxlen": 2, "truncating": "post"},
    {"maxlen": 4, "dtype": "float32", "value": -1.0}, {"dtype": "int64", "padding": "post", "truncating": "post"},
])
def test_pad_sequences_matches_keras(kwargs):
    sequences = [[1, 2, 3], [4], [], [5, 6, 7, 8]]
    ours, theirs = keras.utils.pad_sequences(sequences, **kwargs), keras_ref.utils.pad_sequences(sequences, **kwargs)
    assert ours.dtype == theirs.dtype
    np.testing.assert_array_equal(ours, theirs)
    vectors = [np.ones((2, 3)), np.zeros((1, 3))]
    np.testing.assert_array_equal(keras.utils.pad_sequences(vectors, **kwargs),
                                  keras_ref.utils.pad_sequences(vectors, **kwargs))


def test_pad_sequences_errors_match_keras():
    for module in (keras.utils, keras_ref.utils):
        with pytest.raises(ValueError, match="must be a list of iterables"):
            module.pad_sequences([[1], 2])
        with pytest.raises(ValueError, match='Padding type "middle" not understood'):
            module.pad_sequences([[1]], padding="middle")
        with pytest.raises(ValueError, match="is not compatible with `value`'s type"):
            module.pad_sequences([[1]], value="x")
        with pytest.raises(ValueError, match="is different from expected shape"):
            module.pad_sequences([np.ones((2, 3)), np.ones((2, 2))])
    np.testing.assert_array_equal(keras.utils.pad_sequences([["a"], ["b", "c"]], dtype=object, value=""),
                                  [["", "a"], ["b", "c"]])


# -- timeseries_dataset_from_array and split_dataset ------------------------------------------------

@pytest.mark.parametrize("kwargs", [
    {"sequence_length": 5},
    {"sequence_length": 4, "sequence_stride": 3, "sampling_rate": 2, "batch_size": 4},
    {"sequence_length": 3, "start_index": 10, "end_index": 40, "batch_size": 5},
    {"sequence_length": 6, "shuffle": True, "seed": 3, "batch_size": 7},
])
def test_timeseries_windows_match_their_definition(kwargs):
    data, targets = np.arange(50 * 2).reshape(50, 2), np.arange(50) * 10
    dataset = keras.utils.timeseries_dataset_from_array(data, targets, **kwargs)
    length, stride, rate = kwargs["sequence_length"], kwargs.get("sequence_stride", 1), kwargs.get("sampling_rate", 1)
    start, end = kwargs.get("start_index", 0), kwargs.get("end_index", 50)
    starts = list(range(start, end - (length - 1) * rate, stride))
    if kwargs.get("shuffle"):
        positions = np.array(starts) - start
        np.random.RandomState(kwargs["seed"]).shuffle(positions)
        starts = list(positions + start)
    windows = np.concatenate([x for x, _ in dataset])
    labels = np.concatenate([y for _, y in dataset])
    np.testing.assert_array_equal(windows, [data[s:s + length * rate:rate] for s in starts])
    np.testing.assert_array_equal(labels, targets[starts])
    assert len(dataset) == math.ceil(len(starts) / kwargs.get("batch_size", 128))


def test_timeseries_dataset_trains_a_model_and_checks_arguments():
    series = np.sin(np.arange(300) / 8.0).astype("float32")
    dataset = keras.utils.timeseries_dataset_from_array(series[:-5, None], series[5:], sequence_length=5,
                                                        batch_size=32)
    model = keras.Sequential([keras.Input((5, 1)), keras.layers.Flatten(), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(dataset, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    only_windows = keras.utils.timeseries_dataset_from_array(series, None, sequence_length=4, batch_size=None)
    assert only_windows[0].shape == (4,) and len(only_windows) == 297
    for bad, message in (({"start_index": -1}, "must be 0 or greater"), ({"end_index": 400}, "must be lower than"),
                         ({"sampling_rate": 0}, "must be higher than 0"), ({"format": "torch"}, "should be either")):
        with pytest.raises(ValueError, match=message):
            keras.utils.timeseries_dataset_from_array(series, None, sequence_length=4, **bad)


def test_split_dataset_sizes_shuffle_and_batches():
    x, y = np.arange(100).reshape(50, 2), np.arange(50)
    left, right = keras.utils.split_dataset((x, y), left_size=0.8, shuffle=True, seed=7)
    order = list(range(50))
    random.seed(7)
    random.shuffle(order)  # what Keras does with the seed
    assert (len(left), len(right)) == (40, 10)
    np.testing.assert_array_equal(np.stack([s[1] for s in left]), y[order[:40]])
    np.testing.assert_array_equal(right[0][0], x[order[40]])
    left, right = keras.utils.split_dataset(x, right_size=5)
    assert (len(left), len(right)) == (45, 5) and np.array_equal(right[0], x[45])
    batches = keras.utils.split_dataset((x.astype("float32"), y.astype("float32")), left_size=32)[0].batch(10)
    assert len(batches) == 4 and batches[3][0].shape == (2, 2)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    assert len(model.fit(batches, epochs=1, verbose=0).history["loss"]) == 1
    for kwargs, error, message in (({}, ValueError, "At least one of"), ({"left_size": 1.5}, ValueError, "should be"),
                                   ({"left_size": "half"}, TypeError, "Invalid `left_size` Type"),
                                   ({"left_size": 0.6, "right_size": 0.6}, ValueError, "greater than 1")):
        with pytest.raises(error, match=message):
            keras.utils.split_dataset(x, **kwargs)


# -- get_file -------------------------------------------------------------------------------------

def test_get_file_uses_the_cache_offline_and_checks_hashes(tmp_path, monkeypatch):
    monkeypatch.setenv("KERASISH_DOWNLOAD", "0")  # any network use would be an error
    cache = tmp_path / "cache"
    (cache / "datasets").mkdir(parents=True)
    (cache / "datasets" / "notes.txt").write_text("hello")
    sha, md5 = hashlib.sha256(b"hello").hexdigest(), hashlib.md5(b"hello").hexdigest()
    for file_hash in (None, sha, md5):
        path = keras.utils.get_file("notes.txt", "https://example.invalid/notes.txt", file_hash=file_hash,
                                    cache_dir=cache)
        assert path == str(cache / "datasets" / "notes.txt")
    with pytest.raises(OSError, match=r"downloads are turned off.*put it at"):
        keras.utils.get_file("missing.txt", "https://example.invalid/missing.txt", cache_dir=cache)
    with pytest.raises(OSError, match="downloads are turned off"):  # a stale file (wrong hash) needs a download
        keras.utils.get_file("notes.txt", "https://example.invalid/notes.txt", file_hash="0" * 64, cache_dir=cache)
    with pytest.raises(ValueError, match="Paths are no longer accepted"):
        keras.utils.get_file("a/b.txt", "https://example.invalid/b.txt", cache_dir=cache)
    with pytest.raises(ValueError, match='specify the "origin"'):
        keras.utils.get_file("b.txt")


def test_get_file_downloads_checks_and_extracts(tmp_path, monkeypatch):
    monkeypatch.delenv("KERASISH_DOWNLOAD", raising=False)
    source = tmp_path / "served"
    source.mkdir()
    (source / "data.csv").write_text("a,b\n1,2\n")
    with tarfile.open(source / "bundle.tar.gz", "w:gz") as tar:
        tar.add(source / "data.csv", arcname="bundle/data.csv")
    cache = tmp_path / "cache"
    path = keras.utils.get_file(origin=(source / "data.csv").as_uri(), cache_dir=cache, cache_subdir="sub")
    assert open(path).read() == "a,b\n1,2\n" and path.endswith(os.path.join("sub", "data.csv"))
    folder = keras.utils.get_file("bundle.tar.gz", (source / "bundle.tar.gz").as_uri(), cache_dir=cache, extract=True)
    assert open(os.path.join(folder, "bundle", "data.csv")).read() == "a,b\n1,2\n"
    with pytest.raises(ValueError, match="Incomplete or corrupted file detected"):
        keras.utils.get_file("again.csv", (source / "data.csv").as_uri(), file_hash="1" * 32, cache_dir=cache)
    with pytest.raises(OSError, match=r"URL fetch failure on .*put it at"):
        keras.utils.get_file("gone.csv", (source / "gone.csv").as_uri(), cache_dir=cache)
    assert not list((cache / "datasets").glob("*.part"))  # no partial file left behind


# -- plot_model -----------------------------------------------------------------------------------

def _functional():
    inputs = keras.Input((8,), name="features")
    hidden = keras.layers.Dense(4, activation="relu", name="hidden")(inputs)
    skip = keras.layers.Dense(4, name="skip")(inputs)
    merged = keras.layers.Add(name="merge")([hidden, skip])
    return keras.Model(inputs, keras.layers.Dense(1, name="out")(merged))


def test_model_to_dot_draws_the_functional_graph():
    pytest.importorskip("pydot")
    dot = keras.utils.model_to_dot(_functional(), show_shapes=True, show_layer_activations=True)
    labels = {node.get_name(): node.get("label") for node in dot.get_nodes() if node.get("label")}
    by_name = {next(n for n in ("features", "hidden", "skip", "merge", "out") if f"<b>{n}</b>" in label): key
               for key, label in labels.items()}
    edges = {(e.get_source(), e.get_destination()) for e in dot.get_edges()}
    assert edges == {(by_name[a], by_name[b]) for a, b in [("features", "hidden"), ("features", "skip"),
                                                          ("hidden", "merge"), ("skip", "merge"), ("merge", "out")]}
    assert "Output shape: <b>(None, 4)</b>" in labels[by_name["hidden"]]
    assert "Activation: <b>relu</b>" in labels[by_name["hidden"]]
    sequential = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2), keras.layers.Dense(1)])
    assert len(keras.utils.model_to_dot(sequential).get_edges()) == 1


def test_plot_model_writes_a_png(tmp_path):
    pytest.importorskip("pydot")
    if not __import__("shutil").which("dot"):
        pytest.skip("Graphviz's `dot` is not installed (apt-get install graphviz)")
    for name, model in (("functional.png", _functional()),
                        ("sequential.png", keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)]))):
        keras.utils.plot_model(model, to_file=tmp_path / name, show_shapes=True, dpi=50)
        data = (tmp_path / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 1000


def test_plot_model_says_what_to_install(tmp_path, monkeypatch):
    pytest.importorskip("pydot")
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    monkeypatch.setenv("PATH", str(tmp_path))  # no `dot` program on the PATH
    with pytest.raises(ImportError, match=r"You must install graphviz.*apt-get install graphviz"):
        keras.utils.plot_model(model, to_file=tmp_path / "m.png")
    monkeypatch.setitem(__import__("sys").modules, "pydot", None)  # pydot not installed
    with pytest.raises(ImportError, match=r"pip install pydot"):
        keras.utils.plot_model(model, to_file=tmp_path / "m.png")
    with pytest.raises(ImportError, match=r"pip install pydot"):
        keras.utils.model_to_dot(model)
    with pytest.raises(ValueError, match="has not yet been built"):
        keras.utils.plot_model(keras.Sequential([keras.layers.Dense(2)]))


# -- image helpers, is_keras_tensor, standardize_dtype ----------------------------------------

@pytest.mark.parametrize("kwargs", [dict(), dict(target_size=(8, 12), interpolation="bilinear"),
                                    dict(target_size=(8, 12), interpolation="bicubic", keep_aspect_ratio=True),
                                    dict(color_mode="grayscale"), dict(color_mode="rgba", target_size=(40, 10))])
def test_image_helpers_match_keras(tmp_path, kwargs):
    """save_img / load_img / img_to_array / array_to_img give Keras 3's arrays, pixel for pixel."""
    x = np.random.default_rng(0).random((20, 30, 3)).astype("float32")
    arrays = []
    for lib in (keras, keras_ref):
        path = tmp_path / f"{lib.__name__}.png"
        lib.utils.save_img(path, x)
        image = lib.utils.load_img(path, **kwargs)
        arrays.append((image.mode, lib.utils.img_to_array(image), lib.utils.img_to_array(image, "channels_first")))
    assert arrays[0][0] == arrays[1][0]
    np.testing.assert_array_equal(arrays[0][1], arrays[1][1])
    np.testing.assert_array_equal(arrays[0][2], arrays[1][2])


def test_array_to_img_modes_and_errors(tmp_path):
    x = np.arange(24, dtype="float32").reshape(2, 3, 4)
    for lib in (keras, keras_ref):
        assert lib.utils.array_to_img(x).mode == "RGBA"
        assert lib.utils.array_to_img(x[..., :1] * 100, scale=False).mode == "I"
        assert lib.utils.array_to_img(np.moveaxis(x[..., :3], -1, 0), data_format="channels_first").size == (3, 2)
        with pytest.raises(ValueError, match="rank 3"):
            lib.utils.array_to_img(x[0])
        with pytest.raises(ValueError, match="Unsupported channel number"):
            lib.utils.array_to_img(np.zeros((2, 2, 2)))
    keras.utils.save_img(tmp_path / "x.png", x)
    with pytest.raises(ValueError, match="color_mode"):
        keras.utils.load_img(tmp_path / "x.png", color_mode="cmyk")
    with pytest.raises(ValueError, match="interpolation"):
        keras.utils.load_img(tmp_path / "x.png", target_size=(4, 4), interpolation="magic")
    with pytest.raises(TypeError, match="path-like"):
        keras.utils.load_img(3)


def test_is_keras_tensor_and_standardize_dtype():
    assert keras.utils.is_keras_tensor(keras.Input((3,))) and not keras.utils.is_keras_tensor(np.ones(3))
    for name in ("float32", "int8", "bool", "float64"):
        assert keras.utils.standardize_dtype(name) == keras_ref.utils.standardize_dtype(name)
