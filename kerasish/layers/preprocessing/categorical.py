"""CategoryEncoding and Discretization: integer categories to one-hot / multi-hot / count vectors,
and real values to bucket indices (with bucket boundaries given, or learned by `adapt`).

`encode(indices, output_mode, depth, dtype, count_weights)` is the one encoding both layers (and
IntegerLookup) use: Keras's `int` / `one_hot` / `multi_hot` / `count` over `kerasish.ops.nn`.
Sparse outputs are refused (kerasish has no sparse tensors in layers).
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
import numpy as np

from kerasish.layers.base import Layer
from kerasish.layers.preprocessing.adapt_data import batches
from kerasish.ops import nn as nn_ops
from kerasish.serialization import layer_config

OUTPUT_MODES = ("int", "one_hot", "multi_hot", "count")


def refuse_sparse(sparse: Any, layer: str) -> None:
    if sparse:
        raise ValueError(f"{layer}: `sparse=True` is not supported by kerasish (sparse tensors need the TensorFlow "
                         f"backend in Keras 3 too). Received: sparse={sparse}")


def encode(indices, output_mode: str, depth: int, dtype: Any, count_weights=None) -> jnp.ndarray:
    """Integer `indices` in Keras's `output_mode`: `int` casts; `one_hot` adds a last axis of `depth`
    (replacing a last axis of size 1); `multi_hot` / `count` mark / count each row's values."""
    indices = jnp.asarray(indices)
    if output_mode == "int":
        return indices.astype(dtype)
    if indices.ndim == 0:
        indices = indices[None]
    if output_mode == "multi_hot":
        return nn_ops.multi_hot(indices, depth, dtype=dtype)
    if output_mode == "one_hot":
        if indices.ndim > 1 and indices.shape[-1] == 1:
            indices = indices[..., 0]
        return nn_ops.one_hot(indices, depth, dtype=dtype)
    if count_weights is not None:
        dtype = count_weights.dtype
    encoded = nn_ops.one_hot(indices, depth, dtype=dtype)
    if count_weights is not None:
        encoded = encoded * count_weights[..., None]
    return jnp.sum(encoded, axis=1 if indices.ndim > 1 else 0)


def encoded_shape(input_shape, output_mode: str, depth: int | None) -> tuple:
    """The output shape of `encode` for inputs of `input_shape` (Keras's rules)."""
    input_shape = tuple(input_shape)
    if output_mode == "int":
        return input_shape
    if not input_shape:
        return (depth,)
    if output_mode == "one_hot":
        if len(input_shape) > 1 and input_shape[-1] == 1:
            return input_shape[:-1] + (depth,)
        return input_shape + (depth,)
    return input_shape[:-1] + (depth,)


def check_output_mode(output_mode: Any, caller: str, allowed=OUTPUT_MODES) -> str:
    if output_mode not in allowed:
        raise ValueError(f"Unknown value for `output_mode`. Allowed values are: {allowed}. Received: "
                         f"output_mode={output_mode!r} (in {caller}).")
    return output_mode


class CategoryEncoding(Layer):
    """Encodes integer category indices in `[0, num_tokens)` as `one_hot`, `multi_hot` (the default;
    `"binary"` is its old name) or `count` vectors of length `num_tokens`. `count_weights=` (count mode)
    weights each occurrence.

    Example:
        >>> keras.layers.CategoryEncoding(num_tokens=4, output_mode="one_hot")(np.array([3, 2, 0, 1]))
    """

    def __init__(self, num_tokens: int | None = None, output_mode: str = "multi_hot", sparse: bool = False, **kwargs):
        super().__init__(**kwargs)
        if output_mode == "binary":
            output_mode = "multi_hot"
        if output_mode not in ("count", "one_hot", "multi_hot"):
            raise ValueError(f"Unknown arg for output_mode: {output_mode}")
        if num_tokens is None:
            raise ValueError("num_tokens must be set to use this layer. If the number of tokens is not known "
                             "beforehand, use the IntegerLookup layer instead.")
        if num_tokens < 1:
            raise ValueError(f"`num_tokens` must be >= 1. Received: num_tokens={num_tokens}.")
        refuse_sparse(sparse, "CategoryEncoding")
        self.num_tokens, self.output_mode, self.sparse = int(num_tokens), output_mode, False

    def call(self, inputs, count_weights=None):
        if count_weights is not None:
            if self.output_mode != "count":
                raise ValueError("`count_weights` is not used when `output_mode` is not `'count'`. "
                                 f"Received `count_weights={count_weights}`.")
            count_weights = jnp.asarray(count_weights, self.compute_dtype)
        return encode(inputs, self.output_mode, self.num_tokens, self.dtype, count_weights)

    def compute_output_shape(self, input_shape):
        return encoded_shape(input_shape, self.output_mode, self.num_tokens)

    def get_config(self):
        return layer_config(self, num_tokens=self.num_tokens, output_mode=self.output_mode)


# -- Discretization's approximate quantiles ------------------------------------------------------------
# A summary is a (2, n) array: sorted sample values and the weight (number of data points) each stands
# for. `_summarize` keeps about 1/epsilon evenly spaced order statistics of a batch, `_merge` joins two
# summaries and `_compress` re-samples a summary at the cumulative-weight fractions epsilon, 2 epsilon, ...
# The layer's boundaries are the summary compressed to `num_bins` fractions, without the last (the max).

def _summarize(values: np.ndarray, epsilon: float) -> np.ndarray:
    values = np.sort(np.reshape(values, [-1]))
    step = max(values.size * epsilon, 1)
    kept = values[int(step - 1)::int(step)]
    return np.stack([kept, np.full_like(kept, step)])


def _compress(summary: np.ndarray, epsilon: float) -> np.ndarray:
    if summary.shape[1] * epsilon < 1:
        return summary
    fractions = epsilon + np.arange(0.0, 1.0, epsilon)
    cumulative = np.cumsum(summary[1])
    at = np.interp(fractions, cumulative / cumulative[-1], cumulative)
    values = np.interp(fractions, cumulative / cumulative[-1], summary[0])
    return np.stack([values, np.diff(at, prepend=0.0)]).astype("float32")


def _merge(summary: np.ndarray, other: np.ndarray, epsilon: float) -> np.ndarray:
    joined = np.concatenate([summary, other], axis=1)
    return _compress(joined[:, np.argsort(joined[0])], epsilon)


class Discretization(Layer):
    """Buckets real values: index `i` for `bin_boundaries[i-1] <= x < bin_boundaries[i]`, encoded as
    `output_mode` (`int`, `one_hot`, `multi_hot`, `count`). Give `bin_boundaries`, or `num_bins` and call
    `adapt(data, steps=None)` to place them at approximate quantiles (relative error about `epsilon`).

    Example:
        >>> layer = keras.layers.Discretization(bin_boundaries=[0.0, 1.0, 2.0])
        >>> layer(np.array([[-1.5, 1.0, 3.4, 0.5]]))  # [[0, 2, 3, 1]]
    """

    def __init__(self, bin_boundaries=None, num_bins: int | None = None, epsilon: float = 0.01,
                 output_mode: str = "int", sparse: bool = False, dtype=None, name: str | None = None):
        super().__init__(name=name, dtype=dtype)
        refuse_sparse(sparse, "Discretization")
        check_output_mode(output_mode, "Discretization")
        if num_bins is not None and num_bins < 0:
            raise ValueError(f"`num_bins` must be greater than or equal to 0. Received: `num_bins={num_bins}`")
        if num_bins is not None and bin_boundaries is not None:
            raise ValueError("Both `num_bins` and `bin_boundaries` should not be set. Received: "
                             f"`num_bins={num_bins}` and `bin_boundaries={bin_boundaries}`")
        if num_bins is None and bin_boundaries is None:
            raise ValueError("You need to set either `num_bins` or `bin_boundaries`.")
        self.bin_boundaries = None if bin_boundaries is None else [float(b) for b in bin_boundaries]
        self.num_bins, self.epsilon, self.output_mode, self.sparse = num_bins, epsilon, output_mode, False

    @property
    def output_dtype(self) -> str:
        return "int32" if self.output_mode == "int" else self.compute_dtype

    def _compile_key(self):
        return None if self.bin_boundaries is None else tuple(self.bin_boundaries)

    def adapt(self, data: Any, steps: int | None = None) -> None:
        """Places `num_bins - 1` boundaries at approximate quantiles of `data` (an array, a `PyDataset` or
        an iterable of batches, at most `steps` batches of it).

        Raises:
            ValueError: for a layer made with `bin_boundaries`.
        """
        if self.num_bins is None:
            raise ValueError("Cannot adapt a Discretization layer that has been initialized with `bin_boundaries`, "
                             "use `num_bins` instead.")
        summary = np.zeros((2, 0), "float32")
        for batch in batches(data, steps):
            summary = _merge(_summarize(batch.astype("float32"), self.epsilon), summary, self.epsilon)
        self.bin_boundaries = [float(b) for b in _compress(summary, 1.0 / self.num_bins)[0, :-1]]

    def call(self, inputs):
        if self.bin_boundaries is None:
            raise ValueError("You need to either pass the `bin_boundaries` argument at construction time or call "
                             "`adapt(dataset)` before you can start using the `Discretization` layer.")
        indices = jnp.digitize(jnp.asarray(inputs), jnp.asarray(self.bin_boundaries, "float32"))
        return encode(indices, self.output_mode, len(self.bin_boundaries) + 1, self.output_dtype)

    def compute_output_shape(self, input_shape):
        depth = len(self.bin_boundaries) + 1 if self.bin_boundaries is not None else self.num_bins
        if self.output_mode in ("multi_hot", "count"):
            input_shape = tuple(input_shape)
            return (input_shape[0], *input_shape[2:], depth) if len(input_shape) >= 2 else (depth,)
        return encoded_shape(input_shape, self.output_mode, depth)

    def get_config(self):
        return {"bin_boundaries": self.bin_boundaries, "num_bins": self.num_bins, "epsilon": self.epsilon,
                "output_mode": self.output_mode, "sparse": self.sparse, "name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if config.get("bin_boundaries") is not None and config.get("num_bins") is not None:
            boundaries = config.pop("bin_boundaries")
            layer = cls(**config)
            layer.bin_boundaries = [float(b) for b in boundaries]
            return layer
        return cls(**config)


__all__ = ["CategoryEncoding", "Discretization"]
