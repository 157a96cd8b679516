"""Argument checks and shape arithmetic shared by the spatial layer families (issue 13).

Owns Keras 3's rules for `data_format`, integer tuples (`kernel_size`, `strides`, `cropping`...),
`padding`, and the output shapes of convolutions, transposed convolutions and pools, with `None`
for unknown sizes. Pure Python on shapes: no arrays, no layers' state.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from kerasish import backend

Shape = tuple[int | None, ...]


# reshaping, noise, conv_lstm and preprocessing/_image_base still import the check under this name.
data_format_arg = backend.standardize_data_format


def tuple_arg(value: Any, n: int, name: str, allow_zero: bool = False) -> tuple[int, ...]:
    """`3` -> `(3,) * n`; a sequence must hold `n` integers, each > 0 (>= 0 with `allow_zero`)."""
    if _is_int(value):
        items = (int(value),) * n
    else:
        try:
            items = tuple(value)
        except TypeError:
            raise ValueError(f"The `{name}` argument must be a tuple of {n} integers. "
                             f"Received: {name}={value!r}") from None
        if len(items) != n or not all(_is_int(v) for v in items):
            raise ValueError(f"The `{name}` argument must be a tuple of {n} integers. "
                             f"Received: {name}={value!r}")
        items = tuple(int(v) for v in items)
    low = 0 if allow_zero else 1
    if any(v < low for v in items):
        raise ValueError(f"The `{name}` argument must be a tuple of {n} integers, each "
                         f"{'>= 0' if allow_zero else '> 0'}. Received: {name}={value!r}")
    return items


def padding_arg(value: Any, allow_causal: bool = False) -> str:
    allowed = ("valid", "same", "causal") if allow_causal else ("valid", "same")
    padding = value.lower() if isinstance(value, str) else value
    if padding not in allowed:
        raise ValueError(f"The `padding` argument must be one of {allowed}. Received: padding={value!r}")
    return padding


def positive_number(value: Any, name: str, allow_zero: bool = True, upper: float | None = None) -> float:
    """A real number >= 0 (> 0 without `allow_zero`), at most `upper` when given."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or value < 0 or (value == 0 and not allow_zero) or (upper is not None and value > upper):
        bound = f" and at most {upper}" if upper is not None else ""
        raise ValueError(f"Invalid value received for argument `{name}`. Expected a "
                         f"{'non-negative' if allow_zero else 'positive'} number{bound}. Received: {name}={value!r}")
    return value


def check_rank(layer: Any, input_shape: Shape, ndim: int) -> None:
    if len(input_shape) != ndim:
        raise ValueError(f"Input 0 of layer '{layer.name}' is incompatible with the layer: expected ndim={ndim}, "
                         f"found ndim={len(input_shape)}. Full shape received: {tuple(input_shape)}")


def channel_axis(data_format: str) -> int:
    return -1 if data_format == "channels_last" else 1


def spatial_dims(input_shape: Shape, data_format: str) -> Shape:
    return tuple(input_shape[1:-1] if data_format == "channels_last" else input_shape[2:])


def with_spatial(input_shape: Shape, spatial: Sequence[int | None], channels: int | None,
                 data_format: str) -> Shape:
    """`(batch, *spatial, channels)` or `(batch, channels, *spatial)`."""
    if data_format == "channels_last":
        return (input_shape[0], *spatial, channels)
    return (input_shape[0], channels, *spatial)


def conv_length(size: int | None, kernel: int, stride: int, padding: str, dilation: int = 1) -> int | None:
    """Output length of a convolution or pooling window along one axis ("causal" behaves as "same")."""
    if size is None:
        return None
    if padding == "valid":
        return (size - (kernel - 1) * dilation - 1) // stride + 1
    return (size - 1) // stride + 1


def windowed_shape(layer: Any, input_shape: Shape, rank: int, channels: int | None, window: Sequence[int],
                   strides: Sequence[int], padding: str, data_format: str,
                   dilation: Sequence[int] | None = None) -> Shape:
    """The output shape of a convolution/pool; an output size of zero or less is a ValueError."""
    check_rank(layer, input_shape, rank + 2)
    dilation = dilation or (1,) * rank
    sizes = [conv_length(n, k, s, padding, d)
             for n, k, s, d in zip(spatial_dims(input_shape, data_format), window, strides, dilation)]
    if any(n is not None and n <= 0 for n in sizes):
        raise ValueError(f"Layer '{layer.name}': computed output size would be zero or negative. Received: "
                         f"input shape={tuple(input_shape)}, window={tuple(window)}, strides={tuple(strides)}, "
                         f"dilation_rate={tuple(dilation)}, padding='{padding}'.")
    return with_spatial(input_shape, sizes, channels, data_format)


def transpose_length(size: int | None, kernel: int, stride: int, padding: str, output_padding: int | None,
                     dilation: int = 1) -> int | None:
    """Output length of a transposed convolution along one axis (Keras's rule)."""
    if size is None:
        return None
    kernel = (kernel - 1) * dilation + 1
    if padding == "valid":
        extra = max(kernel, stride) - kernel if output_padding is None else output_padding
        return (size - 1) * stride + kernel + extra
    if output_padding is None:
        return size * stride
    return (size - 1) * stride + kernel % 2 + output_padding


def transpose_left_pad(kernel: int, stride: int, padding: str, output_padding: int | None,
                       dilation: int = 1) -> int:
    """Zeros before the stride-dilated input so that a stride-1 valid convolution with the flipped
    kernel gives Keras's transposed convolution (the right pad follows from the output length)."""
    kernel = (kernel - 1) * dilation + 1
    if padding == "valid":
        return kernel - 1
    total = stride + kernel - 2 if output_padding is None else kernel + kernel % 2 - 2 + output_padding
    return min(total // 2 + total % 2, kernel - 1)


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)
