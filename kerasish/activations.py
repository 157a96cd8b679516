"""Keras 3's activation functions under their Keras names, plus `get` / `serialize` / `deserialize`.

Owns the names, Keras's signatures and defaults of `keras.activations` (`gelu(approximate=False)`,
`relu`'s `negative_slope` / `max_value` / `threshold`); the maths is `kerasish.ops`'s, so each
formula exists once. Most activations *are* the op of the same name (which also records a graph node
on a KerasTensor, as Keras's activations do); `relu`, `gelu`, `mish`, `exponential` and `linear`
compose ops where Keras's activation differs from its op. Jit-safe, no state.
"""

from __future__ import annotations

import types
from typing import Any, Callable

import jax
import jax.numpy as jnp

from kerasish import ops, serialization

leaky_relu, relu6, elu, celu, selu, glu = ops.leaky_relu, ops.relu6, ops.elu, ops.celu, ops.selu, ops.glu
softmax, log_softmax, sparsemax = ops.softmax, ops.log_softmax, ops.sparsemax
silu, hard_silu = ops.silu, ops.hard_silu
sigmoid, log_sigmoid, hard_sigmoid, sparse_sigmoid = ops.sigmoid, ops.log_sigmoid, ops.hard_sigmoid, ops.sparse_sigmoid
softplus, softsign, sparse_plus, squareplus = ops.softplus, ops.softsign, ops.sparse_plus, ops.squareplus
tanh, tanh_shrink, hard_tanh, soft_shrink, hard_shrink, threshold = (
    ops.tanh, ops.tanh_shrink, ops.hard_tanh, ops.soft_shrink, ops.hard_shrink, ops.threshold)
swish, hard_swish = silu, hard_silu


def relu(x, negative_slope: float = 0.0, max_value: float | None = None, threshold: float = 0.0) -> jax.Array:
    """Rectified linear unit; `negative_slope` leaks below `threshold`, `max_value` caps the output.

    Example:
        >>> relu(jnp.array([-10.0, -5.0, 0.0, 5.0, 10.0]), max_value=5.0)  # [0, 0, 0, 5, 5]
    """
    x = jnp.asarray(x)
    if negative_slope != 0.0 and max_value is None and threshold == 0:
        return ops.leaky_relu(x, negative_slope=negative_slope)
    negative_part = ops.relu(threshold - x) if negative_slope != 0.0 else 0.0
    if threshold != 0:
        x = ops.threshold(x, jnp.asarray(threshold, x.dtype), 0)
    elif max_value == 6:
        x, max_value = ops.relu6(x), None
    else:
        x = ops.relu(x)
    if max_value is not None:
        x = jnp.clip(x, jnp.asarray(0.0, x.dtype), jnp.asarray(max_value, x.dtype))
    if negative_slope != 0.0:
        x = x - negative_slope * negative_part
    return x


def gelu(x, approximate: bool = False) -> jax.Array:
    """`ops.gelu` with Keras's activation default: the exact erf form unless `approximate=True`."""
    return ops.gelu(x, approximate=approximate)


def mish(x) -> jax.Array:
    """`x * tanh(softplus(x))`."""
    x = jnp.asarray(x)
    return x * ops.tanh(ops.softplus(x))


def exponential(x) -> jax.Array:
    """`exp(x)` (`ops.exp`)."""
    return ops.exp(x)


def linear(x) -> Any:
    """Identity: returns `x` unchanged."""
    return x


_FUNCTIONS = (
    relu, leaky_relu, relu6, softmax, log_softmax, elu, celu, selu, gelu, glu, silu, hard_silu, mish,
    sigmoid, log_sigmoid, hard_sigmoid, sparse_sigmoid, tanh, tanh_shrink, hard_tanh, softplus,
    softsign, sparse_plus, squareplus, soft_shrink, hard_shrink, threshold, exponential, linear,
    sparsemax,
)  # fmt: skip
ALL_OBJECTS: dict[str, Callable] = {fn.__name__: fn for fn in _FUNCTIONS}
ALL_OBJECTS.update(swish=swish, hard_swish=hard_swish)


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
