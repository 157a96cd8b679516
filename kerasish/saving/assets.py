"""Layers' `save_assets(dir)` / `load_assets(dir)` (vocabularies and other files), as Keras 3 runs them.

Saving: every object of the model's walk (`layout.layer_entries`) that has `save_assets` writes into
its own fresh directory; the files become the archive's `assets/<object path>/<file>` members (the
object path is the one its weights group has, e.g. `layers/text_vectorization`), as in Keras's files.
Loading: each object with `load_assets` gets a temporary directory holding the files of its path
(the archive already refused member names that would escape a folder).

Owns: directories <-> asset members. Must not: open the archive, or call anything but the two hooks.
"""

from __future__ import annotations

import os
import posixpath
import tempfile

from kerasish.saving import layout


def _with_hook(model, hook: str):
    for entry in layout.layer_entries(model):
        method = getattr(entry.layer, hook, None)
        if callable(method):
            yield entry.path, method


def collect(model) -> dict[str, bytes]:
    """`{"<object path>/<file>": bytes}` for everything the model's objects' `save_assets` wrote."""
    out: dict[str, bytes] = {}
    for path, save_assets in _with_hook(model, "save_assets"):
        with tempfile.TemporaryDirectory() as tmp:
            save_assets(tmp)
            for root, _, files in os.walk(tmp):
                for name in sorted(files):
                    full = os.path.join(root, name)
                    rel = os.path.relpath(full, tmp).replace(os.sep, "/")
                    with open(full, "rb") as f:
                        out[posixpath.join(path, rel)] = f.read()
    return out


def restore(model, assets: dict[str, bytes]) -> None:
    """Calls each object's `load_assets(dir)` with a directory holding the files saved under its path."""
    for path, load_assets in _with_hook(model, "load_assets"):
        prefix = f"{path}/" if path else ""
        with tempfile.TemporaryDirectory() as tmp:
            for name, data in assets.items():
                if not name.startswith(prefix):
                    continue
                target = os.path.join(tmp, *name[len(prefix):].split("/"))
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with open(target, "wb") as f:
                    f.write(data)
            load_assets(tmp)
