"""The few `keras.backend` / `keras.config` functions Keras 3 scripts call."""

from kerasish.utils.naming import reset_names


def clear_session() -> None:
    """Resets automatic layer names ("dense", "dense_1", ...), as Keras does."""
    reset_names()


def backend() -> str:
    return "jax"


def floatx() -> str:
    return "float32"


def epsilon() -> float:
    return 1e-7


def image_data_format() -> str:
    return "channels_last"
