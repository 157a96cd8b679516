"""keras.ops CTC: `ctc_loss` (optax's forward algorithm) and `ctc_decode` (greedy / beam search).

Keras's argument conventions: batch-major `(batch, time, classes)` logits, integer labels with
explicit lengths, `mask_index` the blank class. Decoded paths are padded with -1.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax

from kerasish.ops._nn_beam import beam_search_decode
from kerasish.ops.dtypes import result_type


def _paddings(lengths: jax.Array, size: int, dtype) -> jax.Array:
    """1.0 where position >= length (optax's padding indicators)."""
    return (jnp.arange(size)[None, :] >= lengths[:, None]).astype(dtype)


def ctc_loss(target, output, target_length, output_length, mask_index: int = 0) -> jax.Array:
    """Per-sequence CTC negative log-likelihood.

    Args:
        target: `(batch, max_label_length)` integer labels, right-padded.
        output: `(batch, max_time, num_classes)` logits (log-softmax is applied here).
        target_length: `(batch,)` label lengths.
        output_length: `(batch,)` frame counts.
        mask_index: the blank class.

    Returns:
        `(batch,)` losses in `result_type(output.dtype, "float32")`.
    """
    output = jnp.asarray(output)
    output = output.astype(result_type(output.dtype, "float32"))
    target = jnp.asarray(target, "int32")
    target_length = jnp.asarray(target_length, "int32")
    output_length = jnp.asarray(output_length, "int32")
    return optax.ctc_loss(output, _paddings(output_length, output.shape[1], output.dtype), target,
                          _paddings(target_length, target.shape[1], output.dtype),
                          blank_id=mask_index)


def _greedy_decode(inputs: jax.Array, lengths: jax.Array, merge_repeated: bool, mask_index: int):
    batch, steps, _ = inputs.shape
    past_end = jnp.arange(steps)[None, :] >= lengths[:, None]
    best = jnp.where(past_end, mask_index, jnp.argmax(inputs, axis=-1))
    scores = jnp.where(past_end, 0.0, jnp.max(inputs, axis=-1))
    if merge_repeated:
        repeated = jnp.pad(best[:, 1:] == best[:, :-1], ((0, 0), (1, 0)))
        best = jnp.where(repeated, mask_index, best)
    blank = best == mask_index
    # Stable-sort the kept labels to the front; blanks become -1 at the end.
    order = jnp.argsort(jnp.where(blank, steps, jnp.arange(steps)[None, :]), axis=-1, stable=True)
    decoded = jnp.take_along_axis(jnp.where(blank, -1, best), order, axis=-1)
    return decoded[None], -jnp.sum(scores, axis=1)[:, None]


def ctc_decode(inputs, sequence_lengths, strategy: str = "greedy", beam_width: int = 100,
               top_paths: int = 1, merge_repeated: bool = True, mask_index: int | None = 0):
    """Decodes CTC outputs `(batch, max_time, num_classes)`.

    Returns:
        `(paths, scores)`: paths `(top_paths, batch, max_time)` int32 padded with -1; greedy
        scores `(batch, 1)` are the negated sum of the best per-frame values, beam-search scores
        `(batch, top_paths)` the log-probabilities of the paths. `mask_index=None` means the last
        class is the blank.

    Raises:
        ValueError: an unknown `strategy`.
    """
    inputs = jnp.asarray(inputs)
    inputs = inputs.astype(result_type(inputs.dtype, "float32"))
    lengths = jnp.asarray(sequence_lengths, "int32")
    if mask_index is None:
        mask_index = inputs.shape[-1] - 1
    if strategy == "greedy":
        return _greedy_decode(inputs, lengths, merge_repeated, mask_index)
    if strategy == "beam_search":
        return beam_search_decode(inputs, lengths, beam_width, top_paths, mask_index)
    raise ValueError(f"Invalid strategy {strategy}. Supported values are 'greedy' and 'beam_search'.")
