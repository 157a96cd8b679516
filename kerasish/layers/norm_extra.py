"""GroupNormalization, UnitNormalization (issue 13)."""

__all__: list[str] = []
