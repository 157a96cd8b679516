"""The confusion counts, sensitivity/specificity, IoU family, loss means and correlation metrics against
keras.metrics: several weighted batches (zero weights included) through the stateful API and reset_state,
the pure core under jit, configs, names, and the metrics in `compile(metrics=[...])` (by name and as
objects) giving Keras's history after one epoch from the same weights."""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import jax  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

keras = pytest.importorskip("keras")

import kerasish  # noqa: E402
from kerasish import metrics  # noqa: E402

pytestmark = [pytest.mark.filterwarnings("ignore:You are passing weight as `float`"),
              pytest.mark.filterwarnings("ignore:Explicitly requested dtype int64")]

B, C = 24, 4


def _batches(kind, seed=0, n=3, int_weights=False, unweighted=False):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        weights = rng.integers(0, 3, B).astype("f4") if int_weights else rng.uniform(0.0, 2.0, B).astype("f4")
        weights[rng.choice(B, 4, replace=False)] = 0.0
        weights = None if unweighted else weights
        if kind == "binary":
            y_true, y_pred = rng.integers(0, 2, (B, 1)), rng.uniform(size=(B, 1))
        elif kind == "logits":
            y_true, y_pred = rng.integers(0, 2, (B, 1)), rng.normal(scale=2.0, size=(B, 1))
        elif kind == "categorical":
            y_true = np.eye(C)[rng.integers(0, C, B)]
            y_pred = np.asarray(jax.nn.softmax(rng.normal(size=(B, C))))
        elif kind == "sparse":
            y_true, y_pred = rng.integers(0, C, (B,)), np.asarray(jax.nn.softmax(rng.normal(size=(B, C))))
        elif kind == "sparse_logits":
            y_true, y_pred = rng.integers(0, C, (B, 1)), rng.normal(scale=2.0, size=(B, C))
        elif kind == "labels":
            y_true, y_pred = rng.integers(0, 3, (B,)), rng.integers(0, 3, (B,))
        elif kind == "counts":
            y_true, y_pred = rng.poisson(2.0, (B, 3)), rng.uniform(0.1, 4.0, (B, 3))
        else:  # regression
            y_true = rng.normal(size=(B, 5))
            y_pred = 0.7 * y_true + rng.normal(scale=0.5, size=(B, 5)) + 0.3
        out.append((np.asarray(y_true, "f4"), np.asarray(y_pred, "f4"), weights))
    return out


# (class name, kwargs, data kind, batch options)
CASES = [
    ("BinaryCrossentropy", {}, "binary", {}),
    ("BinaryCrossentropy", {"from_logits": True, "label_smoothing": 0.1}, "logits", {}),
    ("CategoricalCrossentropy", {}, "categorical", {}),
    ("CategoricalCrossentropy", {"label_smoothing": 0.2}, "categorical", {}),
    ("SparseCategoricalCrossentropy", {}, "sparse", {}),
    ("SparseCategoricalCrossentropy", {"from_logits": True}, "sparse_logits", {}),
    ("SparseCategoricalCrossentropy", {"from_logits": True, "ignore_class": 1}, "sparse_logits", {"unweighted": True}),
    ("Hinge", {}, "logits", {}),
    ("SquaredHinge", {}, "logits", {}),
    ("CategoricalHinge", {}, "categorical", {}),
    ("Poisson", {}, "counts", {}),
    ("MeanSquaredLogarithmicError", {}, "counts", {}),
    ("PearsonCorrelation", {}, "regression", {}),
    ("ConcordanceCorrelation", {}, "regression", {}),
    ("TruePositives", {}, "binary", {}),
    ("TrueNegatives", {"thresholds": [0.2, 0.5, 0.9]}, "binary", {}),
    ("FalsePositives", {"thresholds": 0.3}, "binary", {}),
    ("FalseNegatives", {"thresholds": [0.0, 0.25, 0.5, 0.75, 1.0]}, "binary", {}),
    ("SensitivityAtSpecificity", {"specificity": 0.6}, "binary", {}),
    ("SensitivityAtSpecificity", {"specificity": 0.4, "num_thresholds": 20, "class_id": 1}, "categorical", {}),
    ("SpecificityAtSensitivity", {"sensitivity": 0.7}, "binary", {}),
    ("SpecificityAtSensitivity", {"sensitivity": 0.5, "num_thresholds": 1}, "binary", {}),
    ("IoU", {"num_classes": 3, "target_class_ids": [0, 2]}, "labels", {"int_weights": True}),
    ("IoU", {"num_classes": 3, "target_class_ids": [1], "dtype": "float32", "ignore_class": 0}, "labels", {}),
    ("BinaryIoU", {}, "binary", {"int_weights": True}),
    ("BinaryIoU", {"target_class_ids": [1], "threshold": 0.3, "dtype": "float32"}, "binary", {}),
    ("MeanIoU", {"num_classes": 3}, "labels", {"int_weights": True}),
    ("OneHotIoU", {"num_classes": C, "target_class_ids": [1, 3]}, "categorical", {"int_weights": True}),
    ("OneHotMeanIoU", {"num_classes": C, "dtype": "float32"}, "categorical", {}),
]
IDS = [f"{cls}-{i}" for i, (cls, *_) in enumerate(CASES)]


@pytest.mark.parametrize("cls, kwargs, kind, options", CASES, ids=IDS)
def test_stateful_api_matches_keras(cls, kwargs, kind, options):
    """update_state over weighted batches (the first unweighted), result, reset_state, one more batch."""
    ours, theirs = getattr(metrics, cls)(**kwargs), getattr(keras.metrics, cls)(**kwargs)
    batches = _batches(kind, **options)
    for i, (y_true, y_pred, weights) in enumerate(batches):
        weights = None if i == 0 else weights
        ours.update_state(y_true, y_pred, sample_weight=weights)
        theirs.update_state(y_true, y_pred, sample_weight=weights)
    np.testing.assert_allclose(ours.result(), theirs.result(), rtol=1e-5, atol=1e-5)
    assert [v.shape for v in ours.variables] == [tuple(v.shape) for v in theirs.variables]
    ours.reset_state()
    theirs.reset_state()
    y_true, y_pred, weights = _batches(kind, seed=1, n=1, **options)[0]
    ours.update_state(y_true, y_pred, sample_weight=weights)
    theirs.update_state(y_true, y_pred, sample_weight=weights)
    np.testing.assert_allclose(ours.result(), theirs.result(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("cls, kwargs, kind, options", CASES, ids=IDS)
def test_pure_core_under_jit_matches_keras(cls, kwargs, kind, options):
    ours, theirs = getattr(metrics, cls)(**kwargs), getattr(keras.metrics, cls)(**kwargs)
    state, values = ours.init(), [v.value for v in theirs.variables]
    update, keras_update = jax.jit(ours.update), jax.jit(theirs.stateless_update_state)
    for y_true, y_pred, weights in _batches(kind, seed=2, **options):
        state = update(state, y_true, y_pred, weights)
        values = keras_update(values, y_true, y_pred, sample_weight=weights)
    np.testing.assert_allclose(jax.jit(ours.compute)(state), theirs.stateless_result(values), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("cls, kwargs, kind, options", CASES, ids=IDS)
def test_config_name_dtype_match_keras_and_round_trip(cls, kwargs, kind, options):
    ours, theirs = getattr(metrics, cls)(**kwargs), getattr(keras.metrics, cls)(**kwargs)
    assert ours.name == theirs.name.rsplit("_", 1)[0] if theirs.name[-1].isdigit() else ours.name == theirs.name
    assert ours.dtype == theirs.dtype
    assert getattr(ours, "_direction", None) == getattr(theirs, "_direction", None)  # callbacks' mode="auto"
    named_ours, named_theirs = getattr(metrics, cls)(**kwargs, name="m"), getattr(keras.metrics, cls)(**kwargs, name="m")
    assert named_ours.get_config() == named_theirs.get_config()
    clone = metrics.deserialize(metrics.serialize(named_ours))
    assert type(clone) is type(named_ours) and clone.get_config() == named_ours.get_config()
    from_keras = metrics.deserialize(keras.metrics.serialize(named_theirs))
    assert from_keras.get_config() == named_ours.get_config()


def test_ignored_class_counts_as_zero_with_weights_too():
    """The one documented difference: Keras drops `ignore_class` positions from a weighted mean's count."""
    y_true, y_pred, weights = _batches("sparse_logits", n=1)[0]
    ours = metrics.SparseCategoricalCrossentropy(from_logits=True, ignore_class=1)
    ours.update_state(y_true, y_pred, sample_weight=weights)
    losses = np.asarray(kerasish.losses.sparse_categorical_crossentropy(y_true, y_pred, from_logits=True))
    kept = y_true[:, 0] != 1
    np.testing.assert_allclose(ours.result(), np.sum(np.where(kept, losses, 0) * weights) / np.sum(weights), rtol=1e-6)
    theirs = keras.metrics.SparseCategoricalCrossentropy(from_logits=True, ignore_class=1)
    theirs.update_state(y_true, y_pred, sample_weight=weights)
    np.testing.assert_allclose(theirs.result(), np.sum(np.where(kept, losses, 0) * weights) / np.sum(weights * kept),
                               rtol=1e-5)


FUNCTIONS = [
    ("binary_crossentropy", "binary", {}), ("binary_crossentropy", "logits", {"from_logits": True}),
    ("categorical_crossentropy", "categorical", {"label_smoothing": 0.1}),
    ("sparse_categorical_crossentropy", "sparse", {}), ("hinge", "logits", {}), ("squared_hinge", "logits", {}),
    ("categorical_hinge", "categorical", {}), ("poisson", "counts", {}), ("huber", "regression", {"delta": 0.5}),
    ("mean_squared_logarithmic_error", "counts", {}), ("binary_focal_crossentropy", "binary", {"gamma": 1.5}),
    ("categorical_focal_crossentropy", "categorical", {}), ("pearson_correlation", "regression", {}),
    ("concordance_correlation", "regression", {}),
]


@pytest.mark.parametrize("name, kind, kwargs", FUNCTIONS, ids=[f"{n}-{i}" for i, (n, *_) in enumerate(FUNCTIONS)])
def test_functions_match_keras(name, kind, kwargs):
    y_true, y_pred, _ = _batches(kind, n=1)[0]
    np.testing.assert_allclose(getattr(metrics, name)(y_true, y_pred, **kwargs),
                               getattr(keras.metrics, name)(y_true, y_pred, **kwargs), rtol=1e-5, atol=1e-5)
    if hasattr(keras.losses, name) and getattr(keras.metrics, name) is getattr(keras.losses, name):
        assert getattr(metrics, name) is getattr(kerasish.losses, name)  # one function, as in Keras


def test_every_keras_metric_name_exists_and_aliases_resolve():
    missing = {n for n in dir(keras.metrics) if not n.startswith("_")} - set(dir(metrics))
    assert not missing
    for alias in ("bce", "BCE", "msle", "MSLE", "hinge", "binary_crossentropy", "true_positives", "Poisson"):
        ours, theirs = metrics.get(alias), keras.metrics.get(alias)
        assert type(ours).__name__ == type(theirs).__name__
    for name in ("huber", "iou"):  # functions without a class are not metric names in Keras 3 either
        with pytest.raises(ValueError, match="Could not interpret metric identifier"):
            keras.metrics.get(name)
        with pytest.raises(ValueError, match="Could not interpret metric identifier"):
            metrics.get(name)
    config = metrics.MeanMetricWrapper(metrics.pearson_correlation).get_config()
    assert metrics.MeanMetricWrapper.from_config(config)._fn is metrics.pearson_correlation


# -- compile(metrics=[...]) + one epoch from the same weights --------------------------------------

def _data(kind):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(64, 5)).astype("f4")
    logits = x @ rng.normal(size=(5, 3))
    if kind == "binary":
        return x, (logits[:, :1] > 0).astype("f4")
    if kind == "categorical":
        return x, np.eye(3, dtype="f4")[np.argmax(logits, axis=1)]
    if kind == "sparse":
        return x, np.argmax(logits, axis=1).astype("f4")
    return x, np.abs(logits).astype("f4") + 0.1  # positive regression targets


def _model(lib, kind, activation, loss, metric_list):
    units = 1 if kind == "binary" else 3
    model = lib.Sequential([lib.Input((5,)), lib.layers.Dense(4, activation="relu"),
                            lib.layers.Dense(units, activation=activation)])
    model.compile(optimizer=lib.optimizers.SGD(0.05), loss=loss, metrics=metric_list)
    return model


def _one_epoch(model, kind):
    x, y = _data(kind)
    return model.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0).history


OBJECTS = {  # explicit names: Keras numbers repeated default names process-wide ("io_u_2")
    "binary": [("BinaryCrossentropy", (), {}), ("Hinge", (), {}), ("SquaredHinge", (), {}),
               ("TruePositives", (), {"thresholds": [0.3, 0.6]}), ("FalseNegatives", (), {}),
               ("SensitivityAtSpecificity", (0.5,), {}), ("SpecificityAtSensitivity", (0.5,), {}),
               ("BinaryIoU", (), {"target_class_ids": [1], "dtype": "float32"})],
    "categorical": [("CategoricalCrossentropy", (), {"label_smoothing": 0.1}), ("CategoricalHinge", (), {}),
                    ("OneHotIoU", (3, [0, 2]), {}), ("OneHotMeanIoU", (3,), {})],
    "sparse": [("SparseCategoricalCrossentropy", (), {}), ("IoU", (3, [1]), {"sparse_y_pred": False}),
               ("SparseCategoricalCrossentropy", (), {"ignore_class": 1})],
    "regression": [("Poisson", (), {}), ("MeanSquaredLogarithmicError", (), {}), ("PearsonCorrelation", (), {}),
                   ("ConcordanceCorrelation", (), {})],
}


def _metric_objects(lib, kind):
    return [getattr(lib.metrics, cls)(*args, **kwargs, name=f"object_{i}")
            for i, (cls, args, kwargs) in enumerate(OBJECTS[kind])]


MODELS = [("binary", "sigmoid", "binary_crossentropy",
           ["binary_crossentropy", "bce", "hinge", "squared_hinge", "true_positives", "true_negatives",
            "false_positives", "false_negatives"]),
          ("categorical", "softmax", "categorical_crossentropy", ["categorical_crossentropy", "categorical_hinge"]),
          ("sparse", "softmax", "sparse_categorical_crossentropy", ["sparse_categorical_crossentropy"]),
          ("regression", "softplus", "mse", ["poisson", "msle", "mean_squared_logarithmic_error",
                                             "pearson_correlation", "concordance_correlation"])]


@pytest.mark.parametrize("kind, activation, loss, names", MODELS, ids=[m[0] for m in MODELS])
def test_compile_by_name_and_object_gives_keras_history(kind, activation, loss, names):
    theirs = _model(keras, kind, activation, loss, names + _metric_objects(keras, kind))
    ours = _model(kerasish, kind, activation, loss, names + _metric_objects(kerasish, kind))
    ours.set_weights([np.asarray(w) for w in theirs.get_weights()])
    expected, history = _one_epoch(theirs, kind), _one_epoch(ours, kind)
    assert set(history) == set(expected)
    for key, values in expected.items():
        np.testing.assert_allclose(history[key], values, rtol=1e-4, atol=1e-5, err_msg=key)


def test_early_stopping_auto_mode_reads_the_metric_direction():
    import operator

    for metric, op in ((kerasish.metrics.PearsonCorrelation(name="pc"), operator.gt),
                       (kerasish.metrics.SensitivityAtSpecificity(0.5, name="sens"), operator.gt),
                       (kerasish.metrics.Poisson(name="p"), operator.lt)):
        model = _model(kerasish, "regression", "softplus", "mse", [metric])
        stop = kerasish.callbacks.EarlyStopping(monitor=metric.name, mode="auto")
        x, y = _data("regression")
        model.fit(x, y, batch_size=16, epochs=1, verbose=0, callbacks=[stop])
        assert stop.monitor_op is op, metric.name
