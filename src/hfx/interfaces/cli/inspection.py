"""The summary behind ``hfx inspect``: built from a workspace and its compiled model."""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from hfx.interfaces.cli._common import print_tables

__all__ = ["MeasurementRow", "ParameterRow", "WorkspaceSummary", "render_summary", "summarize"]

# Constraint labels as pyhf's inspect prints them.
_CONSTRAINT_LABELS = MappingProxyType(
    {
        None: "unconstrained",
        "normal": "constrained_by_normal",
        "poisson": "constrained_by_poisson",
    }
)


@dataclass(frozen=True)
class ParameterRow:
    name: str
    size: int
    constraint: str
    modifier_types: tuple[str, ...]


@dataclass(frozen=True)
class MeasurementRow:
    name: str
    poi: str | None
    parameters: tuple[str, ...]


@dataclass(frozen=True)
class WorkspaceSummary:
    """Everything ``hfx inspect`` shows; ``to_dict`` gives pyhf's inspect JSON keys."""

    channels: tuple[tuple[str, int], ...]
    samples: tuple[str, ...]
    modifiers: tuple[tuple[str, str], ...]
    parameters: tuple[ParameterRow, ...]
    measurements: tuple[MeasurementRow, ...]
    selected_measurement: str
    poi_in_model: bool

    @property
    def nbins(self) -> int:
        return sum(n for _, n in self.channels)

    @property
    def npars(self) -> int:
        return sum(p.size for p in self.parameters)

    @property
    def modifier_names(self) -> dict[str, str]:
        return dict(self.modifiers)

    def to_dict(self) -> dict[str, Any]:
        return {
            "channels": [[name, nbins] for name, nbins in self.channels],
            "samples": list(self.samples),
            "modifiers": self.modifier_names,
            "parameters": [[p.name, p.constraint] for p in self.parameters],
            "systematics": [
                [p.name, p.constraint, list(p.modifier_types)] for p in self.parameters
            ],
            "measurements": [[m.name, m.poi, list(m.parameters)] for m in self.measurements],
        }


def _constraint_label(kind: str | None) -> str:
    return _CONSTRAINT_LABELS.get(kind, str(kind))


def _build_model(ws: Any, measurement: dict[str, Any]) -> tuple[Any, bool]:
    """The model for ``measurement``, and whether its POI is a parameter of the model.

    A background-only workspace from HEPData lacks its POI (the signal patch adds it): the
    library then builds the model without a POI and warns, naming it.
    """
    model = ws.model(measurement_name=measurement["name"])
    poi = measurement.get("config", {}).get("poi")
    return model, not poi or model.config.poi_name is not None


def summarize(ws: Any, measurement_name: str | None = None) -> WorkspaceSummary:
    """Summarise ``ws``; parameter constraints come from its model for the measurement."""
    measurement = ws.get_measurement(measurement_name)
    model, poi_in_model = _build_model(ws, measurement)
    config = model.config
    types_of: dict[str, list[str]] = {}
    for mod_name, mod_type in ws.modifiers:
        types_of.setdefault(mod_name, []).append(mod_type)
    parameters = []
    for name in sorted(config.par_order):
        pset = config.param_set(name)
        parameters.append(
            ParameterRow(
                name=name,
                size=int(pset.n),
                constraint=_constraint_label(pset.constraint),
                modifier_types=tuple(types_of.get(name, [pset.kind])),
            )
        )
    measurements = []
    for meas_name in ws.measurement_names:
        meas = ws.get_measurement(meas_name)
        cfg = meas.get("config", {})
        measurements.append(
            MeasurementRow(
                name=meas_name,
                poi=cfg.get("poi"),
                parameters=tuple(p["name"] for p in cfg.get("parameters", [])),
            )
        )
    return WorkspaceSummary(
        channels=tuple((c, int(ws.channel_nbins[c])) for c in ws.channels),
        samples=tuple(ws.samples),
        modifiers=tuple(ws.modifiers),
        parameters=tuple(parameters),
        measurements=tuple(measurements),
        selected_measurement=measurement["name"],
        poi_in_model=poi_in_model,
    )


def render_summary(summary: WorkspaceSummary, file: Any = None) -> None:
    """Print the summary as tables to ``file`` (standard output by default)."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    def table(title: str, *columns: tuple[str, str]) -> Table:
        t = Table(
            title=title, title_justify="left", box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False
        )
        for i, (header, justify) in enumerate(columns):
            # Names never wrap; only the last column (lists) may, on a narrow terminal.
            t.add_column(header, justify=justify, no_wrap=i < len(columns) - 1)  # type: ignore[arg-type]
        return t

    overview = table("Summary", ("", "left"), ("", "right"))
    overview.show_header = False
    for label, value in (
        ("channels", len(summary.channels)),
        ("bins", summary.nbins),
        ("samples", len(summary.samples)),
        ("parameters", len(summary.parameters)),
        ("  (components)", summary.npars),
        ("modifiers", len(summary.modifier_names)),
        ("measurements", len(summary.measurements)),
    ):
        overview.add_row(label, str(value))

    channels = table("Channels", ("channel", "left"), ("nbins", "right"))
    for name, nbins in summary.channels:
        channels.add_row(Text(name), str(nbins))

    samples = table("Samples", ("sample", "left"))
    for name in summary.samples:
        samples.add_row(Text(name))

    params = table(
        "Parameters",
        ("parameter", "left"),
        ("size", "right"),
        ("constraint", "left"),
        ("modifiers", "left"),
    )
    for p in summary.parameters:
        params.add_row(Text(p.name), str(p.size), p.constraint, ", ".join(p.modifier_types))

    meas = table(
        "Measurements",
        ("", "left"),
        ("measurement", "left"),
        ("POI", "left"),
        ("parameters", "left"),
    )
    for m in summary.measurements:
        selected = m.name == summary.selected_measurement
        poi = m.poi if m.poi is not None else "(none)"
        if selected and not summary.poi_in_model:
            poi = f"{poi} (absent)"
        meas.add_row(
            "(*)" if selected else "",
            Text(m.name),
            Text(poi),
            Text(", ".join(m.parameters) or "(none)"),
        )
    print_tables([overview, channels, samples, params, meas], file)
