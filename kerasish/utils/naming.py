"""Keras-style automatic names ("dense", "dense_1", ...).

Owns the per-prefix counters that Keras keeps for a session; `clear_session` resets them.
"""

import re
from collections import defaultdict

_counters: defaultdict[str, int] = defaultdict(int)


def to_snake_case(name: str) -> str:
    """`Conv2D` -> `conv2d`, `MaxPooling2D` -> `max_pooling2d`, like Keras."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def unique_name(prefix: str) -> str:
    """The first call for a prefix returns it as is, later calls add `_1`, `_2`, ..."""
    count = _counters[prefix]
    _counters[prefix] += 1
    return prefix if count == 0 else f"{prefix}_{count}"


def reset_names() -> None:
    _counters.clear()
