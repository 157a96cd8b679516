"""Where randomness comes from: one seed, explicit keys derived from it.

`set_random_seed(seed)` (Keras's `keras.utils.set_random_seed`) fixes the seed from which every
layer's initializer key, every dropout stream and every shuffle order are derived, in the order
they are asked for. Nothing here draws from NumPy's or Python's global generators.
"""

import random as _py_random

import jax
import numpy as np

_state = {"seed": None, "count": 0}


def set_random_seed(seed: int) -> None:
    """Sets the seed for weights, dropout and shuffling (and NumPy/Python's, as Keras does).

    Raises:
        ValueError: if `seed` is not a non-negative integer.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(
            f"Expected `seed` argument to be a non-negative integer. Received: seed={seed!r}")
    _state["seed"] = int(seed)
    _state["count"] = 0
    _py_random.seed(int(seed))
    np.random.seed(int(seed) % 2**32)


def next_seed() -> int:
    """A fresh integer seed: deterministic after `set_random_seed`, else drawn from the OS."""
    if _state["seed"] is None:
        return int(np.random.SeedSequence().generate_state(1)[0])
    _state["count"] += 1
    return int(np.random.SeedSequence([_state["seed"], _state["count"]]).generate_state(1)[0])


def next_key() -> jax.Array:
    """A fresh `jax.random.key` from `next_seed()`."""
    return jax.random.key(next_seed())
