"""Opt-in downloads: the one place kerasish opens a network connection for data.

Off unless `download=True` is passed to `load_data` or `KERASISH_DOWNLOAD=1` is set: kerasish makes
no network connection on its own. `download_file` writes atomically (temp file + rename) and checks
the published digest (SHA-256, or MD5 where Keras only publishes that) before the file takes its
final name, so an interrupted or corrupted download never leaves a file that looks complete.

Two callers: `fetch` (MNIST and Fashion-MNIST, into `~/.cache/kerasish/datasets/NAME`, from Keras's
mirror) and `_keras_cache.cached_file` (the other data sets, into Keras's own cache, from the
address Keras uses). `KERASISH_DATA_URL` replaces the base address for both (a local mirror holding
the files under their original names).
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

NETWORK_ERRORS = (urllib.error.URLError, OSError, TimeoutError)


def wanted(download: bool | None) -> bool:
    if download is not None:
        return bool(download)
    return os.environ.get("KERASISH_DOWNLOAD", "0") not in ("", "0", "false", "False")


def cache_dir(name: str) -> Path:
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache).expanduser() / "kerasish" / "datasets" / name


def source_url(url: str) -> str:
    """`url`, or the same file name under `$KERASISH_DATA_URL` when that is set."""
    base = os.environ.get("KERASISH_DATA_URL")
    if not base:
        return url
    return base.rstrip("/") + "/" + url.rstrip("/").rpartition("/")[2]


def download_file(url: str, final: Path, digest: str | None, timeout: float = 30.0) -> Path:
    """Downloads `url` to `final` (through `final.part`) and checks `digest`; returns `final`.

    Raises:
        urllib.error.URLError, OSError, TimeoutError: the network failed (nothing is kept).
        ValueError: the file arrived but its digest is not the published one (nothing is kept).
    """
    final.parent.mkdir(parents=True, exist_ok=True)
    temp = final.with_name(final.name + ".part")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, open(temp, "wb") as out:
            while chunk := response.read(1 << 20):
                out.write(chunk)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    if digest is not None and file_digest(temp, digest) != digest:
        temp.unlink(missing_ok=True)
        raise ValueError(f"downloaded {final.name} from {url} has the wrong {_algorithm(digest)} "
                         f"(expected {digest}); it was discarded. Check KERASISH_DATA_URL or retry.")
    os.replace(temp, final)
    return final


def fetch(name: str, timeout: float = 30.0) -> Path | None:
    """Downloads `name`'s files into `cache_dir(name)`; returns it, or None if the network fails.

    Raises:
        ValueError: a file arrived but its SHA-256 is not the published one (nothing is kept).
    """
    target = cache_dir(name)
    for file, digest in FILES[name].items():
        final = target / file
        if final.is_file() and (digest is None or file_digest(final, digest) == digest):
            continue
        try:
            download_file(source_url(KERAS_MIRROR + file), final, digest, timeout)
        except NETWORK_ERRORS as error:
            print(f"{name}: download of {file} failed ({error}); falling back to local sources")
            return None
        except ValueError as error:
            raise ValueError(f"{name}: {error}") from None
    return target


def file_digest(path: Path, like: str) -> str:
    """The hex digest of `path` in the algorithm of the digest `like` (64 hex digits: SHA-256,
    32: MD5)."""
    h = hashlib.new(_algorithm(like).replace("-", "").lower())
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _algorithm(digest: str) -> str:
    return "SHA-256" if len(digest) == 64 else "MD5"
