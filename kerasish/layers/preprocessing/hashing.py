"""Hashing: integer features to `num_bins` buckets with Keras 3's hash, inside compiled steps.

Keras 3 (through TensorFlow) writes each integer in decimal and buckets it by FarmHash's
`Fingerprint64` of that text modulo the number of bins, or by SipHash-2-4 keyed by `salt`; `_hash64`
computes both in jax.numpy, so kerasish gives Keras's bins inside compiled steps. Floats are
truncated to integers first, as Keras does.

Refused (with the reason): string inputs (JAX arrays hold no text),
integers outside int32, `num_bins` above 2**31, `sparse=True`. `int` outputs are int32 arrays (JAX's
integers) while the config keeps Keras's `int64` dtype.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from kerasish import backend
from kerasish.layers.base import Layer
from kerasish.layers.preprocessing._hash64 import fingerprint64, salt_pair, salted_hash
from kerasish.layers.preprocessing.categorical import encode, refuse_sparse
from kerasish.serialization import layer_config


def check_int32_values(inputs, layer: str) -> None:
    """Raises ValueError for NumPy inputs a kerasish layer cannot take as Keras does: text, or integers
    beyond int32 (JAX's integers: they would wrap silently). Call it before `Layer.__call__` converts them."""
    if not isinstance(inputs, (np.ndarray, list, tuple)):
        return
    array = np.asarray(inputs)
    if array.dtype.kind in "USO":
        raise ValueError(f"{layer} in kerasish takes integer (or float) arrays; string inputs need TensorFlow in "
                         f"Keras 3 and are not supported. Received inputs of dtype {array.dtype}.")
    if array.dtype.kind in "iu" and array.size and \
            (array.min() < np.iinfo(np.int32).min or array.max() > np.iinfo(np.int32).max):
        raise ValueError(f"{layer} in kerasish takes integers within int32 (JAX's integers); received values "
                         f"from {array.min()} to {array.max()}.")


class Hashing(Layer):
    """Buckets integer features into `num_bins` bins by hashing them as Keras 3 does (FarmHash
    Fingerprint64 of the decimal text; SipHash-2-4 keyed by `salt`, one int or two, when given). With `mask_value`, that value goes to bin 0 and the others
    to bins 1..num_bins-1. `output_mode`: `int`, `one_hot`, `multi_hot` or `count`.

    Example:
        >>> keras.layers.Hashing(num_bins=3)(np.array([[12], [1138], [42]]))
    """

    def __init__(self, num_bins: int, mask_value=None, salt=None, output_mode: str = "int", sparse: bool = False,
                 **kwargs):
        dtype = kwargs.pop("dtype", None)
        if isinstance(dtype, dict):  # a serialized DTypePolicy
            dtype = (dtype.get("config") or {}).get("name")
        dtype = getattr(dtype, "name", dtype)
        if dtype is None:
            dtype = "int64" if output_mode == "int" else backend.floatx()
        # kerasish's dtype policies are float policies: an integer output dtype is kept here instead.
        super().__init__(dtype=None if str(dtype).startswith("int") else dtype, **kwargs)
        self._output_dtype = str(dtype)
        if num_bins is None or num_bins <= 0:
            raise ValueError("The `num_bins` for `Hashing` cannot be `None` or non-positive values. "
                             f"Received: num_bins={num_bins}.")
        if num_bins > 2 ** 31:
            raise ValueError(f"Hashing: kerasish supports `num_bins` up to 2**31. Received: num_bins={num_bins}")
        if output_mode == "int" and self._output_dtype not in ("int32", "int64"):
            raise ValueError("When `output_mode=\"int\"`, `dtype` should be an integer type, 'int32' or 'in64'. "
                             f"Received: dtype={kwargs['dtype']}")
        modes = ("int", "one_hot", "multi_hot", "count")
        if output_mode not in modes:
            raise ValueError(f"Invalid value for argument `output_mode`. Expected one of {modes}. "
                             f"Received: output_mode={output_mode}")
        refuse_sparse(sparse, "Hashing")
        self.num_bins, self.mask_value, self.output_mode = int(num_bins), mask_value, output_mode
        self.sparse, self.salt = False, salt_pair(salt, "Hashing")

    def _bins(self, values: jax.Array) -> jax.Array:
        bins = self.num_bins
        masked = None
        if self.mask_value is not None and bins > 1:
            bins -= 1
            masked = values == self.mask_value
        if jnp.issubdtype(values.dtype, jnp.floating):
            values = jnp.trunc(values)
        values = values.astype(jnp.int32)
        hashed = fingerprint64(values) if self.salt is None else salted_hash(values, tuple(self.salt))
        buckets = hashed.mod(bins).astype(jnp.int32)
        if masked is not None:
            buckets = jnp.where(masked, 0, buckets + 1)
        return buckets

    def __call__(self, *args, **kwargs):
        # Checked before the base class turns NumPy inputs into JAX arrays (which holds no text and
        # would wrap int64 values silently into int32).
        if args:
            check_int32_values(args[0], "Hashing")
        return super().__call__(*args, **kwargs)

    def call(self, inputs):
        values = jnp.asarray(inputs)
        if self.output_mode == "one_hot" and values.ndim and values.shape[-1] == 1:
            values = values[..., 0]
        return encode(self._bins(values), self.output_mode, self.num_bins, self._output_dtype)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if self.output_mode == "int":
            return input_shape
        return input_shape[:-1] + (self.num_bins,) if input_shape else (self.num_bins,)

    def get_config(self):
        config = layer_config(self, num_bins=self.num_bins, salt=self.salt, mask_value=self.mask_value,
                            output_mode=self.output_mode, sparse=self.sparse)
        if self._output_dtype.startswith("int"):
            config["dtype"] = {"module": "keras", "class_name": "DTypePolicy", "config": {"name": self._output_dtype},
                               "registered_name": None}
        return config


__all__ = ["Hashing"]
