"""1-D and 3-D pooling and global pooling (issue 13)."""

__all__: list[str] = []
