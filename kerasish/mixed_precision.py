"""Mixed precision (Keras's `keras.mixed_precision`): compute in bfloat16/float16, keep float32 weights.

Owns: dtype policies, the global policy, and dynamic loss scaling for float16 as an Optax
transformation (its state holds the scale, so it is checkpointed and jit-safe). Layers read the
policy when they are created; softmax and losses are computed in float32 whatever the policy.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

_POLICIES = {
    "float32": ("float32", "float32"), "float64": ("float64", "float64"),
    "bfloat16": ("bfloat16", "bfloat16"), "float16": ("float16", "float16"),
    "mixed_bfloat16": ("bfloat16", "float32"), "mixed_float16": ("float16", "float32"),
}


class DTypePolicy:
    """A named pair of dtypes: `compute_dtype` for layer maths, `variable_dtype` for weights."""

    def __init__(self, name: str | None = None):
        if name is None:  # Keras: the policy of floatx
            from kerasish.backend import floatx
            name = floatx()
        if isinstance(name, DTypePolicy):
            name = name.name
        if name not in _POLICIES:
            raise ValueError(f"Cannot convert '{name}' to a mixed precision DTypePolicy. Valid policies "
                             f"include 'mixed_float16', 'mixed_bfloat16', and the name of any float dtype "
                             f"such as 'float32'.")
        self.name = name
        self.compute_dtype, self.variable_dtype = _POLICIES[name]

    def get_config(self) -> dict:
        return {"name": self.name}

    def __eq__(self, other) -> bool:
        return isinstance(other, DTypePolicy) and other.name == self.name

    def __hash__(self) -> int:
        return hash(("DTypePolicy", self.name))

    def __repr__(self) -> str:
        return f'<DTypePolicy "{self.name}">'


Policy = DTypePolicy
FloatDTypePolicy = DTypePolicy  # Keras 3: the float policies' class; kerasish has only float policies
_global: dict[str, DTypePolicy | None] = {"policy": None}  # None: follows `keras.config.floatx()`


def set_global_policy(policy: str | DTypePolicy) -> None:
    """Sets the policy of layers created afterwards (`"mixed_bfloat16"`, `"mixed_float16"`, `"float32"`)."""
    _global["policy"] = DTypePolicy(policy)


set_dtype_policy = set_global_policy  # Keras 3's newer name


def global_policy() -> DTypePolicy:
    return _global["policy"] or DTypePolicy()


def dtype_policy(dtype: Any = None) -> DTypePolicy:
    """The policy a layer gets: its own `dtype=` argument, else (and with no argument, as
    `keras.mixed_precision.dtype_policy()`) the global one."""
    if dtype is None:
        return global_policy()
    if isinstance(dtype, DTypePolicy):
        return dtype
    if isinstance(dtype, dict):
        return DTypePolicy(dtype.get("config", dtype).get("name", "float32"))
    if isinstance(dtype, str) and dtype in _POLICIES:  # "mixed_float16", as get_config writes it
        return DTypePolicy(dtype)
    return DTypePolicy(str(jnp.dtype(dtype)))


# -- dynamic loss scaling (for float16) ----------------------------------------------------

class LossScaleState(NamedTuple):
    scale: jax.Array
    good_steps: jax.Array
    inner: Any


def dynamic_loss_scale(inner: optax.GradientTransformation, initial_scale: float = 2.0 ** 15,
                       period: int = 2000, factor: float = 2.0) -> optax.GradientTransformation:
    """Wraps an optimizer for loss-scaled float16 training.

    The training step multiplies the loss by `state.scale` and divides the gradients by it before
    calling `update`. A step whose gradients are not finite is skipped (updates are zero, the inner
    state is kept) and the scale is divided by `factor`; after `period` finite steps it is multiplied.
    """
    def init(params):
        return LossScaleState(jnp.asarray(initial_scale, jnp.float32), jnp.zeros((), jnp.int32), inner.init(params))

    def update(grads, state, params=None):
        finite = jnp.all(jnp.asarray([jnp.all(jnp.isfinite(g)) for g in jax.tree.leaves(grads)]))
        safe = jax.tree.map(lambda g: jnp.where(finite, g, jnp.zeros_like(g)), grads)
        updates, new_inner = inner.update(safe, state.inner, params)
        updates = jax.tree.map(lambda u: jnp.where(finite, u, jnp.zeros_like(u)), updates)
        new_inner = jax.tree.map(lambda new, old: jnp.where(finite, new, old), new_inner, state.inner)
        grow = state.good_steps + 1 >= period
        scale = jnp.where(finite, jnp.where(grow, state.scale * factor, state.scale), state.scale / factor)
        good = jnp.where(finite & ~grow, state.good_steps + 1, 0)
        return updates, LossScaleState(scale.astype(jnp.float32), good.astype(jnp.int32), new_inner)

    return optax.GradientTransformation(init, update)


def loss_scale(opt_state) -> jax.Array | None:
    """The current loss scale if `opt_state` comes from `dynamic_loss_scale`, else None."""
    return opt_state.scale if isinstance(opt_state, LossScaleState) else None


def __getattr__(name: str):
    if name == "LossScaleOptimizer":  # lives with the optimizers (which import this module)
        from kerasish.optimizers.more import LossScaleOptimizer
        return LossScaleOptimizer
    raise AttributeError(f"module 'kerasish.mixed_precision' has no attribute {name!r}")


__all__ = ["DTypePolicy", "FloatDTypePolicy", "LossScaleOptimizer", "LossScaleState", "Policy", "set_dtype_policy", "dtype_policy", "dynamic_loss_scale", "global_policy",
           "loss_scale", "set_global_policy"]
