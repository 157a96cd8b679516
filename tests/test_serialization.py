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
