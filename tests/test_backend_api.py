"""keras.backend / keras.config setters and dtype helpers, keras.mixed_precision.set_dtype_policy,
and the top-level names of `import keras` (KerasTensor, Loss, ..., InputSpec, name_scope, device,
tree, version, models.save_model), each against Keras 3."""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

keras = pytest.importorskip("keras")

import kerasish  # noqa: E402
from kerasish import backend  # noqa: E402


@pytest.fixture
def restore_config():
    yield
    for lib in (backend, keras.config):
        lib.set_floatx("float32")
        lib.set_epsilon(1e-7)
        lib.set_image_data_format("channels_last")
    kerasish.backend.clear_session()  # also resets the global dtype policy, as Keras's
    keras.backend.clear_session()


def test_setters_and_getters(restore_config):
    for lib in (kerasish.backend, kerasish.config, keras.backend, keras.config):
        assert (lib.floatx(), lib.epsilon(), lib.image_data_format()) == ("float32", 1e-7, "channels_last")
    backend.set_floatx("float16")
    backend.set_epsilon(1e-4)
    kerasish.config.set_image_data_format("Channels_First")
    assert (backend.floatx(), backend.epsilon(), backend.image_data_format()) == \
        ("float16", 1e-4, "channels_first")
    for lib in (backend, keras.config):
        with pytest.raises(ValueError, match="Unknown `floatx` value: int32"):
            lib.set_floatx("int32")
        with pytest.raises(ValueError, match="data_format"):
            lib.set_image_data_format("nhwc")


def test_layers_follow_the_settings(restore_config):
    backend.set_image_data_format("channels_first")
    conv = kerasish.layers.Conv2D(4, 3)
    assert conv.data_format == "channels_first"
    assert conv(jnp.zeros((1, 2, 8, 8))).shape == (1, 4, 6, 6)
    backend.set_floatx("float16")
    keras.config.set_floatx("float16")
    ours, theirs = kerasish.layers.Dense(2), keras.layers.Dense(2)
    ours.build((None, 3))
    theirs.build((None, 3))
    assert ours.kernel.dtype == theirs.kernel.dtype == "float16"
    assert kerasish.mixed_precision.global_policy().name == keras.mixed_precision.global_policy().name
    assert kerasish.ops.zeros((2,)).dtype == jnp.float16


def test_clear_session_resets_the_policy(restore_config):
    for lib in (kerasish, keras):
        lib.mixed_precision.set_global_policy("mixed_float16")
        lib.backend.clear_session()
        assert lib.mixed_precision.global_policy().name == "float32"


def test_set_dtype_policy(restore_config):
    kerasish.mixed_precision.set_dtype_policy("mixed_bfloat16")
    keras.mixed_precision.set_dtype_policy("mixed_bfloat16")
    assert kerasish.mixed_precision.dtype_policy().name == keras.mixed_precision.dtype_policy().name
    assert kerasish.config.dtype_policy().name == keras.config.dtype_policy().name == "mixed_bfloat16"
    layer = kerasish.layers.Dense(2)
    assert (layer.compute_dtype, layer.variable_dtype) == ("bfloat16", "float32")
    kerasish.config.set_dtype_policy("float32")
    assert kerasish.mixed_precision.global_policy().name == "float32"


@pytest.mark.parametrize("dtype", ["float32", np.float16, jnp.bfloat16, "int8", np.uint32, int, float, bool,
                                   None, np.dtype("int64")])
def test_dtype_helpers(dtype):
    for name in ("standardize_dtype", "is_float_dtype", "is_int_dtype"):
        assert getattr(backend, name)(dtype) == getattr(keras.backend, name)(dtype), name


@pytest.mark.parametrize("dtypes", [("int8", "float16"), ("int32", "uint8"), ("bfloat16", "float16"),
                                    ("bool", "int16"), ("float32", "float64")])
def test_result_type(dtypes):
    assert backend.result_type(*dtypes) == keras.backend.result_type(*dtypes)


def test_is_keras_tensor_and_get_uid():
    assert backend.is_keras_tensor(kerasish.Input((3,)))
    assert not backend.is_keras_tensor(jnp.zeros(3))
    kerasish.backend.clear_session()
    keras.backend.clear_session()
    kerasish.layers.Dense(2)
    keras.layers.Dense(2)
    assert [backend.get_uid("dense"), backend.get_uid("dense"), backend.get_uid("other")] == \
        [keras.backend.get_uid("dense"), keras.backend.get_uid("dense"), keras.backend.get_uid("other")]
