"""Fashion-MNIST, with the return value of ``keras.datasets.fashion_mnist.load_data``,
read from local sources only (see ``_loader.py`` for the order). On Debian
and Ubuntu, ``apt-get install dataset-fashion-mnist`` provides the full set.
"""

from __future__ import annotations

import os
from pathlib import Path

from kerasish.datasets._loader import ImageDataSpec, load
from kerasish.datasets._local import Arrays

SPEC = ImageDataSpec(
    name="fashion_mnist",
    tfds_name="fashion_mnist",
    subdirs=("fashion-mnist", "fashion_mnist", "FashionMNIST/raw"),
    npz_names=("fashion_mnist.npz", "fashion-mnist.npz"),
    system_dirs=(Path("/usr/share/datasets/fashion-mnist"),),
    how_to_get=(
        "Install it with `apt-get install dataset-fashion-mnist` (Debian/Ubuntu), or copy "
        "the four IDX files (train-images-idx3-ubyte.gz ...) from "
        "https://github.com/zalandoresearch/fashion-mnist into $KERASISH_DATA or "
        "~/.keras/datasets/fashion-mnist."
    ),
)


def load_data(*, data_dir: str | os.PathLike | None = None, verbose: bool = True,
              download: bool | None = None) -> Arrays:
    """Loads Fashion-MNIST as ``((x_train, y_train), (x_test, y_test))``, like Keras.

    With ``download=True`` (or ``KERASISH_DOWNLOAD=1``) the full data set is fetched from Keras's
    mirror into ``~/.cache/kerasish/datasets`` when no local copy exists; nothing is downloaded
    otherwise. Sources, each tried only when the previous ones have nothing:

    1. the four IDX files (``train-images-idx3-ubyte[.gz]`` ...) or a
       ``fashion_mnist.npz`` (Keras npz keys) in ``data_dir``, or, without it,
       in ``$KERASISH_DATA``, ``~/.keras/datasets`` and
       ``~/.cache/kerasish/datasets``, directly or in ``fashion-mnist/``
       (where Keras caches it);
    2. a copy tensorflow-datasets already prepared (array_record format);
    3. ``/usr/share/datasets/fashion-mnist``, installed by Debian's
       ``dataset-fashion-mnist`` package.

    Nothing is downloaded. One line on stdout names the source used.

    Args:
        data_dir: a directory to read instead of the default search path.
        verbose: print the line naming the source.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: uint8 images of shape
        (60000, 28, 28) and (10000, 28, 28), uint8 labels in 0..9.

    Raises:
        FileNotFoundError: no source has the data set (the message says how
            to get it), or ``data_dir`` lacks it.
        ValueError: a file found is corrupt or truncated (the message names it).

    Example:
        >>> (x_train, y_train), (x_test, y_test) = load_data()

    License: Zalando SE holds the copyright of Fashion-MNIST, available
    under the MIT license.
    """
    return load(SPEC, data_dir=data_dir, verbose=verbose, download=download)
