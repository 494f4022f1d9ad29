"""The HistFactory JSON specification: schemas, validation, workspaces, patches and operations."""

__all__: list[str] = []
