"""keras.ops nn group against Keras 3's own `keras.ops.nn` (JAX backend): values, dtypes, gradients.

The table `CASES` is the list of supported ops (every Keras name appears in it); rows differ by
shape, dtype, axis, data_format and the op's own arguments. Every row compares values and dtypes;
gradients are compared on each op's first (float32) row and on rows marked `grad=True` whose
arguments change the backward pass, which keeps the file fast. Where Keras 3's JAX backend itself
fails (max_pool's default strides) the op is checked against an independent reference instead.
"""

import dataclasses
import itertools
import warnings

import jax
import jax.experimental.sparse
import jax.numpy as jnp
import keras as keras_ref
import numpy as np
import pytest
from flax import nnx
from harness import (Case, assert_group_covered, assert_jit_matches_eager, compiled, ids, keras_op_names, rand,
                     run_case, run_case_compiled)

import kerasish

F32, BF16, F16 = "float32", "bfloat16", "float16"

# Keras's nn names that kerasish leaves out, with the reason. Empty: all are implemented.
LEFT_OUT: dict[str, str] = {}

UNARY = ["relu", "relu6", "sigmoid", "sparse_sigmoid", "softplus", "softsign", "sparse_plus", "silu",
         "swish", "squareplus", "log_sigmoid", "leaky_relu", "hard_sigmoid", "hard_silu",
         "hard_swish", "elu", "selu", "gelu", "celu", "glu", "hard_tanh", "tanh_shrink",
         "soft_shrink", "hard_shrink", "softmax", "log_softmax", "sparsemax"]
# Those Keras 3 also accepts on int32 input (the others raise there, in Keras and here alike).
INT_OK = {"relu", "relu6", "sparse_sigmoid", "softplus", "softsign", "sparse_plus", "squareplus",
          "log_sigmoid", "leaky_relu", "hard_sigmoid", "hard_silu", "hard_swish", "elu", "selu",
          "gelu", "celu", "hard_tanh", "tanh_shrink", "soft_shrink", "hard_shrink", "softmax",
          "log_softmax", "sparsemax"}


def _activation_cases():
    cases = []
    for i, name in enumerate(UNARY):
        cases.append(Case(name, (rand(3, 4),)))
        if i % 2 == 0:  # low precision and ints on every other activation: same code paths
            cases.append(Case(name, (rand(3, 4, dtype=BF16, seed=1),), label="bf16"))
        if name in INT_OK and i % 2 == 1:
            cases.append(Case(name, (rand(3, 4, dtype="int32", low=-3, high=4),), label="int32"))
    cases.append(Case("relu", (rand(5, dtype=F16),), label="f16"))
    for name in ("relu", "hard_tanh"):  # the two that keep int32 (Keras's others give float32)
        cases.append(Case(name, (rand(3, 4, dtype="int32", low=-3, high=4),), label="int32"))
    cases.append(Case("gelu", (rand(5, dtype=F16),), label="f16"))
    x = rand(4, 6, seed=2)
    return cases + [
        Case("leaky_relu", (x,), {"negative_slope": 0.05}, label="slope"),
        Case("elu", (x,), {"alpha": 0.5}, label="alpha"),
        Case("celu", (x,), {"alpha": 2.0}, label="alpha"),
        Case("gelu", (x,), {"approximate": False}, label="exact", grad=True),
        Case("squareplus", (x,), {"b": 2}, label="b"),
        Case("soft_shrink", (x,), {"threshold": 1.0}, label="threshold"),
        Case("hard_shrink", (x,), {"threshold": 1.0}, label="threshold"),
        Case("threshold", (x, 0.5, -1.0)),
        Case("threshold", (rand(6, dtype="int32", low=-3, high=3), 0, 7), label="int32"),
        Case("glu", (x,), {"axis": 0}, label="axis0"),
        Case("softmax", (x,), {"axis": 0}, label="axis0"),
        Case("softmax", (rand(2, 3, 4),), {"axis": (0, 2)}, label="tuple", grad=True),
        Case("log_softmax", (rand(2, 3, 4),), {"axis": (1, 2)}, label="tuple"),
        Case("log_softmax", (x,), {"axis": 0}, label="axis0"),
        Case("sparsemax", (x * 3,), {"axis": 0}, label="axis0"),
    ]


def _conv_cases():
    x1, x2, x3 = rand(2, 9, 3), rand(2, 8, 7, 3, seed=1), rand(1, 5, 6, 4, 2, seed=2)
    k1, k2, k3 = rand(3, 3, 4, seed=3), rand(3, 2, 3, 5, seed=4), rand(2, 3, 2, 2, 3, seed=5)
    x2_cf = np.ascontiguousarray(x2.transpose(0, 3, 1, 2))
    return [
        Case("conv", (x1, k1), label="1d"),
        Case("conv", (x1, k1), {"strides": 2, "padding": "same"}, label="1d-same-s2"),
        Case("conv", (x2, k2), label="2d"),
        Case("conv", (x2, k2), {"padding": "same", "strides": (2, 1)}, label="2d-same-s21"),
        Case("conv", (x2, k2), {"dilation_rate": 2, "padding": "SAME"}, label="2d-dilated"),
        Case("conv", (x2, k2), {"strides": 2, "dilation_rate": 2, "padding": "same"}, label="2d-s2-d2"),
        Case("conv", (x2_cf, k2), {"data_format": "channels_first", "padding": "same"}, label="2d-cf",
             grad=True),
        Case("conv", (rand(2, 6, 6, 4), rand(3, 3, 2, 6, seed=1)), label="2d-groups"),
        Case("conv", (x3, k3), {"padding": "same"}, label="3d"),
        Case("conv", (rand(1, 6, 6, 2, dtype=BF16), rand(3, 3, 2, 2, dtype=BF16, seed=1)), label="bf16"),
        Case("conv", (rand(1, 6, 6, 2, dtype="int32", low=-3, high=3), rand(3, 3, 2, 2)), label="int-in"),
        Case("conv_transpose", (x1, rand(3, 5, 3)), label="1d"),
        Case("conv_transpose", (x2, rand(3, 3, 4, 3)), {"strides": 2, "padding": "same"}, label="2d-same"),
        Case("conv_transpose", (x2, rand(3, 3, 4, 3)), {"strides": 2, "output_padding": 1},
             label="2d-outpad", grad=True),
        Case("conv_transpose", (x2, rand(2, 3, 2, 3)), {"strides": (2, 3), "padding": "same",
                                                        "output_padding": (1, 0)}, label="2d-mixed"),
        Case("conv_transpose", (x2, rand(3, 3, 4, 3)), {"dilation_rate": 2}, label="2d-dilated"),
        Case("conv_transpose", (x2_cf, rand(3, 3, 4, 3)), {"data_format": "channels_first",
                                                           "strides": 2}, label="2d-cf"),
        Case("conv_transpose", (x3, rand(2, 2, 2, 3, 2)), {"strides": 2}, label="3d"),
        Case("depthwise_conv", (x1, rand(3, 3, 2)), {"padding": "same"}, label="1d"),
        Case("depthwise_conv", (x2, rand(3, 3, 3, 2)), {"strides": 2}, label="2d"),
        Case("depthwise_conv", (x2_cf, rand(2, 2, 3, 1)), {"data_format": "channels_first",
                                                           "dilation_rate": 2}, label="2d-cf"),
        Case("separable_conv", (x2, rand(3, 3, 3, 2), rand(1, 1, 6, 4)), {"padding": "same"}, label="2d"),
        Case("separable_conv", (x1, rand(3, 3, 1), rand(1, 3, 5)), {"strides": 2}, label="1d"),
    ]


def _pool_cases():
    x1, x2, x3 = rand(2, 9, 3), rand(2, 8, 7, 3, seed=1), rand(1, 5, 6, 4, 2, seed=2)
    x2_cf = np.ascontiguousarray(x2.transpose(0, 3, 1, 2))
    cases = []
    for name in ("max_pool", "average_pool"):
        cases += [
            Case(name, (x1, 2, 2), label="1d"),
            Case(name, (x2, 2, 2), label="2d"),
            Case(name, (x2, 3, 2, "same"), label="2d-same", grad=True),
            Case(name, (x2, (2, 3), (1, 2)), label="2d-rect"),
            Case(name, (x2_cf, 2, 1, "same", "channels_first"), label="2d-cf"),
            Case(name, (x3, 2, 2, "same"), label="3d"),
            Case(name, (rand(1, 6, 6, 2, dtype=BF16), 2, 2), label="bf16"),
        ]
    # Ties (all-equal windows, as after a relu): the gradient goes where Keras's goes.
    cases.append(Case("max_pool", (np.zeros((1, 4, 4, 2), F32), 2, 2), label="ties", grad=True))
    for name in ("adaptive_max_pool", "adaptive_average_pool"):
        cases += [Case(name, (x2, (3, 5)), label="2d"),
                  Case(name, (x2_cf, 3), {"data_format": "channels_first"}, label="2d-cf")]
    return cases + [Case("adaptive_max_pool", (x1, 4), label="1d"),
                    Case("adaptive_average_pool", (x3, (2, 4, 3)), label="3d")]


def _shape_cases():
    x = rand(2, 3, 8, 7)
    blocks = np.asarray(keras_ref.ops.unfold(x, 3, padding=1, stride=2))
    return [
        Case("unfold", (x, 3), label="k3"),
        Case("unfold", (x, (2, 3)), {"dilation": 2, "padding": 1, "stride": (1, 2)}, label="args"),
        Case("fold", (blocks, (8, 7), 3), {"padding": 1, "stride": 2}),
        Case("fold", (rand(1, 8, 12), (4, 5), 2), label="plain"),
        Case("depth_to_space", (rand(2, 3, 4, 8), 2)),
        Case("depth_to_space", (rand(2, 18, 2, 3), 3, "channels_first"), label="cf"),
        Case("space_to_depth", (rand(2, 4, 6, 3), 2)),
        Case("space_to_depth", (rand(2, 3, 6, 6), 3, "channels_first"), label="cf"),
    ]


def _encoding_and_loss_cases():
    labels = np.array([[0, 2, 1], [3, 3, -1]], "int32")
    probs = rand(4, 5, low=0.05, high=1.0)
    onehot = np.eye(5, dtype="float32")[[0, 3, 4, 1]]
    return [
        Case("one_hot", (labels, 4)),
        Case("one_hot", (labels, 4), {"axis": 0, "dtype": "int32"}, label="axis0-int"),
        Case("one_hot", (np.array([1, 0, 2]), 3), {"dtype": BF16}, label="bf16"),
        Case("multi_hot", (labels, 4)),
        Case("multi_hot", (np.array([0, 2, 2]), 4), {"dtype": "int32"}, label="1d-int"),
        Case("multi_hot", (labels,), {"num_tokens": 5}, label="num_tokens"),
        Case("binary_crossentropy", (rand(4, 3, low=0, high=1), rand(4, 3, low=0, high=1, seed=1))),
        Case("binary_crossentropy", (rand(4, 3, low=0, high=1), rand(4, 3, seed=1)),
             {"from_logits": True}, label="logits"),
        Case("categorical_crossentropy", (onehot, probs)),
        Case("categorical_crossentropy", (onehot, rand(4, 5)), {"from_logits": True}, label="logits"),
        Case("categorical_crossentropy", (onehot.T.copy(), probs.T.copy()), {"axis": 0}, label="axis0"),
        Case("sparse_categorical_crossentropy", (np.array([0, 3, 4, 1]), probs)),
        Case("sparse_categorical_crossentropy", (np.array([[0], [3], [4], [1]]), rand(4, 5)),
             {"from_logits": True}, label="logits-col"),
    ]


def _norm_cases():
    x = rand(2, 5, 4)
    gamma, beta = rand(4, seed=1), rand(4, seed=2)
    return [
        Case("moments", (x, [0, 1])),
        Case("moments", (x, (2,)), {"keepdims": True}, label="keepdims"),
        Case("moments", (rand(3, 4, dtype=F16), [0]), label="f16"),
        Case("batch_normalization", (x, rand(4), rand(4, low=0.5, high=2), -1, gamma, beta)),
        Case("batch_normalization", (x, rand(5), rand(5, low=0.5, high=2), 1), {"epsilon": 0.1},
             label="axis1"),
        Case("normalize", (x,)),
        Case("normalize", (x,), {"axis": 1, "order": 1}, label="l1-axis1"),
        Case("normalize", (x,), {"order": 3, "epsilon": 1e-3}, label="l3"),
        Case("rms_normalization", (x,)),
        Case("rms_normalization", (x, rand(5, 4)), {"axis": (1, 2)}, label="scale-axes"),
        Case("rms_normalization", (rand(3, 6, dtype=BF16), rand(6, dtype=BF16)), label="bf16"),
        Case("layer_normalization", (x, gamma, beta)),
        Case("layer_normalization", (x,), {"axis": (1, 2), "epsilon": 1e-3}, label="axes"),
        Case("layer_normalization", (x, rand(5), rand(5)), {"axis": 1}, label="axis1"),
        Case("layer_normalization", (rand(3, 6, dtype=F16), rand(6, dtype=F16)), label="f16"),
        Case("psnr", (rand(4, 4, low=0, high=1), rand(4, 4, low=0, high=1, seed=1), 1.0)),
        Case("polar", (rand(3, low=0.5, high=2), rand(3, seed=1)), compare=_complex_close),
    ]


def _complex_close(ours, ref):
    assert ours.dtype == ref.dtype
    np.testing.assert_allclose(np.asarray(ours), np.asarray(ref), rtol=1e-6, atol=1e-6)


def _attention_cases():
    q, k, v = rand(2, 5, 4, 8), rand(2, 6, 4, 8, seed=1), rand(2, 6, 4, 8, seed=2)
    mask = rand(2, 1, 5, 6, dtype="bool", seed=3)
    mask[..., 0] = True
    return [
        Case("dot_product_attention", (q, k, v)),
        Case("dot_product_attention", (q, k, v), {"mask": mask}, label="mask"),
        Case("dot_product_attention", (q, k, v), {"bias": rand(2, 4, 5, 6, seed=4), "scale": 0.3},
             label="bias-scale"),
        Case("dot_product_attention", (q, q, q), {"is_causal": True}, label="causal"),
        Case("dot_product_attention", (q, k[:, :, :2], v[:, :, :2]), label="grouped"),
        Case("dot_product_attention", (rand(1, 3, 2, 4, dtype=BF16), rand(1, 3, 2, 4, dtype=BF16, seed=1),
                                       rand(1, 3, 2, 4, dtype=BF16, seed=2)), label="bf16"),
    ]


def _ctc_cases():
    logits = rand(3, 7, 4, low=-3, high=3)
    target = np.array([[1, 2, 2], [3, 1, 0], [2, 0, 0]], "int32")
    lengths = np.array([7, 6, 4], "int32")
    return [
        # ctc_loss's gradient (a scan) is compared compiled, in test_ctc_gradients_and_beam_*.
        Case("ctc_loss", (target, logits, np.array([3, 2, 1]), lengths), grad=False),
        Case("ctc_loss", (target, logits, np.array([3, 2, 1]), lengths, 3), label="mask3"),
        Case("ctc_decode", (logits, lengths), label="greedy"),
        Case("ctc_decode", (logits, lengths), {"merge_repeated": False, "mask_index": None},
             label="greedy-nomerge"),
    ]


def gradients_on_first_rows(cases: list[Case]) -> list[Case]:
    """Keeps gradient checks on each op's first row and on rows asking for them (`grad=True`)."""
    seen, out = set(), []
    for case in cases:
        first = case.name not in seen
        seen.add(case.name)
        out.append(case if first or case.grad is not None else dataclasses.replace(case, grad=False))
    return out


CASES = gradients_on_first_rows(
    _activation_cases() + _conv_cases() + _pool_cases() + _shape_cases()
    + _encoding_and_loss_cases() + _norm_cases() + _attention_cases() + _ctc_cases())


# Ops whose eager evaluation (ours and Keras's) compiles op by op: their rows run compiled.
COMPILED = {"adaptive_max_pool", "adaptive_average_pool", "ctc_loss", "ctc_decode",
            "dot_product_attention", "layer_normalization", "rms_normalization", "fold", "unfold",
            "sparsemax", "moments", "batch_normalization", "normalize", "psnr"}


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_against_keras(case):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (run_case_compiled if case.name in COMPILED else run_case)(case)


JIT_SAMPLE = ["relu-bf16", "softmax-tuple", "conv-2d-dilated", "conv_transpose-2d-outpad",
              "max_pool-2d-same", "adaptive_average_pool-2d", "layer_normalization-axes",
              "dot_product_attention-mask", "fold", "multi_hot"]


@pytest.mark.parametrize("case", [c for c in CASES if c.id in JIT_SAMPLE], ids=lambda c: c.id)
def test_under_jit(case):
    assert_jit_matches_eager(case, rtol=1e-5)


def test_every_keras_nn_op_is_implemented_and_in_the_table():
    assert_group_covered(kerasish.ops.nn, keras_op_names(keras_ref.ops.nn), CASES, LEFT_OUT)


def test_variables_and_python_scalars_are_inputs():
    ops = kerasish.ops
    x = nnx.Param(jnp.asarray(rand(1, 5, 5, 2)))
    kernel = nnx.Param(jnp.asarray(rand(3, 3, 2, 4, seed=1)))
    np.testing.assert_allclose(ops.conv(x, kernel), keras_ref.ops.conv(x[...], kernel[...]),
                               rtol=1e-6, atol=1e-6)
    gamma = nnx.Param(jnp.ones(2))
    np.testing.assert_allclose(ops.layer_normalization(x, gamma), keras_ref.ops.layer_normalization(
        x[...], gamma[...]), rtol=1e-6, atol=1e-6)
    assert isinstance(ops.relu(x), jax.Array)
    assert ops.sigmoid(0.0).dtype == jnp.float32 and float(ops.sigmoid(0.0)) == 0.5
    assert ops.relu(-3).dtype == jnp.int32


def test_max_pool_default_strides_equal_pool_size():
    # Keras 3.15's JAX backend raises here (it widens `strides` twice); Keras documents
    # strides=None as pool_size, which is what kerasish does.
    x = rand(2, 8, 6, 3)
    np.testing.assert_array_equal(kerasish.ops.max_pool(x, 2), keras_ref.ops.max_pool(x, 2, 2))
    np.testing.assert_allclose(kerasish.ops.average_pool(x, (2, 3)),
                               keras_ref.ops.average_pool(x, (2, 3), (2, 3)), rtol=1e-6)


def test_fold_is_the_adjoint_of_unfold():
    x, blocks = rand(2, 3, 6, 5), rand(2, 27, 9, seed=1)
    unfolded = kerasish.ops.unfold(x, 3, padding=1, stride=2)
    folded = kerasish.ops.fold(blocks, (6, 5), 3, padding=1, stride=2)
    np.testing.assert_allclose(jnp.vdot(unfolded, blocks), jnp.vdot(x, folded), rtol=1e-5)


def _exact_ctc_prefix_log_probs(logits, blank):
    """Every alignment enumerated: log P(prefix) = log sum of its alignments' probabilities."""
    probs = np.exp(logits - logits.max(-1, keepdims=True))
    probs /= probs.sum(-1, keepdims=True)
    totals = {}
    for alignment in itertools.product(range(logits.shape[1]), repeat=logits.shape[0]):
        collapsed = tuple(c for i, c in enumerate(alignment)
                          if c != blank and (i == 0 or c != alignment[i - 1]))
        totals[collapsed] = totals.get(collapsed, 0.0) + np.prod(probs[np.arange(len(alignment)),
                                                                       alignment])
    return {k: np.log(v) for k, v in totals.items()}


def test_ctc_gradients_and_beam_search_match_keras_compiled():
    # Both run a scan; compiled, each side compiles once instead of op by op.
    logits = rand(3, 7, 4, low=-3, high=3)
    target, lengths = np.array([[1, 2, 2], [3, 1, 0], [2, 0, 0]], "int32"), np.array([3, 2, 1])

    def loss_grad(ops):
        return jax.grad(lambda o: ops.ctc_loss(target, o, lengths, np.array([7, 6, 4])).sum())

    np.testing.assert_allclose(compiled(loss_grad(kerasish.ops), logits),
                               compiled(loss_grad(keras_ref.ops), logits), rtol=1e-5, atol=1e-6)
    small, frames = rand(2, 4, 3, low=-2, high=2, seed=1), np.array([4, 3])
    options = {"strategy": "beam_search", "beam_width": 3, "top_paths": 2}  # a pruned beam
    ours = compiled(kerasish.ops.ctc_decode, small, frames, **options)
    ref = compiled(keras_ref.ops.ctc_decode, small, frames, **options)
    np.testing.assert_array_equal(ours[0], ref[0])
    np.testing.assert_allclose(ours[1], ref[1], rtol=1e-6)


def test_beam_search_finds_the_exact_most_probable_labelings():
    # 4 frames of 2 labels have 31 distinct labelings: a beam of 32 keeps them all.
    logits = rand(4, 3, low=-2, high=2, seed=7)
    exact = sorted(_exact_ctc_prefix_log_probs(logits.astype(np.float64), blank=0).items(),
                   key=lambda kv: -kv[1])
    paths, scores = compiled(kerasish.ops.ctc_decode, logits[None], np.array([4]),
                             strategy="beam_search", beam_width=32, top_paths=3)
    for rank in range(3):
        labels, log_prob = exact[rank]
        assert tuple(int(c) for c in paths[rank, 0] if c >= 0) == labels
        np.testing.assert_allclose(scores[0, rank], log_prob, rtol=1e-5)


def test_sparse_one_hot_and_multi_hot_densify_to_keras_values():
    labels = np.array([[0, 2], [1, 1]], "int32")
    for name in ("one_hot", "multi_hot"):
        encoded = compiled(lambda v: getattr(kerasish.ops, name)(v, 3, sparse=True), labels)
        assert isinstance(encoded, jax.experimental.sparse.BCOO)
        np.testing.assert_array_equal(encoded.todense(), getattr(keras_ref.ops, name)(labels, 3))


def test_softmax_over_a_unit_axis_warns_as_keras_does():
    with pytest.warns(UserWarning, match="axis -1"):
        kerasish.ops.softmax(np.ones((3, 1), "float32"))


@pytest.mark.parametrize("call, error, match", [
    (lambda o: o.conv(rand(1, 5, 5, 3), rand(3, 3, 2, 1)), ValueError, "evenly divisible"),
    (lambda o: o.conv(rand(1, 2, 2, 1), rand(3, 3, 1, 1)), ValueError, "empty output"),
    (lambda o: o.conv(rand(1, 5, 5, 1), rand(3, 3, 1, 1), padding="full"), ValueError, "padding"),
    (lambda o: o.conv(rand(1, 5, 5, 1), rand(3, 3, 1, 1), data_format="nhwc"), ValueError, "data_format"),
    (lambda o: o.conv(rand(1, 5, 5, 1), rand(3, 3, 1, 1), strides=(1, 1, 1)), ValueError, "strides"),
    (lambda o: o.depthwise_conv(rand(1, 5, 5, 2), rand(3, 3, 3, 1)), ValueError, "input channels"),
    (lambda o: o.conv_transpose(rand(1, 5, 5, 2), rand(3, 3, 2, 3)), ValueError, "input channels"),
    (lambda o: o.adaptive_max_pool(rand(2, 3), 2), ValueError, "1D/2D/3D"),
    (lambda o: o.unfold(rand(2, 3, 4), 2), ValueError, "4D"),
    (lambda o: o.fold(rand(2, 3, 4, 1), 4, 2), ValueError, "3D"),
    (lambda o: o.depth_to_space(rand(1, 2, 2, 4), 1), ValueError, "block_size"),
    (lambda o: o.binary_crossentropy(rand(3), rand(4)), ValueError, "same shape"),
    (lambda o: o.sparse_categorical_crossentropy(np.zeros(3, "int32"), rand(2, 4)), ValueError, "same shape"),
    (lambda o: o.multi_hot(np.array([1])), ValueError, "num_classes"),
    (lambda o: o.multi_hot(np.array([1]), 3, num_tokns=3), TypeError, "num_tokns"),
    (lambda o: o.normalize(rand(3), order=0), ValueError, "order"),
    (lambda o: o.moments(rand(3), 0, synchronized=True), NotImplementedError, "synchronized"),
    (lambda o: o.layer_normalization(rand(3), rms_scale=True), TypeError, "rms_scale"),
    (lambda o: o.dot_product_attention(rand(2, 3, 4), rand(2, 3, 4), rand(2, 3, 4)), ValueError, "4D"),
    (lambda o: o.dot_product_attention(*[rand(1, 2, 1, 2)] * 3, attn_logits_soft_cap=5.0),
     ValueError, "soft_cap"),
    (lambda o: o.ctc_decode(rand(1, 3, 3), np.array([3]), strategy="best"), ValueError, "strategy"),
    (lambda o: o.ctc_decode(rand(1, 3, 3), np.array([3]), strategy="beam_search", beam_width=2,
                            top_paths=3), ValueError, "top_paths"),
    (lambda o: o.psnr(rand(3), rand(4), 1.0), ValueError, "must match"),
    (lambda o: o.polar(np.ones(2, "complex64"), np.ones(2, "float32")), ValueError, "real"),
])
def test_errors_name_what_was_expected_and_received(call, error, match):
    with pytest.raises(error, match=match):
        call(kerasish.ops)


@pytest.mark.skipif(jax.default_backend() == "gpu", reason="flash attention is available on GPU")
def test_flash_attention_without_a_gpu_raises():
    with pytest.raises(RuntimeError, match="cuDNN GPU"):
        kerasish.ops.dot_product_attention(*[rand(1, 2, 1, 8)] * 3, flash_attention=True)
