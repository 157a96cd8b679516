"""`keras.utils` image helpers on PIL: `load_img`, `save_img`, `img_to_array`, `array_to_img`.

Arrays are NumPy (height, width, channels) in `keras.backend.image_data_format()` unless
`data_format` says otherwise; images are PIL images, as Keras 3 gives and takes them.

Owns: PIL images <-> NumPy arrays and files. Must not: import the layers or touch JAX.
"""

from __future__ import annotations

import io
import pathlib
import warnings
from typing import Any

import numpy as np

__all__ = ["array_to_img", "img_to_array", "load_img", "save_img"]

_MODES = {4: "RGBA", 3: "RGB"}


def _pil():
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - PIL is a dependency where these helpers are used
        raise ImportError("Could not import PIL.Image. The image utilities of keras.utils require Pillow "
                          "(`pip install pillow`).") from None
    return Image


def _data_format(data_format: str | None) -> str:
    from kerasish import backend  # not at import time: kerasish.backend imports kerasish.utils
    return backend.standardize_data_format(data_format)


def _floatx(dtype) -> str:
    from kerasish import backend
    return dtype or backend.floatx()


def array_to_img(x, data_format: str | None = None, scale: bool = True, dtype=None):
    """A rank-3 array (one image) as a PIL image: 4 channels RGBA, 3 RGB, 1 grayscale (`"L"`, or
    32-bit `"I"` when values exceed 255). With `scale`, values are stretched to 0..255 first.

    Raises:
        ValueError: for an array that is not rank 3, or with another number of channels.
    """
    image = _pil()
    x = np.asarray(x, dtype=_floatx(dtype))
    if x.ndim != 3:
        raise ValueError(f"Expected image array to have rank 3 (single image). Got array with shape: {x.shape}")
    if _data_format(data_format) == "channels_first":
        x = np.moveaxis(x, 0, -1)
    if scale:
        x = x - x.min()
        top = x.max()
        x = (x / top if top != 0 else x) * 255
    channels = x.shape[-1]
    if channels in _MODES:
        return image.fromarray(x.astype("uint8"), _MODES[channels])
    if channels == 1:
        plane = x[..., 0]
        return image.fromarray(plane.astype("int32"), "I") if plane.max() > 255 else \
            image.fromarray(plane.astype("uint8"), "L")
    raise ValueError(f"Unsupported channel number: {channels}")


def img_to_array(img, data_format: str | None = None, dtype=None) -> np.ndarray:
    """A PIL image (or anything NumPy can read) as a rank-3 array; a grayscale image gets a channel axis.

    Raises:
        ValueError: when the image is not rank 2 or 3.
    """
    x = np.asarray(img, dtype=_floatx(dtype))
    channels_first = _data_format(data_format) == "channels_first"
    if x.ndim == 2:
        return x[None] if channels_first else x[..., None]
    if x.ndim == 3:
        return np.moveaxis(x, -1, 0) if channels_first else x
    raise ValueError(f"Unsupported image shape: {x.shape}")


def save_img(path, x, data_format: str | None = None, file_format: str | None = None, scale: bool = True,
             **kwargs) -> None:
    """Writes the array `x` as an image file; the format comes from `file_format` or the file's suffix
    (`jpg` means JPEG, which cannot hold transparency: an RGBA image is converted to RGB, with a warning).
    Extra keyword arguments go to `PIL.Image.save`."""
    if file_format is None and isinstance(path, (str, pathlib.Path)):
        file_format = pathlib.Path(path).suffix[1:].lower()
    if file_format and file_format.lower() == "jpg":
        file_format = "jpeg"
    img = array_to_img(x, data_format=data_format, scale=scale)
    if img.mode == "RGBA" and file_format == "jpeg":
        warnings.warn("The JPEG format does not support RGBA images, converting to RGB.", stacklevel=2)
        img = img.convert("RGB")
    img.save(path, format=file_format, **kwargs)


def _resampling() -> dict[str, Any]:
    resampling = _pil().Resampling
    return {"nearest": resampling.NEAREST, "bilinear": resampling.BILINEAR, "bicubic": resampling.BICUBIC,
            "hamming": resampling.HAMMING, "box": resampling.BOX, "lanczos": resampling.LANCZOS}


def _center_box(size: tuple[int, int], target: tuple[int, int]) -> tuple[int, int, int, int]:
    """The largest centred (left, top, right, bottom) box of `size` (w, h) with `target`'s (w, h) aspect."""
    (width, height), (target_w, target_h) = size, target
    crop_w = min(width, height * target_w // target_h)
    crop_h = min(height, width * target_h // target_w)
    left, top = (width - crop_w) // 2, (height - crop_h) // 2
    return left, top, left + crop_w, top + crop_h


def load_img(path, color_mode: str = "rgb", target_size=None, interpolation: str = "nearest",
             keep_aspect_ratio: bool = False):
    """Reads an image file (a path or an `io.BytesIO`) as a PIL image in `color_mode` ("grayscale",
    "rgb" or "rgba"), resized to `target_size` = (height, width) if given; with `keep_aspect_ratio` the
    centre is cropped to the target's aspect ratio before resizing.

    Raises:
        TypeError: for a `path` that is neither path-like nor `io.BytesIO`.
        ValueError: for an unknown `color_mode` or `interpolation`.
    """
    image = _pil()
    if isinstance(path, io.BytesIO):
        img = image.open(path)
    elif isinstance(path, (str, bytes, pathlib.Path)):
        with open(path, "rb") as f:
            img = image.open(io.BytesIO(f.read()))
    else:
        raise TypeError(f"path should be path-like or io.BytesIO, not {type(path)}")
    wanted = {"grayscale": ("L", ("L", "I;16", "I")), "rgb": ("RGB", ("RGB",)), "rgba": ("RGBA", ("RGBA",))}
    if color_mode not in wanted:
        raise ValueError('color_mode must be "grayscale", "rgb", or "rgba"')
    mode, kept = wanted[color_mode]
    if img.mode not in kept:
        img = img.convert(mode)
    if target_size is None:
        return img
    size = (target_size[1], target_size[0])
    if img.size == size:
        return img
    methods = _resampling()
    if interpolation not in methods:
        raise ValueError(f"Invalid interpolation method {interpolation} specified. Supported methods are "
                         f"{', '.join(methods)}")
    if keep_aspect_ratio:
        img = img.crop(_center_box(img.size, size))
    return img.resize(size, methods[interpolation])
