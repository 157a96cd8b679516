"""Conv1D, Conv3D, transposed, separable and depthwise convolutions (issue 13)."""

__all__: list[str] = []
