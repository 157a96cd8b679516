"""CTC prefix beam search with static shapes (jit-friendly), for `keras.ops.ctc_decode`.

Each beam is a label prefix with two log-probabilities: of the frames so far ending in a blank
(`blank`) and ending in the prefix's last label (`label`). Per frame every beam either stays (the
frame is a blank or repeats the last label) or grows by one label; a grown prefix that equals an
existing beam is merged into it, then the `beam_width` most probable prefixes are kept. The
probabilities of kept prefixes are exact sums over alignments; only pruning is approximate.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax


def _step(state, frame, *, blank: int):
    paths, lengths, p_blank, p_label = state
    log_probs, active = frame
    width, steps = paths.shape
    classes = log_probs.shape[0]
    rows = jnp.arange(width)
    total = jnp.logaddexp(p_blank, p_label)
    last = jnp.where(lengths > 0, paths[rows, jnp.maximum(lengths - 1, 0)], -1)

    # Staying on the same prefix.
    stay_blank = total + log_probs[blank]
    stay_label = jnp.where(lengths > 0, p_label + log_probs[jnp.maximum(last, 0)], -jnp.inf)
    # Growing beam w by class c: a repeat of the last label needs a blank in between.
    grow = jnp.where(jnp.arange(classes)[None, :] == last[:, None], p_blank[:, None],
                     total[:, None]) + log_probs[None, :]
    grow = grow.at[:, blank].set(-jnp.inf)

    # parent[child, w]: beam `child` is beam `w` grown by child's last label; merge that growth.
    trimmed = jnp.where(jnp.arange(steps)[None, :] == lengths[:, None] - 1, -1, paths)
    parent = (jnp.all(trimmed[:, None, :] == paths[None, :, :], axis=-1)
              & (lengths[:, None] == lengths[None, :] + 1))
    into_child = jnp.where(parent, grow[:, jnp.maximum(last, 0)].T, -jnp.inf)
    stay_label = jnp.logaddexp(stay_label, jax.nn.logsumexp(into_child, axis=1))
    merged = jnp.einsum("cw,ck->wk", parent, jax.nn.one_hot(last, classes, dtype=bool)) > 0
    grow = jnp.where(merged, -jnp.inf, grow)

    # Keep the best `width` of the stays and the (unmerged) growths.
    cand_blank = jnp.concatenate([stay_blank, jnp.full(width * classes, -jnp.inf, total.dtype)])
    cand_label = jnp.concatenate([stay_label, grow.reshape(-1)])
    _, best = lax.top_k(jnp.logaddexp(cand_blank, cand_label), width)
    grown = best >= width
    source = jnp.where(grown, (best - width) // classes, best)
    label = (best - width) % classes
    new_paths = jnp.where(grown[:, None] & (jnp.arange(steps)[None, :] == lengths[source][:, None]),
                          label[:, None], paths[source])
    new_state = (new_paths, lengths[source] + grown, cand_blank[best], cand_label[best])
    return jax.tree.map(lambda new, old: jnp.where(active, new, old), new_state, state), None


def _decode_one(log_probs, length, beam_width: int, top_paths: int, blank: int):
    steps = log_probs.shape[0]
    start = (jnp.full((beam_width, steps), -1, jnp.int32), jnp.zeros(beam_width, jnp.int32),
             jnp.full(beam_width, -jnp.inf, log_probs.dtype).at[0].set(0.0),
             jnp.full(beam_width, -jnp.inf, log_probs.dtype))
    frames = (log_probs, jnp.arange(steps) < length)
    (paths, _, p_blank, p_label), _ = lax.scan(lambda s, f: _step(s, f, blank=blank), start, frames)
    scores, best = lax.top_k(jnp.logaddexp(p_blank, p_label), top_paths)
    return paths[best], scores


def beam_search_decode(inputs: jax.Array, lengths: jax.Array, beam_width: int, top_paths: int,
                       blank: int):
    """`(paths (top_paths, batch, time) padded with -1, scores (batch, top_paths))` for logits
    `inputs (batch, time, classes)`; scores are the log-probabilities of the decoded prefixes."""
    if not 1 <= top_paths <= beam_width:
        raise ValueError(f"`top_paths` must be between 1 and `beam_width`. Received: "
                         f"top_paths={top_paths}, beam_width={beam_width}")
    log_probs = jax.nn.log_softmax(inputs, axis=-1)
    paths, scores = jax.vmap(lambda lp, n: _decode_one(lp, n, beam_width, top_paths, blank))(
        log_probs, lengths)
    return jnp.transpose(paths, (1, 0, 2)), scores
