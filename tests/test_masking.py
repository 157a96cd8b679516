"""Timestep masks, as Keras 3's "Understanding masking & padding" guide relies on them.

`Embedding(mask_zero=True)` and `Masking` create a (batch, steps) mask; layers that support masking
pass it on (`_keras_mask` on their outputs, eager and symbolic); layers whose `call` takes `mask`
receive it; merges combine masks; the loss of a masked output averages over the unmasked steps.
Checked against Keras 3 itself with copied weights.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import keras as keras_ref
import kerasish as keras
from kerasish.layers.masks import get_keras_mask


def _ids(rows=12, steps=7, seed=0):
    """Token ids with zero padding at the end of each row (some rows shorter than others)."""
    x = np.random.default_rng(seed).integers(1, 20, size=(rows, steps)).astype("int32")
    x[:, 5:] = 0
    x[::3, 3:] = 0
    return x


def _copy(ref_model, model):
    rng = np.random.default_rng(3)
    weights = [rng.normal(scale=0.3, size=w.shape).astype("float32") for w in ref_model.get_weights()]
    ref_model.set_weights(weights)
    model.set_weights(weights)


def _tagger(lib):
    """Embedding(mask_zero) -> Dense -> Dense softmax over each step: a masked per-step output."""
    lib.backend.clear_session() if hasattr(lib.backend, "clear_session") else None
    inputs = lib.Input((7,), dtype="int32")
    h = lib.layers.Embedding(20, 8, mask_zero=True)(inputs)
    h = lib.layers.Dense(16, activation="relu")(h)
    outputs = lib.layers.Dense(4, activation="softmax")(h)
    return lib.Model(inputs, outputs)


def test_embedding_mask_zero_attaches_the_mask_eagerly():
    x = _ids()
    y = keras.layers.Embedding(20, 4, mask_zero=True)(x)
    np.testing.assert_array_equal(np.asarray(y._keras_mask), x != 0)
    assert get_keras_mask(keras.layers.Embedding(20, 4)(x)) is None
    config = keras.layers.Embedding(20, 4, mask_zero=True).get_config()
    assert config["mask_zero"] is True
    assert keras.layers.Embedding.from_config(config).mask_zero is True


def test_masking_layer_matches_keras():
    x = np.random.default_rng(0).normal(size=(3, 5, 2)).astype("float32")
    x[:, 1] = 0.5
    x[0, 4] = 0.5
    ours = keras.layers.Masking(mask_value=0.5)(x)
    ref = keras_ref.layers.Masking(mask_value=0.5)(x)
    np.testing.assert_allclose(np.asarray(ours), np.asarray(ref))
    np.testing.assert_array_equal(np.asarray(ours._keras_mask), np.asarray(ref._keras_mask))
    assert keras.layers.Masking(mask_value=0.5).get_config()["mask_value"] == 0.5
    with pytest.raises(ValueError, match="mask_value"):
        keras.layers.Masking(mask_value="zero")


def test_masks_propagate_symbolically_and_through_supporting_layers():
    inputs = keras.Input((None,), dtype="int32")
    embedded = keras.layers.Embedding(20, 4, mask_zero=True)(inputs)
    dense = keras.layers.Dense(3)(embedded)
    flat = keras.layers.Flatten()(keras.Input((3, 4)))
    assert embedded._keras_mask.shape == (None, None) and embedded._keras_mask.dtype == "bool"
    assert dense._keras_mask is not None
    assert flat._keras_mask is None
    x = _ids()
    out = keras.layers.Dense(3)(keras.layers.Embedding(20, 4, mask_zero=True)(x))
    np.testing.assert_array_equal(np.asarray(out._keras_mask), x != 0)


class _MaskReader(keras.layers.Layer):
    """A custom layer that takes `mask` in `call` (the guide's pattern): a masked mean over steps."""

    def call(self, inputs, mask=None):
        if mask is None:
            return keras.ops.mean(inputs, axis=1)
        weights = keras.ops.expand_dims(keras.ops.cast(mask, inputs.dtype), -1)
        return keras.ops.sum(inputs * weights, axis=1) / keras.ops.sum(weights, axis=1)


class _MaskMaker(keras.layers.Layer):
    """A custom layer that creates a mask with `compute_mask` (supports masking by defining it)."""

    def call(self, inputs):
        return inputs

    def compute_mask(self, inputs, mask=None):
        return keras.ops.not_equal(inputs[..., 0], 0.0)


def test_custom_layers_receive_and_create_masks():
    x = _ids()
    embedded = keras.layers.Embedding(20, 4, mask_zero=True)
    seq = embedded(x)
    reader = _MaskReader()
    got = np.asarray(reader(seq))
    e = np.asarray(seq)
    m = (x != 0)[..., None]
    np.testing.assert_allclose(got, (e * m).sum(1) / m.sum(1), rtol=1e-5)
    maker = _MaskMaker()
    assert maker.supports_masking
    values = np.ones((2, 3, 2), "float32")
    values[0, 2] = 0.0
    np.testing.assert_array_equal(np.asarray(maker(values)._keras_mask), [[True, True, False], [True, True, True]])
    # a mask passed explicitly wins over the attached one
    explicit = np.ones_like(x, bool)
    np.testing.assert_allclose(np.asarray(reader(seq, mask=explicit)), e.mean(1), rtol=1e-5)


def test_a_layer_without_mask_support_warns_and_drops_the_mask():
    seq = keras.layers.Embedding(20, 4, mask_zero=True)(_ids())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        flat = keras.layers.Flatten()(seq)
    assert any("does not support masking" in str(w.message) for w in caught)
    assert get_keras_mask(flat) is None


def test_merge_layers_combine_masks_as_keras():
    a = np.array([[1, 2, 0, 0]], "int32")
    b = np.array([[1, 0, 3, 0]], "int32")
    for lib in (keras, keras_ref):
        emb = lib.layers.Embedding(5, 2, mask_zero=True)
        ea, eb = emb(a), emb(b)
        added = lib.layers.Add()([ea, eb])
        joined = lib.layers.Concatenate()([ea, eb])
        np.testing.assert_array_equal(np.asarray(added._keras_mask), [[True, True, True, False]])
        np.testing.assert_array_equal(np.asarray(joined._keras_mask), [[True, True, True, False]])
    assert get_keras_mask(keras.layers.Dot(axes=2)([ea, eb])) is None


def test_masked_sequence_output_trains_like_keras():
    """The loss of a per-step output averages over the unmasked steps only: history and evaluate
    equal Keras 3's (copied weights, SGD). Training accuracy is masked too (Keras 3 on JAX loses
    the mask between the gradient and the metrics; its evaluate, like ours, masks)."""
    x = _ids(rows=32)
    y = np.random.default_rng(1).integers(0, 4, size=(32, 7))
    models = []
    for lib in (keras_ref, keras):
        model = _tagger(lib)
        models.append(model)
    _copy(*models)
    results = []
    for lib, model in zip((keras_ref, keras), models):
        model.compile(optimizer=lib.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        history = model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0).history
        results.append((history, model.evaluate(x, y, batch_size=10, verbose=0)))
    (ref_history, ref_eval), (history, evaluation) = results
    np.testing.assert_allclose(history["loss"], ref_history["loss"], rtol=1e-5)
    np.testing.assert_allclose(evaluation, ref_eval, rtol=1e-5)
    predictions = np.asarray(models[1].predict(x, verbose=0))
    mask = x != 0
    keras_train_accuracy_unmasked = ref_history["accuracy"][0]
    assert keras_train_accuracy_unmasked != pytest.approx(history["accuracy"][0])
    assert np.isclose(evaluation[1], (predictions.argmax(-1) == y)[mask].mean(), atol=1e-6)


def test_global_average_pooling_and_explicit_model_mask_match_keras():
    x = _ids()
    models = []
    for lib in (keras_ref, keras):
        model = lib.Sequential([lib.Input((7,), dtype="int32"), lib.layers.Embedding(20, 6, mask_zero=True),
                                lib.layers.GlobalAveragePooling1D(), lib.layers.Dense(2)])
        models.append(model)
    _copy(*models)
    np.testing.assert_allclose(np.asarray(models[1](x)), np.asarray(models[0](x)), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(models[1].predict(x, verbose=0), models[0].predict(x, verbose=0), rtol=1e-5,
                               atol=1e-6)
    # an explicit `mask=` to a model reaches its first layers (Keras's Sequential.call(mask=...))
    pooled = []
    for lib in (keras_ref, keras):
        model = lib.Sequential([lib.Input((4, 3)), lib.layers.GlobalAveragePooling1D()])
        values = np.arange(24, dtype="float32").reshape(2, 4, 3)
        pooled.append(np.asarray(model(values, mask=np.array([[1, 1, 0, 0], [1, 1, 1, 1]], bool))))
    np.testing.assert_allclose(pooled[1], pooled[0], rtol=1e-6)
