"""Discovery significance: q₀ at μ = 0, observed and expected (Asimov at μ = 1)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hfx.errors import check_finite
from hfx.infer.hypotest import make_calculator, run_hypotest
from hfx.infer.normal import normal_isf

__all__ = ["SignificanceResult", "significance"]


@dataclass(frozen=True)
class SignificanceResult:
    """Discovery p-value p₀ and significance Z = Φ⁻¹(1 − p₀), observed and expected.

    ``p0_exp``/``z_exp`` are the median expected under the signal hypothesis (μ = 1);
    the ``*_band`` tuples hold the five band points in pyhf's order (n = 2, 1, 0, −1, −2,
    so the smallest p₀ first).
    """

    p0_obs: float
    z_obs: float
    p0_exp: float
    z_exp: float
    p0_exp_band: tuple[float, ...]
    z_exp_band: tuple[float, ...]
    q0: float
    calculator: str

    def __post_init__(self) -> None:
        d = self.to_dict()
        check_finite(
            "discovery significance",
            {k: v for k, v in d.items() if k != "calculator"},
            "p0 of 0 or 1 gives an infinite Z (with toys: use more toys or asymptotics)",
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python (JSON-serialisable) view."""
        return {
            "p0_obs": self.p0_obs,
            "z_obs": self.z_obs,
            "p0_exp": self.p0_exp,
            "z_exp": self.z_exp,
            "p0_exp_band": list(self.p0_exp_band),
            "z_exp_band": list(self.z_exp_band),
            "q0": self.q0,
            "calculator": self.calculator,
        }


def significance(
    model: Any,
    data: Any,
    *,
    calculator: str = "asymptotic",
    ntoys: int = 2000,
    seed: Any = None,
    progress: bool = False,
    init: Any = None,
    bounds: Any = None,
    fixed: Any = None,
    optimizer: Any = None,
    engine: str = "auto",
) -> SignificanceResult:
    """Observed and expected discovery significance of ``data`` (test statistic q₀)."""
    calc = make_calculator(
        model,
        data,
        calculator=calculator,
        test_stat="q0",
        ntoys=ntoys,
        seed=seed,
        progress=progress,
        init=init,
        bounds=bounds,
        fixed=fixed,
        optimizer=optimizer,
        engine=engine,
    )
    res = run_hypotest(calc, 0.0)
    q0 = calc.qmu_data(0.0) if hasattr(calc, "qmu_data") else float(res.teststat)
    band = tuple(float(p) for p in res.clsb_expected)
    return SignificanceResult(
        p0_obs=res.clsb,
        z_obs=float(normal_isf(res.clsb)),
        p0_exp=band[2],
        z_exp=float(normal_isf(band[2])),
        p0_exp_band=band,
        z_exp_band=tuple(float(normal_isf(p)) for p in band),
        q0=float(q0),
        calculator=res.calculator,
    )
