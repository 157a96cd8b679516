"""`keras.tree`: Keras 3's nested-structure utilities over `jax.tree`.

Keras's nesting rules: lists, tuples, namedtuples and dicts (`OrderedDict`, `defaultdict`) are
nested; everything else, None included, is a leaf (so a Flax module or a `keras.Variable` inside a
structure is one leaf, although JAX would open it). Dicts are flattened in sorted key order,
`OrderedDict`s in insertion order, as `jax.tree` does.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Callable

import jax

__all__ = ["MAP_TO_NONE", "assert_same_paths", "assert_same_structure", "flatten", "flatten_with_path",
           "is_nested", "lists_to_tuples", "map_shape_structure", "map_structure", "map_structure_up_to",
           "pack_sequence_as", "traverse"]


class _MapToNone:
    """`traverse`'s marker: replace the sub-tree with None."""

    def __repr__(self) -> str:
        return "keras.tree.MAP_TO_NONE"


MAP_TO_NONE = _MapToNone()
_DIFFERENT = "Structures don't have the same nested structure."


def is_nested(structure) -> bool:
    """Whether `structure` is a list, tuple, namedtuple or dict."""
    return isinstance(structure, (list, tuple, dict))


def _leaf(x) -> bool:
    return not is_nested(x)


def _leaf_or_none_node(x) -> bool:  # None is an empty node: not given to `func`
    return x is not None and not is_nested(x)


def flatten(structure) -> list:
    """The leaves of `structure` in order: `flatten({"b": 1, "a": [2, None]}) == [2, None, 1]`."""
    return jax.tree.leaves(structure, is_leaf=_leaf)


def _children(structure) -> list[tuple[Any, Any]]:
    if isinstance(structure, dict):
        keys = list(structure) if isinstance(structure, OrderedDict) else sorted(structure)
        return [(k, structure[k]) for k in keys]
    return list(enumerate(structure))


def flatten_with_path(structure) -> list[tuple[tuple, Any]]:
    """`[(path, leaf), ...]`; a path is a tuple of sequence indices and dict keys."""
    if not is_nested(structure):
        return [((), structure)]
    return [((key, *path), leaf) for key, child in _children(structure)
            for path, leaf in flatten_with_path(child)]


def map_structure(func: Callable, *structures, none_is_leaf: bool = True):
    """`func` applied to the leaves of `structures` (all of the same structure), in that structure.

    Raises:
        TypeError: no structure given or `func` not callable.
        ValueError: the structures differ.
    """
    if not callable(func):
        raise TypeError(f"`func` must be callable. Received: func={func}")
    if not structures:
        raise TypeError("Must provide at least one structure")
    is_leaf = _leaf if none_is_leaf else _leaf_or_none_node
    if len(structures) == 1:
        return jax.tree.map(func, structures[0], is_leaf=is_leaf)

    def checked(*leaves):
        if any(is_nested(x) for x in leaves):
            raise ValueError(_DIFFERENT)
        return func(*leaves)

    try:
        return jax.tree.map(checked, *structures, is_leaf=is_leaf)
    except (ValueError, TypeError) as error:
        if str(error) == _DIFFERENT:
            raise
        raise ValueError(f"{_DIFFERENT} {error}") from None


def map_structure_up_to(shallow_structure, func: Callable, *structures):
    """`func` applied to the sub-trees of `structures` at the leaves of `shallow_structure`.

    Raises:
        ValueError: no structure given, or a structure is shallower than `shallow_structure`.
    """
    if not structures:
        raise ValueError("Must provide at least one structure")
    treedef = jax.tree.structure(shallow_structure, is_leaf=_leaf)
    try:
        parts = [treedef.flatten_up_to(s) for s in structures]
    except (ValueError, TypeError) as error:
        raise ValueError(f"{_DIFFERENT} {error}") from None
    return jax.tree.unflatten(treedef, [func(*leaves) for leaves in zip(*parts)])


def _same(a, b) -> bool:
    if not is_nested(a) or not is_nested(b):
        return not is_nested(a) and not is_nested(b)
    if isinstance(a, dict) or isinstance(b, dict):
        return isinstance(a, dict) and isinstance(b, dict) and set(a) == set(b) and \
            all(_same(a[k], b[k]) for k in a)
    return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))


def assert_same_structure(a, b, check_types=None) -> None:
    """Raises ValueError unless `a` and `b` nest the same way (sequence types must match; dict
    kinds need only the same keys). `check_types` is accepted and has no effect, as in Keras."""
    if not _same(a, b):
        raise ValueError(_DIFFERENT)


def assert_same_paths(a, b) -> None:
    """Raises ValueError unless `a` and `b` have the same leaf paths (sequence types may differ)."""
    a_paths = {path for path, _ in flatten_with_path(a)}
    b_paths = {path for path, _ in flatten_with_path(b)}
    if a_paths != b_paths:
        message = "`a` and `b` don't have the same paths."
        if a_paths - b_paths:
            message += f"\nPaths in `a` missing in `b`:\n{a_paths - b_paths}"
        if b_paths - a_paths:
            message += f"\nPaths in `b` missing in `a`:\n{b_paths - a_paths}"
        raise ValueError(message)


def pack_sequence_as(structure, flat_sequence):
    """`flat_sequence` arranged as `structure` (the inverse of `flatten`).

    Raises:
        TypeError: `flat_sequence` is not a sequence.
        ValueError: it has a different number of items than `structure` has leaves.
    """
    if not isinstance(flat_sequence, (list, tuple)) and not hasattr(flat_sequence, "__len__"):
        raise TypeError(f"`flat_sequence` must be a sequence. Got '{type(flat_sequence).__name__}'")
    flat_sequence = list(flat_sequence)
    treedef = jax.tree.structure(structure, is_leaf=_leaf)
    if treedef.num_leaves != len(flat_sequence):
        raise ValueError(f"Could not pack sequence: the structure has {treedef.num_leaves} leaves but "
                         f"`flat_sequence` has {len(flat_sequence)} items. Structure: {structure}")
    return jax.tree.unflatten(treedef, flat_sequence)


def lists_to_tuples(structure):
    """`structure` with every list turned into a tuple."""
    if isinstance(structure, list):
        return tuple(lists_to_tuples(x) for x in structure)
    if isinstance(structure, dict):
        return type(structure)((k, lists_to_tuples(v)) for k, v in structure.items()) \
            if not hasattr(structure, "default_factory") else _copy_dict(structure, lists_to_tuples)
    if isinstance(structure, tuple):
        items = [lists_to_tuples(x) for x in structure]
        return type(structure)(*items) if hasattr(structure, "_fields") else tuple(items)
    return structure


def _copy_dict(d, fn):
    out = type(d)(d.default_factory)
    out.update((k, fn(v)) for k, v in d.items())
    return out


def _is_shape(x) -> bool:
    return isinstance(x, (list, tuple)) and all(isinstance(e, (int, type(None))) for e in x)


def map_shape_structure(func: Callable, structure):
    """`map_structure` where tuples/lists of ints and Nones (shapes) are the leaves."""
    return jax.tree.map(func, structure, is_leaf=lambda x: _is_shape(x) or _leaf(x))


def traverse(func: Callable, structure, top_down: bool = True):
    """Visits every sub-tree depth-first (parents first when `top_down`); a non-None result of
    `func` replaces the sub-tree (`MAP_TO_NONE` for None) and, top-down, stops the descent."""
    if not callable(func):
        raise TypeError(f"`func` must be callable, got: {func}")

    def rebuild(node, children):
        if isinstance(node, dict):
            out = type(node)(node.default_factory) if hasattr(node, "default_factory") else type(node)()
            for key in node:
                out[key] = children[key]
            return out
        items = [children[i] for i in range(len(node))]
        if isinstance(node, tuple):
            return type(node)(*items) if hasattr(node, "_fields") else tuple(items)
        return type(node)(items)

    def visit(node):
        if top_down:
            result = func(node)
            if result is not None:
                return None if result is MAP_TO_NONE else result
            if not is_nested(node):
                return node
            return rebuild(node, {k: visit(v) for k, v in _children(node)})
        new = rebuild(node, {k: visit(v) for k, v in _children(node)}) if is_nested(node) else node
        result = func(new)
        if result is None:
            return new
        return None if result is MAP_TO_NONE else result

    return visit(structure)
