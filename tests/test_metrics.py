"""kerasish.metrics against keras.metrics: several weighted batches (zero weights included),
padded rows, the pure functional core under jit, names, configs and `get`."""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

keras = pytest.importorskip("keras")

from kerasish import metrics  # noqa: E402

B, C = 16, 4


def _batches(kind, seed=0, n=3):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        weights = rng.uniform(0.0, 2.0, B).astype("f4")
        weights[rng.choice(B, 4, replace=False)] = 0.0
        if kind == "binary":
            y_true = rng.integers(0, 2, (B, 1)).astype("f4")
            y_pred = rng.uniform(size=(B, 1)).astype("f4")
        elif kind == "exact":
            y_true = rng.integers(0, 3, (B, 1)).astype("f4")
            y_pred = rng.integers(0, 3, (B, 1)).astype("f4")
        elif kind in ("sparse", "sparse_col"):
            y_true = rng.integers(0, C, (B,) if kind == "sparse" else (B, 1))
            y_pred = jax.nn.softmax(rng.normal(size=(B, C))).astype("f4")
        elif kind == "categorical":
            y_true = np.eye(C, dtype="f4")[rng.integers(0, C, B)]
            y_pred = np.asarray(jax.nn.softmax(rng.normal(size=(B, C))), "f4")
        else:  # regression
            y_true = rng.normal(size=(B, 3)).astype("f4")
            y_pred = rng.normal(size=(B, 3)).astype("f4")
        out.append((y_true, np.asarray(y_pred), weights))
    return out


CASES = [
    ("Accuracy", {}, "exact"),
    ("BinaryAccuracy", {}, "binary"),
    ("BinaryAccuracy", {"threshold": 0.7}, "binary"),
    ("CategoricalAccuracy", {}, "categorical"),
    ("SparseCategoricalAccuracy", {}, "sparse"),
    ("SparseCategoricalAccuracy", {}, "sparse_col"),
    ("TopKCategoricalAccuracy", {"k": 2}, "categorical"),
    ("SparseTopKCategoricalAccuracy", {"k": 2}, "sparse"),
    ("MeanSquaredError", {}, "regression"),
    ("MeanAbsoluteError", {}, "regression"),
    ("RootMeanSquaredError", {}, "regression"),
    ("Precision", {}, "binary"),
    ("Precision", {"thresholds": [0.3, 0.6]}, "binary"),
    ("Precision", {"top_k": 2}, "categorical"),
    ("Recall", {"class_id": 1}, "categorical"),
    ("Recall", {"thresholds": 0.3}, "binary"),
]


@pytest.mark.parametrize("name,kwargs,kind", CASES, ids=lambda v: str(v))
def test_matches_keras_over_weighted_batches(name, kwargs, kind):
    ours = getattr(metrics, name)(**kwargs)
    theirs = getattr(keras.metrics, name)(**kwargs)
    batches = _batches(kind)
    for i, (y_true, y_pred, w) in enumerate(batches):
        sample_weight = None if i == 0 else w   # the first batch unweighted
        ours.update_state(y_true, y_pred, sample_weight=sample_weight)
        theirs.update_state(y_true, y_pred, sample_weight=sample_weight)
    np.testing.assert_allclose(ours.result(), np.asarray(theirs.result()), rtol=1e-6, atol=1e-7)
    assert ours.name == theirs.name or name in ("Precision", "Recall")

    # The functional core under jit gives the same number.
    update = jax.jit(ours.update)
    state = ours.init()
    for i, (y_true, y_pred, w) in enumerate(batches):
        state = update(state, y_true, y_pred, None if i == 0 else w)
    np.testing.assert_allclose(ours.compute(state), ours.result(), rtol=1e-6)

    ours.reset_state()
    theirs.reset_state()
    np.testing.assert_allclose(ours.result(), np.asarray(theirs.result()))


@pytest.mark.parametrize("name,kwargs,kind", CASES, ids=lambda v: str(v))
def test_padded_rows_do_not_count(name, kwargs, kind):
    metric = getattr(metrics, name)(**kwargs)
    y_true, y_pred, _ = _batches(kind)[0]
    reference = metric.compute(metric.update(metric.init(), y_true, y_pred, np.ones(B, "f4")))
    pad = 5
    garbage = np.full((pad,) + y_pred.shape[1:], np.nan if kind == "regression" else 0.9, "f4")
    y_true_p = np.concatenate([y_true, y_true[:pad]])
    y_pred_p = np.concatenate([y_pred, garbage])
    weights = np.concatenate([np.ones(B, "f4"), np.zeros(pad, "f4")])
    padded = metric.compute(metric.update(metric.init(), y_true_p, y_pred_p, weights))
    np.testing.assert_allclose(padded, reference, rtol=1e-6)


def test_mean_and_sum_match_keras():
    values = np.arange(12, dtype="f4").reshape(4, 3)
    weights = np.array([1.0, 0.0, 2.0, 0.5], "f4")
    for cls in ("Mean", "Sum"):
        ours, theirs = getattr(metrics, cls)(), getattr(keras.metrics, cls)()
        for w in (None, weights):
            ours.update_state(values, sample_weight=w)
            theirs.update_state(values, sample_weight=w)
        ours.update_state(3.0)
        theirs.update_state(3.0)
        np.testing.assert_allclose(ours.result(), np.asarray(theirs.result()), rtol=1e-6)
        assert ours.name == theirs.name and ours.get_config() == theirs.get_config()
    assert float(metrics.Mean()(np.array([1.0, 3.0]))) == 2.0
    assert float(metrics.Mean().result()) == 0.0   # no division by zero before any update


def test_mean_metric_wrapper_matches_keras():
    ours = metrics.MeanMetricWrapper(metrics.binary_accuracy, name="ba", threshold=0.3)
    theirs = keras.metrics.MeanMetricWrapper(keras.metrics.binary_accuracy, name="ba",
                                             threshold=0.3)
    for y_true, y_pred, w in _batches("binary"):
        ours.update_state(y_true, y_pred, w)
        theirs.update_state(y_true, y_pred, w)
    np.testing.assert_allclose(ours.result(), np.asarray(theirs.result()), rtol=1e-6)
    again = metrics.MeanMetricWrapper.from_config(ours.get_config())
    assert again.get_config() == ours.get_config() and again._fn is metrics.binary_accuracy


@pytest.mark.parametrize("fn,kind,kwargs", [
    ("binary_accuracy", "binary", {}), ("categorical_accuracy", "categorical", {}),
    ("sparse_categorical_accuracy", "sparse", {}), ("sparse_categorical_accuracy", "sparse_col", {}),
    ("top_k_categorical_accuracy", "categorical", {"k": 2}),
    ("sparse_top_k_categorical_accuracy", "sparse", {"k": 3}),
])
def test_functions_match_keras(fn, kind, kwargs):
    y_true, y_pred, _ = _batches(kind)[0]
    got = getattr(metrics, fn)(y_true, y_pred, **kwargs)
    expected = getattr(keras.metrics, fn)(y_true, y_pred, **kwargs)
    assert got.shape == expected.shape
    np.testing.assert_array_equal(got, np.asarray(expected))


@pytest.mark.parametrize("name,kwargs,kind", CASES, ids=lambda v: str(v))
def test_config_round_trip(name, kwargs, kind):
    ours = getattr(metrics, name)(**kwargs)
    config = ours.get_config()
    expected = getattr(keras.metrics, name)(**kwargs).get_config()
    if name in ("Precision", "Recall"):   # Keras numbers repeated default names
        expected["name"] = config["name"]
    assert config == expected
    assert type(ours).from_config(config).get_config() == config
    assert metrics.deserialize(metrics.serialize(ours)).get_config() == config
    assert metrics.serialize(ours)["class_name"] == name


def _keras_compile_metric(identifier, y_true, y_pred):
    from keras.src.trainers.compile_utils import get_metric
    return get_metric(identifier, y_true, y_pred)


@pytest.mark.parametrize("identifier,y_true_shape,y_pred_shape", [
    ("accuracy", (B,), (B, C)), ("acc", (B, 1), (B, C)), ("accuracy", (B, C), (B, C)),
    ("Accuracy", (B, 1), (B, 1)), ("acc", (B,), (B, 1)),
    ("mse", (B, 3), (B, 3)), ("MAE", (B, 3), (B, 3)), ("mean_squared_error", (B, 3), (B, 3)),
    ("top_k_categorical_accuracy", (B, C), (B, C)),
    ("sparse_top_k_categorical_accuracy", (B,), (B, C)),
    ("binary_accuracy", (B, 1), (B, 1)), ("Precision", (B, 1), (B, 1)),
    ("root_mean_squared_error", (B, 3), (B, 3)),
])
def test_get_resolves_like_keras_compile(identifier, y_true_shape, y_pred_shape):
    expected = _keras_compile_metric(identifier, np.zeros(y_true_shape), np.zeros(y_pred_shape))
    got = metrics.get(identifier, y_true_shape, y_pred_shape)
    assert type(got).__name__ == type(expected).__name__
    assert got.name == expected.name == identifier


def test_get_other_identifiers():
    m = metrics.SparseCategoricalAccuracy()
    assert metrics.get(m) is m and metrics.get(None) is None
    assert metrics.get(metrics.SparseCategoricalAccuracy).name == "sparse_categorical_accuracy"
    wrapped = metrics.get(metrics.sparse_categorical_accuracy)
    assert isinstance(wrapped, metrics.MeanMetricWrapper)
    assert wrapped.name == "sparse_categorical_accuracy"
    expected = _keras_compile_metric(keras.metrics.sparse_categorical_accuracy, np.zeros(B),
                                     np.zeros((B, C)))
    assert wrapped.name == expected.name
    assert metrics.get({"class_name": "BinaryAccuracy", "config": {"threshold": 0.2}}).threshold == 0.2
    assert isinstance(metrics.get("accuracy"), metrics.Accuracy)   # without shapes: exact match
    with pytest.raises(ValueError, match="Could not interpret metric identifier: foo"):
        metrics.get("foo")
    with pytest.raises(ValueError, match="Could not interpret metric identifier"):
        metrics.get(3)


def test_validation_errors():
    with pytest.raises(ValueError, match=r"Threshold values must be in \[0, 1\]"):
        metrics.Precision(thresholds=[0.5, 1.5])
    with pytest.raises(ValueError, match=r"k=0"):
        metrics.TopKCategoricalAccuracy(k=0)
    with pytest.raises(ValueError, match=r"top_k=0"):
        metrics.Recall(top_k=0)
    with pytest.raises(TypeError, match="callable"):
        metrics.MeanMetricWrapper(fn=3)
    with pytest.raises(ValueError, match="class_id"):
        metrics.Precision(class_id=1).update_state(np.ones(4), np.ones(4))


def test_state_is_a_pytree_of_arrays():
    metric = metrics.Precision(thresholds=[0.2, 0.5, 0.8])
    state = metric.init()
    assert all(isinstance(leaf, jax.Array) for leaf in jax.tree.leaves(state))
    y_true, y_pred, w = _batches("binary")[0]
    state = jax.jit(metric.update)(state, jnp.asarray(y_true), jnp.asarray(y_pred), w)
    assert metric.compute(state).shape == (3,)
