"""UpSampling, ZeroPadding, Cropping (1-D/2-D/3-D), RepeatVector, Permute, Identity.

Shape-only layers without weights, with Keras 3's arguments and configs: `padding` and `cropping`
are stored as Keras stores them (a pair for 1-D, a pair per axis for 2-D/3-D), `data_format` where
Keras has it. UpSampling2D's "bilinear" (and other) interpolations are `ops.image.resize`.
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

from kerasish import ops
from kerasish.layers._conv_args import check_rank, data_format_arg, spatial_dims, tuple_arg, with_spatial
from kerasish.layers.base import Layer
from kerasish.serialization import layer_config

_ORDINALS = ("1st", "2nd", "3rd")
_INTERPOLATIONS = ("nearest", "bilinear", "bicubic", "lanczos3", "lanczos5")


def _per_axis_pairs(value: Any, rank: int, name: str) -> tuple[tuple[int, int], ...]:
    """`1` -> `((1, 1),) * rank`; `(a, b)` -> `((a, a), (b, b))`; pairs are kept; all >= 0."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise ValueError(f"`{name}` cannot be negative. Received: {name}={value}.")
        return ((value, value),) * rank
    if not hasattr(value, "__len__") or len(value) != rank:
        raise ValueError(f"`{name}` should be an int, a tuple of {rank} ints, or a tuple of {rank} tuples of "
                         f"2 ints. Received: {name}={value!r}.")
    return tuple(tuple_arg(v, 2, f"{_ORDINALS[i]} entry of {name}", allow_zero=True) for i, v in enumerate(value))


def _spatial_slice(data_format: str, slices: list[slice]) -> tuple[slice, ...]:
    every = slice(None)
    return (every, *slices, every) if data_format == "channels_last" else (every, every, *slices)


class _Resizing(Layer):
    """Shared by the padding, cropping and up-sampling layers: rank and data format."""
    _rank = 0
    _takes_data_format = True  # Cropping1D and UpSampling1D have none in Keras (channels last)

    def __init__(self, data_format: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = data_format_arg(data_format)

    def _channels(self, input_shape):
        check_rank(self, input_shape, self._rank + 2)
        return input_shape[-1] if self.data_format == "channels_last" else input_shape[1]

    def _new_shape(self, input_shape, resize) -> tuple:
        channels = self._channels(input_shape)
        sizes = [None if n is None else resize(i, n) for i, n in enumerate(spatial_dims(input_shape, self.data_format))]
        return with_spatial(input_shape, sizes, channels, self.data_format)

    def get_config(self):
        return layer_config(self, data_format=self.data_format) if self._takes_data_format else layer_config(self)


class _ZeroPadding(_Resizing):
    def _pairs(self) -> tuple[tuple[int, int], ...]:
        return self.padding

    def compute_output_shape(self, input_shape):
        return self._new_shape(input_shape, lambda i, n: n + sum(self._pairs()[i]))

    def call(self, inputs):
        self._channels(inputs.shape)
        pads = list(self._pairs())
        pads = [(0, 0), *pads, (0, 0)] if self.data_format == "channels_last" else [(0, 0), (0, 0), *pads]
        return jnp.pad(inputs, pads)

    def get_config(self):
        return {**super().get_config(), "padding": self.padding}


class ZeroPadding1D(_ZeroPadding):
    """Adds zeros at the start and end of the steps axis: `padding` is an int or `(start, end)`."""
    _rank = 1

    def __init__(self, padding=1, data_format=None, **kwargs):
        super().__init__(data_format, **kwargs)
        self.padding = tuple_arg(padding, 2, "padding", allow_zero=True)

    def _pairs(self):
        return (self.padding,)


class ZeroPadding2D(_ZeroPadding):
    """Adds rows and columns of zeros: `padding` is an int, `(rows, cols)` or
    `((top, bottom), (left, right))`."""
    _rank = 2

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(data_format, **kwargs)
        self.padding = _per_axis_pairs(padding, 2, "padding")


class ZeroPadding3D(_ZeroPadding):
    """Adds zeros along the three spatial axes: an int, 3 ints, or 3 `(start, end)` pairs."""
    _rank = 3

    def __init__(self, padding=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(data_format, **kwargs)
        self.padding = _per_axis_pairs(padding, 3, "padding")


class _Cropping(_Resizing):
    def _pairs(self) -> tuple[tuple[int, int], ...]:
        return self.cropping

    def compute_output_shape(self, input_shape):
        def crop(i, n):
            if n - sum(self._pairs()[i]) <= 0:
                raise ValueError("Values in `cropping` argument should be smaller than the corresponding spatial "
                                 f"dimension of the input. Received: input_shape={tuple(input_shape)}, "
                                 f"cropping={self.cropping}")
            return n - sum(self._pairs()[i])
        return self._new_shape(input_shape, crop)

    def call(self, inputs):
        self.compute_output_shape(inputs.shape)
        slices = [slice(start, n - end) for (start, end), n in
                  zip(self._pairs(), spatial_dims(inputs.shape, self.data_format))]
        return inputs[_spatial_slice(self.data_format, slices)]

    def get_config(self):
        return {**super().get_config(), "cropping": self.cropping}


class Cropping1D(_Cropping):
    """Removes `cropping = (start, end)` steps (an int crops both ends equally); channels last."""
    _rank, _takes_data_format = 1, False

    def __init__(self, cropping=(1, 1), **kwargs):
        super().__init__(None, **kwargs)
        self.data_format = "channels_last"
        self.cropping = tuple_arg(cropping, 2, "cropping", allow_zero=True)

    def _pairs(self):
        return (self.cropping,)


class Cropping2D(_Cropping):
    """Removes rows and columns: an int, `(rows, cols)` or `((top, bottom), (left, right))`."""
    _rank = 2

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(data_format, **kwargs)
        self.cropping = _per_axis_pairs(cropping, 2, "cropping")


class Cropping3D(_Cropping):
    """Crops the three spatial axes: an int, 3 ints, or 3 `(start, end)` pairs."""
    _rank = 3

    def __init__(self, cropping=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(data_format, **kwargs)
        self.cropping = _per_axis_pairs(cropping, 3, "cropping")


class _UpSampling(_Resizing):
    def _factors(self) -> tuple[int, ...]:
        return self.size

    def compute_output_shape(self, input_shape):
        return self._new_shape(input_shape, lambda i, n: n * self._factors()[i])

    def _repeat(self, x):
        first = 1 if self.data_format == "channels_last" else 2
        for i, factor in enumerate(self._factors()):
            x = jnp.repeat(x, factor, axis=first + i)
        return x

    def call(self, inputs):
        self._channels(inputs.shape)
        return self._repeat(inputs)

    def get_config(self):
        return {**super().get_config(), "size": self.size}


class UpSampling1D(_UpSampling):
    """Repeats each step `size` times."""
    _rank, _takes_data_format = 1, False

    def __init__(self, size=2, **kwargs):
        super().__init__(None, **kwargs)
        self.data_format = "channels_last"
        if not isinstance(size, int) or isinstance(size, bool):
            raise TypeError(f"Expected an integer value for `size`, got {type(size)}.")
        if size <= 0:
            raise ValueError(f"Argument `size` should be a positive integer. Received: size={size}")
        self.size = size

    def _factors(self):
        return (self.size,)


class UpSampling2D(_UpSampling):
    """Scales images up by `size = (rows, cols)`: "nearest" repeats pixels, "bilinear" (or
    "bicubic", "lanczos3", "lanczos5") interpolates as `ops.image.resize`."""
    _rank = 2

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(data_format, **kwargs)
        self.size = tuple_arg(size, 2, "size")
        if not isinstance(interpolation, str) or interpolation.lower() not in _INTERPOLATIONS:
            raise ValueError(f"`interpolation` must be one of {_INTERPOLATIONS}. "
                             f"Received: interpolation={interpolation!r}")
        self.interpolation = interpolation.lower()

    def call(self, inputs):
        self._channels(inputs.shape)
        if self.interpolation == "nearest":
            return self._repeat(inputs)
        height, width = (n * f for n, f in zip(spatial_dims(inputs.shape, self.data_format), self.size))
        return ops.image.resize(inputs, (height, width), interpolation=self.interpolation,
                                data_format=self.data_format)

    def get_config(self):
        return {**super().get_config(), "interpolation": self.interpolation}


class UpSampling3D(_UpSampling):
    """Repeats each cell `size = (d, h, w)` times along the three spatial axes."""
    _rank = 3

    def __init__(self, size=(2, 2, 2), data_format=None, **kwargs):
        super().__init__(data_format, **kwargs)
        self.size = tuple_arg(size, 3, "size")


class RepeatVector(Layer):
    """`(batch, features)` -> `(batch, n, features)`: the input repeated `n` times."""

    def __init__(self, n: int, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(n, int) or isinstance(n, bool):
            raise TypeError(f"Expected an integer value for `n`, got {type(n)}.")
        if n <= 0:
            raise ValueError(f"Argument `n` should be a positive integer. Received: n={n}")
        self.n = n

    def compute_output_shape(self, input_shape):
        check_rank(self, input_shape, 2)
        return (input_shape[0], self.n, input_shape[1])

    def call(self, inputs):
        check_rank(self, inputs.shape, 2)
        return jnp.repeat(inputs[:, None, :], self.n, axis=1)

    def get_config(self):
        return layer_config(self, n=self.n)


class Permute(Layer):
    """Permutes the non-batch axes: `dims` is a permutation of `1..rank-1` (the batch axis stays)."""

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        self.dims = tuple(dims)
        if sorted(self.dims) != list(range(1, len(self.dims) + 1)):
            raise ValueError("Invalid permutation argument `dims` for Permute Layer. The set of indices in `dims` "
                             f"must be consecutive and start from 1. Received dims={dims}")

    def compute_output_shape(self, input_shape):
        check_rank(self, input_shape, len(self.dims) + 1)
        return (input_shape[0], *(input_shape[d] for d in self.dims))

    def call(self, inputs):
        check_rank(self, inputs.shape, len(self.dims) + 1)
        return jnp.transpose(inputs, (0, *self.dims))

    def get_config(self):
        return layer_config(self, dims=self.dims)


class Identity(Layer):
    """Returns its input unchanged (masks pass through)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def compute_output_shape(self, input_shape):
        return input_shape

    def call(self, inputs):
        return inputs

    def get_config(self):
        return layer_config(self)


__all__ = ["Cropping1D", "Cropping2D", "Cropping3D", "Identity", "Permute", "RepeatVector", "UpSampling1D",
           "UpSampling2D", "UpSampling3D", "ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D"]
