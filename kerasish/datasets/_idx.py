"""Read and write IDX files, the format MNIST and Fashion-MNIST ship in.

This module owns the byte format only: a 4-byte magic number
(``0x00 0x00 <dtype code> <number of dims>``), one big-endian uint32 per
dimension, then the values in C order. Files may be gzip-compressed (detected
from the content, not the name). It knows nothing about which data set a file
belongs to or where files live; see ``_local.py`` for that.

Every malformed input raises ``ValueError`` naming the file and what is wrong,
so a truncated download never turns into silently wrong arrays.
"""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path

import numpy as np

# IDX type code -> big-endian NumPy dtype (from the format's definition on
# http://yann.lecun.com/exdb/mnist/).
_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODES = {dtype.newbyteorder("="): code for code, dtype in _DTYPES.items()}
_GZIP_MAGIC = b"\x1f\x8b"
_WHAT = {1: "label data", 3: "image data"}


def read_idx(path: str | os.PathLike, ndim: int | None = None) -> np.ndarray:
    """Reads one IDX file (raw or gzip-compressed) into a NumPy array.

    Args:
        path: the file, e.g. ``train-images-idx3-ubyte.gz``.
        ndim: the number of dimensions the caller expects (3 for images,
            1 for labels), or None to accept any.

    Returns:
        An array with the file's shape and native-endian dtype
        (uint8 for MNIST), backed by its own memory.

    Raises:
        ValueError: the file is not valid gzip, its magic number or
            dimensions are wrong, or it holds more or fewer bytes than its
            header promises. The message names the file.

    Example:
        >>> labels = read_idx("train-labels-idx1-ubyte.gz", ndim=1)
    """
    path = Path(path)
    data = _read_bytes(path)
    if len(data) < 4:
        raise ValueError(
            f"{path}: too short for an IDX header; expected at least 4 bytes, found {len(data)}."
        )
    zero, code, file_ndim = int.from_bytes(data[:2], "big"), data[2], data[3]
    if zero != 0 or code not in _DTYPES or file_ndim == 0:
        raise ValueError(
            f"{path}: not an IDX file; magic number is 0x{data[:4].hex()}, expected "
            "0x0000TTNN (TT = type code 08 for uint8, NN = number of dimensions)."
        )
    if ndim is not None and file_ndim != ndim:
        raise ValueError(
            f"{path}: expected a {ndim}-D IDX file (magic 0x000008{ndim:02x}), found "
            f"{file_ndim}-D (magic 0x{data[:4].hex()}). Are the image and label files swapped?"
        )
    header = 4 + 4 * file_ndim
    if len(data) < header:
        raise ValueError(
            f"{path}: truncated header; expected {header} bytes for {file_ndim} dimensions, "
            f"found {len(data)}."
        )
    shape = tuple(
        int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(file_ndim)
    )
    dtype = _DTYPES[code]
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) != expected:
        what = _WHAT.get(file_ndim, "data")
        dims = "x".join(str(d) for d in shape)
        raise ValueError(
            f"{path}: expected {expected} bytes of {what} ({header}-byte header + {dims} "
            f"{dtype.newbyteorder('=').name} values), found {len(data)}. "
            "The file is truncated or corrupt; delete it and copy it again."
        )
    array = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    return array.astype(dtype.newbyteorder("="))


def write_idx(path: str | os.PathLike, array: np.ndarray) -> Path:
    """Writes an array as an IDX file, gzip-compressed when ``path`` ends in ``.gz``.

    Args:
        path: destination file.
        array: an array of dtype uint8, int8, int16, int32, float32 or float64
            with at least one dimension.

    Returns:
        ``path`` as a ``Path``.

    Raises:
        ValueError: the dtype or rank cannot be stored in IDX.

    Example:
        >>> write_idx("t10k-labels-idx1-ubyte", np.arange(10, dtype=np.uint8))
    """
    array = np.asarray(array)
    code = _CODES.get(array.dtype.newbyteorder("="))
    if code is None:
        raise ValueError(
            f"IDX cannot store dtype {array.dtype}; expected one of "
            f"{sorted(d.name for d in _CODES)}."
        )
    if not 1 <= array.ndim <= 255:
        raise ValueError(f"IDX needs 1 to 255 dimensions; received shape {array.shape}.")
    header = bytes([0, 0, code, array.ndim]) + b"".join(
        int(d).to_bytes(4, "big") for d in array.shape
    )
    payload = header + np.ascontiguousarray(array, dtype=_DTYPES[code]).tobytes()
    path = Path(path)
    if path.suffix == ".gz":
        payload = gzip.compress(payload, mtime=0)
    path.write_bytes(payload)
    return path


def _read_bytes(path: Path) -> bytes:
    raw = path.read_bytes()
    if not raw.startswith(_GZIP_MAGIC):
        if path.suffix == ".gz":
            raise ValueError(
                f"{path}: named .gz but is not gzip-compressed (starts with 0x{raw[:4].hex()})."
            )
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as error:
        raise ValueError(
            f"{path}: corrupt or truncated gzip data ({error}). Delete it and copy it again."
        ) from error
