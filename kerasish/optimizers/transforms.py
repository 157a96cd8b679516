"""The few gradient transformations Keras 3 computes differently from every optax option.

Everything else in `keras_optimizers.py` is plain optax. Each function here exists because no
combination of optax arguments reproduces Keras's update exactly; the docstring says what differs.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax


def clip_by_norm(max_norm: float) -> optax.GradientTransformation:
    """Keras `clipnorm`: clips each gradient tensor separately to L2 norm `max_norm`.

    optax only offers a global norm (`clip_by_global_norm`, Keras's `global_clipnorm`) or a
    block RMS (`clip_by_block_rms`, which divides by sqrt(size)).
    """

    def clip(g, _params):
        norm = jnp.sqrt(jnp.sum(jnp.square(g)))
        return g * max_norm / jnp.maximum(norm, max_norm)

    return optax.stateless_with_tree_map(clip)


def _keras_power(beta: float, t: jax.Array) -> jax.Array:
    """`beta ** t` as Keras computes it (float32 base and exponent). `1 - beta**t` cancels
    catastrophically for beta near 1, so optax's integer power differs by up to ~1e-5 relative."""
    return jnp.power(jnp.float32(beta), t.astype(jnp.float32))


class ScaleByKerasAdamState(NamedTuple):
    count: jax.Array
    mu: optax.Updates
    nu: optax.Updates
    nu_max: optax.Updates


def scale_by_keras_adam(beta_1: float, beta_2: float, epsilon: float,
                        amsgrad: bool = False) -> optax.GradientTransformation:
    """Keras Adam: `sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps)`, AMSGrad on the raw `v`.

    optax's `scale_by_adam` adds epsilon after bias-correcting `v` (Keras: before), its AMSGrad
    takes the maximum of the corrected `v` (Keras: of the raw one), and its bias corrections use
    an integer power; each changes the numbers at the 1e-5 level.
    """

    def init(params):
        zeros = optax.tree.zeros_like(params)
        return ScaleByKerasAdamState(jnp.zeros([], jnp.int32), zeros, zeros,
                                     zeros if amsgrad else ())

    def update(updates, state, params=None):
        del params
        count = optax.safe_increment(state.count)
        mu = optax.tree.update_moment(updates, state.mu, beta_1, 1)
        nu = optax.tree.update_moment_per_elem_norm(updates, state.nu, beta_2, 2)
        nu_max = jax.tree.map(jnp.maximum, state.nu_max, nu) if amsgrad else ()
        alpha = jnp.sqrt(1.0 - _keras_power(beta_2, count)) / (1.0 - _keras_power(beta_1, count))
        updates = jax.tree.map(lambda m, v: m * alpha / (jnp.sqrt(v) + epsilon), mu,
                               nu_max if amsgrad else nu)
        return updates, ScaleByKerasAdamState(count, mu, nu, nu_max)

    return optax.GradientTransformation(init, update)


class ScaleByKerasAdamaxState(NamedTuple):
    count: jax.Array
    mu: optax.Updates
    nu: optax.Updates


def scale_by_keras_adamax(beta_1: float, beta_2: float, epsilon: float) -> optax.GradientTransformation:
    """Keras Adamax: `u = max(b2 * u, |g|)`, step `m / ((1 - b1^t) * (u + eps))`.

    optax's `scale_by_adamax` puts epsilon inside the maximum (`max(b2 * u, |g| + eps)`).
    """

    def init(params):
        zeros = optax.tree.zeros_like(params)
        return ScaleByKerasAdamaxState(jnp.zeros([], jnp.int32), zeros, zeros)

    def update(updates, state, params=None):
        del params
        count = optax.safe_increment(state.count)
        mu = optax.tree.update_moment(updates, state.mu, beta_1, 1)
        nu = jax.tree.map(lambda g, u: jnp.maximum(beta_2 * u, jnp.abs(g)), updates, state.nu)
        correction = 1.0 - _keras_power(beta_1, count)
        updates = jax.tree.map(lambda m, u: m / (correction * (u + epsilon)), mu, nu)
        return updates, ScaleByKerasAdamaxState(count, mu, nu)

    return optax.GradientTransformation(init, update)


class ScaleByKerasNadamState(NamedTuple):
    count: jax.Array
    u_product: jax.Array
    mu: optax.Updates
    nu: optax.Updates


def scale_by_keras_nadam(beta_1: float, beta_2: float, epsilon: float) -> optax.GradientTransformation:
    """Keras Nadam (Dozat 2016 with the momentum schedule `u_t = b1 * (1 - 0.5 * 0.96^t)`).

    optax's `nadam` (`scale_by_adam(nesterov=True)`) has no momentum schedule.
    """

    def init(params):
        zeros = optax.tree.zeros_like(params)
        return ScaleByKerasNadamState(jnp.zeros([], jnp.int32), jnp.ones([], jnp.float32),
                                      zeros, zeros)

    def update(updates, state, params=None):
        del params
        count = optax.safe_increment(state.count)
        u_t = beta_1 * (1.0 - 0.5 * _keras_power(0.96, count))
        u_next = beta_1 * (1.0 - 0.5 * _keras_power(0.96, count + 1))
        u_product = state.u_product * u_t
        u_product_next = u_product * u_next
        mu = optax.tree.update_moment(updates, state.mu, beta_1, 1)
        nu = optax.tree.update_moment_per_elem_norm(updates, state.nu, beta_2, 2)
        nu_correction = 1.0 - _keras_power(beta_2, count)

        def step(g, m, v):
            m_hat = u_next * m / (1.0 - u_product_next) + (1.0 - u_t) * g / (1.0 - u_product)
            return m_hat / (jnp.sqrt(v / nu_correction) + epsilon)

        updates = jax.tree.map(step, updates, mu, nu)
        return updates, ScaleByKerasNadamState(count, u_product, mu, nu)

    return optax.GradientTransformation(init, update)
