"""CIFAR-100 small colour images, with the API and arrays of `keras.datasets.cifar100`.

Reads the archive Keras caches (`$KERAS_HOME/datasets/cifar-100-python-target_archive`, i.e.
`cifar-100-python.tar.gz`) or its extracted files; see `_cifar.py` and `_keras_cache.py`.
"""

from __future__ import annotations

import numpy as np

from kerasish.datasets import _cifar

__all__ = ["load_data"]

ARCHIVE = _cifar.CifarArchive(
    dataset="cifar100",
    fname="cifar-100-python-target",
    inner="cifar-100-python",
    origin="https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz",
    digest="85cd44d02ba6437773c5bbd22e183051d648de2e7d6b014e1ef29b855ba677a7",
)


def load_data(label_mode: str = "fine", *, download: bool | None = None
              ) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Loads CIFAR-100's 50,000 training and 10,000 test 32x32 colour images, like Keras 3.

    Args:
        label_mode: `"fine"` (100 classes) or `"coarse"` (their 20 superclasses).
        download: kerasish only: fetch the archive into Keras's cache when it is missing
            (default: `KERASISH_DOWNLOAD=1`). Nothing is downloaded otherwise.

    Returns:
        `(x_train, y_train), (x_test, y_test)`: uint8 images of shape (50000, 32, 32, 3) and
        (10000, 32, 32, 3) (channels last); int64 labels of shape (50000, 1) and (10000, 1),
        as Keras returns them.

    Raises:
        ValueError: `label_mode` is neither, or the archive is corrupt.
        FileNotFoundError: the archive is not in the cache (the message says where to put it).

    Example:
        >>> (x_train, y_train), (x_test, y_test) = load_data(label_mode="coarse")
    """
    if label_mode not in ("fine", "coarse"):
        raise ValueError('`label_mode` must be one of `"fine"`, `"coarse"`. '
                         f"Received: label_mode={label_mode}.")
    (x_train, y_train), (x_test, y_test) = _cifar.read_batches(
        ARCHIVE, ("train", "test"), f"{label_mode}_labels", download)
    return ((_cifar.channels_last(x_train), np.reshape(y_train, (len(y_train), 1))),
            (_cifar.channels_last(x_test), np.reshape(y_test, (len(y_test), 1))))
