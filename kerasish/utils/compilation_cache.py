"""JAX's persistent compilation cache, on by default for kerasish models.

A second run of the same script loads its compiled XLA programs from disk instead of compiling
them again. The cache lives in `$KERASISH_CACHE_DIR/jax` (default `~/.cache/kerasish/jax`, honouring
XDG_CACHE_HOME). Turn it off with `KERASISH_COMPILATION_CACHE=0` or `disable()` before compiling.
A cache directory the user configured for JAX is left alone.
"""

from __future__ import annotations

import os
from pathlib import Path

import jax

_state = {"enabled": os.environ.get("KERASISH_COMPILATION_CACHE", "1") not in ("0", "false", "False"),
          "done": False}


def default_dir() -> Path:
    base = os.environ.get("KERASISH_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "kerasish")
    return Path(base) / "jax"


def disable() -> None:
    """Keeps kerasish from turning on JAX's persistent cache (call before the first compile)."""
    _state["enabled"] = False


def ensure_enabled() -> None:
    """Turns the persistent cache on once, unless disabled or already configured by the user."""
    if _state["done"] or not _state["enabled"]:
        return
    _state["done"] = True
    if jax.config.jax_compilation_cache_dir:
        return
    path = default_dir()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return  # a read-only home: run without the cache rather than fail
    jax.config.update("jax_compilation_cache_dir", str(path))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
