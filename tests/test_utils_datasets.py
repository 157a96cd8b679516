"""keras.utils.image_dataset_from_directory / text_dataset_from_directory (a PyDataset here, a
tf.data.Dataset in Keras) and get_source_inputs. File order, labels and splits are compared with
Keras's own indexing (`keras.src.utils.dataset_utils`, which runs without TensorFlow); pixels with
Keras's PIL loader (its `format="grain"` path); the rest with Keras's documented behaviour."""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

keras = pytest.importorskip("keras")
Image = pytest.importorskip("PIL.Image")

import kerasish  # noqa: E402
from kerasish.utils import image_dataset_from_directory, text_dataset_from_directory  # noqa: E402
from kerasish.utils.directory_datasets import IMAGE_FORMATS, index_directory  # noqa: E402

CLASSES = {"dogs": 5, "cats": 4, "birds10": 3, "birds2": 2}  # alphanumeric order: birds10, birds2, cats, dogs


@pytest.fixture(scope="module")
def image_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("images")
    rng = np.random.default_rng(0)
    for name, count in CLASSES.items():
        os.makedirs(root / name / "nested")
        for i in range(count):
            size = (int(rng.integers(6, 20)), int(rng.integers(6, 20)))
            pixels = rng.integers(0, 256, size=(*size, 3), dtype=np.uint8)
            where = root / name / ("nested" if i == 0 else "") / f"img_{i}.png"
            Image.fromarray(pixels).save(where)
        (root / name / "notes.csv").write_text("not an image")
    (root / ".hidden").mkdir()
    return str(root)


@pytest.fixture(scope="module")
def text_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("texts")
    for label in ("neg", "pos"):
        os.makedirs(root / label)
        for i in range(5):
            (root / label / f"{i}.txt").write_text(f"{label} review number {i} " * 3)
    return str(root)


@pytest.mark.parametrize("shuffle,seed", [(False, None), (True, 3), (True, 1234)])
@pytest.mark.parametrize("labels", ["inferred", None])
def test_index_matches_keras(image_dir, shuffle, seed, labels):
    from keras.src.utils import dataset_utils
    ours = index_directory(image_dir, labels, IMAGE_FORMATS, shuffle=shuffle, seed=seed, verbose=False)
    theirs = dataset_utils.index_directory(image_dir, labels, IMAGE_FORMATS, shuffle=shuffle, seed=seed,
                                           verbose=False)
    assert ours[0] == theirs[0]
    assert ours[2] == theirs[2]
    assert (ours[1] is None and theirs[1] is None) or list(ours[1]) == list(theirs[1])
    if labels:
        assert ours[2] == ["birds10", "birds2", "cats", "dogs"]


def test_explicit_labels_and_class_names_match_keras(image_dir):
    from keras.src.utils import dataset_utils
    n = sum(CLASSES.values())
    labels = [i % 3 for i in range(n)]
    ours = index_directory(image_dir, labels, IMAGE_FORMATS, shuffle=True, seed=7, verbose=False)
    theirs = dataset_utils.index_directory(image_dir, list(labels), IMAGE_FORMATS, shuffle=True, seed=7,
                                           verbose=False)
    assert ours[0] == theirs[0] and list(ours[1]) == list(theirs[1]) and ours[2] == theirs[2] == ["0", "1", "2"]
    names = ["dogs", "cats"]
    ours = index_directory(image_dir, "inferred", IMAGE_FORMATS, class_names=names, shuffle=False, verbose=False)
    theirs = dataset_utils.index_directory(image_dir, "inferred", IMAGE_FORMATS, class_names=names,
                                           shuffle=False, verbose=False)
    assert ours[0] == theirs[0] and list(ours[1]) == list(theirs[1]) and ours[2] == theirs[2] == names


@pytest.mark.parametrize("kwargs", [dict(), dict(crop_to_aspect_ratio=True), dict(pad_to_aspect_ratio=True),
                                    dict(color_mode="grayscale", interpolation="nearest"),
                                    dict(data_format="channels_first")])
def test_images_match_keras_loader(image_dir, kwargs):
    from keras.src.utils.image_dataset_utils import _load_image_grain
    kwargs = {"color_mode": "rgb", "interpolation": "bilinear", "data_format": "channels_last", **kwargs}
    ds = image_dataset_from_directory(image_dir, image_size=(8, 10), batch_size=4, shuffle=False, verbose=False,
                                      **kwargs)
    channels = {"rgb": 3, "grayscale": 1}[kwargs["color_mode"]]
    x, y = ds[0]
    assert x.dtype == np.float32 and y.dtype == np.int32
    expected_shape = (4, channels, 8, 10) if kwargs["data_format"] == "channels_first" else (4, 8, 10, channels)
    assert x.shape == expected_shape
    for image, path in zip(x, ds.file_paths[:4]):
        reference = _load_image_grain(path, (8, 10), channels, kwargs["interpolation"], kwargs["data_format"],
                                      kwargs.get("crop_to_aspect_ratio", False),
                                      kwargs.get("pad_to_aspect_ratio", False))
        np.testing.assert_allclose(image, np.asarray(reference), atol=1e-3)


def test_label_modes_and_batches(image_dir):
    n = sum(CLASSES.values())
    ds = image_dataset_from_directory(image_dir, image_size=8, batch_size=5, shuffle=False, verbose=False)
    assert len(ds) == 3 and ds.class_names == ["birds10", "birds2", "cats", "dogs"]
    labels = np.concatenate([ds[i][1] for i in range(len(ds))])
    assert labels.tolist() == [0] * 3 + [1] * 2 + [2] * 4 + [3] * 5 and len(labels) == n
    cat = image_dataset_from_directory(image_dir, label_mode="categorical", image_size=8, shuffle=False,
                                       verbose=False)
    assert cat[0][1].shape == (n, 4) and cat[0][1].dtype == np.float32
    np.testing.assert_array_equal(cat[0][1].argmax(-1), labels)
    binary = image_dataset_from_directory(image_dir, label_mode="binary", class_names=["cats", "dogs"],
                                          image_size=8, shuffle=False, verbose=False)
    assert binary[0][1].shape == (9, 1) and binary[0][1].ravel().tolist() == [0.0] * 4 + [1.0] * 5
    unlabeled = image_dataset_from_directory(image_dir, labels=None, image_size=8, shuffle=False, verbose=False)
    assert isinstance(unlabeled[0], np.ndarray) and unlabeled.class_names is None
    with pytest.raises(ValueError, match="exactly 2"):
        image_dataset_from_directory(image_dir, label_mode="binary", verbose=False)


def test_shuffle_seed_and_splits(image_dir, capsys):
    n = sum(CLASSES.values())  # 14: int(0.3 * 14) = 4 for validation
    a = image_dataset_from_directory(image_dir, image_size=8, seed=5, verbose=False)
    b = image_dataset_from_directory(image_dir, image_size=8, seed=5, verbose=False)
    assert a.file_paths == b.file_paths and sorted(a.file_paths) != a.file_paths
    np.testing.assert_array_equal(a[0][0], b[0][0])
    train, val = image_dataset_from_directory(image_dir, image_size=8, seed=5, validation_split=0.3, subset="both",
                                              batch_size=3)
    out = capsys.readouterr().out
    assert f"Found {n} files belonging to 4 classes." in out and "Using 10 files for training." in out
    assert "Using 4 files for validation." in out
    assert len(train.file_paths) == 10 and len(val.file_paths) == 4
    assert train.file_paths + val.file_paths == a.file_paths  # the same shuffled list, split at the end
    only_val = image_dataset_from_directory(image_dir, image_size=8, seed=5, validation_split=0.3,
                                            subset="validation", verbose=False)
    assert only_val.file_paths == val.file_paths and len(train) == 4
    first = [train[i][1].tolist() for i in range(len(train))]
    train.on_epoch_end()
    second = [train[i][1].tolist() for i in range(len(train))]
    assert sorted(sum(first, [])) == sorted(sum(second, [])) and first != second  # reshuffled per epoch
    with pytest.raises(ValueError, match="must provide a `seed`"):
        image_dataset_from_directory(image_dir, validation_split=0.2, subset="training")
    with pytest.raises(ValueError, match="`validation_split` must be set"):
        image_dataset_from_directory(image_dir, subset="training", seed=1)
    with pytest.raises(ValueError, match="interpolation"):
        image_dataset_from_directory(image_dir, interpolation="cubic")
    with pytest.raises(NotImplementedError, match="area"):
        image_dataset_from_directory(image_dir, interpolation="area")
    with pytest.raises(ValueError, match="class_names"):
        image_dataset_from_directory(image_dir, class_names=["wolves"], verbose=False)


def test_fit_evaluate_predict_accept_it(image_dir):
    train, val = image_dataset_from_directory(image_dir, image_size=(8, 8), seed=1, validation_split=0.25,
                                              subset="both", batch_size=4, verbose=False)
    model = kerasish.Sequential([kerasish.Input((8, 8, 3)), kerasish.layers.Rescaling(1 / 255),
                                 kerasish.layers.Flatten(), kerasish.layers.Dense(len(train.class_names))])
    model.compile("adam", kerasish.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    history = model.fit(train, validation_data=val, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2 and "val_accuracy" in history.history
    assert len(model.evaluate(val, verbose=0)) == 2
    assert model.predict(val, verbose=0).shape == (len(val.file_paths), 4)


def test_text_dataset(text_dir):
    ds = text_dataset_from_directory(text_dir, batch_size=4, shuffle=False, max_length=12, verbose=False)
    assert ds.class_names == ["neg", "pos"] and len(ds) == 3
    texts, labels = ds[0]
    assert texts.tolist() == ["neg review n"] * 4 and labels.tolist() == [0, 0, 0, 0]
    train, val = text_dataset_from_directory(text_dir, seed=2, validation_split=0.2, subset="both", verbose=False)
    assert len(train.file_paths) == 8 and len(val.file_paths) == 2
    assert not set(train.file_paths) & set(val.file_paths)
    from keras.src.utils import dataset_utils
    assert train.file_paths + val.file_paths == dataset_utils.index_directory(
        text_dir, "inferred", (".txt",), shuffle=True, seed=2, verbose=False)[0]


def test_get_source_inputs():
    for lib in (kerasish, keras):
        a, b = lib.Input((3,), name="a"), lib.Input((3,), name="b")
        z = lib.layers.Dense(2)(lib.layers.Add()([lib.layers.Dense(3)(b), a]))
        assert [t.name for t in lib.utils.get_source_inputs(z)] == ["b", "a"]
        assert lib.utils.get_source_inputs(a)[0] is a
