"""Hashing: integer features to `num_bins` buckets with Keras 3's hash, inside compiled steps.

Keras 3 (through TensorFlow) writes each integer in decimal and buckets it by FarmHash's
`Fingerprint64` of that text modulo the number of bins (`tf.strings.to_hash_bucket_fast`). This
module computes the same thing in jax.numpy, so kerasish gives Keras's bins: JAX has no 64-bit
integers by default, so 64-bit words are pairs of uint32 halves (`_U64`). Integers of up to 11
characters (every int32) only reach FarmHash's strings of up to 16 bytes, the one branch written
here. Floats are truncated to integers first, as Keras does.

With a `salt`, Keras hashes with SipHash-2-4 keyed by the two salt words
(`tf.strings.to_hash_bucket_strong`); `siphash` computes it the same way.

Refused (with the reason): string inputs (JAX arrays hold no text),
integers outside int32, `num_bins` above 2**31, `sparse=True`. `int` outputs are int32 arrays (JAX's
integers) while the config keeps Keras's `int64` dtype.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from kerasish import backend
from kerasish.layers.base import Layer
from kerasish.layers.preprocessing.categorical import encode, refuse_sparse
from kerasish.serialization import layer_config

_U32 = jnp.uint32


class _U64(NamedTuple):
    """A uint64 as its high and low uint32 halves (arrays of one shape)."""
    hi: jax.Array
    lo: jax.Array

    @staticmethod
    def const(value: int, like: jax.Array) -> "_U64":
        return _U64(jnp.full(like.shape, value >> 32, _U32), jnp.full(like.shape, value & 0xFFFFFFFF, _U32))

    @staticmethod
    def of32(value: jax.Array) -> "_U64":
        return _U64(jnp.zeros_like(value, _U32), value.astype(_U32))

    def __add__(self, other: "_U64") -> "_U64":
        lo = self.lo + other.lo
        return _U64(self.hi + other.hi + (lo < self.lo).astype(_U32), lo)

    def __xor__(self, other: "_U64") -> "_U64":
        return _U64(self.hi ^ other.hi, self.lo ^ other.lo)

    def __or__(self, other: "_U64") -> "_U64":
        return _U64(self.hi | other.hi, self.lo | other.lo)

    def __mul__(self, other: "_U64") -> "_U64":
        """The product modulo 2**64: the low halves' full 64-bit product from 16-bit pieces, plus the
        cross terms (which only reach the high half)."""
        a0, a1 = self.lo & 0xFFFF, self.lo >> 16
        b0, b1 = other.lo & 0xFFFF, other.lo >> 16
        p00, p01, p10, p11 = a0 * b0, a0 * b1, a1 * b0, a1 * b1
        middle = (p00 >> 16) + (p01 & 0xFFFF) + (p10 & 0xFFFF)
        lo = (p00 & 0xFFFF) | (middle << 16)
        hi = p11 + (p01 >> 16) + (p10 >> 16) + (middle >> 16) + self.lo * other.hi + self.hi * other.lo
        return _U64(hi, lo)

    def shr(self, n: int) -> "_U64":
        if n >= 32:
            return _U64(jnp.zeros_like(self.hi), self.hi >> (n - 32))
        return _U64(self.hi >> n, (self.lo >> n) | (self.hi << (32 - n)))

    def shl(self, n: int) -> "_U64":
        if n >= 32:
            return _U64(self.lo << (n - 32), jnp.zeros_like(self.lo))
        return _U64((self.hi << n) | (self.lo >> (32 - n)), self.lo << n)

    def rotr(self, n: int) -> "_U64":
        return self.shr(n) | self.shl(64 - n)

    def mod(self, m: int) -> jax.Array:
        """The value modulo `m` (1 <= m <= 2**31), as uint32: Horner's rule over the high half's bits."""
        r = self.hi % _U32(m)
        for _ in range(32):
            r = (r * 2) % _U32(m)
        return (r + self.lo % _U32(m)) % _U32(m)


_K0, _K2 = 0xC3A5C85C97CB3127, 0x9AE16A3B2F90404F
_POWERS = [10 ** i for i in range(10)]


def _decimal_bytes(values: jax.Array) -> tuple[jax.Array, jax.Array]:
    """The ASCII bytes of each int32 written in decimal (`(..., 11)`, zero padded) and their count."""
    negative = values < 0
    magnitude = jnp.where(negative, ~values.astype(_U32) + 1, values.astype(_U32))
    digits = jnp.stack([(magnitude // _U32(p)) % 10 for p in _POWERS], axis=-1)  # least significant first
    n_digits = 1 + sum((magnitude >= _U32(p)).astype(jnp.int32) for p in _POWERS[1:])
    sign = negative.astype(jnp.int32)
    length = n_digits + sign
    positions = jnp.arange(11)
    from_right = n_digits[..., None] - 1 - (positions - sign[..., None])
    digit = jnp.take_along_axis(digits, jnp.clip(from_right, 0, 9), axis=-1) + ord("0")
    text = jnp.where(positions < length[..., None], digit, 0)
    text = jnp.where((positions == 0) & negative[..., None], ord("-"), text)
    return text.astype(_U32), length


def _fetch32(text: jax.Array, offset: jax.Array) -> jax.Array:
    """Little-endian uint32 of the 4 bytes of `text` from `offset` (one offset per value)."""
    picked = jnp.take_along_axis(text, jnp.clip(offset[..., None] + jnp.arange(4), 0, text.shape[-1] - 1), axis=-1)
    return picked[..., 0] | (picked[..., 1] << 8) | (picked[..., 2] << 16) | (picked[..., 3] << 24)


def _hash_len16(u: _U64, v: _U64, mul: _U64) -> _U64:
    a = (u ^ v) * mul
    a = a ^ a.shr(47)
    b = (v ^ a) * mul
    b = b ^ b.shr(47)
    return b * mul


def fingerprint64(values: jax.Array) -> _U64:
    """FarmHash `Fingerprint64` of each int32's decimal text (texts of 1 to 11 bytes)."""
    text, length = _decimal_bytes(values)
    k0, k2 = _U64.const(_K0, length), _U64.const(_K2, length)
    mul = k2 + _U64.of32((length * 2).astype(_U32))
    # 8 to 16 bytes
    a = _U64(_fetch32(text, jnp.full_like(length, 4)), _fetch32(text, jnp.zeros_like(length))) + k2
    b = _U64(_fetch32(text, length - 4), _fetch32(text, length - 8))
    long_hash = _hash_len16(b.rotr(37) * mul + a, (a.rotr(25) + b) * mul, mul)
    # 4 to 7 bytes
    first = _U64.of32(_fetch32(text, jnp.zeros_like(length)))
    mid_hash = _hash_len16(_U64.of32(length.astype(_U32)) + first.shl(3), _U64.of32(_fetch32(text, length - 4)), mul)
    # 1 to 3 bytes
    byte = lambda i: jnp.take_along_axis(text, i[..., None], axis=-1)[..., 0]  # noqa: E731
    y = byte(jnp.zeros_like(length)) + (byte(length >> 1) << 8)
    z = length.astype(_U32) + (byte(length - 1) << 2)
    mixed = _U64.of32(y) * k2 ^ _U64.of32(z) * k0
    short_hash = (mixed ^ mixed.shr(47)) * k2
    pick = lambda long, mid, short: jnp.where(length >= 8, long, jnp.where(length >= 4, mid, short))  # noqa: E731
    return _U64(pick(long_hash.hi, mid_hash.hi, short_hash.hi), pick(long_hash.lo, mid_hash.lo, short_hash.lo))


_SIP_CONSTANTS = (0x736F6D6570736575, 0x646F72616E646F6D, 0x6C7967656E657261, 0x7465646279746573)


def _rotl(x: _U64, n: int) -> _U64:
    return x.rotr(64 - n)


def _sip_rounds(v: list, n: int) -> list:
    v0, v1, v2, v3 = v
    for _ in range(n):
        v0 = v0 + v1
        v1 = _rotl(v1, 13) ^ v0
        v0 = _rotl(v0, 32)
        v2 = v2 + v3
        v3 = _rotl(v3, 16) ^ v2
        v0 = v0 + v3
        v3 = _rotl(v3, 21) ^ v0
        v2 = v2 + v1
        v1 = _rotl(v1, 17) ^ v2
        v2 = _rotl(v2, 32)
    return [v0, v1, v2, v3]


def _absorb(v: list, word: _U64) -> list:
    v = _sip_rounds([v[0], v[1], v[2], v[3] ^ word], 2)
    return [v[0] ^ word, *v[1:]]


def siphash(text: jax.Array, length: jax.Array, key: tuple[int, int]) -> _U64:
    """SipHash-2-4 under the 128-bit `key = (k0, k1)` of byte texts of at most 15 bytes (`text`:
    `(..., 16)` uint32 bytes, zero after `length`): Keras's salted hash (`to_hash_bucket_strong`)."""
    word = lambda offset: _U64(_fetch32(text, offset + 4), _fetch32(text, offset))  # noqa: E731
    k0, k1 = (_U64.const(k, length) for k in key)
    v = [k0 ^ _U64.const(_SIP_CONSTANTS[0], length), k1 ^ _U64.const(_SIP_CONSTANTS[1], length),
         k0 ^ _U64.const(_SIP_CONSTANTS[2], length), k1 ^ _U64.const(_SIP_CONSTANTS[3], length)]
    one_block = length >= 8
    absorbed = _absorb(v, word(jnp.zeros_like(length)))
    v = [_U64(jnp.where(one_block, a.hi, b.hi), jnp.where(one_block, a.lo, b.lo)) for a, b in zip(absorbed, v)]
    last = word(jnp.where(one_block, 8, 0))
    v = _absorb(v, _U64(last.hi | (length.astype(_U32) << 24), last.lo))
    v = _sip_rounds([v[0], v[1], v[2] ^ _U64.const(0xFF, length), v[3]], 4)
    return v[0] ^ v[1] ^ v[2] ^ v[3]


def salted_hash(values: jax.Array, salt: tuple[int, int]) -> _U64:
    """Keras's salted (SipHash-2-4) hash of each int32's decimal text."""
    text, length = _decimal_bytes(values)
    return siphash(jnp.pad(text, [(0, 0)] * (text.ndim - 1) + [(0, 5)]), length, salt)


def salt_pair(salt, layer: str) -> list[int] | None:
    """Keras's `salt`: None, one int (used twice) or two ints.

    Raises:
        ValueError: for anything else, with Keras's wording.
    """
    if salt is None:
        return None
    if isinstance(salt, (tuple, list)) and len(salt) == 2:
        return [int(salt[0]), int(salt[1])]
    if isinstance(salt, int) and not isinstance(salt, bool):
        return [salt, salt]
    raise ValueError(f"The `salt` argument for `{layer}` can only be a tuple of size 2 integers, or a single integer. "
                     f"Received: salt={salt}.")


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
