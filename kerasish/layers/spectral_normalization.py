"""SpectralNormalization: a wrapper that divides a layer's kernel by its spectral norm (issue 13)."""

__all__: list[str] = []
