"""2-D pooling on NHWC tensors with Keras padding semantics.

This module owns the maths of max/average/global pooling and the choice between
equivalent lowerings. No weights, no state, no global flags: ``impl="auto"`` is
a static Python decision from the backend and the (static) shapes.

Lowerings:

* ``"xla"``: ``lax.reduce_window``. Its max-pool gradient is XLA's
  select-and-scatter, which is slow on CPU.
* ``"slices"``: any pool size, stride and padding. Forward is
  ``lax.reduce_window`` on the padded input; a ``custom_vjp`` backward takes the
  ``ph*pw`` strided views (max: a first-maximum mask times the gradient; average:
  the gradient itself) and puts them back with pads and adds.
* ``"reshape"``: when ``strides == pool_size`` the windows tile the padded input:
  forward is a reshape to ``(n, oh, ph, ow, pw, c)`` and a reduction, backward
  stacks the per-view gradients back with one reshape. Other shapes fall back to
  ``"slices"``.

Max-pool gradients follow XLA's select-and-scatter exactly, ties included: the
whole gradient of a window goes to its first maximal element in row-major order.
"""

from __future__ import annotations

import functools
from typing import Sequence

import jax
from jax import lax
import jax.numpy as jnp
import numpy as np

from kerasish.kernels.conv import normalize_padding, normalize_tuple, same_padding, tap_slices, untap

__all__ = [
    "max_pool2d", "avg_pool2d", "global_avg_pool2d", "global_max_pool2d", "resolve_pool_impl",
    "POOL_IMPLS",
]

POOL_IMPLS = ("auto", "xla", "slices", "reshape")


def lowest(dtype) -> np.ndarray:
    """The identity of max as a NumPy scalar. `lax.reduce_window` recognises its differentiable
    max / add monoids only from a concrete init value; a `jnp` array is a tracer under `jax.jit`,
    and the gradient then fails to linearize."""
    dtype = jnp.dtype(dtype)
    return np.array(-np.inf if jnp.issubdtype(dtype, jnp.inexact) else jnp.iinfo(dtype).min, dtype)


def _geometry(x, pool_size, strides, padding):
    """Validated (window, strides, pads, out_hw) for a pooling call."""
    if x.ndim != 4:
        raise ValueError(
            f"2-D pooling expects x of rank 4 (batch, height, width, channels). "
            f"Received: x.shape={x.shape}"
        )
    window = normalize_tuple(pool_size, "pool_size")
    strides = window if strides is None else normalize_tuple(strides, "strides")
    padding = normalize_padding(padding)
    hw = x.shape[1:3]
    if padding == "valid":
        if any(n < w for n, w in zip(hw, window)):
            raise ValueError(
                f"pooling with padding='valid' needs spatial size >= pool_size {window}. "
                f"Received: x.shape={x.shape}. Use padding='same' or a smaller pool_size."
            )
        pads = ((0, 0), (0, 0))
        out_hw = tuple((n - w) // s + 1 for n, w, s in zip(hw, window, strides))
    else:
        pads = tuple(same_padding(n, w, s) for n, w, s in zip(hw, window, strides))
        out_hw = tuple(-(-n // s) for n, s in zip(hw, strides))
    return window, strides, pads, out_hw


def resolve_pool_impl(impl: str, op: str, geometry, backend: str | None = None) -> str:
    """The lowering ``impl`` stands for, decided in Python (never traced) from the
    backend, the op (``"max"`` or ``"avg"``) and the (window, strides, ...) geometry.

    ``"auto"`` on CPU: max pooling is ``"reshape"`` where windows tile the input,
    else ``"slices"`` (XLA's select-and-scatter gradient is 5-30x slower); average
    pooling stays ``"xla"`` (its pad + reduce_window gradient is fast, and beat both
    formulations here once a convolution consumes the result; see
    ``benchmarks/cpu_conv_probe.py``). Elsewhere ``"xla"``.
    """
    if impl not in POOL_IMPLS:
        raise ValueError(f"`impl` must be one of {POOL_IMPLS}. Received: impl={impl!r}")
    if impl == "auto":
        if (backend or jax.default_backend()) != "cpu" or op == "avg":
            return "xla"
        impl = "reshape"
    window, strides = geometry[:2]
    if impl == "reshape" and window != strides:  # windows must tile the padded input
        return "slices"
    return impl


def _pad_to(x, pads, out_hw, window, strides, value):
    """Pads (and crops) ``x`` so that exactly the rows/cols the windows read remain."""
    need = [(o - 1) * s + w for o, s, w in zip(out_hw, strides, window)]
    hi = [n - (x.shape[1 + a] + pads[a][0]) for a, n in enumerate(need)]
    config = [(0, 0, 0), (pads[0][0], hi[0], 0), (pads[1][0], hi[1], 0), (0, 0, 0)]
    return lax.pad(x, value.astype(x.dtype), config)


def _windows(xp, window, strides, out_hw, tiled):
    """The ``ph*pw`` views, each ``(n, oh, ow, c)``, in row-major window order."""
    if not tiled:
        return tap_slices(xp, window, strides, (1, 1), out_hw)
    n, c = xp.shape[0], xp.shape[3]
    x6 = xp.reshape(n, out_hw[0], window[0], out_hw[1], window[1], c)
    return [x6[:, :, i, :, j, :] for i in range(window[0]) for j in range(window[1])]


def _unwindow(parts, xp_shape, window, strides, out_hw, tiled):
    """Transpose of :func:`_windows`: puts the per-view arrays back into padded layout."""
    if not tiled:
        return untap(parts, xp_shape, window, strides, (1, 1))
    (ph, pw), (oh, ow) = window, out_hw
    rows = [jnp.stack(parts[i * pw:(i + 1) * pw], axis=3) for i in range(ph)]
    return jnp.stack(rows, axis=2).reshape(xp_shape[0], oh * ph, ow * pw, xp_shape[3])


def _reduce_views(xp, window, strides, out_hw, tiled, op):
    """Max or sum over each window of padded ``xp`` as one reduction.

    Not a chain of elementwise ops on the views: XLA would fuse such a chain into a
    consumer like the im2col gather and recompute it for every read.
    """
    init, fn = (lowest(xp.dtype), lax.max) if op == "max" else (np.zeros((), xp.dtype), lax.add)
    if tiled:
        n, c = xp.shape[0], xp.shape[3]
        x6 = xp.reshape(n, out_hw[0], window[0], out_hw[1], window[1], c)
        return lax.reduce(x6, init, fn, (2, 4))
    return lax.reduce_window(xp, init, fn, (1, *window, 1), (1, *strides, 1), "VALID")


def _crop_back(dxp, x_shape, pads):
    """Transpose of :func:`_pad_to`: drops the low padding, crops or zero-extends the end."""
    h, w = x_shape[1:3]
    config = [(0, 0, 0), (-pads[0][0], h + pads[0][0] - dxp.shape[1], 0),
              (-pads[1][0], w + pads[1][0] - dxp.shape[2], 0), (0, 0, 0)]
    return lax.pad(dxp, np.zeros((), dxp.dtype), config)


@functools.partial(jax.custom_vjp, nondiff_argnums=(1, 2, 3, 4, 5))
def _max_pool_views(x, window, strides, pads, out_hw, tiled):
    xp = _pad_to(x, pads, out_hw, window, strides, lowest(x.dtype))
    return _reduce_views(xp, window, strides, out_hw, tiled, "max")


def _max_pool_fwd(x, window, strides, pads, out_hw, tiled):
    y = _max_pool_views(x, window, strides, pads, out_hw, tiled)
    return y, (x, y)


def _max_pool_bwd(window, strides, pads, out_hw, tiled, residuals, g):
    """Each window's gradient goes to its first maximal view (select-and-scatter's rule)."""
    x, y = residuals
    xp = _pad_to(x, pads, out_hw, window, strides, lowest(x.dtype))
    taken, parts = None, []
    for view in _windows(xp, window, strides, out_hw, tiled):
        hit = view == y
        if taken is None:
            taken = hit
        else:
            hit = hit & ~taken
            taken = taken | hit
        parts.append(jnp.where(hit, g, np.zeros((), g.dtype)))
    return (_crop_back(_unwindow(parts, xp.shape, window, strides, out_hw, tiled), x.shape, pads),)


@functools.partial(jax.custom_vjp, nondiff_argnums=(1, 2, 3, 4, 5))
def _sum_pool_views(x, window, strides, pads, out_hw, tiled):
    xp = _pad_to(x, pads, out_hw, window, strides, np.zeros((), x.dtype))
    return _reduce_views(xp, window, strides, out_hw, tiled, "sum")


def _sum_pool_fwd(x, window, strides, pads, out_hw, tiled):
    return _sum_pool_views(x, window, strides, pads, out_hw, tiled), x.shape


def _sum_pool_bwd(window, strides, pads, out_hw, tiled, x_shape, g):
    """Every view receives the window's gradient: pads and adds, no reduce_window."""
    need = [(o - 1) * s + w for o, s, w in zip(out_hw, strides, window)]
    xp_shape = (x_shape[0], *need, x_shape[3])
    parts = [g] * (window[0] * window[1])
    return (_crop_back(_unwindow(parts, xp_shape, window, strides, out_hw, tiled), x_shape, pads),)


_sum_pool_views.defvjp(_sum_pool_fwd, _sum_pool_bwd)
_max_pool_views.defvjp(_max_pool_fwd, _max_pool_bwd)


def max_pool2d(
    x: jax.Array,
    pool_size: int | Sequence[int] = (2, 2),
    strides: int | Sequence[int] | None = None,
    padding: str = "valid",
    impl: str = "auto",
) -> jax.Array:
    """Max pooling of an NHWC batch (Keras ``MaxPooling2D`` semantics).

    Args:
      x: input of shape ``(batch, height, width, channels)``.
      pool_size: int or pair, the window size.
      strides: int, pair or None (None means ``pool_size``, as in Keras).
      padding: ``"valid"`` or ``"same"`` (TF/Keras style; padded cells never win).
      impl: ``"auto"``, ``"xla"``, ``"slices"`` or ``"reshape"`` (see module docs).
        ``"auto"`` is ``"reshape"`` on CPU (falling back to ``"slices"`` when windows
        do not tile the input) and ``"xla"`` elsewhere.

    Returns:
      Array of shape ``(batch, out_h, out_w, channels)``.

    Raises:
      ValueError: on bad rank, pool_size, strides, padding or impl.

    Example:
      >>> max_pool2d(jnp.ones((2, 28, 28, 4))).shape
      (2, 14, 14, 4)
    """
    geometry = _geometry(x, pool_size, strides, padding)
    window, strides, pads, out_hw = geometry
    impl = resolve_pool_impl(impl, "max", geometry)
    if impl == "xla":
        return lax.reduce_window(
            x, lowest(x.dtype), lax.max, (1, *window, 1), (1, *strides, 1), ((0, 0), *pads, (0, 0))
        )
    return _max_pool_views(x, window, strides, pads, out_hw, impl == "reshape")


def _valid_counts(hw, window, strides, pads, out_hw) -> np.ndarray:
    """How many real (unpadded) cells each output window covers, shape ``(oh, ow, 1)``
    (a constant, computed in NumPy at trace time)."""
    per_axis = []
    for n, w, s, (lo, _), o in zip(hw, window, strides, pads, out_hw):
        start = np.arange(o) * s - lo
        per_axis.append(np.minimum(start + w, n) - np.maximum(start, 0))
    return np.outer(*per_axis)[:, :, None]


def avg_pool2d(
    x: jax.Array,
    pool_size: int | Sequence[int] = (2, 2),
    strides: int | Sequence[int] | None = None,
    padding: str = "valid",
    impl: str = "auto",
) -> jax.Array:
    """Average pooling of an NHWC batch (Keras ``AveragePooling2D`` semantics).

    With ``padding="same"`` each window is divided by the number of real (not
    padded) cells it covers, as in Keras.

    Args:
      x: input of shape ``(batch, height, width, channels)``.
      pool_size: int or pair, the window size.
      strides: int, pair or None (None means ``pool_size``).
      padding: ``"valid"`` or ``"same"``.
      impl: ``"auto"`` (``"xla"`` on every backend, see :func:`resolve_pool_impl`),
        ``"xla"``, ``"slices"`` or ``"reshape"``.

    Returns:
      Array of shape ``(batch, out_h, out_w, channels)``.

    Raises:
      ValueError: on bad rank, pool_size, strides, padding or impl.

    Example:
      >>> avg_pool2d(jnp.ones((2, 5, 5, 3)), 2, padding="same").shape  # all ones
      (2, 3, 3, 3)
    """
    geometry = _geometry(x, pool_size, strides, padding)
    window, strides, pads, out_hw = geometry
    counts = _valid_counts(x.shape[1:3], window, strides, pads, out_hw)[None].astype(x.dtype)
    impl = resolve_pool_impl(impl, "avg", geometry)
    if impl == "xla":
        dims, steps = (1, *window, 1), (1, *strides, 1)
        zero = np.zeros((), x.dtype)
        total = lax.reduce_window(x, zero, lax.add, dims, steps, ((0, 0), *pads, (0, 0)))
    else:
        total = _sum_pool_views(x, window, strides, pads, out_hw, impl == "reshape")
    return total / counts


def global_avg_pool2d(x: jax.Array, keepdims: bool = False) -> jax.Array:
    """Mean over height and width of an NHWC batch: ``(n, c)`` or ``(n, 1, 1, c)``."""
    if x.ndim != 4:
        raise ValueError(f"global_avg_pool2d expects x of rank 4. Received: x.shape={x.shape}")
    return jnp.mean(x, axis=(1, 2), keepdims=keepdims)


def global_max_pool2d(x: jax.Array, keepdims: bool = False) -> jax.Array:
    """Max over height and width of an NHWC batch: ``(n, c)`` or ``(n, 1, 1, c)``."""
    if x.ndim != 4:
        raise ValueError(f"global_max_pool2d expects x of rank 4. Received: x.shape={x.shape}")
    return jnp.max(x, axis=(1, 2), keepdims=keepdims)
