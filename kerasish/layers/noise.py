"""SpatialDropout, GaussianNoise, GaussianDropout, AlphaDropout, ActivityRegularization (issue 13)."""

__all__: list[str] = []
