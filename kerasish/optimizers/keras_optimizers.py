"""Keras 3 optimizers as optax chains.

Each class validates its Keras arguments and returns, from `_update_rule(learning_rate)`, the optax
chain that turns gradients into Keras's update (already multiplied by `-learning_rate`). Where the
learning rate sits in the chain follows Keras: SGD and RMSprop momentum accumulate
`learning_rate * gradient`, so the rate is applied before `optax.trace` (this only matters once the
rate changes). Shared behaviour (clipping, weight decay, accumulation) lives in `base.Optimizer`;
the rules optax cannot express are in `transforms.py`.
"""

from __future__ import annotations

import optax

from kerasish.optimizers.base import Optimizer, _check_non_negative, _check_range
from kerasish.optimizers.transforms import (
    scale_by_keras_adam,
    scale_by_keras_adamax,
    scale_by_keras_nadam,
)

__all__ = ["SGD", "Momentum", "Adagrad", "RMSprop", "Adam", "AdamW", "Adamax", "Nadam",
           "Adadelta", "Lion"]


class SGD(Optimizer):
    """Gradient descent, optionally with (Nesterov) momentum.

    Keras: `m = momentum * m - lr * g; param += m` (Nesterov: `param += momentum * m - lr * g`).

    Example:
        >>> opt = SGD(learning_rate=0.1, momentum=0.9, nesterov=True)
    """

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        _check_range("momentum", momentum, 0.0, 1.0)
        self.momentum = float(momentum)
        self.nesterov = bool(nesterov)

    def _update_rule(self, learning_rate):
        scale = optax.scale_by_learning_rate(learning_rate)
        if self.momentum == 0:
            return scale
        return optax.chain(scale, optax.trace(decay=self.momentum, nesterov=self.nesterov))

    def _keras_slot_groups(self):
        return [[("trace", "momentum")]]

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


class Momentum(SGD):
    """SGD with momentum 0.9 by default (the name used in the lecture notes)."""

    def __init__(self, learning_rate=0.01, momentum=0.9, nesterov=False, **kwargs):
        super().__init__(learning_rate=learning_rate, momentum=momentum, nesterov=nesterov,
                         **kwargs)


class Adagrad(Optimizer):
    """Adagrad: `acc += g**2; param -= lr * g / sqrt(acc + epsilon)`, `acc` starting at
    `initial_accumulator_value` (optax `scale_by_rss` has the same maths)."""

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7,
                 **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        _check_non_negative("initial_accumulator_value", initial_accumulator_value)
        _check_non_negative("epsilon", epsilon)
        self.initial_accumulator_value = initial_accumulator_value
        self.epsilon = epsilon

    def _update_rule(self, learning_rate):
        return optax.chain(
            optax.scale_by_rss(self.initial_accumulator_value, self.epsilon),
            optax.scale_by_learning_rate(learning_rate))

    def _keras_slot_groups(self):
        return [[("sum_of_squares", "accumulator")]]

    def get_config(self):
        return {**super().get_config(),
                "initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}


class RMSprop(Optimizer):
    """RMSprop: `v = rho * v + (1 - rho) * g**2; step = lr * g / sqrt(v + epsilon)` (centered:
    `sqrt(v - mean_g**2 + epsilon)`); with momentum, `mom = momentum * mom + step`."""

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False,
                 **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        _check_range("rho", rho, 0.0, 1.0)
        _check_range("momentum", momentum, 0.0, 1.0)
        _check_non_negative("epsilon", epsilon)
        self.rho = rho
        self.momentum = momentum
        self.epsilon = epsilon
        self.centered = bool(centered)

    def _update_rule(self, learning_rate):
        # Keras: epsilon inside the sqrt, accumulators start at 0, no bias correction.
        scale_by = optax.scale_by_stddev if self.centered else optax.scale_by_rms
        steps = [scale_by(decay=self.rho, eps=self.epsilon, initial_scale=0.0, eps_in_sqrt=True),
                 optax.scale_by_learning_rate(learning_rate)]
        if self.momentum > 0:
            steps.append(optax.trace(decay=self.momentum))
        return optax.chain(*steps)

    def _keras_slot_groups(self):
        # (optax traces `-lr * step` where Keras keeps `+lr * step`: momentum values differ in sign)
        return [[("nu", "velocity")], [("trace", "momentum")], [("mu", "average_gradient")]]

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum,
                "epsilon": self.epsilon, "centered": self.centered}


class _AdamFamily(Optimizer):
    def __init__(self, learning_rate, beta_1, beta_2, epsilon, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        _check_range("beta_1", beta_1, 0.0, 1.0, high_open=True)
        _check_range("beta_2", beta_2, 0.0, 1.0, high_open=True)
        _check_non_negative("epsilon", epsilon)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon}


class Adam(_AdamFamily):
    """Adam as Keras computes it: `param -= lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps)`;
    `amsgrad` uses the running maximum of the raw `v` (see `transforms.scale_by_keras_adam`)."""

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, **kwargs):
        super().__init__(learning_rate, beta_1, beta_2, epsilon, **kwargs)
        self.amsgrad = bool(amsgrad)

    def _update_rule(self, learning_rate):
        return optax.chain(
            scale_by_keras_adam(self.beta_1, self.beta_2, self.epsilon, self.amsgrad),
            optax.scale_by_learning_rate(learning_rate))

    def _keras_slot_groups(self):
        return [[("mu", "momentum"), ("nu", "velocity")], [("nu_max", "velocity_hat")]]

    def get_config(self):
        return {**super().get_config(), "amsgrad": self.amsgrad}


class AdamW(Adam):
    """Adam with decoupled weight decay (default 0.004): `param -= lr * weight_decay * param`."""

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-7, amsgrad=False, **kwargs):
        if weight_decay is None:
            raise ValueError(
                "Argument `weight_decay` must be a float. Received: weight_decay=None")
        super().__init__(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2,
                         epsilon=epsilon, amsgrad=amsgrad, weight_decay=weight_decay, **kwargs)


class Adamax(_AdamFamily):
    """Adamax: `u = max(b2 * u, |g|); param -= lr * m / ((1 - b1^t) * (u + eps))`."""

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate, beta_1, beta_2, epsilon, **kwargs)

    def _update_rule(self, learning_rate):
        return optax.chain(scale_by_keras_adamax(self.beta_1, self.beta_2, self.epsilon),
                           optax.scale_by_learning_rate(learning_rate))

    def _keras_slot_groups(self):
        return [[("mu", "momentum"), ("nu", "norm")]]


class Nadam(_AdamFamily):
    """Nadam with Keras's momentum schedule `u_t = b1 * (1 - 0.5 * 0.96^t)`."""

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate, beta_1, beta_2, epsilon, **kwargs)

    def _update_rule(self, learning_rate):
        return optax.chain(scale_by_keras_nadam(self.beta_1, self.beta_2, self.epsilon),
                           optax.scale_by_learning_rate(learning_rate))

    def _keras_slot_groups(self):
        return [[("mu", "momentum"), ("nu", "velocity")]]


class Adadelta(Optimizer):
    """Adadelta: `step = sqrt(E[dx^2] + eps) / sqrt(E[g^2] + eps) * g; param -= lr * step`
    (optax `scale_by_adadelta` has the same maths)."""

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        _check_range("rho", rho, 0.0, 1.0)
        _check_non_negative("epsilon", epsilon)
        self.rho = rho
        self.epsilon = epsilon

    def _update_rule(self, learning_rate):
        return optax.chain(optax.scale_by_adadelta(self.rho, self.epsilon),
                           optax.scale_by_learning_rate(learning_rate))

    def _keras_slot_groups(self):
        return [[("e_g", "accumulated_grad"), ("e_x", "accumulated_delta_var")]]

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}


class Lion(Optimizer):
    """Lion: `param -= lr * sign(b1 * m + (1 - b1) * g); m = b2 * m + (1 - b2) * g`."""

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.99, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        if not (isinstance(beta_1, (int, float)) and 0 < beta_1 <= 1):
            raise ValueError(
                "Argument `beta_1` must be in the [0, 1] range. Otherwise, the optimizer "
                f"degenerates to SignSGD. Received: beta_1={beta_1}.")
        _check_range("beta_2", beta_2, 0.0, 1.0)
        self.beta_1 = beta_1
        self.beta_2 = beta_2

    def _update_rule(self, learning_rate):
        return optax.chain(optax.scale_by_lion(self.beta_1, self.beta_2),
                           optax.scale_by_learning_rate(learning_rate))

    def _keras_slot_groups(self):
        return [[("mu", "momentum")]]

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2}
