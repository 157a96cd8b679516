"""keras.random: random sampling with Keras 3's names over `jax.random`.

Every function takes `seed=` as an int (the same values on every call), a `SeedGenerator` (values
that change call after call; keep it on your layer or model so it advances inside compiled steps),
a JAX key, or None (the global generator, reset by `keras.utils.set_random_seed`; refused while JAX
traces a function).
"""

from kerasish.random.sampling import (beta, binomial, categorical, dropout, gamma, normal, randint, shuffle,
                                      truncated_normal, uniform)
from kerasish.random.seed_generator import SeedGenerator, SeedState

__all__ = ["SeedGenerator", "SeedState", "beta", "binomial", "categorical", "dropout", "gamma", "normal",
           "randint", "shuffle", "truncated_normal", "uniform"]
