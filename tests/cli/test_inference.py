"""hfx cls / fit / upper-limit / significance: pyhf's reference numbers and the error contract.

References: pyhf's CLI documentation example (validation tables, "CLI doc example"), the
canonical model of G.4, the ROOT-validated discovery row G.2 #2 and the stored pyhf 0.7.6
results on the ATLAS workspaces with their signal patches.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from scipy.optimize import minimize_scalar
from scipy.stats import norm

from hfx.interfaces.cli.main import cli
from tests.cli.helpers import (
    PACKAGED_EXAMPLE,
    assert_one_line_error,
    doc_example,
    write_json,
)
from tests.conftest import ATLAS_REF, ATLAS_WS

# pyhf cls / pyhf fit --value on docs/examples/json/2-bin_1-channel.json (pyhf 0.7.6)
DOC_CLS_OBS = 0.3599845631401915
DOC_CLS_EXP = [
    0.07807427911686156,
    0.17472571775474618,
    0.35998495263681285,
    0.6343568235898907,
    0.8809947004472013,
]
DOC_MU = 0.00017298628839781602
DOC_GAMMA = [1.0000015671710816, 0.9999665895859197]
DOC_TWICE_NLL = 23.19636590468879


def one_channel_workspace(signal, bkg, unc, observed) -> dict:
    """pyhf's uncorrelated_background model as a workspace with observations."""
    return {
        "channels": [
            {
                "name": "singlechannel",
                "samples": [
                    {
                        "name": "signal",
                        "data": signal,
                        "modifiers": [{"name": "mu", "type": "normfactor", "data": None}],
                    },
                    {
                        "name": "background",
                        "data": bkg,
                        "modifiers": [{"name": "uncorr_bkguncrt", "type": "shapesys", "data": unc}],
                    },
                ],
            }
        ],
        "observations": [{"name": "singlechannel", "data": observed}],
        "measurements": [{"name": "meas", "config": {"poi": "mu", "parameters": []}}],
        "version": "1.0.0",
    }


# G.2 row 2 (ROOT-validated): one bin, data 80, signal 25, background 50 ± 7 (shapesys).
ROW2_P0 = 0.003936883191585841
ROW2_BAND = [
    1.2204714710520103e-05,
    0.0006405237426269669,
    0.013202867164405075,
    0.11119604157594337,
    0.41286079728391695,
]


def row2_exact() -> tuple[float, list[float]]:
    """p0 and its expected band for G.2 row 2 from one-dimensional minimisations.

    With one bin and one γ, every fit is a scan over γ alone (μ fixed) or saturates both
    terms (free fit: γ̂ = aux/τ, μ̂ = (n − γ̂b)/s), so q0 and q0_A follow to ~1e-12.
    ROOT's and pyhf's numbers agree with these to ~3e-4 (their fits stop earlier).
    """
    s, b, n, tau = 25.0, 50.0, 80.0, (50.0 / 7.0) ** 2

    def nll(mu, gamma, obs, aux):
        lam, t = mu * s + gamma * b, gamma * tau
        return -(obs * np.log(lam) - lam + aux * np.log(t) - t)

    def best_gamma(mu, obs, aux):
        res = minimize_scalar(
            lambda g: nll(mu, g, obs, aux),
            bounds=(0.2, 5.0),
            method="bounded",
            options={"xatol": 1e-13},
        )
        return res.x, res.fun

    g_free = tau / tau
    q0 = 2 * (best_gamma(0.0, n, tau)[1] - nll((n - g_free * b) / s, g_free, n, tau))
    g1, _ = best_gamma(1.0, n, tau)  # Asimov data at the μ = 1 conditional fit
    obs_a, aux_a = s + g1 * b, g1 * tau
    sqrt_qa = np.sqrt(2 * (best_gamma(0.0, obs_a, aux_a)[1] - nll(1.0, g1, obs_a, aux_a)))
    band = [float(norm.sf(k + sqrt_qa)) for k in (2, 1, 0, -1, -2)]
    return float(norm.sf(np.sqrt(q0))), band


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def example(tmp_path: Path) -> Path:
    return write_json(tmp_path / "example.json", doc_example())


@pytest.fixture
def canonical(tmp_path: Path) -> Path:
    """G.4: signal [12, 11], background [50, 52] ± [3, 7], observed [51, 48]."""
    spec = one_channel_workspace([12.0, 11.0], [50.0, 52.0], [3.0, 7.0], [51.0, 48.0])
    return write_json(tmp_path / "canonical.json", spec)


def run(runner: CliRunner, *args, input: str | None = None):
    return runner.invoke(cli, [str(a) for a in args], input=input)


def ok_json(result) -> dict:
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    return json.loads(result.stdout)


# --- cls ------------------------------------------------------------------------------------------


def test_cls_doc_example_matches_pyhf(runner, example):
    out = ok_json(run(runner, "cls", example))
    assert set(out) == {"CLs_obs", "CLs_exp"}
    assert out["CLs_obs"] == pytest.approx(DOC_CLS_OBS, rel=1e-5)
    np.testing.assert_allclose(out["CLs_exp"], DOC_CLS_EXP, rtol=1e-5)


@pytest.mark.skipif(not PACKAGED_EXAMPLE.is_file(), reason="packaged example missing")
def test_cls_packaged_example_and_stdin(runner):
    from_file = ok_json(run(runner, "cls", PACKAGED_EXAMPLE))
    assert from_file["CLs_obs"] == pytest.approx(DOC_CLS_OBS, rel=1e-5)
    from_stdin = ok_json(run(runner, "cls", "-", input=PACKAGED_EXAMPLE.read_text()))
    assert from_stdin == from_file


def test_cls_canonical_model_g4(runner, canonical):
    out = ok_json(run(runner, "cls", canonical, "--test-poi", "1"))
    assert out["CLs_obs"] == pytest.approx(0.05251497, rel=2e-5)
    np.testing.assert_allclose(
        out["CLs_exp"], [0.00260626, 0.01382005, 0.06445321, 0.23525644, 0.57303621], rtol=1e-4
    )


def test_cls_q0_root_validated(runner, tmp_path):
    """G.2 row 2 (ROOT): p0 and its expected band, also to the exact one-bin values."""
    ws = write_json(tmp_path / "q0.json", one_channel_workspace([25.0], [50.0], [7.0], [80.0]))
    out = ok_json(run(runner, "cls", ws, "--test-stat", "q0"))
    assert set(out) == {"p0_obs", "p0_exp"}
    assert out["p0_obs"] == pytest.approx(ROW2_P0, rel=3e-4)
    np.testing.assert_allclose(out["p0_exp"], ROW2_BAND, rtol=5e-4)
    p0, band = row2_exact()
    assert out["p0_obs"] == pytest.approx(p0, rel=1e-6)
    np.testing.assert_allclose(out["p0_exp"], band, rtol=1e-6)


def test_cls_output_file(runner, example, tmp_path):
    target = tmp_path / "out" / "cls.json"
    target.parent.mkdir()
    result = run(runner, "cls", example, "--output-file", target)
    assert result.exit_code == 0 and result.stdout == ""
    assert json.loads(target.read_text())["CLs_obs"] == pytest.approx(DOC_CLS_OBS, rel=1e-5)


def test_cls_toys_are_reproducible_with_a_seed(runner, tmp_path):
    ws = write_json(tmp_path / "q0.json", one_channel_workspace([25.0], [50.0], [7.0], [80.0]))
    args = ("cls", ws, "--calctype", "toybased", "--ntoys", "30", "--seed", "3", "--no-progress")
    first, again = ok_json(run(runner, *args)), ok_json(run(runner, *args))
    assert first == again
    assert 0.0 <= first["CLs_obs"] <= 1.0 and len(first["CLs_exp"]) == 5


@pytest.mark.skipif(importlib.util.find_spec("iminuit") is None, reason="iminuit not installed")
def test_cls_with_minuit(runner, example):
    out = ok_json(run(runner, "cls", example, "--optimizer", "minuit"))
    assert out["CLs_obs"] == pytest.approx(DOC_CLS_OBS, rel=1e-4)


@pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="jax not installed")
def test_cls_on_jax(runner, example):
    out = ok_json(run(runner, "cls", example, "--backend", "jax"))
    assert out["CLs_obs"] == pytest.approx(DOC_CLS_OBS, rel=1e-5)


# --- fit ------------------------------------------------------------------------------------------


def test_fit_doc_example_matches_pyhf(runner, example):
    out = ok_json(run(runner, "fit", example, "--value"))
    assert set(out) == {"mle_parameters", "uncertainties", "correlations", "pulls", "twice_nll"}
    pars = out["mle_parameters"]
    assert set(pars) == {"mu", "uncorr_bkguncrt"}
    # the minimum sits at the bound mu = 0; pyhf's SLSQP stopped 1.7e-4 inside it
    assert pars["mu"][0] == pytest.approx(DOC_MU, abs=2e-4)
    np.testing.assert_allclose(pars["uncorr_bkguncrt"], DOC_GAMMA, atol=5e-5)
    assert out["twice_nll"] == pytest.approx(DOC_TWICE_NLL, abs=1e-6)
    assert out["twice_nll"] <= DOC_TWICE_NLL
    assert set(out["uncertainties"]) == set(pars)
    assert all(u > 0 for values in out["uncertainties"].values() for u in values)
    corr = np.array(out["correlations"]["matrix"])
    assert out["correlations"]["parameters"] == ["mu", "uncorr_bkguncrt[0]", "uncorr_bkguncrt[1]"]
    np.testing.assert_allclose(np.diag(corr), 1.0)
    np.testing.assert_allclose(corr, corr.T)


def test_fit_canonical_model_g4(runner, canonical):
    out = ok_json(run(runner, "fit", canonical))
    assert out["twice_nll"] == pytest.approx(24.98393521, abs=2e-7)
    gammas = out["mle_parameters"]["uncorr_bkguncrt"]
    np.testing.assert_allclose(gammas, [1.0030512, 0.96266961], atol=5e-5)
    fixed = ok_json(run(runner, "fit", canonical, "--fixed-poi", "1"))
    assert fixed["mle_parameters"]["mu"] == [1.0]
    assert fixed["uncertainties"]["mu"] == [0.0]
    np.testing.assert_allclose(
        fixed["mle_parameters"]["uncorr_bkguncrt"], [0.97224597, 0.87553894], atol=5e-5
    )
    assert fixed["twice_nll"] == pytest.approx(28.92218013, abs=2e-7)


# --- upper-limit and significance ----------------------------------------------------------------


def test_upper_limit_canonical_model_g4(runner, canonical):
    out = ok_json(run(runner, "upper-limit", canonical))
    assert out["method"] == "toms748" and out["level"] == 0.05
    assert out["obs"] == pytest.approx(1.01156939, rel=2e-5)
    np.testing.assert_allclose(
        out["exp"], [0.55988001, 0.75702336, 1.06234693, 1.50116923, 2.05078596], rtol=5e-5
    )
    out = ok_json(run(runner, "upper-limit", canonical, "--scan", "0", "5", "11"))
    assert out["method"] == "scan"
    np.testing.assert_allclose(out["scan"], np.linspace(0, 5, 11))
    assert len(out["cls_obs"]) == 11 and len(out["cls_exp"]) == 5
    assert out["obs"] == pytest.approx(1.0262704738584554, rel=2e-5)
    np.testing.assert_allclose(
        out["exp"], [0.65765653, 0.87999725, 1.12453992, 1.50243428, 2.09232927], rtol=5e-5
    )


def test_significance_root_validated(runner, tmp_path):
    """G.2 row 2: observed p0 (ROOT) and the expected band at μ' = 1, as for `cls`."""
    ws = write_json(tmp_path / "q0.json", one_channel_workspace([25.0], [50.0], [7.0], [80.0]))
    out = ok_json(run(runner, "significance", ws))
    p0, band = row2_exact()
    assert out["p0_obs"] == pytest.approx(ROW2_P0, rel=3e-4)
    assert out["p0_obs"] == pytest.approx(p0, rel=1e-6)
    assert out["z_obs"] == pytest.approx(norm.isf(p0), rel=1e-6)
    np.testing.assert_allclose(out["p0_exp_band"], ROW2_BAND, rtol=5e-4)
    np.testing.assert_allclose(out["p0_exp_band"], band, rtol=1e-6)
    assert out["p0_exp"] == pytest.approx(band[2], rel=1e-6)
    np.testing.assert_allclose(out["z_exp_band"], norm.isf(band), rtol=1e-6)


def test_significance_canonical_model(runner, canonical):
    """pyhf 0.7.6's hypotest(0, test_stat="q0") band on the canonical model (G.4)."""
    out = ok_json(run(runner, "significance", canonical))
    assert out["p0_obs"] == pytest.approx(0.5, abs=2e-4)  # μ̂ = 0: q0 = 0 (pyhf 0.49985659)
    band = [5.28864258e-05, 0.00200768, 0.03026228, 0.19025613, 0.54896512]
    np.testing.assert_allclose(out["p0_exp_band"], band, rtol=1e-4)


# --- a real ATLAS workspace with its signal patch -----------------------------------------------

ATLAS_SMALL = ("2018-31_simplifiedA", "2018-14_Comb_bkgonly")


@pytest.mark.parametrize("name", ATLAS_SMALL)
def test_atlas_workspace_with_signal_patch(runner, name):
    if not (ATLAS_WS / f"{name}.json").is_file():
        pytest.skip("../shared/data not present")
    ws, patch = ATLAS_WS / f"{name}.json", ATLAS_WS / f"{name}.signal.json"
    ref = json.loads((ATLAS_REF / f"{name}.json").read_text())
    out = ok_json(run(runner, "cls", ws, "--patch", patch))
    assert out["CLs_obs"] == pytest.approx(ref["cls_mu1_obs"], rel=1e-4)
    np.testing.assert_allclose(out["CLs_exp"], ref["cls_mu1_exp"], rtol=1e-4)
    fit = ok_json(run(runner, "fit", ws, "-p", patch))
    assert fit["twice_nll"] == pytest.approx(ref["mle_twice_nll"], abs=1e-6)
    assert fit["mle_parameters"][ref["poi"]][0] == pytest.approx(ref["mle_poi"], abs=1e-3)
    limit = ok_json(run(runner, "upper-limit", ws, "-p", patch))
    assert limit["obs"] == pytest.approx(ref["upper_limit_obs"], rel=1e-3)
    np.testing.assert_allclose(limit["exp"], ref["upper_limit_exp"], rtol=1e-3)


# --- the error contract ---------------------------------------------------------------------------


def test_malformed_json_names_file_and_line(runner, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"channels": [\n')
    for command in ("cls", "fit", "upper-limit", "significance"):
        line = assert_one_line_error(run(runner, command, bad), names=str(bad))
        assert "line 2" in line


def test_malformed_json_on_stdin(runner):
    assert_one_line_error(run(runner, "cls", "-", input="[1,"), names="<stdin>")


def test_bad_patch_names_the_patch_file(runner, example, tmp_path):
    patch = write_json(tmp_path / "p.json", [{"op": "remove", "path": "/channels/5"}])
    line = assert_one_line_error(run(runner, "cls", example, "--patch", patch), names=str(patch))
    assert "/channels/5" in line
    not_a_patch = write_json(tmp_path / "obj.json", {"op": "add"})
    assert_one_line_error(run(runner, "fit", example, "-p", not_a_patch), names=str(not_a_patch))
    broken = write_json(
        tmp_path / "broken.json",
        [{"op": "replace", "path": "/channels/0/samples/0/data", "value": "x"}],
    )
    line = assert_one_line_error(run(runner, "cls", example, "-p", broken), names=str(example))
    assert str(broken) in line  # the workspace made invalid by the patch names both
    # a sample the patch adds, with a bin too many: the semantic check of the patched
    # workspace (copy-on-write, only what changed) still finds it and names its place
    nbins = len(doc_example()["channels"][0]["samples"][0]["data"])
    extra_bin = write_json(
        tmp_path / "extra_bin.json",
        [
            {
                "op": "add",
                "path": "/channels/0/samples/-",
                "value": {"name": "more", "data": [1.0] * (nbins + 1), "modifiers": []},
            }
        ],
    )
    line = assert_one_line_error(run(runner, "cls", example, "-p", extra_bin), names=str(example))
    assert str(extra_bin) in line and f"has {nbins + 1} bins" in line
    assert "/channels/0/samples/" in line


def test_usage_errors_are_one_line(runner, example):
    assert_one_line_error(run(runner, "cls", example, "--test-stat", "t"), contains="--test-stat")
    assert_one_line_error(run(runner, "upper-limit", example, "--scan", "0", "5", "1"))
    assert_one_line_error(run(runner, "cls", example, "--calctype", "bayes"))
    assert_one_line_error(run(runner, "cls", example, "--backend", "tensorflow"))


def test_unknown_measurement_and_fixed_poi(runner, example, tmp_path):
    assert_one_line_error(
        run(runner, "fit", example, "--measurement", "nope"), names=str(example), contains="nope"
    )
    spec = doc_example()
    spec["measurements"][0]["config"]["parameters"] = [{"name": "mu", "fixed": True}]
    fixed = write_json(tmp_path / "fixed.json", spec)
    assert_one_line_error(run(runner, "cls", fixed), names=str(fixed), contains="fixed")


def test_failed_fit_is_one_line(runner, tmp_path):
    """A bin with observed events and zero expected rate: −log L is infinite everywhere."""
    spec = copy.deepcopy(doc_example())
    spec["channels"][0]["samples"][0]["data"] = [0.0, 10.0]
    spec["channels"][0]["samples"][1]["data"] = [0.0, 60.0]
    spec["channels"][0]["samples"][1]["modifiers"] = []
    impossible = write_json(tmp_path / "impossible.json", spec)
    for command in ("fit", "cls"):
        assert_one_line_error(run(runner, command, impossible), names=str(impossible))


def test_help_lists_inference_commands(runner):
    result = run(runner, "--help")
    for name in ("cls", "fit", "upper-limit", "significance"):
        assert name in result.stdout


@pytest.mark.skipif(not PACKAGED_EXAMPLE.is_file(), reason="packaged example missing")
def test_readme_first_command_in_a_real_process():
    """The README's first command, as a process: `hfx cls <packaged example>`."""
    proc = subprocess.run(
        [sys.executable, "-m", "hfx", "cls", str(PACKAGED_EXAMPLE)],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["CLs_obs"] == pytest.approx(DOC_CLS_OBS, rel=1e-5)
