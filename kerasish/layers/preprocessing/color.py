"""Colour augmentations: RandomGrayscale, RandomInvert, Solarization, AutoContrast, Equalization,
RandomColorDegeneration, RandomSaturation, RandomHue, RandomSharpness, RandomPosterization.

Each random layer draws from its `generator` as Keras 3 does (same calls, shapes, order and
argument readings, Keras's quirks included: e.g. Solarization's addition range starts at
`addition_factor[0]`, not times 255), so an int `seed` reproduces Keras's images on the JAX
backend. Colour spaces come from `kerasish.ops.image`. Images are rank 3 or 4; `value_range` is the
range the pixel values live in.
"""

from __future__ import annotations

import jax.numpy as jnp

from kerasish import backend, random
from kerasish.layers.preprocessing._image_base import ImageLayer, RandomImageLayer, factor_pair, images_of
from kerasish.ops import image as image_ops
from kerasish.ops import nn as nn_ops

_FACTOR_MESSAGE = "The `factor` argument should be a number (or a list of two numbers) in the range [{}, {}]. "


def _factor(factor, bounds):
    return factor_pair(factor, bounds, _FACTOR_MESSAGE.format(*bounds))


def _value_range(value_range) -> list:
    if not isinstance(value_range, (tuple, list)) or len(value_range) != 2:
        raise ValueError("The `value_range` argument should be a list of two numbers. "
                         f"Received: value_range={value_range}")
    return sorted(value_range)


def rescale(images, source, target, dtype):
    """Pixel values mapped linearly from the range `source` to `target` (unchanged when they agree)."""
    if source[0] == target[0] and source[1] == target[1]:
        return images
    images = (images.astype(dtype) - source[0]) / (source[1] - source[0])
    return images * (target[1] - target[0]) + target[0]


def _per_image(values, images):
    """`(batch,)` values shaped to broadcast over `images` (one image: its single value)."""
    values = jnp.reshape(values, (-1, 1, 1, 1))
    return values[0] if images.ndim == 3 else values


class _FactorColor(RandomImageLayer):
    """A random colour layer with Keras's `factor` (within `_bounds`) and `value_range` arguments."""
    cast_inputs = False  # Keras casts (where it does) inside the augmentation
    _bounds = (-1, 1)
    _sort_range = True  # RandomHue keeps `value_range` as given, the others sort it (as Keras)

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = _factor(factor, self._bounds)
        self.value_range = _value_range(value_range) if self._sort_range else value_range

    def get_config(self):
        return self.config(factor=self.factor, value_range=self.value_range, seed=self.seed)


class RandomGrayscale(RandomImageLayer):
    """In training, turns each image to grayscale (kept as 3 channels) with probability `factor`."""
    cast_inputs = False

    def __init__(self, factor=0.5, data_format=None, seed=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        if factor < 0 or factor > 1:
            raise ValueError(f"`factor` should be between 0 and 1. Received: factor={factor}")
        self.factor = factor

    def augment(self, images, batch):
        apply = random.uniform((batch,), 0, 1, seed=self.generator) < self.factor
        gray = image_ops.rgb_to_grayscale(images, data_format=self.data_format)
        return jnp.where(_per_image(apply, images), gray, images)

    def get_config(self):
        return self.config(factor=self.factor)  # Keras writes no `seed` for this layer


class RandomInvert(RandomImageLayer):
    """In training, inverts each image (`value_range[1] - x`) with a probability drawn from `factor`."""
    cast_inputs = False

    def __init__(self, factor=1.0, value_range=(0, 255), seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = _factor(factor, (0, 1))
        self.value_range = value_range

    def augment(self, images, batch):
        images = images.astype(self.compute_dtype)
        probability = random.uniform((batch,), self.factor[0], self.factor[1], seed=self.generator)
        apply = random.uniform((batch,), 0, 1, seed=self.generator) < probability
        return jnp.where(_per_image(apply, images), self.value_range[1] - images, images)

    def get_config(self):
        return self.config(factor=self.factor, value_range=self.value_range, seed=self.seed)


class Solarization(RandomImageLayer):
    """In training, adds a random amount to each image (in 0..255 units) and inverts the pixels at or
    above a random threshold."""
    _MESSAGE = ("The `addition_factor` and `threshold_factor` arguments should be a number (or a list of two "
                "numbers) in the range [0, 1]. ")

    def __init__(self, addition_factor=0.0, threshold_factor=0.0, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.addition_factor = self._unit_pair(addition_factor, "addition_factor")
        self.threshold_factor = self._unit_pair(threshold_factor, "threshold_factor")
        self.value_range = _value_range(value_range)

    def _unit_pair(self, factor, name):
        values = factor if isinstance(factor, (tuple, list)) else [factor]
        if (isinstance(factor, (tuple, list)) and len(factor) != 2) or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            raise ValueError(self._MESSAGE + f"Received: {name}={factor}")
        for v in values:
            if v > 1.0 or v < 0:
                raise ValueError(self._MESSAGE + f"Received: input_number={v}")
        return tuple(sorted(factor)) if isinstance(factor, (tuple, list)) else (0, factor)

    def augment(self, images, batch):
        shape = (1, 1, 1) if images.ndim == 3 else (images.shape[0], 1, 1, 1)
        additions = random.uniform(shape, self.addition_factor[0], self.addition_factor[1] * 255,
                                   dtype=self.compute_dtype, seed=self.generator)
        thresholds = random.uniform(shape, self.threshold_factor[0], self.threshold_factor[1] * 255,
                                    dtype=self.compute_dtype, seed=self.generator)
        results = jnp.clip(rescale(images, self.value_range, (0, 255), self.compute_dtype) + additions, 0, 255)
        results = jnp.where(results < thresholds, results, 255 - results)
        return rescale(results, (0, 255), self.value_range, self.compute_dtype)

    def get_config(self):
        return self.config(value_range=self.value_range, addition_factor=self.addition_factor,
                           threshold_factor=self.threshold_factor, seed=self.seed)


class AutoContrast(ImageLayer):
    """Stretches each image channel to the full `value_range` (its minimum to the low end, its maximum to
    the high end); constant channels are left as they are. Not random: applied in training and inference."""

    def __init__(self, value_range=(0, 255), **kwargs):
        super().__init__(**kwargs)
        self.value_range = _value_range(value_range)

    def call(self, inputs, training=True):
        original = images_of(self, inputs)
        images = original[None] if original.ndim == 3 else original
        images = rescale(images, self.value_range, (0, 255), self.compute_dtype).astype(self.compute_dtype)
        low = jnp.min(images, axis=(1, 2), keepdims=True)
        high = jnp.max(images, axis=(1, 2), keepdims=True)
        scale = 255.0 / (high - low)
        results = jnp.clip(images * scale - low * scale, 0.0, 255.0)
        results = rescale(results, (0, 255), self.value_range, self.compute_dtype)
        results = results[0] if original.ndim == 3 else results
        return jnp.where(jnp.isnan(results), original, results).astype(self.compute_dtype)

    def get_config(self):
        return self.config(value_range=self.value_range)


class Equalization(ImageLayer):
    """Histogram equalization of each channel (one histogram of `bins` bins per channel over the whole
    batch, as Keras computes it); channels with a single occupied bin are left as they are. Not random,
    but like Keras's layer it acts in training (the default of a bare call) and passes inputs through
    at inference."""

    def __init__(self, value_range=(0, 255), bins=256, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.bins = bins
        self.value_range = _value_range(value_range)

    def _equalize(self, channel):
        channel = rescale(channel, self.value_range, (0, 255), channel.dtype) if self.value_range != [0, 255] \
            else channel
        index = jnp.clip(((channel.astype("float32") * (self.bins - 1)) / 255.0).astype("int32"), 0, self.bins - 1)
        histogram = jnp.bincount(index.reshape(-1), length=self.bins)
        cdf = jnp.cumsum(histogram)
        cdf_min = cdf[jnp.argmax(cdf > 0)]
        denominator = jnp.where(cdf[-1] - cdf_min == 0, 1, cdf[-1] - cdf_min)
        table = jnp.clip(jnp.round((cdf - cdf_min) * 255 / denominator), 0, 255)
        lookup = jnp.clip(channel / 255.0 * (self.bins - 1), 0, self.bins - 1).astype("int32")
        equalized = jnp.where(jnp.count_nonzero(histogram) <= 1, channel, table[lookup])
        return rescale(equalized, (0, 255), self.value_range, equalized.dtype) if self.value_range != [0, 255] \
            else equalized

    def call(self, inputs, training=True):
        images = images_of(self, inputs)
        if not training:
            return images
        images = images.astype(self.compute_dtype)
        axis = -1 if self.data_format == "channels_last" else -3
        channels = [self._equalize(jnp.take(images, i, axis=axis)) for i in range(images.shape[axis])]
        return jnp.stack(channels, axis=axis).astype(self.compute_dtype)

    def get_config(self):
        return self.config(bins=self.bins, value_range=self.value_range)


class RandomColorDegeneration(_FactorColor):
    """In training, blends each image towards its grayscale version by a factor drawn from `factor`."""

    def augment(self, images, batch):
        images = images.astype(self.compute_dtype)
        factor = random.uniform((batch, 1, 1, 1), self.factor[0], self.factor[1], seed=self.generator)
        factor = _per_image(factor, images).astype(self.compute_dtype)
        gray = image_ops.rgb_to_grayscale(images, data_format=self.data_format)
        return jnp.clip(images + factor * (gray - images), self.value_range[0], self.value_range[1])


def _hsv_axis(layer: ImageLayer, images) -> int:
    return -1 if layer.data_format == "channels_last" else images.ndim - 3


def _replace_channel(hsv, axis: int, index: int, channel):
    parts = [jnp.take(hsv, i, axis=axis) for i in range(3)]
    parts[index] = channel
    return jnp.stack(parts, axis=axis)


def _channel_factor(values, images):
    """`(batch,)` values broadcast over one HSV channel (`(batch, h, w)`, or `(h, w)` for one image)."""
    values = jnp.reshape(values, (-1, 1, 1))
    return values[0] if images.ndim == 3 else values


class RandomSaturation(_FactorColor):
    """In training, scales each image's saturation by `u / (1 - u)` for `u` drawn from `factor`
    (Keras reads HSV from the images as they are and clips the saturation to `value_range`)."""

    def augment(self, images, batch):
        u = random.uniform((batch,), self.factor[0], self.factor[1], seed=self.generator)
        factor = _channel_factor((u / (1 - u + backend.epsilon())).astype(self.compute_dtype), images)
        hsv = image_ops.rgb_to_hsv(images, data_format=self.data_format)
        axis = _hsv_axis(self, images)
        saturation = jnp.clip(jnp.take(hsv, 1, axis=axis) * factor, self.value_range[0], self.value_range[1])
        return image_ops.hsv_to_rgb(_replace_channel(hsv, axis, 1, saturation), data_format=self.data_format)


class RandomHue(_FactorColor):
    """In training, shifts each image's hue by up to half a turn times a value drawn from `factor`,
    in a random direction."""
    _bounds = (0, 1)
    _sort_range = False

    def augment(self, images, batch):
        direction = jnp.where(random.uniform((batch,), seed=self.generator) > 0.5, -1.0, 1.0)
        shift = direction * random.uniform((batch,), self.factor[0], self.factor[1], seed=self.generator) * 0.5
        images = rescale(images.astype(self.compute_dtype), self.value_range, (0, 1), "float32")
        hsv = image_ops.rgb_to_hsv(images, data_format=self.data_format)
        axis = _hsv_axis(self, images)
        hue = jnp.take(hsv, 0, axis=axis) + _channel_factor(shift.astype(images.dtype), images)
        hue = jnp.where(hue > 1.0, hue - 1.0, hue)
        hue = jnp.where(hue < 0.0, hue + 1.0, hue)
        images = jnp.clip(image_ops.hsv_to_rgb(_replace_channel(hsv, axis, 0, hue), data_format=self.data_format), 0, 1)
        return rescale(images, (0, 1), self.value_range, "float32").astype(self.compute_dtype)


class RandomSharpness(_FactorColor):
    """In training, sharpens (or blurs) each image: blends it with a 3x3 smoothing of itself by
    `1 - 2 u`, `u` drawn from `factor` (0.5 leaves it as it is), then clips to `value_range`."""
    _bounds = (0, 1)
    cast_inputs = True

    def augment(self, images, batch):
        batched = images[None] if images.ndim == 3 else images
        if self.data_format == "channels_first":
            batched = jnp.swapaxes(batched, -3, -1)
        factor = random.uniform((batched.shape[0],), self.factor[0], self.factor[1], seed=self.generator)
        factor = jnp.reshape(factor * 2, (-1, 1, 1, 1)).astype(self.compute_dtype)
        a, b = 1.0 / 13.0, 5.0 / 13.0
        kernel = jnp.asarray([[a, a, a], [a, b, a], [a, a, a]], self.compute_dtype)
        kernel = jnp.tile(kernel[:, :, None, None], (1, 1, batched.shape[-1], 1))
        smoothed = nn_ops.depthwise_conv(batched, kernel, 1, "same", data_format="channels_last")
        batched = jnp.clip(batched + (1.0 - factor) * (smoothed.astype(self.compute_dtype) - batched),
                           self.value_range[0], self.value_range[1])
        if self.data_format == "channels_first":
            batched = jnp.swapaxes(batched, -3, -1)
        return batched[0] if images.ndim == 3 else batched


class RandomPosterization(_FactorColor):
    """In training, keeps only the top `b` bits of each 8-bit pixel value, `b` drawn from `factor`
    (in [1, 8]) per image."""
    _bounds = (1, 8)

    def augment(self, images, batch):
        if self.factor[0] != self.factor[1]:
            bits = random.randint((batch,), self.factor[0], self.factor[1], dtype="uint8", seed=self.generator)
        else:
            bits = jnp.ones((batch,), "uint8") * jnp.uint8(self.factor[0])
        shift = _per_image(jnp.uint8(8) - bits, images)
        pixels = rescale(images, self.value_range, (0, 255), self.compute_dtype).astype("uint8")
        pixels = jnp.left_shift(jnp.right_shift(pixels, shift), shift).astype(self.compute_dtype)
        return rescale(pixels, (0, 255), self.value_range, self.compute_dtype)


__all__ = ["AutoContrast", "Equalization", "RandomColorDegeneration", "RandomGrayscale", "RandomHue", "RandomInvert",
           "RandomPosterization", "RandomSaturation", "RandomSharpness", "Solarization"]
