"""kerasish.serialization: the custom-object registry and the `resolve` lookup behind every `get`."""

import pytest

from kerasish import serialization
from kerasish.serialization import (
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
    resolve,
    serialize_object,
    to_snake_case,
)


class _Thing:
    def __init__(self, size=1):
        self.size = size

    def __call__(self, x):
        return x * self.size

    def get_config(self):
        return {"size": self.size}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _double(x):
    return 2 * x


REGISTRY = {"Thing": _Thing, "thing": _Thing, "double": _double}


@pytest.mark.parametrize(
    "name, expected",
    [
        ("GlorotUniform", "glorot_uniform"),
        ("KLDivergence", "kl_divergence"),
        ("MeanSquaredError", "mean_squared_error"),
        ("OrthogonalRegularizer", "orthogonal_regularizer"),
        ("L1L2", "l1l2"),
        ("HeNormal", "he_normal"),
    ],
)
def test_to_snake_case_matches_keras(name, expected):
    assert to_snake_case(name) == expected


def test_register_function_and_class():
    @register_keras_serializable(package="TestSer")
    def triple(x):
        return 3 * x

    @register_keras_serializable(package="TestSer", name="Renamed")
    class Scaled(_Thing):
        pass

    assert get_registered_name(triple) == "TestSer>triple"
    assert get_registered_name(Scaled) == "TestSer>Renamed"
    assert get_registered_name(_double) == "_double"
    assert get_registered_object("TestSer>triple") is triple
    assert resolve("TestSer>triple", REGISTRY, "thing") is triple
    assert serialize_object(Scaled(4)) == {"class_name": "TestSer>Renamed", "config": {"size": 4}}
    restored = resolve({"class_name": "TestSer>Renamed", "config": {"size": 4}}, REGISTRY, "thing")
    assert type(restored) is Scaled and restored.size == 4
    # Keras 3 JSON keeps the plain class name and puts the registered one in "registered_name".
    keras_style = {"module": None, "class_name": "Scaled", "config": {"size": 2}, "registered_name": "TestSer>Renamed"}
    assert type(resolve(keras_style, REGISTRY, "thing")) is Scaled


def test_register_class_without_get_config_raises():
    with pytest.raises(ValueError, match=r"Cannot register a class that does not have a get_config\(\) method."):

        @register_keras_serializable(package="TestSer")
        class NoConfig:
            pass


def test_get_registered_object_lookup_order():
    assert get_registered_object("double", module_objects=REGISTRY) is _double
    assert get_registered_object("double", custom_objects={"double": abs}, module_objects=REGISTRY) is abs
    assert get_registered_object("missing", custom_objects={}, module_objects=REGISTRY) is None


def test_serialize_object_requires_get_config():
    assert serialize_object(_Thing(3)) == {"class_name": "_Thing", "config": {"size": 3}}
    with pytest.raises(TypeError, match="has no get_config"):
        serialize_object(object())


def test_resolve_accepts_every_identifier_kind():
    thing = _Thing(2)
    assert isinstance(resolve("thing", REGISTRY, "thing"), _Thing)
    assert isinstance(resolve("Thing", REGISTRY, "thing"), _Thing)
    assert resolve("double", REGISTRY, "thing") is _double
    assert resolve({"class_name": "Thing", "config": {"size": 5}}, REGISTRY, "thing").size == 5
    assert resolve({"class_name": "Thing"}, REGISTRY, "thing").size == 1
    assert resolve({"module": "builtins", "class_name": "function", "config": "double"}, REGISTRY, "thing") is _double
    assert isinstance(resolve(_Thing, REGISTRY, "thing"), _Thing)
    assert resolve(thing, REGISTRY, "thing") is thing
    assert resolve(_double, REGISTRY, "thing") is _double
    assert resolve("custom", REGISTRY, "thing", custom_objects={"custom": abs}) is abs


@pytest.mark.parametrize(
    "identifier", ["nope", 3, {"class_name": "Nope", "config": {}}, {"class_name": "function", "config": "nope"}]
)
def test_resolve_unknown_raises_with_accepted_names(identifier):
    with pytest.raises(ValueError) as info:
        resolve(identifier, REGISTRY, "thing")
    message = str(info.value)
    assert message.startswith(f"Could not interpret thing identifier: {identifier}")
    assert "Expected one of: Thing, double, thing" in message


def test_module_has_no_kerasish_imports():
    source = open(serialization.__file__).read()
    assert "from kerasish" not in source and "import kerasish" not in source


# -- the registry as Keras 3 exposes it ------------------------------------------------------------------------------
def test_custom_object_scope_nests_and_wins_over_the_registry():
    class Local(_Thing):
        pass
    registered = register_keras_serializable(package="TestScope", name="Thing")(Local)
    assert get_registered_object("TestScope>Thing") is registered
    with serialization.custom_object_scope({"Thing": abs, "outer": min}):
        assert get_registered_object("Thing", module_objects=REGISTRY) is abs  # scope before module objects
        with serialization.CustomObjectScope({"inner": max}):
            assert get_registered_object("inner") is max and get_registered_object("outer") is min
        assert get_registered_object("inner") is None
    assert get_registered_object("Thing", module_objects=REGISTRY) is _Thing
    with pytest.raises(TypeError, match="must be a dict"):
        serialization.CustomObjectScope(["not", "a", "dict"])


def test_get_custom_objects_is_the_live_registry():
    objects = serialization.get_custom_objects()
    objects["TestLive>double"] = _double
    try:
        assert get_registered_object("TestLive>double") is _double
        assert resolve("TestLive>double", REGISTRY, "thing") is _double
    finally:
        del objects["TestLive>double"]


def test_serialize_keras_object_writes_keras_3_entries():
    assert serialization.serialize_keras_object(None) is None
    assert serialization.serialize_keras_object((1, [2.5, "a"], {"k": True})) == (1, [2.5, "a"], {"k": True})
    entry = serialization.serialize_keras_object(_Thing(3))
    assert entry == {"module": __name__, "class_name": "_Thing", "config": {"size": 3}, "registered_name": "_Thing"}
    assert serialization.serialize_keras_object(_double) == {
        "module": "builtins", "class_name": "function", "config": "_double", "registered_name": "function"}
    with pytest.raises(TypeError, match="lambda"):
        serialization.serialize_keras_object(lambda x: x)
    with pytest.raises(TypeError, match="get_config"):
        serialization.serialize_keras_object(object())


def test_kerasish_built_ins_are_written_under_keras_modules():
    import kerasish as keras
    entry = serialization.serialize_keras_object(keras.initializers.GlorotUniform(seed=1))
    assert entry == {"module": "keras.initializers", "class_name": "GlorotUniform",
                     "config": {"seed": 1, "input_axes": None, "output_axes": None}, "registered_name": None}
    assert serialization.serialize_keras_object(keras.mixed_precision.DTypePolicy("mixed_float16")) == {
        "module": "keras", "class_name": "DTypePolicy", "config": {"name": "mixed_float16"}, "registered_name": None}
    assert serialization.serialize_activation(keras.activations.get("relu")) == "relu"
    assert serialization.keras_module(keras.layers.Maxout) == "kerasish.layers"  # Keras 3 has no Maxout


def test_pop_keras_only_accepts_defaults_and_names_features_in_use():
    assert serialization.pop_keras_only({"units": 2, "quantization_config": None}, "Dense",
                                        {"quantization_config": None}) == {"units": 2}
    with pytest.raises(ValueError, match=r"BatchNormalization: `renorm=True` is not supported"):
        serialization.pop_keras_only({"renorm": True}, "BatchNormalization", {"renorm": False})


def _stored_lambda(fn):
    import base64
    import marshal
    return {"class_name": "__lambda__", "config": {"value": [base64.b64encode(marshal.dumps(fn.__code__)).decode(),
                                                             [5], None]}}


def test_lambdas_load_only_outside_safe_mode():
    entry = _stored_lambda(lambda x, k=1: x * k)
    assert serialization.in_safe_mode()
    with pytest.raises(ValueError, match="Requested the deserialization of a Python lambda"):
        resolve(entry, REGISTRY, "thing")
    with serialization.SafeModeScope(False):
        fn = resolve(entry, REGISTRY, "thing")
        assert fn(2) == 10  # the stored default k=5
        with serialization.SafeModeScope(True):
            with pytest.raises(ValueError, match="safe_mode=False"):
                serialization.load_lambda(entry)
    with serialization.SafeModeScope(False):
        with pytest.raises(ValueError, match="cannot be read"):
            serialization.load_lambda({"class_name": "__lambda__", "config": {"value": "not base64!"}})
