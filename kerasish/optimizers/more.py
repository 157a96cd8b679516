"""Keras 3's Adafactor, Ftrl, Lamb and LossScaleOptimizer as optax chains.

Lamb is optax's Adam moments followed by optax's trust ratio; Adafactor is a factored second moment
(Keras factors over the last two axes, optax over the two largest: `scale_by_keras_factored_rms`)
followed by optax's block-RMS clipping and parameter-RMS scaling; optax has no FTRL, so `scale_by_ftrl`
is Keras's rule. Keras decays the weights (`weight_decay`) *before* computing the update, which
matters for the rules that read the parameters (Lamb's trust ratio, Adafactor's parameter RMS):
`_ParamReadingOptimizer` hands those rules the decayed parameters.
`LossScaleOptimizer` wraps another optimizer in `mixed_precision.dynamic_loss_scale`.
"""

from __future__ import annotations

import numbers
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from kerasish.optimizers.base import Optimizer, _check_non_negative, _to_snake_case
from kerasish.optimizers.shell import _values

__all__ = ["Adafactor", "Ftrl", "Lamb", "LossScaleOptimizer"]


def _decay_first(inner: optax.GradientTransformation, rates) -> optax.GradientTransformation:
    """`inner` run on `params * (1 - rate)`, plus the decay itself: Keras's order (decay, then the rule).
    `rates(params)` gives each parameter's `learning_rate * weight_decay` (0 where excluded)."""

    def update(updates, state, params=None):
        if params is None:
            raise ValueError("This optimizer needs the parameters: call `update(grads, state, params)`.")
        decay = jax.tree.map(lambda p, r: -r * p, params, rates(params))
        decayed = jax.tree.map(jnp.add, params, decay)
        updates, state = inner.update(updates, state, decayed)
        return jax.tree.map(jnp.add, updates, decay), state

    return optax.GradientTransformation(inner.init, update)


class _ParamReadingOptimizer(Optimizer):
    """An optimizer whose rule reads the parameters: weight decay is applied before the rule."""

    def _with_shared_steps(self, learning_rate) -> optax.GradientTransformation:
        weight_decay, self.weight_decay = self.weight_decay, None
        try:
            tx = super()._with_shared_steps(learning_rate)  # clipping + the rule, no decay
        finally:
            self.weight_decay = weight_decay
        if not weight_decay:
            return tx
        rate = learning_rate * weight_decay
        if self._exclude_pattern is None:
            return _decay_first(tx, lambda params: jax.tree.map(lambda _: rate, params))
        return _decay_first(tx, lambda params: jax.tree.map(lambda keep: rate * keep, self._decay_mask(params)))


# ------------------------------------------------------------------------------------------ Lamb
class Lamb(_ParamReadingOptimizer):
    """Lamb: Adam's step `m_hat / (sqrt(v_hat) + epsilon)` scaled by the trust ratio
    `||param|| / ||step||` (1 when either norm is 0); `param -= lr * ratio * step`.

    Example:
        >>> opt = Lamb(learning_rate=1e-3, weight_decay=0.01)
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon

    def _update_rule(self, learning_rate):
        return optax.chain(optax.scale_by_adam(self.beta_1, self.beta_2, self.epsilon),
                           optax.scale_by_trust_ratio(),
                           optax.scale_by_learning_rate(learning_rate))

    def _keras_slot_groups(self):
        return [[("mu", "momentum"), ("nu", "velocity")]]

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon}


# ------------------------------------------------------------------------------------- Adafactor
class ScaleByKerasFactoredRmsState(NamedTuple):
    count: jax.Array
    r: optax.Updates   # row means of the second moment (rank >= 2), else a scalar 0
    c: optax.Updates   # column means (rank >= 2), else a scalar 0
    v: optax.Updates   # the second moment (factored: the outer product r c / mean(r))


def scale_by_keras_factored_rms(decay_rate: float, epsilon: float) -> optax.GradientTransformation:
    """Adafactor's `g / sqrt(v)` with `v` factored over the last two axes (Keras), decay
    `1 - t ** decay_rate`. optax's `scale_by_factored_rms` factors the two largest axes instead, and
    only from 128 elements on; Keras factors every tensor of rank >= 2."""

    def init(params):
        def zeros_r(p):
            return jnp.zeros(p.shape[:-1], p.dtype) if p.ndim >= 2 else jnp.zeros([], p.dtype)

        def zeros_c(p):
            return jnp.zeros(p.shape[:-2] + p.shape[-1:], p.dtype) if p.ndim >= 2 else jnp.zeros([], p.dtype)

        return ScaleByKerasFactoredRmsState(jnp.zeros([], jnp.int32), jax.tree.map(zeros_r, params),
                                            jax.tree.map(zeros_c, params), optax.tree.zeros_like(params))

    def update(updates, state, params=None):
        del params
        count = optax.safe_increment(state.count)
        beta = 1.0 - jnp.power(count.astype(jnp.float32), decay_rate)

        def moments(g, r, c, v):
            g2 = jnp.square(g) + epsilon
            if g.ndim < 2:
                v = beta * v + (1 - beta) * g2
                return r, c, v, g / jnp.sqrt(v)
            r = beta * r + (1 - beta) * jnp.mean(g2, axis=-1)
            c = beta * c + (1 - beta) * jnp.mean(g2, axis=-2)
            v = (r / jnp.mean(r, axis=-1, keepdims=True))[..., None] * c[..., None, :]
            return r, c, v, g / jnp.sqrt(v)

        out = jax.tree.map(moments, updates, state.r, state.c, state.v)
        treedef = jax.tree.structure(updates)
        r, c, v, steps = (jax.tree.unflatten(treedef, list(parts))
                          for parts in zip(*treedef.flatten_up_to(out)))
        return steps, ScaleByKerasFactoredRmsState(count, r, c, v)

    return optax.GradientTransformation(init, update)


class Adafactor(_ParamReadingOptimizer):
    """Adafactor: factored second moment, the step clipped to RMS `clip_threshold`, scaled by
    `max(epsilon_2, rms(param))` and by `min(learning_rate, 1 / sqrt(t))`.

    Keras computes `min(learning_rate, 1 / sqrt(t))` whatever `relative_step` is, so it is kept
    (and serialized) but does not change the update, as in Keras.
    """

    def __init__(self, learning_rate=0.001, beta_2_decay=-0.8, epsilon_1=1e-30, epsilon_2=1e-3,
                 clip_threshold=1.0, relative_step=True, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta_2_decay = beta_2_decay
        self.epsilon_1 = epsilon_1
        self.epsilon_2 = epsilon_2
        self.clip_threshold = clip_threshold
        self.relative_step = relative_step

    def _update_rule(self, learning_rate):
        relative = optax.scale_by_schedule(
            lambda count: -jnp.minimum(learning_rate, 1.0 / jnp.sqrt((count + 1).astype(jnp.float32))))
        return optax.chain(scale_by_keras_factored_rms(self.beta_2_decay, self.epsilon_1),
                           optax.clip_by_block_rms(self.clip_threshold),
                           optax.scale_by_param_block_rms(self.epsilon_2),
                           relative)

    def _keras_slot_groups(self):
        return [[("r", "r"), ("c", "c"), ("v", "velocity")]]

    def get_config(self):
        return {**super().get_config(), "beta_2_decay": self.beta_2_decay, "epsilon_1": self.epsilon_1,
                "epsilon_2": self.epsilon_2, "clip_threshold": self.clip_threshold,
                "relative_step": self.relative_step}


# ------------------------------------------------------------------------------------------ Ftrl
class ScaleByFtrlState(NamedTuple):
    accumulator: optax.Updates
    linear: optax.Updates


def scale_by_ftrl(learning_rate, learning_rate_power: float, initial_accumulator_value: float,
                  l1: float, l2: float, l2_shrinkage: float, beta: float) -> optax.GradientTransformation:
    """FTRL-proximal as Keras computes it (optax has no FTRL). The updates are
    `new_param - param`, already final (the learning rate is part of the rule)."""

    def init(params):
        return ScaleByFtrlState(jax.tree.map(lambda p: jnp.full_like(p, initial_accumulator_value), params),
                                optax.tree.zeros_like(params))

    def update(updates, state, params=None):
        if params is None:
            raise ValueError("This optimizer needs the parameters: call `update(grads, state, params)`.")
        l2_total = l2 + beta / (2.0 * learning_rate)

        def step(g, p, accum, linear):
            new_accum = accum + jnp.square(g)
            new_power, old_power = jnp.power(new_accum, -learning_rate_power), jnp.power(accum, -learning_rate_power)
            linear = linear + g + 2 * l2_shrinkage * p - (new_power - old_power) / learning_rate * p
            quadratic = new_power / learning_rate + 2 * l2_total
            new_p = (jnp.clip(linear, -l1, l1) - linear) / quadratic
            return new_p - p, new_accum, linear

        out = jax.tree.map(step, updates, params, state.accumulator, state.linear)
        treedef = jax.tree.structure(updates)
        deltas, accum, linear = (jax.tree.unflatten(treedef, list(parts))
                                 for parts in zip(*treedef.flatten_up_to(out)))
        return deltas, ScaleByFtrlState(accum, linear)

    return optax.GradientTransformation(init, update)


class Ftrl(_ParamReadingOptimizer):
    """FTRL-proximal (McMahan et al. 2013) with Keras's arguments and L2 shrinkage.

    Raises:
        ValueError: on a negative accumulator value or regularization strength, or a positive
            `learning_rate_power`.
    """

    def __init__(self, learning_rate=0.001, learning_rate_power=-0.5, initial_accumulator_value=0.1,
                 l1_regularization_strength=0.0, l2_regularization_strength=0.0,
                 l2_shrinkage_regularization_strength=0.0, beta=0.0, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        for arg, value in (("initial_accumulator_value", initial_accumulator_value),
                           ("l1_regularization_strength", l1_regularization_strength),
                           ("l2_regularization_strength", l2_regularization_strength),
                           ("l2_shrinkage_regularization_strength", l2_shrinkage_regularization_strength)):
            if value < 0.0:
                raise ValueError(f"`{arg}` needs to be positive or zero. Received: {arg}={value}.")
        if learning_rate_power > 0.0:
            raise ValueError("`learning_rate_power` needs to be negative or zero. "
                             f"Received: learning_rate_power={learning_rate_power}.")
        self.learning_rate_power = learning_rate_power
        self.initial_accumulator_value = initial_accumulator_value
        self.l1_regularization_strength = l1_regularization_strength
        self.l2_regularization_strength = l2_regularization_strength
        self.l2_shrinkage_regularization_strength = l2_shrinkage_regularization_strength
        self.beta = beta

    def _update_rule(self, learning_rate):
        return scale_by_ftrl(learning_rate, self.learning_rate_power, self.initial_accumulator_value,
                             self.l1_regularization_strength, self.l2_regularization_strength,
                             self.l2_shrinkage_regularization_strength, self.beta)

    def _keras_slot_groups(self):
        return [[("accumulator", "accumulator"), ("linear", "linear")]]

    def get_config(self):
        return {**super().get_config(),
                "learning_rate_power": self.learning_rate_power,
                "initial_accumulator_value": self.initial_accumulator_value,
                "l1_regularization_strength": self.l1_regularization_strength,
                "l2_regularization_strength": self.l2_regularization_strength,
                "l2_shrinkage_regularization_strength": self.l2_shrinkage_regularization_strength,
                "beta": self.beta}


# ---------------------------------------------------------------------------- LossScaleOptimizer
_BASE_DEFAULTS = {"weight_decay": None, "clipnorm": None, "global_clipnorm": None, "clipvalue": None,
                  "use_ema": False, "ema_momentum": 0.99, "ema_overwrite_frequency": None,
                  "loss_scale_factor": None, "gradient_accumulation_steps": None}


class LossScaleOptimizer(Optimizer):
    """Dynamic loss scaling around `inner_optimizer` (Keras's `LossScaleOptimizer`).

    `scale_loss(loss)` multiplies by the current scale; `apply(grads)` takes gradients of the
    scaled loss, skips the step and halves the scale if any is not finite, else divides them by the
    scale, applies `inner_optimizer` and doubles the scale after `dynamic_growth_steps` finite steps.
    The state is `mixed_precision.dynamic_loss_scale`'s (the scale lives in the optax state).

    Raises:
        ValueError: for `dynamic=False`, or a base optimizer argument (set it on the inner one).
    """

    def __init__(self, inner_optimizer, initial_scale=2.0 ** 15, dynamic_growth_steps=2000, name=None, **kwargs):
        if not kwargs.pop("dynamic", True):
            raise ValueError("LossScaleOptimizer no longer supports `dynamic=False`. Instead, simply set "
                             "`loss_scale_factor` directly on the `inner_optimizer`.")
        for arg, default in _BASE_DEFAULTS.items():
            if arg in kwargs and kwargs.pop(arg) != default:
                raise ValueError(f"LossScaleOptimizer does not support `{arg}`. "
                                 f"Instead, set `{arg}` on the `inner_optimizer`.")
        if kwargs:
            raise ValueError(f"LossScaleOptimizer does not support arguments: `{'`, `'.join(kwargs)}`.")
        if not isinstance(inner_optimizer, Optimizer):
            raise ValueError("Argument `inner_optimizer` must be a kerasish `Optimizer`. "
                             f"Received: inner_optimizer={inner_optimizer!r}")
        if not (isinstance(dynamic_growth_steps, numbers.Integral) and dynamic_growth_steps >= 1):
            raise ValueError("Argument `dynamic_growth_steps` must be a positive integer. "
                             f"Received: dynamic_growth_steps={dynamic_growth_steps}")
        self.inner_optimizer = inner_optimizer
        self.initial_scale = initial_scale
        self.dynamic_growth_steps = dynamic_growth_steps
        self.name = name if name is not None else _to_snake_case(type(self).__name__)
        inner_optimizer.loss_scale_factor = None
        # `Optimizer`'s own arguments, which Keras refuses here (they belong to the inner optimizer)
        self.weight_decay = self.clipnorm = self.clipvalue = self.global_clipnorm = None
        self.use_ema, self.ema_momentum, self.ema_overwrite_frequency = False, 0.99, None
        self.loss_scale_factor = self.gradient_accumulation_steps = self._exclude_pattern = None
        self.state = None

    @property
    def _learning_rate(self):
        """The inner optimizer's rate or schedule (the training engine follows its changes)."""
        return self.inner_optimizer._learning_rate

    def exclude_from_weight_decay(self, var_list=None, var_names=None) -> None:
        self.inner_optimizer.exclude_from_weight_decay(var_list=var_list, var_names=var_names)
        self._compiled_apply = None

    def make_transform(self) -> optax.GradientTransformation:
        """The inner transformation wrapped in `dynamic_loss_scale`; its `update` takes gradients
        already divided by the scale (as the compiled training step gives them)."""
        from kerasish.mixed_precision import dynamic_loss_scale
        return dynamic_loss_scale(self.inner_optimizer.make_transform(), float(self.initial_scale),
                                  period=int(self.dynamic_growth_steps))

    def _keras_slot_groups(self):
        return self.inner_optimizer._keras_slot_groups()

    def stateless_apply(self, optimizer_variables, grads, trainable_variables):
        """Keras's: `grads` are gradients of the scaled loss; they are unscaled here."""
        if self._slots is None:
            return super().stateless_apply(optimizer_variables, grads, trainable_variables)
        scale = self._unflatten(_values(list(optimizer_variables))).scale
        grads = jax.tree.map(lambda g: g / scale, _values(list(grads) if isinstance(grads, tuple) else grads))
        return super().stateless_apply(optimizer_variables, grads, trainable_variables)

    @property
    def dynamic_scale(self):
        """The current loss scale (`initial_scale` before the optimizer is built)."""
        return self.initial_scale if self.state is None else float(self.state.scale)

    @property
    def step_counter(self) -> int:
        return 0 if self.state is None else int(self.state.good_steps)

    def scale_loss(self, loss):
        """`loss * dynamic_scale` for a concrete loss (for `apply`). Inside a traced step the loss is
        returned as is: kerasish's compiled training step multiplies it by the scale held in the
        optimizer state itself (a Python value read while tracing would be stale)."""
        if isinstance(loss, jax.core.Tracer):
            return loss
        return loss * self.dynamic_scale

    @property
    def learning_rate(self):
        if self.state is not None:  # the inner optimizer's rate lives in this optimizer's state
            from kerasish.optimizers.state import get_learning_rate
            if not callable(self._learning_rate):
                return float(get_learning_rate(self.state))
        return self.inner_optimizer.learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        self.inner_optimizer.learning_rate = value
        if self.state is not None and not callable(value):
            from kerasish.optimizers.state import set_learning_rate
            self.state = set_learning_rate(self.state, value)
        self._compiled_apply = None

    def get_config(self) -> dict[str, Any]:
        from kerasish.optimizers import serialize
        return {"name": self.name, "inner_optimizer": serialize(self.inner_optimizer),
                "initial_scale": self.initial_scale, "dynamic_growth_steps": self.dynamic_growth_steps}

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects=None) -> "LossScaleOptimizer":
        from kerasish.optimizers import deserialize
        config = dict(config)
        inner = deserialize(config.pop("inner_optimizer"), custom_objects=custom_objects)
        return cls(inner, **config)

    def __repr__(self) -> str:
        return f"<LossScaleOptimizer name={self.name}>"
