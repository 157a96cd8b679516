"""2-D convolution on NHWC tensors with Keras padding semantics.

This module owns the maths of ``conv2d`` and the choice between equivalent
lowerings of it. It holds no weights and no state: layers create kernels and
call :func:`conv2d`. It must not read environment variables or set XLA flags;
the lowering is picked by a static Python decision from the backend and shapes.

Lowerings (all give the same values and gradients to float tolerance):

* ``"xla"``: ``lax.conv_general_dilated``, the native XLA convolution.
* ``"im2col"``: the patches of the padded input (one gather) times the
  reshaped kernel (one matmul). Its gradients are one matmul each plus pads and
  adds, which XLA's CPU backend runs much faster than the convolutions that
  autodiff of ``"xla"`` produces.

Other formulations (concatenated slices, a sum of per-tap matmuls,
``lax.conv_general_dilated_patches``) were measured slower on CPU; see
``benchmarks/cpu_conv_probe.py``.
"""

from __future__ import annotations

import functools
from typing import Sequence

import jax
from jax import lax
import jax.numpy as jnp
import numpy as np

__all__ = ["conv2d", "resolve_conv_impl", "CONV_IMPLS", "MAX_PATCH_BYTES"]

CONV_IMPLS = ("auto", "xla", "im2col")
_DIMENSION_NUMBERS = ("NHWC", "HWIO", "NHWC")


def normalize_tuple(value: int | Sequence[int], name: str) -> tuple[int, int]:
    """Returns ``value`` as a pair of positive ints (an int ``n`` means ``(n, n)``)."""
    pair = (value, value) if isinstance(value, int) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, int) and v > 0 for v in pair):
        raise ValueError(
            f"`{name}` must be a positive integer or a pair of positive integers. "
            f"Received: {name}={value!r}"
        )
    return pair


def normalize_padding(padding: str) -> str:
    """Returns ``"valid"`` or ``"same"``; raises for anything else."""
    mode = padding.lower() if isinstance(padding, str) else padding
    if mode not in ("valid", "same"):
        raise ValueError(f'`padding` must be "valid" or "same". Received: padding={padding!r}')
    return mode


def same_padding(size: int, window: int, stride: int) -> tuple[int, int]:
    """TF/Keras "same" padding along one axis: output ``ceil(size / stride)``,
    the odd pixel of padding goes to the end (bottom/right)."""
    out = -(-size // stride)
    total = max((out - 1) * stride + window - size, 0)
    return total // 2, total - total // 2


def _pads(shape, window, strides, padding):
    if padding == "valid":
        return ((0, 0), (0, 0))
    return tuple(same_padding(n, w, s) for n, w, s in zip(shape, window, strides))


def _out_size(size: int, window: int, stride: int) -> int:
    return (size - window) // stride + 1


def _check(x: jax.Array, kernel: jax.Array) -> None:
    if x.ndim != 4:
        raise ValueError(
            f"conv2d expects x of rank 4 (batch, height, width, channels). "
            f"Received: x.shape={x.shape}"
        )
    if kernel.ndim != 4 or kernel.shape[2] != x.shape[3]:
        raise ValueError(
            "conv2d expects a kernel of shape (kh, kw, in_channels, out_channels) with "
            f"in_channels == x.shape[-1]. Received: kernel.shape={kernel.shape}, "
            f"x.shape={x.shape}"
        )


def tap_slices(xp: jax.Array, window, strides, dilation, out_hw) -> list[jax.Array]:
    """The ``kh*kw`` strided views of padded ``xp`` (row-major tap order), each of
    shape ``(n, out_h, out_w, c)``: tap ``(i, j)`` holds ``xp[:, i*dh + sh*p, j*dw + sw*q]``."""
    n, _, _, c = xp.shape
    (kh, kw), (sh, sw), (dh, dw), (oh, ow) = window, strides, dilation, out_hw
    views = []
    for i in range(kh):
        for j in range(kw):
            start = (0, i * dh, j * dw, 0)
            limit = (n, i * dh + (oh - 1) * sh + 1, j * dw + (ow - 1) * sw + 1, c)
            views.append(lax.slice(xp, start, limit, (1, sh, sw, 1)))
    return views


def untap(parts, xp_shape, window, strides, dilation) -> jax.Array:
    """Transpose of :func:`tap_slices`: the sum of the per-tap arrays, each padded
    back (with interior padding for strides) to where its view came from."""
    kw, (sh, sw), (dh, dw) = window[1], strides, dilation
    oh, ow = parts[0].shape[1:3]
    zero, total = np.zeros((), parts[0].dtype), None
    for t, part in enumerate(parts):
        i, j = divmod(t, kw)
        config = [(0, 0, 0), (i * dh, xp_shape[1] - i * dh - (oh - 1) * sh - 1, sh - 1),
                  (j * dw, xp_shape[2] - j * dw - (ow - 1) * sw - 1, sw - 1), (0, 0, 0)]
        placed = lax.pad(part, zero, config)
        total = placed if total is None else total + placed
    return total


def _conv_xla(x, kernel, strides, pads, dilation):
    return lax.conv_general_dilated(
        x, kernel, strides, pads, rhs_dilation=dilation, dimension_numbers=_DIMENSION_NUMBERS
    )


def _padded(x, pads):
    return jnp.pad(x, ((0, 0), pads[0], pads[1], (0, 0))) if any(map(any, pads)) else x


def _geometry(xp_hw, window, strides, dilation):
    eff = [(k - 1) * d + 1 for k, d in zip(window, dilation)]
    return tuple(_out_size(n, e, s) for n, e, s in zip(xp_hw, eff, strides))


def _patch_index(wp, window, strides, dilation, out_hw) -> np.ndarray:
    """Flat spatial index into the padded input of every (oh, ow, i, j) patch cell."""
    (kh, kw), (sh, sw), (dh, dw), (oh, ow) = window, strides, dilation, out_hw
    rows = (np.arange(oh) * sh)[:, None, None, None] + (np.arange(kh) * dh)[None, None, :, None]
    cols = (np.arange(ow) * sw)[None, :, None, None] + (np.arange(kw) * dw)[None, None, None, :]
    return (rows * wp + cols).reshape(-1, 1).astype(np.int32)


@functools.partial(jax.custom_vjp, nondiff_argnums=(1, 2, 3))
def _patches(xp, window, strides, dilation):
    """im2col: ``(n, oh, ow, kh*kw*c)`` with channels fastest, then kw, then kh.

    One gather on the flattened spatial axis: XLA:CPU runs it several times faster
    than concatenating the ``kh*kw`` strided slices (which it materialises one by one).
    XLA fuses elementwise producers of ``xp`` (bias, relu) into the gather, so they
    are recomputed per read; cheap for those, but a producer that is itself a
    window op must end in a reduction (as the pools in ``pooling.py`` do).
    """
    n, hp, wp, c = xp.shape
    out_hw = _geometry((hp, wp), window, strides, dilation)
    index = _patch_index(wp, window, strides, dilation, out_hw)
    dims = lax.GatherDimensionNumbers(
        offset_dims=(0, 2), collapsed_slice_dims=(1,), start_index_map=(1,)
    )
    flat = lax.gather(
        xp.reshape(n, hp * wp, c), index, dims, (n, 1, c),
        mode=lax.GatherScatterMode.PROMISE_IN_BOUNDS,
    )
    return flat.reshape(n, *out_hw, window[0] * window[1] * c)


def _patches_fwd(xp, window, strides, dilation):
    return _patches(xp, window, strides, dilation), xp.shape


def _patches_bwd(window, strides, dilation, xp_shape, g):
    """col2im as pads and adds (the transpose of strided slicing), not a scatter-add,
    which XLA:CPU runs slowly."""
    c = xp_shape[3]
    parts = [lax.slice_in_dim(g, t * c, (t + 1) * c, axis=3) for t in range(window[0] * window[1])]
    return (untap(parts, xp_shape, window, strides, dilation),)


_patches.defvjp(_patches_fwd, _patches_bwd)


def _conv_im2col(x, kernel, strides, pads, dilation):
    kh, kw, cin, cout = kernel.shape
    xp = _padded(x, pads)
    if (kh, kw) == (1, 1):  # the patches are the (strided) input itself
        patches = xp[:, ::strides[0], ::strides[1], :]
    else:
        patches = _patches(xp, (kh, kw), strides, dilation)
    return lax.dot_general(patches, kernel.reshape(kh * kw * cin, cout), (((3,), (0,)), ((), ())))


_CONV_FNS = {"xla": _conv_xla, "im2col": _conv_im2col}

# "auto" keeps the native convolution where im2col's patch buffer (kh*kw copies of
# the input) would be larger than this: a memory guard, not a measured crossover.
MAX_PATCH_BYTES = 1 << 30


def resolve_conv_impl(impl: str, patch_bytes: int = 0, backend: str | None = None) -> str:
    """The lowering that ``impl`` stands for, decided in Python (never traced).

    ``"auto"`` on CPU is ``"im2col"`` (see ``benchmarks/cpu_conv_probe.py``: its
    gradients avoid the slow convolutions XLA:CPU runs for autodiff of ``"xla"``)
    unless the patch buffer would exceed ``MAX_PATCH_BYTES``; on GPU/TPU it is
    ``"xla"``, whose native convolutions (cuDNN, the MXU) are the fast path there.
    """
    if impl not in CONV_IMPLS:
        raise ValueError(f"`impl` must be one of {CONV_IMPLS}. Received: impl={impl!r}")
    if impl != "auto":
        return impl
    if (backend or jax.default_backend()) != "cpu" or patch_bytes > MAX_PATCH_BYTES:
        return "xla"
    return "im2col"


def conv2d(
    x: jax.Array,
    kernel: jax.Array,
    strides: int | Sequence[int] = (1, 1),
    padding: str = "valid",
    dilation_rate: int | Sequence[int] = (1, 1),
    impl: str = "auto",
) -> jax.Array:
    """2-D convolution (cross-correlation, as in Keras) of an NHWC batch.

    Args:
      x: input of shape ``(batch, height, width, in_channels)``.
      kernel: weights of shape ``(kh, kw, in_channels, out_channels)`` (Keras layout).
      strides: int or pair, the step between windows.
      padding: ``"valid"`` (no padding) or ``"same"`` (output ``ceil(size / stride)``,
        TF/Keras style: an odd total padding puts the extra pixel at bottom/right).
      dilation_rate: int or pair, spacing between kernel taps.
      impl: ``"auto"`` (static choice by backend, see :func:`resolve_conv_impl`),
        ``"xla"`` or ``"im2col"``. All give the same result.

    Returns:
      Array of shape ``(batch, out_h, out_w, out_channels)``.

    Raises:
      ValueError: on bad ranks, channel mismatch, padding, strides or impl.

    Example:
      >>> y = conv2d(jnp.ones((2, 28, 28, 1)), jnp.ones((3, 3, 1, 8)), padding="same")
      >>> y.shape
      (2, 28, 28, 8)
    """
    _check(x, kernel)
    strides = normalize_tuple(strides, "strides")
    dilation = normalize_tuple(dilation_rate, "dilation_rate")
    if strides != (1, 1) and dilation != (1, 1):
        raise ValueError(
            "conv2d does not support strides > 1 together with dilation_rate > 1 (as in "
            f"Keras). Received: strides={strides}, dilation_rate={dilation}"
        )
    padding = normalize_padding(padding)
    window = tuple((k - 1) * d + 1 for k, d in zip(kernel.shape[:2], dilation))
    pads = _pads(x.shape[1:3], window, strides, padding)
    if padding == "valid" and any(n < w for n, w in zip(x.shape[1:3], window)):
        raise ValueError(
            f"conv2d with padding='valid' needs spatial size >= the dilated kernel size "
            f"{window}. Received: x.shape={x.shape}. Use padding='same' or a larger input."
        )
    padded_hw = [n + lo + hi for n, (lo, hi) in zip(x.shape[1:3], pads)]
    oh, ow = _geometry(padded_hw, kernel.shape[:2], strides, dilation)
    patch_bytes = x.shape[0] * oh * ow * x.shape[3] * kernel.shape[0] * kernel.shape[1]
    impl = resolve_conv_impl(impl, patch_bytes * x.dtype.itemsize)
    return _CONV_FNS[impl](x, kernel, strides, pads, dilation)
