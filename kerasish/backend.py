"""The few `keras.backend` / `keras.config` functions Keras 3 scripts call."""

from kerasish.utils import compilation_cache
from kerasish.utils.naming import reset_names


def clear_session() -> None:
    """Resets automatic layer names ("dense", "dense_1", ...) and the global random generator behind
    `seed=None`, and the global dtype policy (back to following `floatx()`), as Keras does."""
    from kerasish import mixed_precision
    from kerasish.utils import rng
    mixed_precision._global["policy"] = None
    reset_names()
    rng.reset_global_generator()


def backend() -> str:
    return "jax"


_config = {"floatx": "float32", "epsilon": 1e-7, "image_data_format": "channels_last"}


def floatx() -> str:
    """The default float dtype of weights and of ops without a dtype ("float32")."""
    return _config["floatx"]


def set_floatx(value: str) -> None:
    """Sets `floatx()`; layers and variables created afterwards use it.

    Raises:
        ValueError: `value` is not one of "bfloat16", "float16", "float32", "float64".
    """
    accepted = {"bfloat16", "float16", "float32", "float64"}
    if value not in accepted:
        raise ValueError(f"Unknown `floatx` value: {value}. Expected one of {accepted}")
    _config["floatx"] = str(value)


def epsilon() -> float:
    """The fuzz factor that guards divisions and logarithms (1e-7)."""
    return _config["epsilon"]


def set_epsilon(value: float) -> None:
    _config["epsilon"] = value


def image_data_format() -> str:
    """"channels_last" (the default) or "channels_first": what `data_format=None` means."""
    return _config["image_data_format"]


def standardize_data_format(data_format: str | None) -> str:
    """`data_format` lowercased and checked ("channels_first" or "channels_last"); None means
    `image_data_format()`. The one check behind every `data_format` argument (layers, ops, utils)."""
    if data_format is None:
        return image_data_format()
    value = str(data_format).lower()
    if value not in ("channels_first", "channels_last"):
        raise ValueError("The `data_format` argument must be one of {'channels_first', 'channels_last'}. "
                         f"Received: data_format={value}")
    return value


def set_image_data_format(data_format: str) -> None:
    """Sets `image_data_format()`.

    Raises:
        ValueError: `data_format` is neither "channels_first" nor "channels_last".
    """
    _config["image_data_format"] = standardize_data_format(str(data_format))  # None is refused, as "none"


def dtype_policy():
    """The global dtype policy (`keras.config.dtype_policy()`)."""
    from kerasish import mixed_precision
    return mixed_precision.global_policy()


def set_dtype_policy(policy) -> None:
    """Sets the global dtype policy (`keras.config.set_dtype_policy("mixed_bfloat16")`)."""
    from kerasish import mixed_precision
    mixed_precision.set_global_policy(policy)


def standardize_dtype(dtype) -> str:
    """Keras's name for a dtype (`np.float32`, `jnp.bfloat16`, `int`, "float", None -> floatx)."""
    from kerasish.ops import dtypes
    return dtypes.standardize_dtype(dtype)


def is_float_dtype(dtype) -> bool:
    return standardize_dtype(dtype).startswith(("float", "bfloat"))


def is_int_dtype(dtype) -> bool:
    return standardize_dtype(dtype).startswith(("int", "uint"))


def result_type(*dtypes) -> str:
    """The dtype Keras's promotion gives these dtypes (or values): `result_type("int8", "float16")`."""
    from kerasish.ops import dtypes as dtypes_module
    return dtypes_module.result_type(*dtypes)


def is_keras_tensor(x) -> bool:
    """Whether `x` is a symbolic `KerasTensor` (a functional model's input or intermediate)."""
    from kerasish.layers.symbolic import KerasTensor
    return isinstance(x, KerasTensor)


def get_uid(prefix: str = "") -> int:
    """Counts calls per prefix (1, 2, ...); shares the counters of automatic layer names."""
    from kerasish.utils.naming import _counters
    _counters[prefix] += 1
    return _counters[prefix]


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
