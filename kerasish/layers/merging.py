"""Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate, Dot (issue 11)."""

__all__: list[str] = []
