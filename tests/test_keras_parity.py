"""kerasish against Keras 3 itself (JAX backend): same architecture, same weights, same numbers."""

import numpy as np
import pytest

keras_ref = pytest.importorskip("keras")

import kerasish  # noqa: E402


def _pair(build):
    """Builds the same architecture in Keras and kerasish and copies Keras's weights over."""
    ref = keras_ref.Sequential(build(keras_ref))
    ours = kerasish.Sequential(build(kerasish))
    ours.set_weights(ref.get_weights())
    return ref, ours


def _mlp(k):
    return [k.Input((20,)), k.layers.Dense(32, activation="relu"), k.layers.Dense(16, activation="tanh"),
            k.layers.Dense(5, activation="softmax")]


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("strides", [1, 2])
def test_cnn_predict_matches_keras(padding, strides):
    def cnn(k):
        return [k.Input((23, 22, 3)),
                k.layers.Conv2D(4, (3, 3), strides=strides, padding=padding, activation="relu"),
                k.layers.MaxPooling2D((2, 2), padding=padding),
                k.layers.Conv2D(5, (2, 3), padding=padding, activation="elu"),
                k.layers.AveragePooling2D(2, strides=1, padding=padding),
                k.layers.Flatten(), k.layers.Dense(3, activation="softmax")]
    ref, ours = _pair(cnn)
    x = np.random.default_rng(0).normal(size=(7, 23, 22, 3)).astype("float32")
    np.testing.assert_allclose(ours.predict(x, verbose=0), ref.predict(x, verbose=0), atol=1e-5, rtol=1e-5)


def test_mlp_predict_and_weight_layout_match_keras():
    ref, ours = _pair(_mlp)
    assert [w.shape for w in ours.get_weights()] == [w.shape for w in ref.get_weights()]
    x = np.random.default_rng(1).normal(size=(33, 20)).astype("float32")
    np.testing.assert_allclose(ours.predict(x, verbose=0), ref.predict(x, verbose=0), atol=1e-5)
    assert ours.count_params() == ref.count_params()


def test_batchnorm_inference_matches_keras():
    def bn(k):
        return [k.Input((6,)), k.layers.Dense(8), k.layers.BatchNormalization(), k.layers.Dense(2)]
    ref, ours = _pair(bn)
    rng = np.random.default_rng(2)
    weights = ref.get_weights()
    weights[2:6] = [rng.uniform(0.5, 2, 8), rng.normal(size=8), rng.normal(size=8), rng.uniform(0.5, 2, 8)]
    ref.set_weights(weights)
    ours.set_weights(weights)
    x = rng.normal(size=(9, 6)).astype("float32")
    np.testing.assert_allclose(ours.predict(x, verbose=0), ref.predict(x, verbose=0), atol=1e-5)


def test_batchnorm_training_statistics_match_keras():
    def bn(k):
        return [k.Input((4,)), k.layers.BatchNormalization(momentum=0.9)]
    ref, ours = _pair(bn)
    x = np.random.default_rng(3).normal(2.0, 3.0, size=(16, 4)).astype("float32")
    ref.compile(keras_ref.optimizers.SGD(0.1), "mse")
    ours.compile(kerasish.optimizers.SGD(0.1), "mse")
    ref.train_on_batch(x, np.zeros((16, 4), "float32"))
    ours.train_on_batch(x, np.zeros((16, 4), "float32"))
    for a, b in zip(ours.get_weights(), ref.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-5)


@pytest.mark.parametrize("optimizer", ["sgd", "adam", "rmsprop", "adagrad"])
def test_one_training_step_matches_keras(optimizer):
    ref, ours = _pair(_mlp)
    rng = np.random.default_rng(4)
    x = rng.normal(size=(32, 20)).astype("float32")
    y = rng.integers(0, 5, size=32)
    make = {"sgd": lambda k: k.optimizers.SGD(0.1, momentum=0.9), "adam": lambda k: k.optimizers.Adam(0.01),
            "rmsprop": lambda k: k.optimizers.RMSprop(0.01), "adagrad": lambda k: k.optimizers.Adagrad(0.1)}[optimizer]
    ref.compile(make(keras_ref), "sparse_categorical_crossentropy")
    ours.compile(make(kerasish), "sparse_categorical_crossentropy")
    loss_ref = ref.train_on_batch(x, y)
    loss_ours = ours.train_on_batch(x, y)
    np.testing.assert_allclose(loss_ours, loss_ref, rtol=1e-5)
    for a, b in zip(ours.get_weights(), ref.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-4)


def test_fit_history_and_evaluate_match_keras_on_fixed_batches():
    ref, ours = _pair(_mlp)
    rng = np.random.default_rng(5)
    x = rng.normal(size=(70, 20)).astype("float32")
    y = rng.integers(0, 5, size=70)
    for m, k in ((ref, keras_ref), (ours, kerasish)):
        m.compile(k.optimizers.SGD(0.05), "sparse_categorical_crossentropy", metrics=["accuracy"])
    h_ref = ref.fit(x, y, batch_size=32, epochs=2, shuffle=False, verbose=0)
    h_ours = ours.fit(x, y, batch_size=32, epochs=2, shuffle=False, verbose=0)
    assert list(h_ours.history) == list(h_ref.history)
    for key in h_ref.history:
        np.testing.assert_allclose(h_ours.history[key], h_ref.history[key], rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(ours.evaluate(x, y, verbose=0), ref.evaluate(x, y, verbose=0), rtol=1e-5)
    assert ours.evaluate(x, y, verbose=0, return_dict=True).keys() == \
        ref.evaluate(x, y, verbose=0, return_dict=True).keys()


def test_l2_regularization_is_reported_in_the_loss_like_keras():
    def reg(k):
        return [k.Input((5,)), k.layers.Dense(3, kernel_regularizer=k.regularizers.L2(0.1))]
    ref, ours = _pair(reg)
    x = np.ones((4, 5), "float32")
    y = np.zeros((4, 3), "float32")
    for m, k in ((ref, keras_ref), (ours, kerasish)):
        m.compile(k.optimizers.SGD(0.0), "mse")
    np.testing.assert_allclose(ours.evaluate(x, y, verbose=0), ref.evaluate(x, y, verbose=0), rtol=1e-5)
