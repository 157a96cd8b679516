"""CIFAR-10 small colour images, with the API and arrays of `keras.datasets.cifar10`.

Reads the archive Keras caches (`$KERAS_HOME/datasets/cifar-10-batches-py-target_archive`, i.e.
`cifar-10-python.tar.gz`) or its extracted batches; see `_cifar.py` and `_keras_cache.py`.
"""

from __future__ import annotations

import numpy as np

from kerasish.datasets import _cifar

__all__ = ["load_data"]

ARCHIVE = _cifar.CifarArchive(
    dataset="cifar10",
    fname="cifar-10-batches-py-target",
    inner="cifar-10-batches-py",
    origin="https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
    digest="6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",
)
TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))

#: the label names, in label order
CLASS_NAMES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
               "truck")


def load_data(*, download: bool | None = None
              ) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Loads CIFAR-10's 50,000 training and 10,000 test 32x32 colour images, like Keras 3.

    Labels 0..9 name the classes in `CLASS_NAMES` (airplane, automobile, bird, cat, deer, dog,
    frog, horse, ship, truck).

    Args:
        download: kerasish only: fetch the archive into Keras's cache when it is missing
            (default: `KERASISH_DOWNLOAD=1`). Nothing is downloaded otherwise.

    Returns:
        `(x_train, y_train), (x_test, y_test)`: uint8 images of shape (50000, 32, 32, 3) and
        (10000, 32, 32, 3) (channels last), uint8 labels of shape (50000, 1) and (10000, 1).

    Raises:
        FileNotFoundError: the archive is not in the cache (the message says where to put it).
        ValueError: the archive or a batch in it is corrupt.

    Example:
        >>> (x_train, y_train), (x_test, y_test) = load_data()
        >>> x_train.shape, y_train.shape
        ((50000, 32, 32, 3), (50000, 1))
    """
    batches = _cifar.read_batches(ARCHIVE, (*TRAIN_BATCHES, "test_batch"), "labels", download)
    images = [np.asarray(x, dtype=np.uint8) for x, _ in batches]
    labels = [np.asarray(y).astype(np.uint8).reshape(-1, 1) for _, y in batches]
    x_train, y_train = np.concatenate(images[:-1]), np.concatenate(labels[:-1])
    return (_cifar.channels_last(x_train), y_train), (_cifar.channels_last(images[-1]), labels[-1])
