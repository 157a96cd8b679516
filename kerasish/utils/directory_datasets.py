"""`image_dataset_from_directory` and `text_dataset_from_directory` without TensorFlow.

Keras 3 returns a `tf.data.Dataset`; these return a `DirectoryDataset`, a kerasish `PyDataset` of
`(x, y)` batches (`x` alone with `label_mode=None`) that `fit` / `evaluate` / `predict` read, with
Keras's `class_names` and `file_paths` attributes. Files are found, labelled, shuffled and split as
Keras does (classes in alphanumeric order of the subdirectories, files in sorted `os.walk` order, one
seeded shuffle of the file list, the last `validation_split` of it for validation); images are read
with PIL and resized with `keras.ops.image.resize`, as Keras's `format="grain"` path does. When
`shuffle` is set (and not for the validation half of `subset="both"`), batches also follow a fresh
seeded permutation every epoch, as Keras's `dataset.shuffle` reshuffles each iteration.
"""

from __future__ import annotations

import math
import os
from typing import Any, Callable

import numpy as np

from kerasish.utils.py_dataset import PyDataset

__all__ = ["DirectoryDataset", "image_dataset_from_directory", "text_dataset_from_directory"]

IMAGE_FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
TEXT_FORMATS = (".txt",)
_INTERPOLATIONS = ("bilinear", "nearest", "bicubic", "area", "lanczos3", "lanczos5", "gaussian", "mitchellcubic")


# ----------------------------------------------------------------------------- finding the files
def _files_under(directory: str, follow_links: bool, formats: tuple[str, ...]) -> list[str]:
    """Paths relative to `directory` of the files with an allowed extension, in sorted walk order."""
    found = []
    for root, _, files in sorted(os.walk(directory, followlinks=follow_links), key=lambda entry: entry[0]):
        found += [os.path.relpath(os.path.join(root, name), directory) for name in sorted(files)
                  if name.lower().endswith(formats)]
    return found


def index_directory(directory: str, labels, formats: tuple[str, ...], class_names=None, shuffle: bool = True,
                    seed: int | None = None, follow_links: bool = False, verbose: bool = True):
    """`(file_paths, labels, class_names)` as Keras indexes a directory (see the module docstring).

    Raises:
        ValueError: `class_names` is not a subset of the subdirectories, or is given with explicit
            labels; the number of explicit labels differs from the number of files.
    """
    if labels == "inferred":
        subdirs = [name for name in sorted(os.listdir(directory))
                   if os.path.isdir(os.path.join(directory, name)) and not name.startswith(".")]
        if class_names is not None:
            if not set(class_names).issubset(subdirs):
                raise ValueError("The `class_names` passed did not match the names of the subdirectories of the "
                                 f"target directory. Expected: {subdirs} (or a subset of it), but received: "
                                 f"class_names={class_names}")
            subdirs = list(class_names)
    else:
        if class_names is not None:
            raise ValueError("When `labels=None` (no labels), argument `class_names` cannot be specified."
                             if labels is None else
                             "When argument `labels` is specified, argument `class_names` cannot be specified "
                             "(the `class_names` will be the sorted list of labels).")
        subdirs = [""]
    filenames, inferred = [], []
    for index, subdir in enumerate(subdirs):
        found = _files_under(os.path.join(directory, subdir), follow_links, formats)
        filenames += [os.path.join(subdir, name) for name in found]
        inferred += [index] * len(found)
    class_names = list(subdirs)
    if labels == "inferred":
        labels = np.asarray(inferred, np.int32)
    elif labels is None:
        class_names = None
    else:
        if len(labels) != len(filenames):
            raise ValueError("Expected the lengths of `labels` to match the number of files in the target directory. "
                             f"len(labels) is {len(labels)} while we found {len(filenames)} files in directory "
                             f"{directory}.")
        labels = list(labels)
        class_names = [str(label) for label in sorted(set(labels))]
    if verbose:
        print(f"Found {len(filenames)} files." if labels is None else
              f"Found {len(filenames)} files belonging to {len(class_names)} classes.")
    file_paths = [os.path.join(directory, name) for name in filenames]
    if shuffle:
        if seed is None:
            seed = np.random.randint(1e6)
        np.random.RandomState(seed).shuffle(file_paths)
        if labels is not None:
            np.random.RandomState(seed).shuffle(labels)
    return file_paths, labels, class_names


def _check_split(validation_split, subset, shuffle, seed) -> None:
    if validation_split and not 0 < validation_split < 1:
        raise ValueError(f"`validation_split` must be between 0 and 1, received: {validation_split}")
    if (validation_split or subset) and not (validation_split and subset):
        raise ValueError("If `subset` is set, `validation_split` must be set, and inversely.")
    if subset not in ("training", "validation", "both", None):
        raise ValueError(f'`subset` must be either "training", "validation" or "both", received: {subset}')
    if validation_split and shuffle and seed is None:
        raise ValueError("If using `validation_split` and shuffling the data, you must provide a `seed` argument, "
                         "to make sure that there is no overlap between the training and validation subset.")


def _split(paths, labels, validation_split, subset):
    """The training (all but the last `int(validation_split * n)`) or validation part."""
    if not validation_split:
        return paths, labels
    n_val = int(validation_split * len(paths))
    if subset == "training":
        print(f"Using {len(paths) - n_val} files for training.")
        part = slice(None, -n_val)
    else:
        print(f"Using {n_val} files for validation.")
        part = slice(-n_val, None)
    return paths[part], None if labels is None else labels[part]


def _check_labels_args(labels, label_mode, class_names) -> None:
    if labels not in ("inferred", None):
        if not isinstance(labels, (list, tuple)):
            raise ValueError("`labels` argument should be a list/tuple of integer labels, of the same size as the "
                             "number of files in the target directory. If you wish to infer the labels from the "
                             'subdirectory names in the target directory, pass `labels="inferred"`. If you wish to '
                             f"get a dataset that only contains the inputs (no labels), pass `labels=None`. "
                             f"Received: labels={labels}")
        if class_names:
            raise ValueError(f'You can only pass `class_names` if `labels="inferred"`. Received: labels={labels}, '
                             f"and class_names={class_names}")
    if label_mode not in {"int", "categorical", "binary", None}:
        raise ValueError('`label_mode` argument must be one of "int", "categorical", "binary", or None. '
                         f"Received: label_mode={label_mode}")


def _check_format(format) -> None:
    if format not in ("tf", "grain"):
        raise ValueError(f'`format` should be either "tf" or "grain". Received: format={format}')


# ----------------------------------------------------------------------------- the data set
def _encode_labels(labels, label_mode: str | None, num_classes: int):
    if label_mode is None:
        return None
    labels = np.asarray(labels)
    if label_mode == "binary":
        return labels.astype(np.float32)[:, None]
    if label_mode == "categorical":
        return np.eye(num_classes, dtype=np.float32)[labels.astype(np.int64)]
    return labels.astype(np.int32)


class DirectoryDataset(PyDataset):
    """Batches of files read by `load(path)`, with their encoded labels.

    Attributes:
        class_names: the class names (None without labels), index i for label i.
        file_paths: the files, in the order of the index (before the per-epoch shuffle).
    """

    def __init__(self, file_paths: list[str], labels, load: Callable[[str], Any], stack: Callable[[list], Any],
                 batch_size: int | None, class_names, shuffle: bool, seed: int | None):
        super().__init__()
        self.file_paths = list(file_paths)
        self.class_names = class_names
        self.labels = labels
        self.batch_size = batch_size
        self._load, self._stack = load, stack
        self._rng = np.random.RandomState(seed) if shuffle else None
        self._order = self._rng.permutation(len(self.file_paths)) if shuffle else np.arange(len(self.file_paths))

    def __len__(self) -> int:
        if self.batch_size is None:
            return len(self.file_paths)
        return math.ceil(len(self.file_paths) / self.batch_size)

    def __getitem__(self, index: int):
        if not 0 <= index < len(self):
            raise IndexError(f"Batch index {index} is out of range for {len(self)} batches.")
        if self.batch_size is None:  # Keras's batch_size=None: single samples
            rows = self._order[index:index + 1]
            x = self._load(self.file_paths[rows[0]])
            return x if self.labels is None else (x, self.labels[rows[0]])
        rows = self._order[index * self.batch_size:(index + 1) * self.batch_size]
        x = self._stack([self._load(self.file_paths[i]) for i in rows])
        return x if self.labels is None else (x, self.labels[rows])

    def on_epoch_end(self) -> None:
        if self._rng is not None:
            self._order = self._rng.permutation(len(self.file_paths))

    def __repr__(self) -> str:
        return (f"<DirectoryDataset of {len(self.file_paths)} files in {len(self)} batches, "
                f"class_names={self.class_names}>")


def _build(directory, labels, label_mode, class_names, formats, batch_size, shuffle, seed, validation_split, subset,
           follow_links, verbose, load, stack, kind):
    if seed is None:
        seed = np.random.randint(1e6)
    paths, labels, class_names = index_directory(directory, labels, formats, class_names=class_names,
                                                 shuffle=shuffle, seed=seed, follow_links=follow_links,
                                                 verbose=verbose)
    if label_mode == "binary" and len(class_names) != 2:
        raise ValueError(f'When passing `label_mode="binary"`, there must be exactly 2 class_names. '
                         f"Received: class_names={class_names}")
    num_classes = len(class_names) if class_names else 0
    labels = labels if label_mode else None

    def make(part_paths, part_labels, reshuffle):
        return DirectoryDataset(part_paths, _encode_labels(part_labels, label_mode, num_classes), load, stack,
                                batch_size, class_names, reshuffle, seed)

    if subset == "both":
        train = _split(paths, labels, validation_split, "training")
        val = _split(paths, labels, validation_split, "validation")
        for part, name in ((train, "training"), (val, "validation")):
            if not part[0]:
                raise ValueError(f"No {name} {kind} found in directory {directory}. Allowed formats: {formats}")
        return [make(*train, shuffle), make(*val, False)]
    paths, labels = _split(paths, labels, validation_split, subset)
    if not paths:
        raise ValueError(f"No {kind} found in directory {directory}. Allowed formats: {formats}")
    return make(paths, labels, shuffle)


# ----------------------------------------------------------------------------- images
def _read_image(path: str, num_channels: int) -> np.ndarray:
    try:
        from PIL import Image
    except ImportError:
        raise ImportError("`image_dataset_from_directory` reads images with Pillow, which is not installed: "
                          "`pip install pillow`.") from None
    with open(path, "rb") as f:
        img = Image.open(f)
        img.load()
    wanted = {1: ("L", ("L", "I;16", "I")), 3: ("RGB", ("RGB",)), 4: ("RGBA", ("RGBA",))}[num_channels]
    if img.mode not in wanted[1]:
        img = img.convert(wanted[0])
    array = np.asarray(img, dtype=np.float32)
    return array[..., None] if array.ndim == 2 else array


def image_dataset_from_directory(directory, labels="inferred", label_mode="int", class_names=None, color_mode="rgb",
                                 batch_size=32, image_size=(256, 256), shuffle=True, seed=None, validation_split=None,
                                 subset=None, interpolation="bilinear", follow_links=False, crop_to_aspect_ratio=False,
                                 pad_to_aspect_ratio=False, data_format=None, format="tf", verbose=True):
    """A `DirectoryDataset` of `(images, labels)` batches from `directory/<class>/<image files>`.

    Images (.bmp, .gif, .jpeg, .jpg, .png) are float32 in [0, 255], shaped `(batch, height, width,
    channels)` (channels first with `data_format="channels_first"`). Labels: int32 `(batch,)` for
    "int", float32 one-hot for "categorical", float32 `(batch, 1)` for "binary" (exactly 2 classes).
    `subset="both"` returns `[training, validation]`. `format` ("tf" or "grain") is checked and
    otherwise has no effect: both give this `PyDataset`.

    Raises:
        ImportError: Pillow is not installed.
        ValueError: on Keras's invalid arguments (the message names the argument and the value).
    """
    from kerasish import backend
    from kerasish.ops import image as image_ops
    _check_labels_args(labels, label_mode, class_names)
    if labels is None or label_mode is None:
        labels, label_mode = None, None
    channels = {"rgb": 3, "rgba": 4, "grayscale": 1}.get(color_mode)
    if channels is None:
        raise ValueError(f'`color_mode` must be one of {{"rgb", "rgba", "grayscale"}}. Received: color_mode={color_mode}')
    if isinstance(image_size, int):
        image_size = (image_size, image_size)
    elif not isinstance(image_size, (list, tuple)) or len(image_size) != 2:
        raise ValueError(f"Invalid `image_size` value. Expected a tuple of 2 integers. Received: image_size={image_size}")
    interpolation = interpolation.lower()
    if interpolation not in _INTERPOLATIONS:
        raise ValueError(f"Argument `interpolation` should be one of {_INTERPOLATIONS}. "
                         f"Received: interpolation={interpolation}")
    if interpolation not in image_ops.RESIZE_INTERPOLATIONS:
        raise NotImplementedError(f"kerasish resizes with jax.image.resize, which has no {interpolation!r} "
                                  f"interpolation; use one of {image_ops.RESIZE_INTERPOLATIONS}. "
                                  f"Received: interpolation={interpolation}")
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError("Only one of `pad_to_aspect_ratio`, `crop_to_aspect_ratio` can be set to `True`.")
    _check_format(format)
    _check_split(validation_split, subset, shuffle, seed)
    data_format = backend.standardize_data_format(data_format)
    size = tuple(int(s) for s in image_size)

    def load(path):
        img = _read_image(path, channels)
        if data_format == "channels_first":
            img = img.transpose(2, 0, 1)
        return np.asarray(image_ops.resize(img, size, interpolation=interpolation,
                                           crop_to_aspect_ratio=crop_to_aspect_ratio,
                                           pad_to_aspect_ratio=pad_to_aspect_ratio, data_format=data_format))

    return _build(directory, labels, label_mode, class_names, IMAGE_FORMATS, batch_size, shuffle, seed,
                  validation_split, subset, follow_links, verbose, load, np.stack, "images")


# ----------------------------------------------------------------------------- texts
def text_dataset_from_directory(directory, labels="inferred", label_mode="int", class_names=None, batch_size=32,
                                max_length=None, shuffle=True, seed=None, validation_split=None, subset=None,
                                follow_links=False, format="tf", verbose=True):
    """A `DirectoryDataset` of `(texts, labels)` batches from `directory/<class>/<.txt files>`.

    `texts` is a NumPy array of Python strings (Keras: a `tf.string` tensor), each cut to
    `max_length` characters if given; labels as in `image_dataset_from_directory`. `subset="both"`
    returns `[training, validation]`.

    Raises:
        ValueError: on Keras's invalid arguments.
    """
    _check_labels_args(labels, label_mode, class_names)
    if labels is None or label_mode is None:
        labels, label_mode = None, None
    _check_format(format)
    _check_split(validation_split, subset, shuffle, seed)

    def load(path):
        with open(path, "r") as f:
            text = f.read()
        return text if max_length is None else text[:max_length]

    def stack(texts):
        out = np.empty(len(texts), dtype=object)
        out[:] = texts
        return out

    return _build(directory, labels, label_mode, class_names, TEXT_FORMATS, batch_size, shuffle, seed,
                  validation_split, subset, follow_links, verbose, load, stack, "text files")
