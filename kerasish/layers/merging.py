"""Merge layers (Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate, Dot) and their
functional forms (`layers.add([a, b])`, ...). Each takes a list of tensors; shapes are checked as
Keras checks them (same shape, or broadcastable with a None batch)."""

from __future__ import annotations

from functools import reduce
from typing import Any

import jax
import jax.numpy as jnp

from kerasish.layers.base import Layer

__all__ = ["Add", "Average", "Concatenate", "Dot", "Maximum", "Minimum", "Multiply", "Subtract", "add", "average",
           "concatenate", "dot", "maximum", "minimum", "multiply", "subtract"]


def _mask_list(inputs, mask) -> list | None:
    """`mask` as a list matching the list `inputs` (Keras's errors otherwise); None without masks."""
    if mask is None:
        return None
    if not isinstance(mask, (list, tuple)):
        raise ValueError(f"`mask` should be a list. Received: mask={mask}")
    if not isinstance(inputs, (list, tuple)):
        raise ValueError(f"`inputs` should be a list. Received: inputs={inputs}")
    if len(mask) != len(inputs):
        raise ValueError(f"The lists `inputs` and `mask` should have the same length. Received: inputs of length "
                         f"{len(inputs)}, and mask of length {len(mask)}")
    return list(mask)


def _shapes(input_shape) -> list[tuple]:
    if not isinstance(input_shape, (list, tuple)) or not input_shape or \
            not all(isinstance(s, (list, tuple)) for s in input_shape):
        raise ValueError(f"A merge layer should be called on a list of inputs. Received: input_shape={input_shape} "
                         "(not a list of shapes)")
    return [tuple(s) for s in input_shape]


class _Merge(Layer):
    """Base class: elementwise merges of inputs of one broadcastable shape."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def _merge(self, inputs: list):
        raise NotImplementedError

    def _check(self, shapes: list[tuple]) -> tuple:
        if len(shapes) < 1:
            raise ValueError(f"A merge layer should be called on a list of at least 1 input. "
                             f"Got {len(shapes)} inputs.")
        out = list(shapes[0])
        for shape in shapes[1:]:
            if len(shape) != len(out):
                raise ValueError(f"Inputs have incompatible shapes. Received shapes {shapes[0]} and {shape}")
            for i, (a, b) in enumerate(zip(out, shape)):
                if a is None or b is None:
                    out[i] = a if b is None or b == 1 else b if a is None or a == 1 else None
                elif a != b and 1 not in (a, b):
                    raise ValueError(f"Inputs have incompatible shapes. Received shapes {shapes[0]} and {shape}")
                else:
                    out[i] = max(a, b)
        return tuple(out)

    def build(self, input_shape):
        self._check(_shapes(input_shape))
        self.built = True

    def compute_mask(self, inputs, mask=None):
        """As Keras: the OR of the inputs' masks when every input has one, else no mask."""
        masks = _mask_list(inputs, mask)
        if masks is None or any(m is None for m in masks):
            return None
        return reduce(jnp.logical_or, masks)

    def compute_output_shape(self, input_shape):
        return self._check(_shapes(input_shape))

    def call(self, inputs):
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(f"A merge layer should be called on a list of inputs. Received: inputs={inputs} "
                             "(not a list of tensors)")
        return self._merge(list(inputs))


class Add(_Merge):
    """Sum of the inputs."""

    def _merge(self, inputs):
        return reduce(jnp.add, inputs)


class Subtract(_Merge):
    """`inputs[0] - inputs[1]` (exactly two inputs)."""

    def _check(self, shapes):
        if len(shapes) != 2:
            raise ValueError(f"A `Subtract` layer should be called on exactly 2 inputs. Received: input_shape={shapes}")
        return super()._check(shapes)

    def _merge(self, inputs):
        if len(inputs) != 2:
            raise ValueError(f"A `Subtract` layer should be called on exactly 2 inputs. Received {len(inputs)}.")
        return inputs[0] - inputs[1]


class Multiply(_Merge):
    """Elementwise product of the inputs."""

    def _merge(self, inputs):
        return reduce(jnp.multiply, inputs)


class Average(_Merge):
    """Elementwise mean of the inputs."""

    def _merge(self, inputs):
        return reduce(jnp.add, inputs) / len(inputs)


class Maximum(_Merge):
    """Elementwise maximum of the inputs."""

    def _merge(self, inputs):
        return reduce(jnp.maximum, inputs)


class Minimum(_Merge):
    """Elementwise minimum of the inputs."""

    def _merge(self, inputs):
        return reduce(jnp.minimum, inputs)


class Concatenate(_Merge):
    """Concatenates the inputs along `axis`; the other axes must match."""

    def __init__(self, axis: int = -1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise ValueError(f"`axis` must be an integer. Received: axis={axis!r}")
        self.axis = axis

    def _check(self, shapes):
        if len(shapes) < 1:
            raise ValueError("A `Concatenate` layer should be called on a list of at least 1 input.")
        rank = len(shapes[0])
        if any(len(s) != rank for s in shapes) or not -rank <= self.axis < rank:
            raise ValueError(f"A `Concatenate` layer requires inputs with matching shapes except for the concatenation "
                             f"axis. Received: input_shape={shapes}")
        axis = self.axis % rank
        for shape in shapes[1:]:
            for i, (a, b) in enumerate(zip(shapes[0], shape)):
                if i != axis and a is not None and b is not None and a != b:
                    raise ValueError(f"A `Concatenate` layer requires inputs with matching shapes except for the "
                                     f"concatenation axis. Received: input_shape={shapes}")
        sizes = [s[axis] for s in shapes]
        out = list(shapes[0])
        out[axis] = None if None in sizes else sum(sizes)
        return tuple(out)

    def compute_mask(self, inputs, mask=None):
        """As Keras: each input's mask (all True where it has none) widened to the input's rank,
        concatenated along `axis`, then reduced with `any` over the last axis."""
        masks = _mask_list(inputs, mask)
        if masks is None or all(m is None for m in masks):
            return None
        full = []
        for x, m in zip(inputs, masks):
            if m is None:
                m = jnp.ones(jnp.shape(x), bool)
            elif jnp.ndim(m) < jnp.ndim(x):
                m = jnp.broadcast_to(jnp.expand_dims(m, -1), jnp.shape(x))
            full.append(m)
        return jnp.any(jnp.concatenate(full, axis=self.axis), axis=-1)

    def _merge(self, inputs):
        return jnp.concatenate(inputs, axis=self.axis)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


def _batch_dot(x, y, axes: tuple[int, int]):
    """Keras's `batch_dot`: per sample, contract `x`'s axis `axes[0]` with `y`'s axis `axes[1]`."""
    out = jax.vmap(lambda a, b: jnp.tensordot(a, b, axes=(axes[0] - 1, axes[1] - 1)))(x, y)
    return out[:, None] if out.ndim == 1 else out


class Dot(_Merge):
    """Dot product of two inputs along `axes` per sample (cosine proximity with `normalize=True`)."""

    def __init__(self, axes, normalize: bool = False, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axes, int):
            axes = (axes, axes)
        if not isinstance(axes, (list, tuple)) or len(axes) != 2 or not all(isinstance(a, int) for a in axes):
            raise ValueError(f"Invalid format for argument `axes`: expected an int or a list/tuple of 2 ints. "
                             f"Received: axes={axes!r}")
        self.axes, self.normalize = tuple(axes), bool(normalize)

    def _resolved(self, shapes) -> tuple[int, int]:
        return tuple(a % len(s) for a, s in zip(self.axes, shapes))

    def _check(self, shapes):
        if len(shapes) != 2:
            raise ValueError(f"A `Dot` layer should be called on a list of 2 inputs. Received: input_shape={shapes}")
        a, b = self._resolved(shapes)
        if shapes[0][a] is not None and shapes[1][b] is not None and shapes[0][a] != shapes[1][b]:
            raise ValueError(f"Incompatible input shapes: axis values {shapes[0][a]} (at axis {a}) != {shapes[1][b]} "
                             f"(at axis {b}). Full input shapes: {shapes[0]}, {shapes[1]}")
        out = [d for i, d in enumerate(shapes[0]) if i != a] + [d for i, d in enumerate(shapes[1][1:], 1) if i != b]
        return tuple(out) if len(out) > 1 else (out[0], 1)

    def compute_mask(self, inputs, mask=None):
        return None

    def _merge(self, inputs):
        x, y = inputs
        axes = self._resolved([x.shape, y.shape])
        if self.normalize:
            x = x / jnp.maximum(jnp.linalg.norm(x, axis=axes[0], keepdims=True), 1e-12)
            y = y / jnp.maximum(jnp.linalg.norm(y, axis=axes[1], keepdims=True), 1e-12)
        return _batch_dot(x, y, axes)

    def get_config(self):
        return {**super().get_config(), "axes": self.axes, "normalize": self.normalize}


def _functional(cls):
    def merge(inputs: list, **kwargs: Any):
        return cls(**kwargs)(inputs)
    merge.__name__ = cls.__name__.lower()
    merge.__doc__ = f"`layers.{cls.__name__}(**kwargs)(inputs)`."
    return merge


add, subtract, multiply, average, maximum, minimum = (
    _functional(c) for c in (Add, Subtract, Multiply, Average, Maximum, Minimum))


def concatenate(inputs: list, axis: int = -1, **kwargs: Any):
    """`layers.Concatenate(axis=axis, **kwargs)(inputs)`."""
    return Concatenate(axis=axis, **kwargs)(inputs)


def dot(inputs: list, axes=-1, normalize: bool = False, **kwargs: Any):
    """`layers.Dot(axes=axes, normalize=normalize, **kwargs)(inputs)`."""
    return Dot(axes=axes, normalize=normalize, **kwargs)(inputs)
