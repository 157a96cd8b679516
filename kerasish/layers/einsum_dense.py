"""EinsumDense: a dense layer whose product is any `einsum` of the input with one kernel.

The equation names the input's axes, the kernel's and the output's (`"abc,cd->abd"`, with `...`
at the left or right of the input and output for axes the layer passes through). From it and the
partial `output_shape` (the output's axes after the batch axis, `...` axes left out) the layer
derives the kernel's shape (each kernel axis is an input axis or an output axis), the bias's shape
(`bias_axes`: output letters; the bias spans from the first of them to the end of the output,
size 1 on the letters not named), and which kernel axes are fan-in and fan-out for variance-scaling
initializers, as Keras 3 does. Weights: `kernel`, then `bias`.

Must not: know about attention (MultiHeadAttention composes it).
"""

from __future__ import annotations

import re
from typing import NamedTuple

import jax.numpy as jnp

from kerasish import activations, constraints, initializers, regularizers
from kerasish.layers.base import Layer
from kerasish.layers.core import apply_activation
from kerasish.serialization import layer_config, pop_keras_only, serialize_activation, weight_args_config

# Keras 3 writes these for quantization / LoRA; kerasish has neither (defaults only).
_NO_QUANTIZATION = {"quantization_config": None, "lora_rank": None, "lora_alpha": None,
                    "gptq_unpacked_column_size": None}
_FORMS = (  # (pattern over the equation with "..." written as "0", where the ellipsis is)
    (re.compile(r"^([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)$"), None),
    (re.compile(r"^0([a-zA-Z]+),([a-zA-Z]+)->0([a-zA-Z]+)$"), "left"),
    (re.compile(r"^([a-zA-Z]{2,})0,([a-zA-Z]+)->([a-zA-Z]+)0$"), "right"),
)


class EinsumShapes(NamedTuple):
    kernel: tuple
    bias: tuple | None
    output: tuple
    input_axes: tuple  # kernel axes that come from the input (fan in)
    output_axes: tuple  # kernel axes that go to the output (fan out)


def analyze_equation(equation: str, bias_axes: str | None, input_shape, partial_output_shape) -> EinsumShapes:
    """The kernel, bias and full output shapes of `EinsumDense(equation, partial_output_shape,
    bias_axes)` on inputs of `input_shape` (batch first).

    Raises:
        ValueError: an equation not of the forms `X,Y->Z`, `...X,Y->...Z`, `X...,Y->Z...`; input and
            output sizes that disagree on a shared letter; an output or kernel letter with no source;
            a bias letter missing from the output; an input of the wrong rank.
    """
    text = equation.replace("...", "0") if isinstance(equation, str) else ""
    for pattern, elided_side in _FORMS:
        match = pattern.match(text)
        if match:
            break
    else:
        raise ValueError(f"Invalid einsum equation '{equation}'. Equations must be in the form "
                         "[X],[Y]->[Z], ...[X],[Y]->...[Z], or [X]...,[Y]->[Z]....")
    in_spec, kernel_spec, out_spec = match.groups()
    input_shape = tuple(input_shape)
    elided = len(input_shape) - len(in_spec)
    if elided < 0 or (elided_side is None and elided != 0) or (elided_side == "left" and elided < 1):
        raise ValueError(f"The einsum equation '{equation}' expects inputs of rank {len(in_spec)}"
                         f"{' or more' if elided_side else ''}. Received input shape {input_shape}.")
    partial = [partial_output_shape] if isinstance(partial_output_shape, int) else list(partial_output_shape)
    if elided_side == "left":
        output = [*input_shape[:elided], *partial]
        in_index = {c: elided + i for i, c in enumerate(in_spec)}
        out_index = {c: elided + i for i, c in enumerate(out_spec)}
    else:
        output = [input_shape[0], *partial, *input_shape[len(input_shape) - elided:]]
        in_index = {c: i for i, c in enumerate(in_spec)}
        out_index = {c: i for i, c in enumerate(out_spec)}
    if len(output) != (elided if elided_side == "left" else 0) + len(out_spec) + \
            (elided if elided_side == "right" else 0):
        raise ValueError(f"`output_shape` {tuple(partial)} does not fit the output '{out_spec}' of the einsum "
                         f"equation '{equation}' (give one size per output axis after the batch axis).")
    for c in in_spec:
        if c in out_index:
            size, wanted = input_shape[in_index[c]], output[out_index[c]]
            if wanted is not None and size is not None and wanted != size:
                raise ValueError(f"Input shape and output shape do not match at shared dimension '{c}'. "
                                 f"Input shape is {size}, and output shape is {wanted}.")
            if wanted is None:
                output[out_index[c]] = size
    for c in out_spec:
        if c not in in_spec and c not in kernel_spec:
            raise ValueError(f"Dimension '{c}' was specified in the output '{out_spec}' but has no corresponding "
                             f"dim in the input spec '{in_spec}' or weight spec '{kernel_spec}'")
    kernel, fan_in, fan_out = [], [], []
    for i, c in enumerate(kernel_spec):
        if c in out_index:
            kernel.append(output[out_index[c]])
            fan_out.append(i)
        elif c in in_index:
            kernel.append(input_shape[in_index[c]])
            fan_in.append(i)
        else:
            raise ValueError(f"Weight dimension '{c}' did not have a match in either the input spec '{in_spec}' "
                             f"or the output spec '{out_spec}'. For this layer, the weight must be fully specified.")
    bias = None
    if bias_axes is not None:
        for c in bias_axes:
            if c not in out_spec:
                raise ValueError(f"Bias dimension '{c}' was requested, but is not part of the output spec "
                                 f"'{out_spec}'")
        first = min(out_spec.index(c) for c in bias_axes)
        bias = [output[out_index[c]] if c in bias_axes else 1 for c in out_spec[first:]]
        if elided_side == "right":
            bias += [1] * elided
        bias = tuple(bias)
    return EinsumShapes(tuple(kernel), bias, tuple(output), tuple(fan_in), tuple(fan_out))


def _with_fan_axes(initializer, fan_in: tuple, fan_out: tuple):
    """A variance-scaling initializer told which kernel axes are fan-in and fan-out (a copy; the
    layer's own initializer and config stay as given)."""
    if isinstance(initializer, initializers.VarianceScaling) and \
            (initializer.input_axes is None or initializer.output_axes is None):
        config = {**initializer.get_config(), "input_axes": list(fan_in), "output_axes": list(fan_out)}
        return type(initializer).from_config(config)
    return initializer


def set_kernel_bias_args(layer, kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
                         kernel_constraint, bias_constraint) -> None:
    """Resolves and stores `kernel_*` / `bias_*` initializers, regularizers and constraints."""
    layer.kernel_initializer = initializers.get(kernel_initializer)
    layer.bias_initializer = initializers.get(bias_initializer)
    layer.kernel_regularizer = regularizers.get(kernel_regularizer)
    layer.bias_regularizer = regularizers.get(bias_regularizer)
    layer.kernel_constraint = constraints.get(kernel_constraint)
    layer.bias_constraint = constraints.get(bias_constraint)


class EinsumDense(Layer):
    """`activation(einsum(equation, inputs, kernel) + bias)`.

    Args:
        equation: `"ab,bc->ac"`, `"...ab,bc->...ac"` or `"ab...,bc->ac..."` style einsum string.
        output_shape: the output's sizes after the batch axis (and without the `...` axes); an int
            for one axis, None for a size taken from the input.
        activation: activation name or callable (none by default).
        bias_axes: output letters that carry a bias (none by default).
        kernel_*/bias_*: initializers, regularizers, constraints, as for `Dense`.

    Example:
        >>> layer = keras.layers.EinsumDense("abc,cde->abde", output_shape=(None, 4, 8), bias_axes="de")
        >>> layer(np.ones((2, 5, 16))).shape
        (2, 5, 4, 8)
    """

    def __init__(self, equation: str, output_shape, activation=None, bias_axes: str | None = None,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", kernel_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None, bias_constraint=None, **kwargs):
        for key, default in _NO_QUANTIZATION.items():
            if kwargs.get(key, default) != default:
                raise ValueError(f"EinsumDense: `{key}={kwargs[key]!r}` is not supported by kerasish "
                                 "(no quantization or LoRA).")
            kwargs.pop(key, None)
        super().__init__(**kwargs)
        if not isinstance(equation, str):
            raise ValueError(f"Invalid einsum equation {equation!r}: expected a string such as 'ab,bc->ac'.")
        self.equation = equation
        if isinstance(output_shape, int):
            output_shape = (output_shape,)
        try:
            self.partial_output_shape = tuple(output_shape)
        except TypeError:
            raise ValueError(f"`output_shape` must be an int or a tuple of ints (None for a size taken from "
                             f"the input). Received: output_shape={output_shape!r}") from None
        if bias_axes is not None and not isinstance(bias_axes, str):
            raise ValueError(f"`bias_axes` must be a string of output letters. Received: bias_axes={bias_axes!r}")
        self.bias_axes = bias_axes
        self.activation = activations.get(activation)
        set_kernel_bias_args(self, kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
                             kernel_constraint, bias_constraint)
        self._rank = None

    def build(self, input_shape):
        shapes = analyze_equation(self.equation, self.bias_axes, input_shape, self.partial_output_shape)
        if None in shapes.kernel or (shapes.bias is not None and None in shapes.bias):
            raise ValueError(f"Layer '{self.name}': the kernel shape {shapes.kernel} (bias {shapes.bias}) of "
                             f"'{self.equation}' needs known sizes; input shape {tuple(input_shape)}, "
                             f"output_shape={self.partial_output_shape}.")
        self._rank = len(input_shape)
        self.kernel = self.add_weight(
            name="kernel", shape=shapes.kernel, regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
            initializer=_with_fan_axes(self.kernel_initializer, shapes.input_axes, shapes.output_axes))
        self.bias = None
        if shapes.bias is not None:
            self.bias = self.add_weight(name="bias", shape=shapes.bias, initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        self.built = True

    def compute_output_shape(self, input_shape):
        return analyze_equation(self.equation, self.bias_axes, input_shape, self.partial_output_shape).output

    def call(self, inputs, training=None):
        if self._rank is not None and inputs.ndim != self._rank:
            raise ValueError(f"Input 0 of layer '{self.name}' is incompatible with the layer: expected "
                             f"ndim={self._rank}, found ndim={inputs.ndim}. Full shape received: {inputs.shape}")
        y = jnp.einsum(self.equation, inputs, self.kernel.value)
        if self.bias is not None:
            y = y + self.bias.value
        return apply_activation(self.activation, y)

    def get_config(self):
        return layer_config(self, output_shape=self.partial_output_shape, equation=self.equation,
                            activation=serialize_activation(self.activation), bias_axes=self.bias_axes,
                            **weight_args_config(self, "kernel", "bias", activity=True),
                            quantization_config=None)

    @classmethod
    def from_config(cls, config):
        return cls(**pop_keras_only(config, cls.__name__, _NO_QUANTIZATION))


__all__ = ["EinsumDense"]
