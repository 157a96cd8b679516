"""`keras.utils.get_file`: a file from a URL, kept in a cache directory and checked against its hash.

Owns: where cached files live (`$KERAS_HOME` or `~/.keras`, then `cache_subdir`; `/tmp/.keras` when
that is not writable, as in Keras), hash checks (MD5 or SHA-256), atomic downloads (a partial file
is never left under the final name) and tar/zip extraction. A file already in the cache with the
right hash is used without touching the network. Downloads can be forbidden with
`KERASISH_DOWNLOAD=0`; then, and when the network fails, a missing file is a clear error that says
where to put it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import warnings
import zipfile
from pathlib import Path

__all__ = ["get_file", "hash_file", "validate_file"]

_FALSE = ("0", "false", "False", "no")


def _hasher(algorithm: str, file_hash: str | None = None):
    if algorithm == "sha256" or (algorithm == "auto" and file_hash is not None and len(file_hash) == 64):
        return hashlib.sha256()
    if algorithm in ("md5", "auto"):
        return hashlib.md5()
    raise ValueError(f"Expected `hash_algorithm` to be 'md5', 'sha256' or 'auto'. Received: {algorithm!r}")


def hash_file(fpath: str | os.PathLike, algorithm: str = "sha256", chunk_size: int = 65535) -> str:
    """The hex digest of a file (`algorithm`: "sha256", "md5", or "auto", which means sha256 here)."""
    hasher = _hasher(algorithm) if algorithm != "auto" else hashlib.sha256()
    with open(fpath, "rb") as file:
        for chunk in iter(lambda: file.read(chunk_size), b""):
            hasher.update(chunk)
    return hasher.hexdigest()


def validate_file(fpath: str | os.PathLike, file_hash: str, algorithm: str = "auto", chunk_size: int = 65535) -> bool:
    """Whether the file's digest is `file_hash` ("auto": SHA-256 for a 64-character hash, else MD5)."""
    hasher = _hasher(algorithm, file_hash)
    with open(fpath, "rb") as file:
        for chunk in iter(lambda: file.read(chunk_size), b""):
            hasher.update(chunk)
    return hasher.hexdigest() == str(file_hash)


def _cache_root(cache_dir: str | os.PathLike | None) -> Path:
    root = Path(os.path.expanduser(cache_dir if cache_dir is not None else
                                   os.environ.get("KERAS_HOME", os.path.join("~", ".keras"))))
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError:  # not ours to create: fall back below
        pass
    if not os.access(root, os.W_OK):
        root = Path("/tmp" if os.path.isdir("/tmp") else tempfile.gettempdir()) / ".keras"
    return root


def _download(origin: str, target: Path) -> None:
    """`origin` into `target`, through a temporary file renamed once complete."""
    if os.environ.get("KERASISH_DOWNLOAD", "1") in _FALSE:
        raise OSError(f"{target} is not in the cache and downloads are turned off (KERASISH_DOWNLOAD=0). "
                      f"Download {origin} by hand and put it at {target}, or unset KERASISH_DOWNLOAD.")
    partial = target.with_name(target.name + ".part")
    print(f"Downloading data from {origin}")
    try:
        with urllib.request.urlopen(origin, timeout=60) as response, open(partial, "wb") as out:
            shutil.copyfileobj(response, out, 1 << 20)
    except (urllib.error.URLError, OSError) as error:
        partial.unlink(missing_ok=True)
        reason = getattr(error, "reason", None) or error
        raise OSError(f"URL fetch failure on {origin}: {reason}. The file is not in the cache either: download "
                      f"it by hand and put it at {target}.") from error
    os.replace(partial, target)


def _extract(archive: Path, into: Path, archive_format) -> bool:
    formats = ["tar", "zip"] if archive_format == "auto" else [archive_format] if isinstance(archive_format, str) \
        else list(archive_format or [])
    for kind in formats:
        if kind == "tar" and tarfile.is_tarfile(archive):
            with tarfile.open(archive) as tar:
                tar.extractall(into, filter="data")
            return True
        if kind == "zip" and zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as zipped:
                zipped.extractall(into)
            return True
        if kind not in ("tar", "zip"):
            raise ValueError(f"Expected `archive_format` to be 'auto', 'tar', 'zip', None or a list of those. "
                             f"Received: {archive_format!r}")
    return False


def get_file(fname: str | None = None, origin: str | None = None, untar: bool = False, md5_hash: str | None = None,
             file_hash: str | None = None, cache_subdir: str = "datasets", hash_algorithm: str = "auto",
             extract: bool = False, archive_format="auto", cache_dir: str | os.PathLike | None = None,
             force_download: bool = False) -> str:
    """The path of the file at `origin`, downloaded into the cache unless it is there already.

    Args:
        fname: the file's name in the cache (default: the last part of `origin`'s path); no directories.
        origin: the URL.
        untar: deprecated; `extract=True` with `archive_format="tar"`.
        md5_hash: deprecated; `file_hash`.
        file_hash: the expected MD5 or SHA-256 hex digest. A cached file with another hash is downloaded
            again; a download with another hash is an error.
        cache_subdir: the subdirectory of the cache (an absolute path is used as it is).
        hash_algorithm: "md5", "sha256" or "auto" (by the length of `file_hash`).
        extract: extract the archive; the extraction directory is returned.
        archive_format: "auto" (tar, then zip), "tar", "zip", None, or a list of those.
        cache_dir: the cache root; default `$KERAS_HOME` or `~/.keras`.
        force_download: download even if the file is cached.

    Returns:
        The path of the file (or of the extraction directory with `extract`).

    Raises:
        ValueError: without `origin`, with a path as `fname`, or when a downloaded file's hash is wrong.
        OSError: when the file is not cached and cannot be downloaded (no network, or `KERASISH_DOWNLOAD=0`).

    Example:
        >>> path = keras.utils.get_file("data.csv", origin="https://example.org/data.csv", file_hash="ab12...")
    """
    if origin is None:
        raise ValueError('Please specify the "origin" argument (URL of the file to download).')
    if md5_hash is not None and file_hash is None:
        file_hash, hash_algorithm = md5_hash, "md5"
    datadir = _cache_root(cache_dir) / cache_subdir
    datadir.mkdir(parents=True, exist_ok=True)
    provided = os.fspath(fname) if fname is not None else None
    if not provided:
        provided_name = None
        fname = os.path.basename(urllib.parse.urlsplit(origin).path)
        if not fname:
            raise ValueError(f"Can't parse the file name from the origin provided: '{origin}'.Please specify the "
                             "`fname` argument.")
    else:
        provided_name = fname = provided
        if os.sep in fname:
            raise ValueError("Paths are no longer accepted as the `fname` argument. To specify the file's parent "
                             f"directory, use the `cache_dir` argument. Received: fname={fname}")
    extraction_dir = None
    if extract or untar:
        if provided_name and "." in fname:
            target = datadir / fname
            extraction_dir = datadir / f"{fname[: fname.find('.')]}_extracted"
        else:
            target, extraction_dir = datadir / f"{fname}_archive", datadir / fname
    else:
        target = datadir / fname
    download = force_download or not target.exists()
    if not download and file_hash is not None and not validate_file(target, file_hash, hash_algorithm):
        print(f"A local file was found, but it seems to be incomplete or outdated because the {hash_algorithm} file "
              f"hash does not match the original value of {file_hash} so we will re-download the data.")
        download = True
    if download:
        _download(origin, target)
        if file_hash is not None and not validate_file(target, file_hash, hash_algorithm):
            raise ValueError(f"Incomplete or corrupted file detected. The {hash_algorithm} file hash does not match "
                             f"the provided value of {file_hash}.")
    if extraction_dir is None:
        return str(target)
    if download or not extraction_dir.exists():
        if not _extract(target, extraction_dir, "tar" if untar else archive_format):
            warnings.warn("Could not extract archive.", stacklevel=2)
    return str(extraction_dir)
