"""kerasish.ops.dtypes against Keras 3's own `keras.backend.result_type` / `standardize_dtype`."""

import itertools

import jax.numpy as jnp
import ml_dtypes
import numpy as np
import pytest
from flax import nnx

import keras as keras_ref
from kerasish.ops import dtypes

NAMES = ["bool", "uint8", "uint16", "uint32", "int8", "int16", "int32", "int64", "bfloat16", "float16",
         "float32", "float64", "complex64"]
OPERANDS = [*NAMES, int, float, bool, complex, None]


def _outcome(fn, *args):
    try:
        return fn(*args)
    except ValueError:
        return ValueError


@pytest.mark.parametrize("first", OPERANDS, ids=str)
def test_result_type_of_every_pair_matches_keras(first):
    for second in OPERANDS:
        assert _outcome(dtypes.result_type, first, second) == _outcome(
            keras_ref.backend.result_type, first, second), (first, second)


def test_result_type_of_triples_and_single_operands_matches_keras():
    for operands in [*((x,) for x in OPERANDS), *itertools.combinations(OPERANDS[::2], 3),
                     ("uint8", int, "int8"), (int, float, bool), ()]:
        assert _outcome(dtypes.result_type, *operands) == _outcome(keras_ref.backend.result_type, *operands)


def test_result_type_takes_values_as_their_dtypes():
    assert dtypes.result_type(np.ones(2, "float16"), 2.5) == "float16"
    assert dtypes.result_type(jnp.ones(2, jnp.int8), 3) == "int8"
    assert dtypes.result_type(jnp.ones(2, jnp.int8), 3.0) == "float32"
    assert dtypes.result_type(True, 1) == "int32"
    assert dtypes.result_type(np.float64(1.0), 1) == "float32"      # NumPy scalars are strongly typed
    assert dtypes.result_type(nnx.Param(jnp.ones(3, jnp.bfloat16)), 1.0) == "bfloat16"


def test_float8_is_never_promoted_implicitly():
    with pytest.raises(ValueError, match="float8"):
        dtypes.result_type("float8_e4m3fn", "float32")
    for operands in [("float8_e4m3fn", "float32"), ("float8_e5m2",)]:
        assert _outcome(keras_ref.backend.result_type, *operands) is ValueError
        assert _outcome(dtypes.result_type, *operands) is ValueError


@pytest.mark.parametrize("spelling", [
    "float32", "bfloat16", "int", int, float, bool, complex, None, np.float64, np.dtype("int8"), jnp.int8,
    jnp.bfloat16, jnp.dtype("uint16"), ml_dtypes.bfloat16, "string", str, "float8_e4m3fn"], ids=str)
def test_standardize_dtype_matches_keras(spelling):
    assert dtypes.standardize_dtype(spelling) == keras_ref.backend.standardize_dtype(spelling)


@pytest.mark.parametrize("bad", ["float", "float128", "tensor", 3])
def test_standardize_dtype_rejects_what_keras_rejects(bad):
    with pytest.raises(ValueError, match=f"Received: dtype={bad!r}"):
        dtypes.standardize_dtype(bad)
    with pytest.raises(ValueError):
        keras_ref.backend.standardize_dtype(bad)
