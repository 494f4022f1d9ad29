"""Counting datacards -> JSON workspaces, checked against Combine's likelihood by hand.

The reference NLLs are written out below from Combine's documented model (the datacard
docs and ``ModelTools.py``): Poisson main terms, κ^θ for lnN, ``AsymPow`` for asymmetric
lnN, Pois(N | n) for gmN, free rateParams, a Gaussian for ``param``.  hfx's NLL must
differ from them by one constant at every parameter point.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pytest
from scipy.special import gammaln

import hfx
from hfx.errors import HfxWarning, SpecError
from hfx.interfaces.io.datacard import (
    COMBINE_MODIFIER_SETTINGS,
    load_datacard,
    parse_text,
    read_datacard,
)

CARDS = Path(__file__).parent / "data" / "datacards"


def asym_pow(theta: float, kappa_lo: float, kappa_hi: float) -> float:
    """Combine's AsymPow (CombineMathFuncs.h): log κ interpolated smoothly in |θ| < 0.5."""
    log_hi, log_lo = math.log(kappa_hi), -math.log(kappa_lo)
    if abs(theta) >= 0.5:
        log_kappa = log_hi if theta >= 0 else log_lo
    else:
        x = 2 * theta
        smooth = 0.125 * x * (x * x * (3 * x * x - 10) + 15)
        log_kappa = 0.5 * (log_hi + log_lo) + smooth * 0.5 * (log_hi - log_lo)
    return math.exp(log_kappa * theta)


def poisson_nll(n: float, nu: float) -> float:
    return nu - n * math.log(nu) + float(gammaln(n + 1))


def model_of(spec):
    ws = hfx.Workspace(spec)
    model = ws.model(modifier_settings=COMBINE_MODIFIER_SETTINGS)
    return ws, model


def assert_same_up_to_constant(hfx_values, combine_values, tol=1e-9):
    diff = np.asarray(hfx_values) - np.asarray(combine_values)
    assert np.ptp(diff) < tol, diff


# --- the feature card ---------------------------------------------------------------
def read_features():
    """The feature card's workspace and groups (its constrained rateParam is not 'lumi')."""
    with pytest.warns(HfxWarning, match=r"line 23: param fake_sf .* pyhf's schema only"):
        return load_datacard(CARDS / "counting_features.txt")


def combine_nll_features(p: dict[str, float]) -> float:
    """tests/io/data/datacards/counting_features.txt, as Combine builds it."""
    lumi = 1.025 ** p["lumi"]
    bkg_xs = asym_pow(p["bkg_xs"], 0.9, 1.15)
    nu_sr = (
        4.0 * p["r"] * lumi * 1.10 ** p["sig_th"]
        + 6.0 * p["bkg_norm"] * lumi * bkg_xs
        + 0.075 * p["fake_cr"] * p["fake_sf"]
    )
    nu_cr = 30.0 * p["bkg_norm"] * lumi * bkg_xs + 8.0 * p["fake_sf"]
    nll = poisson_nll(12, nu_sr) + poisson_nll(40, nu_cr)
    nll += 0.5 * (p["lumi"] ** 2 + p["bkg_xs"] ** 2 + p["sig_th"] ** 2)
    nll += poisson_nll(20, p["fake_cr"])  # gmN: Pois(N | n)
    nll += 0.5 * ((p["fake_sf"] - 1.0) / 0.2) ** 2  # param 1.0 0.2
    return nll


def hfx_pars(model, p: dict[str, float]) -> np.ndarray:
    values = dict(p)
    values["fake_cr"] = [p["fake_cr"] / 20.0]  # shapesys γ = n / N
    return model.config.pars_from_dict(values)


def feature_points(rng, n, asym_outside=True):
    points = []
    for _ in range(n):
        theta = rng.uniform(0.5, 2.0) * rng.choice([-1, 1]) if asym_outside else 0.0
        points.append(
            {
                "r": rng.uniform(0, 3),
                "lumi": rng.normal(),
                "bkg_xs": theta,
                "sig_th": rng.normal(),
                "fake_cr": rng.uniform(10, 30),
                "bkg_norm": rng.uniform(0.5, 1.5),
                "fake_sf": rng.uniform(0.6, 1.4),
            }
        )
    return points


def test_feature_card_structure():
    spec, groups = read_features()
    assert groups == {"theory": ["sig_th", "bkg_xs", "lumi"]}
    sr, _ = spec["channels"]
    assert [s["name"] for s in sr["samples"]] == ["sig", "bkg", "fake"]
    mods = {
        s["name"]: {(m["name"], m["type"]): m["data"] for m in s["modifiers"]}
        for s in sr["samples"]
    }
    assert mods["sig"][("lumi", "normsys")] == {"hi": 1.025, "lo": 1 / 1.025}
    assert mods["sig"][("sig_th", "normsys")] == {"hi": 1.10, "lo": 1 / 1.10}
    assert ("r", "normfactor") in mods["sig"]
    assert mods["bkg"][("bkg_xs", "normsys")] == {"hi": 1.15, "lo": 0.9}
    assert ("unused", "normsys") not in mods["bkg"]
    assert mods["fake"][("fake_cr", "shapesys")] == pytest.approx([1.5 / math.sqrt(20)])
    assert mods["fake"][("fake_sf", "lumi")] is None
    config = {c["name"]: c for c in spec["measurements"][0]["config"]["parameters"]}
    assert config["r"] == {"name": "r", "inits": [1.0], "bounds": [[0.0, 20.0]]}
    assert config["bkg_norm"] == {"name": "bkg_norm", "inits": [1.0], "bounds": [[0.0, 5.0]]}
    assert config["fake_sf"]["auxdata"] == [1.0] and config["fake_sf"]["sigmas"] == [0.2]
    assert spec["observations"] == [{"name": "sr", "data": [12.0]}, {"name": "cr", "data": [40.0]}]


def test_feature_card_nll_matches_combine_by_hand():
    spec, _ = read_features()
    ws, model = model_of(spec)
    data = ws.data(model)
    rng = np.random.default_rng(19)
    points = feature_points(rng, 12)
    ours = [float(model.nll(hfx_pars(model, p), data)) for p in points]
    theirs = [combine_nll_features(p) for p in points]
    assert_same_up_to_constant(ours, theirs)


def test_asymmetric_lnn_inside_half_sigma_is_close_to_asympow():
    """Code 1 switches κ at θ = 0, Combine's AsymPow blends log κ over |θ| < 0.5."""
    spec, _ = read_features()
    ws, model = model_of(spec)
    data = ws.data(model)
    base = feature_points(np.random.default_rng(3), 1, asym_outside=False)[0]
    ref = float(model.nll(hfx_pars(model, base), data)) - combine_nll_features(base)
    worst = 0.0
    for theta in np.linspace(-0.5, 0.5, 21):
        p = dict(base, bkg_xs=float(theta))
        diff = float(model.nll(hfx_pars(model, p), data)) - combine_nll_features(p) - ref
        worst = max(worst, abs(diff))
    assert 1e-6 < worst < 0.03  # NLL units, for this card's 36 + 40 events
    thetas = np.linspace(-0.5, 0.5, 101)  # the yield factor itself: at most 0.16 % apart
    ours = np.where(thetas >= 0, 1.15**thetas, 0.9 ** (-thetas))
    combine = np.array([asym_pow(t, 0.9, 1.15) for t in thetas])
    assert 1e-3 < np.max(np.abs(ours / combine - 1)) < 1.7e-3


def test_feature_card_fit_reaches_the_hand_minimum():
    from scipy.optimize import minimize

    spec, _ = read_features()
    ws, model = model_of(spec)
    fit = hfx.fit(model, ws.data(model))
    names = ["r", "lumi", "bkg_xs", "sig_th", "fake_cr", "bkg_norm", "fake_sf"]
    x0 = [1, 0, 0, 0, 20, 1, 1]

    def f(x):
        return combine_nll_features(dict(zip(names, x, strict=True)))

    bounds = [(0, 20), (-5, 5), (-5, 5), (-5, 5), (1e-9, 200), (0, 5), (0.2, 1.8)]
    best = minimize(f, x0, bounds=bounds, method="L-BFGS-B", options={"ftol": 1e-14})
    # hfx's minimum is no worse than SciPy's on the hand-written Combine NLL
    mapped = {n: fit.value(n) for n in names if n != "fake_cr"}
    mapped["fake_cr"] = 20.0 * float(fit.bestfit[model.config.par_slice("fake_cr")][0])
    assert combine_nll_features(mapped) <= best.fun + 1e-6


# --- closed forms ---------------------------------------------------------------------
def test_signal_only_fit_has_the_closed_form(tmp_path):
    card = tmp_path / "c.txt"
    card.write_text(
        "imax 1\njmax 1\nkmax 0\nbin a\nobservation 17\n"
        "bin a a\nprocess s b\nprocess 0 1\nrate 5 9\n"
    )
    ws, model = model_of(read_datacard(card))
    fit = hfx.fit(model, ws.data(model))
    assert fit.value("r") == pytest.approx((17 - 9) / 5, rel=1e-6)


def test_gmn_fit_has_the_closed_form(tmp_path):
    """s·r + α·n with Pois(N | n): n̂ = N and r̂ = (obs − αN)/s."""
    card = tmp_path / "c.txt"
    card.write_text(
        "imax 1\njmax 1\nkmax 1\nbin a\nobservation 25\n"
        "bin a a\nprocess s b\nprocess 0 1\nrate 5 8\n"
        "sb gmN 16 - 0.5\n"
    )
    ws, model = model_of(read_datacard(card))
    fit = hfx.fit(model, ws.data(model))
    assert fit.value("r") == pytest.approx((25 - 0.5 * 16) / 5, rel=1e-5)
    assert 16 * fit.bestfit[model.config.par_slice("sb")][0] == pytest.approx(16, rel=1e-5)


# --- Combine's tutorial cards -----------------------------------------------------------
def test_tutorial_realistic_counting_experiment():
    spec = read_datacard(CARDS / "realistic-counting-experiment.txt")
    ws, model = model_of(spec)
    data = ws.data(model)

    def combine(p):
        nu = (
            1.47 * p["r"] * 1.11 ** p["lumi"] * 1.16 ** p["xs_ggH"]
            + 0.16 * p["WW_norm"]
            + 0.06 * 1.11 ** p["lumi"] * 1.50 ** p["xs_ggWW"]
            + 0.22 * 1.30 ** p["bg_others"]
        )
        thetas = ("lumi", "xs_ggH", "xs_ggWW", "bg_others")
        return (
            poisson_nll(0, nu) + 0.5 * sum(p[t] ** 2 for t in thetas) + poisson_nll(4, p["WW_norm"])
        )

    rng = np.random.default_rng(7)
    ours, theirs = [], []
    for _ in range(10):
        p = {n: rng.normal() for n in ("lumi", "xs_ggH", "xs_ggWW", "bg_others")}
        p["r"] = rng.uniform(0, 5)
        p["WW_norm"] = rng.uniform(1, 9)
        values = dict(p, WW_norm=[p["WW_norm"] / 4])
        ours.append(float(model.nll(model.config.pars_from_dict(values), data)))
        theirs.append(combine(p))
    assert_same_up_to_constant(ours, theirs)


def test_tutorial_multi_channel():
    spec = read_datacard(CARDS / "realistic-multi-channel.txt")
    ws, model = model_of(spec)
    data = ws.data(model)
    kappas = {
        "lumi": 1.11,
        "tauid": 1.23,
        "ZtoLL": 1.04,
        "effic": 1.04,
        "QCDel": 1.20,
        "QCDmu": 1.10,
        "other": 1.1,
    }
    columns = {  # bin -> [(rate, signal, [nuisances])]
        "e_tau": [
            (0.34, 1, ["lumi", "tauid", "effic"]),
            (190, 0, ["tauid", "ZtoLL", "effic"]),
            (327, 0, ["QCDel"]),
        ],
        "mu_tau": [
            (0.57, 1, ["lumi", "tauid", "effic"]),
            (329, 0, ["tauid", "ZtoLL", "effic"]),
            (259, 0, ["QCDmu"]),
        ],
        "e_mu": [
            (0.15, 1, ["lumi", "effic"]),
            (88, 0, ["ZtoLL", "effic"]),
            (14, 0, ["lumi", "effic", "other"]),
        ],
    }
    observed = {"e_tau": 517, "mu_tau": 540, "e_mu": 101}

    def combine(p):
        nll = 0.5 * sum(p[k] ** 2 for k in kappas)
        for b, cols in columns.items():
            nu = 0.0
            for rate, signal, names in cols:
                factor = p["r"] if signal else 1.0
                for k in names:
                    factor *= kappas[k] ** p[k]
                nu += rate * factor
            nll += poisson_nll(observed[b], nu)
        return nll

    rng = np.random.default_rng(11)
    ours, theirs = [], []
    for _ in range(10):
        p = {k: rng.normal() for k in kappas}
        p["r"] = rng.uniform(0, 50)
        ours.append(float(model.nll(model.config.pars_from_dict(p), data)))
        theirs.append(combine(p))
    assert_same_up_to_constant(ours, theirs)


# --- what is refused, and how -------------------------------------------------------
HEAD = "imax 1\njmax 1\nkmax *\nbin a\nobservation 10\nbin a a\nprocess s b\nprocess 0 1\n"
RATE = "rate 2 8\n"

REFUSED = {
    "lnU": (HEAD + RATE + "x lnU - 2.0\n", 10, "'lnU'"),
    "formula rateParam": (
        HEAD + RATE + "x rateParam a b 1\ny rateParam a s (@0*2) x\n",
        11,
        "formula",
    ),
    "workspace rateParam": (HEAD + RATE + "x rateParam a b f.root:w\n", 10, "RooFit workspace"),
    "extArg": (HEAD + RATE + "x extArg f.root:w\n", 10, "'extArg'"),
    "discrete": (HEAD + RATE + "pdfindex discrete\n", 10, "'discrete'"),
    "nuisance edit": (HEAD + RATE + "nuisance edit rename * * a b\n", 10, "'edit'"),
    "shapeN": (HEAD + RATE + "x shapeN - 1\n", 10, "log-space"),
    "gmN N=0": (HEAD + "rate 2 0\nx gmN 0 - 0.5\n", 10, "N = 0"),
    "gmN mismatch": (HEAD + RATE + "x gmN 4 - 0.5\n", 10, "do not give the rate"),
    "gmN shared": (
        "imax 2\njmax 1\nkmax *\nbin a c\nobservation 10 10\n"
        "bin a a c c\nprocess s b s b\nprocess 0 1 0 1\nrate 2 8 2 8\nx gmN 16 - 0.5 - 0.5\n",
        10,
        "one Poisson-constrained parameter",
    ),
    "asymmetric param": (HEAD + RATE + "x rateParam a b 1\nx param 1 -0.1/+0.2\n", 11, "-0.1/+0.2"),
    "kmax": (HEAD.replace("kmax *", "kmax 2") + RATE + "x lnN 1.1 -\n", 3, "kmax 2 declared"),
    "jmax": (HEAD.replace("jmax 1", "jmax 2") + RATE, 2, "jmax 2 declared"),
    "unknown type": (HEAD + RATE + "x lnX 1.1 -\n", 10, "unknown nuisance type 'lnX'"),
    "columns": (HEAD + RATE + "x lnN 1.1\n", 10, "1 values for 2"),
    "negative": (HEAD + RATE + "x lnN -1.1 -\n", 10, "negative value"),
    "asym gmN": (HEAD + RATE + "x shape 0.9/1.1 -\n", 10, "asymmetric values"),
    "no rate": ("imax 1\nbin a\nobservation 1\n", None, "no 'rate' line"),
    "bad number": (HEAD + "rate 2 x\n", 9, "rate 'x' is not a number"),
    "shapes workspace": (
        HEAD.replace("bin a\n", "shapes * * f.root w:$PROCESS\nbin a\n") + RATE,
        4,
        "RooFit workspace",
    ),
    "group member": (HEAD + RATE + "x lnN 1.1 -\ng group = x y\n", 11, "'y'"),
    "r nuisance": (HEAD + RATE + "r lnN 1.1 -\n", 10, "POI"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_refused_cards_name_the_line(tmp_path, case):
    text, line, words = REFUSED[case]
    card = tmp_path / "card.txt"
    card.write_text(text)
    with pytest.raises(SpecError) as info:
        read_datacard(card)
    message = str(info.value)
    assert message.startswith(str(card) + ": ")
    if line is not None:
        assert f"line {line}: " in message
    assert words in message
    assert "\n" not in message


def test_header_checks_and_free_text(tmp_path):
    text = "Combination of a=a.txt\n" + HEAD + RATE
    card = parse_text(text, source="x.txt")
    assert card.bins == ["a"] and [c.process for c in card.columns] == ["s", "b"]
    with pytest.warns(HfxWarning, match=r"line 2: 'bogus' is no datacard keyword"):
        parse_text("imax 1\nbogus line\n" + HEAD[7:] + RATE, source="x.txt")


def test_process_lines_in_either_order_and_numeric_names():
    text = HEAD.replace("process s b\nprocess 0 1\n", "process 0 1\nprocess s b\n") + RATE
    text += "1 lnN 1.1 -\n"
    card = parse_text(text, source="x.txt")
    assert [c.signal for c in card.columns] == [True, False]
    assert list(card.nuisances) == ["theta1"]


def test_lnn_repeated_on_two_lines_multiplies(tmp_path):
    card = tmp_path / "c.txt"
    card.write_text(HEAD + RATE + "x lnN 1.1 -\nx lnN 1.2 0.9/1.1\n")
    spec = read_datacard(card)
    s, b = spec["channels"][0]["samples"]
    assert s["modifiers"][1]["data"]["hi"] == pytest.approx(1.32)
    assert b["modifiers"][0]["data"] == {"hi": 1.1, "lo": 0.9}


def test_background_only_card_warns(tmp_path):
    card = tmp_path / "c.txt"
    card.write_text(HEAD.replace("process 0 1", "process 1 2") + RATE)
    with pytest.warns(HfxWarning, match="no signal process"):
        spec = read_datacard(card)
    assert spec["measurements"][0]["config"]["parameters"] == []


def test_param_on_an_lnn_nuisance_follows_combines_line_order(tmp_path):
    before = tmp_path / "before.txt"
    before.write_text(HEAD + RATE + "x param 0.5 2\nx lnN 1.1 -\n")
    config = read_datacard(before)["measurements"][0]["config"]["parameters"]
    assert {
        "name": "x",
        "auxdata": [0.5],
        "sigmas": [2.0],
        "inits": [0.0],
        "bounds": [[-7.5, 8.5]],
    } in config
    after = tmp_path / "after.txt"
    after.write_text(HEAD + RATE + "x lnN 1.1 -\nx param 0.5 2\n")
    with pytest.warns(HfxWarning, match="keeps the unit Gaussian"):
        config = read_datacard(after)["measurements"][0]["config"]["parameters"]
    assert {"name": "x", "inits": [0.5], "bounds": [[-7.5, 8.5]]} in config


def test_rate_param_without_range_and_unused_param(tmp_path):
    card = tmp_path / "c.txt"
    card.write_text(HEAD + RATE + "k rateParam a b 2\nz param 0 1\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        spec = read_datacard(card)
    assert any("param z" in str(w.message) for w in caught)
    config = spec["measurements"][0]["config"]["parameters"]
    assert {"name": "k", "inits": [2.0], "bounds": [[0.0, 200.0]]} in config


def test_benchmark_gamma_card():
    """data/benchmarks/gammas: S·r + 0.2·n with Pois(10 | n), 2 observed (a theta1 name)."""
    ws, model = model_of(read_datacard(CARDS / "counting-S1-Sideband10-alpha0p2-Obs2.txt"))
    data = ws.data(model)
    points = [(0.3, 7.0), (1.0, 10.0), (2.5, 14.0), (0.0, 4.0)]
    ours = [
        float(model.nll(model.config.pars_from_dict({"r": r, "theta1": [n / 10]}), data))
        for r, n in points
    ]
    theirs = [poisson_nll(2, r + 0.2 * n) + poisson_nll(10, n) for r, n in points]
    assert_same_up_to_constant(ours, theirs)
    fit = hfx.fit(model, data)  # n̂ = 10, then r̂ = 2 − 0.2·10 = 0 (on its bound)
    assert fit.value("r") == pytest.approx(0.0, abs=1e-6)
    assert 10 * fit.bestfit[model.config.par_slice("theta1")][0] == pytest.approx(10, rel=1e-5)


def test_benchmark_asymmetric_card():
    """data/benchmarks/asymm: 5.5 background with a 0.60/1.10 lnN, no first 'bin' line."""
    ws, model = model_of(read_datacard(CARDS / "counting-B5p5-Obs6-Syst4010B.txt"))
    data = ws.data(model)
    points = [(0.5, -0.5), (2.0, 0.7), (1.0, -1.5), (0.0, 2.0)]
    ours = [
        float(model.nll(model.config.pars_from_dict({"r": r, "theta1": t}), data))
        for r, t in points
    ]
    theirs = [poisson_nll(6, r + 5.5 * asym_pow(t, 0.60, 1.10)) + 0.5 * t * t for r, t in points]
    assert_same_up_to_constant(ours, theirs)
