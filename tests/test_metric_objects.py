"""Keras-style metric objects against Keras 3: `Metric` subclasses written as Keras writes them
(`add_variable`, `assign_add`, `result`, `reset_state`), `variables`, the stateless API under `jit`,
such a metric in `compile(metrics=[...])` with the default `fit`, and `model.metrics`."""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import jax  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

keras = pytest.importorskip("keras")

import kerasish  # noqa: E402

BOTH = (kerasish, keras)


def _true_positives(k):
    """Keras's guide metric, counting rows by shape: a row's weight cannot hide it."""
    class CategoricalTruePositives(k.metrics.Metric):
        def __init__(self, name="categorical_true_positives", **kwargs):
            super().__init__(name=name, **kwargs)
            self.true_positives = self.add_variable(shape=(), name="ctp", initializer="zeros")
            self.rows = self.add_weight(name="rows", initializer="zeros")

        def update_state(self, y_true, y_pred, sample_weight=None):
            y_pred = k.ops.reshape(k.ops.argmax(y_pred, axis=1), (-1, 1))
            values = k.ops.cast(k.ops.cast(y_true, "int32") == k.ops.cast(y_pred, "int32"), "float32")
            if sample_weight is not None:
                values = values * k.ops.reshape(k.ops.cast(sample_weight, "float32"), (-1, 1))
            self.true_positives.assign_add(k.ops.sum(values))
            self.rows.assign_add(k.ops.cast(k.ops.shape(y_true)[0], "float32"))

        def result(self):
            return self.true_positives.value / k.ops.maximum(self.rows.value, 1.0)

        def reset_state(self):
            self.true_positives.assign(0.0)
            self.rows.assign(0.0)
    return CategoricalTruePositives


def _batches(n=3, b=6, seed=0):
    rng = np.random.default_rng(seed)
    return [(rng.integers(0, 3, (b, 1)).astype("f4"), rng.normal(size=(b, 3)).astype("f4"),
             rng.uniform(0, 2, b).astype("f4")) for _ in range(n)]


def test_keras_style_subclass_matches_keras():
    ours, theirs = _true_positives(kerasish)(), _true_positives(keras)()
    assert [v.name for v in ours.variables] == [v.name for v in theirs.variables] == ["ctp", "rows"]
    assert [v.path for v in ours.variables] == [v.path for v in theirs.variables]
    for i, (y_true, y_pred, w) in enumerate(_batches()):
        for metric in (ours, theirs):
            metric.update_state(y_true, y_pred, sample_weight=None if i == 0 else w)
        np.testing.assert_allclose(ours.result(), theirs.result(), rtol=1e-6)
    np.testing.assert_allclose(ours(*_batches(1, seed=5)[0][:2]), theirs(*_batches(1, seed=5)[0][:2]), rtol=1e-6)
    ours.reset_state()
    theirs.reset_state()
    assert float(ours.result()) == float(theirs.result()) == 0.0


@pytest.mark.parametrize("make,kind", [
    (lambda k: _true_positives(k)(), "classes"),
    (lambda k: k.metrics.Mean(name="m"), "values"),
    (lambda k: k.metrics.MeanAbsoluteError(), "regression"),
    (lambda k: k.metrics.CategoricalAccuracy(), "one_hot"),
    (lambda k: k.metrics.Precision(thresholds=[0.3, 0.6]), "binary"),
])
def test_stateless_api_under_jit_matches_keras(make, kind):
    ours, theirs = make(kerasish), make(keras)
    assert [v.name for v in ours.variables] == [v.name for v in theirs.variables]
    args_per_batch = []
    for y_true, y_pred, w in _batches(seed=1):
        if kind == "values":
            args_per_batch.append((y_pred, w))
        elif kind == "regression":
            args_per_batch.append((y_pred[:, :1], y_pred[:, 1:2], w))
        elif kind == "one_hot":
            args_per_batch.append((np.eye(3, dtype="f4")[y_true[:, 0].astype(int)], y_pred, w))
        elif kind == "binary":
            args_per_batch.append(((y_true > 0).astype("f4"), jax.nn.sigmoid(y_pred[:, :1]), w))
        else:
            args_per_batch.append((y_true, y_pred, w))
    update, result = jax.jit(ours.stateless_update_state), jax.jit(ours.stateless_result)
    values = ours.stateless_reset_state()
    expected = [v.value for v in theirs.variables]
    for args in args_per_batch:
        values = update(values, *args)
        expected = theirs.stateless_update_state(expected, *args)
    np.testing.assert_allclose(result(values), theirs.stateless_result(expected), rtol=1e-6)
    for a, b in zip(values, expected):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    # The metric object itself is unchanged; assigning the values back gives the same result.
    np.testing.assert_allclose(ours.result(), theirs.result())
    for variable, value in zip(ours.variables, values):
        variable.assign(value)
    np.testing.assert_allclose(ours.result(), theirs.stateless_result(expected), rtol=1e-6)
    for a, b in zip(ours.stateless_reset_state(), theirs.stateless_reset_state()):
        np.testing.assert_array_equal(a, b)


def test_subclass_of_a_built_in_metric_runs_its_override():
    def make(k):
        class Doubled(k.metrics.Mean):
            def update_state(self, values, sample_weight=None):
                super().update_state(values * 2.0, sample_weight=sample_weight)
        return Doubled(name="doubled")
    ours, theirs = make(kerasish), make(keras)
    values = ours.stateless_update_state(ours.stateless_reset_state(), np.array([1.0, 3.0], "f4"))
    expected = theirs.stateless_update_state([v.value for v in theirs.variables], np.array([1.0, 3.0], "f4"))
    np.testing.assert_allclose(ours.stateless_result(values), theirs.stateless_result(expected))
    state = jax.jit(ours.update)(ours.init(), np.array([5.0], "f4"))  # the compiled step's path
    assert float(ours.compute(state)) == 10.0


def test_errors():
    class Incomplete(kerasish.metrics.Metric):
        pass
    with pytest.raises(NotImplementedError, match="must implement `update_state"):
        Incomplete().update_state(1.0)
    metric = _true_positives(kerasish)()
    with pytest.raises(ValueError, match="has 2 variables; received 1 values"):
        kerasish.metrics.Mean()._as_state([1.0])
    with pytest.raises(ValueError, match="Expected 2 values"):
        metric.stateless_result([1.0])
    with pytest.raises(TypeError, match="cannot add variables"):
        kerasish.metrics.Mean().add_variable((), name="extra")


def _classifier(k):
    return k.Sequential([k.Input((4,)), k.layers.Dense(3)])


def test_custom_metric_in_compile_matches_keras_with_a_partial_batch():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(44, 4)).astype("f4")  # batches of 16, 16 and 12: the last one is not padded for it
    y = rng.integers(0, 3, (44, 1)).astype("f4")
    ours, theirs = _classifier(kerasish), _classifier(keras)
    theirs.set_weights(ours.get_weights())
    tracked = []
    for model, k in zip((ours, theirs), BOTH):
        metric = _true_positives(k)()
        tracked.append(metric)
        model.compile(k.optimizers.SGD(0.1), k.losses.SparseCategoricalCrossentropy(from_logits=True),
                      metrics=[metric, "acc"])
    got = ours.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0, validation_data=(x[:10], y[:10])).history
    expected = theirs.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0,
                          validation_data=(x[:10], y[:10])).history
    assert sorted(got) == sorted(expected)
    for key in expected:
        np.testing.assert_allclose(got[key], expected[key], rtol=1e-5, err_msg=key)
    np.testing.assert_allclose(ours.evaluate(x, y, batch_size=16, verbose=0),
                               theirs.evaluate(x, y, batch_size=16, verbose=0), rtol=1e-5)
    # After evaluate, the metric objects hold its values, as Keras's do.
    np.testing.assert_allclose(tracked[0].result(), tracked[1].result(), rtol=1e-5)
    ours_results, theirs_results = ours.get_metrics_result(), theirs.get_metrics_result()
    assert sorted(ours_results) == sorted(theirs_results)
    for key in theirs_results:
        np.testing.assert_allclose(ours_results[key], theirs_results[key], rtol=1e-5)


def test_model_metrics_list_is_keras_s():
    def make(k):
        class WithTracker(k.Model):
            def __init__(self):
                super().__init__()
                self.dense = k.layers.Dense(1)
                self.extra = k.metrics.Mean(name="extra")

            def call(self, x, training=None):
                return self.dense(x)
        return WithTracker()
    names, sizes = [], []
    for k in BOTH:
        model = make(k)
        model(np.ones((1, 2), "f4"))
        before = [m.name for m in model.metrics]
        model.compile("sgd", "mse", metrics=["mae"])
        model.fit(np.ones((4, 2), "f4"), np.ones((4, 1), "f4"), verbose=0)
        names.append((before, [m.name for m in model.metrics]))
        sizes.append(len(model.metrics_variables))
        model.reset_metrics()
        assert all(float(np.asarray(v.value)) == 0.0 for v in model.metrics_variables)
    assert names[0] == names[1] == (["extra"], ["loss", "compile_metrics", "extra"])
    assert sizes[0] == sizes[1] == 6


def test_a_metric_function_that_returns_one_number_per_batch_trains_as_in_keras():
    """The customizing-saving guide's `mean_pred` returns `ops.mean(y_pred)`, a scalar: fit's history
    equals Keras's (one batch of 4 rows)."""
    import keras as keras_ref
    import kerasish

    x = np.random.default_rng(0).random((4, 8)).astype("float32")
    y = np.random.default_rng(1).random((4, 4)).astype("float32")
    logs = []
    for lib in (keras_ref, kerasish):
        def mean_pred(y_true, y_pred):
            return lib.ops.mean(y_pred)
        model = lib.Sequential([lib.Input((8,)), lib.layers.Dense(4, kernel_initializer="ones")])
        model.compile(optimizer=lib.optimizers.SGD(0.01), loss="mse", metrics=[mean_pred])
        logs.append(model.fit(x, y, epochs=2, shuffle=False, verbose=0).history["mean_pred"])
    np.testing.assert_allclose(logs[1], logs[0], rtol=1e-5)
