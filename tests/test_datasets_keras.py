"""cifar10, cifar100, imdb, reuters, boston_housing, california_housing against Keras 3.

Each test writes a small file in the exact format Keras caches (npz with object arrays of lists,
tar archives of pickled CIFAR batches, JSON word indices) into a temporary KERAS_HOME, then
checks that kerasish and `keras.datasets.<name>` return the same arrays (shape, dtype, values,
element types) from it. Keras is kept offline: its download function raises, and its digest check
is bypassed because the fake files cannot match the published digests (without that, Keras would
try to download them again). `test_keras_would_download_without_the_file` shows the setup catches
a download attempt. Sockets are blocked except in the loopback download test.
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import io
import json
import os
import pickle
import socket
import tarfile
import threading

os.environ.setdefault("KERAS_BACKEND", "jax")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from keras import datasets as keras_datasets  # noqa: E402
from keras.src.backend import config as keras_config  # noqa: E402
from keras.src.utils import file_utils as keras_file_utils  # noqa: E402

from kerasish import datasets  # noqa: E402
from kerasish.datasets import _keras_cache  # noqa: E402

_real_connect = socket.socket.connect


class KerasDownloadAttempt(AssertionError):
    pass


def _no_download(url, *args, **kwargs):
    raise KerasDownloadAttempt(f"Keras tried to download {url}")


def _no_network(*args, **kwargs):
    raise OSError("tests must not use the network")


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """`<KERAS_HOME>/datasets`, the folder both libraries read, with downloads made impossible."""
    home = tmp_path / "keras_home"
    (home / "datasets").mkdir(parents=True)
    monkeypatch.setenv("KERAS_HOME", str(home))
    monkeypatch.delenv("KERASISH_DOWNLOAD", raising=False)
    monkeypatch.delenv("KERASISH_DATA_URL", raising=False)
    # Keras reads KERAS_HOME once, at import: point its copy at the same folder.
    monkeypatch.setattr(keras_config, "_KERAS_DIR", str(home))
    monkeypatch.setattr(keras_file_utils, "urlretrieve", _no_download)
    monkeypatch.setattr(keras_file_utils, "validate_file", lambda *args, **kwargs: True)
    monkeypatch.setattr(socket.socket, "connect", _no_network)
    return home / "datasets"


def assert_same(ours, theirs, where="result"):
    """Equal nested tuples of arrays: type, shape, dtype, values, and element types of objects."""
    assert type(ours) is type(theirs), where
    if isinstance(theirs, (tuple, list)):
        assert len(ours) == len(theirs), where
        for i, (a, b) in enumerate(zip(ours, theirs)):
            assert_same(a, b, f"{where}[{i}]")
        return
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype, (
        where, ours.shape, theirs.shape, ours.dtype, theirs.dtype)
    if theirs.dtype == object:
        assert ours.tolist() == theirs.tolist(), where
        assert _leaf_types(ours.tolist()) == _leaf_types(theirs.tolist()), where
    elif not np.array_equal(ours, theirs):  # fast for the 150 MB CIFAR arrays; details if not
        np.testing.assert_array_equal(ours, theirs, err_msg=where)


def _leaf_types(nested):
    if isinstance(nested, list):
        return [_leaf_types(item) for item in nested]
    return type(nested)


def both(name, *args, **kwargs):
    """`load_data` of kerasish and of Keras 3, or the exception type each raised."""
    results = []
    for module in (getattr(datasets, name), getattr(keras_datasets, name)):
        try:
            results.append(module.load_data(*args, **kwargs))
        except KerasDownloadAttempt:
            raise
        except Exception as error:  # noqa: BLE001 - the type is compared below
            results.append(type(error))
    return results


# -- fake files in Keras's formats -------------------------------------------------------------

def ragged(rng, n, vocabulary=60, longest=30):
    sequences = np.empty(n, dtype=object)
    for i in range(n):
        sequences[i] = [int(w) for w in rng.integers(1, vocabulary, rng.integers(1, longest))]
    return sequences


@pytest.fixture
def imdb_file(cache):
    rng = np.random.default_rng(0)
    np.savez(cache / "imdb.npz", x_train=ragged(rng, 40), y_train=rng.integers(0, 2, 40),
             x_test=ragged(rng, 30), y_test=rng.integers(0, 2, 30))
    return cache / "imdb.npz"


@pytest.fixture
def reuters_file(cache):
    rng = np.random.default_rng(1)
    np.savez(cache / "reuters.npz", x=ragged(rng, 57), y=rng.integers(0, 46, 57))
    return cache / "reuters.npz"


def cifar_batch(rng, n, **labels):
    data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
    batch = {b"batch_label": b"fake", b"data": data, b"filenames": [b"x.png"] * n}
    batch.update({key.encode(): [int(v) for v in values] for key, values in labels.items()})
    return pickle.dumps(batch, protocol=4)  # protocol 4: plain ndarray reduce, native bytes


def write_tar(path, members, mode):
    with tarfile.open(path, mode) as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


@pytest.fixture
def cifar100_archive(cache):
    rng = np.random.default_rng(2)
    members = {}
    for split, n in (("train", 50), ("test", 20)):
        members[f"cifar-100-python/{split}"] = cifar_batch(
            rng, n, fine_labels=rng.integers(0, 100, n), coarse_labels=rng.integers(0, 20, n))
    members["cifar-100-python/meta"] = pickle.dumps({b"fine_label_names": []}, protocol=4)
    write_tar(cache / "cifar-100-python-target_archive", members, "w:gz")
    return cache / "cifar-100-python-target_archive"


@pytest.fixture(scope="module")
def cifar10_tar(tmp_path_factory):
    """Full-size batches (Keras's loader requires 5 x 10,000 training images), uncompressed so
    the test stays fast; the gzip path is exercised by cifar100."""
    rng = np.random.default_rng(3)
    members = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        members[f"cifar-10-batches-py/{name}"] = cifar_batch(
            rng, 10000, labels=rng.integers(0, 10, 10000))
    path = tmp_path_factory.mktemp("cifar10") / "cifar-10-python.tar"
    write_tar(path, members, "w")
    return path


# -- equal to Keras ---------------------------------------------------------------------------

IMDB_CASES = [
    {},
    {"num_words": 20},
    {"num_words": 30, "skip_top": 5},
    {"maxlen": 15},
    {"maxlen": 15, "num_words": 25, "oov_char": None},
    {"start_char": None, "index_from": 0},
    {"start_char": None, "index_from": 2, "skip_top": 4},
    {"index_from": 0, "oov_char": 7, "num_words": 10},
    {"seed": 7, "start_char": 5},
    {"seed": 0, "maxlen": 0},
    {"maxlen": 2},  # keeps nothing: ValueError from both
]


@pytest.mark.parametrize("kwargs", IMDB_CASES, ids=str)
def test_imdb_equals_keras(imdb_file, kwargs):
    ours, theirs = both("imdb", **kwargs)
    if isinstance(theirs, type):
        assert ours is theirs is ValueError
    else:
        assert_same(ours, theirs)


def test_imdb_equal_length_sequences_become_2d_like_keras(cache):
    rng = np.random.default_rng(4)
    fixed = np.empty(6, dtype=object)
    for i in range(6):
        fixed[i] = [int(w) for w in rng.integers(1, 20, 5)]
    np.savez(cache / "imdb.npz", x_train=fixed, y_train=np.arange(6) % 2, x_test=fixed[:3],
             y_test=np.arange(3) % 2)
    ours, theirs = both("imdb")
    assert theirs[0][0].shape == (6, 6)  # start_char + 5 words: NumPy makes it 2-D
    assert_same(ours, theirs)


REUTERS_CASES = [
    {},
    {"num_words": 25, "test_split": 0.3},
    {"skip_top": 3, "maxlen": 12, "seed": 5},
    {"test_split": 0.0, "oov_char": None, "num_words": 15},
    {"start_char": None, "index_from": 0},
    {"maxlen": 1},  # every sequence dropped: empty label arrays in Keras's dtype
]


@pytest.mark.parametrize("kwargs", REUTERS_CASES, ids=str)
def test_reuters_equals_keras(reuters_file, kwargs):
    ours, theirs = both("reuters", **kwargs)
    if isinstance(theirs, type):
        assert ours is theirs
    else:
        assert_same(ours, theirs)


@pytest.mark.parametrize("kwargs", [{}, {"test_split": 0.0}, {"test_split": 0.35, "seed": 1},
                                    {"test_split": 1.0}, {"test_split": -0.1}], ids=str)
def test_boston_housing_equals_keras(cache, kwargs):
    rng = np.random.default_rng(5)
    np.savez(cache / "boston_housing.npz", x=rng.normal(size=(51, 13)), y=rng.normal(size=51))
    ours, theirs = both("boston_housing", **kwargs)
    if isinstance(theirs, type):
        assert ours is theirs is ValueError
    else:
        assert_same(ours, theirs)


@pytest.mark.parametrize("kwargs", [{}, {"version": "small"}, {"version": "small", "seed": 3},
                                    {"test_split": 0.5, "seed": 11}, {"version": "medium"},
                                    {"test_split": 1}], ids=str)
def test_california_housing_equals_keras(cache, kwargs):
    rng = np.random.default_rng(6)
    np.savez(cache / "california_housing.npz", x=rng.normal(size=(700, 8)).astype("float32"),
             y=rng.uniform(1e4, 5e5, 700).astype("float32"))
    ours, theirs = both("california_housing", **kwargs)
    if isinstance(theirs, type):
        assert ours is theirs is ValueError
    else:
        assert_same(ours, theirs)


@pytest.mark.parametrize("label_mode", ["fine", "coarse", "medium"])
def test_cifar100_equals_keras(cifar100_archive, label_mode):
    ours, theirs = both("cifar100", label_mode=label_mode)
    if isinstance(theirs, type):
        assert ours is theirs is ValueError
    else:
        assert theirs[0][0].shape == (50, 32, 32, 3) and theirs[0][1].shape == (50, 1)
        assert_same(ours, theirs)


def test_cifar10_equals_keras_from_the_archive_and_the_extracted_folder(cache, cifar10_tar):
    (cache / "cifar-10-batches-py-target_archive").symlink_to(cifar10_tar)
    ours, theirs = both("cifar10")
    assert theirs[0][0].shape == (50000, 32, 32, 3) and theirs[1][1].shape == (10000, 1)
    assert_same(ours, theirs)
    # Keras extracted the archive next to it; without the archive kerasish reads that folder.
    (cache / "cifar-10-batches-py-target_archive").unlink()
    assert (cache / "cifar-10-batches-py-target" / "cifar-10-batches-py").is_dir()
    assert_same(datasets.cifar10.load_data(), theirs)


def test_word_indices_and_label_names_equal_keras(cache):
    for name in ("imdb", "reuters"):
        index = {"the": 1, "and": 2, f"{name}-only": 3}
        (cache / f"{name}_word_index.json").write_text(json.dumps(index))
        assert getattr(datasets, name).get_word_index() == \
            getattr(keras_datasets, name).get_word_index() == index
    assert datasets.reuters.get_label_names() == keras_datasets.reuters.get_label_names()


def test_the_argument_order_is_keras_s(imdb_file, reuters_file):
    # positional calls as in old scripts: path, num_words, skip_top, maxlen, ...
    assert_same(datasets.imdb.load_data("imdb.npz", 20, 2, 25),
                keras_datasets.imdb.load_data("imdb.npz", 20, 2, 25))
    assert_same(datasets.reuters.load_data("reuters.npz", 20, 2, 25, 0.4),
                keras_datasets.reuters.load_data("reuters.npz", 20, 2, 25, 0.4))


# -- missing files, refusals, and the opt-in download -------------------------------------------

MISSING = [
    ("cifar10", {}, "cifar-10-batches-py-target_archive",
     "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"),
    ("cifar100", {}, "cifar-100-python-target_archive",
     "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"),
    ("imdb", {"num_words": 100}, "imdb.npz", "tf-keras-datasets/imdb.npz"),
    ("reuters", {}, "reuters.npz", "tf-keras-datasets/reuters.npz"),
    ("boston_housing", {}, "boston_housing.npz", "tf-keras-datasets/boston_housing.npz"),
    ("california_housing", {}, "california_housing.npz",
     "tf-keras-datasets/california_housing.npz"),
]


@pytest.mark.parametrize("name,kwargs,fname,origin", MISSING, ids=[m[0] for m in MISSING])
def test_missing_file_says_where_to_put_it(cache, name, kwargs, fname, origin):
    with pytest.raises(FileNotFoundError) as info:
        getattr(datasets, name).load_data(**kwargs)
    message = str(info.value)
    for part in (str(cache / fname), origin, "download=True", "KERASISH_DOWNLOAD=1",
                 "KERAS_HOME"):
        assert part in message, (part, message)
    assert not any(cache.iterdir())  # nothing created


@pytest.mark.parametrize("name", ["imdb", "reuters"])
def test_missing_word_index(cache, name):
    with pytest.raises(FileNotFoundError, match=f"{name}_word_index.json.*tf-keras-datasets"):
        getattr(datasets, name).get_word_index()


def test_keras_would_download_without_the_file(cache):
    # proves the setup: with the file absent Keras goes for the network, and the test sees it
    with pytest.raises(KerasDownloadAttempt, match="boston_housing.npz"):
        keras_datasets.boston_housing.load_data()


def test_paths_are_refused_like_keras(imdb_file):
    with pytest.raises(ValueError, match="not a path"):
        datasets.imdb.load_data(path=str(imdb_file))
    with pytest.raises(ValueError, match="Paths are no longer accepted"):
        keras_datasets.imdb.load_data(path=str(imdb_file))


def test_imdb_refuses_unknown_keywords_keras_ignores(imdb_file):
    keras_datasets.imdb.load_data(nb_words=10)  # silently ignored by Keras 3
    with pytest.raises(TypeError, match=r"Unrecognized keyword arguments: \['nb_words'\]"):
        datasets.imdb.load_data(nb_words=10)


def test_a_tampered_pickle_is_refused(cache):
    class Exploit:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    x = np.empty(1, dtype=object)
    x[0] = Exploit()
    np.savez(cache / "reuters.npz", x=x, y=np.zeros(1, dtype=int))
    with pytest.raises(ValueError, match="refusing to load"):
        datasets.reuters.load_data()


def test_corrupt_archive_and_missing_keys_name_the_file(cache):
    (cache / "cifar-100-python-target_archive").write_bytes(b"not a tar archive")
    with pytest.raises(ValueError, match="cifar-100-python-target_archive: not a readable tar"):
        datasets.cifar100.load_data()
    np.savez(cache / "boston_housing.npz", features=np.zeros((3, 13)))
    with pytest.raises(ValueError, match=r"boston_housing.npz: missing npz keys \['x', 'y'\]"):
        datasets.boston_housing.load_data()


@pytest.fixture
def mirror(tmp_path, monkeypatch):
    """A loopback HTTP server standing in for the download addresses (KERASISH_DATA_URL)."""
    served = tmp_path / "mirror"
    served.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setattr(socket.socket, "connect", _real_connect)
    monkeypatch.setenv("KERASISH_DATA_URL", f"http://127.0.0.1:{server.server_port}/")
    yield served
    server.shutdown()


def test_opt_in_download_lands_where_keras_reads_it(cache, mirror, monkeypatch):
    rng = np.random.default_rng(7)
    np.savez(mirror / "boston_housing.npz", x=rng.normal(size=(20, 13)), y=rng.normal(size=20))
    digest = hashlib.sha256((mirror / "boston_housing.npz").read_bytes()).hexdigest()
    spec = _keras_cache.CacheFile("boston_housing", "boston_housing.npz",
                                  f"{_keras_cache.KERAS_MIRROR}boston_housing.npz", digest)
    monkeypatch.setenv("KERASISH_DOWNLOAD", "1")
    assert _keras_cache.cached_file(spec, None) == cache / "boston_housing.npz"
    assert not list(cache.glob("*.part"))
    assert_same(datasets.boston_housing.load_data(), keras_datasets.boston_housing.load_data())


def test_download_with_the_wrong_digest_keeps_nothing(cache, mirror):
    (mirror / "imdb.npz").write_bytes(b"not the real file")
    with pytest.raises(ValueError, match="imdb: downloaded imdb.npz .* wrong SHA-256"):
        datasets.imdb.load_data(download=True)
    assert not any(cache.iterdir())


@pytest.mark.parametrize("name", ["cifar10", "cifar100", "imdb", "reuters", "boston_housing",
                                  "california_housing"])
def test_signatures_are_keras_s(name):
    import inspect

    def parameters(function, skip=()):
        return [(p.name, p.kind, p.default) for p in inspect.signature(function).parameters.values()
                if p.name not in skip]

    ours, theirs = getattr(datasets, name), getattr(keras_datasets, name)
    assert sorted(ours.__all__) == sorted(n for n in dir(theirs) if not n.startswith("_"))
    for function in ours.__all__:
        assert parameters(getattr(ours, function), skip=("download",)) == \
            parameters(getattr(theirs, function)), function
