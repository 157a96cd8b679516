"""UpSampling, ZeroPadding, Cropping, RepeatVector, Permute, Identity (issue 13)."""

__all__: list[str] = []
