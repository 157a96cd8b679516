"""RandomGaussianBlur, RandomColorJitter and RandomErasing: a random blur; brightness, contrast,
saturation and hue jitter in one layer; random rectangles filled with a value or noise.

Both draw as Keras 3 does (same calls, shapes and order), so an int `seed` reproduces Keras's
images. RandomColorJitter runs kerasish's RandomBrightness, RandomContrast, RandomSaturation and
RandomHue, which share its one generator, as Keras's jitter hands its generator to its parts.
"""

from __future__ import annotations

import jax.numpy as jnp

from kerasish import random
from kerasish.layers.preprocessing._image_base import RandomImageLayer
from kerasish.layers.preprocessing.color import RandomHue, RandomSaturation, _factor
from kerasish.layers.preprocessing.image import RandomBrightness, RandomContrast
from kerasish.ops import image as image_ops


def _odd_pair(size, name: str) -> tuple[int, int]:
    message = f"{name} must be an odd number. Received: {name}={size}"
    if isinstance(size, (tuple, list)):
        if len(size) != 2:
            raise ValueError(f"The `{name}` argument should be a number (or a list of two numbers) "
                             f"Received: {name}={size}")
        if size[0] % 2 == 0 or size[1] % 2 == 0:
            raise ValueError(message)
        return size[0], size[1]
    if isinstance(size, (int, float)) and not isinstance(size, bool) and size % 2:
        return size, size
    raise ValueError(message)


class RandomGaussianBlur(RandomImageLayer):
    """In training, blurs each image with probability drawn from `factor`, with a Gaussian kernel of
    `kernel_size` and standard deviations drawn from `sigma` (one per axis, shared by the batch)."""

    def __init__(self, factor=1.0, kernel_size=3, sigma=1.0, value_range=(0, 255), data_format=None, seed=None,
                 **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = _factor(factor, (0, 1))
        self.kernel_size = _odd_pair(kernel_size, "kernel_size")
        self.sigma = _factor(sigma, (0, 1))
        self.value_range = value_range

    def augment(self, images, batch):
        probability = random.uniform((batch,), self.factor[0], self.factor[1], seed=self.generator)
        apply = random.uniform((batch,), 0.0, 1.0, seed=self.generator) < probability
        sigma = random.uniform((2,), self.sigma[0], self.sigma[1], dtype=self.compute_dtype, seed=self.generator) + 1e-6
        blurred = image_ops.gaussian_blur(images, kernel_size=self.kernel_size, sigma=sigma, data_format=self.data_format)
        apply = apply.reshape(-1, 1, 1, 1)
        images = jnp.where(apply[0] if images.ndim == 3 else apply, blurred, images)
        return jnp.clip(images, self.value_range[0], self.value_range[1]).astype(self.compute_dtype)

    def get_config(self):
        return self.config(factor=self.factor, kernel_size=self.kernel_size, sigma=self.sigma,
                           value_range=self.value_range, seed=self.seed)


class RandomColorJitter(RandomImageLayer):
    """In training, applies random brightness, contrast, saturation and hue changes, in that order,
    each only when its factor is given (see the layers of those names)."""

    def __init__(self, value_range=(0, 255), brightness_factor=None, contrast_factor=None, saturation_factor=None,
                 hue_factor=None, seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.value_range = value_range
        self.brightness_factor, self.contrast_factor = brightness_factor, contrast_factor
        self.saturation_factor, self.hue_factor = saturation_factor, hue_factor
        parts = ((RandomBrightness, brightness_factor), (RandomContrast, contrast_factor),
                 (RandomSaturation, saturation_factor), (RandomHue, hue_factor))
        self._parts = []
        for cls, factor in parts:
            if factor is None:
                continue
            part = cls(factor=factor, value_range=value_range, seed=seed, data_format=data_format)
            part.generator = self.generator  # one stream of draws for the whole jitter, as in Keras
            self._parts.append(part)

    def augment(self, images, batch):
        for part in self._parts:
            images = part(images, training=True)
        return images.astype(self.compute_dtype)

    def get_config(self):
        return self.config(value_range=self.value_range, brightness_factor=self.brightness_factor,
                           contrast_factor=self.contrast_factor, saturation_factor=self.saturation_factor,
                           hue_factor=self.hue_factor, seed=self.seed)


class RandomErasing(RandomImageLayer):
    """In training, with a probability drawn from `factor`, fills a random rectangle of each image
    (each side a fraction `sqrt(u)` of the image's, `u` drawn from `scale`) with `fill_value` (a number
    or three per-channel numbers), or with Gaussian noise times `value_range[1]` when None, clipped to
    `value_range`."""

    def __init__(self, factor=1.0, scale=(0.02, 0.33), fill_value=None, value_range=(0, 255), seed=None,
                 data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = _factor(factor, (0, 1))
        self.scale = _factor(scale, (0, 1))
        if fill_value is not None and not (isinstance(fill_value, (tuple, list)) and len(fill_value) == 3) and \
                not (isinstance(fill_value, (int, float)) and not isinstance(fill_value, bool)):
            raise ValueError("The `fill_value` argument should be a number (or a list of three numbers) ")
        self.fill_value, self.value_range = fill_value, value_range

    def _bounds(self, batch, length, ratio):
        size = (ratio * length).astype(self.compute_dtype)
        start = random.uniform((batch,), 0, 1, dtype=self.compute_dtype, seed=self.generator) * (length - size)
        return start[:, None, None, None], (start + size)[:, None, None, None]

    def augment(self, images, batch):
        h_axis, w_axis = self.hw_axes(images.ndim)
        height, width = images.shape[h_axis], images.shape[w_axis]
        ratio = jnp.sqrt(random.uniform((batch, 2), self.scale[0], self.scale[1], dtype=self.compute_dtype,
                                        seed=self.generator))
        x0, x1 = self._bounds(batch, width, ratio[:, 0])
        y0, y1 = self._bounds(batch, height, ratio[:, 1])
        grid_y, grid_x = jnp.meshgrid(jnp.arange(height, dtype=self.compute_dtype),
                                      jnp.arange(width, dtype=self.compute_dtype), indexing="ij")
        layout = (None, slice(None), slice(None), None) if self.data_format == "channels_last" else \
            (None, None, slice(None), slice(None))
        grid_x, grid_y = grid_x[layout], grid_y[layout]
        inside = (grid_x >= x0) & (grid_x < x1) & (grid_y >= y0) & (grid_y < y1)
        probability = random.uniform((batch,), self.factor[0], self.factor[1], seed=self.generator)
        apply = random.uniform((batch,), 0.0, 1.0, seed=self.generator) < probability
        if self.fill_value is None:
            fill = random.normal(images.shape, dtype=self.compute_dtype, seed=self.generator) * self.value_range[1]
        else:  # three numbers fill per channel (Keras 3.15 fails on them: `full_like` takes one number)
            value = jnp.asarray(self.fill_value, self.compute_dtype)
            if value.ndim and self.data_format == "channels_first":
                value = value[:, None, None]
            fill = jnp.broadcast_to(value, images.shape)
        fill = jnp.clip(fill, self.value_range[0], self.value_range[1])
        batched = images[None] if images.ndim == 3 else images
        erased = jnp.where(inside, fill, batched)
        out = jnp.where(apply[:, None, None, None], erased, batched)
        return out[0] if images.ndim == 3 else out

    def get_config(self):
        return self.config(factor=self.factor, scale=self.scale, fill_value=self.fill_value,
                           value_range=self.value_range, seed=self.seed)


__all__ = ["RandomColorJitter", "RandomErasing", "RandomGaussianBlur"]
