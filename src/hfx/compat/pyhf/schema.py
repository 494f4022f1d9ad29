"""pyhf's ``schema``: validate a document against a named schema, load a schema.

The schemas are hfx's own (``hfx/spec/schemas/1.0.0``), which accept what pyhf's 1.0.0 schemas
accept; a document that fails raises ``pyhf.exceptions.InvalidSpecification`` (hfx's
SpecError) with hfx's located message.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

from hfx.compat.pyhf.exceptions import SchemaNotFound
from hfx.errors import SpecError
from hfx.spec import validate as _validate

__all__ = ["load_schema", "path", "validate", "version"]

version = _validate.SCHEMA_VERSION
#: the folder that holds hfx's schema versions (read-only: hfx's schemas are not swappable)
path = Path(str(resources.files("hfx.spec").joinpath("schemas")))

_VALIDATORS: Mapping[str, Callable[..., None]] = MappingProxyType(
    {
        "workspace": _validate.validate_workspace,
        "model": _validate.validate_model_spec,
        "measurement": _validate.validate_measurement,
        "patchset": _validate.validate_patchset,
        "jsonpatch": _validate.validate_jsonpatch,
    }
)


def _name(schema_name: str, schema_version: str | None) -> str:
    if schema_version not in (None, version):
        raise SpecError(f"schema version {schema_version!r} is not known; hfx has {version!r}")
    name = schema_name.rsplit("/", 1)[-1].removesuffix(".json")
    if name not in _validate.SCHEMA_NAMES:
        raise SchemaNotFound(
            f"no schema {schema_name!r}; known: "
            + ", ".join(f"{n}.json" for n in _validate.SCHEMA_NAMES)
        )
    return name


def load_schema(schema_id: str) -> dict[str, Any]:
    """The schema document ``schema_id`` (e.g. "1.0.0/workspace.json" or "workspace.json")."""
    parts = schema_id.split("/")
    schema_version = parts[0] if len(parts) > 1 else None
    return _validate.load_schema(_name(parts[-1], schema_version))


def validate(
    spec: Any,
    schema_name: str,
    *,
    version: str | None = None,  # (pyhf's keyword; here it hides the module's)
    allow_tensors: bool = True,
) -> None:
    """Raise InvalidSpecification unless ``spec`` is a valid ``schema_name`` document."""
    name = _name(schema_name, version)
    check = _VALIDATORS.get(name)
    if check is None:
        raise SpecError(f"{schema_name!r} describes a part of a document; validate the whole")
    if allow_tensors:
        from hfx.compat.pyhf.pdf import plain_json

        spec = plain_json(spec)
    check(spec)
