"""Data sets with the ``keras.datasets`` API, read from local sources only.

``cifar10``, ``cifar100``, ``imdb``, ``reuters``, ``boston_housing`` and
``california_housing`` read the files Keras 3 caches (``$KERAS_HOME/datasets``,
default ``~/.keras/datasets``) and return the same arrays as Keras; a missing
file raises ``FileNotFoundError`` saying where to put it and where to get it,
unless downloading was asked for (``download=True`` or ``KERASISH_DOWNLOAD=1``).

``mnist.load_data()`` and ``fashion_mnist.load_data()`` return what Keras
returns, ``((x_train, y_train), (x_test, y_test))`` as uint8 NumPy arrays,
from local IDX/npz files, a prepared tensorflow-datasets copy, or the system
copy (``dataset-fashion-mnist`` on Debian); MNIST falls back to a bundled
5,000-image sample. Nothing here downloads unless asked to.

``tfds_source``, ``as_arrays`` and ``Batches`` feed ``fit`` from a prepared
tfds data set (or any random-access sequence of examples) without TensorFlow.
"""

from kerasish.datasets import (boston_housing, california_housing, cifar10, cifar100,
                               fashion_mnist, imdb, mnist, reuters)
from kerasish.datasets._idx import read_idx, write_idx
from kerasish.datasets._random_access import Batches, as_arrays
from kerasish.datasets._tfds import tfds_source

__all__ = [
    "Batches",
    "as_arrays",
    "boston_housing",
    "california_housing",
    "cifar10",
    "cifar100",
    "fashion_mnist",
    "imdb",
    "mnist",
    "reuters",
    "read_idx",
    "tfds_source",
    "write_idx",
]
