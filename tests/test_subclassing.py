"""Custom layers and models, written as the Keras 3 subclassing guide writes them, against Keras 3
itself (copied weights); and the layer/model as an NNX module that Flax's tools work on."""

import numpy as np
import optax
import pytest
from flax import nnx

keras_ref = pytest.importorskip("keras")

import kerasish as keras  # noqa: E402

RNG = np.random.default_rng(0)


def _linear_cls(k):
    class Linear(k.layers.Layer):
        def __init__(self, units=4, **kwargs):
            super().__init__(**kwargs)
            self.units = units

        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="random_normal",
                                     trainable=True, name="w")
            self.b = self.add_weight(shape=(self.units,), initializer="zeros", trainable=True, name="b")

        def call(self, inputs):
            return k.ops.matmul(inputs, self.w) + self.b
    return Linear


def _block_cls(k):
    Linear = _linear_cls(k)

    class Block(k.layers.Layer):
        """Sublayers as attributes, in a list and in a dict; a counter updated in call; add_loss."""

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.first = Linear(6)
            self.stack = [Linear(5), Linear(4)]
            self.heads = {"out": Linear(3)}
            self.calls = self.add_weight(shape=(), initializer="zeros", trainable=False, name="calls")

        def call(self, inputs, training=None):
            x = k.ops.relu(self.first(inputs))
            for layer in self.stack:
                x = k.ops.tanh(layer(x))
            self.calls.assign_add(1.0)
            self.add_loss(0.01 * k.ops.sum(k.ops.square(x)))
            return self.heads["out"](x)
    return Block


def _copy_weights(ref, ours):
    assert [tuple(w.shape) for w in ours.weights] == [tuple(w.shape) for w in ref.weights]
    ours.set_weights([np.asarray(w) for w in ref.get_weights()])


def test_custom_layer_builds_on_call_and_matches_keras():
    ref, ours = _linear_cls(keras_ref)(4), _linear_cls(keras)(4)
    x = RNG.normal(size=(5, 3)).astype("float32")
    ref(x), ours(x)
    assert ours.built and [w.name for w in ours.weights] == ["w", "b"] == [w.name for w in ref.weights]
    _copy_weights(ref, ours)
    np.testing.assert_allclose(ours(x), ref(x), rtol=1e-6)
    assert isinstance(ours.w, keras.Variable) and isinstance(ours.w, nnx.Param)
    assert ours.w.path == f"{ours.name}/w" and ours.count_params() == 16


def test_nested_layers_in_lists_and_dicts_are_tracked_in_keras_order():
    ref, ours = _block_cls(keras_ref)(), _block_cls(keras)()
    x = RNG.normal(size=(4, 3)).astype("float32")
    ref(x), ours(x)
    assert len(ours.weights) == len(ref.weights) == 9
    assert len(ours.trainable_weights) == len(ref.trainable_weights) == 8
    assert [w.name for w in ours.non_trainable_weights] == ["calls"]
    _copy_weights(ref, ours)
    np.testing.assert_allclose(ours(x), ref(x), rtol=1e-5, atol=1e-6)
    assert float(ours.calls.numpy()) == float(np.asarray(ref.calls)) == 2.0  # build call + this call
    np.testing.assert_allclose(ours.losses[0], ref.losses[0], rtol=1e-5)


def test_model_subclass_fits_evaluates_and_matches_keras_one_step():
    def make(k):
        Block = _block_cls(k)

        class Net(k.Model):
            def __init__(self):
                super().__init__()
                self.block = Block()

            def call(self, inputs, training=None):
                return self.block(inputs)
        return Net()
    x = RNG.normal(size=(32, 3)).astype("float32")
    y = RNG.normal(size=(32, 3)).astype("float32")
    ref, ours = make(keras_ref), make(keras)
    ref(x), ours(x)
    _copy_weights(ref, ours)
    for model, k in ((ref, keras_ref), (ours, keras)):
        model.compile(k.optimizers.SGD(0.05), "mse")
    loss_ref = ref.train_on_batch(x, y)
    loss_ours = ours.train_on_batch(x, y)
    np.testing.assert_allclose(loss_ours, loss_ref, rtol=1e-5)  # includes the add_loss term
    for a, b in zip(ours.get_weights(), ref.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    history = ours.fit(x, y, batch_size=8, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    assert ours.block.calls.numpy() > 4  # the counter is state that fit carries back
    assert np.isfinite(ours.evaluate(x, y, verbose=0)) and ours.predict(x, verbose=0).shape == (32, 3)


def test_variable_is_an_nnx_variable_that_ops_and_flax_accept():
    v = keras.Variable(np.ones((2, 2)), name="w")
    assert v.dtype == "float32" and v.shape == (2, 2) and v.trainable and isinstance(v, nnx.Param)
    v.assign_add(np.ones((2, 2)))
    assert float(keras.ops.sum(v)) == 8.0
    frozen = keras.Variable(np.zeros(3), trainable=False, name="stat")
    assert not isinstance(frozen, nnx.Param) and not frozen.trainable
    frozen.trainable = True
    assert isinstance(frozen, nnx.Param)
    with pytest.raises(ValueError, match="must match"):
        v.assign(np.ones(3))


def test_a_model_is_an_nnx_module_flax_can_train():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="relu"), keras.layers.Dense(1)])
    graphdef, params, rest = nnx.split(model, nnx.Param, ...)
    assert len(nnx.to_flat_state(params)) == 4
    optimizer = nnx.Optimizer(model, optax.sgd(0.1), wrt=nnx.Param)
    x, y = RNG.normal(size=(8, 3)).astype("float32"), RNG.normal(size=(8, 1)).astype("float32")
    before = model.get_weights()

    @nnx.jit
    def step(model, optimizer, x, y):
        grads = nnx.grad(lambda m: ((m(x) - y) ** 2).mean())(model)
        optimizer.update(model, grads)
    step(model, optimizer, x, y)
    assert not np.allclose(before[0], model.get_weights()[0])


def test_freezing_a_layer_makes_its_weights_non_params_and_fit_leaves_them():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4), keras.layers.Dense(1)])
    model.layers[0].trainable = False
    assert len(model.trainable_weights) == 2 and not isinstance(model.layers[0].kernel, nnx.Param)
    before = model.layers[0].get_weights()
    model.compile("sgd", "mse")
    model.fit(RNG.normal(size=(16, 3)), RNG.normal(size=(16, 1)), verbose=0)
    for a, b in zip(before, model.layers[0].get_weights()):
        np.testing.assert_array_equal(a, b)
    model.layers[0].trainable = True
    assert isinstance(model.layers[0].kernel, nnx.Param) and len(model.trainable_weights) == 4


def test_constraints_activity_regularizer_and_compute_loss_override():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, kernel_constraint="non_neg",
                                                                    activity_regularizer="l2"),
                              keras.layers.Dense(1)])
    x, y = RNG.normal(size=(16, 3)).astype("float32"), RNG.normal(size=(16, 1)).astype("float32")
    model(x)
    assert len(model.losses) == 1  # the activity penalty of the last forward pass
    model.compile(keras.optimizers.SGD(0.5), "mse")
    model.fit(x, y, epochs=2, verbose=0)
    assert (model.layers[0].kernel.numpy() >= 0).all()

    class Doubled(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(1)

        def call(self, inputs):
            return self.dense(inputs)

        def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
            return 2.0 * super().compute_loss(x, y, y_pred, sample_weight, training)
    net = Doubled()
    net.compile("sgd", "mse")
    net(x)
    plain = keras.ops.mean(keras.ops.square(net.predict(x, verbose=0) - y))
    np.testing.assert_allclose(net.evaluate(x, y, batch_size=16, verbose=0), 2.0 * float(plain), rtol=1e-5)


def test_dropout_in_a_custom_layer_advances_its_seed_generator_every_step():
    class Noisy(keras.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.seed_generator = keras.random.SeedGenerator(3)

        def call(self, inputs, training=False):
            return keras.random.dropout(inputs, 0.5, seed=self.seed_generator) if training else inputs
    model = keras.Sequential([keras.Input((3,)), Noisy(), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    model.fit(RNG.normal(size=(32, 3)), RNG.normal(size=(32, 1)), batch_size=8, epochs=1, verbose=0)
    assert int(model.layers[0].seed_generator.state[...][1]) == 4


def test_train_step_overrides_are_called_not_ignored():
    class Custom(keras.Sequential):
        def train_step(self, state, data):
            x, y = data
            return {"rows": keras.ops.shape(x)[0] * 1.0}, state  # nothing trains
    model = Custom([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    before = model.get_weights()
    history = model.fit(np.ones((5, 3)), np.ones((5, 1)), batch_size=2, verbose=0)
    assert history.history == {"rows": [1.0]}  # the last batch, with its real size
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)

    class Legacy(keras.Sequential):  # the TensorFlow / torch form is refused with the fix, not ignored
        def train_step(self, data):
            return {}
    with pytest.raises(TypeError, match=r"train_step must take `\(self, state, data\)`"):
        Legacy([keras.Input((3,)), keras.layers.Dense(1)]).compile("sgd", "mse")


def test_integer_inputs_reach_the_model_uncast_under_mixed_precision():
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        model = keras.Sequential([keras.Input((1,), dtype="int32"), keras.layers.Embedding(300, 1)])
        table = np.zeros((300, 1), "float32")
        table[257] = 1.0  # bfloat16 cannot hold 257: a cast id would read row 256
        model.layers[0].set_weights([table])
        ids = np.array([[257]])
        assert float(np.asarray(model(ids)).ravel()[0]) == 1.0
        assert float(model.predict(ids, verbose=0).ravel()[0]) == 1.0
    finally:
        keras.mixed_precision.set_global_policy("float32")


def test_loss_scale_factor_leaves_training_unchanged():
    def run(**kwargs):
        keras.utils.set_random_seed(1)
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
        model.compile(keras.optimizers.SGD(0.1, **kwargs), "mse")
        model.fit(np.ones((8, 3)), np.zeros((8, 2)), batch_size=8, epochs=3, verbose=0)
        return model.get_weights()
    for a, b in zip(run(), run(loss_scale_factor=4.0)):
        np.testing.assert_allclose(a, b, rtol=1e-6)


class _AutoConfigured(keras.layers.Layer):
    """A custom layer without get_config: Keras's automatic config holds its constructor arguments."""

    def __init__(self, units=3, activation=None, **kwargs):
        super().__init__(**kwargs)
        self.units, self.activation = units, activation

    def build(self, shape):
        self.w = self.add_weight(shape=(shape[-1], self.units))

    def call(self, x):
        return keras.ops.matmul(x, self.w)


def test_automatic_config_of_custom_layers_and_models_is_keras_config():
    """Keras's automatic config: the constructor's arguments (defaults included), the base keys, the
    dtype policy as a dict; `name` kept only when the constructor can take it back."""
    class NoKwargs(keras_ref.layers.Layer):
        def __init__(self, units=3, act=None):
            super().__init__()
            self.units = units

    class OursNoKwargs(keras.layers.Layer):
        def __init__(self, units=3, act=None):
            super().__init__()
            self.units = units

    class Bare(keras_ref.layers.Layer):
        pass

    class OursBare(keras.layers.Layer):
        pass

    class RefAuto(keras_ref.layers.Layer):
        def __init__(self, units=3, activation=None, **kwargs):
            super().__init__(**kwargs)
    keras_ref.backend.clear_session()
    keras.backend.clear_session()
    assert _AutoConfigured(5, "relu", name="zz").get_config() == RefAuto(5, "relu", name="zz").get_config()
    assert OursNoKwargs(4).get_config() == NoKwargs(4).get_config()
    assert {k: v for k, v in OursBare().get_config().items() if k != "name"} == \
        {k: v for k, v in Bare().get_config().items() if k != "name"}
    clone = _AutoConfigured.from_config(_AutoConfigured(7).get_config())
    assert clone.units == 7

    class Classifier(keras.Model):
        def __init__(self, classes, hidden, name="classifier", **kwargs):  # positional args: not functional
            super().__init__(name=name, **kwargs)
            self.hidden, self.out = keras.layers.Dense(hidden), keras.layers.Dense(classes)

        def call(self, x):
            return self.out(self.hidden(x))
    model = Classifier(3, 8)
    assert not isinstance(model, keras.models.functional.Functional)
    assert model(np.ones((2, 4), "float32")).shape == (2, 3)
    assert model.get_config()["classes"] == 3 and model.get_config()["hidden"] == 8


def test_custom_layer_without_get_config_saves_and_loads(tmp_path):
    inputs = keras.Input((4,))
    model = keras.Model(inputs, _AutoConfigured(6)(inputs))
    path = tmp_path / "auto.keras"
    model.save(path)
    loaded = keras.models.load_model(path, custom_objects={"_AutoConfigured": _AutoConfigured})
    x = np.random.default_rng(0).normal(size=(3, 4)).astype("float32")
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(model(x)), rtol=1e-6)


def test_a_layer_with_unserializable_arguments_and_no_get_config_says_so():
    class Holder(keras.layers.Layer):
        def __init__(self, initializer=None, **kwargs):
            super().__init__(**kwargs)
            self.initializer = initializer
    with pytest.raises(NotImplementedError, match="must override `get_config\\(\\)`"):
        Holder(keras.initializers.Zeros()).get_config()


def test_fit_and_evaluate_without_targets_when_the_loss_is_add_loss_only():
    """The built-in-methods guide's endpoint-layer pattern: compile without a loss, the model adds
    its own; fit and evaluate take a dict of inputs and no `y` (history equals Keras's)."""
    results = []
    x = {"inputs": np.random.default_rng(0).normal(size=(16, 3)).astype("float32"),
         "targets": np.random.default_rng(1).normal(size=(16, 2)).astype("float32")}
    weights = None
    for lib in (keras_ref, keras):
        class Endpoint(lib.layers.Layer):
            def call(self, targets, logits):
                self.add_loss(lib.ops.mean((targets - logits) ** 2))
                return logits
        inputs, targets = lib.Input((3,), name="inputs"), lib.Input((2,), name="targets")
        model = lib.Model([inputs, targets], Endpoint()(targets, lib.layers.Dense(2)(inputs)))
        weights = weights or [np.full(w.shape, 0.1, "float32") for w in model.get_weights()]
        model.set_weights(weights)
        model.compile(optimizer=lib.optimizers.SGD(0.1))
        history = model.fit(x, batch_size=8, epochs=2, shuffle=False, verbose=0).history
        results.append((history["loss"], model.evaluate(x, batch_size=8, verbose=0)))
    np.testing.assert_allclose(results[1][0], results[0][0], rtol=1e-5)
    np.testing.assert_allclose(results[1][1], results[0][1], rtol=1e-5)
    with pytest.raises(ValueError, match="need targets"):
        model.compile(optimizer="sgd", loss="mse")
        model.fit(x, verbose=0)


@pytest.mark.parametrize("kind", ["add_loss", "activity_regularizer"])
def test_batch_dependent_losses_see_only_the_real_rows_of_a_partial_batch(kind):
    """20 rows in batches of 8 (and evaluate's default 32): the last batch is partial. A loss the
    model computes from the batch must see only its real rows, as in Keras (history, evaluate)."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(20, 3)).astype("float32")
    y = rng.normal(size=(20, 2)).astype("float32")
    results, weights = [], None
    for lib in (keras_ref, keras):
        class Penalty(lib.layers.Layer):
            def call(self, h):
                self.add_loss(lib.ops.mean(lib.ops.square(h - 1.0)))
                return h
        inputs = lib.Input((3,))
        if kind == "add_loss":
            h = Penalty()(lib.layers.Dense(4)(inputs))
        else:
            h = lib.layers.Dense(4, activity_regularizer=lib.regularizers.L2(0.1))(inputs)
        model = lib.Model(inputs, lib.layers.Dense(2)(h))
        weights = weights or [rng.normal(scale=0.5, size=w.shape).astype("float32") for w in model.get_weights()]
        model.set_weights(weights)
        model.compile(optimizer=lib.optimizers.SGD(0.05), loss="mse")
        history = model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0).history
        results.append((history["loss"], model.evaluate(x, y, verbose=0), model.get_weights()))
    (ref_loss, ref_eval, ref_weights), (loss, evaluation, trained) = results
    np.testing.assert_allclose(loss, ref_loss, rtol=1e-5)
    np.testing.assert_allclose(evaluation, ref_eval, rtol=1e-5)
    for ours, theirs in zip(trained, ref_weights):
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)


def test_a_custom_layer_input_spec_is_checked_on_every_call_as_keras():
    messages = []
    for lib in (keras_ref, keras):
        class Linear(lib.layers.Layer):
            def __init__(self, **kwargs):
                super().__init__(**kwargs)
                self.input_spec = lib.layers.InputSpec(ndim=2)

            def build(self, shape):
                self.w = self.add_weight(shape=(shape[-1], 1))

            def call(self, x):
                return x @ self.w
        model = lib.Sequential([lib.Input((3,)), Linear(name="lin")])
        model.compile(optimizer="sgd", loss="mse")
        assert np.isfinite(model.fit(np.ones((4, 3)), np.ones((4, 1)), verbose=0).history["loss"][0])
        for bad in (np.ones((2, 3, 1), "float32"), lib.Input((3, 4))):
            with pytest.raises(ValueError) as caught:
                Linear(name="lin")(bad)
            messages.append(str(caught.value))
    assert messages[2:] == messages[:2]
