"""Where randomness comes from: one seed, explicit keys derived from it.

`set_random_seed(seed)` (Keras's `keras.utils.set_random_seed`) fixes the seed from which every
layer's initializer key, every dropout stream and every shuffle order are derived, in the order
they are asked for. Nothing here draws from NumPy's or Python's global generators.

It also holds the one global `keras.random.SeedGenerator` (used by `keras.random` functions called
with `seed=None`); `set_random_seed` drops it, so the next unseeded draw starts a generator seeded
from the new seed, as in Keras 3. The generator class lives in `kerasish.random`, which passes its
constructor in, so this module imports nothing from the rest of kerasish.
"""

import random as _py_random
from typing import Any, Callable

import jax
import numpy as np

_state: dict[str, Any] = {"seed": None, "count": 0, "global_generator": None}


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
    reset_global_generator()
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


def global_generator(create: Callable[[], Any]) -> Any:
    """The global SeedGenerator, made by `create()` on first use and after each `set_random_seed`."""
    if _state["global_generator"] is None:
        _state["global_generator"] = create()
    return _state["global_generator"]


def reset_global_generator() -> None:
    """Drops the global SeedGenerator (Keras's `clear_session` does this); the next unseeded draw
    makes a new one from the seed stream."""
    _state["global_generator"] = None
