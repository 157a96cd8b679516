"""Masking: marks the timesteps whose features all equal `mask_value` as padding (issue 13)."""

__all__: list[str] = []
