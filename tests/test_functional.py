"""The functional API against Keras 3 itself: the same graph built in both libraries, Keras's weights
copied over, then predictions (1e-5) and one training step (1e-4) compared; errors as Keras gives them."""

import numpy as np
import pytest

keras_ref = pytest.importorskip("keras")

import kerasish as keras  # noqa: E402

RNG = np.random.default_rng(0)


def _pair(build):
    keras_ref.backend.clear_session()  # the same automatic layer names in both libraries
    ref, ours = build(keras_ref), build(keras)
    assert [layer.name for layer in ours.layers] == [layer.name for layer in ref.layers]
    ours.set_weights(ref.get_weights())
    return ref, ours


def _residual(k):
    """Shared layer, an operator, a keras.ops call and slicing on KerasTensors."""
    inputs = k.Input((4,), name="x")
    shared = k.layers.Dense(4, name="shared")
    h = k.layers.Dense(4, activation="relu")(inputs)
    h = shared(h) + shared(inputs)
    merged = k.layers.concatenate([k.ops.erf(h), inputs[:, :2]], axis=-1)
    return k.Model(inputs, k.layers.Dense(3, activation="softmax")(merged))


def test_a_graph_with_shared_layers_and_ops_predicts_and_trains_like_keras():
    ref, ours = _pair(_residual)
    x = RNG.normal(size=(16, 4)).astype("float32")
    y = RNG.integers(0, 3, 16)
    np.testing.assert_allclose(ours.predict(x, verbose=0), ref.predict(x, verbose=0), rtol=1e-5, atol=1e-6)
    for model, k in ((ref, keras_ref), (ours, keras)):
        model.compile(k.optimizers.SGD(0.1), "sparse_categorical_crossentropy", metrics=["accuracy"])
    np.testing.assert_allclose(ours.train_on_batch(x, y), ref.train_on_batch(x, y), rtol=1e-5)
    for a, b in zip(ours.get_weights(), ref.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    assert isinstance(ours, keras.Model) and ours.input_shape == (None, 4) and ours.output_shape == (None, 3)


def test_graph_errors_are_keras_errors():
    a, b = keras.Input((3,)), keras.Input((3,))
    out = keras.layers.Dense(2)(keras.layers.Add()([a, b]))
    with pytest.raises(ValueError, match="Graph disconnected"):
        keras.Model(a, out)
    with pytest.raises(ValueError, match="must be KerasTensors"):
        keras.Model(np.ones((1, 3)), out)
    model = keras.Model([a, b], out)
    with pytest.raises(ValueError, match="incompatible"):
        model([np.ones((2, 3)), np.ones((2, 4))])
    with pytest.raises(ValueError, match="No such layer"):
        model.get_layer("nope")


def test_a_subclass_called_the_functional_way_is_functional():
    class Custom(keras.Model):
        def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
            return 3.0 * super().compute_loss(x, y, y_pred, sample_weight, training)
    inputs = keras.Input((2,))
    model = Custom(inputs, keras.layers.Dense(1)(inputs))
    assert isinstance(model, Custom) and isinstance(model, keras.models.Functional)
    assert type(model).__name__ == "Custom"
    model.compile("sgd", "mse")
    x, y = np.ones((4, 2), "float32"), np.zeros((4, 1), "float32")
    plain = float(np.mean(np.square(model.predict(x, verbose=0) - y)))
    np.testing.assert_allclose(model.evaluate(x, y, verbose=0), 3 * plain, rtol=1e-5)


@pytest.mark.parametrize("name,kwargs,shapes", [
    ("Add", {}, [(5, 3), (5, 3), (5, 3)]), ("Subtract", {}, [(5, 3), (5, 3)]), ("Multiply", {}, [(5, 3), (5, 1)]),
    ("Average", {}, [(5, 3), (5, 3)]), ("Maximum", {}, [(5, 3), (5, 3)]), ("Minimum", {}, [(5, 2, 3), (5, 2, 3)]),
    ("Concatenate", {"axis": 1}, [(5, 2, 3), (5, 4, 3)]), ("Dot", {"axes": 1}, [(5, 3), (5, 3)]),
    ("Dot", {"axes": (1, 2), "normalize": True}, [(5, 3, 4), (5, 2, 3)]),
])
def test_merge_layers_match_keras(name, kwargs, shapes):
    values = [RNG.normal(size=s).astype("float32") for s in shapes]
    ours, ref = getattr(keras.layers, name)(**kwargs), getattr(keras_ref.layers, name)(**kwargs)
    np.testing.assert_allclose(ours(values), ref(values), rtol=1e-5, atol=1e-6)
    symbolic = [keras.Input(s[1:]) for s in shapes]
    assert getattr(keras.layers, name)(**kwargs)(symbolic).shape == tuple(ref.compute_output_shape(
        [(None, *s[1:]) for s in shapes]))
    functional = getattr(keras.layers, name.lower())
    np.testing.assert_allclose(functional(values, **kwargs), ref(values), rtol=1e-5, atol=1e-6)


def test_merge_shape_errors():
    with pytest.raises(ValueError, match="incompatible shapes"):
        keras.layers.Add()([keras.Input((3,)), keras.Input((4,))])
    with pytest.raises(ValueError, match="exactly 2 inputs"):
        keras.layers.Subtract()([keras.Input((3,))] * 3)


def _two_in_two_out(k):
    title, body = k.Input((4,), name="title"), k.Input((3,), name="body")
    x = k.layers.concatenate([k.layers.Dense(5, activation="relu")(title), body])
    priority = k.layers.Dense(1, name="priority")(x)
    department = k.layers.Dense(3, name="department", activation="softmax")(x)
    return k.Model(inputs=[title, body], outputs={"priority": priority, "department": department})


def test_two_inputs_two_outputs_train_with_keras_history_keys_and_values():
    ref, ours = _pair(_two_in_two_out)
    x = [RNG.normal(size=(16, 4)).astype("float32"), RNG.normal(size=(16, 3)).astype("float32")]
    y = {"priority": RNG.normal(size=(16, 1)).astype("float32"), "department": RNG.integers(0, 3, 16)}
    for model, k in ((ref, keras_ref), (ours, keras)):
        model.compile(k.optimizers.SGD(0.1), loss={"priority": "mse", "department": "sparse_categorical_crossentropy"},
                      loss_weights={"priority": 1.0, "department": 0.2},
                      metrics={"department": ["accuracy"], "priority": ["mae"]})
    predicted, expected = ours.predict(x, verbose=0), ref.predict(x, verbose=0)
    assert set(predicted) == {"priority", "department"}
    for key in expected:
        np.testing.assert_allclose(predicted[key], expected[key], rtol=1e-5, atol=1e-6)
    ours_logs = ours.train_on_batch(x, y, return_dict=True)
    ref_logs = ref.train_on_batch(x, y, return_dict=True)
    assert set(ours_logs) == set(ref_logs)
    for key in ref_logs:
        np.testing.assert_allclose(ours_logs[key], ref_logs[key], rtol=1e-4)
    history = ours.fit({"title": x[0], "body": x[1]}, y, batch_size=8, epochs=1, verbose=0, validation_data=(x, y))
    assert sorted(history.history) == sorted(ref.fit(x, y, batch_size=8, epochs=1, verbose=0,
                                                     validation_data=(x, y)).history)


def test_loss_and_metric_arguments_are_checked_against_the_outputs():
    model = _two_in_two_out(keras)
    x = [np.ones((4, 4), "float32"), np.ones((4, 3), "float32")]
    y = {"priority": np.ones((4, 1), "float32"), "department": np.zeros(4)}
    model.compile("sgd", loss={"priority": "mse", "nope": "mse"})
    with pytest.raises(ValueError, match="does not correspond to any model output"):
        model.fit(x, y, verbose=0)
    model.compile("sgd", loss=["mse"])
    with pytest.raises(ValueError, match="as many entries as the model has outputs"):
        model.fit(x, y, verbose=0)
    model.compile("sgd", loss={"priority": "mse", "department": "sparse_categorical_crossentropy"})
    with pytest.raises(ValueError, match="Missing targets for output 'priority'"):
        model.fit(x, {"department": np.zeros(4)}, verbose=0)


def test_config_round_trips_through_json_both_ways_with_keras():
    import json
    ref, ours = _pair(_two_in_two_out)
    x = [RNG.normal(size=(5, 4)).astype("float32"), RNG.normal(size=(5, 3)).astype("float32")]
    expected = ref.predict(x, verbose=0)
    config = json.loads(json.dumps(ours.get_config()))
    assert {"layers", "input_layers", "output_layers"} <= set(config)
    assert config["input_layers"] == ref.get_config()["input_layers"]
    for rebuilt in (keras.Model.from_config(config), keras_ref.Model.from_config(config)):
        rebuilt.set_weights(ours.get_weights())
        got = rebuilt.predict(x, verbose=0)
        for key in expected:
            np.testing.assert_allclose(got[key], expected[key], rtol=1e-5, atol=1e-6)
    from_keras = keras.Model.from_config(json.loads(json.dumps(ref.get_config())))
    from_keras.set_weights(ref.get_weights())
    np.testing.assert_allclose(from_keras.predict(x, verbose=0)["department"], expected["department"], rtol=1e-5)


def test_feature_extraction_from_a_sequential_and_nested_models():
    seq = keras.Sequential([keras.Input((8,)), keras.layers.Dense(4, activation="relu"), keras.layers.Dense(2)])
    extractor = keras.Model(inputs=seq.inputs, outputs=[layer.output for layer in seq.layers])
    x = RNG.normal(size=(5, 8)).astype("float32")
    features = extractor.predict(x, verbose=0)
    assert [f.shape for f in features] == [(5, 4), (5, 2)]
    np.testing.assert_allclose(features[-1], seq.predict(x, verbose=0), rtol=1e-6)
    a, b = keras.Input((8,)), keras.Input((8,))
    twin = keras.Model([a, b], keras.layers.Add()([seq(a), seq(b)]))  # one model, used twice, as a layer
    assert len(twin.weights) == 4
    np.testing.assert_allclose(twin.predict([x, x], verbose=0), 2 * seq.predict(x, verbose=0), rtol=1e-5)


def test_summary_has_keras_connected_to_column_for_graphs():
    lines = []
    _two_in_two_out(keras).summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "Connected to" in text and "title[0][0]" in text
    lines.clear()
    _residual(keras)
    chain_in = keras.Input((3,))
    keras.Model(chain_in, keras.layers.Dense(2)(keras.layers.Dense(3)(chain_in))).summary(print_fn=lines.append)
    assert "Connected to" not in "\n".join(lines)


def test_from_config_with_a_custom_layer_whose_config_has_no_name():
    """Keras keys rebuilt tensors by the config entry's name, so a custom layer whose get_config
    leaves out "name" (and gets a new automatic name) still connects."""
    class NamelessDense(keras.layers.Layer):
        def __init__(self, units=3):
            super().__init__()
            self.units = units

        def build(self, shape):
            self.w = self.add_weight(shape=(shape[-1], self.units))

        def call(self, x):
            return keras.ops.matmul(x, self.w)

        def get_config(self):
            return {"units": self.units}
    inputs = keras.Input((4,))
    model = keras.Model(inputs, NamelessDense(5)(NamelessDense(6)(inputs)))
    clone = keras.Model.from_config(model.get_config(), custom_objects={"NamelessDense": NamelessDense})
    assert clone.output_shape == (None, 5)
    clone.set_weights(model.get_weights())
    x = np.ones((2, 4), "float32")
    np.testing.assert_allclose(np.asarray(clone(x)), np.asarray(model(x)), rtol=1e-6)


def _summary_text(lib, build, **kwargs) -> str:
    lib.backend.clear_session() if lib is keras_ref else keras.backend.clear_session()
    captured = []
    build(lib).summary(print_fn=lambda text, *a, **k: captured.append(text), **kwargs)
    return "".join(captured)


def _shared_graph(lib):
    a, b = lib.Input((4,), name="first_input_with_a_long_name"), lib.Input((4,), name="b")
    shared = lib.layers.Dense(3, name="shared_dense_layer_number_one")
    return lib.Model([a, b], lib.layers.Dense(1)(lib.layers.concatenate([shared(a), shared(b)])))


def _chain_two_outputs(lib):
    image = lib.Input((8, 8, 3), name="img")
    x = lib.layers.Conv2D(4, 3, name="a_rather_long_convolution_name")(image)
    x = lib.layers.GlobalMaxPooling2D()(x)
    return lib.Model(image, [lib.layers.Dense(2)(x), x])


@pytest.mark.parametrize("build", [_shared_graph, _chain_two_outputs, _two_in_two_out])
@pytest.mark.parametrize("show_trainable", [False, True])
def test_summary_text_is_keras_text(build, show_trainable, monkeypatch):
    """The whole table as Keras prints it for an 80-column terminal: column widths, cells wrapped at
    spaces, long words cut with "…", connections joined by commas, "Connected to" only for graphs
    (a chain with two outputs is still a chain), the trainable column last ("-" without weights)."""
    monkeypatch.setenv("COLUMNS", "80")
    assert _summary_text(keras, build, show_trainable=show_trainable) == \
        _summary_text(keras_ref, build, show_trainable=show_trainable)


def test_unknown_dimensions_probe_past_kernel_sizes_and_strides():
    """A layer on an unknown time dimension gets an unknown output dimension (Keras: (None, None, 3)),
    whatever its kernel or stride; fixed output sizes stay known."""
    for layer, expected in [(keras.layers.Conv1D(3, 7), (None, None, 3)),
                            (keras.layers.Conv1D(3, 3, strides=8), (None, None, 3)),
                            (keras.layers.MaxPooling1D(5), (None, None, 10)),
                            (keras.layers.GlobalAveragePooling1D(), (None, 10))]:
        assert layer(keras.Input((None, 10))).shape == expected


def test_input_shape_must_be_a_tuple_as_in_keras():
    with pytest.raises(ValueError, match="Cannot convert '784' to a shape."):
        keras.Input(shape=784)


def test_keras_tensor_names_and_repr_are_keras():
    keras.backend.clear_session()
    keras_ref.backend.clear_session()
    for lib in (keras, keras_ref):
        unnamed, named = lib.Input((3,)), lib.Input((3,), name="x")
        dense = lib.layers.Dense(2)(named)
        assert [unnamed.name, named.name, dense.name] == ["keras_tensor", "x", "keras_tensor_1"]
        assert repr(dense) == ("<KerasTensor shape=(None, 2), dtype=float32, sparse=False, ragged=False, "
                               "name=keras_tensor_1>")


def test_to_json_and_model_from_json_cross_with_keras():
    x = np.ones((2, 4), "float32")
    for lib, other in ((keras, keras_ref), (keras_ref, keras)):
        inputs = lib.Input((4,), name="x")
        model = lib.Model(inputs, lib.layers.Dense(2, name="d")(lib.layers.Dense(3)(inputs)))
        rebuilt = other.models.model_from_json(model.to_json())
        rebuilt.set_weights(model.get_weights())
        np.testing.assert_allclose(np.asarray(rebuilt(x)), np.asarray(model(x)), rtol=1e-6)
        chain = lib.Sequential([lib.Input((3,)), lib.layers.Dense(2)])
        assert type(other.models.model_from_json(chain.to_json(indent=2))).__name__ == "Sequential"
    assert str(keras.layers.Dense(2, name="d2")) == "<Dense name=d2, built=False>"


def test_summary_counts_the_optimizer_variables_as_keras(monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    texts = []
    for lib in (keras, keras_ref):
        lib.backend.clear_session()
        model = lib.Sequential([lib.Input((4,)), lib.layers.Dense(3), lib.layers.BatchNormalization(),
                                lib.layers.Dense(1)])
        model.compile(optimizer="adam", loss="mse")
        model.fit(np.ones((8, 4), "float32"), np.ones((8, 1), "float32"), verbose=0)
        captured = []
        model.summary(print_fn=lambda text, *a, **k: captured.append(text))
        texts.append("".join(captured))
    assert texts[0] == texts[1] and "Optimizer params: 52 (208.00 B)" in texts[0]
