"""Resizing, CenterCrop, RandomCrop, RandomFlip, RandomContrast, RandomBrightness.

Resizing and CenterCrop are deterministic. The random ones draw from their `generator` with
`kerasish.random` exactly as Keras 3 draws (same calls, shapes and order), so with an int `seed`
they reproduce Keras's augmentations on the JAX backend; everything runs in jax.numpy / lax and is
traceable, so the augmentation happens inside the compiled training step.
"""

from __future__ import annotations

import jax.numpy as jnp
from jax import lax

from kerasish import random
from kerasish.layers.base import positive_int
from kerasish.layers.preprocessing._image_base import ImageLayer, RandomImageLayer, factor_pair, images_of
from kerasish.ops import image as image_ops
from kerasish.utils import rng


def _hw_shape(layer: ImageLayer, input_shape, height: int, width: int) -> tuple:
    shape = list(input_shape)
    if len(shape) not in (3, 4):
        raise ValueError("`input_shape` must be a non-nested tuple or list of rank-1 with size 3 (unbatched) "
                         f"or 4 (batched). Received: input_shape={tuple(input_shape)}")
    h_axis, w_axis = layer.hw_axes(len(shape))
    shape[h_axis], shape[w_axis] = height, width
    return tuple(shape)


class Resizing(ImageLayer):
    """Resizes images to `(height, width)`; `crop_to_aspect_ratio` centre-crops and
    `pad_to_aspect_ratio` pads (with `fill_value`) to the target aspect ratio first.

    Integer images come back in their dtype (rounded and saturated), float images in the compute dtype.

    Example:
        >>> keras.layers.Resizing(64, 64, interpolation="nearest")(images)
    """

    def __init__(self, height: int, width: int, interpolation: str = "bilinear", crop_to_aspect_ratio: bool = False,
                 pad_to_aspect_ratio: bool = False, fill_mode: str = "constant", fill_value: float = 0.0,
                 antialias: bool = False, data_format: str | None = None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.height, self.width = positive_int(height, "height"), positive_int(width, "width")
        if interpolation not in image_ops.RESIZE_INTERPOLATIONS:
            raise ValueError(f"Invalid value for argument `interpolation`. Expected one of "
                             f"{image_ops.RESIZE_INTERPOLATIONS}. Received: interpolation={interpolation}")
        if crop_to_aspect_ratio and pad_to_aspect_ratio:
            raise ValueError("Only one of `pad_to_aspect_ratio` & `crop_to_aspect_ratio` can be `True`.")
        if fill_mode != "constant":
            raise ValueError(f"Invalid value for argument `fill_mode`. Only `'constant'` is supported. "
                             f"Received: fill_mode={fill_mode}")
        self.interpolation = interpolation
        self.crop_to_aspect_ratio, self.pad_to_aspect_ratio = crop_to_aspect_ratio, pad_to_aspect_ratio
        self.fill_mode, self.fill_value, self.antialias = fill_mode, fill_value, bool(antialias)

    def call(self, inputs):
        return image_ops.resize(images_of(self, inputs), (self.height, self.width), interpolation=self.interpolation,
                                antialias=self.antialias, crop_to_aspect_ratio=self.crop_to_aspect_ratio,
                                pad_to_aspect_ratio=self.pad_to_aspect_ratio, fill_mode=self.fill_mode,
                                fill_value=self.fill_value, data_format=self.data_format)

    def compute_output_shape(self, input_shape):
        return _hw_shape(self, input_shape, self.height, self.width)

    def get_config(self):
        return self.config(height=self.height, width=self.width, interpolation=self.interpolation,
                           crop_to_aspect_ratio=self.crop_to_aspect_ratio, pad_to_aspect_ratio=self.pad_to_aspect_ratio,
                           fill_mode=self.fill_mode, fill_value=self.fill_value, antialias=self.antialias)


def _crop_or_fit(layer: ImageLayer, images, height: int, width: int, top=None, left=None):
    """`images` cut to `height x width` from `(top, left)` (the centre by default) when they are at least
    that large; otherwise the largest centred window of the target aspect ratio, resized (bilinear)."""
    h_axis, w_axis = layer.hw_axes(images.ndim)
    in_h, in_w = images.shape[h_axis], images.shape[w_axis]
    if in_h < height or in_w < width:
        return image_ops.resize(images, (height, width), crop_to_aspect_ratio=True, data_format=layer.data_format)
    top = (in_h - height) // 2 if top is None else top
    left = (in_w - width) // 2 if left is None else left
    images = lax.dynamic_slice_in_dim(images, top, height, axis=h_axis)
    return lax.dynamic_slice_in_dim(images, left, width, axis=w_axis)


class CenterCrop(ImageLayer):
    """Crops the central `height x width` window; images smaller than that are centre-cropped to the
    target aspect ratio and resized (Keras's `smart_resize`). Output in the compute dtype."""

    def __init__(self, height: int, width: int, data_format: str | None = None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.height, self.width = positive_int(height, "height"), positive_int(width, "width")

    def call(self, inputs):
        images = images_of(self, inputs).astype(self.compute_dtype)
        return _crop_or_fit(self, images, self.height, self.width)

    def compute_output_shape(self, input_shape):
        return _hw_shape(self, input_shape, self.height, self.width)

    def get_config(self):
        return self.config(height=self.height, width=self.width)


class RandomCrop(RandomImageLayer):
    """In training, crops every image of the batch at one random `height x width` window; at inference
    (and for images not larger than the target in both dimensions) behaves as `CenterCrop`.

    Difference from Keras 3.15: Keras's layer returns inference inputs uncropped (contradicting its own
    `compute_output_shape` and docstring); kerasish centre-crops, as the docstring says. A `seed` of
    None is replaced by a drawn int, which the config records (as Keras does).
    """

    def __init__(self, height: int, width: int, seed: int | None = None, data_format: str | None = None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.height, self.width = positive_int(height, "height"), positive_int(width, "width")
        self.seed = seed if seed is not None else rng.next_seed()

    def call(self, inputs, training=True):
        images = images_of(self, inputs).astype(self.compute_dtype)
        h_axis, w_axis = self.hw_axes(images.ndim)
        in_h, in_w = images.shape[h_axis], images.shape[w_axis]
        if not (training and in_h > self.height and in_w > self.width):
            return _crop_or_fit(self, images, self.height, self.width)
        top = random.uniform((), 0, float(in_h - self.height + 1), seed=self.generator).astype("int32")
        left = random.uniform((), 0, float(in_w - self.width + 1), seed=self.generator).astype("int32")
        return _crop_or_fit(self, images, self.height, self.width, top, left)

    def compute_output_shape(self, input_shape):
        return _hw_shape(self, input_shape, self.height, self.width)

    def get_config(self):
        return self.config(height=self.height, width=self.width, seed=self.seed)


class RandomFlip(RandomImageLayer):
    """In training, flips each image left-right (`"horizontal"`), upside down (`"vertical"`) or both
    (`"horizontal_and_vertical"`, one draw for both) with probability 1/2."""
    _MODES = ("horizontal", "vertical", "horizontal_and_vertical")

    def __init__(self, mode: str = "horizontal_and_vertical", seed: int | None = None,
                 data_format: str | None = None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        if mode not in self._MODES:
            raise ValueError(f"RandomFlip layer {self.name} received an unknown mode argument {mode!r}. "
                             f"Expected one of {self._MODES}.")
        self.mode = mode

    def augment(self, images, batch):
        shape = (1, 1, 1) if images.ndim == 3 else (batch, 1, 1, 1)
        flips = random.uniform(shape, seed=self.generator) <= 0.5
        h_axis, w_axis = self.hw_axes(images.ndim)
        if self.mode in ("horizontal", "horizontal_and_vertical"):
            images = jnp.where(flips, jnp.flip(images, axis=w_axis), images)
        if self.mode in ("vertical", "horizontal_and_vertical"):
            images = jnp.where(flips, jnp.flip(images, axis=h_axis), images)
        return images

    def get_config(self):
        return self.config(seed=self.seed, mode=self.mode)


def _value_range(value_range) -> list:
    if not isinstance(value_range, (tuple, list)) or len(value_range) != 2:
        raise ValueError("The `value_range` argument should be a list of two numbers. "
                         f"Received: value_range={value_range}")
    return list(value_range)


class RandomContrast(RandomImageLayer):
    """In training, scales each image's deviation from its per-channel mean by a factor drawn from
    `[1 - lower, 1 + upper]` (Keras's reading of `factor`), then clips to `value_range`."""
    cast_inputs = False  # Keras returns inference inputs as they are

    def __init__(self, factor, value_range=(0, 255), seed: int | None = None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.factor = factor_pair(factor, (0, 1), "The `factor` argument should be a number (or a list of two "
                                  "numbers) in the range [0, 1]. ")
        _value_range(value_range)
        self.value_range = value_range

    def augment(self, images, batch):
        images = images.astype(self.compute_dtype)
        shape = (1, 1, 1) if images.ndim == 3 else (batch, 1, 1, 1)
        factor = random.uniform(shape, 1.0 - self.factor[0], 1.0 + self.factor[1], dtype=self.compute_dtype,
                                seed=self.generator)
        mean = jnp.mean(images, axis=self.hw_axes(images.ndim), keepdims=True)
        return jnp.clip((images - mean) * factor + mean, self.value_range[0], self.value_range[1])

    def get_config(self):
        return self.config(factor=self.factor, value_range=self.value_range, seed=self.seed)


class RandomBrightness(RandomImageLayer):
    """In training, adds one offset per image drawn from `factor * (value_range[1] - value_range[0])`,
    then clips to `value_range`."""
    cast_inputs = False  # Keras returns inference inputs as they are

    def __init__(self, factor, value_range=(0, 255), seed: int | None = None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        if factor is None:
            factor = 0.0
        self.factor = factor_pair(factor, (-1, 1), "The `factor` argument should be a number (or a list of two "
                                  "numbers) in the range [-1, 1]. ")
        self.value_range = sorted(_value_range(value_range))

    def augment(self, images, batch):
        images = images.astype(self.compute_dtype)
        shape = (1, 1, 1) if images.ndim == 3 else (batch, 1, 1, 1)
        delta = random.uniform(shape, self.factor[0], self.factor[1], seed=self.generator)
        delta = (delta * (self.value_range[1] - self.value_range[0])).astype(images.dtype)
        return jnp.clip(images + delta, self.value_range[0], self.value_range[1])

    def get_config(self):
        return self.config(factor=self.factor, value_range=self.value_range, seed=self.seed)


__all__ = ["CenterCrop", "RandomBrightness", "RandomContrast", "RandomCrop", "RandomFlip", "Resizing"]
