"""What users pass to fit / evaluate, turned into arrays, index plans and batches.

Owns: validation of x / y / sample_weight, each an array or a tuple / list / dict of arrays, with
Keras's rules and errors (cardinality over every leaf; one sample_weight per output, or one
per-sample array shared by all outputs; class_weight for a single output only); validation_split;
class weights; per-epoch index plans (a permutation seeded by the run's seed and the epoch, the
last batch padded *in the plan*: padded slots point at row 0 and have mask 0, so the data are never
copied to pad them); gathering rows of host arrays into fresh 64-byte-aligned buffers, which JAX's
CPU client adopts without a copy; and batches from Python iterables.
Must not: compile anything, know about models, or decide where the data live (`training.source`).
"""

from __future__ import annotations

import collections.abc
import itertools
import math
from typing import Any, Iterator

import jax
import numpy as np

#: on an accelerator, host arrays up to this size are copied to the device for a `fit`; bigger ones
#: are gathered on the host chunk by chunk (on a CPU backend, host arrays are always gathered in place)
DEVICE_RESIDENT_BYTES = 2 << 30

#: byte alignment at which JAX's CPU client uses a NumPy buffer as it is instead of copying it
ALIGN = 64


# -- x / y / sample_weight: arrays or pytrees of arrays --------------------------------------

def to_numpy(value: Any, name: str) -> np.ndarray | None:
    """One array (NumPy, a nested list of numbers, anything with `__array__`) as a NumPy array."""
    if value is None:
        return None
    try:
        array = np.asarray(value)
    except Exception as error:  # numpy's own error is the useful part of the message
        raise TypeError(f"Could not convert `{name}` to an array: {error}") from error
    if array.dtype == object:
        raise TypeError(f"`{name}` must be a numeric array. Received an array of Python objects "
                        f"(dtype=object) with shape {array.shape}.")
    if array.ndim == 0:
        raise ValueError(f"`{name}` must have a batch dimension. Received a scalar: {name}={value!r}")
    return array


def to_arrays(value: Any, name: str) -> Any:
    """`value` as a pytree of arrays: dicts, lists and tuples of arrays keep their structure (several
    inputs or outputs, as Keras takes them); a list of plain numbers is one array. `jax.Array`
    leaves stay where they are; every other leaf becomes a NumPy array without a copy where it
    already is one."""
    if value is None:
        return None
    if isinstance(value, dict):
        if not value:
            raise ValueError(f"`{name}` is an empty dict. Expected arrays keyed by input or output name.")
        return {key: to_arrays(item, f"{name}[{key!r}]") for key, item in value.items()}
    if isinstance(value, (list, tuple)) and _holds_arrays(value):
        items = [to_arrays(item, f"{name}[{i}]") for i, item in enumerate(value)]
        return type(value)(*items) if hasattr(value, "_fields") else type(value)(items)
    if isinstance(value, jax.Array):
        if value.ndim == 0:
            raise ValueError(f"`{name}` must have a batch dimension. Received a scalar: {name}={value!r}")
        return value
    return to_numpy(value, name)


def _holds_arrays(items) -> bool:
    """Whether a list/tuple is a structure of arrays rather than one array written as Python lists."""
    return any(isinstance(v, dict) or getattr(v, "ndim", 0) >= 1
               or (isinstance(v, (list, tuple)) and _holds_arrays(v)) for v in items)


def _nested(tree: Any) -> bool:
    return isinstance(tree, (list, tuple, dict))


def check_cardinality(**parts: Any) -> int:
    """The number of samples, the same in every leaf of every part (Keras's error otherwise)."""
    sizes = {name: [int(leaf.shape[0]) for leaf in jax.tree.leaves(part)]
             for name, part in parts.items() if part is not None}
    distinct = {n for leaf_sizes in sizes.values() for n in leaf_sizes}
    if len(distinct) > 1:
        detail = "".join(f"'{name}' sizes: {', '.join(map(str, n))}\n" for name, n in sizes.items())
        raise ValueError("Data cardinality is ambiguous. Make sure all arrays contain the same number "
                         f"of samples.{detail}")
    if not distinct:
        raise ValueError(f"Expected arrays in `x`. Received no arrays: {parts.get('x')!r}")
    return distinct.pop()


def class_weights_to_sample_weights(y: Any, class_weight: dict) -> np.ndarray:
    """Per-sample weights looked up from each sample's class (argmax of one-hot `y`, else its label)."""
    if not isinstance(class_weight, dict):
        raise TypeError(f"`class_weight` must be a dict mapping class index to weight. "
                        f"Received: class_weight={class_weight!r}")
    y = np.asarray(y)
    labels = y.argmax(-1) if y.ndim > 1 and y.shape[-1] > 1 else y.reshape(len(y), -1)[:, 0]
    classes, inverse = np.unique(np.rint(labels).astype(np.int64), return_inverse=True)
    known = {int(k): float(v) for k, v in class_weight.items()}
    missing = [int(c) for c in classes if int(c) not in known]
    if missing:
        raise ValueError(f"`class_weight` must contain all classes in the data. The classes "
                         f"{missing} exist in the data but not in `class_weight`.")
    return np.array([known[int(c)] for c in classes], np.float32)[inverse.reshape(-1)]


def sample_weights(y: Any, sample_weight: Any, class_weight: dict | None) -> Any:
    """Keras's rules for weights: None (every sample weighs 1), one float32 [n] array for a single
    output, or one per output (y's structure) when `y` is a structure."""
    if sample_weight is not None and class_weight is not None:
        raise ValueError("You cannot `class_weight` and `sample_weight` at the same time.")
    if class_weight is not None:
        if y is None:
            raise ValueError("`class_weight` needs targets `y`.")
        if _nested(y):
            raise ValueError("`class_weight` is only supported for Models with a single output.")
        return class_weights_to_sample_weights(y, class_weight)
    if sample_weight is None:
        return None
    if _nested(y):
        if _nested(sample_weight):
            if _skeleton(sample_weight) != _skeleton(y):
                raise ValueError("You should provide one `sample_weight` array per output in `y`. The two "
                                 f"structures did not match:\n- y: {y}\n- sample_weight: {sample_weight}\n")
        else:
            shape = sample_weight.shape
            if not (len(shape) == 1 or (len(shape) == 2 and shape[1] == 1)):
                raise ValueError("For a model with multiple outputs, when providing a single `sample_weight` "
                                 "array, it should only have one scalar score per sample (i.e. shape "
                                 "`(num_samples,)`). If you want to use non-scalar sample weights, pass a "
                                 "`sample_weight` argument with one array per model output.")
            single = sample_weight
            sample_weight = jax.tree.map(lambda _: single, y)
    return jax.tree.map(_per_sample, sample_weight)


def _per_sample(weights) -> np.ndarray:
    """float32 [n]: weights of shape [n, ...] are averaged over their trailing axes."""
    weights = np.asarray(weights, np.float32)
    return weights if weights.ndim == 1 else weights.reshape(len(weights), -1).mean(axis=1)


def _skeleton(tree: Any) -> Any:
    """The structure of a pytree with lists and tuples alike (Keras compares them so)."""
    if isinstance(tree, dict):
        return {key: _skeleton(value) for key, value in tree.items()}
    if isinstance(tree, (list, tuple)):
        return tuple(_skeleton(value) for value in tree)
    return None


def ones_like_weights(y: Any, shape: tuple[int, ...]) -> Any:
    """Weights of 1 for batches of `shape`: one array, or one per output when `y` is a structure."""
    ones = np.ones(shape, np.float32)
    return jax.tree.map(lambda _: ones, y) if _nested(y) else ones


class ArrayData:
    """In-memory arrays (x, y, sample_weight; each may be a pytree), batched by index."""

    def __init__(self, x, y=None, sample_weight=None, class_weight=None):
        self.x = to_arrays(x, "x")
        self.y = to_arrays(y, "y")
        weights = to_arrays(sample_weight, "sample_weight")
        self.n = check_cardinality(x=self.x, y=self.y, sample_weight=weights)
        #: None when every sample weighs 1 (no array is made for that)
        self.sample_weight = sample_weights(self.y, weights, class_weight)

    def arrays(self) -> tuple[Any, Any, Any]:
        """(x, y, sample_weight) as pytrees; y and sample_weight may be None."""
        return self.x, self.y, self.sample_weight

    def split(self, validation_split: float) -> tuple["ArrayData", "ArrayData"]:
        """Keras's validation_split: the last fraction of the samples, taken before shuffling."""
        if not 0 < validation_split < 1:
            raise ValueError(f"`validation_split` must be between 0 and 1. Received: {validation_split}")
        cut = int(math.floor(self.n * (1.0 - validation_split)))
        if cut == 0 or cut == self.n:
            raise ValueError(f"Training data contains {self.n} samples, which is not sufficient to split it "
                             "into a validation and training set as specified by "
                             f"`validation_split={validation_split}`. Either provide more data, or a different "
                             "value for the `validation_split` argument.")
        return self._subset(slice(0, cut)), self._subset(slice(cut, None))

    def _subset(self, rows: slice) -> "ArrayData":
        out = object.__new__(ArrayData)
        out.x, out.y, out.sample_weight = jax.tree.map(lambda a: a[rows], self.arrays())
        out.n = len(range(self.n)[rows])
        return out

    @property
    def nbytes(self) -> int:
        return sum(leaf.nbytes for leaf in jax.tree.leaves(self.arrays()))

    def epoch_plan(self, batch_size: int, shuffle: bool, seed: int, epoch: int):
        """Row indices [steps, batch] and 0/1 masks for one epoch; the last batch is padded in the plan."""
        order = np.arange(self.n)
        if shuffle:
            order = np.random.default_rng([seed, epoch]).permutation(self.n)
        steps = max(1, math.ceil(self.n / batch_size))
        padded = np.zeros(steps * batch_size, np.int32)
        padded[: self.n] = order
        mask = np.zeros(steps * batch_size, np.float32)
        mask[: self.n] = 1.0
        return padded.reshape(steps, batch_size), mask.reshape(steps, batch_size)


# -- host gathers and padding --------------------------------------------------------------------

def aligned_empty(shape: tuple[int, ...], dtype) -> np.ndarray:
    """An uninitialised array whose data start on an `ALIGN`-byte boundary."""
    dtype = np.dtype(dtype)
    nbytes = math.prod(shape) * dtype.itemsize
    raw = np.empty(nbytes + ALIGN, np.uint8)
    start = -raw.ctypes.data % ALIGN
    return raw[start:start + nbytes].view(dtype).reshape(shape)


def take_rows(tree: Any, index: np.ndarray) -> Any:
    """Rows `index` (an int array of any shape) of every host array in `tree`, each gathered into a
    fresh aligned buffer of shape [*index.shape, *row] that `jax.device_put` adopts without a copy
    (dtypes JAX narrows, like float64, are converted by JAX anyway)."""
    def take(a):
        if a.dtype != jax.dtypes.canonicalize_dtype(a.dtype):
            return np.take(a, index, axis=0, mode="clip")
        return np.take(a, index, axis=0, out=aligned_empty((*index.shape, *a.shape[1:]), a.dtype), mode="clip")
    return jax.tree.map(take, tree)


def pad_rows(a: Any, rows: int) -> Any:
    """`a` (an array or a pytree of arrays) with zero rows appended along axis 0 up to `rows`
    (padding that a mask leaves out)."""
    def pad(leaf):
        if len(leaf) >= rows:
            return leaf
        return np.concatenate([leaf, np.zeros((rows - len(leaf), *leaf.shape[1:]), leaf.dtype)])
    return None if a is None else jax.tree.map(pad, a)


# -- Python iterables of batches -----------------------------------------------------------------

def unpack_batch(batch: Any) -> tuple[Any, Any, Any]:
    """(x, y, sample_weight) from what an iterable yields, by Keras's rules: a tuple or list is
    (x,), (x, y) or (x, y, sample_weight); anything else (an array, a dict of inputs) is x."""
    if isinstance(batch, list):
        batch = tuple(batch)
    if not isinstance(batch, tuple):
        return to_arrays(batch, "x"), None, None
    if not 1 <= len(batch) <= 3:
        raise ValueError("Data is expected to be in format `x`, `(x,)`, `(x, y)`, or `(x, y, sample_weight)`, "
                         f"found a {type(batch).__name__} of length {len(batch)}.")
    x, y, sw = (*batch, None, None)[:3]
    return to_arrays(x, "x"), to_arrays(y, "y"), to_arrays(sw, "sample_weight")


def is_iterable_data(x: Any) -> bool:
    """Generators, iterators, Sequence-like data sets, and lists of (x, y) batch tuples (x an array
    or a dict of arrays)."""
    def batch_x(v):
        return hasattr(v, "shape") or (isinstance(v, dict) and bool(v) and all(hasattr(a, "shape") for a in v.values()))
    if isinstance(x, list) and x and all(isinstance(b, tuple) and 1 <= len(b) <= 3 and batch_x(b[0]) for b in x):
        return True
    return (isinstance(x, (collections.abc.Iterator, collections.abc.Iterable))
            and not isinstance(x, (np.ndarray, list, tuple, str, bytes, dict)) and not hasattr(x, "__array__"))


class IterableData:
    """Batches from a Python iterable or generator, padded to the first batch's size.

    A re-iterable object (a list of batches, a `keras.utils.PyDataset`-like Sequence) starts again
    each epoch; a one-shot iterator is consumed across epochs `steps_per_epoch` batches at a time.
    """

    def __init__(self, source: Any, steps_per_epoch: int | None = None):
        self.source, self.steps = source, steps_per_epoch
        self.one_shot = isinstance(source, collections.abc.Iterator)
        self._iterator: Iterator | None = None
        self._peeked: list = []
        self.batch_size: int | None = None

    def _fresh(self) -> Iterator:
        if not self.one_shot and hasattr(self.source, "__getitem__") and hasattr(self.source, "__len__"):
            return (self.source[i] for i in range(len(self.source)))
        return iter(self.source)

    def peek(self) -> tuple[Any, Any]:
        """The first batch's (x, y) (kept, and yielded first by the next epoch)."""
        if not self._peeked:
            if self._iterator is None:
                self._iterator = self._fresh()
            batch = next(self._iterator, None)
            if batch is None:
                raise ValueError("The iterable passed as `x` yielded no batches.")
            self._peeked.append(batch)
        return unpack_batch(self._peeked[0])[:2]

    def epoch(self) -> Iterator[tuple]:
        if self._iterator is None or (not self.one_shot and not self._peeked):
            self._iterator = self._fresh()
        batches = itertools.chain(self._peeked, self._iterator)
        self._peeked = []
        if self.steps is not None:
            batches = itertools.islice(batches, self.steps)
        for batch in batches:
            yield self.pad(*unpack_batch(batch))
        if hasattr(self.source, "on_epoch_end") and not self.one_shot:
            self.source.on_epoch_end()  # a keras.utils.PyDataset-style source reshuffles here

    def pad(self, x, y, sw):
        """(x, y, weights, mask, n): every leaf padded to the batch size, mask 0 on the padding."""
        n = check_cardinality(x=x, y=y, sample_weight=sw)
        if self.batch_size is None:
            self.batch_size = n
        size = max(self.batch_size, n)
        mask = np.zeros(size, np.float32)
        mask[:n] = 1.0
        weights = sample_weights(y, sw, None)
        if weights is None:
            weights = ones_like_weights(y, (n,))
        return pad_rows(x, size), pad_rows(y, size), pad_rows(weights, size), mask, n


def prefetch(batches: Iterator[tuple], depth: int = 1) -> Iterator[tuple]:
    """Sends the next `depth` items to the device while the current one is being used.

    Items are tuples whose last element is passed through; the NumPy leaves of the others (pytrees)
    go through `jax.device_put`, which returns at once (and on a CPU adopts an aligned buffer).
    """
    def send(items: list) -> list:
        # One batched `device_put` for every NumPy leaf of the item: one dispatch instead of one per
        # array (each costs ~0.1-2 ms of Python and runtime overhead on a busy CPU).
        leaves, treedef = jax.tree.flatten(items)
        host = [i for i, leaf in enumerate(leaves) if isinstance(leaf, np.ndarray)]
        for i, placed in zip(host, jax.device_put([leaves[i] for i in host])):
            leaves[i] = placed
        return jax.tree.unflatten(treedef, leaves)

    queue: collections.deque = collections.deque()
    for batch in batches:
        *arrays, last = batch
        if depth:
            arrays = send(arrays)
        queue.append((*arrays, last))
        if len(queue) > depth:
            yield queue.popleft()
    while queue:
        yield queue.popleft()
