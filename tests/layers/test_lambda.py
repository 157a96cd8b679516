"""Lambda against Keras 3: the shared contract with a registered named function, Keras's config
format for Python lambdas (bytecode), masks and arguments, and `.keras` files that load only with
`safe_mode=False` (Keras's ValueError by default), in both directions between kerasish and Keras."""

import jax.numpy as jnp
import numpy as np
import pytest

import keras as keras_ref
import kerasish
from contract import Row, run_contract, table


def scaled_tanh(x):
    return 2.0 * jnp.tanh(x) + 1.0


kerasish.saving.register_keras_serializable(package="lambda_test")(scaled_tanh)
keras_ref.saving.register_keras_serializable(package="lambda_test")(scaled_tanh)

ROWS = [
    Row("Lambda", dict(function=scaled_tanh), (2, 3), "named-function"),
    Row("Lambda", dict(function=scaled_tanh, output_shape=(4, 5)), (2, 4, 5), "output-shape"),
]


@pytest.mark.parametrize("row", table(ROWS))
def test_lambda_matches_keras(row):
    run_contract(row)


def test_python_lambda_config_is_keras_bytecode_format():
    fn = lambda x, k=3.0: x * k  # noqa: E731
    ours, ref = kerasish.layers.Lambda(fn, output_shape=(3,)), keras_ref.layers.Lambda(fn, output_shape=(3,))
    our_config, ref_config = ours.get_config(), ref.get_config()
    assert our_config["function"] == ref_config["function"]
    assert our_config["function"]["class_name"] == "__lambda__"
    assert our_config["output_shape"] == ref_config["output_shape"] and our_config["arguments"] == {}
    x = np.ones((2, 3), "float32")
    with kerasish.serialization.SafeModeScope(False):
        np.testing.assert_allclose(kerasish.layers.Lambda.from_config(ref_config)(x), 3 * x)
    np.testing.assert_allclose(keras_ref.layers.Lambda.from_config(our_config, safe_mode=False)(x), 3 * x)


def test_loading_a_lambda_config_refuses_in_safe_mode_with_keras_wording():
    config = kerasish.layers.Lambda(lambda x: x + 1).get_config()
    with pytest.raises(ValueError, match=r"deserialization of a `Lambda` layer whose `function` is a Python lambda"):
        kerasish.layers.Lambda.from_config(config)
    layer = kerasish.layers.Lambda.from_config(config, safe_mode=False)
    np.testing.assert_allclose(layer(np.zeros((1, 2), "float32")), np.ones((1, 2)))


def test_model_with_lambda_saves_and_loads_only_with_safe_mode_off(tmp_path):
    x = np.arange(6, dtype="float32").reshape(2, 3)
    model = kerasish.Sequential([kerasish.Input((3,)), kerasish.layers.Lambda(lambda t: t * 2 - 1),
                                 kerasish.layers.Dense(2)])
    expected = np.asarray(model(x))
    path = str(tmp_path / "lambda.keras")
    model.save(path)
    with pytest.raises(ValueError, match="`safe_mode=False`"):
        kerasish.models.load_model(path)
    np.testing.assert_allclose(kerasish.models.load_model(path, safe_mode=False)(x), expected, rtol=1e-6)
    np.testing.assert_allclose(keras_ref.models.load_model(path, safe_mode=False)(x), expected, rtol=1e-6)
    # A file written by Keras 3 itself loads the same way.
    ref_model = keras_ref.Sequential([keras_ref.Input((3,)), keras_ref.layers.Lambda(lambda t: t * 2 - 1)])
    ref_path = str(tmp_path / "keras_lambda.keras")
    ref_model.save(ref_path)
    with pytest.raises(ValueError, match="Python lambda"):
        kerasish.models.load_model(ref_path)
    np.testing.assert_allclose(kerasish.models.load_model(ref_path, safe_mode=False)(x), x * 2 - 1)


def test_lambda_arguments_mask_training_and_shapes():
    layer = kerasish.layers.Lambda(lambda x, scale, training=None: x * scale * (2 if training else 1),
                                   arguments={"scale": 3.0}, mask=lambda inputs, mask: inputs[..., 0] > 0)
    x = np.array([[[1.0, 2.0], [-1.0, 0.0]]], "float32")
    np.testing.assert_allclose(layer(x), 3 * x)
    np.testing.assert_allclose(layer(x, training=True), 6 * x)
    assert layer.supports_masking
    np.testing.assert_array_equal(layer.compute_mask(x, None), [[True, False]])
    assert kerasish.layers.Lambda(lambda x: x[:, :2]).compute_output_shape((None, 5)) == (None, 2)
    assert kerasish.layers.Lambda(lambda x: x, output_shape=lambda s: (s[0], 7)).compute_output_shape((4, 5)) == (4, 7)
    with pytest.raises(NotImplementedError, match="specify the `output_shape`"):
        kerasish.layers.Lambda(lambda x: x.reshape(-1, 7)).compute_output_shape((None, 5))
    inputs = kerasish.Input((4,))
    outputs = kerasish.layers.Lambda(lambda x: jnp.concatenate([x, x], axis=-1))(inputs)
    assert outputs.shape == (None, 8)


def test_named_function_must_be_findable_when_loading():
    def local_fn(x):
        return x
    config = kerasish.layers.Lambda(local_fn).get_config()
    with pytest.raises(ValueError, match="Could not locate function 'local_fn'"):
        kerasish.layers.Lambda.from_config(config)
    layer = kerasish.layers.Lambda.from_config(config, custom_objects={"local_fn": local_fn})
    assert layer.function is local_fn
