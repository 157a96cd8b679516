"""preprocessing layers that run on arrays (issue 13)."""

__all__: list[str] = []
