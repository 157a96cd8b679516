"""Optimizer base: Keras 3 arguments in, one `optax.GradientTransformation` out.

Owns what every Keras optimizer shares (learning rate, gradient clipping, decoupled weight decay,
loss-scale unscaling, gradient accumulation) and `learning_rate`; the state and Keras's stateless API
live in `shell._StatefulShell`. It does no update maths of its own: subclasses return the optax chain for their rule
from `_update_rule(learning_rate)`. The learning rate is injected with `optax.inject_hyperparams`,
so it is an array inside the optimizer state and `set_learning_rate` changes it without
recompiling a jitted step.
"""

from __future__ import annotations

import numbers
import re
import warnings
from typing import Any

import jax
import optax

from kerasish.optimizers import schedules as schedules_module
from kerasish.optimizers.shell import _StatefulShell
from kerasish.optimizers.state import get_learning_rate, set_learning_rate
from kerasish.optimizers.transforms import clip_by_norm

__all__ = ["Optimizer"]


# --------------------------------------------------------------------------- validation helpers
def _check_range(name: str, value, low: float, high: float, high_open: bool = False) -> None:
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and low <= value and (
        value < high if high_open else value <= high)
    if not ok:
        bracket = ")" if high_open else "]"
        raise ValueError(
            f"Argument `{name}` must be a float in [{low}, {high}{bracket}. Received: {name}={value}")


def _check_non_negative(name: str, value, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or value < 0:
        raise ValueError(
            f"Argument `{name}` must be a non-negative float. Received: {name}={value}")


def _to_snake_case(name: str) -> str:
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def _check_learning_rate(learning_rate):
    if isinstance(learning_rate, schedules_module.LearningRateSchedule) or callable(learning_rate):
        return learning_rate
    if isinstance(learning_rate, numbers.Real) and not isinstance(learning_rate, bool):
        if learning_rate < 0:
            raise ValueError(
                "Argument `learning_rate` must be a non-negative float. "
                f"Received: learning_rate={learning_rate}")
        return float(learning_rate)
    raise ValueError(
        "Argument `learning_rate` should be float, or an instance of LearningRateSchedule, or a "
        "callable (that takes in the current iteration value and returns the corresponding "
        f"learning rate value). Received instead: learning_rate={learning_rate}")


_SCHEDULE_NOT_SETTABLE = (
    "This optimizer was created with a `LearningRateSchedule` object as its `learning_rate` "
    "constructor argument, hence its learning rate is not settable. If you need the learning "
    "rate to be settable, you should instantiate the optimizer with a float `learning_rate` "
    "argument.")


class Optimizer(_StatefulShell):
    """Base class of the Keras-named optimizers; see the module docstring.

    Args:
        learning_rate: float >= 0, a `LearningRateSchedule`, or a callable of the step count.
        weight_decay: decoupled weight decay: each step also subtracts
            `learning_rate * weight_decay * param` (Keras 3 semantics, not L2 in the gradient).
        clipnorm: clip each gradient tensor to this L2 norm.
        clipvalue: clip each gradient element to `[-clipvalue, clipvalue]`.
        global_clipnorm: clip all gradients together to this global L2 norm.
        loss_scale_factor: gradients are divided by this before the update.
        gradient_accumulation_steps: apply the mean gradient every this many calls.
        name: defaults to the snake-cased class name.
    Raises:
        ValueError: on an invalid value (the message names the argument and the value), on more
            than one clipping argument, or on unknown keyword arguments.
        NotImplementedError: for `use_ema=True`.
    """

    def __init__(self, learning_rate, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name=None, **kwargs):
        if kwargs.pop("decay", None) is not None:
            warnings.warn("Argument `decay` is no longer supported and will be ignored.")
        if kwargs:
            raise ValueError(f"Argument(s) not recognized: {kwargs}")
        self._learning_rate = _check_learning_rate(learning_rate)
        for arg, value in (("weight_decay", weight_decay), ("clipnorm", clipnorm),
                           ("clipvalue", clipvalue), ("global_clipnorm", global_clipnorm)):
            _check_non_negative(arg, value, allow_none=True)
        if sum(a is not None for a in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError(
                "Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. "
                f"Received: clipnorm={clipnorm}, clipvalue={clipvalue}, "
                f"global_clipnorm={global_clipnorm}")
        if loss_scale_factor is not None and not (
                isinstance(loss_scale_factor, numbers.Real) and loss_scale_factor > 0):
            raise ValueError(
                "Argument `loss_scale_factor` must be a positive float. "
                f"Received: loss_scale_factor={loss_scale_factor}")
        if gradient_accumulation_steps and not (
                isinstance(gradient_accumulation_steps, int) and gradient_accumulation_steps >= 2):
            raise ValueError(
                "`gradient_accumulation_steps` must be an integer >= 2. "
                f"Received: gradient_accumulation_steps={gradient_accumulation_steps}")
        if use_ema:
            raise NotImplementedError(
                "`use_ema=True` is not supported by kerasish yet. Received: use_ema=True")
        self.name = name if name is not None else _to_snake_case(type(self).__name__)
        self.weight_decay = weight_decay
        self.clipnorm = clipnorm
        self.clipvalue = clipvalue
        self.global_clipnorm = global_clipnorm
        self.use_ema = use_ema
        self.ema_momentum = ema_momentum
        self.ema_overwrite_frequency = ema_overwrite_frequency
        self.loss_scale_factor = loss_scale_factor
        self.gradient_accumulation_steps = gradient_accumulation_steps
        self._exclude_pattern = None
        self.state = None

    # ----------------------------------------------------------------- the transformation
    def _update_rule(self, learning_rate: jax.Array) -> optax.GradientTransformation:
        """Gradients -> final updates (already multiplied by `-learning_rate`)."""
        raise NotImplementedError(f"{type(self).__name__} must implement `_update_rule`.")

    def _decay_mask(self, params):
        pattern = self._exclude_pattern
        built = self._built_for
        if built is not None and isinstance(params, list) and len(params) == len(built):
            return [pattern.search(str(v.get_metadata("path", "") or "")) is None for v in built]
        return jax.tree_util.tree_map_with_path(
            lambda path, _: pattern.search(jax.tree_util.keystr(path)) is None, params)

    def _with_shared_steps(self, learning_rate) -> optax.GradientTransformation:
        steps = []
        if self.loss_scale_factor is not None:
            steps.append(optax.scale(1.0 / self.loss_scale_factor))
        if self.clipnorm:
            steps.append(clip_by_norm(self.clipnorm))
        elif self.global_clipnorm:
            steps.append(optax.clip_by_global_norm(self.global_clipnorm))
        elif self.clipvalue:
            steps.append(optax.clip(self.clipvalue))
        steps.append(self._update_rule(learning_rate))
        if self.weight_decay:
            mask = self._decay_mask if self._exclude_pattern is not None else None
            steps.append(optax.add_decayed_weights(-learning_rate * self.weight_decay, mask))
        return optax.chain(*steps)

    def make_transform(self) -> optax.GradientTransformation:
        """The whole optimizer as an optax transformation; `learning_rate` lives in its state.

        `update(grads, state, params)` needs `params` when `weight_decay` is set.
        """
        learning_rate = self._learning_rate
        k = self.gradient_accumulation_steps
        if k and callable(learning_rate):
            # Keras evaluates the schedule on the real iteration count, (updates + 1) * k - 1.
            schedule = learning_rate
            learning_rate = lambda count: schedule(count * k + k - 1)  # noqa: E731
        tx = optax.inject_hyperparams(self._with_shared_steps)(learning_rate=learning_rate)
        if k:
            tx = optax.MultiSteps(tx, every_k_schedule=k).gradient_transformation()
        return tx

    def exclude_from_weight_decay(self, var_list=None, var_names=None) -> None:
        """Exempts parameters whose pytree path contains any of `var_names` (e.g. `["bias"]`)."""
        if var_list:
            raise NotImplementedError(
                "`var_list` is not supported: parameters are pytree leaves, not variables. "
                "Pass `var_names=[...]` (matched against each parameter's path) instead.")
        self._exclude_pattern = re.compile("|".join(set(var_names))) if var_names else None
        self._compiled_apply = None

    def scale_loss(self, loss):
        """Multiplies the loss by `loss_scale_factor` (gradients are unscaled in the update)."""
        return loss * self.loss_scale_factor if self.loss_scale_factor is not None else loss

    # ----------------------------------------------------------------- the learning rate
    @property
    def learning_rate(self) -> float:
        """The learning rate of the next update, as a Python float."""
        if callable(self._learning_rate):
            step = self.iterations
            if self.gradient_accumulation_steps and self.state is not None:
                step = step * self.gradient_accumulation_steps + int(self.state.mini_step)
            return float(self._learning_rate(step))
        if self.state is not None:
            return float(get_learning_rate(self.state))
        return self._learning_rate

    @learning_rate.setter
    def learning_rate(self, value) -> None:
        if isinstance(value, schedules_module.LearningRateSchedule) or callable(value):
            # The state layout is unchanged; a compiled step must call make_transform() again.
            self._learning_rate = value
            self._compiled_apply = None
            return
        if callable(self._learning_rate):
            raise TypeError(_SCHEDULE_NOT_SETTABLE)
        self._learning_rate = _check_learning_rate(value)
        if self.state is not None:
            self.state = set_learning_rate(self.state, self._learning_rate)

    # ----------------------------------------------------------------- config
    def _learning_rate_config(self):
        lr = self._learning_rate
        if isinstance(lr, schedules_module.LearningRateSchedule):
            return schedules_module.serialize(lr)
        if callable(lr):
            raise NotImplementedError(
                f"Cannot serialize the learning rate callable {lr!r}; "
                "use a `keras.optimizers.schedules.LearningRateSchedule`.")
        return self.learning_rate

    def get_config(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "learning_rate": self._learning_rate_config(),
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "global_clipnorm": self.global_clipnorm,
            "clipvalue": self.clipvalue,
            "use_ema": self.use_ema,
            "ema_momentum": self.ema_momentum,
            "ema_overwrite_frequency": self.ema_overwrite_frequency,
            "loss_scale_factor": self.loss_scale_factor,
            "gradient_accumulation_steps": self.gradient_accumulation_steps,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects=None) -> "Optimizer":
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = schedules_module.deserialize(
                config["learning_rate"], custom_objects=custom_objects)
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}>"
