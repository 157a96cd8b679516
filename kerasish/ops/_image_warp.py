"""keras.ops image warps and filters over `jax.scipy.ndimage.map_coordinates` and `jax.lax` convs.

Owns `map_coordinates`, `affine_transform`, `perspective_transform`, `elastic_transform`,
`gaussian_blur` and `sobel_edges`. A warp computes, for every output pixel, where it samples the
input, then lets `map_coordinates` interpolate; the filters are depthwise convolutions with
"same" padding. Randomness (elastic) comes from `kerasish.random`'s seed rule.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax

from kerasish.ops._nn_conv import data_format_of
from kerasish.random.seed_generator import draw_key

INTERPOLATION_ORDERS = {"nearest": 0, "bilinear": 1}
FILL_MODES = ("constant", "nearest", "wrap", "mirror", "reflect")


def _order(interpolation: str) -> int:
    if interpolation not in INTERPOLATION_ORDERS:
        raise ValueError(f"Invalid value for argument `interpolation`. Expected one of "
                         f"{sorted(INTERPOLATION_ORDERS)}. Received: interpolation={interpolation}")
    return INTERPOLATION_ORDERS[interpolation]


def _fill_mode(fill_mode: str) -> str:
    if fill_mode not in FILL_MODES:
        raise ValueError(f"Invalid value for argument `fill_mode`. Expected one of {FILL_MODES}. "
                         f"Received: fill_mode={fill_mode}")
    return fill_mode


def map_coordinates(inputs, coordinates, order: int, fill_mode: str = "constant",
                    fill_value=0) -> jax.Array:
    """Samples `inputs` at `coordinates` (shape `(inputs.ndim, ...)`), nearest (0) or linear (1)."""
    inputs, coordinates = jnp.asarray(inputs), jnp.asarray(coordinates)
    if coordinates.ndim < 2:
        raise ValueError("Invalid coordinates rank: expected at least rank 2. Received input with "
                         f"shape: {coordinates.shape}")
    if coordinates.shape[0] != inputs.ndim:
        raise ValueError("First dim of `coordinates` must be the same as the rank of `inputs`. "
                         f"Received inputs with shape: {inputs.shape} and coordinate leading dim "
                         f"of {coordinates.shape[0]}")
    if order not in (0, 1):
        raise ValueError(f"Invalid value for argument `order`. Expected one of [0, 1]. "
                         f"Received: order={order}")
    return jax.scipy.ndimage.map_coordinates(inputs, list(coordinates), order, _fill_mode(fill_mode),
                                             fill_value)


def image_batch_or_image(images, name: str = "images") -> jax.Array:
    """`images` as an array of rank 3 (one image) or 4 (a batch), else Keras's ValueError."""
    images = jnp.asarray(images)
    if images.ndim not in (3, 4):
        raise ValueError(f"Invalid {name} rank: expected rank 3 (single image) or rank 4 (batch of "
                         f"images). Received input with shape: {name}.shape={images.shape}")
    return images


def _batched(images, data_format):
    """Images as a channels_last batch, and a function restoring the caller's layout."""
    images = image_batch_or_image(images)
    unbatched, first = images.ndim == 3, data_format_of(data_format) == "channels_first"
    x = images[None] if unbatched else images
    x = jnp.transpose(x, (0, 2, 3, 1)) if first else x

    def restore(y):
        y = jnp.transpose(y, (0, 3, 1, 2)) if first else y
        return y[0] if unbatched else y
    return x, restore


def _warp(images, rows, cols, order, fill_mode, fill_value):
    """`images (B, H, W, C)` sampled at per-image input coordinates `rows`, `cols` `(B, H, W)`."""
    def one(image, r, c):
        return jax.vmap(lambda plane: jax.scipy.ndimage.map_coordinates(
            plane, [r, c], order, fill_mode, fill_value), in_axes=-1, out_axes=-1)(image)
    return jax.vmap(one)(images, rows, cols)


def _grid(height: int, width: int):
    rows, cols = jnp.meshgrid(jnp.arange(height), jnp.arange(width), indexing="ij")
    return rows, cols


def affine_transform(images, transform, interpolation: str = "bilinear", fill_mode: str = "constant",
                     fill_value=0, data_format: str | None = None) -> jax.Array:
    """Warps images by `transform` `[a0, a1, a2, b0, b1, b2, c0, c1]` (one, or one per image).

    Output pixel (x, y) samples the input at `((a0 x + a1 y + a2) / k, (b0 x + b1 y + b2) / k)`,
    `k = c0 x + c1 y + 1`, as Keras documents.
    """
    order, fill_mode = _order(interpolation), _fill_mode(fill_mode)
    transform = jnp.asarray(transform)
    if transform.ndim not in (1, 2):
        raise ValueError("Invalid transform rank: expected rank 1 (single transform) or rank 2 (batch "
                         f"of transforms). Received input with shape: transform.shape={transform.shape}")
    x, restore = _batched(images, data_format)
    t = jnp.broadcast_to(transform if transform.ndim == 2 else transform[None], (x.shape[0], 8))
    rows, cols = _grid(x.shape[1], x.shape[2])
    a0, a1, a2, b0, b1, b2, c0, c1 = (t[:, i, None, None] for i in range(8))
    k = c0 * cols + c1 * rows + 1.0
    return restore(_warp(x, (b0 * cols + b1 * rows + b2) / k, (a0 * cols + a1 * rows + a2) / k,
                         order, fill_mode, fill_value))


def _homography(start, end):
    """The 8 projective coefficients mapping `end` points onto `start` points (batched)."""
    sx, sy, ex, ey = start[..., 0], start[..., 1], end[..., 0], end[..., 1]
    zeros, ones = jnp.zeros_like(ex), jnp.ones_like(ex)
    x_rows = jnp.stack([ex, ey, ones, zeros, zeros, zeros, -sx * ex, -sx * ey], axis=-1)
    y_rows = jnp.stack([zeros, zeros, zeros, ex, ey, ones, -sy * ex, -sy * ey], axis=-1)
    system = jnp.concatenate([x_rows, y_rows], axis=1)
    return jnp.linalg.solve(system, jnp.concatenate([sx, sy], axis=-1)[..., None])[..., 0]


def perspective_transform(images, start_points, end_points, interpolation: str = "bilinear",
                          fill_value=0, data_format: str | None = None) -> jax.Array:
    """Warps images so that the 4 `start_points` (x, y) land on the 4 `end_points`."""
    order = _order(interpolation)
    start, end = jnp.asarray(start_points), jnp.asarray(end_points)
    for name, points in (("start_points", start), ("end_points", end)):
        if points.shape[-2:] != (4, 2) or points.ndim not in (2, 3):
            raise ValueError(f"Invalid {name} shape: expected (4,2) for a single image or (N,4,2) "
                             f"for a batch. Received shape: {points.shape}")
    if start.shape != end.shape:
        raise ValueError("start_points and end_points must have the same shape. Received "
                         f"start_points.shape={start.shape}, end_points.shape={end.shape}")
    x, restore = _batched(images, data_format)
    h = _homography(start.astype("float32").reshape(-1, 4, 2), end.astype("float32").reshape(-1, 4, 2))
    h = jnp.broadcast_to(h, (x.shape[0], 8))
    rows, cols = _grid(x.shape[1], x.shape[2])
    coeff = [h[:, i, None, None] for i in range(8)]
    k = coeff[6] * cols + coeff[7] * rows + 1.0
    return restore(_warp(x, (coeff[3] * cols + coeff[4] * rows + coeff[5]) / k,
                         (coeff[0] * cols + coeff[1] * rows + coeff[2]) / k, order, "constant",
                         fill_value))


def gaussian_kernel_1d(size: int, sigma, dtype) -> jax.Array:
    """Normalised Gaussian taps `exp(-t**2 / (2 sigma**2))`, `t` centred on the middle tap."""
    taps = jnp.arange(size, dtype=dtype) - jnp.asarray((size - 1) / 2, dtype)
    kernel = jnp.exp(-0.5 * (taps / sigma) ** 2)
    return kernel / jnp.sum(kernel)


def _depthwise_same(x, kernel_2d):
    """Each channel of channels_last batch `x` filtered by `kernel_2d`, "same" padding."""
    channels = x.shape[-1]
    kernel = jnp.tile(kernel_2d[:, :, None, None], (1, 1, 1, channels))
    return lax.conv_general_dilated(x, kernel, (1, 1), "SAME", feature_group_count=channels,
                                    dimension_numbers=("NHWC", "HWIO", "NHWC"))


def gaussian_blur(images, kernel_size=(3, 3), sigma=(1.0, 1.0),
                  data_format: str | None = None) -> jax.Array:
    """Gaussian blur; as in Keras, `kernel_size[0]`/`sigma[0]` run along the width and
    `kernel_size[1]`/`sigma[1]` along the height."""
    x, restore = _batched(images, data_format)
    sigma = jnp.asarray(sigma, x.dtype)
    across = gaussian_kernel_1d(kernel_size[0], sigma[0], x.dtype)
    down = gaussian_kernel_1d(kernel_size[1], sigma[1], x.dtype)
    return restore(_depthwise_same(x, jnp.outer(down, across)))


def elastic_transform(images, alpha=20.0, sigma=5.0, interpolation: str = "bilinear",
                      fill_mode: str = "reflect", fill_value=0.0, seed=None,
                      data_format: str | None = None) -> jax.Array:
    """Random elastic distortion: Gaussian-smoothed normal noise scaled by `alpha` moves pixels.

    One noise field (drawn from `seed`: an int, a `SeedGenerator`, a JAX key, or None) displaces
    both axes, as in Keras; the smoothing window is `int(6 * sigma) | 1` wide.
    """
    order, fill_mode = _order(interpolation), _fill_mode(fill_mode)
    x, restore = _batched(images, data_format)
    batch, height, width, _ = x.shape
    size = int(6 * sigma) | 1
    noise = jax.random.normal(draw_key(seed), (batch, height, width), x.dtype) * jnp.asarray(sigma)
    smooth = gaussian_blur(noise[..., None], (size, size), (sigma, sigma), "channels_last")[..., 0]
    rows, cols = _grid(height, width)
    shift = jnp.asarray(alpha) * smooth
    return restore(_warp(x, rows + shift, cols + shift, order, fill_mode, fill_value).astype(x.dtype))


def sobel_edges(images, data_format: str | None = None) -> jax.Array:
    """Sobel gradients of a batch `(B, H, W, C)`: `(..., 2)` holding `[d/dy, d/dx]` per channel."""
    images = jnp.asarray(images)
    if images.ndim != 4:
        raise ValueError(f"sobel_edges expects a batch of images (rank 4). Received: "
                         f"images.shape={images.shape}")
    x, restore = _batched(images, data_format)
    d_dx = jnp.asarray([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], x.dtype)
    return jnp.stack([restore(_depthwise_same(x, d_dx.T)), restore(_depthwise_same(x, d_dx))], -1)
