"""JAX's persistent compilation cache: kerasish turns it on when it first compiles, and can turn it off.

A second run of the same script loads its compiled XLA programs from disk instead of compiling them
again. This module owns the only place kerasish changes JAX's global configuration, and it keeps
three promises:

- `import kerasish` changes nothing. The cache is turned on by `ensure_enabled()`, which kerasish
  calls when it is about to compile or create weights (`model.compile(...)`).
- The user can opt out before (`KERASISH_COMPILATION_CACHE=0` in the environment, or `disable()`)
  and after: `disable()` gives JAX back the settings it had before kerasish turned the cache on, so
  programs compiled afterwards are neither read from nor written to kerasish's directory.
- A cache the user configured for JAX themselves (`JAX_COMPILATION_CACHE_DIR`,
  `jax.config.update("jax_compilation_cache_dir", ...)`) is never touched, not even by `disable()`.

The cache lives in `$KERASISH_CACHE_DIR/jax` (default `~/.cache/kerasish/jax`, honouring
`XDG_CACHE_HOME`). `keras.config.disable_compilation_cache()` is the same switch as `disable()`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import jax
from jax.experimental.compilation_cache import compilation_cache as jax_cache

_OFF_VALUES = ("0", "false", "no", "off")

# The JAX options kerasish sets, with the values it sets them to: every program is worth caching.
_SETTINGS: dict[str, Any] = {
    "jax_persistent_cache_min_compile_time_secs": 0.0,
    "jax_persistent_cache_min_entry_size_bytes": 0,
}


class _State:
    """What kerasish decided and what it changed, so `disable()` can undo exactly that."""

    def __init__(self) -> None:
        self.choice: bool | None = None  # enable() / disable(); None: follow KERASISH_COMPILATION_CACHE
        self.decided = False     # ensure_enabled() has looked at JAX's configuration once
        self.ours: str | None = None                 # the directory kerasish set, while it is set
        self.previous: dict[str, Any] = {}           # JAX's values before kerasish changed them


_state = _State()


def default_dir() -> Path:
    """`$KERASISH_CACHE_DIR/jax`, else `$XDG_CACHE_HOME/kerasish/jax`, else `~/.cache/kerasish/jax`."""
    base = os.environ.get("KERASISH_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "kerasish")
    return Path(base) / "jax"


def _opted_out_by_environment() -> bool:
    return os.environ.get("KERASISH_COMPILATION_CACHE", "1").strip().lower() in _OFF_VALUES


def is_enabled() -> bool:
    """True while kerasish's cache directory is the one JAX reads and writes."""
    return _state.ours is not None and jax.config.jax_compilation_cache_dir == _state.ours


def ensure_enabled() -> None:
    """Turns JAX's persistent cache on in `default_dir()`, once, unless the user opted out or chose a cache.

    Cheap to call often: after the first call it only checks the opt-out. Never raises: a home
    directory that cannot be written means running without the cache.
    """
    wanted = _state.choice if _state.choice is not None else not _opted_out_by_environment()
    if not wanted or _state.decided:
        return
    _state.decided = True
    if jax.config.jax_compilation_cache_dir:
        return  # the user's own cache: kerasish neither moves nor removes it
    path = default_dir()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return
    _state.previous = {name: getattr(jax.config, name) for name in _SETTINGS}
    _state.previous["jax_compilation_cache_dir"] = None
    for name, value in _SETTINGS.items():
        jax.config.update(name, value)
    jax_cache.set_cache_dir(str(path))
    _state.ours = str(path)


def disable() -> None:
    """Turns kerasish's cache off now and keeps it off for the rest of the process.

    Before the first compile it keeps kerasish from turning the cache on. After, it restores the JAX
    options kerasish changed (those the user has not changed since) and drops JAX's open cache, so
    later compilations neither read nor write kerasish's directory. A cache the user configured is
    left as it is.
    """
    _state.choice = False
    if _state.ours is None:
        return
    ours, _state.ours = _state.ours, None
    if jax.config.jax_compilation_cache_dir != ours:
        return  # the user pointed JAX elsewhere since: theirs now
    for name, value in _SETTINGS.items():
        if getattr(jax.config, name) == value:
            jax.config.update(name, _state.previous[name])
    jax.config.update("jax_compilation_cache_dir", _state.previous["jax_compilation_cache_dir"])
    jax_cache.reset_cache()  # JAX keeps the directory it opened until told to forget it


def enable() -> None:
    """Undoes `disable()` (and overrides `KERASISH_COMPILATION_CACHE=0`): turns the cache on now."""
    _state.choice = True
    _state.decided = False
    ensure_enabled()
