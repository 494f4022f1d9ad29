"""hfx.abcd: ABCD planes as workspaces, checked against estimates computed by hand.

- Blinded (B, C, D only): three counts, three parameters, so the fit reproduces them and
  b_A = N_B N_C / N_D exactly.
- Unblinded without signal: the four regions are a 2×2 table with independent rows and
  columns, whose Poisson MLE is (row total × column total) / total in every cell.
- Unblinded with signal in A only: mu absorbs A, so b_A = N_B N_C / N_D and
  mu s_A = N_A − b_A.
- Signal contamination and normsys uncertainties: the likelihood written out below (Poisson
  terms, unit Gaussians, the code-4 normsys interpolation solved from its six matching
  conditions) maximised with scipy.
- abcd-pyhf (when installed): the same CLs and, on its integer scan grid, the same limits.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.special import gammaln

import hfx
from hfx.abcd import abcd_spec, abcd_workspace
from hfx.errors import ModelError


def _fit(ws):
    model = ws.model()
    data = ws.data(model)
    return model, hfx.fit(model, data)


def _saturated_twice_nll(counts):
    n = np.asarray(counts, dtype=float)
    return float(-2.0 * np.sum(n * np.log(n) - n - gammaln(n + 1.0)))


def test_blinded_background_estimate_is_nb_nc_over_nd():
    obs = {"B": 40.0, "C": 60.0, "D": 120.0}
    ws = abcd_workspace(obs)
    model, result = _fit(ws)
    assert model.config.channels == ["B", "C", "D"]
    assert model.config.par_names == ["mu_b", "tau_B", "tau_C"]
    assert model.config.poi_name == "mu_b"
    assert result.value("mu_b") == pytest.approx(40.0 * 60.0 / 120.0, rel=1e-7)
    assert result.value("tau_B") == pytest.approx(120.0 / 60.0, rel=1e-7)
    assert result.value("tau_C") == pytest.approx(120.0 / 40.0, rel=1e-7)
    # the fit reproduces the three counts: −2 log L is the saturated value
    assert result.twice_nll == pytest.approx(_saturated_twice_nll([40, 60, 120]), rel=1e-9)


def test_unblinded_background_only_fit_is_the_independence_table():
    n_a, n_b, n_c, n_d = 30.0, 40.0, 60.0, 120.0
    total = n_a + n_b + n_c + n_d
    model, result = _fit(abcd_workspace({"A": n_a, "B": n_b, "C": n_c, "D": n_d}))
    # rows (the tau_B axis): {A, C} and {B, D}; columns (the tau_C axis): {A, B} and {C, D}
    row = {"A": n_a + n_c, "C": n_a + n_c, "B": n_b + n_d, "D": n_b + n_d}
    col = {"A": n_a + n_b, "B": n_a + n_b, "C": n_c + n_d, "D": n_c + n_d}
    expected = model.expected_actualdata(result.bestfit)
    by_channel = dict(zip(model.config.channels, np.asarray(expected), strict=True))
    for region in "ABCD":
        assert by_channel[region] == pytest.approx(row[region] * col[region] / total, rel=1e-7)
    assert result.value("mu_b") == pytest.approx((n_a + n_c) * (n_a + n_b) / total, rel=1e-7)


def test_signal_in_a_only_leaves_the_control_region_estimate():
    obs = {"A": 50.0, "B": 40.0, "C": 60.0, "D": 120.0}
    _, result = _fit(abcd_workspace(obs, signal=4.0))
    b_a = 40.0 * 60.0 / 120.0
    assert result.value("mu_b") == pytest.approx(b_a, rel=1e-6)
    assert result.value("mu") == pytest.approx((50.0 - b_a) / 4.0, rel=1e-6)


def _code4(alpha, hi, lo):
    """pyhf/ROOT normsys code 4: exponential outside |α| ≥ 1, inside the degree-6 polynomial
    1 + Σ a_i α^i matching value, slope and curvature of the exponential at α = ±1."""
    if alpha >= 1.0:
        return hi**alpha
    if alpha <= -1.0:
        return lo ** (-alpha)
    lh, ll = math.log(hi), math.log(lo)
    rows, rhs = [], []
    for x, target in ((1.0, (hi, hi * lh, hi * lh**2)), (-1.0, (lo, -lo * ll, lo * ll**2))):
        rows.append([x**i for i in range(1, 7)])
        rows.append([i * x ** (i - 1) for i in range(1, 7)])
        rows.append([i * (i - 1) * x ** (i - 2) for i in range(1, 7)])
        rhs += [target[0] - 1.0, target[1], target[2]]
    coef = np.linalg.solve(np.array(rows), np.array(rhs))
    return 1.0 + sum(c * alpha**i for i, c in enumerate(coef, start=1))


def _hand_nll(obs, sig, sig_unc, closure_unc):
    """−log L(mu, mu_b, tau_B, tau_C, α_sig, α_closure) of the ABCD plane, written out."""

    def nll(x):
        mu, mu_b, tau_b, tau_c, a_sig, a_clo = x
        k_sig = _code4(a_sig, 1.0 + sig_unc, 1.0 - sig_unc)
        k_clo = _code4(a_clo, 1.0 + closure_unc, 1.0 - closure_unc)
        bkg = {"A": mu_b * k_clo, "B": mu_b * tau_b, "C": mu_b * tau_c, "D": mu_b * tau_b * tau_c}
        out = 0.0
        for region, n in obs.items():
            nu = mu * sig[region] * k_sig + bkg[region]
            out -= n * math.log(nu) - nu - math.lgamma(n + 1.0)
        # unit Gaussian constraints (aux 0), with their normalisation
        return out + 0.5 * (a_sig**2 + a_clo**2) + math.log(2.0 * math.pi)

    return nll


@pytest.mark.parametrize(
    ("obs", "sig"),
    [
        ({"A": 45.0, "B": 40.0, "C": 60.0, "D": 120.0}, {"A": 5.0, "B": 1.0, "C": 2.0, "D": 0.3}),
        ({"A": 12.0, "B": 9.0, "C": 14.0, "D": 31.0}, {"A": 3.0, "B": 0.6, "C": 0.9, "D": 0.2}),
    ],
)
def test_contamination_and_uncertainties_match_a_hand_written_likelihood(obs, sig):
    ws = abcd_workspace(obs, signal=sig, signal_uncertainty=0.15, closure_uncertainty=0.25)
    _, result = _fit(ws)
    names = ["mu", "mu_b", "tau_B", "tau_C", "signal_uncertainty", "closure_uncertainty"]
    nll = _hand_nll(obs, sig, 0.15, 0.25)
    start = [result.value(n) for n in names]
    x0 = [1.0, obs["B"] * obs["C"] / obs["D"], obs["D"] / obs["C"], obs["D"] / obs["B"], 0, 0]
    bounds = [(0.0, None), (1e-6, None), (1e-6, None), (1e-6, None), (-5, 5), (-5, 5)]
    best = minimize(nll, x0, method="L-BFGS-B", bounds=bounds, options={"ftol": 1e-15})
    polished = minimize(nll, best.x, method="Nelder-Mead", options={"xatol": 1e-10, "fatol": 1e-13})
    assert 2.0 * polished.fun == pytest.approx(result.twice_nll, rel=1e-8)
    # the same likelihood at hfx's best fit as hfx says, and no lower point found by scipy
    assert 2.0 * nll(start) == pytest.approx(result.twice_nll, rel=1e-10)
    np.testing.assert_allclose(start, polished.x, rtol=2e-4, atol=2e-4)


def test_closure_uncertainty_only_widens_the_estimate():
    obs = {"A": 30.0, "B": 40.0, "C": 60.0, "D": 120.0}
    ws = abcd_workspace(obs, signal=1.0, closure_uncertainty=0.3)
    model = ws.model()
    data = ws.data(model)
    conditional = hfx.fixed_poi_fit(0.0, model, data)
    nll = _hand_nll(obs, {"A": 1.0, "B": 0, "C": 0, "D": 0}, 0.0, 0.3)
    x0 = [0.0, 20.0, 2.0, 3.0, 0.0, 0.0]
    bounds = [(0.0, 0.0), (1e-6, None), (1e-6, None), (1e-6, None), (0.0, 0.0), (-5, 5)]
    best = minimize(nll, x0, method="L-BFGS-B", bounds=bounds, options={"ftol": 1e-15})
    # hand likelihood has one more unit Gaussian (the absent signal normsys at 0): log 2π/2
    assert 2.0 * best.fun - math.log(2.0 * math.pi) == pytest.approx(
        conditional.twice_nll, rel=1e-8
    )
    assert conditional.value("mu_b") == pytest.approx(best.x[1], rel=1e-4)


def test_uncertainty_pairs_and_zero_uncertainties():
    spec = abcd_spec(
        {"A": 1, "B": 4, "C": 6, "D": 12},
        signal=1.0,
        signal_uncertainty=(0.1, 0.2),
        closure_uncertainty=0.0,
    )
    by_name = {c["name"]: c for c in spec["channels"]}
    sig_mods = by_name["A"]["samples"][0]["modifiers"]
    assert sig_mods[1] == {
        "name": "signal_uncertainty",
        "type": "normsys",
        "data": {"hi": 1.2, "lo": 0.9},
    }
    assert [m["name"] for m in by_name["A"]["samples"][1]["modifiers"]] == ["mu_b"]
    # abcd-pyhf's bounds: N_A = 1 below the estimate 4·6/12 = 2, so mu_b runs up to
    # max(2 + 5 √2, 10) = 10, and mu (in units of the A yield) to ceil(10) / 1
    params = {p["name"]: p for p in spec["parameters"]}
    assert params["mu_b"]["bounds"] == [[0.0, 10.0]]
    assert params["mu_b"]["inits"] == [2.0]
    assert params["mu"]["bounds"] == [[0.0, 10.0]]
    assert params["tau_B"]["bounds"] == [[0.0, 10.0]]  # 5 × N_D / N_C
    # N_A = 50 above the estimate: up to N_A + 5 √N_A; mu to its ceiling over s_A = 4
    spec = abcd_spec({"A": 50, "B": 4, "C": 6, "D": 12}, signal=4.0)
    params = {p["name"]: p for p in spec["parameters"]}
    assert params["mu_b"]["bounds"] == [[0.0, pytest.approx(50 + 5 * math.sqrt(50))]]
    assert params["mu"]["bounds"] == [[0.0, math.ceil(50 + 5 * math.sqrt(50)) / 4.0]]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"observed": {"A": 1, "B": 2, "C": 3}}, "missing"),
        ({"observed": {"B": 2, "C": 3, "D": 0}}, "none in"),
        ({"observed": {"B": 2, "C": 3, "D": 4, "E": 1}}, "unknown region"),
        ({"observed": {"B": 2, "C": -3, "D": 4}}, "≥ 0"),
        ({"observed": {"B": 2, "C": 3, "D": 4}, "signal": {"B": 1.0}}, "signal region A"),
        ({"observed": {"B": 2, "C": 3, "D": 4}, "signal": {"X": 1.0}}, "unknown signal"),
        ({"observed": {"B": 2, "C": 3, "D": 4}, "closure_uncertainty": 1.0}, "must be < 1"),
        ({"observed": {"B": 2, "C": 3, "D": 4}, "signal_uncertainty": "x"}, "must be a number"),
    ],
)
def test_bad_inputs_raise_model_errors(kwargs, match):
    observed = kwargs.pop("observed")
    with pytest.raises(ModelError, match=match):
        abcd_workspace(observed, **kwargs)


# --- abcd-pyhf, side by side -----------------------------------------------------------------


def _abcd_pyhf():
    pytest.importorskip("abcd_pyhf")
    pyhf = pytest.importorskip("pyhf")
    from abcd_pyhf.abcd import ABCD

    return pyhf, ABCD


# pyhf 0.7.6 builds its schema validator with jsonschema's deprecated RefResolver
PEER_WARNINGS = pytest.mark.filterwarnings(
    "ignore:jsonschema.RefResolver is deprecated:DeprecationWarning"
)

CASES = [
    # (observed, signal, signal uncertainty, background/closure uncertainty)
    ({"A": 30, "B": 40, "C": 60, "D": 120}, {"A": 1.0, "B": 0.1, "C": 0.2, "D": 0.01}, 0.1, 0.2),
    ({"A": 3, "B": 9, "C": 14, "D": 31}, {"A": 1.0, "B": 0.0, "C": 0.3, "D": 0.0}, 0.05, 0.1),
    ({"A": 20, "B": 25, "C": 35, "D": 60}, {"A": 1.0, "B": 0.5, "C": 0.4, "D": 0.2}, 0.2, 0.0),
]


@PEER_WARNINGS
@pytest.mark.parametrize(("obs", "sig", "sig_unc", "bkg_unc"), CASES)
def test_cls_match_abcd_pyhf(obs, sig, sig_unc, bkg_unc):
    pyhf, ABCD = _abcd_pyhf()
    peer = ABCD(obs, sig, sig_unc, bkg_unc)
    ws = abcd_workspace(obs, signal=sig, signal_uncertainty=sig_unc, closure_uncertainty=bkg_unc)
    model = ws.model()
    data = ws.data(model)
    for mu in (2.0, 6.0, 15.0):
        theirs = pyhf.infer.hypotest(
            mu,
            peer.data,
            peer.model,
            peer.init_pars,
            peer.par_bounds,
            peer.fixed_params(),
            return_expected_set=True,
        )
        ours = hfx.hypotest(model, data, mu)
        # DESIGN §5's tolerance: pyhf's SLSQP stops ~1e-7 above the minimum of −2 log L
        # (checked below), which moves CLs far in the tail by a few 1e-4
        assert ours.cls == pytest.approx(float(theirs[0]), rel=1e-3)
        np.testing.assert_allclose(ours.cls_expected, np.asarray(theirs[1], float), rtol=1e-3)


@PEER_WARNINGS
@pytest.mark.parametrize(("obs", "sig", "sig_unc", "bkg_unc"), CASES[:2])
def test_fits_no_worse_than_abcd_pyhf(obs, sig, sig_unc, bkg_unc):
    # (both uncertainties non-zero: abcd-pyhf keeps a normsys of zero width, hfx drops it)
    pyhf, ABCD = _abcd_pyhf()
    peer = ABCD(obs, sig, sig_unc, bkg_unc)
    ws = abcd_workspace(obs, signal=sig, signal_uncertainty=sig_unc, closure_uncertainty=bkg_unc)
    model = ws.model()
    data = ws.data(model)
    renamed = [n.replace("background_", "closure_") for n in peer.model.config.par_order]
    assert model.config.par_order == renamed
    for mu in (0.0, 6.0):
        their_fit, their_twice_nll = pyhf.infer.mle.fixed_poi_fit(
            mu,
            peer.data,
            peer.model,
            peer.init_pars,
            peer.par_bounds,
            peer.fixed_params(),
            return_fitted_val=True,
        )
        # same parameters, same likelihood; hfx's minimum is never above pyhf's
        assert float(model.twice_nll(np.asarray(their_fit), data)) == pytest.approx(
            float(their_twice_nll), rel=1e-12
        )
        assert hfx.fixed_poi_fit(mu, model, data).twice_nll <= float(their_twice_nll) + 1e-9


@PEER_WARNINGS
def test_upper_limit_matches_abcd_pyhf_on_its_grid():
    _, ABCD = _abcd_pyhf()
    obs, sig = {"A": 3, "B": 9, "C": 14, "D": 31}, {"A": 1.0, "B": 0.0, "C": 0.3, "D": 0.0}
    peer = ABCD(obs, sig, 0.05, 0.1)
    obs_limit, exp_limits = peer.upper_limit()
    ws = abcd_workspace(obs, signal=sig, signal_uncertainty=0.05, closure_uncertainty=0.1)
    model = ws.model()
    poi_max = model.config.suggested_bounds()[model.config.poi_index][1]
    # abcd-pyhf scans CLs on the integers 0 … poi_max and interpolates linearly
    grid = np.linspace(0.0, poi_max, int(poi_max) + 1)
    ours = hfx.upper_limit(model, ws.data(model), scan=grid)
    assert ours.obs == pytest.approx(float(obs_limit), rel=1e-4)
    np.testing.assert_allclose(ours.exp, [float(x) for x in exp_limits], rtol=1e-4)
