"""Compatibility layers that present hfx through other libraries' APIs (:mod:`hfx.compat.pyhf`)."""

__all__: list[str] = []
