"""Learning-rate schedules: Keras 3 names and maths as pure, jit-safe functions of the step.

A schedule is a callable `schedule(step) -> float32 scalar` that an optimizer hands to
`optax.inject_hyperparams`, which evaluates it on the optimizer's step count inside the compiled
training step. This module owns the schedule maths and their configs; it holds no state and never
looks at an optimizer.
"""

from __future__ import annotations

import math
from typing import Any

import jax.numpy as jnp

__all__ = [
    "LearningRateSchedule",
    "ExponentialDecay",
    "PiecewiseConstantDecay",
    "PolynomialDecay",
    "InverseTimeDecay",
    "CosineDecay",
    "CosineDecayRestarts",
    "serialize",
    "deserialize",
    "get",
]

_MODULE = "keras.optimizers.schedules"


def _as_float(step) -> jnp.ndarray:
    return jnp.asarray(step, dtype=jnp.float32)


def _check_positive(name: str, value) -> None:
    if value <= 0:
        raise ValueError(f"Argument `{name}` must be > 0. Received: {name}={value}")


class LearningRateSchedule:
    """Base class: subclasses implement `__call__(step)` with jnp ops and `get_config()`.

    Example:
        >>> class Halving(LearningRateSchedule):
        ...     def __init__(self, lr): self.lr = lr
        ...     def __call__(self, step): return self.lr * 0.5 ** (step // 100)
        ...     def get_config(self): return {"lr": self.lr}
    """

    # Built-in schedules list their constructor arguments here; get_config reads them back.
    _config_keys: tuple[str, ...] = ()

    def __call__(self, step) -> jnp.ndarray:
        raise NotImplementedError(
            f"Learning rate schedule '{self.__class__.__name__}' must override "
            "`__call__(self, step)`."
        )

    def get_config(self) -> dict[str, Any]:
        if self._config_keys:
            return {key: getattr(self, key) for key in self._config_keys}
        raise NotImplementedError(
            f"Learning rate schedule '{self.__class__.__name__}' must override "
            "`get_config()` in order to be serializable."
        )

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "LearningRateSchedule":
        return cls(**config)


class _StepDecay(LearningRateSchedule):
    """Shared by the two decays driven by `step / decay_steps` (floored if `staircase`)."""

    _config_keys = ("initial_learning_rate", "decay_steps", "decay_rate", "staircase", "name")

    def __init__(self, initial_learning_rate: float, decay_steps: int, decay_rate: float,
                 staircase: bool = False, name: str | None = None):
        _check_positive("decay_steps", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name or type(self).__name__

    def _progress(self, step):
        p = _as_float(step) / self.decay_steps
        return jnp.floor(p) if self.staircase else p


class ExponentialDecay(_StepDecay):
    """`initial_learning_rate * decay_rate ** (step / decay_steps)` (floored if `staircase`)."""

    def __call__(self, step):
        return jnp.float32(self.initial_learning_rate) * jnp.power(jnp.float32(self.decay_rate), self._progress(step))


class PiecewiseConstantDecay(LearningRateSchedule):
    """`values[0]` while `step <= boundaries[0]`, `values[i]` while `step <= boundaries[i]`, ..."""

    _config_keys = ("boundaries", "values", "name")

    def __init__(self, boundaries: list, values: list, name: str = "PiecewiseConstant"):
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                "The length of boundaries should be 1 less than the length of values. "
                f"Received: boundaries={boundaries} of length {len(boundaries)}, and "
                f"values={values} of length {len(values)}."
            )
        self.boundaries = boundaries
        self.values = values
        self.name = name

    def __call__(self, step):
        step = jnp.asarray(step)
        boundaries = jnp.asarray(self.boundaries, dtype=step.dtype)
        values = jnp.asarray(self.values, dtype=jnp.float32)
        # Number of boundaries strictly below the step = index of the active value.
        index = jnp.sum(step[..., None] > boundaries, axis=-1)
        return values[index]


class PolynomialDecay(LearningRateSchedule):
    """Decay from `initial_learning_rate` to `end_learning_rate` over `decay_steps`, as
    `(initial - end) * (1 - step / decay_steps) ** power + end`; `cycle` restarts the decay."""

    _config_keys = ("initial_learning_rate", "decay_steps", "end_learning_rate", "power",
                    "cycle", "name")

    def __init__(self, initial_learning_rate: float, decay_steps: int,
                 end_learning_rate: float = 0.0001, power: float = 1.0, cycle: bool = False,
                 name: str = "PolynomialDecay"):
        _check_positive("decay_steps", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.end_learning_rate = end_learning_rate
        self.power = power
        self.cycle = cycle
        self.name = name

    def __call__(self, step):
        step = _as_float(step)
        decay_steps = jnp.float32(self.decay_steps)
        if self.cycle:
            multiplier = jnp.where(step == 0, 1.0, jnp.ceil(step / decay_steps))
            decay_steps = decay_steps * multiplier
        else:
            step = jnp.minimum(step, decay_steps)
        p = step / decay_steps
        end = jnp.float32(self.end_learning_rate)
        delta = jnp.float32(self.initial_learning_rate) - end
        return delta * jnp.power(1 - p, jnp.float32(self.power)) + end


class InverseTimeDecay(_StepDecay):
    """`initial_learning_rate / (1 + decay_rate * step / decay_steps)` (floored if `staircase`)."""

    def __call__(self, step):
        return jnp.float32(self.initial_learning_rate) / (1.0 + jnp.float32(self.decay_rate) * self._progress(step))


class CosineDecay(LearningRateSchedule):
    """Optional linear warmup from `initial_learning_rate` to `warmup_target` over `warmup_steps`,
    then cosine decay to `alpha` times the peak over `decay_steps`."""

    _config_keys = ("initial_learning_rate", "decay_steps", "alpha", "name", "warmup_target",
                    "warmup_steps")

    def __init__(self, initial_learning_rate: float, decay_steps: int, alpha: float = 0.0,
                 name: str = "CosineDecay", warmup_target: float | None = None,
                 warmup_steps: int = 0):
        _check_positive("decay_steps", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.alpha = alpha
        self.name = name
        self.warmup_target = warmup_target
        self.warmup_steps = warmup_steps

    def _decay(self, step, peak):
        cosine = 0.5 * (1.0 + jnp.cos(jnp.float32(math.pi) * step / self.decay_steps))
        return peak * ((1 - self.alpha) * cosine + self.alpha)

    def __call__(self, step):
        step = _as_float(step)
        initial = jnp.float32(self.initial_learning_rate)
        if self.warmup_target is None:
            return self._decay(jnp.minimum(step, self.decay_steps), initial)
        target = jnp.float32(self.warmup_target)
        warmup_steps = jnp.float32(self.warmup_steps)
        step = jnp.minimum(step, self.decay_steps + warmup_steps)
        warmup = (target - initial) * (step / warmup_steps) + initial
        return jnp.where(step < warmup_steps, warmup, self._decay(step - warmup_steps, target))


class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay with warm restarts (SGDR): period `first_decay_steps * t_mul**i`, peak
    `initial_learning_rate * m_mul**i`."""

    _config_keys = ("initial_learning_rate", "first_decay_steps", "t_mul", "m_mul", "alpha", "name")

    def __init__(self, initial_learning_rate: float, first_decay_steps: int, t_mul: float = 2.0,
                 m_mul: float = 1.0, alpha: float = 0.0, name: str = "SGDRDecay"):
        _check_positive("first_decay_steps", first_decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.first_decay_steps = first_decay_steps
        self.t_mul = t_mul
        self.m_mul = m_mul
        self.alpha = alpha
        self.name = name

    def __call__(self, step):
        fraction = _as_float(step) / self.first_decay_steps
        t_mul = jnp.float32(self.t_mul)
        if self.t_mul == 1.0:
            restart = jnp.floor(fraction)
            fraction = fraction - restart
        else:
            restart = jnp.floor(jnp.log(1.0 - fraction * (1.0 - t_mul)) / jnp.log(t_mul))
            done = (1.0 - jnp.power(t_mul, restart)) / (1.0 - t_mul)
            fraction = (fraction - done) / jnp.power(t_mul, restart)
        cosine = 0.5 * jnp.power(jnp.float32(self.m_mul), restart) * (
            1.0 + jnp.cos(jnp.float32(math.pi) * fraction))
        return jnp.float32(self.initial_learning_rate) * ((1 - self.alpha) * cosine + self.alpha)


_SCHEDULES = {
    cls.__name__: cls
    for cls in (ExponentialDecay, PiecewiseConstantDecay, PolynomialDecay, InverseTimeDecay,
                CosineDecay, CosineDecayRestarts)
}


def serialize(schedule: LearningRateSchedule) -> dict[str, Any]:
    """Returns `{"module", "class_name", "config", "registered_name"}` like Keras 3."""
    if not isinstance(schedule, LearningRateSchedule):
        raise TypeError(
            "Expected a `LearningRateSchedule` instance. "
            f"Received: schedule={schedule!r} of type {type(schedule).__name__}"
        )
    return {
        "module": _MODULE,
        "class_name": type(schedule).__name__,
        "config": schedule.get_config(),
        "registered_name": None,
    }


def deserialize(config: dict[str, Any], custom_objects: dict | None = None) -> LearningRateSchedule:
    """Rebuilds a schedule from `{"class_name": ..., "config": ...}` (extra Keras keys ignored)."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(
            "Expected a dict with keys 'class_name' and 'config'. "
            f"Received: config={config!r}"
        )
    known = {**_SCHEDULES, **(custom_objects or {})}
    name = config["class_name"]
    if name not in known:
        raise ValueError(
            f"Could not interpret learning rate schedule: {name}. "
            f"Accepted names: {sorted(_SCHEDULES)}"
        )
    return known[name].from_config(dict(config.get("config", {})))


def get(identifier) -> LearningRateSchedule | None:
    """A schedule instance, a config dict, or None."""
    if identifier is None or isinstance(identifier, LearningRateSchedule):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    raise ValueError(f"Could not interpret learning rate schedule identifier: {identifier}")
