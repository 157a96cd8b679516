"""SpectralNormalization against Keras 3: the shared contract (inference, weights `kernel`, `vector_u`,
`bias` in Keras's order, config both ways), the training call's power iteration (new `vector_u` and
normalized kernel equal Keras's), and one compiled `fit` step equal to Keras's own `fit`."""

import numpy as np
import pytest

import keras as keras_ref
import kerasish
from contract import Row, run_contract


def _rows():
    dense = {"class_name": "Dense", "config": {"units": 3, "name": "inner_dense"}}
    conv = {"class_name": "Conv2D", "config": {"filters": 4, "kernel_size": 2, "name": "inner_conv"}}
    return [
        Row("SpectralNormalization", dict(layer=dense), (2, 5), "dense"),
        Row("SpectralNormalization", dict(layer=dense, power_iterations=3), (2, 5), "dense-3-iterations"),
        Row("SpectralNormalization", dict(layer=conv), (2, 5, 5, 3), "conv2d"),
    ]


def _make(library, config):
    return getattr(library.layers, config["class_name"])(**config["config"])


@pytest.fixture(autouse=True)
def _wrapped_layers_from_dicts(monkeypatch):
    # The contract builds `class(**kwargs)` for both libraries: turn the `layer` dict into each one's layer.
    for library in (keras_ref, kerasish):
        original = library.layers.SpectralNormalization

        class Built(original):
            def __init__(self, layer, *args, _original=original, _library=library, **kwargs):
                if isinstance(layer, dict) and "config" in layer and "class_name" in layer and "module" not in layer:
                    layer = _make(_library, layer)
                super().__init__(layer, *args, **kwargs)
        Built.__name__ = "SpectralNormalization"
        monkeypatch.setattr(library.layers, "SpectralNormalization", Built)


# No contract fit step: the contract's reference is Keras's inference call, while fit trains (normalizing
# the kernel); `test_one_fit_step_equals_keras_fit` compares with Keras's own fit instead.
@pytest.mark.parametrize("row", [pytest.param(row, id=row.id) for row in _rows()])
def test_spectral_normalization_matches_keras(row):
    run_contract(row)


def _pair(power_iterations=1):
    ref = keras_ref.layers.SpectralNormalization(keras_ref.layers.Dense(3), power_iterations=power_iterations)
    ours = kerasish.layers.SpectralNormalization(kerasish.layers.Dense(3), power_iterations=power_iterations)
    x = np.random.default_rng(0).normal(size=(4, 5)).astype("float32")
    ref.build(x.shape)
    ours(x, training=False)
    rng = np.random.default_rng(1)
    ref.set_weights([rng.normal(size=w.shape).astype("float32") for w in ref.get_weights()])
    ours.set_weights(ref.get_weights())
    return ref, ours, x


@pytest.mark.parametrize("iterations", [1, 4])
def test_training_call_normalizes_the_kernel_as_keras(iterations):
    ref, ours, x = _pair(iterations)
    for _ in range(2):
        np.testing.assert_allclose(ours(x, training=True), ref(x, training=True), rtol=1e-5, atol=1e-5)
        for a, b in zip(ours.get_weights(), ref.get_weights()):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    sigma = np.linalg.svd(np.asarray(ours.layer.kernel.value), compute_uv=False)[0]
    assert abs(sigma - 1.0) < 0.05  # after repeated calls the kernel's spectral norm is about 1


def test_one_fit_step_equals_keras_fit():
    ref, ours, x = _pair()
    y = np.random.default_rng(2).normal(size=(4, 3)).astype("float32")
    ref_model = keras_ref.Sequential([keras_ref.Input((5,)), ref])
    our_model = kerasish.Sequential([kerasish.Input((5,)), ours])
    ref_model.compile(optimizer=keras_ref.optimizers.SGD(0.1), loss="mse")
    our_model.compile(optimizer=kerasish.optimizers.SGD(0.1), loss="mse")
    ref_loss = ref_model.fit(x, y, batch_size=4, epochs=1, verbose=0, shuffle=False).history["loss"][0]
    our_loss = our_model.fit(x, y, batch_size=4, epochs=1, verbose=0, shuffle=False).history["loss"][0]
    np.testing.assert_allclose(our_loss, ref_loss, rtol=1e-5)
    for a, b in zip(our_model.get_weights(), ref_model.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_bad_arguments():
    with pytest.raises(ValueError, match="power_iterations"):
        kerasish.layers.SpectralNormalization(kerasish.layers.Dense(2), power_iterations=0)
    with pytest.raises(ValueError, match="nor 'embeddings'"):
        kerasish.layers.SpectralNormalization(kerasish.layers.Flatten())(np.zeros((2, 3), "float32"))
    with pytest.raises(ValueError, match="supported layer type"):
        kerasish.layers.SpectralNormalization("dense")
