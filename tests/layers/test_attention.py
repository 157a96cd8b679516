"""The attention family against Keras 3: EinsumDense through the shared contract; MultiHeadAttention,
GroupedQueryAttention, Attention and AdditiveAttention, which take several inputs and masks,
through `check_against_keras` below (copied weights, forward to 1e-5, gradients with respect to
every input and trainable weight to 1e-4, both compiled; configs both ways)."""

import copy
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

import keras as keras_ref
import kerasish
from contract import FORWARD_TOL, GRAD_TOL, Row, _close, _plain, run_contract, table
from keras.src import backend as keras_backend
from kerasish.layers.masks import get_keras_mask

EINSUM_ROWS = [
    Row("EinsumDense", dict(equation="ab,bc->ac", output_shape=4, bias_axes="c"), (3, 5), "dense"),
    Row("EinsumDense", dict(equation="abc,cde->abde", output_shape=(3, 2, 4), bias_axes="de"), (2, 3, 5), "heads"),
    Row("EinsumDense", dict(equation="abc,cd->abd", output_shape=(3, 4), bias_axes="b"), (2, 3, 5),
        "bias-on-sequence"),
    Row("EinsumDense", dict(equation="...b,bc->...c", output_shape=4, bias_axes="c", activation="relu"),
        (2, 3, 5), "left-ellipsis"),
    Row("EinsumDense", dict(equation="ab...,bc->ac...", output_shape=4, bias_axes="c"), (2, 5, 3),
        "right-ellipsis"),
    Row("EinsumDense", dict(equation="abcd,cde->abe", output_shape=(3, 4), kernel_initializer="he_normal"),
        (2, 3, 2, 5), "no-bias-two-bound"),
]


@pytest.mark.parametrize("row", table(EINSUM_ROWS))
def test_einsum_dense_matches_keras(row):
    run_contract(row)


@pytest.mark.parametrize("kwargs, shape, match", [
    (dict(equation="ab->ac", output_shape=3), (2, 4), "Invalid einsum equation"),
    (dict(equation="ab,bc->ad", output_shape=3), (2, 4), "no corresponding dim"),
    (dict(equation="ab,bcx->ac", output_shape=3), (2, 4), "Weight dimension 'x'"),
    (dict(equation="ab,bc->ac", output_shape=3, bias_axes="x"), (2, 4), "Bias dimension 'x'"),
    (dict(equation="abc,cd->abd", output_shape=(7, 3)), (2, 4, 5), "do not match at shared dimension"),
    (dict(equation="ab,bc->ac", output_shape=3), (2, 4, 5), "expects inputs of rank 2"),
])
def test_einsum_dense_refuses_what_keras_refuses(kwargs, shape, match):
    with pytest.raises(ValueError, match=match):
        kerasish.layers.EinsumDense(**kwargs)(np.ones(shape, "float32"))


def test_einsum_dense_kernel_initializer_uses_fan_axes_and_keeps_config():
    layer = kerasish.layers.EinsumDense("abc,cde->abde", output_shape=(None, 8, 16), bias_axes="de",
                                        kernel_initializer="glorot_uniform")
    layer.build((None, 5, 64))
    limit = np.sqrt(6 / (64 + 8 * 16))  # fans over the input axis and the two output axes
    kernel = np.asarray(layer.kernel)
    assert kernel.shape == (64, 8, 16) and np.abs(kernel).max() <= limit and np.abs(kernel).max() > 0.8 * limit
    assert layer.get_config()["kernel_initializer"]["config"]["input_axes"] is None
    assert layer.compute_output_shape((None, 5, 64)) == (None, 5, 8, 16)


# -- layers with several inputs -----------------------------------------------------------------------
def _rand(shape, seed):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def _mask(shape, seed, keep_first=True):
    mask = np.random.default_rng(seed).random(shape) > 0.4
    if keep_first:
        mask[..., 0] = True
    return mask


def _build_pair(class_name, kwargs, args, call):
    ref = getattr(keras_ref.layers, class_name)(**copy.deepcopy(kwargs))
    ours = getattr(kerasish.layers, class_name)(**copy.deepcopy(kwargs))
    ref(*args, **call)
    ours(*args, **call)
    rng = np.random.default_rng(7)
    ref.set_weights([rng.normal(scale=0.5, size=w.shape).astype(w.dtype) for w in ref.get_weights()])
    assert [w.name for w in ours.weights] == [w.name for w in ref.weights], "weight names or order differ"
    assert [tuple(w.shape) for w in ours.weights] == [tuple(w.shape) for w in ref.weights]
    assert len(ours.trainable_weights) == len(ref.trainable_weights)
    ours.set_weights(ref.get_weights())
    return ref, ours


def _loss_with_probes(outputs, probes):
    leaves = [o for o in jax.tree.leaves(outputs)]
    return sum(jnp.sum(o * p) for o, p in zip(leaves, probes))


def check_against_keras(class_name, kwargs, args, call=None, keras_query_mask=None, training=False):
    """Builds both layers on `args`, copies Keras's (random) weights into ours, and compares the
    outputs of `layer(*args, **call)` and the gradients of `sum(outputs * probes)` with respect to
    the inputs and trainable weights, both compiled. Keras 3.15's MultiHeadAttention reads the
    query mask only from the query's `_keras_mask`: `keras_query_mask` is attached there for
    Keras while ours receives it as `query_mask=`. Returns (ref, ours, our outputs)."""
    call = dict(call or {})
    ref, ours = _build_pair(class_name, kwargs, args, call)
    our_call = dict(call, query_mask=keras_query_mask) if keras_query_mask is not None else call
    frozen = [v.value for v in ref.non_trainable_variables]

    def ref_forward(weights, inputs):
        if keras_query_mask is not None:
            keras_backend.set_keras_mask(inputs[0], jnp.asarray(keras_query_mask))
        return ref.stateless_call(weights, frozen, *inputs, training=training, **call)[0]

    graphdef, params, rest = nnx.split(ours, nnx.Param, ...)

    def our_forward(p, inputs):
        return nnx.merge(graphdef, p, rest, copy=True)(*inputs, training=training, **our_call)

    args = jax.tree.map(jnp.asarray, list(args))
    ref_weights = [v.value for v in ref.trainable_variables]
    ref_out = jax.jit(ref_forward)(ref_weights, args)
    our_out = jax.jit(our_forward)(params, args)
    eager = ours(*args, training=training, **our_call)
    for a, b, c in zip(jax.tree.leaves(our_out), jax.tree.leaves(ref_out), jax.tree.leaves(eager)):
        _close(a, b, FORWARD_TOL, "forward")
        _close(c, b, FORWARD_TOL, "eager forward")
        assert a.dtype == b.dtype
    rng = np.random.default_rng(3)
    probes = [rng.normal(size=o.shape).astype("float32") for o in jax.tree.leaves(ref_out)]
    ref_grads = jax.jit(jax.grad(lambda w, i: _loss_with_probes(ref_forward(w, i), probes), argnums=(0, 1)))(
        ref_weights, args)
    our_grads = jax.jit(jax.grad(lambda p, i: _loss_with_probes(our_forward(p, i), probes), argnums=(0, 1)))(
        params, args)
    for g, g_ref in zip(jax.tree.leaves(our_grads[1]), jax.tree.leaves(ref_grads[1])):
        _close(g, g_ref, GRAD_TOL, "gradient w.r.t. an input")
    by_path = dict(nnx.to_flat_state(our_grads[0]))
    paths = {id(node): path for path, node in nnx.iter_graph(ours)}
    for i, (w, g_ref) in enumerate(zip(ours.trainable_weights, ref_grads[0])):
        _close(by_path[paths[id(w)]].get_value(), g_ref, GRAD_TOL, f"gradient w.r.t. weight {i} ({w.name})")
    return ref, ours, our_out


def check_configs(ref, ours):
    """Configs equal key by key; Keras's config loads into kerasish, ours into Keras."""
    ref_config, our_config = ref.get_config(), ours.get_config()
    assert list(our_config) == list(ref_config)
    for key in ref_config:
        if key != "name":
            assert _plain(our_config[key]) == _plain(ref_config[key]), key
    cls = type(ours)
    from_keras = kerasish.layers.deserialize({"class_name": type(ref).__name__, "config": copy.deepcopy(ref_config)})
    assert isinstance(from_keras, cls)
    back = type(ref).from_config(copy.deepcopy(cls.from_config(copy.deepcopy(our_config)).get_config()))
    assert _plain({k: v for k, v in back.get_config().items() if k != "name"}) == \
        _plain({k: v for k, v in ref_config.items() if k != "name"})


Q = _rand((2, 5, 6), 0)
V = _rand((2, 7, 8), 1)
K = _rand((2, 7, 4), 2)

MHA_CASES = [
    ("self", dict(num_heads=2, key_dim=3), (Q, Q), {}, None),
    ("cross-key", dict(num_heads=3, key_dim=2), (Q, V, K), {}, None),
    ("value-dim", dict(num_heads=3, key_dim=2, value_dim=4), (Q, V, K), dict(return_attention_scores=True), None),
    ("no-bias-output-shape", dict(num_heads=2, key_dim=3, use_bias=False, output_shape=(3, 2)), (Q, V), {}, None),
    ("attention-mask", dict(num_heads=2, key_dim=3), (Q, V), dict(attention_mask=_mask((2, 5, 7), 4)), None),
    ("causal", dict(num_heads=2, key_dim=3), (Q, Q), dict(use_causal_mask=True), None),
    ("causal-and-value-mask", dict(num_heads=2, key_dim=3), (Q, Q),
     dict(use_causal_mask=True, value_mask=_mask((2, 5), 5)), None),
    ("query-value-key-masks", dict(num_heads=2, key_dim=3), (Q, V, K),
     dict(value_mask=_mask((2, 7), 6), key_mask=_mask((2, 7), 7)), _mask((2, 5), 8, keep_first=False)),
    ("scores", dict(num_heads=2, key_dim=3), (Q, V), dict(return_attention_scores=True), None),
    ("scores-masks-causal", dict(num_heads=2, key_dim=3), (Q, Q),
     dict(return_attention_scores=True, use_causal_mask=True, attention_mask=_mask((2, 5, 5), 9)),
     _mask((2, 5), 10, keep_first=False)),
    ("dropout-inference", dict(num_heads=2, key_dim=3, dropout=0.3), (Q, V), {}, None),
    ("two-attention-axes", dict(num_heads=2, key_dim=3, attention_axes=(1, 2)),
     (_rand((2, 3, 4, 5), 11), _rand((2, 3, 4, 5), 12)), {}, None),
    ("last-axis-of-rank-4", dict(num_heads=2, key_dim=3, attention_axes=2, output_shape=4),
     (_rand((2, 3, 4, 5), 11), _rand((2, 3, 2, 6), 12)), dict(return_attention_scores=True), None),
    ("gate-sliding-window", dict(num_heads=2, key_dim=3, use_gate=True, sliding_window=2), (Q, Q), {}, None),
]


@pytest.mark.parametrize("label, kwargs, args, call, query_mask", MHA_CASES, ids=[c[0] for c in MHA_CASES])
def test_multi_head_attention_matches_keras(label, kwargs, args, call, query_mask):
    ref, ours, _ = check_against_keras("MultiHeadAttention", kwargs, args, call, keras_query_mask=query_mask)
    check_configs(ref, ours)
    shapes = [(None, *a.shape[1:]) for a in args]
    assert ours.compute_output_shape(*shapes) == ref.compute_output_shape(*shapes)


GQA_CASES = [
    ("self", dict(head_dim=3, num_query_heads=4, num_key_value_heads=2), (Q, Q), {}, None),
    ("cross-key-causal", dict(head_dim=2, num_query_heads=2, num_key_value_heads=1), (Q, _rand((2, 5, 6), 3),
     _rand((2, 5, 6), 4)), dict(use_causal_mask=True), None),
    ("masks-scores", dict(head_dim=3, num_query_heads=4, num_key_value_heads=2, use_bias=False), (Q, Q),
     dict(return_attention_scores=True, value_mask=_mask((2, 5), 5)), None),
    ("query-mask", dict(head_dim=3, num_query_heads=4, num_key_value_heads=4, use_gate=True), (Q, Q),
     dict(query_mask=_mask((2, 5), 6, keep_first=False)), None),
]


@pytest.mark.parametrize("label, kwargs, args, call, query_mask", GQA_CASES, ids=[c[0] for c in GQA_CASES])
def test_grouped_query_attention_matches_keras(label, kwargs, args, call, query_mask):
    ref, ours, _ = check_against_keras("GroupQueryAttention", kwargs, args, call)
    check_configs(ref, ours)


ATTENTION_CASES = [
    ("dot", "Attention", {}, {}),
    ("dot-scale-key", "Attention", dict(use_scale=True), dict(key=True)),
    ("concat-scale", "Attention", dict(use_scale=True, score_mode="concat"), {}),
    ("masks", "Attention", {}, dict(mask=[_mask((2, 5), 1, keep_first=False), _mask((2, 7), 2)])),
    ("causal-scores", "Attention", dict(score_mode="concat"),
     dict(use_causal_mask=True, return_attention_scores=True, mask=[None, _mask((2, 7), 3)])),
    ("dropout-inference", "Attention", dict(dropout=0.4, seed=3), {}),
    ("additive", "AdditiveAttention", {}, dict(key=True)),
    ("additive-no-scale-masks", "AdditiveAttention", dict(use_scale=False),
     dict(mask=[_mask((2, 5), 4, keep_first=False), _mask((2, 7), 5)], return_attention_scores=True)),
    ("additive-causal", "AdditiveAttention", {}, dict(use_causal_mask=True)),
]


@pytest.mark.parametrize("label, class_name, kwargs, call", ATTENTION_CASES, ids=[c[0] for c in ATTENTION_CASES])
def test_attention_layers_match_keras(label, class_name, kwargs, call):
    call = dict(call)
    value = _rand((2, 7, 6), 1)
    inputs = [Q, value, _rand((2, 7, 6), 2)] if call.pop("key", False) else [Q, value]
    ref, ours, out = check_against_keras(class_name, kwargs, ([*inputs],), call)
    check_configs(ref, ours)
    assert ours.compute_output_shape([i.shape for i in inputs]) == ref.compute_output_shape([i.shape for i in inputs])
    mask = call.get("mask")
    if mask is not None and mask[0] is not None:
        output = out[0] if isinstance(out, tuple) else out
        assert np.all(np.asarray(output)[~mask[0]] == 0)
        np.testing.assert_array_equal(ours.compute_mask(inputs, mask), mask[0])


def test_multi_head_attention_with_a_value_dim_of_its_own_needs_no_scores():
    """Keras 3.15 fails here (jax.nn's fused kernel wants one depth); kerasish takes the einsum path."""
    layer = kerasish.layers.MultiHeadAttention(num_heads=3, key_dim=2, value_dim=4)
    out, scores = layer(Q, V, K, return_attention_scores=True)
    np.testing.assert_allclose(layer(Q, V, K), out, rtol=1e-6, atol=1e-6)
    assert scores.shape == (2, 3, 5, 7)


def test_attention_dropout_draws_in_training_only_and_seeded_draws_match_keras():
    x = _rand((2, 5, 6), 0)
    ref, ours = _build_pair("MultiHeadAttention", dict(num_heads=2, key_dim=3, dropout=0.5, seed=3), (x, x), {})
    first, second = ours(x, x, training=True), ours(x, x, training=True)
    assert not np.allclose(first, second)
    _close(ours(x, x), ours(x, x, training=False), 0.0, "inference is deterministic")
    _close(first, ref(x, x, training=True), FORWARD_TOL, "first seeded training call")
    _close(second, ref(x, x, training=True), FORWARD_TOL, "second seeded training call")
    assert len(ours.non_trainable_variables) == len(ref.non_trainable_variables) == 1  # the seed state
    layer = kerasish.layers.Attention(dropout=0.5, seed=4)
    ref_layer = keras_ref.layers.Attention(dropout=0.5, seed=4)
    _close(layer([x, x], training=True), ref_layer([x, x], training=True), FORWARD_TOL, "Attention dropout")
    _close(layer([x, x]), ref_layer([x, x]), FORWARD_TOL, "Attention inference")


def test_multi_head_attention_in_a_functional_model():
    query = kerasish.Input((5, 6))
    value = kerasish.Input((7, 4))
    mask = kerasish.Input((5, 7), dtype="bool")
    output, scores = kerasish.layers.MultiHeadAttention(2, 3, name="mha")(
        query, value, attention_mask=mask, return_attention_scores=True)
    assert output.shape == (None, 5, 6) and scores.shape == (None, 2, 5, 7)
    model = kerasish.Model([query, value, mask], [output, scores])
    out, sc = model([Q, _rand((2, 7, 4), 1), _mask((2, 5, 7), 2)])
    assert out.shape == (2, 5, 6) and np.allclose(np.asarray(sc).sum(-1), 1, atol=1e-5)
    assert [w.shape for w in model.get_layer("mha").weights][0] == (6, 2, 3)


def _transformer_classifier(lib, vocab=40, steps=8, dim=16):
    tokens = lib.Input((steps,), dtype="int32")
    x = lib.layers.Embedding(vocab, dim)(tokens)
    attended = lib.layers.MultiHeadAttention(num_heads=2, key_dim=8)(x, x)
    x = lib.layers.LayerNormalization(epsilon=1e-6)(lib.layers.Add()([x, attended]))
    hidden = lib.layers.Dense(dim, activation="relu")(x)
    x = lib.layers.LayerNormalization(epsilon=1e-6)(lib.layers.Add()([x, hidden]))
    x = lib.layers.GlobalAveragePooling1D()(x)
    return lib.Model(tokens, lib.layers.Dense(1, activation="sigmoid")(x))


def test_transformer_block_fit_matches_keras():
    rng = np.random.default_rng(0)
    tokens = rng.integers(0, 40, size=(32, 8)).astype("int32")
    labels = rng.integers(0, 2, size=(32, 1)).astype("float32")
    ref, ours = _transformer_classifier(keras_ref), _transformer_classifier(kerasish)
    assert [tuple(w.shape) for w in ours.weights] == [tuple(w.shape) for w in ref.weights]
    ours.set_weights(ref.get_weights())
    histories = []
    for model, lib in ((ref, keras_ref), (ours, kerasish)):
        model.compile(optimizer=lib.optimizers.SGD(0.5), loss="binary_crossentropy")
        histories.append(model.fit(tokens, labels, batch_size=16, epochs=3, shuffle=False, verbose=0).history["loss"])
    _close(histories[1], histories[0], 1e-5, "losses of three epochs of SGD")
    for ours_w, ref_w in zip(ours.get_weights(), ref.get_weights()):
        _close(ours_w, ref_w, GRAD_TOL, "weights after fit")
    assert histories[0][-1] < histories[0][0]


def test_attention_arguments_are_checked_like_keras():
    with pytest.raises(ValueError, match="num_heads"):
        kerasish.layers.MultiHeadAttention(num_heads=0, key_dim=2)
    with pytest.raises(ValueError, match="key_dim"):
        kerasish.layers.MultiHeadAttention(num_heads=2, key_dim=None)
    with pytest.raises(ValueError, match="attention_axes"):
        kerasish.layers.MultiHeadAttention(2, 2, attention_axes="last")
    with pytest.raises(ValueError, match="Dropout is not supported when flash attention"):
        kerasish.layers.MultiHeadAttention(2, 2, dropout=0.1, flash_attention=True)
    with pytest.raises(ValueError, match="except the last one"):
        kerasish.layers.MultiHeadAttention(2, 2)(Q, V, _rand((2, 6, 8), 3))
    with pytest.raises(ValueError, match="divisible"):
        kerasish.layers.GroupQueryAttention(head_dim=2, num_query_heads=3, num_key_value_heads=2)
    with pytest.raises(ValueError, match="score_mode"):
        kerasish.layers.Attention(score_mode="add")
    with pytest.raises(ValueError, match="list of inputs"):
        kerasish.layers.Attention()(Q)
    with pytest.raises(ValueError, match="length 2 or 3"):
        kerasish.layers.Attention()([Q])
    with pytest.raises(ValueError, match="mask must be a list"):
        kerasish.layers.Attention()([Q, Q], mask=np.ones((2, 5), bool))


def test_output_mask_is_the_query_mask():
    query_mask = _mask((2, 5), 1, keep_first=False)
    out = kerasish.layers.MultiHeadAttention(2, 3)(Q, V, query_mask=query_mask)
    np.testing.assert_array_equal(get_keras_mask(out), query_mask)
    layer = kerasish.layers.MultiHeadAttention(2, 3)
    assert layer.supports_masking and layer.compute_mask(Q, query_mask) is query_mask
    assert kerasish.layers.Attention().compute_mask([Q, V], None) is None


def test_multi_head_attention_under_mixed_bfloat16_follows_keras():
    x = _rand((2, 5, 8), 0)
    results = []
    for lib in (keras_ref, kerasish):
        lib.mixed_precision.set_global_policy("mixed_bfloat16")
        try:
            layer = lib.layers.MultiHeadAttention(2, 4, name="mha")
            layer(x, x)
            results.append((layer, layer(x, x, use_causal_mask=True)))
        finally:
            lib.mixed_precision.set_global_policy("float32")
    (ref, ref_out), (ours, out) = results
    assert out.dtype == ref_out.dtype == jnp.bfloat16
    assert [jnp.dtype(w.dtype) for w in ours.weights] == [jnp.float32] * 8
    ours.set_weights(ref.get_weights())
    np.testing.assert_allclose(np.asarray(ours(x, x, use_causal_mask=True), "float32"),
                               np.asarray(ref(x, x, use_causal_mask=True), "float32"), rtol=2e-2, atol=2e-2)


def test_attention_and_einsum_dense_in_models():
    query, value = kerasish.Input((5, 6)), kerasish.Input((7, 6))
    attended, scores = kerasish.layers.Attention()([query, value], return_attention_scores=True)
    assert attended.shape == (None, 5, 6) and scores.shape == (None, 5, 7)
    model = kerasish.Sequential([kerasish.Input((5, 6)),
                                 kerasish.layers.EinsumDense("abc,cd->abd", output_shape=(None, 4), bias_axes="d")])
    assert model.output_shape == (None, 5, 4)
    assert model(Q).shape == (2, 5, 4)


@pytest.mark.parametrize("class_name, kwargs", [
    ("GroupQueryAttention", dict(head_dim=2, num_query_heads=2, num_key_value_heads=1)),
    ("MultiHeadAttention", dict(num_heads=2, key_dim=2)), ("EinsumDense", dict(equation="ab,bc->ac", output_shape=3)),
    ("Attention", {}), ("AdditiveAttention", {})])
def test_serialized_entries_load_in_keras_and_back(class_name, kwargs):
    import json
    ref = getattr(keras_ref.layers, class_name)(**kwargs)
    ours = getattr(kerasish.layers, class_name)(**kwargs)
    assert ours.name.split("_")[0] == ref.name.split("_")[0]  # "grouped_query_attention" for both
    entry = json.loads(json.dumps(kerasish.layers.serialize(ours)))
    assert entry["class_name"] == keras_ref.saving.serialize_keras_object(ref)["class_name"]
    assert type(keras_ref.saving.deserialize_keras_object(entry)) is type(ref)
    keras_entry = json.loads(json.dumps(keras_ref.saving.serialize_keras_object(ref)))
    assert type(kerasish.layers.deserialize(keras_entry)) is type(ours)


@pytest.mark.parametrize("class_name", ["MultiHeadAttention", "Attention"])
def test_masks_from_a_masking_embedding_reach_attention_as_in_keras(class_name):
    tokens = np.array([[3, 5, 2, 0, 0], [7, 1, 0, 0, 0]], "int32")
    models = []
    for lib in (keras_ref, kerasish):
        inputs = lib.Input((5,), dtype="int32")
        x = lib.layers.Embedding(10, 6, mask_zero=True)(inputs)
        if class_name == "MultiHeadAttention":
            y = lib.layers.MultiHeadAttention(2, 3)(x, x)
        else:
            y = lib.layers.Attention()([x, x])
        models.append(lib.Model(inputs, lib.layers.Dense(4)(y)))
    ref, ours = models
    ours.set_weights(ref.get_weights())
    _close(ours(tokens), ref(tokens), FORWARD_TOL, "masked model output")
    embedded = ours.layers[1](tokens)
    layer = ours.layers[2]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the projections do not see (and drop) the masks
        out = layer(embedded, embedded) if class_name == "MultiHeadAttention" else layer([embedded, embedded])
    np.testing.assert_array_equal(get_keras_mask(out), tokens != 0)


def _saved_model(lib):
    inputs = lib.Input((6, 8))
    x = lib.layers.MultiHeadAttention(2, 4)(inputs, inputs, use_causal_mask=True)
    x = lib.layers.EinsumDense("abc,cd->abd", output_shape=(6, 3), bias_axes="d")(x)
    x = lib.layers.AdditiveAttention()([x, x])
    return lib.Model(inputs, lib.layers.Attention(use_scale=True)([x, x]))


def test_keras_model_files_with_attention_load_in_kerasish(tmp_path):
    x = _rand((2, 6, 8), 0)
    ref = _saved_model(keras_ref)
    ref.save(tmp_path / "ref.keras")
    loaded = kerasish.models.load_model(tmp_path / "ref.keras")
    _close(loaded(x), ref(x), FORWARD_TOL, "Keras's file loaded by kerasish")
    assert _plain(loaded.layers[1].get_build_config()) == _plain(ref.layers[1].get_build_config()) == \
        {"shapes_dict": {"query_shape": [None, 6, 8], "value_shape": [None, 6, 8]}}
    ours = _saved_model(kerasish)
    ours.save(tmp_path / "ours.keras")
    _close(kerasish.models.load_model(tmp_path / "ours.keras")(x), ours(x), FORWARD_TOL, "kerasish round trip")


def test_kerasish_model_files_with_multi_head_attention_load_in_keras(tmp_path):
    ours = _saved_model(kerasish)
    ours.save(tmp_path / "ours.keras")
    x = _rand((2, 6, 8), 3)
    _close(keras_ref.models.load_model(tmp_path / "ours.keras")(x), ours(x), FORWARD_TOL, "kerasish's file in Keras")


def test_subclassed_model_with_attention_dropout_fits_and_advances_its_seed_state():
    class Net(kerasish.Model):
        def __init__(self):
            super().__init__()
            self.attention = kerasish.layers.MultiHeadAttention(2, 4, dropout=0.5, seed=1)
            self.pool = kerasish.layers.GlobalAveragePooling1D()
            self.out = kerasish.layers.Dense(1)

        def call(self, x, training=None):  # the attention layer is first built inside the compiled step
            return self.out(self.pool(self.attention(x, x, training=training)))
    model = Net()
    x, y = _rand((16, 6, 8), 0), _rand((16, 1), 1)
    model.compile(kerasish.optimizers.SGD(0.01), "mse")
    losses = model.fit(x, y, batch_size=8, epochs=2, verbose=0).history["loss"]
    assert np.all(np.isfinite(losses)) and len(model.weights) == 10
    state = model.attention.non_trainable_variables
    assert len(state) == 1 and int(np.asarray(state[0])[1]) > 0  # the counter moved: 4 steps drew masks
    np.testing.assert_array_equal(model.predict(x, verbose=0), model.predict(x, verbose=0))


def test_group_query_attention_weights_cross_keras_files_both_ways(tmp_path):
    """Keras's GroupQueryAttention is the Python class GroupedQueryAttention, whose name keys its
    weights group (`layers/grouped_query_attention`): files cross both ways with their weights."""
    x = _rand((2, 3, 4), 5)
    for writer, reader in ((keras_ref, kerasish), (kerasish, keras_ref)):
        inputs = writer.Input((3, 4))
        model = writer.Model(inputs, writer.layers.GroupQueryAttention(2, 4, 2)(inputs, inputs))
        model.set_weights([_rand(w.shape, i) for i, w in enumerate(model.get_weights())])
        path = tmp_path / f"gqa_{writer.__name__}.keras"
        model.save(path)
        _close(reader.models.load_model(path)(x), model(x), FORWARD_TOL, f"{writer.__name__}'s file")
