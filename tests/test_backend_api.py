"""keras.backend / keras.config setters and dtype helpers, keras.mixed_precision.set_dtype_policy,
and the top-level names of `import keras` (KerasTensor, Loss, ..., InputSpec, name_scope, device,
tree, version, models.save_model), each against Keras 3."""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

keras = pytest.importorskip("keras")

import kerasish  # noqa: E402
from kerasish import backend  # noqa: E402


@pytest.fixture
def restore_config():
    yield
    for lib in (backend, keras.config):
        lib.set_floatx("float32")
        lib.set_epsilon(1e-7)
        lib.set_image_data_format("channels_last")
    kerasish.backend.clear_session()  # also resets the global dtype policy, as Keras's
    keras.backend.clear_session()


def test_setters_and_getters(restore_config):
    for lib in (kerasish.backend, kerasish.config, keras.backend, keras.config):
        assert (lib.floatx(), lib.epsilon(), lib.image_data_format()) == ("float32", 1e-7, "channels_last")
    backend.set_floatx("float16")
    backend.set_epsilon(1e-4)
    kerasish.config.set_image_data_format("Channels_First")
    assert (backend.floatx(), backend.epsilon(), backend.image_data_format()) == \
        ("float16", 1e-4, "channels_first")
    for lib in (backend, keras.config):
        with pytest.raises(ValueError, match="Unknown `floatx` value: int32"):
            lib.set_floatx("int32")
        with pytest.raises(ValueError, match="data_format"):
            lib.set_image_data_format("nhwc")


def test_layers_follow_the_settings(restore_config):
    backend.set_image_data_format("channels_first")
    conv = kerasish.layers.Conv2D(4, 3)
    assert conv.data_format == "channels_first"
    assert conv(jnp.zeros((1, 2, 8, 8))).shape == (1, 4, 6, 6)
    backend.set_floatx("float16")
    keras.config.set_floatx("float16")
    ours, theirs = kerasish.layers.Dense(2), keras.layers.Dense(2)
    ours.build((None, 3))
    theirs.build((None, 3))
    assert ours.kernel.dtype == theirs.kernel.dtype == "float16"
    assert kerasish.mixed_precision.global_policy().name == keras.mixed_precision.global_policy().name
    assert kerasish.ops.zeros((2,)).dtype == jnp.float16


def test_clear_session_resets_the_policy(restore_config):
    for lib in (kerasish, keras):
        lib.mixed_precision.set_global_policy("mixed_float16")
        lib.backend.clear_session()
        assert lib.mixed_precision.global_policy().name == "float32"


def test_set_dtype_policy(restore_config):
    kerasish.mixed_precision.set_dtype_policy("mixed_bfloat16")
    keras.mixed_precision.set_dtype_policy("mixed_bfloat16")
    assert kerasish.mixed_precision.dtype_policy().name == keras.mixed_precision.dtype_policy().name
    assert kerasish.config.dtype_policy().name == keras.config.dtype_policy().name == "mixed_bfloat16"
    layer = kerasish.layers.Dense(2)
    assert (layer.compute_dtype, layer.variable_dtype) == ("bfloat16", "float32")
    kerasish.config.set_dtype_policy("float32")
    assert kerasish.mixed_precision.global_policy().name == "float32"


@pytest.mark.parametrize("dtype", ["float32", np.float16, jnp.bfloat16, "int8", np.uint32, int, float, bool,
                                   None, np.dtype("int64")])
def test_dtype_helpers(dtype):
    for name in ("standardize_dtype", "is_float_dtype", "is_int_dtype"):
        assert getattr(backend, name)(dtype) == getattr(keras.backend, name)(dtype), name


@pytest.mark.parametrize("dtypes", [("int8", "float16"), ("int32", "uint8"), ("bfloat16", "float16"),
                                    ("bool", "int16"), ("float32", "float64")])
def test_result_type(dtypes):
    assert backend.result_type(*dtypes) == keras.backend.result_type(*dtypes)


def test_is_keras_tensor_and_get_uid():
    assert backend.is_keras_tensor(kerasish.Input((3,)))
    assert not backend.is_keras_tensor(jnp.zeros(3))
    kerasish.backend.clear_session()
    keras.backend.clear_session()
    kerasish.layers.Dense(2)
    keras.layers.Dense(2)
    assert [backend.get_uid("dense"), backend.get_uid("dense"), backend.get_uid("other")] == \
        [keras.backend.get_uid("dense"), keras.backend.get_uid("dense"), keras.backend.get_uid("other")]


# ------------------------------------------------------------------------ top-level names
def test_top_level_classes():
    assert kerasish.KerasTensor is type(kerasish.Input((3,)))
    assert backend.is_keras_tensor(kerasish.Input((3,))) and not backend.is_keras_tensor(jnp.zeros(3))
    assert kerasish.Loss is kerasish.losses.Loss and kerasish.Metric is kerasish.metrics.Metric
    assert kerasish.Optimizer is kerasish.optimizers.Optimizer
    assert kerasish.Initializer is kerasish.initializers.Initializer
    assert kerasish.Regularizer is kerasish.regularizers.Regularizer
    assert kerasish.DTypePolicy("mixed_float16").compute_dtype == keras.DTypePolicy("mixed_float16").compute_dtype
    assert kerasish.FloatDTypePolicy("bfloat16").variable_dtype == keras.FloatDTypePolicy("bfloat16").variable_dtype
    assert kerasish.layers.InputSpec is kerasish.InputSpec
    assert kerasish.version() == kerasish.__version__ and keras.version() == keras.__version__
    assert kerasish.models.save_model is kerasish.saving.save_model


def test_save_model_round_trip(tmp_path):
    model = kerasish.Sequential([kerasish.Input((3,)), kerasish.layers.Dense(2)])
    path = str(tmp_path / "m.keras")
    kerasish.models.save_model(model, path)
    again = kerasish.models.load_model(path)
    x = np.ones((1, 3), np.float32)
    np.testing.assert_allclose(again.predict(x, verbose=0), model.predict(x, verbose=0))


# InputSpec: the check as Keras makes it, message for message
SPECS = [
    (dict(ndim=3), (2, 4)),
    (dict(min_ndim=3), (2, 4)),
    (dict(max_ndim=2), (2, 4, 5)),
    (dict(axes={-1: 5}), (2, 4)),
    (dict(shape=(None, 4, 3)), (2, 4, 2)),
    (dict(shape=(None, 4, 1), allow_last_axis_squeeze=True), (2, 5)),
    (dict(dtype="int32"), (2, 4)),
    (dict(ndim=2, name="a"), (2, 4, 1)),
]


@pytest.mark.parametrize("kwargs,shape", SPECS)
def test_input_spec_errors_match_keras(kwargs, shape):
    from keras.src.layers.input_spec import assert_input_compatibility as keras_check
    from kerasish.layers.input_spec import assert_input_compatibility
    x = np.zeros(shape, np.float32)
    ours, theirs = kerasish.InputSpec(**kwargs), keras.InputSpec(**kwargs)
    assert repr(ours) == repr(theirs) and ours.get_config() == theirs.get_config()
    errors = []
    for check, spec in ((assert_input_compatibility, ours), (keras_check, theirs)):
        try:
            check(spec, x, "my_layer")
            errors.append(None)
        except ValueError as error:
            errors.append(str(error))
    assert errors[0] == errors[1]
    assert errors[0] is not None or kwargs.get("allow_last_axis_squeeze")  # the squeezed case passes


def test_input_spec_structures():
    from kerasish.layers.input_spec import assert_input_compatibility
    specs = [kerasish.InputSpec(ndim=2, name="a"), kerasish.InputSpec(ndim=3, name="b")]
    assert_input_compatibility(specs, {"a": np.zeros((1, 2)), "b": np.zeros((1, 2, 3))}, "l")
    with pytest.raises(ValueError, match='Missing data for input "b"'):
        assert_input_compatibility(specs, {"a": np.zeros((1, 2))}, "l")
    with pytest.raises(ValueError, match="expects 2 named input"):
        assert_input_compatibility(specs, [np.zeros((1, 2))], "l")
    assert_input_compatibility(kerasish.InputSpec(ndim=2), kerasish.Input((3,)), "l")  # symbolic inputs too
    with pytest.raises(TypeError, match="integer keys"):
        kerasish.InputSpec(axes={"x": 1})
    with pytest.raises(ValueError, match="Axis 3 is greater"):
        kerasish.InputSpec(ndim=2, axes={3: 1})


def test_name_scope_and_device():
    from kerasish.scopes import current_path
    with kerasish.name_scope("outer") as outer:
        assert outer.name == "outer"
        with kerasish.name_scope("inner"):
            assert current_path() == "outer/inner"
        with kerasish.name_scope("abs", override_parent="x/y"):
            assert current_path() == "x/y/abs"
    assert current_path() == ""
    with pytest.raises(ValueError, match="cannot contain character"):
        kerasish.name_scope("a/b")
    with kerasish.device("cpu:0"):
        assert next(iter(jnp.zeros(2).devices())).platform == "cpu"
    with pytest.raises(ValueError, match="device_name"):
        kerasish.device(3)


# keras.tree
class Point(tuple):
    pass


STRUCTURES = [
    [[1, 2, 3], [4, [5], [[6]]]],
    {100: "world!", 6: "Hello"},
    {"b": (1, None), "a": [2, {"z": 3, "c": 4}]},
    None,
    7,
    (),
]


@pytest.mark.parametrize("structure", STRUCTURES)
def test_tree_matches_keras(structure):
    assert kerasish.tree.flatten(structure) == keras.tree.flatten(structure)
    assert kerasish.tree.is_nested(structure) == keras.tree.is_nested(structure)
    assert kerasish.tree.flatten_with_path(structure) == keras.tree.flatten_with_path(structure)
    f = lambda x: None if x is None else str(x) * 2  # noqa: E731
    assert kerasish.tree.map_structure(f, structure) == keras.tree.map_structure(f, structure)
    flat = list(range(len(keras.tree.flatten(structure))))
    assert kerasish.tree.pack_sequence_as(structure, flat) == keras.tree.pack_sequence_as(structure, flat)
    assert kerasish.tree.lists_to_tuples(structure) == keras.tree.lists_to_tuples(structure)


def test_tree_more():
    import collections
    tree = kerasish.tree
    nt = collections.namedtuple("nt", "a b")
    s = nt(a=[1, 2], b={"x": 3})
    assert tree.map_structure(lambda a, b: a + b, s, s) == keras.tree.map_structure(lambda a, b: a + b, s, s)
    assert tree.map_structure(lambda x: 1, [None, 2], none_is_leaf=False) == \
        keras.tree.map_structure(lambda x: 1, [None, 2], none_is_leaf=False)
    with pytest.raises(ValueError):
        tree.map_structure(lambda a, b: a, [1, [2]], [1, 2])
    with pytest.raises(ValueError):
        tree.pack_sequence_as([1, 2], [1])
    assert tree.map_structure_up_to([1, [2, 3]], str, [[1], [2, 3]]) == \
        keras.tree.map_structure_up_to([1, [2, 3]], str, [[1], [2, 3]])
    tree.assert_same_structure({"a": 1}, collections.OrderedDict(a=2))
    with pytest.raises(ValueError):
        tree.assert_same_structure([1], (1,))
    tree.assert_same_paths([1, (2,)], (1, [2]))
    keras.tree.assert_same_paths([1, (2,)], (1, [2]))
    with pytest.raises(ValueError, match="don't have the same paths"):
        tree.assert_same_paths([1, 2], [1])
    shapes = {"a": (None, 3), "b": [(2,), (4, 5)]}
    assert tree.map_shape_structure(lambda s: len(s), shapes) == keras.tree.map_shape_structure(len, shapes)
    for top_down in (True, False):
        ours, theirs = [], []
        structure = [(1, 2), [3], {"a": 4}]
        assert tree.traverse(ours.append, structure, top_down=top_down) == \
            keras.tree.traverse(theirs.append, structure, top_down=top_down)
        assert ours == theirs
    replace = lambda x: tree.MAP_TO_NONE if x == 3 else None  # noqa: E731
    keras_replace = lambda x: keras.tree.MAP_TO_NONE if x == 3 else None  # noqa: E731
    assert tree.traverse(replace, [1, [3]]) == keras.tree.traverse(keras_replace, [1, [3]])
    layer = kerasish.layers.Dense(2)
    assert tree.flatten([layer, {"v": kerasish.Variable(np.zeros(2))}])[0] is layer  # Keras's leaves
