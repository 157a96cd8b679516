"""The `keras.random` sampling functions: Keras 3's names, arguments and defaults over `jax.random`.

Owns argument validation (shapes, dtypes, rates, axes) and the Keras conventions around each
`jax.random` call (default floatx dtype, truncation at two standard deviations, dropout scaling and
`noise_shape`); the sampling maths is JAX's. Seeds go through `seed_generator.draw_key`, so every
function takes an int, a `SeedGenerator`, a JAX key or None. Results are JAX arrays.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from kerasish import backend
from kerasish.random.seed_generator import draw_key

Shape = int | Sequence[int]


def _shape(shape: Any) -> tuple[int, ...]:
    """`shape` as a tuple of non-negative ints (an int means a 1-D shape, as in JAX)."""
    dims = (shape,) if isinstance(shape, (int, np.integer)) else shape
    try:
        dims = tuple(operator.index(d) for d in dims)
    except TypeError as err:
        raise TypeError(f"`shape` must be an int or a sequence of ints. Received: shape={shape!r}") from err
    if any(d < 0 for d in dims):
        raise ValueError(f"`shape` must not have negative dimensions. Received: shape={shape!r}")
    return dims


def _parse_dtype(dtype: Any, unknown_error: type[Exception]) -> np.dtype:
    try:
        return jnp.dtype(dtype)
    except TypeError as err:
        raise unknown_error(f"Invalid dtype: {dtype!r}") from err


def _float_dtype(dtype: Any, function: str, unknown_error: type[Exception] = TypeError) -> np.dtype:
    """`dtype` (floatx when None) if it is a floating-point dtype.

    Raises `unknown_error` for a name that is no dtype (Keras raises TypeError for most functions,
    ValueError for `uniform`) and ValueError for a non-float dtype.
    """
    parsed = _parse_dtype(backend.floatx() if dtype is None else dtype, unknown_error)
    if not jnp.issubdtype(parsed, jnp.floating):
        raise ValueError(f"`keras.random.{function}` requires a floating point `dtype`. "
                         f"Received: dtype={dtype}")
    return parsed


def normal(shape: Shape, mean: Any = 0.0, stddev: Any = 1.0, dtype: Any = None,
           seed: Any = None) -> jax.Array:
    """Samples from a normal distribution with the given `mean` and `stddev`.

    Args:
        shape: output shape. mean, stddev: floats or arrays broadcastable to `shape`.
        dtype: floating dtype, `keras.config.floatx()` by default.
        seed: int (same values each call), `SeedGenerator`, JAX key, or None (global generator).

    Raises:
        TypeError: unknown dtype or a shape that is not ints. ValueError: non-float dtype, bad seed.
    """
    dtype = _float_dtype(dtype, "normal")
    sample = jax.random.normal(draw_key(seed), shape=_shape(shape), dtype=dtype)
    return (sample * stddev + mean).astype(sample.dtype)


def uniform(shape: Shape, minval: Any = 0.0, maxval: Any = 1.0, dtype: Any = None,
            seed: Any = None) -> jax.Array:
    """Samples uniformly from `[minval, maxval)`.

    Raises:
        ValueError: for a dtype that is unknown or not floating point (as Keras), or a bad seed.
    """
    dtype = _float_dtype(dtype, "uniform", unknown_error=ValueError)
    return jax.random.uniform(draw_key(seed), shape=_shape(shape), dtype=dtype, minval=minval, maxval=maxval)


def randint(shape: Shape, minval: Any, maxval: Any, dtype: Any = "int32", seed: Any = None) -> jax.Array:
    """Samples integers uniformly from `[minval, maxval)`.

    Raises:
        ValueError: for a dtype that is unknown or not an integer type (bool included), or a bad seed.
    """
    parsed = _parse_dtype("int32" if dtype is None else dtype, ValueError)
    if not jnp.issubdtype(parsed, jnp.integer):
        raise ValueError(f"`keras.random.randint` requires an integer `dtype`. Received: dtype={dtype}")
    return jax.random.randint(draw_key(seed), shape=_shape(shape), minval=minval, maxval=maxval, dtype=parsed)


def truncated_normal(shape: Shape, mean: Any = 0.0, stddev: Any = 1.0, dtype: Any = None,
                     seed: Any = None) -> jax.Array:
    """Samples from a normal distribution redrawn outside two standard deviations of the mean.

    Raises:
        TypeError: unknown dtype. ValueError: non-float dtype, bad seed.
    """
    dtype = _float_dtype(dtype, "truncated_normal")
    sample = jax.random.truncated_normal(draw_key(seed), -2.0, 2.0, shape=_shape(shape), dtype=dtype)
    return (sample * stddev + mean).astype(sample.dtype)


def categorical(logits: Any, num_samples: int, dtype: Any = "int32", seed: Any = None) -> jax.Array:
    """Draws `num_samples` class indices per row of 2-D `logits` (unnormalized log-probabilities).

    Returns:
        An array of shape `(batch_size, num_samples)` and dtype `dtype`.

    Raises:
        ValueError: `logits` not 2-D, negative `num_samples`, bad seed. TypeError: unknown dtype or
        a `num_samples` that is not an int.
    """
    logits = jnp.asarray(logits)
    if logits.ndim != 2:
        raise ValueError("`logits` should be a 2-D tensor with shape [batch_size, num_classes]. "
                         f"Received: logits with shape {logits.shape}")
    batch, num_samples = _shape((logits.shape[0], num_samples))
    dtype = _parse_dtype(dtype, TypeError)
    # A (batch, num_classes, 1) view makes the batch shape (batch, 1), which broadcasts to the
    # requested (batch, num_samples): each column is an independent draw from its row.
    drawn = jax.random.categorical(draw_key(seed), logits[:, :, None], axis=1, shape=(batch, num_samples))
    return drawn.astype(dtype)


def _noise_shape(inputs_shape: tuple[int, ...], noise_shape: Any) -> tuple[int, ...]:
    """`noise_shape` with each None replaced by the input's dimension at that position (as Keras)."""
    if noise_shape is None:
        return inputs_shape
    filled = tuple(inputs_shape[i] if d is None and i < len(inputs_shape) else d
                   for i, d in enumerate(noise_shape))
    filled = _shape(filled)
    try:
        broadcast = np.broadcast_shapes(filled, inputs_shape)
    except ValueError:
        broadcast = None
    if broadcast != inputs_shape:
        raise ValueError(f"`noise_shape` must broadcast to the inputs' shape {inputs_shape}. "
                         f"Received: noise_shape={tuple(noise_shape)}")
    return filled


def dropout(inputs: Any, rate: Any, noise_shape: Any = None, seed: Any = None) -> jax.Array:
    """Zeroes entries of `inputs` with probability `rate` and scales the rest by `1 / (1 - rate)`.

    Args:
        inputs: floating-point array. rate: fraction to drop, in [0, 1] (a traced array is allowed).
        noise_shape: shape of the keep mask, broadcast against `inputs`; None entries take the input's
            dimension at that position (e.g. `(batch, 1, features)` drops whole features per sample).
        seed: int, `SeedGenerator`, JAX key or None. A rate of exactly 0 or 1 draws nothing.

    Raises:
        TypeError: non-floating inputs. ValueError: a rate outside [0, 1], a `noise_shape` that does
        not broadcast to the inputs, a bad seed.
    """
    inputs = jnp.asarray(inputs)
    if not jnp.issubdtype(inputs.dtype, jnp.floating):
        raise TypeError("`keras.random.dropout` requires floating-point inputs. "
                        f"Received: dtype={inputs.dtype}")
    if not isinstance(rate, jax.core.Tracer):
        try:
            concrete = float(rate)
        except (TypeError, ValueError) as err:
            raise ValueError(f"`rate` must be a number in [0, 1]. Received: rate={rate!r}") from err
        if not 0.0 <= concrete <= 1.0:
            raise ValueError(f"`rate` must be a number in [0, 1]. Received: rate={rate}")
        if concrete == 1.0:
            return jnp.zeros_like(inputs)
        if concrete == 0.0:
            return inputs
    keep_prob = 1.0 - rate
    mask = jax.random.bernoulli(draw_key(seed), p=keep_prob, shape=_noise_shape(inputs.shape, noise_shape))
    # Dividing by 1 where nothing is kept keeps a traced rate of 1 free of inf and NaN gradients.
    traced = isinstance(keep_prob, jax.core.Tracer)
    safe_keep = jnp.where(keep_prob > 0, keep_prob, 1) if traced else keep_prob
    kept = (inputs / safe_keep).astype(inputs.dtype)
    return jnp.where(jnp.broadcast_to(mask, inputs.shape), kept, jnp.zeros_like(inputs))


def shuffle(x: Any, axis: int = 0, seed: Any = None) -> jax.Array:
    """Shuffles `x` along `axis`, as Keras 3's JAX backend does: every 1-D slice along `axis` gets
    its own permutation (a 2-D `x` shuffled along axis 0 permutes each column independently).

    Raises:
        ValueError: `axis` out of range for `x` (a 0-d `x` has no axis), bad seed.
    """
    x = jnp.asarray(x)
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)) or not -x.ndim <= axis < x.ndim:
        raise ValueError(f"`axis` must be an int in [{-x.ndim}, {x.ndim}) for an input of rank {x.ndim}. "
                         f"Received: axis={axis!r}")
    return jax.random.permutation(draw_key(seed), x, axis=int(axis), independent=True)


def gamma(shape: Shape, alpha: Any, dtype: Any = None, seed: Any = None) -> jax.Array:
    """Samples from Gamma(`alpha`, scale 1); `alpha` broadcasts to `shape` (non-positive gives NaN).

    Raises:
        TypeError: unknown dtype. ValueError: non-float dtype, bad seed.
    """
    dtype = _float_dtype(dtype, "gamma")
    return jax.random.gamma(draw_key(seed), jnp.asarray(alpha), shape=_shape(shape), dtype=dtype)


def binomial(shape: Shape, counts: Any, probabilities: Any, dtype: Any = None, seed: Any = None) -> jax.Array:
    """Samples success counts of `counts` trials with success probability `probabilities`.

    The result has a floating dtype (floatx by default), as in Keras; probabilities outside [0, 1]
    give NaN.

    Raises:
        TypeError: unknown dtype. ValueError: non-float dtype, bad seed.
    """
    dtype = _float_dtype(dtype, "binomial")
    return jax.random.binomial(draw_key(seed), jnp.asarray(counts), jnp.asarray(probabilities),
                               shape=_shape(shape), dtype=dtype)


def beta(shape: Shape, alpha: Any, beta: Any, dtype: Any = None, seed: Any = None) -> jax.Array:
    """Samples from Beta(`alpha`, `beta`); both broadcast to `shape`.

    Raises:
        TypeError: unknown dtype. ValueError: non-float dtype, bad seed.
    """
    dtype = _float_dtype(dtype, "beta")
    return jax.random.beta(draw_key(seed), jnp.asarray(alpha), jnp.asarray(beta), shape=_shape(shape),
                           dtype=dtype)
