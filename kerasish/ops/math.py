"""keras.ops math group: segment reductions, top-k, special functions, FFTs and spectrograms.

Keras 3's names and arguments over `jax.ops`, `jax.lax`, `jax.scipy` and `jnp.fft`. Complex values
cross the boundary as Keras passes them: a `(real, imag)` pair of float arrays in, a pair out (except
`view_as_complex` / `view_as_real`, which convert between the two forms). Nothing is re-derived here.
"""

from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp
import jax.scipy as jsp
import numpy as np

from kerasish.ops._numpy_base import unary
from kerasish.ops.core import convert_to_tensor
from kerasish.ops.dtypes import standardize_dtype

__all__ = ["cdist", "erf", "erfc", "erfinv", "extract_sequences", "fft", "fft2", "ifft2", "in_top_k", "irfft",
           "istft", "logdet", "logsumexp", "rfft", "rsqrt", "segment_max", "segment_min", "segment_prod",
           "segment_sum", "stft", "top_k", "view_as_complex", "view_as_real"]

Pair = tuple[jax.Array, jax.Array]


# ---------------------------------------------------------------- segment reductions

def _segment_reduce(reduce: Callable, data: Any, segment_ids: Any, num_segments: int | None,
                    sorted: bool) -> jax.Array:
    data, segment_ids = convert_to_tensor(data), convert_to_tensor(segment_ids)
    if segment_ids.ndim != 1:
        raise ValueError("`segment_ids` must be a 1-D vector; flatten it (and the matching leading axes of "
                         f"`data`) or use vectorized_map. Received: segment_ids.shape={segment_ids.shape}")
    if segment_ids.shape[0] != data.shape[0]:
        raise ValueError("`segment_ids` and `data` must have the same leading dimension. Received: "
                         f"segment_ids.shape={segment_ids.shape}, data.shape={data.shape}")
    if num_segments is None:
        if isinstance(segment_ids, jax.core.Tracer):
            raise ValueError("`num_segments` must be given when `segment_ids` is traced (inside jax.jit), "
                             "since it sets the output shape. Received: num_segments=None")
        num_segments = int(jnp.max(segment_ids)) + 1 if segment_ids.size else 0
    return reduce(data, segment_ids, num_segments, indices_are_sorted=sorted)


def segment_sum(data: Any, segment_ids: Any, num_segments: int | None = None, sorted: bool = False
                ) -> jax.Array:
    """Sum of the rows of `data` in each segment; `num_segments` defaults to `max(segment_ids) + 1`."""
    return _segment_reduce(jax.ops.segment_sum, data, segment_ids, num_segments, sorted)


def segment_max(data: Any, segment_ids: Any, num_segments: int | None = None, sorted: bool = False
                ) -> jax.Array:
    """Maximum of the rows of `data` in each segment (the dtype's lowest value for empty segments)."""
    return _segment_reduce(jax.ops.segment_max, data, segment_ids, num_segments, sorted)


def segment_min(data: Any, segment_ids: Any, num_segments: int | None = None, sorted: bool = False
                ) -> jax.Array:
    """Minimum of the rows of `data` in each segment (the dtype's highest value for empty segments)."""
    return _segment_reduce(jax.ops.segment_min, data, segment_ids, num_segments, sorted)


def segment_prod(data: Any, segment_ids: Any, num_segments: int | None = None, sorted: bool = False
                 ) -> jax.Array:
    """Product of the rows of `data` in each segment (1 for empty segments)."""
    return _segment_reduce(jax.ops.segment_prod, data, segment_ids, num_segments, sorted)


# ---------------------------------------------------------------- ranking and reductions

def top_k(x: Any, k: int, sorted: bool = True) -> Pair:
    """`(values, indices)` of the `k` largest entries along the last axis, largest first.

    With `sorted=False` any order is allowed, and the sorted one is returned.
    """
    return jax.lax.top_k(convert_to_tensor(x), k)


def in_top_k(targets: Any, predictions: Any, k: int) -> jax.Array:
    """Whether each target's prediction ranks among the `k` largest of its row (ties count in its favour).

    A NaN prediction for the target never counts as large.
    """
    targets, predictions = convert_to_tensor(targets), convert_to_tensor(predictions)
    at_target = jnp.take_along_axis(predictions, targets[..., None], axis=-1)
    at_target = jnp.where(jnp.isnan(at_target), -jnp.inf, at_target)
    return jnp.sum(predictions > at_target, axis=-1) < k


def logsumexp(x: Any, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> jax.Array:
    """`log(sum(exp(x)))` over `axis`, computed stably (`jax.scipy.special.logsumexp`)."""
    return jsp.special.logsumexp(convert_to_tensor(x), axis=axis, keepdims=keepdims)


def cdist(x: Any, y: Any) -> jax.Array:
    """Euclidean distances between the rows of `x` `(..., m, d)` and of `y` `(..., n, d)`: `(..., m, n)`."""
    x, y = convert_to_tensor(x), convert_to_tensor(y)
    if x.ndim < 2 or y.ndim < 2 or x.shape[-1] != y.shape[-1]:
        raise ValueError("cdist needs inputs of rank >= 2 with the same last dimension. Received: "
                         f"x.shape={x.shape}, y.shape={y.shape}")
    difference = x[..., :, None, :] - y[..., None, :, :]
    return jnp.sqrt(jnp.sum(difference * difference, axis=-1))


def extract_sequences(x: Any, sequence_length: int, sequence_stride: int) -> jax.Array:
    """Windows of `sequence_length` taken every `sequence_stride` along the last axis: `(..., num, length)`."""
    x = convert_to_tensor(x)
    count = 1 + (x.shape[-1] - sequence_length) // sequence_stride
    starts = np.arange(count)[:, None] * sequence_stride
    return x[..., starts + np.arange(sequence_length)]


# ---------------------------------------------------------------- special functions

rsqrt = unary("rsqrt", jax.lax.rsqrt, "`1 / sqrt(x)` (`jax.lax.rsqrt`; float input).")
erf = unary("erf", jax.lax.erf, "The error function (`jax.lax.erf`; float input).")
erfc = unary("erfc", jsp.special.erfc, "`1 - erf(x)`, accurate for large `x` (`jax.scipy.special.erfc`).")
erfinv = unary("erfinv", jsp.special.erfinv, "The inverse error function (`jax.scipy.special.erfinv`).")


def logdet(x: Any) -> jax.Array:
    """`log(det(x))` of square matrices, through the stable `slogdet` (NaN where the determinant < 0)."""
    return jnp.linalg.slogdet(convert_to_tensor(x))[1]


# ---------------------------------------------------------------- complex values and FFTs

def _complex_from_pair(x: Any) -> jax.Array:
    if not isinstance(x, (tuple, list)) or len(x) != 2:
        raise ValueError(f"`x` must be a (real, imag) pair of float tensors. Received: x={x!r}")
    real, imag = convert_to_tensor(x[0]), convert_to_tensor(x[1])
    if real.shape != imag.shape:
        raise ValueError("The real and imaginary parts must have the same shape. Received: "
                         f"x[0].shape={real.shape}, x[1].shape={imag.shape}")
    if not (jnp.issubdtype(real.dtype, jnp.floating) and jnp.issubdtype(imag.dtype, jnp.floating)):
        raise ValueError("The real and imaginary parts must be float tensors. Received dtypes: "
                         f"{real.dtype}, {imag.dtype}")
    return jax.lax.complex(real, imag)


def _pair(z: jax.Array) -> Pair:
    return jnp.real(z), jnp.imag(z)


def fft(x: tuple[Any, Any]) -> Pair:
    """1-D discrete Fourier transform over the last axis of a `(real, imag)` pair."""
    return _pair(jnp.fft.fft(_complex_from_pair(x)))


def fft2(x: tuple[Any, Any]) -> Pair:
    """2-D discrete Fourier transform over the last two axes of a `(real, imag)` pair."""
    return _pair(jnp.fft.fft2(_complex_from_pair(x)))


def ifft2(x: tuple[Any, Any]) -> Pair:
    """Inverse 2-D discrete Fourier transform over the last two axes of a `(real, imag)` pair."""
    return _pair(jnp.fft.ifft2(_complex_from_pair(x)))


def rfft(x: Any, fft_length: int | None = None) -> Pair:
    """Fourier transform of a real signal over its last axis: the `fft_length // 2 + 1` unique terms."""
    return _pair(jnp.fft.rfft(convert_to_tensor(x), n=fft_length, axis=-1))


def irfft(x: tuple[Any, Any], fft_length: int | None = None) -> jax.Array:
    """The real signal whose `rfft` is the `(real, imag)` pair `x`; give `fft_length` when it is odd."""
    return jnp.fft.irfft(_complex_from_pair(x), n=fft_length, axis=-1)


def view_as_complex(x: Any) -> jax.Array:
    """A complex64 array from a float array whose last axis (of size 2) holds real and imaginary parts."""
    x = convert_to_tensor(x)
    if x.ndim < 1 or x.shape[-1] != 2:
        raise ValueError(f"The last dimension must have size 2 (real, imag). Received: x.shape={x.shape}")
    return jax.lax.complex(x[..., 0].astype(jnp.float32), x[..., 1].astype(jnp.float32))


def view_as_real(x: Any) -> jax.Array:
    """A float array with a new last axis of size 2 holding the real and imaginary parts of `x`."""
    x = convert_to_tensor(x)
    return jnp.stack([jnp.real(x), jnp.imag(x)], axis=-1)


# ---------------------------------------------------------------- short-time Fourier transforms

def _check_stride(sequence_stride: Any) -> None:
    if not isinstance(sequence_stride, int) or sequence_stride <= 0:
        raise ValueError(f"`sequence_stride` must be a positive integer. Received: "
                         f"sequence_stride={sequence_stride}")


def _padded_window(window: Any, sequence_length: int, fft_length: int, dtype: Any) -> jax.Array:
    """The analysis window (None: rectangular) centred in `fft_length` samples."""
    if window is None:
        return jnp.ones(fft_length, dtype)
    if isinstance(window, str):
        if window not in ("hann", "hamming"):
            raise ValueError(f'`window` must be "hann", "hamming", a tensor or None. Received: window={window!r}')
        import scipy.signal  # a JAX dependency; imported here because it is slow to import
        window = scipy.signal.get_window(window, sequence_length)
    window = convert_to_tensor(window, dtype)
    if window.shape != (sequence_length,):
        raise ValueError(f"`window` must have shape ({sequence_length},) (sequence_length). Received: "
                         f"window.shape={window.shape}")
    left = (fft_length - sequence_length) // 2
    return jnp.pad(window, (left, fft_length - sequence_length - left))


def stft(x: Any, sequence_length: int, sequence_stride: int, fft_length: int, window: Any = "hann",
         center: bool = True) -> Pair:
    """Short-time Fourier transform over the last axis: `(real, imag)`, each `(..., frames, bins)`.

    `center=True` reflect-pads `fft_length // 2` samples on each side so frame t is centred at
    `t * sequence_stride`. Input must be float32 or float64.
    """
    _check_stride(sequence_stride)
    x = convert_to_tensor(x)
    if standardize_dtype(x.dtype) not in ("float32", "float64"):
        raise TypeError(f"stft needs a float32 or float64 input. Received: x.dtype={x.dtype}")
    if fft_length < sequence_length:
        raise ValueError("`fft_length` must be at least `sequence_length`. Received: "
                         f"sequence_length={sequence_length}, fft_length={fft_length}")
    window = _padded_window(window, sequence_length, fft_length, x.dtype)
    if center:
        x = jnp.pad(x, [(0, 0)] * (x.ndim - 1) + [(fft_length // 2, fft_length // 2)], mode="reflect")
    spectrum = jsp.signal.stft(x, window=window, nperseg=fft_length, noverlap=fft_length - sequence_stride,
                               nfft=fft_length, boundary=None, padded=False)[-1]
    return _pair(jnp.swapaxes(spectrum * jnp.abs(jnp.sum(window)), -2, -1))  # undo scipy's 1/sum(window) scaling


def istft(x: tuple[Any, Any], sequence_length: int, sequence_stride: int, fft_length: int,
          length: int | None = None, window: Any = "hann", center: bool = True) -> jax.Array:
    """The signal whose `stft` (with the same arguments) is the `(real, imag)` pair `x`.

    `length` cuts the result to that many samples; otherwise the `center` padding is removed.
    """
    _check_stride(sequence_stride)
    spectrum = _complex_from_pair(x)
    if spectrum.ndim < 2:
        raise ValueError(f"istft needs (..., frames, bins) input. Received: shape={spectrum.shape}")
    dtype = jnp.real(spectrum).dtype
    padded = _padded_window(window, sequence_length, fft_length, dtype)
    signal = jsp.signal.istft(spectrum, window=padded, nperseg=fft_length,
                              noverlap=fft_length - sequence_stride, nfft=fft_length, boundary=False,
                              time_axis=-2, freq_axis=-1)[-1]
    signal = signal / (jnp.sum(padded) if window is not None else sequence_stride)
    start = fft_length // 2 if center else 0
    if length is not None:
        return signal[..., start:start + length]
    if center:
        return signal[..., start:signal.shape[-1] - fft_length // 2]
    return signal[..., :fft_length + sequence_stride * (spectrum.shape[-2] - 1)]
