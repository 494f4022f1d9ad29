"""The ``hfx`` command-line interface (click); the entry point is :func:`main.cli`."""

__all__: list[str] = []
