"""kerasish.metrics.extra against keras.metrics: several weighted batches (zero weights included), the
pure core under jit, configs, errors, and the metrics inside `compile(metrics=[...])` + `fit`."""

import os
import re

os.environ.setdefault("KERAS_BACKEND", "jax")

import jax  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

keras = pytest.importorskip("keras")

import kerasish  # noqa: E402
from kerasish.metrics import extra  # noqa: E402

B, C = 24, 4


def _batches(kind, seed=0, n=3, zero_weights=True, int_weights=False, keras_eager=False):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        weights = rng.integers(0, 3, B).astype("f4") if int_weights else rng.uniform(0.0, 2.0, B).astype("f4")
        if zero_weights:
            weights[rng.choice(B, 4, replace=False)] = 0.0
        if kind == "binary":
            y_true, y_pred = rng.integers(0, 2, (B, 1)), rng.uniform(size=(B, 1))
        elif kind == "logits":
            y_true, y_pred = rng.integers(0, 2, (B, 1)), rng.normal(scale=3.0, size=(B, 1))
        elif kind == "multilabel":
            y_true, y_pred = rng.integers(0, 2, (B, C)), rng.uniform(size=(B, C))
        elif kind == "categorical":
            y_true = np.eye(C)[rng.integers(0, C, B)]
            y_pred = np.asarray(jax.nn.softmax(rng.normal(size=(B, C))))
        elif kind == "soft":
            y_true = np.asarray(jax.nn.softmax(rng.normal(size=(B, C))))
            y_pred = np.asarray(jax.nn.softmax(rng.normal(size=(B, C))))
        elif kind == "labels":
            y_true, y_pred = rng.integers(0, 3, (B,)), rng.integers(0, 3, (B,))
        else:  # regression
            y_true = rng.normal(size=(B, 3))
            y_pred = y_true + rng.normal(scale=0.5, size=(B, 3))
        out.append((np.asarray(y_true, "f4"), np.asarray(y_pred, "f4"), weights))
    return out


# (class name, kwargs, data kind, batch options)
CASES = [
    ("AUC", {}, "binary", {}),
    ("AUC", {"curve": "PR"}, "binary", {}),
    ("AUC", {"curve": "PR", "summation_method": "majoring"}, "binary", {}),
    ("AUC", {"summation_method": "minoring", "num_thresholds": 7}, "binary", {}),
    ("AUC", {"curve": "PRGAIN"}, "binary", {}),
    ("AUC", {"thresholds": [0.2, 0.45, 0.7]}, "binary", {}),
    ("AUC", {"thresholds": [0.25, 0.5, 0.75], "from_logits": True}, "logits", {}),
    ("AUC", {"multi_label": True, "label_weights": [0.1, 0.2, 0.3, 0.4]}, "multilabel", {}),
    ("AUC", {"label_weights": [1.0, 0.5, 0.0, 2.0]}, "multilabel", {}),
    ("AUC", {"multi_label": True, "num_labels": C, "thresholds": [0.3, 0.6]}, "multilabel", {"keras_eager": True}),
    ("PrecisionAtRecall", {"recall": 0.6}, "binary", {}),
    ("PrecisionAtRecall", {"recall": 0.5, "class_id": 1}, "categorical", {}),
    ("PrecisionAtRecall", {"recall": 0.7, "num_thresholds": 1}, "binary", {}),
    ("RecallAtPrecision", {"precision": 0.6}, "binary", {}),
    ("RecallAtPrecision", {"precision": 0.5, "num_thresholds": 20}, "multilabel", {}),
    ("F1Score", {}, "categorical", {}),
    ("F1Score", {"average": "micro", "threshold": 0.5}, "multilabel", {}),
    ("F1Score", {"average": "macro"}, "categorical", {}),
    ("F1Score", {"average": "weighted", "threshold": 0.3}, "multilabel", {}),
    ("FBetaScore", {"beta": 2.0, "average": "macro", "threshold": 0.4}, "multilabel", {}),
    ("R2Score", {}, "regression", {}),
    ("R2Score", {"class_aggregation": None}, "regression", {}),
    ("R2Score", {"class_aggregation": "variance_weighted_average"}, "regression", {}),
    ("R2Score", {"num_regressors": 2}, "regression", {"zero_weights": False, "keras_eager": True}),
    ("MeanAbsolutePercentageError", {}, "regression", {}),
    ("KLDivergence", {}, "soft", {}),
    ("LogCoshError", {}, "regression", {}),
    ("CosineSimilarity", {}, "regression", {}),
    ("MeanIoU", {"num_classes": 3}, "labels", {"int_weights": True}),
    ("MeanIoU", {"num_classes": 3, "ignore_class": 0}, "labels", {"int_weights": True}),
    ("MeanIoU", {"num_classes": C, "sparse_y_true": False, "sparse_y_pred": False}, "categorical", {"int_weights": True}),
]
IDS = [f"{cls}-{'-'.join(f'{k}={v}' for k, v in kw.items())}" for cls, kw, _, _ in CASES]


def _keras_metric(cls, kwargs, batches):
    """Keras's metric, built (a multi-label AUC needs `num_labels` for its stateless API)."""
    if cls == "AUC" and kwargs.get("multi_label") and "num_labels" not in kwargs:
        kwargs = {**kwargs, "num_labels": batches[0][1].shape[1]}
    metric = getattr(keras.metrics, cls)(**kwargs)
    if not metric.variables:  # F-scores and R2Score build on their first batch
        metric.update_state(*batches[0][:2])
        metric.reset_state()
    return metric


@pytest.mark.parametrize("cls, kwargs, kind, options", CASES, ids=IDS)
def test_matches_keras_over_weighted_batches(cls, kwargs, kind, options):
    """Both sides through their pure (stateless) APIs under jit: one compilation each per case."""
    batches = _batches(kind, **options)
    ours, theirs = getattr(extra, cls)(**kwargs), _keras_metric(cls, kwargs, batches)
    ours.build(batches[0][0].shape, batches[0][1].shape) if hasattr(ours, "build") else None
    state, values = ours.init(), [v.value for v in theirs.variables]
    update = jax.jit(ours.update)
    # Keras's multi-label update with uneven thresholds, and its adjusted R2, cannot be traced (Python branches)
    keras_jit = (lambda f: f) if options.get("keras_eager") else jax.jit
    keras_update = keras_jit(theirs.stateless_update_state)
    for y_true, y_pred, weights in batches:
        state = update(state, y_true, y_pred, weights)
        values = keras_update(values, y_true, y_pred, sample_weight=weights)
    np.testing.assert_allclose(jax.jit(ours.compute)(state), keras_jit(theirs.stateless_result)(values),
                               rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize("cls, kwargs, kind, options", [CASES[i] for i in (7, 15, 20)], ids=[IDS[i] for i in (7, 15, 20)])
def test_stateful_api_builds_on_the_first_batch_like_keras(cls, kwargs, kind, options):
    """Eager update_state (unweighted first batch, unbuilt metric), result, reset_state, as Keras."""
    ours, theirs = getattr(extra, cls)(**kwargs), getattr(keras.metrics, cls)(**kwargs)
    assert not ours.built and not ours.variables  # the class count comes with the first batch
    for i, (y_true, y_pred, weights) in enumerate(_batches(kind, n=2, **options)):  # noqa: B007
        ours.update_state(y_true, y_pred, sample_weight=None if i == 0 else weights)
        theirs.update_state(y_true, y_pred, sample_weight=None if i == 0 else weights)
    assert ours.built and sorted(v.shape for v in ours.variables) == sorted(tuple(v.shape) for v in theirs.variables)
    np.testing.assert_allclose(ours.result(), theirs.result(), rtol=2e-5, atol=2e-6)
    ours.reset_state()
    assert all(not np.any(np.asarray(v)) for v in ours.variables)


@pytest.mark.parametrize("cls, kwargs, kind, options", CASES, ids=IDS)
def test_config_matches_keras_and_round_trips(cls, kwargs, kind, options):
    metric = getattr(extra, cls)(**kwargs, name="m")
    expected = getattr(keras.metrics, cls)(**kwargs, name="m").get_config()
    config = metric.get_config()
    if cls == "AUC" and expected["label_weights"] is not None:  # Keras keeps a float32 array
        np.testing.assert_allclose(config.pop("label_weights"), expected.pop("label_weights"), rtol=1e-7)
    if cls == "CosineSimilarity":
        expected["axis"] = -1  # Keras 3 drops it
    assert config == expected
    clone = type(metric).from_config(metric.get_config())
    assert clone.get_config() == metric.get_config()


def test_names_and_defaults_match_keras():
    for cls in extra.CLASSES:
        args = {"AUC": {}, "PrecisionAtRecall": {"recall": 0.5}, "RecallAtPrecision": {"precision": 0.5},
                "MeanIoU": {"num_classes": 2}}.get(cls.__name__, {})
        ours, theirs = cls(**args), getattr(keras.metrics, cls.__name__)(**args)
        assert ours.name == re.sub(r"_\d+$", "", theirs.name), cls  # Keras numbers repeated default names
        assert ours.dtype == theirs.dtype, cls
    np.testing.assert_allclose(extra.cosine_similarity([[0.0, 1.0], [1.0, 1.0]], [[1.0, 0.0], [1.0, 1.0]]), [0.0, 1.0],
                               atol=1e-6)
    assert set(extra.FUNCTIONS) <= set(dir(keras.metrics))
    assert all(hasattr(keras.metrics, cls.__name__) for cls in extra.CLASSES)


def test_errors_match_keras():
    cases = [
        (lambda m: m.AUC(curve="XY"), "Invalid AUC curve value"),
        (lambda m: m.AUC(summation_method="trapezoid"), "Invalid AUC summation method value"),
        (lambda m: m.AUC(num_thresholds=1), "must be an integer > 1"),
        (lambda m: m.AUC(num_labels=3), "only when `multi_label` is True"),
        (lambda m: m.PrecisionAtRecall(1.5), r"`recall` must be in the range \[0, 1\]"),
        (lambda m: m.RecallAtPrecision(0.5, num_thresholds=0), "must be an integer > 0"),
        (lambda m: m.F1Score(average="mean"), "Invalid `average` argument value"),
        (lambda m: m.FBetaScore(beta=2), "It should be a Python float"),
        (lambda m: m.FBetaScore(beta=-1.0), "It should be > 0"),
        (lambda m: m.F1Score(threshold=1.5), "0 < threshold <= 1"),
        (lambda m: m.R2Score(class_aggregation="median"), "Invalid value for argument `class_aggregation`"),
        (lambda m: m.R2Score(num_regressors=-1), "Expected a value >= 0"),
    ]
    for make, message in cases:
        for module in (extra, keras.metrics):
            with pytest.raises(ValueError, match=message):
                make(module)
    for module in (extra, keras.metrics):
        with pytest.raises(ValueError, match="expects 2D inputs"):
            module.F1Score().update_state(np.ones(3), np.ones(3))
        with pytest.raises(ValueError, match="must have rank 2 when `multi_label=True`"):
            module.AUC(multi_label=True).update_state(np.ones((2, 2, 2)), np.ones((2, 2, 2)))


def test_unbuilt_per_class_metric_in_a_compiled_step_says_what_to_do():
    metric = extra.F1Score()
    with pytest.raises(ValueError, match=r"does not know the number of classes yet.*build\(y_true_shape"):
        jax.jit(metric.update)(metric.init(), np.eye(3), np.eye(3))
    auc = extra.AUC(multi_label=True)
    with pytest.raises(ValueError, match="pass `num_labels=`"):
        jax.jit(auc.update)(auc.init(), np.eye(3), np.eye(3))
    auc.build((None, 3), (None, 3))
    assert auc.init()["true_positives"].shape == (200, 3)


def _classifier_data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(150, 5)).astype("f4")
    logits = x @ rng.normal(size=(5, 3))
    return x, np.argmax(logits, axis=1), (logits[:, :1] > 0).astype("f4")


def _check_fit_logs(model, metrics, x, y):
    """evaluate()'s logs equal each metric run standalone on predict()'s output, and Keras's metric."""
    history = model.fit(x, y, batch_size=32, epochs=2, verbose=0)  # 150 rows: a padded last batch
    assert all(np.isfinite(history.history[m.name]).all() for m in metrics)
    logs = model.evaluate(x, y, batch_size=32, verbose=0, return_dict=True)
    y_pred = model.predict(x, batch_size=64, verbose=0)
    for metric in metrics:
        kind = type(metric).__name__
        reference = type(metric).from_config(metric.get_config())
        reference.update_state(y, y_pred)
        keras_metric = getattr(keras.metrics, kind)(**{k: v for k, v in metric.get_config().items() if k != "axis"
                                                       or kind != "CosineSimilarity"})
        keras_metric.update_state(y, y_pred)
        np.testing.assert_allclose(logs[metric.name], reference.result(), rtol=1e-4, atol=1e-5, err_msg=kind)
        np.testing.assert_allclose(logs[metric.name], keras_metric.result(), rtol=1e-4, atol=1e-5, err_msg=kind)


def test_binary_metrics_in_compile_and_fit():
    x, _, y = _classifier_data()
    metrics = [extra.AUC(), extra.AUC(curve="PR", name="pr_auc"), extra.PrecisionAtRecall(0.5),
               extra.RecallAtPrecision(0.6), extra.F1Score(average="micro", threshold=0.5)]
    model = kerasish.Sequential([kerasish.Input((5,)), kerasish.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=kerasish.optimizers.Adam(0.05), loss="binary_crossentropy", metrics=metrics)
    _check_fit_logs(model, metrics, x, y)


def test_multiclass_and_regression_metrics_in_compile_and_fit():
    x, labels, _ = _classifier_data()
    one_hot = np.eye(3, dtype="f4")[labels]
    f1 = extra.F1Score(average="macro")
    f1.build((None, 3), (None, 3))  # the class count, before the compiled step (see metrics/shape_built.py)
    metrics = [extra.MeanIoU(3, sparse_y_true=False, sparse_y_pred=False), f1, extra.KLDivergence(),
               extra.PrecisionAtRecall(0.8, class_id=2)]
    model = kerasish.Sequential([kerasish.Input((5,)), kerasish.layers.Dense(3, activation="softmax")])
    model.compile(optimizer=kerasish.optimizers.Adam(0.05), loss="categorical_crossentropy", metrics=metrics)
    _check_fit_logs(model, metrics, x, one_hot)

    rng = np.random.default_rng(1)
    targets = np.concatenate([x[:, :2] * 2.0 + 5.0, rng.uniform(1, 2, (150, 1))], axis=1).astype("f4")
    r2 = extra.R2Score()
    r2.build((None, 3), (None, 3))
    metrics = [r2, extra.MeanAbsolutePercentageError(), extra.LogCoshError(), extra.CosineSimilarity()]
    model = kerasish.Sequential([kerasish.Input((5,)), kerasish.layers.Dense(3)])
    model.compile(optimizer=kerasish.optimizers.Adam(0.1), loss="mse", metrics=metrics)
    _check_fit_logs(model, metrics, x, targets)
