"""Data sets with the ``keras.datasets`` API, read from local sources only.

``mnist.load_data()`` and ``fashion_mnist.load_data()`` return what Keras
returns, ``((x_train, y_train), (x_test, y_test))`` as uint8 NumPy arrays,
from local IDX/npz files, a prepared tensorflow-datasets copy, or the system
copy (``dataset-fashion-mnist`` on Debian); MNIST falls back to a bundled
5,000-image sample. Nothing here downloads.

``tfds_source``, ``as_arrays`` and ``Batches`` feed ``fit`` from a prepared
tfds data set (or any random-access sequence of examples) without TensorFlow.
"""

from kerasish.datasets import fashion_mnist, mnist
from kerasish.datasets._idx import read_idx, write_idx
from kerasish.datasets._random_access import Batches, as_arrays
from kerasish.datasets._tfds import tfds_source

__all__ = [
    "Batches",
    "as_arrays",
    "fashion_mnist",
    "mnist",
    "read_idx",
    "tfds_source",
    "write_idx",
]
