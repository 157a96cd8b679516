"""Opt-in download of the full data sets into the user's cache (`~/.cache/kerasish/datasets/NAME`).

Off unless `download=True` is passed to `load_data` or `KERASISH_DOWNLOAD=1` is set: kerasish makes
no network connection on its own. Files come from Keras's own mirror (override the base address with
`KERASISH_DATA_URL`), are written atomically (temp file + rename) and checked against their SHA-256
before use, so an interrupted or corrupted download never leaves a file that looks complete.
"""

from __future__ import annotations

import hashlib
import os
import urllib.error
import urllib.request
from pathlib import Path

KERAS_MIRROR = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"

#: file name -> sha256 (Keras's published digest, or None), per data set
FILES = {
    "mnist": {"mnist.npz": "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"},
    # Keras publishes no digests for these; the IDX reader checks their structure instead.
    "fashion_mnist": {f: None for f in ("train-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz",
                                        "t10k-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz")},
}


def wanted(download: bool | None) -> bool:
    if download is not None:
        return bool(download)
    return os.environ.get("KERASISH_DOWNLOAD", "0") not in ("", "0", "false", "False")


def cache_dir(name: str) -> Path:
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache).expanduser() / "kerasish" / "datasets" / name


def fetch(name: str, timeout: float = 30.0) -> Path | None:
    """Downloads `name`'s files into `cache_dir(name)`; returns it, or None if the network fails.

    Raises:
        ValueError: a file arrived but its SHA-256 is not the published one (nothing is kept).
    """
    base = os.environ.get("KERASISH_DATA_URL", KERAS_MIRROR)
    target = cache_dir(name)
    target.mkdir(parents=True, exist_ok=True)
    for file, digest in FILES[name].items():
        final = target / file
        if final.is_file() and (digest is None or _sha256(final) == digest):
            continue
        temp = final.with_suffix(final.suffix + ".part")
        try:
            with urllib.request.urlopen(base.rstrip("/") + "/" + file, timeout=timeout) as response, \
                    open(temp, "wb") as out:
                while chunk := response.read(1 << 20):
                    out.write(chunk)
        except (urllib.error.URLError, OSError, TimeoutError) as error:
            temp.unlink(missing_ok=True)
            print(f"{name}: download of {file} failed ({error}); falling back to local sources")
            return None
        if digest is not None and _sha256(temp) != digest:
            temp.unlink(missing_ok=True)
            raise ValueError(f"{name}: downloaded {file} has the wrong SHA-256 (expected {digest}); "
                             "it was discarded. Check KERASISH_DATA_URL or retry.")
        os.replace(temp, final)
    return target


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()
