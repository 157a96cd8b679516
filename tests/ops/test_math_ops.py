"""keras.ops math group against Keras 3's own (JAX backend): the op table, jit, errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

import keras as keras_ref
import kerasish.ops
from harness import Case, assert_group_covered, assert_jit_matches_eager, ids, keras_op_names, rand, run_case
from kerasish.ops import math as ops_math

SORTED_IDS = np.array([0, 0, 1, 1, 1, 3], "int32")       # segment 2 is empty
UNSORTED_IDS = np.array([2, 0, 1, 0, 2, 1], "int32")
SPD = (lambda a: a @ a.T + 3 * np.eye(3, dtype="float32"))(rand(3, 3))
SIGNAL = rand(2, 40)
PREDICTIONS = rand(4, 5)
PREDICTIONS[1, 3] = np.nan


def _pair(*shape, seed=0):
    return rand(*shape, seed=seed), rand(*shape, seed=seed + 1)


def _same_complex(ours, ref):
    assert ours.dtype == ref.dtype
    np.testing.assert_allclose(np.asarray(ours), np.asarray(ref), rtol=1e-6)


def _segment_rows(name):
    grad = False if name == "segment_prod" else None   # JAX has no gradient of scatter-multiply
    return [
        Case(name, (rand(6, 3), SORTED_IDS, 4), {"sorted": True}, grad=grad, label="sorted"),
        Case(name, (rand(6), UNSORTED_IDS), {"num_segments": 3}, grad=grad, label="unsorted"),
        Case(name, (rand(6, 2, dtype="int32", low=-5, high=5), UNSORTED_IDS, 3), label="int32"),
    ]


CASES = [
    *[row for name in ("segment_sum", "segment_max", "segment_min", "segment_prod") for row in _segment_rows(name)],
    Case("top_k", (rand(4, 6), 3)),
    Case("top_k", (rand(7, dtype="int32", low=-50, high=50), 2), {"sorted": False}, label="int32-unsorted"),
    Case("top_k", (rand(2, 3, 5, dtype="float16"), 5), label="float16-all"),
    *[Case("in_top_k", (np.array([0, 3, 2, 4]), PREDICTIONS, k), label=f"k{k}") for k in (1, 3)],
    Case("logsumexp", (rand(3, 4, 5),)),
    Case("logsumexp", (rand(3, 4, 5),), {"axis": (0, 2), "keepdims": True}, label="axes-keepdims"),
    Case("logsumexp", (rand(3, 4, dtype="float16"), -1), label="float16"),
    Case("logsumexp", (rand(3, 4, dtype="int32"),), {"axis": 1}, label="int32"),
    Case("cdist", (rand(5, 3), rand(4, 3, seed=1))),
    Case("cdist", (rand(2, 5, 3), rand(2, 4, 3, seed=1)), label="batched"),
    Case("extract_sequences", (rand(2, 10), 3, 2)),
    Case("extract_sequences", (rand(7, dtype="int32"), 2, 1), label="int32"),
    Case("rsqrt", (rand(3, 4, low=0.1, high=5),)),
    Case("rsqrt", (rand(5, low=0.1, high=5, dtype="bfloat16"),), label="bfloat16"),
    Case("erf", (rand(3, 4),)),
    Case("erf", (rand(5, dtype="float16"),), label="float16"),
    Case("erfc", (rand(3, 4),)),
    Case("erfinv", (rand(3, 4, low=-0.99, high=0.99),)),
    Case("logdet", (SPD,)),
    Case("logdet", (np.stack([SPD, 2 * SPD]),), label="batched"),
    Case("fft", (_pair(3, 8),)),
    Case("fft2", (_pair(2, 4, 6),), rtol=1e-5),
    Case("ifft2", (_pair(4, 6),)),
    Case("rfft", (rand(3, 8),)),
    Case("rfft", (rand(9),), {"fft_length": 6}, label="cropped"),
    Case("rfft", (rand(2, 5),), {"fft_length": 8}, label="padded"),
    Case("irfft", (_pair(3, 5),)),
    Case("irfft", (_pair(5),), {"fft_length": 9}, label="odd-length"),
    Case("view_as_complex", (rand(3, 2),), compare=_same_complex),
    Case("view_as_real", (rand(3, 4) + 1j * rand(3, 4, seed=1),)),
    Case("view_as_real", (rand(3),), label="real-input"),
    Case("stft", (SIGNAL, 8, 4, 8), atol=1e-5),
    # One stft row compares gradients; they take seconds eagerly, and the other rows share its maths.
    Case("stft", (SIGNAL, 6, 3, 8), {"window": "hamming", "center": False}, atol=1e-5, grad=False,
         label="hamming"),
    Case("stft", (SIGNAL, 5, 4, 8), {"window": None}, atol=1e-5, grad=False, label="no-window"),
    Case("stft", (SIGNAL, 4, 4, 8), {"window": np.array([0.1, 1.0, 1.0, 0.1], "float32")}, atol=1e-5,
         grad=False, label="tensor-window"),
    Case("istft", (_pair(2, 11, 5), 8, 4, 8), atol=1e-5),
    Case("istft", (_pair(2, 11, 5), 6, 4, 8), {"window": "hamming", "length": 30, "center": False}, atol=1e-5,
         label="hamming-length"),
]

# Keras 3 math-group names not implemented here, with the reason. (None today.)
LEFT_OUT: dict[str, str] = {}


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_op_matches_keras(case):
    run_case(case)


def test_table_covers_every_keras_math_op():
    assert_group_covered(ops_math, keras_op_names(keras_ref.ops, ("keras.src.ops.math",)), CASES, LEFT_OUT)
    assert set(JIT_SAMPLE) <= {case.id for case in CASES}


JIT_SAMPLE = ("segment_sum-sorted", "top_k", "in_top_k-k3", "logsumexp-axes-keepdims", "extract_sequences",
              "rfft-padded", "erfinv", "stft")


@pytest.mark.parametrize("case", [c for c in CASES if c.id in JIT_SAMPLE], ids=lambda c: c.id)
def test_op_under_jit_matches_eager(case):
    assert_jit_matches_eager(case)


def test_istft_inverts_stft():
    spectrum = kerasish.ops.stft(SIGNAL, 8, 4, 8)   # the shapes of the stft row, so nothing recompiles
    np.testing.assert_allclose(kerasish.ops.istft(spectrum, 8, 4, 8, length=40), SIGNAL, atol=1e-5)


def test_istft_gives_back_keras_documented_example():
    # Keras's docstring promises the signal back; its JAX backend returns an empty array for
    # fft_length=1 (it cuts [0:-0]). We return the documented result.
    signal = np.array([0.0, 1.0, 2.0, 3.0, 4.0], "float32")
    np.testing.assert_allclose(kerasish.ops.istft(kerasish.ops.stft(signal, 1, 1, 1), 1, 1, 1), signal)


def test_ops_read_variables_as_their_values():
    data, variable = rand(6, 3), nnx.Param(jnp.asarray(rand(6, 3)))
    value = np.asarray(variable.get_value())
    np.testing.assert_allclose(kerasish.ops.logsumexp(variable, axis=0), keras_ref.ops.logsumexp(value, axis=0))
    np.testing.assert_allclose(kerasish.ops.segment_max(variable, UNSORTED_IDS, 3),
                               keras_ref.ops.segment_max(value, UNSORTED_IDS, 3))
    np.testing.assert_allclose(kerasish.ops.top_k(variable, 2)[0], keras_ref.ops.top_k(value, 2)[0])
    np.testing.assert_allclose(kerasish.ops.cdist(variable, data), keras_ref.ops.cdist(value, data), rtol=1e-6)


def test_segment_ops_infer_num_segments_eagerly_and_ask_for_it_under_jit():
    # Keras documents the inference; its JAX backend raises instead. Both agree once it is given.
    data = rand(6, 3)
    np.testing.assert_allclose(kerasish.ops.segment_sum(data, UNSORTED_IDS),
                               keras_ref.ops.segment_sum(data, UNSORTED_IDS, num_segments=3))
    with pytest.raises(ValueError, match="num_segments"):
        jax.jit(kerasish.ops.segment_max)(data, UNSORTED_IDS)


@pytest.mark.parametrize("call, error, match", [
    (lambda ops: ops.segment_sum(rand(6, 3), SORTED_IDS[:, None], 4), ValueError, "1-D"),
    (lambda ops: ops.segment_sum(rand(5, 3), SORTED_IDS, 4), ValueError, "leading dimension"),
    (lambda ops: ops.fft(rand(4)), ValueError, "pair"),
    (lambda ops: ops.fft((rand(4), rand(5))), ValueError, "same shape"),
    (lambda ops: ops.fft((rand(4, dtype="int32"), rand(4, dtype="int32"))), ValueError, "float"),
    (lambda ops: ops.stft(rand(20), 8, 0, 8), ValueError, "sequence_stride"),
    (lambda ops: ops.stft(rand(20, dtype="float16"), 8, 2, 8), TypeError, "float32"),
    (lambda ops: ops.stft(rand(20), 8, 2, 4), ValueError, "fft_length"),
    (lambda ops: ops.stft(rand(20), 8, 2, 8, window="blackman"), ValueError, "window"),
    (lambda ops: ops.stft(rand(20), 8, 2, 8, window=np.ones(5)), ValueError, "window"),
    (lambda ops: ops.view_as_complex(rand(3, 3)), ValueError, "size 2"),
    (lambda ops: ops.cdist(rand(3, 2), rand(3, 4)), ValueError, "last dimension"),
], ids=["segment-rank", "segment-length", "fft-pair", "fft-shapes", "fft-dtype", "stft-stride",
        "stft-dtype", "stft-length", "stft-window-name", "stft-window-shape", "view-as-complex", "cdist"])
def test_invalid_arguments_raise_as_in_keras(call, error, match):
    with pytest.raises(error, match=match):
        call(kerasish.ops)
    with pytest.raises(error):
        call(keras_ref.ops)
