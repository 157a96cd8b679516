"""Lambda: wraps an arbitrary expression as a layer (issue 13; refused on load unless safe_mode=False)."""

__all__: list[str] = []
