"""keras.ops math group (filled in by issue 9)."""

__all__: list[str] = []
