"""ReLU, LeakyReLU, PReLU, ELU, Softmax (issue 13)."""

__all__: list[str] = []
