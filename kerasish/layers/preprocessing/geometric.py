"""RandomRotation, RandomZoom, RandomTranslation, RandomShear (affine), RandomPerspective: random warps
of images in training.

Each draws its parameters from its `generator` as Keras 3 does (same calls, shapes and order, so an
int `seed` reproduces Keras's warps on the JAX backend), builds Keras's `(batch, 8)` projective
transform and samples the images with `kerasish.ops.image.affine_transform` (`fill_mode` reflect,
wrap, constant or nearest; `interpolation` nearest or bilinear). At inference they return the images
in the compute dtype.
"""

from __future__ import annotations

import jax.numpy as jnp

from kerasish import random
from kerasish.layers.preprocessing._image_base import (FILL_MODES, INTERPOLATIONS, RandomImageLayer, affine_matrix,
                                                       check_choice, factor_pair)
from kerasish.ops import image as image_ops


class _AffineLayer(RandomImageLayer):
    """Shared arguments (`fill_mode`, `interpolation`, `fill_value`, `seed`) and the warp itself."""

    def __init__(self, fill_mode="reflect", interpolation="bilinear", seed=None, fill_value=0.0,
                 data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.fill_mode = check_choice(fill_mode, "fill_mode", FILL_MODES)
        self.interpolation = check_choice(interpolation, "interpolation", INTERPOLATIONS)
        self.fill_value = fill_value

    def augment(self, images, batch):
        h_axis, w_axis = self.hw_axes(images.ndim)
        transform = self.transform(batch, images.shape[h_axis], images.shape[w_axis])
        if images.ndim == 3:
            transform = transform[0]
        return image_ops.affine_transform(images, transform, interpolation=self.interpolation,
                                          fill_mode=self.fill_mode, fill_value=self.fill_value,
                                          data_format=self.data_format)

    def transform(self, batch: int, height: int, width: int) -> jnp.ndarray:
        """The `(batch, 8)` transforms of one call (draws from the generator)."""
        raise NotImplementedError

    def warp_config(self):
        return {"fill_mode": self.fill_mode, "interpolation": self.interpolation, "seed": self.seed,
                "fill_value": self.fill_value}


class RandomRotation(_AffineLayer):
    """Rotates each image about its centre by an angle drawn from `factor * 360` degrees
    (`factor=0.1`: up to 36 degrees either way; a pair `(lower, upper)` bounds it)."""

    def __init__(self, factor, fill_mode="reflect", interpolation="bilinear", seed=None, fill_value=0.0,
                 data_format=None, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.factor = factor_pair(factor or 0.0, (-1, 1), "The `factor` argument should be a number (or a list of "
                                  "two numbers) in the range [-1, 1]. ")

    def transform(self, batch, height, width):
        angle = random.uniform((batch,), self.factor[0] * 360.0, self.factor[1] * 360.0, seed=self.generator)
        zeros = jnp.zeros((batch,), angle.dtype)
        return affine_matrix(angle, zeros, zeros, jnp.ones((batch,), angle.dtype), height, width)

    def get_config(self):
        return self.config(factor=self.factor, **self.warp_config())


_ZOOM_MESSAGE = ("The `height_factor` and `width_factor` arguments should be a number (or a list of two numbers) "
                 "in the range (-1.0, 1.0]. ")
_TRANSLATION_MESSAGE = "The `factor` argument should be a number (or a list of two numbers) in the range [-1.0, 1.0]. "


def _signed_pair(factor, name: str, message: str, open_below: bool = False,
                 number_low: float = -1.0) -> tuple[float, float]:
    """Keras's height/width/shear factors: each value in [-1, 1] ((-1, 1] for zoom, a number in
    [`number_low`, 1]); a number `f` is `(-|f|, |f|)`.

    Raises:
        ValueError: `message` with the received value.
    """
    values = factor if isinstance(factor, (tuple, list)) else [factor]
    if (isinstance(factor, (tuple, list)) and len(factor) != 2) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        raise ValueError(message + f"Received: {name}={factor}")
    low = -1.0 if isinstance(factor, (tuple, list)) else number_low
    for v in values:
        if v > 1.0 or v < low or (open_below and v == -1.0):
            raise ValueError(message + f"Received: input_number={v}")
    if isinstance(factor, (tuple, list)):
        lower, upper = sorted(factor)
        return lower, upper
    return -abs(factor), abs(factor)


class RandomZoom(_AffineLayer):
    """Zooms each image about its centre: `height_factor=0.2` draws a vertical zoom in `[-20%, +20%]`
    (positive zooms out), `width_factor` likewise (None: keep the aspect ratio, one draw for both)."""

    def __init__(self, height_factor, width_factor=None, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, data_format=None, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.height_factor, self.width_factor = height_factor, width_factor
        self.height_range = _signed_pair(height_factor, "height_factor", _ZOOM_MESSAGE, open_below=True)
        self.width_range = None if width_factor is None else \
            _signed_pair(width_factor, "width_factor", _ZOOM_MESSAGE, open_below=True)

    def transform(self, batch, height, width):
        zoom_y = random.uniform((batch, 1), 1.0 + self.height_range[0], 1.0 + self.height_range[1],
                                seed=self.generator)
        zoom_x = zoom_y if self.width_range is None else random.uniform(
            (batch, 1), 1.0 + self.width_range[0], 1.0 + self.width_range[1], seed=self.generator)
        zoom_x, zoom_y = zoom_x.astype("float32"), zoom_y.astype("float32")
        x_offset = (width - 1.0) / 2.0 * (1.0 - zoom_x)
        y_offset = (height - 1.0) / 2.0 * (1.0 - zoom_y)
        zeros = jnp.zeros_like(zoom_x)
        return jnp.concatenate([zoom_x, zeros, x_offset, zeros, zoom_y, y_offset, zeros, zeros], axis=1)

    def get_config(self):
        return self.config(height_factor=self.height_factor, width_factor=self.width_factor, **self.warp_config())


class RandomTranslation(_AffineLayer):
    """Shifts each image by a fraction of its size drawn from `height_factor` (vertical) and
    `width_factor` (horizontal), each a number `f` (meaning `[-f, f]`) or a pair in [-1, 1]."""

    def __init__(self, height_factor, width_factor, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, data_format=None, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.height_factor, self.width_factor = height_factor, width_factor
        self.height_range = _signed_pair(height_factor, "height_factor", _TRANSLATION_MESSAGE, open_below=False)
        self.width_range = _signed_pair(width_factor, "width_factor", _TRANSLATION_MESSAGE, open_below=False)

    def transform(self, batch, height, width):
        shift_y = random.uniform((batch, 1), *self.height_range, seed=self.generator) * height
        shift_x = random.uniform((batch, 1), *self.width_range, seed=self.generator) * width
        ones, zeros = jnp.ones_like(shift_x), jnp.zeros_like(shift_x)
        return jnp.concatenate([ones, zeros, -shift_x, zeros, ones, -shift_y, zeros, zeros], axis=1).astype("float32")

    def get_config(self):
        return self.config(height_factor=self.height_factor, width_factor=self.width_factor, **self.warp_config())


_SHEAR_MESSAGE = "The `factor` argument should be a number (or a list of two numbers) in the range [0, 1.0]. "


class RandomShear(_AffineLayer):
    """Shears each image: horizontally by a factor drawn from `x_factor`, vertically from `y_factor`
    (each a number `f` meaning `[-f, f]`, or a pair in [0, 1]), both in a random direction."""

    def __init__(self, x_factor=0.0, y_factor=0.0, interpolation="bilinear", fill_mode="reflect", fill_value=0.0,
                 data_format=None, seed=None, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        # A number must lie in [0, 1]; a pair may reach -1 (Keras 3 refuses negative values there, so it
        # cannot load its own config of `x_factor=0.3`, which is `(-0.3, 0.3)`; kerasish reads it).
        self.x_factor = _signed_pair(x_factor, "x_factor", _SHEAR_MESSAGE, number_low=0.0)
        self.y_factor = _signed_pair(y_factor, "y_factor", _SHEAR_MESSAGE, number_low=0.0)

    def transform(self, batch, height, width):
        dtype = self.compute_dtype
        draw = random.uniform((batch, 1), 0, 1, dtype=dtype, seed=self.generator)
        direction = jnp.where(draw > 0.5, -jnp.ones_like(draw), jnp.ones_like(draw))
        shear_y = random.uniform((batch, 1), *self.y_factor, dtype=dtype, seed=self.generator)
        shear_x = random.uniform((batch, 1), *self.x_factor, dtype=dtype, seed=self.generator)
        shear = jnp.concatenate([shear_x, shear_y], axis=1) * direction
        ones, zeros = jnp.ones((batch,), dtype), jnp.zeros((batch,), dtype)
        return jnp.stack([ones, shear[:, 0], zeros, shear[:, 1], ones, zeros, zeros, zeros], axis=1)

    def get_config(self):
        return self.config(x_factor=self.x_factor, y_factor=self.y_factor, **self.warp_config())


class RandomPerspective(RandomImageLayer):
    """In training, with a probability drawn from `factor`, moves each image's four corners by up to
    `scale / 2` of their coordinates and warps the image to match (pixels from outside: `fill_value`)."""

    def __init__(self, factor=1.0, scale=1.0, interpolation="bilinear", fill_value=0.0, seed=None, data_format=None,
                 **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = factor_pair(factor, (0, 1), "The `factor` argument should be a number (or a list of two "
                                  "numbers) in the range [0, 1]. ")
        if scale < 0.0 or scale > 1.0:
            raise ValueError(f"The `scale` argument should be a number in the range [0,1]. Received: scale={scale}")
        self.scale, self.fill_value = scale, fill_value
        self.interpolation = check_choice(interpolation, "interpolation", INTERPOLATIONS)

    def augment(self, images, batch):
        h_axis, w_axis = self.hw_axes(images.ndim)
        height, width = images.shape[h_axis], images.shape[w_axis]
        probability = random.uniform((batch,), self.factor[0], self.factor[1], seed=self.generator)
        apply = random.uniform((batch,), 0.0, 1.0, seed=self.generator) < probability
        shifts = random.uniform((batch, 4, 2), -0.5 * self.scale, 0.5 * self.scale, dtype=self.compute_dtype,
                                seed=self.generator)
        corners = jnp.asarray([[0.0, 0.0], [width - 1, 0.0], [0.0, height - 1], [width - 1, height - 1]],
                              self.compute_dtype)
        start = jnp.broadcast_to(corners, (batch, 4, 2))
        batched = images[None] if images.ndim == 3 else images
        warped = image_ops.perspective_transform(batched, start, start + start * shifts, interpolation=self.interpolation,
                                                 fill_value=self.fill_value, data_format=self.data_format)
        out = jnp.where(apply[:, None, None, None], warped, batched)
        return out[0] if images.ndim == 3 else out

    def get_config(self):
        return self.config(factor=self.factor, scale=self.scale, interpolation=self.interpolation,
                           fill_value=self.fill_value, seed=self.seed)


__all__ = ["RandomPerspective", "RandomRotation", "RandomShear", "RandomTranslation", "RandomZoom"]
