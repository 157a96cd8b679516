"""The few `keras.backend` / `keras.config` functions Keras 3 scripts call."""

from kerasish.utils import compilation_cache
from kerasish.utils.naming import reset_names


def clear_session() -> None:
    """Resets automatic layer names ("dense", "dense_1", ...) and the global random generator behind
    `seed=None`, as Keras does."""
    from kerasish.utils import rng
    reset_names()
    rng.reset_global_generator()


def backend() -> str:
    return "jax"


def floatx() -> str:
    return "float32"


def epsilon() -> float:
    return 1e-7


def image_data_format() -> str:
    return "channels_last"


def disable_compilation_cache() -> None:
    """Turns off JAX's persistent compilation cache that kerasish turns on (now, or before it does).

    Not in Keras 3, which never enables the cache. The environment variable
    `KERASISH_COMPILATION_CACHE=0` does the same before the script starts. A cache you configured
    for JAX yourself is left alone.
    """
    compilation_cache.disable()


def enable_compilation_cache() -> None:
    """Turns kerasish's persistent compilation cache back on after `disable_compilation_cache()`."""
    compilation_cache.enable()
