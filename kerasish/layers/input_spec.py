"""`keras.layers.InputSpec` and the check Keras's `Layer.__call__` makes with `layer.input_spec`.

A layer that sets `self.input_spec = InputSpec(ndim=4)` (one spec, or a list/dict for several
inputs) gets a ValueError in Keras's words when it is called on an incompatible input.
`assert_input_compatibility(layer.input_spec, inputs, layer.name)` is that check.
"""

from __future__ import annotations

from kerasish import tree

__all__ = ["InputSpec", "assert_input_compatibility"]


def _standardize_dtype(dtype):
    from kerasish.backend import standardize_dtype
    return standardize_dtype(dtype)


class InputSpec:
    """The rank, dtype and shape a layer's input must have.

    Args:
        dtype: the expected dtype.
        shape: the expected shape (None for any size of a dimension); sets `ndim`.
        ndim, max_ndim, min_ndim: the expected exact / largest / smallest rank.
        axes: `{axis: size}` dimensions that must have this size (e.g. `{-1: 128}`).
        allow_last_axis_squeeze: a trailing dimension of 1 is ignored on either side.
        name: the input's name (for dict inputs).
        optional: the input may be None.
    Raises:
        TypeError: `axes` is not a dict with integer keys.
        ValueError: an axis in `axes` is beyond the rank.
    """

    def __init__(self, dtype=None, shape=None, ndim=None, max_ndim=None, min_ndim=None, axes=None,
                 allow_last_axis_squeeze=False, name=None, optional=False):
        self.dtype = _standardize_dtype(dtype) if dtype is not None else None
        if shape is not None:
            self.shape = tuple(None if d is None else int(d) for d in shape)
            self.ndim = len(self.shape)
        else:
            self.shape = None
            self.ndim = ndim
        self.max_ndim = max_ndim
        self.min_ndim = min_ndim
        self.name = name
        self.optional = optional
        self.allow_last_axis_squeeze = allow_last_axis_squeeze
        try:
            self.axes = {int(k): v for k, v in (axes or {}).items()}
        except (ValueError, TypeError, AttributeError):
            raise TypeError(f"Argument `axes` must be a dict with integer keys. Received: axes={axes}") from None
        limit = self.ndim if self.ndim else self.max_ndim
        if self.axes and limit is not None and max(self.axes) > limit - 1:
            raise ValueError(f"Axis {max(self.axes)} is greater than the maximum allowed value: {limit - 1}")

    def __repr__(self) -> str:
        parts = [f"{key}={value}" for key, value in (
            ("dtype", self.dtype), ("shape", self.shape), ("ndim", self.ndim), ("max_ndim", self.max_ndim),
            ("min_ndim", self.min_ndim), ("axes", self.axes)) if value]
        return f"InputSpec({', '.join(parts)})"

    def get_config(self) -> dict:
        return {"dtype": self.dtype, "shape": self.shape, "ndim": self.ndim, "max_ndim": self.max_ndim,
                "min_ndim": self.min_ndim, "axes": self.axes, "optional": self.optional}

    @classmethod
    def from_config(cls, config: dict) -> "InputSpec":
        return cls(**config)


def _incompatible(index, spec, layer_name, detail) -> ValueError:
    return ValueError(f"Input {index} with name '{spec.name}' of layer '{layer_name}' is incompatible with the "
                      f"layer: {detail}")


def _check_one(index, x, spec, layer_name) -> None:
    if not hasattr(x, "shape"):
        raise ValueError(f"Inputs to a layer should be tensors. Got '{x}' (of type {type(x)}) as input for "
                         f"layer '{layer_name}'.")
    shape = tuple(None if d is None else int(d) for d in x.shape)
    ndim = len(shape)
    if spec.ndim is not None and not spec.allow_last_axis_squeeze and ndim != spec.ndim:
        raise _incompatible(index, spec, layer_name, f"expected ndim={spec.ndim}, found ndim={ndim}. "
                                                     f"Full shape received: {shape}")
    if spec.max_ndim is not None and ndim > spec.max_ndim:
        raise _incompatible(index, spec, layer_name, f"expected max_ndim={spec.max_ndim}, found ndim={ndim}")
    if spec.min_ndim is not None and ndim < spec.min_ndim:
        raise _incompatible(index, spec, layer_name, f"expected min_ndim={spec.min_ndim}, found ndim={ndim}. "
                                                     f"Full shape received: {shape}")
    if spec.dtype is not None:
        dtype = _standardize_dtype(x.dtype)
        if dtype != spec.dtype:
            raise _incompatible(index, spec, layer_name, f"expected dtype={spec.dtype}, found dtype={dtype}")
    for axis, size in spec.axes.items():
        if size is not None and shape[axis] not in (size, None):
            raise _incompatible(index, spec, layer_name, f"expected axis {axis} of input shape to have value "
                                                         f"{size}, but received input with shape {shape}")
    if spec.shape is not None:
        expected, found = spec.shape, shape
        if spec.allow_last_axis_squeeze:
            found = found[:-1] if found and found[-1] == 1 else found
            expected = expected[:-1] if expected and expected[-1] == 1 else expected
        for want, got in zip(expected, found):
            if want is not None and got is not None and want != got:
                raise _incompatible(index, spec, layer_name, f"expected shape={spec.shape}, found shape={found}")


def assert_input_compatibility(input_spec, inputs, layer_name: str) -> None:
    """Raises Keras's ValueError if `inputs` (a tensor or a structure of them) does not satisfy
    `input_spec` (None, an `InputSpec`, or a structure of them)."""
    if not input_spec:
        return
    specs = tree.flatten(input_spec)
    if isinstance(inputs, dict):
        names = [spec.name for spec in specs]
        if all(names):
            for name in names:
                if name not in inputs:
                    raise ValueError(f'Missing data for input "{name}". You passed a data dictionary with keys '
                                     f"{list(inputs.keys())}. Expected the following keys: {names}")
            inputs = [inputs[name] for name in names]
    inputs = tree.flatten(inputs)
    if len(inputs) != len(specs):
        names = [spec.name for spec in specs if spec is not None]
        if len(names) == len(specs) and all(names):
            keys = ", ".join(f"'{n}': ..." for n in names)
            raise ValueError(f'Layer "{layer_name}" expects {len(specs)} named input(s) with keys {names}, but '
                             f"it received {len(inputs)} input tensors. Pass inputs as a dict, e.g. "
                             f"`layer({{{keys}}})`.")
        raise ValueError(f'Layer "{layer_name}" expects {len(specs)} input(s), but it received {len(inputs)} '
                         f"input tensors. Inputs received: {inputs}")
    for index, (x, spec) in enumerate(zip(inputs, specs)):
        if spec is None or (x is None and spec.optional):
            continue
        _check_one(index, x, spec, layer_name)
