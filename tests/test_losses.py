"""kerasish.losses against Keras 3 itself (values, reductions, configs, errors) and against central finite
differences in float64 (gradients)."""

import functools
import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from kerasish import losses
from kerasish.serialization import register_keras_serializable

keras = pytest.importorskip("keras")
from keras.src.losses.losses import LossFunctionWrapper as KerasLossFunctionWrapper  # noqa: E402

BATCH, CLASSES = 6, 4
REDUCTIONS = ["sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", None, "none"]


def data(kind, seed=0, scale=3.0):
    """(y_true, y_pred) float32 NumPy arrays of shape (BATCH, CLASSES) (sparse labels: (BATCH,))."""
    rng = np.random.RandomState(seed)
    logits = scale * rng.randn(BATCH, CLASSES)
    probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    labels = rng.randint(0, CLASSES, BATCH)
    one_hot = np.eye(CLASSES)[labels]
    bits = rng.randint(0, 2, (BATCH, CLASSES))
    y_true, y_pred = {
        "regression": (rng.randn(BATCH, CLASSES), rng.randn(BATCH, CLASSES)),
        "positive": (rng.rand(BATCH, CLASSES) + 0.1, rng.rand(BATCH, CLASSES) + 0.1),
        "hinge": (bits, rng.randn(BATCH, CLASSES)),
        "binary": (bits, rng.uniform(0.05, 0.95, (BATCH, CLASSES))),
        "binary_logits": (bits, logits),
        "probs": (one_hot, probs),
        "soft_probs": (np.roll(probs, 1, axis=0), probs),
        "logits": (one_hot, logits),
        "sparse": (labels, probs),
        "sparse_logits": (labels, logits),
    }[kind]
    return np.asarray(y_true, np.float32), np.asarray(y_pred, np.float32)


# (function name, class name, options, data kind)
CASES = [
    ("mean_squared_error", "MeanSquaredError", {}, "regression"),
    ("mean_absolute_error", "MeanAbsoluteError", {}, "regression"),
    ("mean_absolute_percentage_error", "MeanAbsolutePercentageError", {}, "regression"),
    ("mean_squared_logarithmic_error", "MeanSquaredLogarithmicError", {}, "positive"),
    ("cosine_similarity", "CosineSimilarity", {}, "regression"),
    ("cosine_similarity", "CosineSimilarity", {"axis": 0}, "regression"),
    ("huber", "Huber", {}, "regression"),
    ("huber", "Huber", {"delta": 0.3}, "regression"),
    ("log_cosh", "LogCosh", {}, "regression"),
    ("hinge", "Hinge", {}, "hinge"),
    ("squared_hinge", "SquaredHinge", {}, "hinge"),
    ("categorical_hinge", "CategoricalHinge", {}, "logits"),
    ("kl_divergence", "KLDivergence", {}, "soft_probs"),
    ("poisson", "Poisson", {}, "positive"),
    ("binary_crossentropy", "BinaryCrossentropy", {}, "binary"),
    ("binary_crossentropy", "BinaryCrossentropy", {"from_logits": True}, "binary_logits"),
    ("binary_crossentropy", "BinaryCrossentropy", {"label_smoothing": 0.1}, "binary"),
    ("categorical_crossentropy", "CategoricalCrossentropy", {}, "probs"),
    ("categorical_crossentropy", "CategoricalCrossentropy", {"from_logits": True}, "logits"),
    ("categorical_crossentropy", "CategoricalCrossentropy", {"label_smoothing": 0.2}, "soft_probs"),
    ("sparse_categorical_crossentropy", "SparseCategoricalCrossentropy", {}, "sparse"),
    ("sparse_categorical_crossentropy", "SparseCategoricalCrossentropy", {"from_logits": True}, "sparse_logits"),
    ("sparse_categorical_crossentropy", "SparseCategoricalCrossentropy", {"ignore_class": 1}, "sparse"),
    ("binary_focal_crossentropy", "BinaryFocalCrossentropy", {}, "binary"),
    ("binary_focal_crossentropy", "BinaryFocalCrossentropy", {"apply_class_balancing": True, "alpha": 0.3, "gamma": 3.0}, "binary"),
    ("binary_focal_crossentropy", "BinaryFocalCrossentropy", {"from_logits": True, "label_smoothing": 0.1}, "binary_logits"),
    ("categorical_focal_crossentropy", "CategoricalFocalCrossentropy", {}, "probs"),
    ("categorical_focal_crossentropy", "CategoricalFocalCrossentropy", {"from_logits": True, "gamma": 1.5}, "logits"),
    ("categorical_focal_crossentropy", "CategoricalFocalCrossentropy", {"alpha": [0.1, 0.2, 0.3, 0.4], "label_smoothing": 0.2}, "soft_probs"),
    ("dice", "Dice", {}, "binary"),
    ("dice", "Dice", {"axis": (1,)}, "binary"),
    ("tversky", "Tversky", {}, "binary"),
    ("tversky", "Tversky", {"alpha": 0.7, "beta": 0.3, "axis": -1}, "binary"),
]
IDS = [f"{cls}-{'-'.join(f'{k}={v}' for k, v in kw.items())}" for _, cls, kw, _ in CASES]


def grad_and_finite_differences(f, x, eps=1e-6):
    """`jax.grad(f)(x)` and central finite differences of scalar `f` at float64 `x` (call under jit)."""
    steps = (eps * np.eye(x.size)).reshape((x.size,) + x.shape)
    finite_differences = (jax.vmap(f)(x + steps) - jax.vmap(f)(x - steps)) / (2 * eps)
    return jax.grad(f)(x), finite_differences.reshape(x.shape)


@functools.cache
def gradients_and_finite_differences():
    """For every case, the gradient of a weighted sum of the per-sample loss with respect to y_pred and its
    finite differences, in float64, all in one compiled call (one compilation instead of one per case)."""

    def weighted_sum(fn, y_true, kwargs):
        def f(y_pred):
            per_sample = getattr(losses, fn)(y_true, y_pred, **kwargs)
            return jnp.sum(per_sample * jnp.linspace(0.5, 1.5, per_sample.size))

        return f

    with jax.enable_x64(True):
        functions, points = [], []
        for fn, _, kwargs, kind in CASES:
            y_true, y_pred = (np.asarray(a, np.float64) for a in data(kind, seed=1, scale=1.0))  # no tiny probs
            if "ignore_class" in kwargs:
                y_true[:2] = kwargs["ignore_class"]  # at least two ignored rows
            functions.append(weighted_sum(fn, y_true, kwargs))
            points.append(y_pred)
        run = jax.jit(lambda xs: [grad_and_finite_differences(f, x) for f, x in zip(functions, xs)])
        return run(points)


@pytest.mark.parametrize("fn, cls, kwargs, kind", CASES, ids=IDS)
def test_function_matches_keras(fn, cls, kwargs, kind):
    y_true, y_pred = data(kind)
    ours = getattr(losses, fn)(y_true, y_pred, **kwargs)
    theirs = getattr(keras.losses, fn)(y_true, y_pred, **kwargs)
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("fn, cls, kwargs, kind", CASES, ids=IDS)
def test_class_matches_keras(fn, cls, kwargs, kind):
    """Default reduction for every class; every reduction for a few (the reduction code is shared)."""
    y_true, y_pred = data(kind)
    weights = np.linspace(0.0, 2.0, BATCH).astype(np.float32)
    full = cls in ("MeanSquaredError", "SparseCategoricalCrossentropy", "CategoricalHinge")
    for reduction in REDUCTIONS if full else ["sum_over_batch_size"]:
        ours = getattr(losses, cls)(reduction=reduction, **kwargs)
        theirs = getattr(keras.losses, cls)(reduction=reduction, **kwargs)
        for sample_weight in (None,) if kwargs.get("axis") == 0 else (None, weights, weights[:, None]):
            expected = theirs(y_true, y_pred, sample_weight=sample_weight)
            actual = ours(y_true, y_pred, sample_weight=sample_weight)
            np.testing.assert_allclose(actual, expected, rtol=1e-6, atol=1e-7, err_msg=f"{reduction}, {sample_weight}")


@pytest.mark.parametrize("case", range(len(CASES)), ids=IDS)
def test_gradient_matches_finite_differences(case):
    grad, finite_differences = gradients_and_finite_differences()[case]
    assert grad.dtype == np.float64 and np.all(np.isfinite(grad))
    np.testing.assert_allclose(grad, finite_differences, rtol=1e-5, atol=1e-8)


def test_class_gradient_in_float64():
    with jax.enable_x64(True):
        y_true, y_pred = (np.asarray(a, np.float64) for a in data("sparse_logits"))
        loss = losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0, dtype="float64")
        check = jax.jit(lambda p: grad_and_finite_differences(lambda q: loss(y_true, q, np.arange(BATCH)), p))
        grad, finite_differences = check(y_pred)
    assert grad.dtype == np.float64
    np.testing.assert_allclose(grad, finite_differences, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("fn, cls, kwargs, kind", CASES, ids=IDS)
def test_config_matches_keras_and_round_trips(fn, cls, kwargs, kind):
    ours = getattr(losses, cls)(**kwargs)
    expected = getattr(keras.losses, cls)(**kwargs).get_config()
    if cls == "Huber":
        expected["delta"] = kwargs.get("delta", 1.0)  # Keras 3 drops it
    if cls == "SparseCategoricalCrossentropy":
        expected["axis"] = -1  # Keras 3 drops it
    if cls == "CosineSimilarity":
        expected["axis"] = kwargs.get("axis", -1)  # Keras 3 drops it
    assert ours.get_config() == expected
    clone = type(ours).from_config(ours.get_config())
    assert clone.get_config() == ours.get_config()
    restored = losses.deserialize(losses.serialize(ours))
    assert type(restored) is type(ours) and restored.get_config() == ours.get_config()
    y_true, y_pred = data(kind)
    np.testing.assert_allclose(clone(y_true, y_pred), ours(y_true, y_pred))


@pytest.mark.parametrize("label_shape", [(BATCH,), (BATCH, 1)])
@pytest.mark.parametrize("label_dtype", [np.int32, np.int64, np.float32])
@pytest.mark.parametrize("ignore_class", [None, 2])
def test_sparse_label_shapes_and_dtypes(label_shape, label_dtype, ignore_class):
    labels, probs = data("sparse")
    labels = labels.astype(label_dtype).reshape(label_shape)
    ours = losses.SparseCategoricalCrossentropy(ignore_class=ignore_class)(labels, probs)
    theirs = keras.losses.SparseCategoricalCrossentropy(ignore_class=ignore_class)(labels, probs)
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)
    per_sample = losses.sparse_categorical_crossentropy(labels, probs, ignore_class=ignore_class)
    assert per_sample.shape == (BATCH,)
    np.testing.assert_allclose(per_sample, keras.losses.sparse_categorical_crossentropy(labels, probs, ignore_class=ignore_class), rtol=1e-6)


def test_sparse_sequence_labels_with_ignore_class():
    rng = np.random.RandomState(3)
    labels = rng.randint(0, 3, (2, 5))
    logits = rng.randn(2, 5, 3).astype(np.float32)
    for reduction in ["sum_over_batch_size", "sum", None]:
        ours = losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0, reduction=reduction)
        theirs = keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0, reduction=reduction)
        np.testing.assert_allclose(ours(labels, logits), theirs(labels, logits), rtol=1e-6)


def test_all_labels_ignored_gives_zero():
    loss = losses.SparseCategoricalCrossentropy(ignore_class=0)
    assert float(loss(np.zeros(3), np.full((3, 2), 0.5))) == 0.0


def test_confident_wrong_predictions_stay_finite():
    logits = jnp.array([[200.0, -200.0, 0.0], [150.0, 0.0, -300.0], [-100.0, 100.0, 100.0]])  # exact 0/1 probs
    one_hot, labels = np.eye(3)[[1, 2, 0]], np.array([1, 2, 0])
    cases = {
        "categorical": lambda p: losses.categorical_crossentropy(one_hot, jax.nn.softmax(p)),
        "sparse": lambda p: losses.sparse_categorical_crossentropy(labels, jax.nn.softmax(p)),
        "binary": lambda p: losses.binary_crossentropy(one_hot, jax.nn.sigmoid(p)),
        "class": lambda p: losses.CategoricalCrossentropy(reduction=None)(one_hot, jax.nn.softmax(p)),
    }
    results = jax.jit(lambda p: {k: (f(p), jax.grad(lambda q: jnp.sum(f(q)))(p)) for k, f in cases.items()})(logits)
    for name, (value, grad) in results.items():
        assert np.all(np.isfinite(value)) and np.all(np.isfinite(grad)), name
        np.testing.assert_allclose(np.max(value), -np.log(1e-7), rtol=0.02, err_msg=name)  # clipped at 1e-7


def test_confident_wrong_values_match_keras():
    probs = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], np.float32)
    one_hot = np.array([[0.0, 1.0, 0.0], [0.0, 1.0, 0.0]], np.float32)
    np.testing.assert_allclose(losses.categorical_crossentropy(one_hot, probs), keras.losses.categorical_crossentropy(one_hot, probs), rtol=1e-6)
    np.testing.assert_allclose(losses.binary_crossentropy(one_hot, probs), keras.losses.binary_crossentropy(one_hot, probs), rtol=1e-6)


def test_aliases_are_the_same_functions():
    assert losses.mse is losses.MSE is losses.mean_squared_error
    assert losses.mae is losses.mean_absolute_error and losses.mape is losses.mean_absolute_percentage_error
    assert losses.msle is losses.mean_squared_logarithmic_error and losses.kld is losses.kl_divergence
    assert losses.bce is losses.binary_crossentropy


@pytest.mark.parametrize(
    "identifier, fn",
    [
        ("categorical_crossentropy", "categorical_crossentropy"), ("sparse_categorical_crossentropy", "sparse_categorical_crossentropy"),
        ("binary_crossentropy", "binary_crossentropy"), ("mse", "mean_squared_error"), ("mean_squared_error", "mean_squared_error"),
        ("MSE", "mean_squared_error"), ("mae", "mean_absolute_error"), ("mean_absolute_error", "mean_absolute_error"),
        ("mape", "mean_absolute_percentage_error"), ("msle", "mean_squared_logarithmic_error"), ("kld", "kl_divergence"),
        ("bce", "binary_crossentropy"), ("huber", "huber"), ("hinge", "hinge"), ("log_cosh", "log_cosh"), ("poisson", "poisson"),
    ],
)  # fmt: skip
def test_get_function_name_gives_wrapped_loss(identifier, fn):
    loss = losses.get(identifier)
    assert isinstance(loss, losses.LossFunctionWrapper) and loss.fn is getattr(losses, fn)
    assert loss.name == identifier and loss.reduction == "sum_over_batch_size"
    assert keras.losses.get(identifier) is getattr(keras.losses, fn)  # Keras returns the bare function


def test_get_class_name_config_instance_and_function():
    assert losses.get(None) is None
    assert type(losses.get("CategoricalCrossentropy")) is losses.CategoricalCrossentropy
    loss = losses.get({"class_name": "CategoricalCrossentropy", "config": {"from_logits": True}})
    assert loss.get_config()["from_logits"] is True
    keras_config = keras.losses.serialize(keras.losses.BinaryCrossentropy(label_smoothing=0.1))
    assert losses.get(keras_config).get_config()["label_smoothing"] == 0.1
    instance = losses.Huber(delta=2.0)
    assert losses.get(instance) is instance
    assert type(losses.get(losses.Poisson)) is losses.Poisson

    def my_loss(y_true, y_pred):
        return jnp.mean(jnp.abs(y_true - y_pred), axis=-1)

    wrapped = losses.get(my_loss)
    assert isinstance(wrapped, losses.LossFunctionWrapper) and wrapped.name == "my_loss"
    np.testing.assert_allclose(wrapped(*data("regression")), losses.MeanAbsoluteError()(*data("regression")), rtol=1e-6)


@pytest.mark.parametrize("identifier", ["foo", 3, {"class_name": "Foo", "config": {}}])
def test_get_unknown_raises(identifier):
    with pytest.raises(ValueError, match=f"Could not interpret loss identifier: {identifier}"):
        losses.get(identifier)


def test_loss_function_wrapper_config_matches_keras_and_round_trips():
    ours = losses.LossFunctionWrapper(losses.huber, name="h", delta=0.5)
    theirs = KerasLossFunctionWrapper(keras.losses.huber, name="h", delta=0.5).get_config()
    config = ours.get_config()
    assert config.keys() == theirs.keys() and config["fn"] == theirs["fn"]["config"] == "huber"
    clone = losses.LossFunctionWrapper.from_config(config)
    assert clone.fn is losses.huber and clone.get_config() == config
    assert losses.LossFunctionWrapper(losses.mean_squared_error).name == "loss_function_wrapper"
    keras_style = {**config, "fn": theirs["fn"]}
    assert losses.LossFunctionWrapper.from_config(keras_style).fn is losses.huber


def test_registered_custom_loss_function_round_trip():
    @register_keras_serializable(package="TestLoss")
    def doubled_mse(y_true, y_pred):
        return 2.0 * losses.mean_squared_error(y_true, y_pred)

    wrapper = losses.LossFunctionWrapper(doubled_mse)
    assert wrapper.get_config()["fn"] == "TestLoss>doubled_mse"
    assert losses.LossFunctionWrapper.from_config(wrapper.get_config()).fn is doubled_mse
    assert losses.serialize(doubled_mse) == "TestLoss>doubled_mse"
    assert losses.deserialize("TestLoss>doubled_mse") is doubled_mse


def test_custom_loss_subclass():
    class Doubled(losses.Loss):
        def call(self, y_true, y_pred):
            return 2.0 * jnp.sum(y_pred - y_true, axis=-1)

    loss = Doubled(reduction="sum")
    assert loss.name == "doubled" and loss.get_config() == {"name": "doubled", "reduction": "sum"}
    assert float(loss(np.zeros((2, 3)), np.ones((2, 3)))) == 12.0
    with pytest.raises(NotImplementedError):
        losses.Loss()(np.zeros(2), np.zeros(2))


def test_jit_and_dtype():
    y_true, y_pred = data("logits")
    loss = losses.CategoricalCrossentropy(from_logits=True)
    weights = np.ones(BATCH, np.float32)
    compiled = jax.jit(lambda t, p, w: loss(t, p, sample_weight=w))
    np.testing.assert_allclose(compiled(y_true, y_pred, weights), loss(y_true, y_pred, weights), rtol=1e-6)
    assert loss.dtype == "float32" and loss(y_true, jnp.asarray(y_pred, jnp.bfloat16)).dtype == jnp.float32


def test_invalid_reduction():
    with pytest.raises(ValueError, match=r"Invalid value for argument `reduction`. Expected one of .*Received: reduction=avg"):
        losses.MeanSquaredError(reduction="avg")


def test_shape_and_axis_errors():
    with pytest.raises(ValueError, match=r"`axis` must be of type `int`. Received: axis=True"):
        losses.categorical_crossentropy(np.eye(3), np.eye(3), axis=True)
    with pytest.raises(ValueError, match=r"must have the same shape. Received: target.shape=\(2, 3\), output.shape=\(2, 4\)"):
        losses.categorical_crossentropy(np.ones((2, 3)), np.ones((2, 4)))
    with pytest.raises(ValueError, match=r"must have the same shape. Received: target.shape=\(2, 3\), output.shape=\(2, 4\)"):
        losses.binary_crossentropy(np.ones((2, 3)), np.ones((2, 4)))
    with pytest.raises(ValueError, match=r"same shape up until the last dimension: target.shape=\(3,\), output.shape=\(2, 4\)"):
        losses.sparse_categorical_crossentropy(np.ones(3), np.ones((2, 4)))


def test_single_class_categorical_crossentropy_warns():
    with pytest.warns(SyntaxWarning, match="Consider using 'binary_crossentropy'"):
        losses.categorical_crossentropy(np.ones((2, 1)), np.full((2, 1), 0.5))


def test_focal_and_overlap_checks_and_names():
    with pytest.warns(SyntaxWarning, match="In loss categorical_focal_crossentropy.*'binary_crossentropy'"):
        losses.categorical_focal_crossentropy(np.ones((2, 1)), np.full((2, 1), 0.5))
    with pytest.raises(ValueError, match=r"`axis` must be of type `int`. Received: axis=True"):
        losses.categorical_focal_crossentropy(np.eye(3), np.eye(3), axis=True)
    for name in ("binary_focal_crossentropy", "categorical_focal_crossentropy", "dice", "tversky"):
        assert losses.get(name).fn is getattr(losses, name)
        assert type(losses.get(keras.losses.serialize(keras.losses.get(name)))) is losses.LossFunctionWrapper
    assert losses.Dice().name == "dice" and losses.Tversky().name == "tversky"
    y_true, y_pred = data("binary")
    np.testing.assert_allclose(losses.tversky(y_true, y_pred), losses.dice(y_true, y_pred), rtol=1e-6)  # alpha=beta=1/2


def test_segmentation_losses_train_a_model():
    import kerasish

    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype(np.float32)
    y = (x[:, :2] > 0).astype(np.float32)
    model = kerasish.Sequential([kerasish.Input((4,)), kerasish.layers.Dense(2, activation="sigmoid")])
    model.compile(optimizer=kerasish.optimizers.Adam(0.05), loss=losses.Dice(axis=-1))
    history = model.fit(x, y, batch_size=16, epochs=5, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    model.compile(optimizer="adam", loss="binary_focal_crossentropy")
    expected = losses.BinaryFocalCrossentropy()(y, model.predict(x, verbose=0))
    np.testing.assert_allclose(model.evaluate(x, y, batch_size=64, verbose=0), expected, rtol=1e-5)


def test_a_data_set_smaller_than_a_batch_is_one_batch_of_its_own_size():
    """A user loss whose broadcasting depends on the batch size ((n, 4) - (n,) works for n = 4):
    4 samples with the default batch_size of 32 make one batch of 4, as in Keras."""
    import keras as keras_ref
    import kerasish as keras

    histories = []
    x = np.random.default_rng(0).random((4, 8)).astype("float32")
    y = np.random.default_rng(1).random((4,)).astype("float32")
    for lib in (keras_ref, keras):
        def loss(y_true, y_pred):
            return lib.ops.sum(lib.ops.square(y_pred - y_true), axis=1)
        model = lib.Sequential([lib.Input((8,)), lib.layers.Dense(4, kernel_initializer="ones")])
        model.compile(optimizer=lib.optimizers.SGD(0.01), loss=loss)
        histories.append(model.fit(x, y, epochs=2, shuffle=False, verbose=0).history["loss"])
    np.testing.assert_allclose(histories[1], histories[0], rtol=1e-5)
