"""IntegerLookup and Hashing. Keras 3 runs both only with TensorFlow (absent here), so the references
are Keras's documented examples (the IntegerLookup docstring's inputs and outputs, verbatim) and
FarmHash's own Fingerprint64 values (computed with the `pyfarmhash` bindings of Google's C++ code,
written below; rechecked on random integers when `farmhash` is importable), and for salted hashing
SipHash-2-4's published test vectors plus Keras's documented salted examples."""

import json

import jax
import numpy as np
import pytest

import kerasish

IntegerLookup = kerasish.layers.IntegerLookup
VOCAB = [12, 36, 1138, 42]
DATA = np.array([[12, 1138, 42], [42, 1000, 36]])
DOCS = np.array([[12, 1138, 42, 42], [42, 7, 36, 7]])


@pytest.mark.parametrize("kwargs,inputs,expected", [
    (dict(vocabulary=VOCAB), DATA, [[1, 3, 4], [4, 0, 2]]),
    (dict(vocabulary=VOCAB, num_oov_indices=2), np.array([[12, 1138, 42], [37, 1000, 36]]), [[2, 4, 5], [1, 0, 3]]),
    (dict(vocabulary=[10, 20, 30], num_oov_indices=4, oov_method="floormod"), np.array([100, 300, 700, 1100, 1700, 2000]),
     [0, 0, 0, 0, 0, 0]),
    (dict(vocabulary=[10, 20, 30], num_oov_indices=4, oov_method="farmhash"), np.array([100, 300, 700, 1100, 1700, 2000]),
     [3, 3, 2, 2, 0, 1]),
    (dict(vocabulary=VOCAB, output_mode="one_hot"), np.array([12, 36, 1138, 42, 7]), np.eye(5)[[1, 2, 3, 4, 0]]),
    (dict(vocabulary=VOCAB, output_mode="multi_hot"), DOCS, [[0, 1, 0, 1, 1], [1, 0, 1, 0, 1]]),
    (dict(vocabulary=VOCAB, output_mode="count"), DOCS, [[0, 1, 0, 1, 2], [2, 0, 1, 0, 1]]),
    (dict(vocabulary=VOCAB, output_mode="tf_idf", idf_weights=[0.25, 0.75, 0.6, 0.4]), DOCS,
     [[0, 0.25, 0, 0.6, 0.8], [1.0, 0, 0.75, 0, 0.4]]),
    (dict(vocabulary=[-1] + VOCAB, output_mode="tf_idf", idf_weights=[0.9, 0.25, 0.75, 0.6, 0.4]), DOCS,
     [[0, 0.25, 0, 0.6, 0.8], [1.8, 0, 0.75, 0, 0.4]]),
    (dict(vocabulary=VOCAB, invert=True), np.array([[1, 3, 4], [4, 0, 2]]), [[12, 1138, 42], [42, -1, 36]]),
], ids=["int", "two-oov", "floormod", "farmhash", "one-hot", "multi-hot", "count", "tf-idf", "tf-idf-oov-weight",
        "invert"])
def test_integer_lookup_keras_documented_examples(kwargs, inputs, expected):
    layer = IntegerLookup(**kwargs)
    out = layer(inputs)
    np.testing.assert_allclose(out, expected, rtol=1e-6)
    np.testing.assert_allclose(jax.jit(lambda x: layer(x))(inputs), expected, rtol=1e-6)  # compiled too
    assert tuple(layer.compute_output_shape((None, *np.shape(inputs)[1:]))) == (None, *np.shape(out)[1:])
    rebuilt = IntegerLookup.from_config(json.loads(json.dumps(layer.get_config())))
    np.testing.assert_allclose(rebuilt(inputs), expected, rtol=1e-6)


def test_integer_lookup_adapt_orders_by_frequency_then_token():
    layer = IntegerLookup()
    layer.adapt(DATA)
    assert layer.get_vocabulary() == [-1, 42, 1138, 1000, 36, 12]  # Keras's documented vocabulary
    np.testing.assert_array_equal(layer(DATA), [[5, 2, 1], [1, 3, 4]])
    inverse = IntegerLookup(vocabulary=layer.get_vocabulary(), invert=True)
    np.testing.assert_array_equal(inverse(layer(DATA)), DATA)
    capped = IntegerLookup(max_tokens=3, mask_token=0)
    capped.adapt(iter([np.array([5, 5, 5, 0, 0, 0, 0, 9, 9, 4]), np.array([4, 4])]), steps=1)  # first batch only
    assert capped.get_vocabulary() == [0, -1, 5]
    assert capped.get_vocabulary(include_special_tokens=False) == [5]
    np.testing.assert_array_equal(capped(np.array([0, 5, 9])), [0, 2, 1])
    rebuilt = IntegerLookup.from_config(json.loads(json.dumps(capped.get_config())))
    assert rebuilt.get_vocabulary() == capped.get_vocabulary()


def test_integer_lookup_tf_idf_adapt_uses_keras_formula():
    layer = IntegerLookup(output_mode="tf_idf")
    layer.adapt(DOCS)
    vocab = layer.get_vocabulary()
    assert vocab == [-1, 42, 7, 1138, 36, 12]
    doc_counts = np.array([2, 1, 1, 1, 1])
    idf = np.log(1 + 2 / (1 + doc_counts))
    weights = np.concatenate([[idf.mean()], idf])
    counts = np.array([[0, 2, 0, 1, 0, 1], [0, 1, 2, 0, 1, 0]])
    np.testing.assert_allclose(layer(DOCS), counts * weights, rtol=1e-6)


def test_integer_lookup_mask_token_and_errors():
    layer = IntegerLookup(vocabulary=VOCAB, mask_token=0)
    np.testing.assert_array_equal(layer(np.array([[12, 0, 5]])), [[2, 0, 1]])
    assert layer.get_vocabulary() == [0, -1, 12, 36, 1138, 42]
    multi = IntegerLookup(vocabulary=VOCAB, mask_token=0, output_mode="multi_hot")
    np.testing.assert_array_equal(multi(np.array([[12, 0]])), [[0, 1, 0, 0, 0]])  # the mask takes no slot
    inverse = IntegerLookup(vocabulary=VOCAB, mask_token=0, invert=True)
    np.testing.assert_array_equal(inverse(np.array([0, 1, 2])), [0, -1, 12])
    with pytest.raises(ValueError, match="num_oov_indices=0"):
        IntegerLookup(vocabulary=VOCAB, num_oov_indices=0)(np.array([12, 5]))
    with pytest.raises(ValueError, match="repeated term"):
        IntegerLookup(vocabulary=[1, 2, 1])
    with pytest.raises(ValueError, match="Cannot adapt"):
        IntegerLookup(vocabulary=VOCAB).adapt(DATA)
    with pytest.raises(ValueError, match="`salt` can only be used"):
        IntegerLookup(salt=3)
    with pytest.raises(ValueError, match="sparse"):
        IntegerLookup(output_mode="multi_hot", sparse=True)
    with pytest.raises(ValueError, match="within int32"):
        IntegerLookup(vocabulary=VOCAB)(np.array([2 ** 40]))
    with pytest.raises(RuntimeError, match="set the layer's vocabulary"):
        IntegerLookup(output_mode="one_hot")(np.array([1]))


def test_integer_lookup_in_a_trained_model():
    lookup = IntegerLookup(vocabulary=VOCAB)
    model = kerasish.Sequential([kerasish.Input((3,), dtype="int32"), lookup,
                                 kerasish.layers.Embedding(5, 2), kerasish.layers.Flatten(), kerasish.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    history = model.fit(np.tile(DATA, (8, 1)), np.ones((16, 1)), batch_size=4, epochs=2, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    assert model.predict(DATA, verbose=0).shape == (2, 1)


# FarmHash Fingerprint64 of each integer's decimal text, from Google's C++ code (pyfarmhash 0.5.1).
FINGERPRINTS = {0: 15198969275252572735, 1: 9304157803607034849, -1: 7333874265151076430, 7: 9813730750082856088,
                42: 623910487284905736, 1138: 11889217148656362993, -1000: 16147042859179948452,
                123456: 7773179648686038998, 98765432: 14810062067303862656, 2147483647: 10309489266630760757,
                -2147483648: 6520386892892340469}


@pytest.mark.parametrize("num_bins", [1, 3, 7, 1024, 2 ** 31])
def test_hashing_gives_keras_bins(num_bins):
    values = np.array(list(FINGERPRINTS), dtype=np.int64)[:, None]
    expected = np.array([FINGERPRINTS[v] % num_bins for v in values[:, 0]])[:, None]
    layer = kerasish.layers.Hashing(num_bins)
    np.testing.assert_array_equal(layer(values), expected)
    np.testing.assert_array_equal(jax.jit(lambda x: layer(x))(values.astype("int32")), expected)
    small = np.abs(values[:, 0]) < 2 ** 24  # exact in float32; floats are truncated to integers, as in Keras
    fractional = values[small].astype("float32") + 0.25 * np.sign(values[small])  # truncation keeps the integer
    np.testing.assert_array_equal(layer(fractional), expected[small])


def test_hashing_mask_value_and_output_modes():
    values = np.array([[0, 42], [7, 1138]])
    layer = kerasish.layers.Hashing(5, mask_value=0)
    bins = [[0, 1 + FINGERPRINTS[42] % 4], [1 + FINGERPRINTS[7] % 4, 1 + FINGERPRINTS[1138] % 4]]
    np.testing.assert_array_equal(layer(values), bins)
    multi = kerasish.layers.Hashing(5, mask_value=0, output_mode="multi_hot")
    np.testing.assert_array_equal(multi(values), [np.isin(np.arange(5), row) for row in bins])
    one_hot = kerasish.layers.Hashing(3, output_mode="one_hot")
    assert one_hot(values[:, :1]).shape == (2, 3) and one_hot.compute_output_shape((None, 1)) == (None, 3)
    config = kerasish.layers.Hashing(4, mask_value=-1).get_config()
    assert {k: config[k] for k in ("num_bins", "salt", "mask_value", "output_mode", "sparse")} == \
        {"num_bins": 4, "salt": None, "mask_value": -1, "output_mode": "int", "sparse": False}
    assert config["dtype"]["config"]["name"] == "int64"
    with pytest.raises(ValueError, match="tuple of size 2 integers"):
        kerasish.layers.Hashing(3, salt="pepper")
    with pytest.raises(ValueError, match="string inputs"):
        kerasish.layers.Hashing(3)(np.array([["a"]]))
    with pytest.raises(ValueError, match="within int32"):
        kerasish.layers.Hashing(3)(np.array([2 ** 40]))


def _texts(items):
    text = np.zeros((len(items), 16), np.uint32)
    for i, item in enumerate(items):
        data = item.encode() if isinstance(item, str) else bytes(item)
        text[i, :len(data)] = list(data)
    return jax.numpy.asarray(text), jax.numpy.asarray([len(item) for item in items], "int32")


def _u64(value):
    return (np.asarray(value.hi).astype(np.uint64) << np.uint64(32)) | np.asarray(value.lo).astype(np.uint64)


def test_siphash_gives_the_reference_vectors_and_keras_salted_bins():
    from kerasish.layers.preprocessing._hash64 import siphash
    # SipHash-2-4 test vectors (Aumasson & Bernstein): key 00..0f, messages 00..(n-1).
    text, length = _texts([b"", bytes(range(7)), bytes(range(8)), bytes(range(15))])
    got = _u64(siphash(text, length, (0x0706050403020100, 0x0F0E0D0C0B0A0908)))
    assert [int(v) for v in got] == [0x726FDB47DD0E0E31, 0xAB0200F58B01D137, 0x93F5F5799A932462, 0xA129CA6149BE45E5]
    # Keras's documented salted examples (on strings, which kerasish hashes only through this function).
    text, length = _texts(list("ABCDE"))
    assert (_u64(siphash(text, length, (133, 137))) % np.uint64(3)).tolist() == [1, 2, 1, 0, 2]
    assert (_u64(siphash(text, length, (133, 133))) % np.uint64(3)).tolist() == [0, 0, 2, 1, 0]


def test_salted_hashing_and_lookup_hash_the_decimal_text():
    from kerasish.layers.preprocessing._hash64 import siphash
    values = np.array([0, 7, -42, 1138, 2147483647, -2147483648])
    text, length = _texts([str(v) for v in values])
    expected = _u64(siphash(text, length, (3, 11))) % np.uint64(7)
    layer = kerasish.layers.Hashing(7, salt=[3, 11])
    np.testing.assert_array_equal(layer(values), expected)
    np.testing.assert_array_equal(jax.jit(lambda x: layer(x))(values.astype("int32")), expected)
    assert layer.get_config()["salt"] == [3, 11] and kerasish.layers.Hashing(7, salt=5).salt == [5, 5]
    lookup = IntegerLookup(vocabulary=[10, 20], num_oov_indices=7, oov_method="farmhash", salt=[3, 11])
    np.testing.assert_array_equal(lookup(values), expected)
    assert IntegerLookup.from_config(lookup.get_config()).salt == [3, 11]


def test_hashing_matches_farmhash_on_random_integers():
    farmhash = pytest.importorskip("farmhash")
    values = np.random.default_rng(0).integers(-2 ** 31, 2 ** 31, size=500)
    expected = [farmhash.fingerprint64(str(int(v))) % 1000003 for v in values]
    np.testing.assert_array_equal(kerasish.layers.Hashing(1000003)(values), expected)


def test_adapt_after_predict_updates_the_compiled_model():
    lookup = IntegerLookup()
    lookup.adapt(np.array([1, 1, 2]))
    model = kerasish.Sequential([kerasish.Input((3,), dtype="int32"), lookup])
    x = np.array([[1, 2, 3]])
    np.testing.assert_array_equal(model.predict(x, verbose=0), [[1, 2, 0]])
    lookup.adapt(np.array([3, 3, 3, 2, 2, 1]))
    np.testing.assert_array_equal(model.predict(x, verbose=0), lookup(x))
