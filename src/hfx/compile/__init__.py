"""Compilation of a workspace into flat NumPy arrays for the likelihood."""

__all__: list[str] = []
