"""Keras 3 weight initializers with the Flax calling convention `init(key, shape, dtype) -> jax.Array`.

Names, defaults, fan computation and `get_config` keys follow `keras.initializers`. Randomness comes
from the `key` argument, except for an initializer built with an integer `seed`: then, as in Keras,
every call returns the same values, drawn from the key Keras's JAX backend derives from that seed
(`[seed, 0]` as uint32), so values match Keras bit for bit. No global random state.

Example:
    >>> init = GlorotUniform()
    >>> kernel = init(jax.random.key(0), (784, 128))
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from kerasish import serialization


def _shape(shape: Any) -> tuple[int, ...]:
    return (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(d) for d in shape)


def _dtype(dtype: Any) -> Any:
    return jnp.float32 if dtype is None else dtype


def _draw(sampler: Any, key: jax.Array, shape: tuple[int, ...], **kwargs: Any) -> jax.Array:
    """`sampler(key, shape=..., **kwargs)` drawn flat, then reshaped: the same values (JAX generates
    random bits in flat order), but on CPU XLA compiles a flat draw up to 10x faster than a small 4-D one."""
    return sampler(key, shape=(math.prod(shape),), **kwargs).reshape(shape)


def compute_fans(shape: Sequence[int], input_axes=None, output_axes=None) -> tuple[int, int]:
    """`(fan_in, fan_out)` like Keras: Dense `(in, out)`; Conv `(*kernel, in, out)` times the receptive field."""
    shape = tuple(shape)
    if input_axes is not None and output_axes is not None:
        return math.prod(shape[a] for a in input_axes), math.prod(shape[a] for a in output_axes)
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive_field = math.prod(shape[:-2])
    return int(shape[-2] * receptive_field), int(shape[-1] * receptive_field)


class Initializer:
    """Base class: `__call__(key, shape, dtype=jnp.float32)`, `get_config`, `from_config`, `clone`."""

    def __call__(self, key: jax.Array | None, shape: Sequence[int], dtype: Any = jnp.float32) -> jax.Array:
        raise NotImplementedError("Initializer subclasses must implement the `__call__()` method.")

    def get_config(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Initializer:
        return cls(**config)

    def clone(self) -> Initializer:
        return self.__class__.from_config(self.get_config())

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.get_config().items())})"


class Zeros(Initializer):
    """All zeros. `key` is ignored."""

    def __call__(self, key, shape, dtype=jnp.float32):
        return jnp.zeros(_shape(shape), _dtype(dtype))


class Ones(Initializer):
    """All ones. `key` is ignored."""

    def __call__(self, key, shape, dtype=jnp.float32):
        return jnp.ones(_shape(shape), _dtype(dtype))


class Constant(Initializer):
    """Every entry equals `value` (a scalar). `key` is ignored."""

    def __init__(self, value: float = 0.0):
        self.value = value

    def __call__(self, key, shape, dtype=jnp.float32):
        dtype = _dtype(dtype)
        return jnp.asarray(self.value, dtype) * jnp.ones(_shape(shape), dtype)

    def get_config(self):
        return {"value": self.value}


class Identity(Initializer):
    """`gain` times the identity matrix; 2D shapes only. `key` is ignored."""

    def __init__(self, gain: float = 1.0):
        self.gain = gain

    def __call__(self, key, shape, dtype=jnp.float32):
        shape = _shape(shape)
        if len(shape) != 2:
            raise ValueError(
                "Identity matrix initializer can only be used for 2D matrices. "
                f"Received: shape={shape} of rank {len(shape)}."
            )
        return self.gain * jnp.eye(*shape, dtype=_dtype(dtype))

    def get_config(self):
        return {"gain": self.gain}  # Keras 3 drops `gain` here; kept so the round trip is exact.


class STFT(Initializer):
    """The kernel of a short-time Fourier transform as a convolution, shape
    `(frame_length, input_channels, fft_bins)`: `cos` (side "real") or `sin` (side "imag") of
    `-2 pi t f / n_fft` with `n_fft = 2 (fft_bins - 1)`, times a window, divided by its norm
    (`scaling="density"`) or its sum (`"spectrum"`). `key` is ignored.

    Args:
        side: "real" or "imag".
        window: a window name understood by `scipy.signal.get_window` ("hann", "hamming", ...), an
            array of `frame_length` values, or None (no window, no scaling).
        scaling: "density", "spectrum" or None.
        periodic: a periodic (DFT-even) window rather than a symmetric one.

    Raises:
        ValueError: for an unknown side, window name or scaling, or a window of the wrong length.
    """

    def __init__(self, side: str = "real", window: Any = "hann", scaling: str | None = "density",
                 periodic: bool = False):
        if side not in ("real", "imag"):
            raise ValueError(f"side should be 'real' or 'imag', not {side}")
        if isinstance(window, str):
            _window(window, 1, periodic)  # raises for an unknown name
        if scaling is not None and scaling not in ("density", "spectrum"):
            raise ValueError(f"Scaling is invalid, it must be `None`, 'density' or 'spectrum'. Received scaling={scaling}")
        self.side, self.window, self.scaling, self.periodic = side, window, scaling, periodic

    def __call__(self, key, shape, dtype=jnp.float32):
        shape, dtype = _shape(shape), _dtype(dtype)
        if len(shape) != 3:
            raise ValueError(f"STFT kernels have shape (frame_length, input_channels, fft_bins). Received: shape={shape}")
        frame_length, _, bins = shape
        time = jnp.arange(frame_length, dtype=dtype).reshape(frame_length, 1, 1)
        freq = jnp.arange(bins, dtype=dtype).reshape(1, 1, bins) / ((bins - 1) * 2)
        angle = -2 * time * freq * jnp.arccos(jnp.asarray(-1, dtype))
        kernel = (jnp.cos if self.side == "real" else jnp.sin)(angle).astype(dtype)
        if self.window is not None:
            window = self.window
            if isinstance(window, str):
                window = _window(window, frame_length, self.periodic)
            window = jnp.asarray(window, dtype)
            if window.shape != (frame_length,):
                raise ValueError(f"The shape of `window` must be equal to [frame_length].Received: window shape={window.shape}")
            window = window.reshape(frame_length, 1, 1)
            scale = {"density": lambda: jnp.sqrt(jnp.sum(jnp.square(window))), "spectrum": lambda: jnp.sum(jnp.abs(window)),
                     None: lambda: 1}[self.scaling]()
            kernel = kernel * window / scale
        return jnp.broadcast_to(kernel, shape)

    def get_config(self):
        return {"side": self.side, "window": self.window, "periodic": self.periodic, "scaling": self.scaling}


def _window(name: str, length: int, periodic: bool) -> np.ndarray:
    """`scipy.signal.get_window` (SciPy comes with JAX): periodic windows are DFT-even."""
    from scipy.signal import get_window

    return get_window(name, length, fftbins=periodic)


class RandomInitializer(Initializer):
    """Base for random initializers: validates `seed` and picks the key each call uses."""

    def __init__(self, seed: int | None = None):
        if seed is not None and (not isinstance(seed, (int, np.integer)) or isinstance(seed, bool)):
            raise ValueError(f"Argument `seed` must be an integer or None. Received: seed={seed!r}")
        self.seed = None if seed is None else int(seed)

    def _key(self, key: Any) -> jax.Array:
        if self.seed is not None:
            return jnp.array([self.seed & 0xFFFFFFFF, 0], dtype=jnp.uint32)
        if key is None:
            raise ValueError(
                f"{type(self).__name__} needs a random key: call it as initializer(key, shape, dtype) "
                f"or build it with an integer seed, e.g. {type(self).__name__}(seed=0). Received: key=None"
            )
        if isinstance(key, (tuple, list, int)):
            raise TypeError(
                "Initializers take the Flax argument order (key, shape, dtype): the first argument must be "
                f"a JAX random key. Received: key={key!r}. Use e.g. initializer(jax.random.key(0), shape)."
            )
        return key

    def get_config(self):
        return {"seed": self.seed}


class RandomNormal(RandomInitializer):
    """Normal samples with `mean` and `stddev`."""

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None):
        self.mean, self.stddev = mean, stddev
        super().__init__(seed)

    def __call__(self, key, shape, dtype=jnp.float32):
        return _draw(jax.random.normal, self._key(key), _shape(shape), dtype=_dtype(dtype)) * self.stddev + self.mean

    def get_config(self):
        return {**super().get_config(), "mean": self.mean, "stddev": self.stddev}


class TruncatedNormal(RandomNormal):
    """Normal samples with `mean` and `stddev`, redrawn beyond two standard deviations."""

    def __call__(self, key, shape, dtype=jnp.float32):
        key, shape, dtype = self._key(key), _shape(shape), _dtype(dtype)
        sample = _draw(jax.random.truncated_normal, key, shape, lower=-2.0, upper=2.0, dtype=dtype)
        return sample * self.stddev + self.mean


class RandomUniform(RandomInitializer):
    """Uniform samples in `[minval, maxval)`."""

    def __init__(self, minval: float = -0.05, maxval: float = 0.05, seed: int | None = None):
        self.minval, self.maxval = minval, maxval
        super().__init__(seed)

    def __call__(self, key, shape, dtype=jnp.float32):
        key, shape, dtype = self._key(key), _shape(shape), _dtype(dtype)
        return _draw(jax.random.uniform, key, shape, dtype=dtype, minval=self.minval, maxval=self.maxval)

    def get_config(self):
        return {**super().get_config(), "minval": self.minval, "maxval": self.maxval}


class VarianceScaling(RandomInitializer):
    """Samples with variance `scale / n`, `n` being fan_in, fan_out or their average (`mode`).

    `distribution`: `"truncated_normal"` (stddev corrected by 0.8796... for the truncation; `"normal"`
    is an alias), `"untruncated_normal"`, or `"uniform"` (limit `sqrt(3 * scale / n)`).

    Raises:
        ValueError: for a non-positive `scale`, an unknown `mode` or `distribution`.
    """

    _MODES = ("fan_in", "fan_out", "fan_avg")
    _DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")

    def __init__(
        self,
        scale: float = 1.0,
        mode: str = "fan_in",
        distribution: str = "truncated_normal",
        seed: int | None = None,
        input_axes: Sequence[int] | None = None,
        output_axes: Sequence[int] | None = None,
    ):
        if scale <= 0.0:
            raise ValueError(f"Argument `scale` must be positive float. Received: scale={scale}")
        if mode not in self._MODES:
            raise ValueError(f"Invalid `mode` argument: {mode}. Please use one of {self._MODES}")
        distribution = "truncated_normal" if distribution.lower() == "normal" else distribution.lower()
        if distribution not in self._DISTRIBUTIONS:
            raise ValueError(
                f"Invalid `distribution` argument: {distribution}. Please use one of {self._DISTRIBUTIONS}"
            )
        self.scale, self.mode, self.distribution = scale, mode, distribution
        self.input_axes, self.output_axes = input_axes, output_axes
        super().__init__(seed)

    def __call__(self, key, shape, dtype=jnp.float32):
        key, shape, dtype = self._key(key), _shape(shape), _dtype(dtype)
        fan_in, fan_out = compute_fans(shape, self.input_axes, self.output_axes)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        scale = self.scale / max(1.0, n)
        if self.distribution == "truncated_normal":
            stddev = math.sqrt(scale) / 0.87962566103423978
            return _draw(jax.random.truncated_normal, key, shape, lower=-2.0, upper=2.0, dtype=dtype) * stddev
        if self.distribution == "untruncated_normal":
            return _draw(jax.random.normal, key, shape, dtype=dtype) * math.sqrt(scale)
        limit = math.sqrt(3.0 * scale)
        return _draw(jax.random.uniform, key, shape, dtype=dtype, minval=-limit, maxval=limit)

    def get_config(self):
        return {
            **super().get_config(),
            "scale": self.scale,
            "mode": self.mode,
            "distribution": self.distribution,
            "input_axes": self.input_axes,
            "output_axes": self.output_axes,
        }


class _VarianceScalingPreset(VarianceScaling):
    """A VarianceScaling with fixed scale, mode and distribution; its config is only seed and axes."""

    _preset: tuple[float, str, str]

    def __init__(self, seed: int | None = None, input_axes=None, output_axes=None):
        super().__init__(*self._preset, seed=seed, input_axes=input_axes, output_axes=output_axes)

    def get_config(self):
        return {"seed": self.seed, "input_axes": self.input_axes, "output_axes": self.output_axes}


class GlorotUniform(_VarianceScalingPreset):
    """Uniform in `[-limit, limit]`, `limit = sqrt(6 / (fan_in + fan_out))` (Xavier uniform)."""

    _preset = (1.0, "fan_avg", "uniform")


class GlorotNormal(_VarianceScalingPreset):
    """Truncated normal with `stddev = sqrt(2 / (fan_in + fan_out))` (Xavier normal)."""

    _preset = (1.0, "fan_avg", "truncated_normal")


class HeNormal(_VarianceScalingPreset):
    """Truncated normal with `stddev = sqrt(2 / fan_in)`."""

    _preset = (2.0, "fan_in", "truncated_normal")


class HeUniform(_VarianceScalingPreset):
    """Uniform in `[-limit, limit]`, `limit = sqrt(6 / fan_in)`."""

    _preset = (2.0, "fan_in", "uniform")


class LecunNormal(_VarianceScalingPreset):
    """Truncated normal with `stddev = sqrt(1 / fan_in)`."""

    _preset = (1.0, "fan_in", "truncated_normal")


class LecunUniform(_VarianceScalingPreset):
    """Uniform in `[-limit, limit]`, `limit = sqrt(3 / fan_in)`."""

    _preset = (1.0, "fan_in", "uniform")


class Orthogonal(RandomInitializer):
    """`gain` times an orthogonal matrix (QR of a normal sample), reshaped; needs rank >= 2."""

    def __init__(self, gain: float = 1.0, seed: int | None = None):
        self.gain = gain
        super().__init__(seed)

    def __call__(self, key, shape, dtype=jnp.float32):
        shape = _shape(shape)
        if len(shape) < 2:
            raise ValueError(
                "The tensor to initialize must be at least two-dimensional. "
                f"Received: shape={shape} of rank {len(shape)}."
            )
        rows, cols = math.prod(shape[:-1]), shape[-1]
        sample = jax.random.normal(self._key(key), (max(rows, cols), min(rows, cols)), _dtype(dtype))
        q, r = jnp.linalg.qr(sample)
        q = q * jnp.sign(jnp.diag(r))
        if rows < cols:
            q = q.T
        return self.gain * q.reshape(shape)

    def get_config(self):
        return {**super().get_config(), "gain": self.gain}


_CLASSES = (
    Zeros, Ones, Constant, Identity, RandomNormal, TruncatedNormal, RandomUniform, VarianceScaling,
    GlorotUniform, GlorotNormal, HeNormal, HeUniform, LecunNormal, LecunUniform, Orthogonal, STFT,
)  # fmt: skip
ALL_OBJECTS: dict[str, type] = {cls.__name__: cls for cls in _CLASSES}
ALL_OBJECTS.update({serialization.to_snake_case(cls.__name__): cls for cls in _CLASSES})
ALL_OBJECTS.update(
    normal=RandomNormal, uniform=RandomUniform, one=Ones, zero=Zeros,
    IdentityInitializer=Identity, OrthogonalInitializer=Orthogonal, STFTInitializer=STFT, stft=STFT,
)  # fmt: skip


# Keras 3 exposes the lowercase names (and two longer ones) as the classes themselves.
constant, zeros, ones, identity = Constant, Zeros, Ones, Identity
IdentityInitializer, OrthogonalInitializer, orthogonal = Identity, Orthogonal, Orthogonal
random_normal, random_uniform, truncated_normal = RandomNormal, RandomUniform, TruncatedNormal
variance_scaling, glorot_normal, glorot_uniform = VarianceScaling, GlorotNormal, GlorotUniform
he_normal, he_uniform, lecun_normal, lecun_uniform = HeNormal, HeUniform, LecunNormal, LecunUniform
STFTInitializer, stft = STFT, STFT


def get(identifier: Any) -> Any:
    """An initializer from a name (`"glorot_uniform"`), a config dict, a class, an instance, a
    callable `(key, shape, dtype)`, or an array (returned as is for a matching shape). `None` gives None.

    Raises:
        ValueError: `Could not interpret initializer identifier: ...` listing the accepted names.
    """
    if identifier is None:
        return None
    if isinstance(identifier, (np.ndarray, np.generic, jax.Array)):
        value = identifier

        def initialize_fn(key, shape, dtype=jnp.float32):
            if _shape(shape) != tuple(value.shape):
                raise ValueError(
                    f"Expected `shape` to be {tuple(value.shape)} for direct tensor as initializer. "
                    f"Received shape={shape}"
                )
            return jnp.asarray(value, _dtype(dtype))

        return initialize_fn
    return serialization.resolve(identifier, ALL_OBJECTS, "initializer")


def serialize(initializer: Initializer) -> dict[str, Any]:
    """`{"class_name": ..., "config": ...}`."""
    return serialization.serialize_object(initializer)


def deserialize(config: dict[str, Any] | str, custom_objects: dict[str, Any] | None = None) -> Any:
    """Inverse of `serialize`; also accepts a name."""
    return serialization.resolve(config, ALL_OBJECTS, "initializer", custom_objects)
