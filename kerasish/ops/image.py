"""keras.ops image group: Keras 3's image ops over `jax.image`, `jax.scipy.ndimage` and `jax.lax`.

This module owns colour conversions, resizing, padding/cropping, patch extraction and SSIM; the
geometric warps and filters (affine, perspective and elastic transforms, `map_coordinates`,
Gaussian blur, Sobel edges) live in `_image_warp.py`. Images are rank 3 (one image) or rank 4 (a
batch), channels_last unless `data_format` says otherwise; every op returns a JAX array.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from jax import lax

from kerasish.ops._image_warp import (
    affine_transform,
    elastic_transform,
    gaussian_blur,
    gaussian_kernel_1d,
    image_batch_or_image,
    map_coordinates,
    perspective_transform,
    sobel_edges,
)
from kerasish.ops._nn_conv import conv, data_format_of
from kerasish.ops.dtypes import result_type, standardize_dtype

__all__ = [
    "affine_transform", "crop_images", "elastic_transform", "extract_patches", "extract_patches_3d",
    "gaussian_blur", "hsv_to_rgb", "map_coordinates", "pad_images", "perspective_transform",
    "resize", "rgb_to_grayscale", "rgb_to_hsv", "scale_and_translate", "sobel_edges", "ssim",
]

RESIZE_INTERPOLATIONS = ("bilinear", "nearest", "lanczos3", "lanczos5", "bicubic")
SCALE_AND_TRANSLATE_METHODS = ("linear", "bilinear", "trilinear", "cubic", "bicubic", "tricubic",
                               "lanczos3", "lanczos5")


def _float_images(images, data_format):
    images, data_format = image_batch_or_image(images), data_format_of(data_format)
    if not jnp.issubdtype(images.dtype, jnp.floating):
        raise ValueError("Invalid images dtype: expected float dtype. Received: "
                         f"images.dtype={standardize_dtype(images.dtype)}")
    return images, -1 if data_format == "channels_last" else -3


def rgb_to_grayscale(images, data_format: str | None = None) -> jax.Array:
    """Luma `0.2989 R + 0.5870 G + 0.1140 B`, one channel kept; 1-channel images pass through."""
    images = image_batch_or_image(images)
    axis = -1 if data_format_of(data_format) == "channels_last" else -3
    if images.shape[axis] not in (1, 3):
        raise ValueError("Invalid channel size: expected 3 (RGB) or 1 (Grayscale). Received input "
                         f"with shape: images.shape={images.shape}")
    if images.shape[axis] == 1:
        return images
    compute = result_type(images.dtype, float)
    weights = jnp.asarray([0.2989, 0.5870, 0.1140], compute)
    gray = jnp.tensordot(images.astype(compute), weights, axes=(axis, -1))
    return jnp.expand_dims(gray, axis).astype(images.dtype)


def rgb_to_hsv(images, data_format: str | None = None) -> jax.Array:
    """RGB in [0, 1] to hue, saturation, value, each in [0, 1]. Float images only."""
    images, axis = _float_images(images, data_format)
    images = jnp.where(jnp.abs(images) < jnp.finfo(images.dtype).eps, 0.0, images)
    r, g, b = (jnp.squeeze(c, axis) for c in jnp.split(images, 3, axis))
    value = jnp.maximum(jnp.maximum(r, g), b)
    spread = value - jnp.minimum(jnp.minimum(r, g), b)
    saturation = jnp.where(value > 0, spread / jnp.where(value > 0, value, 1.0), 0.0)
    norm = 1.0 / (6.0 * jnp.where(spread > 0, spread, 1.0))
    hue = jnp.where(value == g, norm * (b - r) + 2.0 / 6.0, norm * (r - g) + 4.0 / 6.0)
    hue = jnp.where(value == r, norm * (g - b), hue)
    hue = jnp.where(spread > 0, hue, 0.0) + (hue < 0.0).astype(hue.dtype)
    return jnp.stack([hue, saturation, value], axis=axis)


def hsv_to_rgb(images, data_format: str | None = None) -> jax.Array:
    """Hue, saturation, value in [0, 1] to RGB. Float images only."""
    images, axis = _float_images(images, data_format)
    hue, saturation, value = (jnp.squeeze(c, axis) for c in jnp.split(images, 3, axis))
    sector = jnp.mod(hue, 1.0) * 6.0
    shares = (jnp.clip(jnp.abs(sector - 3.0) - 1.0, 0.0, 1.0),
              jnp.clip(2.0 - jnp.abs(sector - 2.0), 0.0, 1.0),
              jnp.clip(2.0 - jnp.abs(sector - 4.0), 0.0, 1.0))
    return jnp.stack([value * (1.0 - saturation + saturation * s) for s in shares], axis=axis)


def _hw_axes(images: jax.Array, data_format: str) -> tuple[int, int]:
    return (images.ndim - 3, images.ndim - 2) if data_format == "channels_last" else (
        images.ndim - 2, images.ndim - 1)


def _to_aspect(images, data_format, size, crop: bool, fill_value):
    """Centre-crops (or pads with `fill_value`) `images` to the aspect ratio of `size`."""
    h_axis, w_axis = _hw_axes(images, data_format)
    height, width = images.shape[h_axis], images.shape[w_axis]
    target_h, target_w = size
    want_h, want_w = int(width * target_h / target_w), int(height * target_w / target_h)
    if crop:
        crop_h, crop_w = max(min(height, want_h), 1), max(min(width, want_w), 1)
        top, left = int((height - crop_h) / 2), int((width - crop_w) / 2)
        images = lax.slice_in_dim(images, top, top + crop_h, axis=h_axis)
        return lax.slice_in_dim(images, left, left + crop_w, axis=w_axis)
    top, left = int((max(height, want_h) - height) / 2), int((max(width, want_w) - width) / 2)
    pads = [(0, 0)] * images.ndim
    if top > 0:
        pads[h_axis] = (top, top)
    elif left > 0:
        pads[w_axis] = (left, left)
    return jnp.pad(images, pads, constant_values=fill_value)


def resize(images, size, interpolation: str = "bilinear", antialias: bool = False,
           crop_to_aspect_ratio: bool = False, pad_to_aspect_ratio: bool = False,
           fill_mode: str = "constant", fill_value: float = 0.0,
           data_format: str | None = None) -> jax.Array:
    """Resizes images to `size = (height, width)` with `jax.image.resize`.

    `crop_to_aspect_ratio` centre-crops and `pad_to_aspect_ratio` pads (with `fill_value`) to the
    target aspect ratio first. Integer images are rounded and saturated back to their dtype.
    """
    if len(size) != 2:
        raise ValueError(f"Expected `size` to be a tuple of 2 integers. Received: size={size}")
    if size[0] <= 0 or size[1] <= 0:
        raise ValueError(f"`size` must have positive height and width. Received: size={size}")
    if pad_to_aspect_ratio and crop_to_aspect_ratio:
        raise ValueError("Only one of `pad_to_aspect_ratio` & `crop_to_aspect_ratio` can be `True`.")
    if interpolation not in RESIZE_INTERPOLATIONS:
        raise ValueError(f"Invalid value for argument `interpolation`. Expected one of "
                         f"{RESIZE_INTERPOLATIONS}. Received: interpolation={interpolation}")
    if fill_mode != "constant":
        raise ValueError("Invalid value for argument `fill_mode`. Only `'constant'` is supported. "
                         f"Received: fill_mode={fill_mode}")
    images, data_format = image_batch_or_image(images), data_format_of(data_format)
    if crop_to_aspect_ratio or pad_to_aspect_ratio:
        images = _to_aspect(images, data_format, size, crop_to_aspect_ratio, fill_value)
    shape = list(images.shape)
    h_axis, w_axis = _hw_axes(images, data_format)
    shape[h_axis], shape[w_axis] = size
    resized = jax.image.resize(images, shape, method=interpolation, antialias=antialias)
    if resized.dtype == images.dtype:
        return resized
    if jnp.issubdtype(images.dtype, jnp.integer):
        info = jnp.iinfo(images.dtype)
        resized = jnp.clip(jnp.round(resized), info.min, info.max)
    return resized.astype(images.dtype)


def scale_and_translate(images, output_shape, scale, translation, spatial_dims, method: str,
                        antialias: bool = True) -> jax.Array:
    """`jax.image.scale_and_translate` under Keras's argument order."""
    if method not in SCALE_AND_TRANSLATE_METHODS:
        raise ValueError(f"Invalid value for argument `method`. Expected one of "
                         f"{SCALE_AND_TRANSLATE_METHODS}. Received: method={method}")
    return jax.image.scale_and_translate(jnp.asarray(images), output_shape, spatial_dims,
                                         jnp.asarray(scale), jnp.asarray(translation), method,
                                         antialias)


def _edges(names, values):
    """Resolves (before, after, target) for one spatial axis: exactly two must be given."""
    before, after, target = values
    if [before, after, target].count(None) != 1:
        raise ValueError(f"Must specify exactly two of {', '.join(names)}. Received: "
                         + ", ".join(f"{n}={v}" for n, v in zip(names, values)))
    for name, value in zip(names, values):
        if value is not None and value < 0:
            raise ValueError(f"{name} must be >= 0. Received: {name}={value}")
    return before, after, target


def pad_images(images, top_padding=None, left_padding=None, bottom_padding=None,
               right_padding=None, target_height=None, target_width=None,
               data_format: str | None = None) -> jax.Array:
    """Zero-pads images; per axis give two of (before, after, target size)."""
    images, data_format = image_batch_or_image(images), data_format_of(data_format)
    pads = [(0, 0)] * images.ndim
    for axis, names, values in zip(
            _hw_axes(images, data_format),
            (("top_padding", "bottom_padding", "target_height"),
             ("left_padding", "right_padding", "target_width")),
            ((top_padding, bottom_padding, target_height), (left_padding, right_padding, target_width))):
        before, after, target = _edges(names, values)
        before = target - after - images.shape[axis] if before is None else before
        after = target - before - images.shape[axis] if after is None else after
        for name, value in ((names[0], before), (names[1], after)):
            if value < 0:
                raise ValueError(f"{name} must be >= 0. Received: {name}={value}")
        pads[axis] = (before, after)
    return jnp.pad(images, pads)


def crop_images(images, top_cropping=None, left_cropping=None, bottom_cropping=None,
                right_cropping=None, target_height=None, target_width=None,
                data_format: str | None = None) -> jax.Array:
    """Crops images; per axis give two of (cropped before, cropped after, target size)."""
    images, data_format = image_batch_or_image(images), data_format_of(data_format)
    for axis, names, values in zip(
            _hw_axes(images, data_format),
            (("top_cropping", "bottom_cropping", "target_height"),
             ("left_cropping", "right_cropping", "target_width")),
            ((top_cropping, bottom_cropping, target_height),
             (left_cropping, right_cropping, target_width))):
        before, after, target = _edges(names, values)
        size = images.shape[axis]
        before = size - target - after if before is None else before
        target = size - after - before if target is None else target
        for name, value in ((names[0], before), (names[2], target)):
            if value < 0:
                raise ValueError(f"{name} must be >= 0. Received: {name}={value}")
        images = lax.slice_in_dim(images, before, before + target, axis=axis)
    return images


def _patches(images, size, strides, dilation_rate, padding, data_format, n: int) -> jax.Array:
    images, data_format = jnp.asarray(images), data_format_of(data_format)
    window = (size,) * n if isinstance(size, int) else tuple(size)
    strides = window if not strides else ((strides,) * n if isinstance(strides, int) else tuple(strides))
    dilation = (dilation_rate,) * n if isinstance(dilation_rate, int) else tuple(dilation_rate)
    unbatched = images.ndim == n + 1
    if unbatched:
        images = images[None]
    spec = "N" + "DHW"[3 - n:] + "C" if data_format == "channels_last" else "NC" + "DHW"[3 - n:]
    patches = lax.conv_general_dilated_patches(
        images, window, strides, padding.upper(), rhs_dilation=dilation,
        dimension_numbers=(spec, "OI" + "DHW"[3 - n:], spec))
    # lax orders patch features (channel, *window); Keras orders them (*window, channel).
    axis = patches.ndim - 1 if data_format == "channels_last" else 1
    moved = jnp.moveaxis(patches, axis, -1)
    channels = moved.shape[-1] // math.prod(window)
    moved = jnp.swapaxes(moved.reshape(moved.shape[:-1] + (channels, -1)), -1, -2)
    patches = jnp.moveaxis(moved.reshape(moved.shape[:-2] + (-1,)), -1, axis)
    return patches[0] if unbatched else patches


def extract_patches(images, size, strides=None, dilation_rate=1, padding: str = "valid",
                    data_format: str | None = None) -> jax.Array:
    """Patches of `size` (2 ints; 3 ints means volumes) flattened into the channel axis.

    The patch features are ordered (row, column, channel); `strides` default to `size`.
    """
    if not isinstance(size, int):
        if not isinstance(size, (tuple, list)):
            raise TypeError("Invalid `size` argument. Expected an int or a tuple. "
                            f"Received: size={size} of type {type(size).__name__}")
        if len(size) not in (2, 3):
            raise ValueError("Invalid `size` argument. Expected a tuple of length 2 or 3. "
                             f"Received: size={size} with length {len(size)}")
    n = 2 if isinstance(size, int) else len(size)
    return _patches(images, size, strides, dilation_rate, padding, data_format, n)


def extract_patches_3d(volumes, size, strides=None, dilation_rate=1, padding: str = "valid",
                       data_format: str | None = None) -> jax.Array:
    """Patches of `size` (an int or 3 ints) from volumes `(batch, depth, height, width, channels)`."""
    return _patches(volumes, size, strides, dilation_rate, padding, data_format, 3)


def ssim(image1, image2, max_val: float = 1.0, filter_size: int = 11, filter_sigma: float = 1.5,
         k1: float = 0.01, k2: float = 0.03, data_format: str | None = None) -> jax.Array:
    """Structural similarity per image (mean over pixels and channels) with a Gaussian window."""
    image1, image2 = image_batch_or_image(image1, "image1"), image_batch_or_image(image2, "image2")
    original, compute = image1.dtype, result_type(image1.dtype, float)
    x, y = image1.astype(compute), image2.astype(compute)
    unbatched = x.ndim == 3
    if unbatched:
        x, y = x[None], y[None]
    if data_format_of(data_format) == "channels_first":
        x, y = jnp.moveaxis(x, 1, -1), jnp.moveaxis(y, 1, -1)
    batch, height, width, channels = x.shape
    g = gaussian_kernel_1d(filter_size, filter_sigma, compute)
    kernel = jnp.outer(g, g).reshape(filter_size, filter_size, 1, 1)

    def local_mean(v):  # every channel filtered on its own, as a batch of 1-channel images
        planes = jnp.transpose(v, (0, 3, 1, 2)).reshape(-1, height, width, 1)
        return conv(planes, kernel)

    mu_x, mu_y = local_mean(x), local_mean(y)
    var_x = local_mean(x * x) - mu_x * mu_x
    var_y = local_mean(y * y) - mu_y * mu_y
    cov = local_mean(x * y) - mu_x * mu_y
    c1, c2 = (k1 * max_val) ** 2, (k2 * max_val) ** 2
    index = ((2.0 * mu_x * mu_y + c1) * (2.0 * cov + c2)
             / ((mu_x * mu_x + mu_y * mu_y + c1) * (var_x + var_y + c2)))
    per_image = jnp.mean(jnp.mean(index, axis=(1, 2, 3)).reshape(batch, channels), axis=-1)
    return (per_image[0] if unbatched else per_image).astype(original)
