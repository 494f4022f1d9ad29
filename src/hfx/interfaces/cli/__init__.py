"""The ``hfx`` command-line interface (click); the command is :func:`main.cli`, started by
:func:`entry.main` (which handles Ctrl-C)."""

__all__: list[str] = []
