"""What the image preprocessing layers share: the data format, Keras's `factor` arguments, the
rank check (one image of rank 3 or a batch of rank 4) and the affine matrices of the geometric layers.

The random layers hold a `keras.random.SeedGenerator` named `generator` (as Keras's do). Their
draws go through `kerasish.random` with that generator, in the order and shapes Keras 3 draws them,
so a layer made with an int `seed` gives Keras's very values on the JAX backend, and the generator
state (part of the model's NNX graph) advances inside compiled training steps. Like Keras's, their
`call` defaults to `training=True`: a bare `layer(images)` augments, a model's `predict` does not.
Dict inputs (`{"images": ..., "bounding_boxes": ...}`) are refused: kerasish transforms images only.
"""

from __future__ import annotations

import math
from typing import Any

import jax.numpy as jnp

from kerasish import random
from kerasish.layers._conv_args import data_format_arg
from kerasish.layers.base import Layer
from kerasish.serialization import layer_config

INTERPOLATIONS = ("nearest", "bilinear")
FILL_MODES = ("reflect", "wrap", "constant", "nearest")


def images_of(layer: Layer, data: Any) -> jnp.ndarray:
    """`data` as an array of rank 3 or 4.

    Raises:
        NotImplementedError: for Keras's dict inputs (bounding boxes, labels, segmentation masks).
        ValueError: for any other rank, with Keras's wording.
    """
    if isinstance(data, dict):
        raise NotImplementedError(
            f"{type(layer).__name__} in kerasish transforms image arrays only; dict inputs with "
            f"'bounding_boxes', 'labels' or 'segmentation_masks' are not supported. Received keys: {sorted(data)}")
    images = jnp.asarray(data)
    if images.ndim not in (3, 4):
        raise ValueError("Expected image tensor to have rank 3 (single image) or 4 (batch of images). "
                         f"Received: data.shape={images.shape}")
    return images


def factor_pair(factor: Any, bounds: tuple[float, float], message: str, name: str = "factor") -> tuple[float, float]:
    """Keras's `factor`: a number `f` means `(-f, f)` (clipped to `bounds`), a pair is sorted.

    Raises:
        ValueError: `message` plus the received value, for anything else or values out of `bounds`.
    """
    if isinstance(factor, (tuple, list)):
        if len(factor) != 2 or factor[0] > bounds[1] or factor[1] < bounds[0]:
            raise ValueError(message + f"Received: {name}={factor}")
        lower, upper = sorted(factor)
        return lower, upper
    if isinstance(factor, (int, float)) and not isinstance(factor, bool):
        if not bounds[0] <= factor <= bounds[1]:
            raise ValueError(message + f"Received: {name}={factor}")
        return max(-abs(factor), bounds[0]), abs(factor)
    raise ValueError(message + f"Received: {name}={factor}")


def check_choice(value: Any, name: str, choices: tuple[str, ...]) -> str:
    """Keras's NotImplementedError for an unknown `fill_mode` / `interpolation`."""
    if value not in choices:
        raise NotImplementedError(f"Unknown `{name}` {value}. Expected of one {choices}.")
    return value


class ImageLayer(Layer):
    """An image layer: `data_format`, and a config with it (as Keras's base image layer writes)."""

    def __init__(self, data_format: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = data_format_arg(data_format)

    def hw_axes(self, ndim: int) -> tuple[int, int]:
        """The height and width axes of an array of rank `ndim`."""
        return (ndim - 3, ndim - 2) if self.data_format == "channels_last" else (ndim - 2, ndim - 1)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def config(self, **fields: Any) -> dict[str, Any]:
        return layer_config(self, data_format=self.data_format, **fields)


class RandomImageLayer(ImageLayer):
    """A random image layer: `seed`, its `generator`, and the call every one of them makes: the images
    (cast to the compute dtype first where Keras casts them, `cast_inputs`) returned as they are at
    inference, `augment(images, batch)` in training."""
    cast_inputs = True

    def __init__(self, seed=None, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.seed = seed
        self.generator = random.SeedGenerator(seed)

    def call(self, inputs, training=True):
        images = images_of(self, inputs)
        if self.cast_inputs:
            images = images.astype(self.compute_dtype)
        if not training:
            return images
        return self.augment(images, 1 if images.ndim == 3 else images.shape[0])

    def augment(self, images, batch: int):
        """The training output for `images` (`batch` of them; 1 for a single image)."""
        raise NotImplementedError


def affine_matrix(angle, translate_x, translate_y, scale, height: int, width: int) -> jnp.ndarray:
    """Keras's `(batch, 8)` projective transform rotating by `angle` degrees about the image centre,
    scaling by `scale` and translating by `(translate_x, translate_y)` pixels (no shear)."""
    angle = angle * jnp.asarray(math.pi / 180.0, angle.dtype)
    cx, cy = 0.5 * (width - 1), 0.5 * (height - 1)
    cos, sin = jnp.cos(angle), jnp.sin(angle)
    a0, a1 = scale * cos, scale * -sin
    b0, b1 = scale * sin, scale * cos
    a2 = translate_x + cx - cx * a0 - cy * a1
    b2 = translate_y + cy - cx * b0 - cy * b1
    zeros = jnp.zeros_like(a0)
    return jnp.stack([a0, a1, a2, b0, b1, b2, zeros, zeros], axis=1)
