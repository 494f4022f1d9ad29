"""The user-facing layers: the ``hfx`` command line (:mod:`.cli`) and file formats (:mod:`.io`)."""

__all__: list[str] = []
