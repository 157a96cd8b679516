"""keras.models.clone_model: structure and configs kept, weights new, layers never shared unless the
clone_function shares them; clone_function / call_function / input_tensors / recursive as in Keras 3."""

import numpy as np
import pytest

import kerasish as keras


def _sequential():
    return keras.Sequential([keras.Input((4,), name="features"), keras.layers.Dense(8, activation="relu"),
                             keras.layers.Dense(2)], name="mlp")


def _functional():
    inputs = keras.Input((4,), name="x")
    shared = keras.layers.Dense(3, name="shared")
    merged = keras.layers.Add()([shared(inputs), shared(keras.layers.Dense(4, name="pre")(inputs))])
    return keras.Model(inputs, keras.layers.Dense(1, name="head")(merged), name="graph")


def _differs(a, b):
    return any(not np.array_equal(x, y) for x, y in zip(a.get_weights(), b.get_weights(), strict=True))


@pytest.mark.parametrize("make", [_sequential, _functional])
def test_clone_has_the_same_structure_and_new_weights(make):
    model = make()
    clone = keras.models.clone_model(model)
    assert type(clone) is type(model) and clone.name == model.name
    assert [type(layer) for layer in clone.layers] == [type(layer) for layer in model.layers]
    assert [w.shape for w in clone.weights] == [w.shape for w in model.weights]
    assert not {id(w) for w in clone.weights} & {id(w) for w in model.weights}
    assert _differs(clone, model)  # freshly initialized
    clone.set_weights(model.get_weights())
    x = np.random.default_rng(0).normal(size=(5, 4)).astype("float32")
    np.testing.assert_allclose(clone.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)
    config, cloned = model.get_config(), clone.get_config()
    if isinstance(model, keras.Sequential):
        assert [layer["config"]["units"] for layer in cloned["layers"][1:]] == [8, 2]
        assert cloned["layers"][0]["config"]["batch_shape"] == config["layers"][0]["config"]["batch_shape"]


def test_shared_layers_stay_shared_in_the_clone():
    clone = keras.models.clone_model(_functional())
    assert len(clone.get_layer("shared")._inbound_nodes.values) == 2
    assert len(clone.weights) == len(_functional().weights)


def test_clone_function_and_call_function():
    model = _functional()
    calls = []

    def clone_function(layer):
        if isinstance(layer, keras.layers.Dense):
            return keras.layers.Dense.from_config({**layer.get_config(), "use_bias": False})
        return layer.__class__.from_config(layer.get_config())

    def call_function(layer, *args, **kwargs):
        calls.append(layer.name)
        return layer(*args, **kwargs)

    clone = keras.models.clone_model(model, clone_function=clone_function, call_function=call_function)
    assert not any(w.name == "bias" for w in clone.weights)
    assert calls.count("shared") == 2 and "head" in calls
    keep = keras.models.clone_model(_sequential(), clone_function=lambda layer: layer)  # share the layers
    assert keep.layers[0] is not None and len(keep.weights) == 4


def test_compiled_clone_is_compiled_the_same_way():
    model = _sequential()
    model.compile(optimizer=keras.optimizers.Adam(0.003), loss="mse", metrics=["mae"])
    clone = keras.models.clone_model(model)
    assert clone.compiled and clone.optimizer is not model.optimizer
    assert type(clone.optimizer) is keras.optimizers.Adam
    x, y = np.ones((8, 4), "float32"), np.zeros((8, 2), "float32")
    assert set(clone.fit(x, y, epochs=1, verbose=0).history) == {"loss", "mae"}


def test_input_tensors_and_recursive():
    inner = _sequential()
    outer_inputs = keras.Input((4,), name="outer")
    outer = keras.Model(outer_inputs, keras.layers.Dense(1, name="top")(inner(outer_inputs)))
    new_inputs = keras.Input((4,), name="fresh")
    clone = keras.models.clone_model(outer, input_tensors=new_inputs)
    assert clone.inputs[0] is new_inputs
    nested = [layer for layer in clone.layers if isinstance(layer, keras.Sequential)][0]
    assert nested is not inner
    seen = []
    keras.models.clone_model(outer, recursive=True,
                             clone_function=lambda layer: seen.append(layer.name) or layer.__class__.from_config(
                                 layer.get_config()))
    assert "mlp" not in seen and {"top", inner.layers[0].name} <= set(seen)  # the nested model's layers, one by one
    seq = keras.models.clone_model(_sequential(), input_tensors=[keras.Input((4,), name="again")])
    assert seq.inputs[0].shape == (None, 4)


def test_subclassed_model_is_rebuilt_from_its_config():
    @keras.saving.register_keras_serializable(package="CloneTest")
    class Scaled(keras.Model):
        def __init__(self, units=3, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.dense = keras.layers.Dense(units)

        def call(self, x):
            return 2.0 * self.dense(x)

        def get_config(self):
            return {"units": self.units, "name": self.name}

    model = Scaled(units=5, name="scaled")
    model(np.ones((1, 2), "float32"))
    clone = keras.models.clone_model(model)
    assert type(clone) is Scaled and clone.units == 5 and clone.name == "scaled"
    assert clone(np.ones((1, 2), "float32")).shape == (1, 5)
    with pytest.raises(ValueError, match="only supported for Sequential models or Functional models"):
        keras.models.clone_model(model, clone_function=lambda layer: layer)
    with pytest.raises(ValueError, match="only supported for Functional models"):
        keras.models.clone_model(model, call_function=lambda layer, *a: layer(*a))


def test_errors_match_keras():
    with pytest.raises(ValueError, match=r"Unexpected keyword argument\(s\): \('layers',\)"):
        keras.models.clone_model(_sequential(), layers=1)
    with pytest.raises(ValueError, match="`call_function` argument is not supported with Sequential models"):
        keras.models.clone_model(_sequential(), call_function=lambda layer, *a: layer(*a))
    with pytest.raises(ValueError, match="must be a KerasTensor"):
        keras.models.clone_model(_sequential(), input_tensors=np.ones((1, 4)))
    with pytest.raises(ValueError, match="must contain a single tensor"):
        keras.models.clone_model(_sequential(), input_tensors=[keras.Input((4,)), keras.Input((4,))])
    with pytest.raises(ValueError, match="same structure as model.input"):
        keras.models.clone_model(_functional(), input_tensors=[keras.Input((4,)), keras.Input((4,))])
    with pytest.raises(ValueError, match="`clone_function` argument to be a callable"):
        keras.models.clone_model(_functional(), clone_function=3)
