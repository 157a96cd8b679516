"""IntegerLookup: maps integer tokens to contiguous indices through a vocabulary (or back, `invert`).

The vocabulary is static data of the layer (a Python list), so lookups are `jnp.searchsorted` over a
constant sorted copy and run inside compiled steps. Index layout, as Keras's: the mask token (when
set and `output_mode="int"`) at 0, then `num_oov_indices` out-of-vocabulary indices, then the tokens.
`adapt` counts tokens and keeps the most frequent (ties: larger token first), as Keras does.

Differences from Keras 3 (whose layer needs TensorFlow): `int` outputs are int32 (JAX's default
integer; Keras gives int64); the vocabulary learned by `adapt` is written into `get_config()` as
`vocabulary` (Keras keeps it in an asset file of the `.keras` archive), and likewise learned TF-IDF
weights as `idf_weights`; with `num_oov_indices=0` an out-of-vocabulary input raises in an eager call
and gives -1 inside a compiled function; `sparse=True` and vocabulary files are refused.
`oov_method="farmhash"` buckets out-of-vocabulary integers with Keras's FarmHash, or its SipHash when
given a `salt` (see `hashing`).
"""

from __future__ import annotations

import collections
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from kerasish import backend
from kerasish.layers.base import Layer
from kerasish.layers.preprocessing.adapt_data import batches
from kerasish.layers.preprocessing.categorical import check_output_mode, encode, encoded_shape, refuse_sparse
from kerasish.layers.preprocessing._hash64 import fingerprint64, salt_pair, salted_hash
from kerasish.layers.preprocessing.hashing import check_int32_values
from kerasish.serialization import layer_config

_MODES = ("int", "one_hot", "multi_hot", "count", "tf_idf")


def _ints(values: Any, what: str) -> list[int]:
    array = np.asarray(values)
    if array.dtype.kind not in "iu" and array.size:
        raise ValueError(f"IntegerLookup takes integer {what}. Received {what} of dtype {array.dtype}.")
    return [int(v) for v in array.reshape(-1)]


class _Vocabulary:
    """The layer's tokens and TF-IDF weights (given and current): static data held outside the NNX
    graph's traversal, so a vocabulary of any size costs nothing when the model is split or merged."""
    __slots__ = ("tokens", "idf", "given_tokens", "given_idf")

    def __init__(self, tokens=(), idf=None, given_tokens=None, given_idf=None):
        self.tokens: list[int] = list(tokens)
        self.idf: list[float] | None = idf
        self.given_tokens: list[int] | None = given_tokens
        self.given_idf: list[float] | None = given_idf

    def replace(self, **fields) -> "_Vocabulary":
        """A new object (compiled steps are cached on the graph, which holds this one by identity)."""
        values = {name: getattr(self, name) for name in self.__slots__}
        return _Vocabulary(**{**values, **fields})


class IntegerLookup(Layer):
    """Integer tokens to vocabulary indices, encoded as `output_mode` (`int`, `one_hot`, `multi_hot`,
    `count`, `tf_idf`); with `invert=True`, indices back to tokens.

    Example:
        >>> layer = keras.layers.IntegerLookup(vocabulary=[12, 36, 1138, 42])
        >>> layer(np.array([[12, 1138, 42], [42, 1000, 36]]))  # [[1, 3, 4], [4, 0, 2]]
    """

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None, oov_token=-1, vocabulary=None,
                 vocabulary_dtype="int64", idf_weights=None, invert=False, output_mode="int", sparse=False,
                 pad_to_max_tokens=False, oov_method="floormod", salt=None, name=None, **kwargs):
        frozen_size = kwargs.pop("vocabulary_size", None)
        kwargs.pop("has_input_vocabulary", None)
        super().__init__(name=name, **{k: v for k, v in kwargs.items() if k in ("trainable", "dtype")})
        unknown = {k: v for k, v in kwargs.items() if k not in ("trainable", "dtype")}
        if unknown:
            raise ValueError(f"Unrecognized keyword argument(s): {unknown}")
        if max_tokens is not None and max_tokens <= 1:
            raise ValueError("If `max_tokens` is set for `IntegerLookup`, it must be greater than 1. "
                             f"Received: max_tokens={max_tokens}")
        if num_oov_indices < 0:
            raise ValueError("The value of `num_oov_indices` argument for `IntegerLookup` must >= 0. "
                             f"Received: num_oov_indices={num_oov_indices}")
        if vocabulary_dtype != "int64":
            raise ValueError(f"Only `vocabulary_dtype='int64'` is supported at this time. "
                             f"Received: vocabulary_dtype={vocabulary_dtype}")
        if pad_to_max_tokens and max_tokens is None:
            raise ValueError(f"If pad_to_max_tokens is True, must set `max_tokens`. Received: max_tokens={max_tokens}")
        if oov_method not in ("floormod", "farmhash"):
            raise ValueError("Unknown value for `oov_method`. Allowed values are: ('floormod', 'farmhash'). "
                             f"Received: oov_method={oov_method!r}")
        if salt is not None and oov_method != "farmhash":
            raise ValueError(f"`salt` can only be used when `oov_method='farmhash'`. Received: oov_method={oov_method}")
        if isinstance(vocabulary, str):
            raise ValueError(f"IntegerLookup: vocabulary files are not supported by kerasish; pass the vocabulary "
                             f"as a list of integers. Received: vocabulary={vocabulary!r}")
        output_mode = {"binary": "multi_hot", "tf-idf": "tf_idf"}.get(output_mode, output_mode)
        check_output_mode(output_mode, "IntegerLookup", _MODES)
        refuse_sparse(sparse, "IntegerLookup")
        if invert and output_mode != "int":
            raise ValueError(f"`output_mode` must be `'int'` when `invert` is true. Received: output_mode={output_mode}")
        if idf_weights is not None and output_mode != "tf_idf":
            raise ValueError("`idf_weights` should only be set if `output_mode` is `'tf_idf'`. Received: "
                             f"idf_weights={idf_weights} and output_mode={output_mode}")
        if output_mode == "tf_idf" and vocabulary is not None and idf_weights is None:
            raise ValueError("When specifying the `vocabulary` argument, in TF-IDF output mode, the `idf_weights` "
                             "argument must also be provided.")
        self.max_tokens, self.num_oov_indices = max_tokens, int(num_oov_indices)
        self.mask_token = None if mask_token is None else int(mask_token)
        self.oov_token = None if oov_token is None else int(oov_token)
        self.invert, self.output_mode, self.sparse = bool(invert), output_mode, False
        self.pad_to_max_tokens, self.vocabulary_dtype = pad_to_max_tokens, vocabulary_dtype
        self.oov_method, self.salt = oov_method, salt_pair(salt, "IndexLookup")
        self._frozen_vocab_size = frozen_size
        self._has_input_vocabulary = vocabulary is not None
        self._vocab = _Vocabulary(
            given_tokens=None if vocabulary is None else _ints(vocabulary, "vocabulary"),
            given_idf=None if idf_weights is None else [float(w) for w in np.asarray(idf_weights).reshape(-1)])
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights)

    # -- the index layout ------------------------------------------------------------------------------
    def _oov_start(self) -> int:
        return 1 if self.mask_token is not None and self.output_mode == "int" else 0

    def _token_start(self) -> int:
        return self._oov_start() + self.num_oov_indices

    def vocabulary_size(self) -> int:
        """The number of indices: special tokens plus the vocabulary."""
        return self._token_start() + len(self._vocab.tokens)

    def get_vocabulary(self, include_special_tokens: bool = True) -> list[int]:
        """The token of each index (the mask token and `oov_token` in their slots)."""
        special = ([self.mask_token] if self._oov_start() else []) + [self.oov_token] * self.num_oov_indices
        return (special if include_special_tokens else []) + list(self._vocab.tokens)

    def set_vocabulary(self, vocabulary, idf_weights=None) -> None:
        """Sets the tokens (special tokens may lead, in their exact order) and, for `tf_idf`, their weights.

        Raises:
            ValueError: repeated tokens, a mask or OOV token elsewhere than at the front, more than
                `max_tokens` indices, or `idf_weights` not matching the mode or the vocabulary's length.
        """
        if self.output_mode == "tf_idf" and idf_weights is None:
            raise ValueError("`idf_weights` must be set if output_mode is 'tf_idf'.")
        if self.output_mode != "tf_idf" and idf_weights is not None:
            raise ValueError("`idf_weights` should only be set if output_mode is `'tf_idf'`. Received: "
                             f"output_mode={self.output_mode} and idf_weights={idf_weights}")
        vocabulary = _ints(vocabulary, "vocabulary")
        if not vocabulary:
            raise ValueError(f"Cannot set an empty vocabulary. Received: vocabulary={vocabulary}")
        start = self._token_start()
        special = [self.mask_token] * self._oov_start() + [self.oov_token] * self.num_oov_indices
        found_special = vocabulary[:start] == special
        tokens = vocabulary[start:] if found_special else vocabulary
        repeated = [t for t, n in collections.Counter(tokens).items() if n > 1]
        if repeated:
            raise ValueError("The passed vocabulary has at least one repeated term. Please uniquify your dataset. "
                             f"The repeated terms are: {repeated}")
        for token, what in ((self.mask_token, "mask_token"), (self.oov_token if self.invert else None, "oov_token")):
            if token is not None and token in tokens:
                raise ValueError(f"Found reserved {'mask' if what == 'mask_token' else 'OOV'} token at unexpected "
                                 "location in `vocabulary`. Note that passed `vocabulary` does not need to include "
                                 "the OOV and mask tokens. Either remove all mask and OOV tokens, or include them "
                                 f"only at the start of the vocabulary in precisely this order: {special}. "
                                 f"Received: {what}={token} at vocabulary index {vocabulary.index(token)}")
        if self.max_tokens is not None and start + len(tokens) > self.max_tokens:
            raise ValueError("Attempted to set a vocabulary larger than the maximum vocab size. Received vocabulary "
                             f"size is {start + len(tokens)}; `max_tokens` is {self.max_tokens}.")
        self._vocab = self._vocab.replace(tokens=tokens)
        if idf_weights is not None:
            weights = np.asarray(idf_weights, "float64")
            if weights.ndim != 1 or len(weights) != len(vocabulary):
                raise ValueError("`idf_weights` must be the same length as vocabulary. len(idf_weights) is "
                                 f"{len(weights)}; len(vocabulary) is {len(vocabulary)}")
            self._set_idf(weights, front=0 if found_special else start)
        self._frozen_vocab_size = self.vocabulary_size()

    def _set_idf(self, weights: np.ndarray, front: int) -> None:
        back = self.max_tokens - front - len(weights) if self.pad_to_max_tokens else 0
        padded = np.pad(weights, (front, back), constant_values=(np.mean(weights), 0))
        self._vocab = self._vocab.replace(idf=[float(w) for w in padded])

    # -- adapt -----------------------------------------------------------------------------------------
    def _compile_key(self):
        idf = self._vocab.idf
        return tuple(self._vocab.tokens), None if idf is None else tuple(idf)

    def adapt(self, data: Any, steps: int | None = None) -> None:
        """Learns the vocabulary (and TF-IDF weights) from `data`: an array or list of tokens (one batch),
        a `PyDataset` or an iterable of batches (at most `steps` of them). Each row is a document.

        Raises:
            ValueError: for a layer given a `vocabulary`.
        """
        if self._has_input_vocabulary:
            raise ValueError(f"Cannot adapt layer '{self.name}' after setting a static vocabulary via `vocabulary` "
                             "argument or `set_vocabulary()` method.")
        counts: collections.Counter = collections.Counter()
        documents: collections.Counter = collections.Counter()
        n_documents = 0
        for batch in batches(data, steps, whole=True):
            batch = np.asarray(batch)
            rows = batch.reshape(1, -1) if batch.ndim <= 1 else batch.reshape(len(batch), -1)
            counts.update(_ints(rows, "data"))
            for row in rows:
                documents.update(set(_ints(row, "data")))
            n_documents += len(rows)
        for special in (self.mask_token, self.oov_token):
            counts.pop(special, None)
        if not counts:
            self._frozen_vocab_size = self.vocabulary_size()
            return
        ranked = sorted(counts, key=lambda t: (counts[t], t), reverse=True)
        if self.max_tokens:
            ranked = ranked[:self.max_tokens - self._token_start()]
        self._vocab = self._vocab.replace(tokens=ranked)
        if self.output_mode == "tf_idf":
            idf = np.log(1 + n_documents / (1 + np.asarray([documents[t] for t in ranked], "float64")))
            self._set_idf(idf, front=self._token_start())
        self._frozen_vocab_size = self.vocabulary_size()

    # -- calling ---------------------------------------------------------------------------------------
    def _lookup(self, inputs) -> jnp.ndarray:
        start = self._token_start()
        if self._vocab.tokens:
            order = np.argsort(self._vocab.tokens, kind="stable")
            keys = jnp.asarray(np.asarray(self._vocab.tokens)[order], "int32")
            position = jnp.clip(jnp.searchsorted(keys, inputs), 0, len(keys) - 1)
            found = keys[position] == inputs
            index = jnp.asarray(order, "int32")[position] + start
        else:
            found, index = jnp.zeros(inputs.shape, bool), jnp.zeros(inputs.shape, "int32")
        if self.num_oov_indices == 0:
            if not isinstance(inputs, jax.core.Tracer) and not bool(jnp.all(found | self._is_mask(inputs))):
                raise ValueError(f"When `num_oov_indices=0` all inputs should be in vocabulary, found OOV values "
                                 f"{np.asarray(inputs)[~np.asarray(found | self._is_mask(inputs))]}, consider "
                                 "setting `num_oov_indices=1`.")
            oov = jnp.full(inputs.shape, -1, "int32")
        elif self.oov_method == "farmhash" and self.num_oov_indices > 1:
            hashed = fingerprint64(inputs) if self.salt is None else salted_hash(inputs, tuple(self.salt))
            oov = hashed.mod(self.num_oov_indices).astype("int32") + self._oov_start()
        else:
            oov = jnp.mod(inputs, self.num_oov_indices).astype("int32") + self._oov_start()
        index = jnp.where(found, index, oov)
        if self.mask_token is not None:
            masked = 0 if self.output_mode == "int" else np.iinfo(np.int32).max
            index = jnp.where(self._is_mask(inputs), masked, index)
        return index

    def _is_mask(self, inputs):
        return jnp.zeros(inputs.shape, bool) if self.mask_token is None else inputs == self.mask_token

    def _invert(self, inputs) -> jnp.ndarray:
        table = jnp.asarray([self.oov_token] * self._token_start() + self._vocab.tokens, "int32")
        valid = (inputs >= self._token_start()) & (inputs < len(table))
        tokens = jnp.where(valid, table[jnp.clip(inputs, 0, len(table) - 1)], self.oov_token)
        if self.mask_token is not None:
            tokens = jnp.where(inputs == 0, self.mask_token, tokens)
        return tokens

    def __call__(self, *args, **kwargs):
        if args:
            check_int32_values(args[0], "IntegerLookup")
        return super().__call__(*args, **kwargs)

    def call(self, inputs):
        inputs = jnp.asarray(inputs)
        if not jnp.issubdtype(inputs.dtype, jnp.integer):
            raise ValueError(f"IntegerLookup takes integer inputs. Received inputs of dtype {inputs.dtype}.")
        inputs = inputs.astype("int32")
        if self.invert:
            return self._invert(inputs)
        indices = self._lookup(inputs)
        if self.output_mode == "int":
            return indices
        depth = self._depth()
        if self.output_mode != "tf_idf":
            return encode(indices, self.output_mode, depth, backend.floatx())
        if self._vocab.idf is None:
            raise ValueError("When `output_mode` is `'tf_idf'`, `idf_weights` must be provided.")
        return encode(indices, "count", depth, backend.floatx()) * jnp.asarray(self._vocab.idf, backend.floatx())

    def _depth(self) -> int:
        if self.pad_to_max_tokens:
            return self.max_tokens
        if self._frozen_vocab_size is None:
            raise RuntimeError(f"When using `output_mode={self.output_mode}` and `pad_to_max_tokens=False`, you must "
                               "set the layer's vocabulary before calling it. Either pass a `vocabulary` argument to "
                               "the layer, or call `adapt` with some sample data.")
        return self._frozen_vocab_size

    def compute_output_shape(self, input_shape):
        if self.output_mode == "int":
            return tuple(input_shape)
        return encoded_shape(input_shape, "one_hot" if self.output_mode == "one_hot" else "count", self._depth())

    def get_config(self):
        vocabulary, idf = self._vocab.given_tokens, self._vocab.given_idf
        if vocabulary is None and self._vocab.tokens:  # learned by adapt: written here (Keras keeps it in an asset file)
            vocabulary = self.get_vocabulary()
            idf = None if self._vocab.idf is None else self._vocab.idf[:self.vocabulary_size()]
        return layer_config(
            self, invert=self.invert, max_tokens=self.max_tokens, num_oov_indices=self.num_oov_indices,
            oov_token=self.oov_token, mask_token=self.mask_token, output_mode=self.output_mode, sparse=False,
            pad_to_max_tokens=self.pad_to_max_tokens, vocabulary_dtype=self.vocabulary_dtype,
            idf_weights=idf,
            vocabulary=vocabulary, vocabulary_size=self._frozen_vocab_size, oov_method=self.oov_method, salt=self.salt)


__all__ = ["IntegerLookup"]
