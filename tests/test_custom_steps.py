"""Customizing `fit` the Keras 3 JAX way, checked against Keras 3 itself with copied weights.

The patterns of the guides "Customizing what happens in fit() with JAX" and "Writing a training loop
from scratch in JAX" (written here as tests, not copied): `train_step(self, state, data)` with
`stateless_call`, `compute_loss`, `optimizer.stateless_apply` and the metrics' stateless methods;
a model-level `metrics` override; `test_step` / `predict_step`; a jitted loop of the user's own with
`optimizer.build`; two optimizers. Each runs the same code on `keras` and on `kerasish`.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

keras = pytest.importorskip("keras")

import kerasish  # noqa: E402
from kerasish.training import custom_step  # noqa: E402

BOTH = (kerasish, keras)


def _data(n=40, d=5, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)).astype("f4"), rng.normal(size=(n, 1)).astype("f4")


def _twins(make):
    """The model built with kerasish and with Keras, Keras's weights copied from kerasish's."""
    ours, theirs = make(kerasish), make(keras)
    x, _ = _data()
    ours(x[:2])
    theirs(x[:2])
    theirs.set_weights(ours.get_weights())
    return ours, theirs


def _close(ours, theirs, atol=1e-4):
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, atol=atol)


def _guide_model(k, own_metrics=False):
    """The guide's model: a train_step built from `stateless_call` and `stateless_apply`, looping
    over `self.metrics` (or, with `own_metrics`, its own loss tracker and MAE metric)."""
    class CustomModel(k.Model):
        def __init__(self):
            super().__init__()
            self.hidden, self.out = k.layers.Dense(4, activation="relu"), k.layers.Dense(1)
            self.seen = []
            if own_metrics:
                self.loss_tracker = k.metrics.Mean(name="loss")
                self.mae_metric = k.metrics.MeanAbsoluteError(name="mae")
                self.loss_fn = k.losses.MeanSquaredError()

        def call(self, x, training=None):
            return self.out(self.hidden(x))

        def loss_and_updates(self, trainable, non_trainable, x, y, training=False):
            y_pred, non_trainable = self.stateless_call(trainable, non_trainable, x, training=training)
            loss = self.loss_fn(y, y_pred) if own_metrics else self.compute_loss(x, y, y_pred)
            return loss, (y_pred, non_trainable)

        def train_step(self, state, data):
            trainable, non_trainable, optimizer_vars, metric_vars = state
            x, y = data
            self.seen.append(x.shape[0])
            grad_fn = jax.value_and_grad(self.loss_and_updates, has_aux=True)
            (loss, (y_pred, non_trainable)), grads = grad_fn(trainable, non_trainable, x, y, training=True)
            trainable, optimizer_vars = self.optimizer.stateless_apply(optimizer_vars, grads, trainable)
            new_vars, logs = [], {}
            for metric in self.metrics:
                mine = metric_vars[len(new_vars):len(new_vars) + len(metric.variables)]
                if metric.name == "loss":
                    mine = metric.stateless_update_state(mine, loss)
                else:
                    mine = metric.stateless_update_state(mine, y, y_pred)
                result = metric.stateless_result(mine)
                # The guide keeps only the last result; own_metrics names every metric.
                logs = {**logs, metric.name: result} if own_metrics else result
                new_vars += mine
            return logs, (trainable, non_trainable, optimizer_vars, new_vars)

        if own_metrics:
            @property
            def metrics(self):
                return [self.loss_tracker, self.mae_metric]
    return CustomModel()


def test_guide_train_step_matches_keras_in_chunks_and_on_the_partial_batch():
    x, y = _data(88)  # 5 full batches of 16 and one of 8
    ours, theirs = _twins(_guide_model)
    for model, k in zip((ours, theirs), BOTH):
        model.compile(optimizer=k.optimizers.Adam(0.01), loss="mse", metrics=["mae"], steps_per_execution=2)
    got = ours.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0).history
    expected = theirs.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0).history
    assert list(got) == list(expected) == ["mae"]  # the guide's logs: the compiled metrics' dict
    np.testing.assert_allclose(got["mae"], expected["mae"], rtol=1e-5)
    _close(ours, theirs)
    # Traced for a chunk of 2 full batches, one full batch, and the real 8 rows: never padded.
    assert sorted(set(ours.seen)) == [8, 16] and custom_step.runner_for(ours, ours._engine).trace_counts["train"] == 3
    assert [m.name for m in ours.metrics] == [m.name for m in theirs.metrics] == ["loss", "compile_metrics"]
    np.testing.assert_allclose(float(ours.metrics[1].result()["mae"]), float(theirs.metrics[1].result()["mae"]),
                               rtol=1e-5)
    np.testing.assert_allclose(ours.evaluate(x, y, verbose=0), theirs.evaluate(x, y, verbose=0), rtol=1e-5)
    np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0), rtol=1e-5, atol=1e-6)


def test_guide_model_with_its_own_metrics_matches_keras():
    x, y = _data()
    ours, theirs = _twins(lambda k: _guide_model(k, own_metrics=True))
    for model, k in zip((ours, theirs), BOTH):
        model.compile(optimizer=k.optimizers.Adam(0.01))  # no loss, no metrics: the step does it all
    seen = []

    class Keys(kerasish.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(sorted(logs))

    got = ours.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0, callbacks=[Keys()]).history
    expected = theirs.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0).history
    assert sorted(got) == sorted(expected) == ["loss", "mae"] and seen[-1] == ["loss", "mae"]
    for key in expected:
        np.testing.assert_allclose(got[key], expected[key], rtol=1e-5)
    _close(ours, theirs)
    # Metrics are reset each epoch and hold the last epoch's values afterwards.
    assert float(ours.loss_tracker.result()) == pytest.approx(got["loss"][-1], rel=1e-6)
    assert len(ours.metrics_variables) == 4


def _dense_model(k):
    """A one-Dense model class that records what its steps see in `seen`."""
    class DenseModel(k.Model):
        def __init__(self):
            super().__init__()
            self.dense = k.layers.Dense(1)
            self.seen = []

        def call(self, x, training=None):
            return self.dense(x)
    return DenseModel


def _stepping_model(k):
    """A model with its own test_step (every metric's result by name) and predict_step (a dict)."""
    class M(_dense_model(k)):
        def test_step(self, state, data):
            trainable, non_trainable, metric_vars = state
            x, y = data
            self.seen.append(("test", x.shape[0]))
            y_pred, non_trainable = self.stateless_call(trainable, non_trainable, x, training=False)
            loss = self.compute_loss(x, y, y_pred)
            new_vars, logs = [], {}
            for metric in self.metrics:
                mine = metric_vars[len(new_vars):len(new_vars) + len(metric.variables)]
                args = (loss,) if metric.name == "loss" else (y, y_pred)
                mine = metric.stateless_update_state(mine, *args)
                result = metric.stateless_result(mine)
                logs.update(result if isinstance(result, dict) else {metric.name: result})
                new_vars += mine
            return logs, (trainable, non_trainable, new_vars)

        def predict_step(self, state, data):
            self.seen.append(("predict", data.shape[0]))
            out, non_trainable = self.stateless_call(state[0], state[1], data, training=False)
            return {"double": 2 * out, "same": out}, non_trainable
    return M()


def test_test_step_and_predict_step_overrides_match_keras():
    x, y = _data()
    ours, theirs = _twins(_stepping_model)
    for model, k in zip((ours, theirs), BOTH):
        model.compile(k.optimizers.SGD(0.05), "mse", metrics=["mae"])
    logged = []

    class Keys(kerasish.callbacks.Callback):
        def on_test_batch_end(self, batch, logs=None):
            logged.append(sorted(logs))

    got = ours.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0, validation_data=(x[:10], y[:10]),
                   callbacks=[Keys()]).history
    expected = theirs.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0,
                          validation_data=(x[:10], y[:10])).history
    assert sorted(got) == sorted(expected) and logged[0] == ["loss", "mae"]
    for key in expected:
        np.testing.assert_allclose(got[key], expected[key], rtol=1e-5)
    for kwargs in ({}, {"return_dict": True}):
        ours_logs = ours.evaluate(x, y, batch_size=16, verbose=0, **kwargs)
        theirs_logs = theirs.evaluate(x, y, batch_size=16, verbose=0, **kwargs)
        if kwargs:
            assert sorted(ours_logs) == sorted(theirs_logs)
            ours_logs, theirs_logs = [ours_logs[k] for k in sorted(ours_logs)], [theirs_logs[k] for k in sorted(ours_logs)]
        np.testing.assert_allclose(ours_logs, theirs_logs, rtol=1e-5)
    got, expected = ours.predict(x, batch_size=16, verbose=0), theirs.predict(x, batch_size=16, verbose=0)
    assert sorted(got) == ["double", "same"]
    for key in got:
        np.testing.assert_allclose(got[key], expected[key], rtol=1e-5)
    assert ours.seen == theirs.seen  # the same traces, the last batches with their real sizes


def test_data_forms_and_super_train_step_match_keras():
    """`data` is what Keras passes (x alone, (x, y), (x, y, sample_weight)); `super().train_step`
    is Keras's default step."""
    def make(k):
        class M(_dense_model(k)):
            def train_step(self, state, data):
                self.seen.append(len(data) if isinstance(data, tuple) else "x alone")
                x, y, sample_weight = k.utils.unpack_x_y_sample_weight(data)
                if y is None:  # nothing to fit: the step only reports the batch
                    return {"rows": jnp.float32(x.shape[0])}, state
                logs, state = super().train_step(state, data)
                return {**logs, "rows": jnp.float32(x.shape[0])}, state
        return M()
    x, y = _data()
    weights = np.linspace(0.5, 1.5, len(x)).astype("f4")
    ours, theirs = _twins(make)
    results = []
    for model, k in zip((ours, theirs), BOTH):
        model.compile(k.optimizers.SGD(0.05))  # (Keras cannot build compiled metrics without targets)
        no_y = model.fit(x, batch_size=16, verbose=0).history
        model.compile(k.optimizers.SGD(0.05), "mse", metrics=["mae"])
        weighted = model.fit(x, y, sample_weight=weights, batch_size=16, epochs=2, shuffle=False, verbose=0).history
        on_batch = model.train_on_batch(x[:8], y[:8])  # Keras passes (x, y, None) here
        results.append((no_y, weighted, model.seen + [on_batch]))
    (no_y, weighted, forms), (no_y_k, weighted_k, forms_k) = results
    np.testing.assert_allclose(forms.pop(), forms_k.pop(), rtol=1e-5)  # [loss, mae, rows]
    assert no_y == no_y_k == {"rows": [8.0]} and forms == forms_k
    assert sorted(weighted) == sorted(weighted_k) == ["loss", "mae", "rows"]
    for key in weighted:
        np.testing.assert_allclose(weighted[key], weighted_k[key], rtol=1e-5)
    _close(ours, theirs)


def test_unpack_x_y_sample_weight_is_keras_s():
    x, y, w = np.ones((2, 1)), np.zeros((2, 1)), np.ones(2)
    for data in (x, (x,), (x, y), [x, y, w], (x, None, w)):
        got = kerasish.utils.unpack_x_y_sample_weight(data)
        expected = keras.utils.unpack_x_y_sample_weight(data)
        assert [v is None for v in got] == [v is None for v in expected]
    with pytest.raises(ValueError, match="Data is expected to be in format"):
        kerasish.utils.unpack_x_y_sample_weight((x, y, w, w))
    assert kerasish.utils.pack_x_y_sample_weight(x, y) == (x, y)


def _scratch_model(k):
    class ActivityRegularization(k.layers.Layer):
        def call(self, inputs):
            self.add_loss(1e-2 * jnp.sum(inputs))
            return inputs
    return k.Sequential([k.Input((5,)), k.layers.Dense(8, activation="relu"), ActivityRegularization(),
                         k.layers.BatchNormalization(), k.layers.Dense(3)])


def _scratch_loop(k, model, variables_in_state: bool):
    """The guide's loop: optimizer.build, stateless_call(return_losses=True), a metric's stateless API,
    jax.jit around the user's own step, and the final values assigned back."""
    loss_fn = k.losses.CategoricalCrossentropy(from_logits=True)
    optimizer = k.optimizers.Adam(learning_rate=1e-2)
    accuracy = k.metrics.CategoricalAccuracy()

    def loss_and_updates(trainable, non_trainable, metric_vars, x, y):
        y_pred, non_trainable, losses = model.stateless_call(trainable, non_trainable, x, return_losses=True,
                                                             training=True)
        loss = loss_fn(y, y_pred) + sum(losses)
        return loss, (non_trainable, accuracy.stateless_update_state(metric_vars, y, y_pred))

    @jax.jit
    def train_step(state, data):
        trainable, non_trainable, optimizer_vars, metric_vars = state
        (loss, (non_trainable, metric_vars)), grads = jax.value_and_grad(loss_and_updates, has_aux=True)(
            trainable, non_trainable, metric_vars, *data)
        trainable, optimizer_vars = optimizer.stateless_apply(optimizer_vars, grads, trainable)
        return loss, (trainable, non_trainable, optimizer_vars, metric_vars)

    optimizer.build(model.trainable_variables)
    parts = (model.trainable_variables, model.non_trainable_variables, optimizer.variables, accuracy.variables)
    state = parts if variables_in_state else tuple([v.value for v in part] for part in parts)
    rng = np.random.default_rng(3)
    x, labels = rng.normal(size=(48, 5)).astype("f4"), rng.integers(0, 3, 48)
    y = np.eye(3, dtype="f4")[labels]
    losses = []
    for start in range(0, 48, 16):
        loss, state = train_step(state, (x[start:start + 16], y[start:start + 16]))
        losses.append(float(loss))
    for variables, values in zip(parts, state):
        for variable, value in zip(variables, values):
            variable.assign(value)
    return losses, float(accuracy.result())


def test_training_loop_from_scratch_matches_keras():
    ours, theirs = _twins(_scratch_model)
    before = ours.get_weights()
    # The guide puts the variables themselves in the first state (kerasish takes them; Keras 3.15 on
    # this JAX needs their values).
    got = _scratch_loop(kerasish, ours, variables_in_state=True)
    expected = _scratch_loop(keras, theirs, variables_in_state=False)
    np.testing.assert_allclose(got[0], expected[0], rtol=1e-5)
    assert got[1] == pytest.approx(expected[1])
    _close(ours, theirs)
    assert not np.allclose(before[0], ours.get_weights()[0])


def test_stateless_call_leaves_the_model_alone_and_checks_its_arguments():
    ours, theirs = _twins(_scratch_model)
    x = _data(6)[0]
    results = []
    for model in (ours, theirs):
        trainable = [v.value for v in model.trainable_variables]
        non_trainable = [v.value for v in model.non_trainable_variables]
        results.append(model.stateless_call(trainable, non_trainable, x, return_losses=True, training=True))
    (out, rest, losses), (out_k, rest_k, losses_k) = results
    np.testing.assert_allclose(out, out_k, rtol=1e-5, atol=1e-6)
    for a, b in zip(rest + losses, rest_k + losses_k):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert not np.allclose(rest[0], ours.non_trainable_variables[0].numpy())  # moving mean: new, not assigned
    with pytest.raises(ValueError, match="Argument `trainable_variables` must be a list of tensors"):
        ours.stateless_call([], rest, x)
    with pytest.raises(ValueError, match="must be built"):
        _guide_model(kerasish).stateless_call([], [], x)


def _gan_round(k, gen_weights, disc_weights):
    """Two sub-models, two optimizers, one jitted step: the discriminator, then the generator."""
    gen = k.Sequential([k.Input((3,)), k.layers.Dense(5)])
    disc = k.Sequential([k.Input((5,)), k.layers.Dense(1)])
    gen.set_weights(gen_weights)
    disc.set_weights(disc_weights)
    g_opt, d_opt = k.optimizers.Adam(1e-2), k.optimizers.SGD(0.1, momentum=0.5)
    g_opt.build(gen.trainable_variables)
    d_opt.build(disc.trainable_variables)
    bce = k.losses.BinaryCrossentropy(from_logits=True)

    def d_loss(d_vars, d_rest, g_vars, g_rest, z, real):
        fake, _ = gen.stateless_call(g_vars, g_rest, z)
        logits, d_rest = disc.stateless_call(d_vars, d_rest, jnp.concatenate([fake, real]))
        labels = jnp.concatenate([jnp.zeros((len(z), 1)), jnp.ones((len(real), 1))])
        return bce(labels, logits), d_rest

    def g_loss(g_vars, g_rest, d_vars, d_rest, z):
        fake, g_rest = gen.stateless_call(g_vars, g_rest, z)
        logits, _ = disc.stateless_call(d_vars, d_rest, fake)
        return bce(jnp.ones((len(z), 1)), logits), g_rest

    @jax.jit
    def step(state, z, real):
        (g_vars, g_rest, g_opt_vars), (d_vars, d_rest, d_opt_vars) = state
        (_, d_rest), grads = jax.value_and_grad(d_loss, has_aux=True)(d_vars, d_rest, g_vars, g_rest, z, real)
        d_vars, d_opt_vars = d_opt.stateless_apply(d_opt_vars, grads, d_vars)
        (_, g_rest), grads = jax.value_and_grad(g_loss, has_aux=True)(g_vars, g_rest, d_vars, d_rest, z)
        g_vars, g_opt_vars = g_opt.stateless_apply(g_opt_vars, grads, g_vars)
        return (g_vars, g_rest, g_opt_vars), (d_vars, d_rest, d_opt_vars)

    values = lambda variables: [v.value for v in variables]  # noqa: E731
    state = ((values(gen.trainable_variables), values(gen.non_trainable_variables), values(g_opt.variables)),
             (values(disc.trainable_variables), values(disc.non_trainable_variables), values(d_opt.variables)))
    rng = np.random.default_rng(0)
    for _ in range(3):
        state = step(state, rng.normal(size=(8, 3)).astype("f4"), rng.normal(size=(8, 5)).astype("f4"))
    return [np.asarray(v) for part in state for v in part[0]]


def test_two_optimizer_gan_step_matches_keras():
    gen = kerasish.Sequential([kerasish.Input((3,)), kerasish.layers.Dense(5)])
    disc = kerasish.Sequential([kerasish.Input((5,)), kerasish.layers.Dense(1)])
    got = _gan_round(kerasish, gen.get_weights(), disc.get_weights())
    expected = _gan_round(keras, gen.get_weights(), disc.get_weights())
    for a, b in zip(got, expected):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_step_errors_say_what_is_expected():
    class WrongState(_dense_model(kerasish)):
        def train_step(self, state, data):
            return {}, state[:2]
    model = WrongState()
    model.compile("sgd", "mse")
    x, y = _data(8)
    with pytest.raises(ValueError, match="must return `\\(logs, state\\)` with a state of 4 lists"):
        model.fit(x, y, verbose=0)

    class NoCall(kerasish.Model):  # a GAN-like container: Keras cannot build it from data either
        def __init__(self):
            super().__init__()
            self.inner = kerasish.Sequential([kerasish.Input((5,)), kerasish.layers.Dense(1)])

        def train_step(self, state, data):
            return {}, state
    model = NoCall()
    model.compile("sgd")
    with pytest.raises(RuntimeError, match="Unable to automatically build the model"):
        model.fit(x, verbose=0)
    model.built = True  # what a Keras user does for such a model
    assert model.fit(x, verbose=0).history == {}
