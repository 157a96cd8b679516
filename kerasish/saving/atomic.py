"""Atomic file writes: a reader sees the old file or the new one, never a part of either.

The bytes go to a temporary file in the destination's directory (so the rename never crosses a file
system), are flushed and fsynced, and only then replace the destination with `os.replace`. If
anything fails on the way (an exception, a full disk), the temporary file is removed and the
destination is untouched; a process killed mid-write leaves only a hidden `.<name>.*.tmp` file.
Must not: know anything about what the bytes mean.
"""

from __future__ import annotations

import os
import tempfile
from typing import BinaryIO, Callable

_CHUNK = 1 << 24  # 16 MiB per write call


def _write_all(f, data: bytes) -> None:
    """Writes `data` in chunks (a full disk raises OSError from one of these calls)."""
    view = memoryview(data)
    for start in range(0, len(view), _CHUNK):
        f.write(view[start:start + _CHUNK])


def _default_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def atomic_write(path: str | os.PathLike, write: Callable[[BinaryIO], None]) -> None:
    """Replaces the file at `path` with what `write(f)` writes into the binary file object `f`.

    Raises:
        OSError: if the directory does not exist or the write fails; `path` is then unchanged.
        Whatever `write` raises, after removing the temporary file.
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    mode = os.stat(path).st_mode & 0o777 if os.path.exists(path) else _default_mode()
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w+b") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    _fsync_directory(directory)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Replaces the file at `path` with `data` in one step (see `atomic_write`)."""
    atomic_write(path, lambda f: _write_all(f, data))


def _fsync_directory(directory: str) -> None:
    """Makes the rename itself durable (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
