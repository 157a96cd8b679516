"""`keras.random.SeedGenerator` and the one rule that turns any `seed=` argument into a JAX key.

Owns: `SeedState` (the only place that names the NNX Variable class holding random state),
`SeedGenerator` (an `nnx.Module` whose whole state is one `SeedState` of uint32 `[seed, counter]`),
the global generator behind `seed=None`, and `draw_key(seed)`. It does no sampling itself.

State moves the NNX way: `next()` reads the Variable and writes the advanced value back into it, so
a generator held by a module is part of what `nnx.split` / `nnx.state` see and advances inside
`nnx.jit` (or `jax.jit` over `nnx.split` / `nnx.merge`). A generator captured by a plain `jax.jit`
closure cannot advance there, and says so instead of leaking a tracer.

Key data: `[seed, counter]` is read as a threefry2x32 key, the layout Keras 3's JAX backend uses,
so a given int seed or seeded generator draws the same numbers as Keras 3 does.
"""

from __future__ import annotations

from typing import Any

import flax.errors
import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from kerasish.utils import naming, rng
from kerasish.variables import NonTrainableVariable

_KEY_IMPL = "threefry2x32"
_UINT32_LIMIT = 2**32
# An increment of 1 on the counter word keeps the sequence ordered; the unordered step applies a
# full-period linear congruential map (mod 2**32) to both words, so states do not repeat for 2**32 steps.
_LCG_MULTIPLIER = 1664525
_LCG_INCREMENT = 1013904223

_TRACING_MESSAGE = (
    "[JAX RNG] Unseeded random ops (seed=None) cannot be used while JAX traces a function (jax.jit, "
    "nnx.jit, ...): they would draw once at trace time and then return the same constant values on "
    "every call. Create a `keras.random.SeedGenerator`, keep it as an attribute of your layer or "
    "model, and pass it as `seed=`, for example:\n\n"
    "    self.seed_generator = keras.random.SeedGenerator(seed=1337)\n"
    "    ...\n"
    "    noise = keras.random.normal(shape=(1,), seed=self.seed_generator)\n")


class SeedState(NonTrainableVariable):
    """The uint32 `[seed, counter]` pair of a `SeedGenerator`: non-trainable random state (a
    non-trainable `keras.Variable`, so NNX filters and Keras's `non_trainable_variables` see it)."""


def check_seed(seed: Any, argument: str = "seed") -> int:
    """Returns `seed` as a Python int if it is an integer in [0, 2**32).

    Raises:
        ValueError: for a non-integer (bool included) or an integer outside [0, 2**32).
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"Argument `{argument}` must be an integer. Received: {argument}={seed!r} "
                         f"(of type {type(seed)})")
    if not 0 <= int(seed) < _UINT32_LIMIT:
        raise ValueError(f"Argument `{argument}` must be in [0, 2**32) (it is stored as uint32). "
                         f"Received: {argument}={seed}")
    return int(seed)


def _threefry_key(key_data: jax.Array) -> jax.Array:
    return jax.random.wrap_key_data(key_data, impl=_KEY_IMPL)


def _is_tracing() -> bool:
    # Under a JAX transformation that stages out (jit), even a fresh constant is a tracer.
    return isinstance(jnp.zeros(()), jax.core.Tracer)


class SeedGenerator(nnx.Module, pytree=False):
    """A seed whose draws differ call after call: pass it as `seed=` to `keras.random` functions.

    An int seed gives the same values on every call; a `SeedGenerator` advances its state on each
    draw, so repeated calls differ while two generators made with the same seed give the same
    sequence. Keep it as an attribute of a layer or model: its state is then part of the module's
    NNX graph and advances inside compiled steps.

    Args:
        seed: integer in [0, 2**32), or None for a seed drawn from `keras.utils.set_random_seed`'s
            stream (random when no seed was set).
        name: optional name; "seed_generator", "seed_generator_1", ... by default.

    Raises:
        ValueError: for a seed that is not an integer in [0, 2**32), or unknown keyword arguments.

    Example:
        >>> gen = keras.random.SeedGenerator(seed=42)
        >>> a = keras.random.normal((2, 3), seed=gen)
        >>> b = keras.random.normal((2, 3), seed=gen)  # different from `a`
    """

    def __init__(self, seed: int | None = None, name: str | None = None, **kwargs: Any) -> None:
        if kwargs:
            raise ValueError(f"Unrecognized keyword arguments: {kwargs}. Expected only `seed` and `name`.")
        self.name = naming.unique_name("seed_generator") if name is None else name
        self._initial_seed = seed
        start = rng.next_seed() if seed is None else check_seed(seed)
        with jax.ensure_compile_time_eval():  # concrete even when created inside a trace (a layer built in a step)
            initial = jnp.array([start, 0], dtype=jnp.uint32)
        self.state = SeedState(initial, trainable=False, name="seed_generator_state")

    def next(self, ordered: bool = True) -> jax.Array:
        """Returns the current key data (uint32, shape (2,), a JAX threefry key) and advances the state.

        `ordered=True` counts the second word up by one; `ordered=False` moves both words through a
        full-period map instead (Keras offers both).

        Raises:
            ValueError: if called inside `jax.jit` on a generator the traced function closed over.
        """
        current = self.state[...]
        if ordered:
            advanced = current + jnp.array([0, 1], dtype=jnp.uint32)
        else:
            advanced = current * jnp.uint32(_LCG_MULTIPLIER) + jnp.uint32(_LCG_INCREMENT)
        try:
            self.state[...] = advanced
        except flax.errors.TraceContextError as err:
            raise ValueError(
                f"SeedGenerator '{self.name}' was created outside the function being traced, so its "
                "state cannot advance inside it. Use `nnx.jit`, or `nnx.split` the module that holds the "
                "generator, pass the state into the jitted function, `nnx.merge` it there and return "
                "`nnx.state(...)` so the advanced state comes back.") from err
        return current

    def get_config(self) -> dict[str, Any]:
        return {"seed": self._initial_seed, "name": self.name}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> SeedGenerator:
        return cls(**config)


def global_seed_generator() -> SeedGenerator:
    """The generator behind `seed=None`; reset by `keras.utils.set_random_seed`.

    Raises:
        ValueError: while JAX is tracing, where an unseeded draw would become a constant.
    """
    if _is_tracing():
        raise ValueError(_TRACING_MESSAGE)
    return rng.global_generator(SeedGenerator)


def draw_key(seed: Any) -> jax.Array:
    """The JAX key for one draw from `seed`: an int, a `SeedGenerator`, a JAX key, or None.

    An int gives the same key every time; a generator (given, or the global one for None) gives its
    current key and advances. A JAX key (typed `jax.random.key(...)` or raw uint32 key data, also
    as a NumPy array) is used as it is.

    Raises:
        ValueError: for any other kind of seed, or an int outside [0, 2**32).
    """
    if isinstance(seed, SeedGenerator):
        return _threefry_key(seed.next())
    if seed is None:
        return _threefry_key(global_seed_generator().next())
    if isinstance(seed, jax.Array):
        return seed
    if isinstance(seed, np.ndarray):
        return jnp.asarray(seed)
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        return _threefry_key(jnp.array([check_seed(seed), 0], dtype=jnp.uint32))
    raise ValueError("Argument `seed` must be an integer, a `keras.random.SeedGenerator`, a JAX key or "
                     f"None. Received: seed={seed!r} (of type {type(seed)})")
