"""Recurrent layers against Keras 3 with copied weights, beyond the shared contract: explicit masks,
`return_state`, `go_backwards`, `initial_state`, Bidirectional merge modes, stacked and custom cells,
stateful layers, dropout only in training, functional seq2seq wiring, and a few SGD steps of `fit`."""

import numpy as np
import pytest

import keras as keras_ref
import kerasish

TOL = 1e-5
X = np.random.default_rng(0).normal(size=(3, 6, 4)).astype("float32")
MASK = np.array([[1, 1, 1, 1, 0, 0], [0, 0, 1, 1, 1, 1], [1, 0, 1, 0, 1, 1]], bool)  # right, left, holes


def _pair(class_name, **kwargs):
    return getattr(keras_ref.layers, class_name)(**kwargs), getattr(kerasish.layers, class_name)(**kwargs)


def _copy(ref, ours, x=X, seed=1, **call):
    """Builds both on `x`, gives Keras's layer random weights and copies them into ours."""
    ref(x, **call)
    ours(x, **call)
    rng = np.random.default_rng(seed)
    ref.set_weights([rng.normal(scale=0.5, size=w.shape).astype("float32") for w in ref.get_weights()])
    assert [w.name for w in ours.weights] == [w.name for w in ref.weights]
    ours.set_weights(ref.get_weights())


def _same(ours, ref, tol=TOL):
    if isinstance(ref, (list, tuple)):
        assert isinstance(ours, (list, tuple)) and len(ours) == len(ref), (type(ours), type(ref))
        for a, b in zip(ours, ref):
            _same(a, b, tol)
        return
    np.testing.assert_allclose(np.asarray(ours), np.asarray(ref), rtol=tol, atol=tol)


@pytest.mark.parametrize("class_name", ["LSTM", "GRU", "SimpleRNN"])
@pytest.mark.parametrize("options", [dict(), dict(return_sequences=True), dict(go_backwards=True),
                                     dict(return_sequences=True, go_backwards=True),
                                     dict(return_sequences=True, zero_output_for_mask=True),
                                     dict(zero_output_for_mask=True, go_backwards=True),
                                     dict(return_sequences=True, unroll=True)],
                         ids=["last", "sequences", "backwards", "sequences-backwards", "zero-output",
                              "zero-output-last-backwards", "unrolled"])
def test_mask_matches_keras(class_name, options):
    ref, ours = _pair(class_name, units=3, **options)
    _copy(ref, ours)
    _same(ours(X, mask=MASK), ref(X, mask=MASK))
    _same(ours(X), ref(X))


@pytest.mark.parametrize("class_name,kwargs", [("LSTM", {}), ("GRU", {}), ("GRU", dict(reset_after=False)),
                                               ("SimpleRNN", {})])
def test_return_state_and_initial_state(class_name, kwargs):
    ref, ours = _pair(class_name, units=3, return_state=True, return_sequences=True, **kwargs)
    _copy(ref, ours)
    expected, got = ref(X, mask=MASK), ours(X, mask=MASK)
    assert isinstance(got, tuple) and len(got) == len(expected)
    _same(got, expected)
    states = [np.random.default_rng(i).normal(size=(3, 3)).astype("float32") for i in range(len(expected) - 1)]
    _same(ours(X, initial_state=states), ref(X, initial_state=states))
    single = states[0] if len(states) == 1 else states
    _same(ours(X, initial_state=single, mask=MASK), ref(X, initial_state=single, mask=MASK))


def test_compute_mask_as_keras():
    for kwargs in (dict(), dict(return_sequences=True), dict(return_state=True),
                   dict(return_sequences=True, return_state=True)):
        ref, ours = _pair("LSTM", units=2, **kwargs)
        expected = ref.compute_mask(X, MASK)
        got = ours.compute_mask(X, MASK)
        if isinstance(expected, list):
            assert isinstance(got, list) and len(got) == len(expected)
            assert all((a is None) == (b is None) for a, b in zip(got, expected))
        else:
            assert (got is None) == (expected is None)
    assert kerasish.layers.LSTM(2).supports_masking


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave", None])
@pytest.mark.parametrize("options", [dict(), dict(return_sequences=True), dict(return_state=True),
                                     dict(return_sequences=True, return_state=True)],
                         ids=["last", "sequences", "state", "sequences-state"])
def test_bidirectional_merge_modes_with_masks(merge_mode, options):
    ref = keras_ref.layers.Bidirectional(keras_ref.layers.LSTM(3, **options), merge_mode=merge_mode)
    ours = kerasish.layers.Bidirectional(kerasish.layers.LSTM(3, **options), merge_mode=merge_mode)
    _copy(ref, ours)
    _same(ours(X), ref(X))
    _same(ours(X, mask=MASK), ref(X, mask=MASK))
    assert ours.compute_output_shape((None, 6, 4)) == ref.compute_output_shape((None, 6, 4))
    if options.get("return_state"):
        states = [np.random.default_rng(i).normal(size=(3, 3)).astype("float32") for i in range(4)]
        _same(ours(X, initial_state=states), ref(X, initial_state=states))


def test_bidirectional_backward_layer_and_names():
    ref = keras_ref.layers.Bidirectional(keras_ref.layers.GRU(3, return_sequences=True, name="g"),
                                         backward_layer=keras_ref.layers.SimpleRNN(3, return_sequences=True,
                                                                                   go_backwards=True, name="s"))
    ours = kerasish.layers.Bidirectional(kerasish.layers.GRU(3, return_sequences=True, name="g"),
                                         backward_layer=kerasish.layers.SimpleRNN(3, return_sequences=True,
                                                                                  go_backwards=True, name="s"))
    _copy(ref, ours)
    assert ours.forward_layer.name == "forward_g" and ours.backward_layer.name == "s"
    _same(ours(X, mask=MASK), ref(X, mask=MASK))
    with pytest.raises(ValueError, match="go_backwards"):
        kerasish.layers.Bidirectional(kerasish.layers.GRU(3), backward_layer=kerasish.layers.GRU(3))
    with pytest.raises(ValueError, match="merge mode"):
        kerasish.layers.Bidirectional(kerasish.layers.GRU(3), merge_mode="max")


def test_stacked_cells_return_state_as_keras():
    def make(lib):
        cells = [lib.layers.LSTMCell(4), lib.layers.GRUCell(3), lib.layers.SimpleRNNCell(2)]
        return lib.layers.RNN(cells, return_sequences=True, return_state=True)
    ref, ours = make(keras_ref), make(kerasish)
    _copy(ref, ours)
    expected, got = ref(X, mask=MASK), ours(X, mask=MASK)
    _same(got[0], expected[0])
    _same(got[1:], expected[1:])
    assert ours.compute_output_shape((None, 6, 4)) == ref.compute_output_shape((None, 6, 4))


def _minimal_cell(lib):
    class MinimalRNNCell(lib.layers.Layer):
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.state_size = units

        def build(self, input_shape):
            self.kernel = self.add_weight(shape=(input_shape[-1], self.units), initializer="uniform", name="kernel")
            self.recurrent_kernel = self.add_weight(shape=(self.units, self.units), initializer="uniform",
                                                    name="recurrent_kernel")

        def call(self, inputs, states):
            output = lib.ops.matmul(inputs, self.kernel) + lib.ops.matmul(states[0], self.recurrent_kernel)
            return lib.ops.tanh(output), [lib.ops.tanh(output)]
    return MinimalRNNCell


@pytest.mark.parametrize("options", [dict(), dict(return_sequences=True, go_backwards=True)])
def test_custom_cell_in_rnn(options):
    ref = keras_ref.layers.RNN(_minimal_cell(keras_ref)(3), **options)
    ours = kerasish.layers.RNN(_minimal_cell(kerasish)(3), **options)
    _copy(ref, ours)
    _same(ours(X), ref(X))
    _same(ours(X, mask=MASK), ref(X, mask=MASK))
    stacked_ref = keras_ref.layers.RNN([_minimal_cell(keras_ref)(3), keras_ref.layers.LSTMCell(2)], **options)
    stacked = kerasish.layers.RNN([_minimal_cell(kerasish)(3), kerasish.layers.LSTMCell(2)], **options)
    _copy(stacked_ref, stacked)
    _same(stacked(X), stacked_ref(X))  # with a mask Keras fails here (it fills with the first cell's state)
    assert np.all(np.isfinite(np.asarray(stacked(X, mask=MASK))))


def test_cells_called_one_step():
    for name in ("LSTMCell", "GRUCell", "SimpleRNNCell"):
        ref, ours = _pair(name, units=3)
        step = X[:, 0]
        sizes = ref.state_size if isinstance(ref.state_size, list) else [ref.state_size]
        states = [np.random.default_rng(i).normal(size=(3, s)).astype("float32") for i, s in enumerate(sizes)]
        _copy(ref, ours, x=step, states=states)
        _same(ours(step, states), ref(step, states))


def test_stateful_carries_state_between_calls():
    ref = keras_ref.layers.LSTM(3, stateful=True, return_sequences=True)
    ours = kerasish.layers.LSTM(3, stateful=True, return_sequences=True)
    _copy(ref, ours)  # the calls in _copy move the states: start both from zeros
    ref.reset_state()
    ours.reset_state()
    for chunk in (X[:, :3], X[:, 3:]):
        _same(ours(chunk), ref(chunk))
    assert len(ours.states) == 2 and not ours.weights[-1].name == "rnn_state"
    ours.reset_state()
    ref.reset_state()
    _same(ours(X), ref(X))
    with pytest.raises(ValueError, match="batch size"):
        ours(X[:2])
    with pytest.raises(ValueError, match="static"):
        kerasish.Sequential([kerasish.Input((6, 4)), kerasish.layers.LSTM(2, stateful=True)])


def test_dropout_only_in_training():
    layer = kerasish.layers.LSTM(3, dropout=0.5, recurrent_dropout=0.5, return_sequences=True, seed=1)
    inference = np.asarray(layer(X))
    np.testing.assert_array_equal(np.asarray(layer(X, training=False)), inference)
    a, b = np.asarray(layer(X, training=True)), np.asarray(layer(X, training=True))
    assert not np.allclose(a, inference) and not np.allclose(a, b)


def test_errors_name_the_argument():
    with pytest.raises(ValueError, match="units"):
        kerasish.layers.LSTM(0)
    with pytest.raises(ValueError, match="use_cudnn"):
        kerasish.layers.GRU(2, use_cudnn="yes")
    with pytest.raises(ValueError, match="ndim=3"):
        kerasish.layers.LSTM(2)(np.ones((2, 3), "float32"))
    with pytest.raises(ValueError, match="state_size"):
        kerasish.layers.RNN(kerasish.layers.Dense(2))
    with pytest.raises(ValueError, match="TimeDistributed"):
        kerasish.layers.TimeDistributed(kerasish.layers.Dense(2))(np.ones((2, 3), "float32"))


def test_keras_lstm_config_round_trips():
    ref = keras_ref.layers.LSTM(5, return_sequences=True, dropout=0.1, recurrent_dropout=0.2, seed=3,
                                unit_forget_bias=False, kernel_regularizer="l2", go_backwards=True)
    ours = kerasish.layers.LSTM.from_config(ref.get_config())
    back = keras_ref.layers.LSTM.from_config(ours.get_config())
    assert ours.get_config().keys() == ref.get_config().keys()
    for key, value in ref.get_config().items():
        if key not in ("name", "kernel_regularizer", "dtype"):
            assert back.get_config()[key] == value, key
    wrapped = keras_ref.layers.Bidirectional(keras_ref.layers.GRU(2), merge_mode="sum")
    mine = kerasish.layers.deserialize({"class_name": "Bidirectional", "config": wrapped.get_config()})
    assert mine.merge_mode == "sum" and mine.backward_layer.go_backwards


def test_functional_seq2seq_wiring_matches_keras():
    def build(lib):
        encoder_inputs = lib.Input((None, 4))
        _, h, c = lib.layers.LSTM(5, return_state=True, name="enc")(encoder_inputs)
        decoder_inputs = lib.Input((None, 3))
        seq = lib.layers.LSTM(5, return_sequences=True, name="dec")(decoder_inputs, initial_state=[h, c])
        out = lib.layers.TimeDistributed(lib.layers.Dense(2, name="d"))(seq)
        return lib.Model([encoder_inputs, decoder_inputs], out)
    ref, ours = build(keras_ref), build(kerasish)
    rng = np.random.default_rng(0)
    ref.set_weights([rng.normal(scale=0.5, size=w.shape).astype("float32") for w in ref.get_weights()])
    ours.set_weights(ref.get_weights())
    decoder = rng.normal(size=(3, 5, 3)).astype("float32")
    _same(ours.predict([X, decoder], verbose=0), ref.predict([X, decoder], verbose=0))


def test_fit_embedding_lstm_dense_matches_keras_loss():
    rng = np.random.default_rng(0)
    tokens = rng.integers(0, 50, (16, 12)).astype("int32")
    labels = rng.integers(0, 2, (16, 1)).astype("float32")

    def build(lib):
        model = lib.Sequential([lib.Input((12,), dtype="int32"), lib.layers.Embedding(50, 8),
                                lib.layers.LSTM(6), lib.layers.Dense(1, activation="sigmoid")])
        model.compile(lib.optimizers.SGD(0.5), "binary_crossentropy")
        return model
    ref, ours = build(keras_ref), build(kerasish)
    ref.set_weights([rng.normal(scale=0.3, size=w.shape).astype("float32") for w in ref.get_weights()])
    ours.set_weights(ref.get_weights())
    expected = ref.fit(tokens, labels, batch_size=8, epochs=3, shuffle=False, verbose=0).history["loss"]
    got = ours.fit(tokens, labels, batch_size=8, epochs=3, shuffle=False, verbose=0).history["loss"]
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
    for a, b in zip(ours.get_weights(), ref.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("options", [dict(), dict(return_sequences=True, go_backwards=True),
                                     dict(return_sequences=True, zero_output_for_mask=True)],
                         ids=["last", "sequences-backwards", "zero-output"])
def test_lstm_gradients_with_mask_match_keras(options):
    """The LSTM's hand-written backward pass (kerasish.layers._lstm_scan) against Keras's autodiff."""
    import jax
    import jax.numpy as jnp
    from flax import nnx
    ref, ours = _pair("LSTM", units=3, **options)
    _copy(ref, ours)
    probe = np.random.default_rng(5).normal(size=np.shape(ref(X))).astype("float32")

    frozen = [v.value for v in ref.non_trainable_variables]  # the seed generator's state

    def keras_loss(weights, x):
        return jnp.sum(ref.stateless_call(weights, frozen, x, mask=MASK)[0] * probe)
    expected = jax.grad(keras_loss, argnums=(0, 1))([v.value for v in ref.trainable_variables], jnp.asarray(X))
    graphdef, params, rest = nnx.split(ours, nnx.Param, ...)

    def our_loss(p, x):
        return jnp.sum(nnx.merge(graphdef, p, rest, copy=True)(x, mask=MASK) * probe)
    grads, x_grad = jax.grad(our_loss, argnums=(0, 1))(params, jnp.asarray(X))
    by_path = dict(nnx.to_flat_state(grads))
    paths = {id(node): path for path, node in nnx.iter_graph(ours)}
    for weight, g in zip(ours.trainable_weights, expected[0]):
        _same(by_path[paths[id(weight)]].get_value(), g, 1e-4)
    _same(x_grad, expected[1], 1e-4)


def test_masks_propagate_through_recurrent_layers_as_keras():
    """Embedding(mask_zero) -> Bidirectional(LSTM) -> TimeDistributed(Dense) -> GRU, masks read from
    the tensors (no explicit `mask=`), against Keras 3; the sequence outputs carry Keras's mask."""
    tokens = np.array([[5, 3, 0, 0], [1, 2, 3, 4], [7, 0, 0, 0]], "int32")

    def build(lib):
        inputs = lib.Input((4,), dtype="int32")
        x = lib.layers.Embedding(10, 3, mask_zero=True)(inputs)
        x = lib.layers.Bidirectional(lib.layers.LSTM(4, return_sequences=True))(x)
        x = lib.layers.TimeDistributed(lib.layers.Dense(2))(x)
        return lib.Model(inputs, [lib.layers.GRU(3)(x), x])
    ref, ours = build(keras_ref), build(kerasish)
    rng = np.random.default_rng(0)
    ref.set_weights([rng.normal(size=w.shape).astype("float32") for w in ref.get_weights()])
    ours.set_weights(ref.get_weights())
    expected, got = ref(tokens), ours(tokens)
    _same(got, expected)
    np.testing.assert_array_equal(np.asarray(got[1]._keras_mask), np.asarray(expected[1]._keras_mask))
    sequence = kerasish.Sequential([kerasish.Input((4,), dtype="int32"),
                                    kerasish.layers.Embedding(10, 3, mask_zero=True),
                                    kerasish.layers.LSTM(2, return_sequences=True)])
    np.testing.assert_array_equal(np.asarray(sequence(tokens)._keras_mask), tokens != 0)


def test_dropout_lstm_trains_in_compiled_fit():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(32, 5, 3)).astype("float32"), rng.normal(size=(32, 2)).astype("float32")
    model = kerasish.Sequential([kerasish.Input((5, 3)), kerasish.layers.LSTM(4, dropout=0.3, recurrent_dropout=0.3),
                                 kerasish.layers.Dense(2)])
    model.compile("sgd", "mse")
    seeds = [np.asarray(v) for v in model.non_trainable_variables]
    history = model.fit(x, y, batch_size=8, epochs=2, verbose=0).history["loss"]
    assert np.all(np.isfinite(history))
    assert any(not np.array_equal(a, np.asarray(b)) for a, b in zip(seeds, model.non_trainable_variables))
    np.testing.assert_array_equal(model.predict(x, verbose=0), model.predict(x, verbose=0))


def test_keras_files_both_ways(tmp_path):
    """A model of recurrent layers saved by kerasish loads in Keras 3 with the same predictions, and back."""
    tokens = np.random.default_rng(0).integers(1, 20, (4, 6)).astype("int32")
    layers = kerasish.layers
    model = kerasish.Sequential([kerasish.Input((6,), dtype="int32"), layers.Embedding(20, 4, mask_zero=True),
                                 layers.Bidirectional(layers.GRU(3, return_sequences=True)),
                                 layers.TimeDistributed(layers.Dense(2)),
                                 layers.RNN([layers.LSTMCell(3), layers.SimpleRNNCell(2)]), layers.Dense(1)])
    model.save(tmp_path / "ours.keras")
    theirs = keras_ref.models.load_model(tmp_path / "ours.keras")
    _same(theirs.predict(tokens, verbose=0), model.predict(tokens, verbose=0))
    theirs.save(tmp_path / "theirs.keras")
    back = kerasish.models.load_model(tmp_path / "theirs.keras")
    _same(back.predict(tokens, verbose=0), theirs.predict(tokens, verbose=0))


def test_stateful_lstm_trains_with_fit():
    """A stateful layer fixes the batch size: fit (and its check for batch-dependent losses) runs
    at that size."""
    model = kerasish.Sequential([kerasish.Input(batch_shape=(4, 5, 3)), kerasish.layers.LSTM(2, stateful=True),
                                 kerasish.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.random.default_rng(0).normal(size=(8, 5, 3)).astype("float32")
    history = model.fit(x, np.zeros((8, 1), "float32"), batch_size=4, epochs=2, shuffle=False, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))


def test_a_custom_cell_in_a_saved_model_is_rebuilt_by_its_build(tmp_path):
    """Keras rebuilds a layer from its build_config by calling `build(input_shape)`; a custom cell's
    `call(inputs, states)` cannot be traced on the input alone."""
    @kerasish.saving.register_keras_serializable(package="tests")
    class MinimalCell(kerasish.layers.Layer):
        def __init__(self, units=3, **kwargs):
            super().__init__(**kwargs)
            self.units, self.state_size = units, units

        def build(self, input_shape):
            self.kernel = self.add_weight(shape=(input_shape[-1], self.units), name="kernel")
            self.recurrent = self.add_weight(shape=(self.units, self.units), name="recurrent")

        def call(self, inputs, states):
            output = kerasish.ops.tanh(inputs @ self.kernel + states[0] @ self.recurrent)
            return output, [output]

        def get_config(self):
            return {**super().get_config(), "units": self.units}
    model = kerasish.Sequential([kerasish.Input((4, 2)), kerasish.layers.RNN(MinimalCell(3))])
    model.save(tmp_path / "cell.keras")
    loaded = kerasish.models.load_model(tmp_path / "cell.keras")
    x = np.random.default_rng(1).normal(size=(2, 4, 2)).astype("float32")
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(model(x)), rtol=1e-6)
