"""Keras 3's hashes of integers, in jax.numpy without 64-bit integers (traceable, jit-safe).

Keras 3 (through TensorFlow) hashes an integer by writing it in decimal and hashing the text: FarmHash's
`Fingerprint64` (`tf.strings.to_hash_bucket_fast`) or, with a salt, SipHash-2-4 keyed by the two salt
words (`to_hash_bucket_strong`). JAX has no 64-bit integers by default, so 64-bit words are pairs of
uint32 halves (`_U64`). Integers of up to 11 characters (every int32) only reach FarmHash's branch for
texts of up to 16 bytes and SipHash's texts of at most one full block, the cases written here.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

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
