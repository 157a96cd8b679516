"""Keras 3 activation functions as pure `jax.numpy` functions, plus `get` / `serialize` / `deserialize`.

Each function matches `keras.activations.<name>` on the JAX backend (same formulas, same defaults,
e.g. `gelu(approximate=False)`, `leaky_relu(negative_slope=0.2)`). They are jit-safe and hold no state.
"""

from __future__ import annotations

import types
from typing import Any, Callable

import jax
import jax.numpy as jnp

from kerasish import serialization


def relu(x, negative_slope: float = 0.0, max_value: float | None = None, threshold: float = 0.0) -> jax.Array:
    """Rectified linear unit; `negative_slope` leaks below `threshold`, `max_value` caps the output.

    Example:
        >>> relu(jnp.array([-10.0, -5.0, 0.0, 5.0, 10.0]), max_value=5.0)  # [0, 0, 0, 5, 5]
    """
    x = jnp.asarray(x)
    if negative_slope != 0.0 and max_value is None and threshold == 0:
        return jax.nn.leaky_relu(x, negative_slope=negative_slope)
    negative_part = jax.nn.relu(threshold - x) if negative_slope != 0.0 else 0.0
    if threshold != 0:
        x = jnp.where(x > jnp.asarray(threshold, x.dtype), x, 0)
    elif max_value == 6:
        x, max_value = jax.nn.relu6(x), None
    else:
        x = jax.nn.relu(x)
    if max_value is not None:
        x = jnp.clip(x, jnp.asarray(0.0, x.dtype), jnp.asarray(max_value, x.dtype))
    if negative_slope != 0.0:
        x = x - negative_slope * negative_part
    return x


def leaky_relu(x, negative_slope: float = 0.2) -> jax.Array:
    """`x` for `x >= 0`, `negative_slope * x` otherwise."""
    return jax.nn.leaky_relu(jnp.asarray(x), negative_slope=negative_slope)


def relu6(x) -> jax.Array:
    """`min(max(x, 0), 6)`."""
    return jax.nn.relu6(jnp.asarray(x))


def softmax(x, axis: int = -1) -> jax.Array:
    """`exp(x) / sum(exp(x))` along `axis`."""
    return jax.nn.softmax(jnp.asarray(x), axis=axis)


def log_softmax(x, axis: int = -1) -> jax.Array:
    """`log(softmax(x))` along `axis`, computed stably."""
    return jax.nn.log_softmax(jnp.asarray(x), axis=axis)


def elu(x, alpha: float = 1.0) -> jax.Array:
    """`x` for `x > 0`, `alpha * (exp(x) - 1)` otherwise."""
    return jax.nn.elu(jnp.asarray(x), alpha=alpha)


def celu(x, alpha: float = 1.0) -> jax.Array:
    """`x` for `x >= 0`, `alpha * (exp(x / alpha) - 1)` otherwise."""
    return jax.nn.celu(jnp.asarray(x), alpha=alpha)


def selu(x) -> jax.Array:
    """Scaled ELU (`alpha=1.67326324`, `scale=1.05070098`)."""
    return jax.nn.selu(jnp.asarray(x))


def gelu(x, approximate: bool = False) -> jax.Array:
    """`x * P(X <= x)` for standard normal X; `approximate=True` uses the tanh formula."""
    return jax.nn.gelu(jnp.asarray(x), approximate)


def glu(x, axis: int = -1) -> jax.Array:
    """Gated linear unit: splits `x` in halves `a, b` along `axis`, returns `a * sigmoid(b)`."""
    return jax.nn.glu(jnp.asarray(x), axis=axis)


def silu(x) -> jax.Array:
    """`x * sigmoid(x)`; also available as `swish`."""
    return jax.nn.silu(jnp.asarray(x))


swish = silu


def hard_silu(x) -> jax.Array:
    """`x * hard_sigmoid(x)`; also available as `hard_swish`."""
    return jax.nn.hard_silu(jnp.asarray(x))


hard_swish = hard_silu


def mish(x) -> jax.Array:
    """`x * tanh(softplus(x))`."""
    x = jnp.asarray(x)
    return x * jnp.tanh(jax.nn.softplus(x))


def sigmoid(x) -> jax.Array:
    """`1 / (1 + exp(-x))`."""
    return jax.nn.sigmoid(jnp.asarray(x))


def log_sigmoid(x) -> jax.Array:
    """`log(sigmoid(x))`, computed stably."""
    return jax.nn.log_sigmoid(jnp.asarray(x))


def hard_sigmoid(x) -> jax.Array:
    """`0` for `x <= -3`, `1` for `x >= 3`, `x / 6 + 0.5` in between."""
    return jax.nn.hard_sigmoid(jnp.asarray(x))


def sparse_sigmoid(x) -> jax.Array:
    """`0` for `x <= -1`, `1` for `x >= 1`, `(x + 1) / 2` in between."""
    return jax.nn.sparse_sigmoid(jnp.asarray(x))


def tanh(x) -> jax.Array:
    """Hyperbolic tangent."""
    return jnp.tanh(jnp.asarray(x))


def tanh_shrink(x) -> jax.Array:
    """`x - tanh(x)`."""
    x = jnp.asarray(x)
    return x - jnp.tanh(x)


def hard_tanh(x) -> jax.Array:
    """`x` clipped to `[-1, 1]`."""
    return jax.nn.hard_tanh(jnp.asarray(x))


def softplus(x) -> jax.Array:
    """`log(exp(x) + 1)`, computed stably."""
    return jax.nn.softplus(jnp.asarray(x))


def softsign(x) -> jax.Array:
    """`x / (abs(x) + 1)`."""
    return jax.nn.soft_sign(jnp.asarray(x))


def sparse_plus(x) -> jax.Array:
    """`0` for `x <= -1`, `x` for `x >= 1`, `(x + 1)**2 / 4` in between."""
    return jax.nn.sparse_plus(jnp.asarray(x))


def squareplus(x, b: float = 4) -> jax.Array:
    """`(x + sqrt(x**2 + b)) / 2`."""
    return jax.nn.squareplus(jnp.asarray(x), b=b)


def soft_shrink(x, threshold: float = 0.5) -> jax.Array:
    """`x - threshold` above `threshold`, `x + threshold` below `-threshold`, `0` in between."""
    x = jnp.asarray(x)
    return jnp.where(x > threshold, x - threshold, jnp.where(x < -threshold, x + threshold, 0.0))


def hard_shrink(x, threshold: float = 0.5) -> jax.Array:
    """`x` where `abs(x) > threshold`, `0` elsewhere."""
    x = jnp.asarray(x)
    return jnp.where(jnp.abs(x) > threshold, x, 0.0)


def threshold(x, threshold: float, default_value: float) -> jax.Array:
    """`x` where `x > threshold`, `default_value` elsewhere."""
    x = jnp.asarray(x)
    return jnp.where(x > threshold, x, default_value)


def exponential(x) -> jax.Array:
    """`exp(x)`."""
    return jnp.exp(jnp.asarray(x))


def linear(x) -> Any:
    """Identity: returns `x` unchanged."""
    return x


def sparsemax(x, axis: int = -1) -> jax.Array:
    """Euclidean projection of `x` onto the probability simplex along `axis` (Martins et al., 2016)."""
    x = jnp.asarray(x)
    z = jnp.flip(jnp.sort(x, axis=axis), axis=axis)
    cumsum = jnp.cumsum(z, axis=axis)
    shape = [1] * x.ndim
    shape[axis] = -1
    k = jnp.arange(1, x.shape[axis] + 1, dtype=x.dtype).reshape(shape)
    support = z - (cumsum - 1) / k > 0
    k_max = jnp.sum(support, axis=axis, keepdims=True)
    tau = (jnp.sum(jnp.where(support, cumsum, 0.0), axis=axis, keepdims=True) - 1) / k_max
    return jnp.maximum(x - tau, 0.0)


_FUNCTIONS = (
    relu, leaky_relu, relu6, softmax, log_softmax, elu, celu, selu, gelu, glu, silu, hard_silu, mish,
    sigmoid, log_sigmoid, hard_sigmoid, sparse_sigmoid, tanh, tanh_shrink, hard_tanh, softplus,
    softsign, sparse_plus, squareplus, soft_shrink, hard_shrink, threshold, exponential, linear,
    sparsemax,
)  # fmt: skip
ALL_OBJECTS: dict[str, Callable] = {fn.__name__: fn for fn in _FUNCTIONS}
ALL_OBJECTS.update(swish=silu, hard_swish=hard_silu)


def get(identifier: Any) -> Callable:
    """The activation function for a name (`"relu"`), a config, or a callable; `None` gives `linear`.

    Raises:
        ValueError: `Could not interpret activation function identifier: ...` for unknown names.

    Example:
        >>> get("swish") is silu
        True
    """
    if identifier is None:
        return linear
    return serialization.resolve(identifier, ALL_OBJECTS, "activation function")


def serialize(activation: Callable) -> str | dict[str, Any]:
    """A built-in's name (`"relu"`), a registered function's `"package>name"`, or an object's config dict.

    Raises:
        ValueError: for a callable that is neither built in, registered, nor has `get_config`.
    """
    if not isinstance(activation, types.FunctionType) and hasattr(activation, "get_config"):
        return serialization.serialize_object(activation)
    name = serialization.get_registered_name(activation)
    if ALL_OBJECTS.get(name) is activation or serialization.get_registered_object(name) is activation:
        return name
    raise ValueError(
        f"Unknown activation function '{activation}' cannot be serialized due to invalid function "
        "name. Make sure to use an activation name that matches the references defined in "
        "activations.py or use `@keras.saving.register_keras_serializable()` to register any "
        "custom activations."
    )


def deserialize(config: str | dict[str, Any], custom_objects: dict[str, Any] | None = None) -> Callable:
    """Inverse of `serialize`: a name or config dict back to the activation callable."""
    return serialization.resolve(config, ALL_OBJECTS, "activation function", custom_objects)
