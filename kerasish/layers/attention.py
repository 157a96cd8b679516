"""MultiHeadAttention, Attention, AdditiveAttention, EinsumDense (issue 13)."""

__all__: list[str] = []
