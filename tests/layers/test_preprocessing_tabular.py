"""Normalization, CategoryEncoding and Discretization against Keras 3: the shared contract where it
applies (Normalization with given statistics), `adapt` results (Keras's own adapt on arrays; NumPy's
statistics for iterables and PyDatasets, which Keras adapts only with TensorFlow; Keras's own quantile
summary functions for Discretization), every encoding mode, configs both ways, and `.keras` files
that Keras 3 reads."""

import json

import jax
import numpy as np
import pytest

import keras as keras_ref
from keras.src.layers.preprocessing import discretization as keras_discretization
import kerasish
from contract import Row, _plain, run_contract, table

ROWS = [
    Row("Normalization", dict(mean=[1.0, 2.0, 3.0], variance=[4.0, 0.5, 2.0]), (2, 3), "per-feature"),
    Row("Normalization", dict(axis=None, mean=2.0, variance=3.0), (2, 3, 4), "scalar"),
    Row("Normalization", dict(axis=(1, 2), mean=np.arange(12.0).reshape(3, 4).tolist(),
                              variance=np.arange(1.0, 13.0).reshape(3, 4).tolist()), (2, 3, 4), "two-axes"),
    Row("Normalization", dict(axis=1, mean=[0.5, -1.0, 2.0], variance=[1.0, 4.0, 9.0], invert=True), (2, 3, 4),
        "invert"),
]


@pytest.mark.parametrize("row", table(ROWS))
def test_normalization_matches_keras(row):
    run_contract(row)


def _data(shape=(50, 3, 4), seed=0):
    return (np.random.default_rng(seed).normal(size=shape) * 3 + 2).astype("float32")


@pytest.mark.parametrize("axis", [-1, None, (1, 2), 1])
def test_normalization_adapt_on_arrays_matches_keras(axis):
    data = _data()
    ours, ref = kerasish.layers.Normalization(axis=axis), keras_ref.layers.Normalization(axis=axis)
    ours.adapt(data)
    ref.adapt(data)
    assert [(w.name, w.dtype, tuple(w.shape)) for w in ours.weights] == \
        [(w.name, w.dtype, tuple(w.shape)) for w in ref.weights]
    assert not ours.trainable_weights
    for a, b in zip(ours.get_weights(), ref.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ours(data), ref(data), rtol=1e-5, atol=1e-5)
    assert _plain({**ours.get_config(), "name": ""}) == _plain({**ref.get_config(), "name": ""})


class _Batches(kerasish.utils.PyDataset):
    def __init__(self, data, labels=False):
        super().__init__()
        self.data, self.labels = data, labels

    def __len__(self):
        return 4

    def __getitem__(self, i):
        batch = self.data[i * 13:(i + 1) * 13]
        return (batch, np.zeros(len(batch))) if self.labels else batch


@pytest.mark.parametrize("kind", ["list", "generator", "pydataset", "pydataset-xy"])
def test_normalization_adapt_on_batches_gives_the_data_statistics(kind):
    data = _data()
    chunks = [data[i:i + 13] for i in range(0, 50, 13)]
    source = {"list": chunks, "generator": (c for c in chunks), "pydataset": _Batches(data),
              "pydataset-xy": _Batches(data, labels=True)}[kind]
    layer = kerasish.layers.Normalization(axis=-1)
    layer.adapt(source)
    np.testing.assert_allclose(layer.get_weights()[0], data.mean(axis=(0, 1)), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(layer.get_weights()[1], data.var(axis=(0, 1)), rtol=1e-5, atol=1e-5)


def test_normalization_errors_follow_keras():
    with pytest.raises(ValueError, match="both `mean` and `variance` must be set"):
        kerasish.layers.Normalization(mean=1.0)
    with pytest.raises(ValueError, match="same shape"):
        kerasish.layers.Normalization(mean=[1.0, 2.0], variance=[1.0])
    layer = kerasish.layers.Normalization()
    layer.adapt(_data((10, 3)))
    with pytest.raises(ValueError, match="incompatible shape"):
        layer.adapt(_data((10, 4)))
    with pytest.raises(ValueError, match="empty iterable"):
        kerasish.layers.Normalization().adapt([])
    with pytest.raises(ValueError, match="no statistics to adapt"):
        kerasish.layers.Normalization(mean=1.0, variance=1.0).adapt(_data((4, 3)))


def test_adapted_normalization_trains_saves_and_loads_in_keras(tmp_path):
    data = _data((64, 3))
    norm = kerasish.layers.Normalization()
    norm.adapt(data)
    model = kerasish.Sequential([kerasish.Input((3,)), norm, kerasish.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    stats = [w.copy() for w in norm.get_weights()]
    model.fit(data, np.ones((64, 1)), batch_size=16, epochs=1, verbose=0)
    for a, b in zip(norm.get_weights(), stats):
        np.testing.assert_array_equal(a, b)  # non-trainable: fit leaves the statistics alone
    path = str(tmp_path / "norm.keras")
    model.save(path)
    expected = np.asarray(model(data))
    np.testing.assert_allclose(kerasish.models.load_model(path)(data), expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(keras_ref.models.load_model(path)(data), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("mode", ["one_hot", "multi_hot", "count"])
@pytest.mark.parametrize("inputs", [np.array([3, 2, 0, 1]), np.array([[1], [3]]), np.array([[0, 1, 1], [2, 3, 3]]),
                                    np.array(2)], ids=["rank1", "last-axis-1", "rank2", "scalar"])
def test_category_encoding_matches_keras(mode, inputs):
    ours, ref = kerasish.layers.CategoryEncoding(4, mode), keras_ref.layers.CategoryEncoding(4, mode)
    out = ours(inputs)
    np.testing.assert_array_equal(out, ref(inputs))
    assert out.dtype == ref(inputs).dtype
    np.testing.assert_array_equal(jax.jit(lambda x: ours(x))(inputs), out)
    assert tuple(ours.compute_output_shape(inputs.shape)) == tuple(ref.compute_output_shape(inputs.shape))
    assert _plain({**ours.get_config(), "name": ""}) == _plain({**ref.get_config(), "name": ""})
    np.testing.assert_array_equal(keras_ref.layers.CategoryEncoding.from_config(ours.get_config())(inputs), out)


def test_category_encoding_count_weights_and_errors():
    inputs, weights = np.array([[0, 1, 1], [2, 3, 3]]), np.array([[0.5, 1.0, 2.0], [1.0, 0.25, 0.25]], "float32")
    ours, ref = kerasish.layers.CategoryEncoding(4, "count"), keras_ref.layers.CategoryEncoding(4, "count")
    np.testing.assert_allclose(ours(inputs, count_weights=weights), ref(inputs, count_weights=weights))
    with pytest.raises(ValueError, match="`count_weights` is not used"):
        kerasish.layers.CategoryEncoding(4, "one_hot")(inputs, count_weights=weights)
    with pytest.raises(ValueError, match="sparse"):
        kerasish.layers.CategoryEncoding(4, sparse=True)
    with pytest.raises(ValueError, match="num_tokens must be set"):
        kerasish.layers.CategoryEncoding()
    assert kerasish.layers.CategoryEncoding(3, "binary").output_mode == "multi_hot"


@pytest.mark.parametrize("mode", ["int", "one_hot", "multi_hot", "count"])
def test_discretization_with_boundaries_matches_keras(mode):
    x = np.array([[-1.5, 1.0, 3.4, 0.5], [0.0, 3.0, 1.3, 0.0]], "float32")
    kwargs = dict(bin_boundaries=[0.0, 1.0, 2.0], output_mode=mode)
    ours, ref = kerasish.layers.Discretization(**kwargs), keras_ref.layers.Discretization(**kwargs)
    out = ours(x)
    np.testing.assert_array_equal(out, ref(x))
    assert out.dtype == ref(x).dtype
    assert tuple(ours.compute_output_shape(x.shape)) == tuple(ref.compute_output_shape(x.shape))
    assert {**ours.get_config(), "name": ""} == {**ref.get_config(), "name": ""}
    np.testing.assert_array_equal(kerasish.layers.Discretization.from_config(ref.get_config())(x), out)


def _keras_boundaries(batches, num_bins, epsilon):
    """Keras 3's adapt (which needs TensorFlow here), from its own summary functions."""
    summary = np.array([[], []], "float32")
    for batch in batches:
        summary = keras_discretization.merge_summaries(
            keras_discretization.summarize(np.asarray(batch, "float32"), epsilon), summary, epsilon)
    return keras_discretization.get_bin_boundaries(summary, num_bins).tolist()


@pytest.mark.parametrize("num_bins,epsilon", [(4, 0.01), (10, 0.05), (3, 0.001)])
def test_discretization_adapt_matches_keras_summaries(num_bins, epsilon):
    data = np.random.default_rng(3).normal(size=(300, 2)).astype("float32")
    layer = kerasish.layers.Discretization(num_bins=num_bins, epsilon=epsilon)
    layer.adapt(data)
    np.testing.assert_allclose(layer.bin_boundaries, _keras_boundaries([data], num_bins, epsilon), rtol=1e-6)
    batched = kerasish.layers.Discretization(num_bins=num_bins, epsilon=epsilon)
    batched.adapt(iter([data[:100], data[100:200], data[200:]]), steps=2)  # the first two batches
    np.testing.assert_allclose(batched.bin_boundaries, _keras_boundaries([data[:100], data[100:200]], num_bins,
                                                                         epsilon), rtol=1e-6)
    config = json.loads(json.dumps(layer.get_config()))
    assert config["bin_boundaries"] == layer.bin_boundaries and config["num_bins"] == num_bins
    for cls in (kerasish.layers.Discretization, keras_ref.layers.Discretization):
        np.testing.assert_array_equal(cls.from_config(dict(config))(data), layer(data))


def test_discretization_errors_follow_keras():
    with pytest.raises(ValueError, match="either `num_bins` or `bin_boundaries`"):
        kerasish.layers.Discretization()
    with pytest.raises(ValueError, match="should not be set"):
        kerasish.layers.Discretization(bin_boundaries=[0.0], num_bins=2)
    with pytest.raises(ValueError, match="Cannot adapt"):
        kerasish.layers.Discretization(bin_boundaries=[0.0]).adapt(np.zeros(3))
    with pytest.raises(ValueError, match="call `adapt"):
        kerasish.layers.Discretization(num_bins=3)(np.zeros(3))


def test_keras_file_with_preprocessing_layers_loads(tmp_path):
    data = _data((20, 3))
    norm = keras_ref.layers.Normalization()
    norm.adapt(data)
    model = keras_ref.Sequential([keras_ref.Input((3,)), norm, keras_ref.layers.Dense(2),
                                  keras_ref.layers.Discretization(bin_boundaries=[0.0, 1.0]),
                                  keras_ref.layers.CategoryEncoding(3, "count")])
    path = str(tmp_path / "keras_preprocessing.keras")
    model.save(path)
    np.testing.assert_array_equal(kerasish.models.load_model(path)(data), model(data))
