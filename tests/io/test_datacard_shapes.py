"""Shape datacards (TH1 templates written here with uproot) -> JSON, against Combine by hand.

Combine's template model (docs "Template shape uncertainties", CMSHistFunc, AsymPow,
CMSHistErrorPropagator): each process is rate × (normalised nominal + Σ Δ(θ)) × Π κ(θ),
with Δ(x) = x/2·[(up − down) + S(x)(up + down − 2·nominal)] on templates scaled to the
nominal integral, S the smooth step (3x⁵ − 10x³ + 15x)/8 in |x| < 1; the normalisation
part is AsymPow(κ_down, κ_up) of the integral ratios; autoMCStats adds x·e_tot (BB-lite)
or per-process terms.
"""

from __future__ import annotations

import json
import math
import sys

import numpy as np
import pytest
from click.testing import CliRunner
from scipy.special import gammaln

import hfx
from hfx.errors import HfxWarning, MissingExtraError, SpecError
from hfx.interfaces.cli._common import HfxGroup
from hfx.interfaces.cli.datacard import COMMANDS, datacard2json
from hfx.interfaces.io.datacard import COMBINE_MODIFIER_SETTINGS, load_datacard, read_datacard

pytest.importorskip("uproot")

from hfx.interfaces.io.root_hist import write_root_file
from tests.io.test_datacard_counting import asym_pow


def smooth_step(x: float) -> float:
    if abs(x) >= 1:
        return math.copysign(1.0, x)
    return 0.125 * x * (x * x * (3 * x * x - 10) + 15)


def morph(x, nominal, up, down):
    """Combine's vertical morphing Δ (templates already at the nominal integral)."""
    nominal, up, down = (np.asarray(a, dtype=float) for a in (nominal, up, down))
    return 0.5 * x * ((up - down) + smooth_step(x) * (up + down - 2 * nominal))


def poisson_nll(n, nu):
    n, nu = np.asarray(n, dtype=float), np.asarray(nu, dtype=float)
    return float(np.sum(nu - n * np.log(nu) + gammaln(n + 1)))


def normalised(template, nominal):
    template = np.asarray(template, dtype=float)
    return template * (np.sum(nominal) / np.sum(template))


# --- card A: lnN, shape (norm + shape), scaled shape, shape? -----------------------------
SIG = [2.0, 5.0, 3.0]
SIG_RES_UP, SIG_RES_DOWN = [1.5, 6.0, 2.5], [2.2, 4.5, 3.3]  # integral 10 each: no normsys
BKG = [20.0, 12.0, 8.0]  # integral 40
BKG_ALPHA_UP, BKG_ALPHA_DOWN = [24.0, 16.0, 10.0], [17.0, 9.0, 6.0]  # 50 and 32: κ 1.25, 0.8
BKG_JES_UP, BKG_JES_DOWN = [21.0, 12.0, 9.0], [19.0, 12.5, 6.5]  # 42 and 38: κ 1.05, 0.95
OTHER = [5.0, 5.0, 5.0]
DATA = [30.0, 25.0, 18.0]

CARD_A = """\
# test card: shapes from $CHANNEL/$PROCESS
imax 1
jmax 2
kmax *
----
shapes * * shapes.root $CHANNEL/$PROCESS $CHANNEL/$PROCESS_$SYSTEMATIC
shapes data_obs * shapes.root $CHANNEL/data_obs
----
bin ch
observation -1
----
bin          ch    ch    ch
process      sig   bkg   other
process      0     1     2
rate         -1    40    -1
----
lumi       lnN     1.1   -     -
alpha      shape   -     1     -
res        shape   2     -     -
jes        shape?  1.05  1     -
other_norm lnN     -     -     1.2
"""


def write_card_a(folder, text=CARD_A):
    histograms = {
        "ch/data_obs": (DATA, None),
        "ch/sig": (SIG, None),
        "ch/sig_resUp": (SIG_RES_UP, None),
        "ch/sig_resDown": (SIG_RES_DOWN, None),
        "ch/bkg": (BKG, None),
        "ch/bkg_alphaUp": (BKG_ALPHA_UP, None),
        "ch/bkg_alphaDown": (BKG_ALPHA_DOWN, None),
        "ch/bkg_jesUp": (BKG_JES_UP, None),
        "ch/bkg_jesDown": (BKG_JES_DOWN, None),
        "ch/other": (OTHER, None),
    }
    write_root_file(folder / "shapes.root", histograms)
    card = folder / "card.txt"
    card.write_text(text)
    return card


def combine_nll_a(p):
    sig = np.asarray(SIG) + morph(2 * p["res"], SIG, SIG_RES_UP, SIG_RES_DOWN)
    nu_sig = p["r"] * 1.1 ** p["lumi"] * 1.05 ** p["jes"] * np.maximum(sig, 0)
    bkg = (
        np.asarray(BKG)
        + morph(p["alpha"], BKG, normalised(BKG_ALPHA_UP, BKG), normalised(BKG_ALPHA_DOWN, BKG))
        + morph(p["jes"], BKG, normalised(BKG_JES_UP, BKG), normalised(BKG_JES_DOWN, BKG))
    )
    norm = asym_pow(p["alpha"], 0.8, 1.25) * asym_pow(p["jes"], 0.95, 1.05)
    nu_bkg = norm * np.maximum(bkg, 0)
    nu_other = np.asarray(OTHER) * 1.2 ** p["other_norm"]
    thetas = ("lumi", "alpha", "res", "jes", "other_norm")
    return poisson_nll(DATA, nu_sig + nu_bkg + nu_other) + 0.5 * sum(p[t] ** 2 for t in thetas)


def test_shape_card_structure(tmp_path):
    spec = read_datacard(write_card_a(tmp_path))
    (channel,) = spec["channels"]
    assert spec["observations"] == [{"name": "ch", "data": DATA}]
    mods = {
        s["name"]: {(m["name"], m["type"]): m["data"] for m in s["modifiers"]}
        for s in channel["samples"]
    }
    assert set(mods["sig"]) == {
        ("r", "normfactor"),
        ("lumi", "normsys"),
        ("res", "histosys"),
        ("jes", "normsys"),
    }
    assert mods["sig"][("jes", "normsys")] == {"hi": 1.05, "lo": 1 / 1.05}  # shape?: an lnN
    assert mods["bkg"][("alpha", "normsys")] == {"hi": 1.25, "lo": 0.8}
    alpha = mods["bkg"][("alpha", "histosys")]
    assert alpha["hi_data"] == pytest.approx(normalised(BKG_ALPHA_UP, BKG).tolist())
    config = {c["name"]: c for c in spec["measurements"][0]["config"]["parameters"]}
    assert config["res"] == {
        "name": "res",
        "sigmas": [2.0],
        "auxdata": [0.0],
        "bounds": [[-10.0, 10.0]],
    }


def test_shape_card_nll_matches_combine_by_hand(tmp_path):
    ws = hfx.Workspace(read_datacard(write_card_a(tmp_path)))
    model = ws.model(modifier_settings=COMBINE_MODIFIER_SETTINGS)
    data = ws.data(model)
    rng = np.random.default_rng(5)
    ours, theirs = [], []
    for _ in range(12):
        p = {name: float(rng.normal()) for name in ("lumi", "alpha", "res", "other_norm")}
        p["jes"] = float(rng.uniform(0.5, 2.0) * rng.choice([-1, 1]))  # AsymPow = code 1 here
        p["r"] = float(rng.uniform(0, 3))
        values = dict(p, res=2 * p["res"])  # θ' = sθ
        ours.append(float(model.nll(model.config.pars_from_dict(values), data)))
        theirs.append(combine_nll_a(p))
    diff = np.asarray(ours) - np.asarray(theirs)
    assert np.ptp(diff) < 1e-9, diff


def test_scale_below_one_warns_and_stays_close(tmp_path):
    text = CARD_A.replace("res        shape   2", "res        shape   0.5")
    card = write_card_a(tmp_path, text)
    with pytest.warns(HfxWarning, match=r"line 19: process 'sig' .* scale 0.5 < 1"):
        spec = read_datacard(card)
    model = hfx.Workspace(spec).model(modifier_settings=COMBINE_MODIFIER_SETTINGS)
    worst = 0.0
    for theta in np.linspace(-3, 3, 61):  # Combine: polynomial in |0.5θ| < 0.5
        x = 0.5 * theta
        step = 1.0 if abs(x) >= 0.5 else None
        s = math.copysign(step, x) if step else smooth_step(x / 0.5)
        combine = np.asarray(SIG) + 0.5 * x * (
            (np.asarray(SIG_RES_UP) - SIG_RES_DOWN)
            + s * (np.asarray(SIG_RES_UP) + SIG_RES_DOWN - 2 * np.asarray(SIG))
        )
        pars = model.config.pars_from_dict({"res": x, "r": 1.0})
        ours = model.expected_by_sample(pars)
        sig = np.asarray(ours)[model.config.samples.index("sig")]
        worst = max(worst, float(np.max(np.abs(sig - combine))))
    # agree for |sθ| >= 1, differ by at most 0.06 events (of 2-6) in between
    assert 0.01 < worst < 0.06


def test_template_rate_must_match_the_histogram(tmp_path):
    card = write_card_a(tmp_path, CARD_A.replace("rate         -1    40", "rate         -1    45"))
    with pytest.raises(SpecError, match=r"card.txt: line 15: rate 45 of process 'bkg'.* holds 40"):
        read_datacard(card)


def test_missing_histogram_and_pattern_name_the_shapes_line(tmp_path):
    card = write_card_a(
        tmp_path, CARD_A.replace("$CHANNEL/$PROCESS_$SYSTEMATIC", "$CHANNEL/x_$SYSTEMATIC")
    )
    with pytest.raises(
        SpecError, match=r"line 6: no histogram 'ch/x_resUp' .*the resUp of process 'sig'"
    ):
        read_datacard(card)
    card = write_card_a(tmp_path, CARD_A.replace(" $CHANNEL/$PROCESS_$SYSTEMATIC", ""))
    with pytest.raises(SpecError, match=r"line 6: shape nuisance 'res' .* no pattern"):
        read_datacard(card)
    card = write_card_a(tmp_path, CARD_A.replace("shapes.root $CHANNEL/data_obs", "nope.root x"))
    with pytest.raises(SpecError, match=r"line 7: shape file 'nope.root' not found"):
        read_datacard(card)


def test_mass_and_basedir(tmp_path):
    folder = tmp_path / "inputs"
    folder.mkdir()
    write_card_a(folder)
    text = CARD_A.replace("shapes.root $CHANNEL/$PROCESS ", "shapes.root $CHANNEL/$PROCESS$MASS ")
    text = text.replace("shapes * * shapes.root", "shapes * * inputs/shapes.root")
    text = text.replace("shapes data_obs * shapes.root", "shapes data_obs * inputs/shapes.root")
    card = tmp_path / "cards" / "card.txt"
    card.parent.mkdir()
    card.write_text(text)
    with pytest.raises(SpecError, match="ch/sig125"):
        read_datacard(card, basedir=tmp_path, mass=125)


# --- card B: autoMCStats -------------------------------------------------------------
SIG_B, SIG_B_ERR = [0.5, 1.0, 2.0, 0.2], [0.1, 0.2, 0.3, 0.1]
BKG1, BKG1_ERR = [100.0, 4.0, 0.5, 50.0], [5.0, 1.2, 0.45, 3.0]
BKG2, BKG2_ERR = [50.0, 2.0, 1.0, 0.0], [4.0, 2.5, 0.6, 0.0]
DATA_B = [160.0, 9.0, 4.0, 52.0]

CARD_B = """\
imax 1
jmax 2
kmax 0
shapes * * stats.root $PROCESS
bin ch
observation 225
bin ch ch ch
process sig bkg1 bkg2
process 0 1 2
rate -1 -1 -1
* autoMCStats 10
"""


def test_auto_mc_stats_modifiers_and_nll(tmp_path):
    write_root_file(
        tmp_path / "stats.root",
        {
            "data_obs": (DATA_B, None),
            "sig": (SIG_B, SIG_B_ERR),
            "bkg1": (BKG1, BKG1_ERR),
            "bkg2": (BKG2, BKG2_ERR),
        },
    )
    card = tmp_path / "card.txt"
    card.write_text(CARD_B)
    spec = read_datacard(card)
    mods = {
        s["name"]: {m["name"]: (m["type"], m["data"]) for m in s["modifiers"]}
        for s in spec["channels"][0]["samples"]
    }
    # bins 0 and 3: BB-lite; 1: per process, all Gaussian; 2: Poisson for bkg1, bkg2
    assert mods["sig"]["prop_binch"] == ("staterror", [0.1, 0.0, 0.0, 0.1])
    assert mods["bkg1"]["prop_binch"] == ("staterror", [5.0, 0.0, 0.0, 3.0])
    assert mods["sig"]["prop_binch_sig_gaus"] == ("staterror", [0.0, 0.2, 0.3, 0.0])
    assert mods["bkg1"]["prop_binch_bkg1_gaus"] == ("staterror", [0.0, 1.2, 0.0, 0.0])
    assert mods["bkg2"]["prop_binch_bkg2_gaus"] == ("staterror", [0.0, 2.5, 0.0, 0.0])
    kind, delta = mods["bkg1"]["prop_binch_bkg1"]
    assert kind == "shapesys" and delta == pytest.approx([0.0, 0.0, 0.5 / math.sqrt(1), 0.0])
    kind, delta = mods["bkg2"]["prop_binch_bkg2"]
    assert delta == pytest.approx([0.0, 0.0, 1.0 / math.sqrt(3), 0.0])

    ws = hfx.Workspace(spec)
    model = ws.model(modifier_settings=COMBINE_MODIFIER_SETTINGS)
    data = ws.data(model)
    values = [np.asarray(SIG_B), np.asarray(BKG1), np.asarray(BKG2)]
    errors = [np.asarray(SIG_B_ERR), np.asarray(BKG1_ERR), np.asarray(BKG2_ERR)]
    e_tot = np.sqrt(sum(e**2 for e in errors))
    total = sum(values)
    rng = np.random.default_rng(23)
    ours, theirs = [], []
    for _ in range(10):
        x_lite = rng.normal(size=4)  # Combine's prop_binch_bin0, _bin3
        x_gaus = rng.normal(size=3)  # prop_binch_bin1_{sig,bkg1,bkg2}, bin2_sig
        x_sig2 = rng.normal()
        var1, var2 = rng.uniform(0.3, 3.0), rng.uniform(1.0, 6.0)  # Poisson, n = 1 and 3
        nu = total.copy()
        for j in (0, 3):
            nu[j] += x_lite[j] * e_tot[j]
        nu[1] += sum(x_gaus[i] * errors[i][1] for i in range(3))
        nu[2] += x_sig2 * errors[0][2]
        nu[2] += values[1][2] * (var1 / 1 - 1) + values[2][2] * (var2 / 3 - 1)
        combine = (
            poisson_nll(DATA_B, nu)
            + 0.5 * (x_lite[0] ** 2 + x_lite[3] ** 2 + np.sum(x_gaus**2) + x_sig2**2)
            + poisson_nll(1, var1)
            + poisson_nll(3, var2)
        )
        lite = [1 + x_lite[j] * e_tot[j] / total[j] if j in (0, 3) else 1.0 for j in range(4)]
        sig_gaus = [1.0, 1 + x_gaus[0] * 0.2 / 1.0, 1 + x_sig2 * 0.3 / 2.0, 1.0]
        pars = model.config.pars_from_dict(
            {
                "r": 1.0,
                "prop_binch": lite,
                "prop_binch_sig_gaus": sig_gaus,
                "prop_binch_bkg1_gaus": [1.0, 1 + x_gaus[1] * 1.2 / 4.0, 1.0, 1.0],
                "prop_binch_bkg2_gaus": [1.0, 1 + x_gaus[2] * 2.5 / 2.0, 1.0, 1.0],
                "prop_binch_bkg1": [1.0, 1.0, var1 / 1, 1.0],
                "prop_binch_bkg2": [1.0, 1.0, var2 / 3, 1.0],
            }
        )
        ours.append(float(model.nll(pars, data)))
        theirs.append(combine)
    diff = np.asarray(ours) - np.asarray(theirs)
    assert np.ptp(diff) < 1e-9, diff


def test_auto_mc_stats_bb_lite_away_from_the_nominal_signal():
    """Combine adds x·sqrt(Σ (c_i e_i)²); HistFactory scales the sum: the effective
    additive width of bin 0 at r = 0 and r = 2, for b = 150 ± 6.40, s = 0.5 ± 0.1."""
    b, eb, s, es = 150.0, math.hypot(5.0, 4.0), 0.5, 0.1
    sigma_rel = math.hypot(eb, es) / (b + s)
    for r in (0.0, 2.0):
        combine = math.hypot(eb, r * es)
        ours = sigma_rel * (b + r * s)
        assert abs(ours / combine - 1) < 5e-3


# --- command line ---------------------------------------------------------------------
def run(*args):
    group = HfxGroup()
    for command in COMMANDS:
        group.add_command(command)
    return CliRunner().invoke(group, [str(a) for a in args])


def test_cli_writes_the_workspace_and_groups(tmp_path):
    card = write_card_a(tmp_path, CARD_A + "exp group = lumi jes\n")
    out, groups = tmp_path / "ws.json", tmp_path / "groups.json"
    result = run("datacard2json", card, "-o", out, "--groups", groups)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "" and result.stderr == ""
    assert json.loads(out.read_text()) == read_datacard(card)
    assert json.loads(groups.read_text()) == {"exp": ["lumi", "jes"]}
    result = run("datacard2json", card)
    assert json.loads(result.stdout) == json.loads(out.read_text())


def test_cli_error_is_one_line_and_writes_nothing(tmp_path):
    card = write_card_a(tmp_path, CARD_A + "bad lnU - 1.5 -\n")
    out = tmp_path / "ws.json"
    result = run("datacard2json", card, "-o", out)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"hfx: error: {card}: line 22: 'lnU'")
    assert not out.exists()


def test_cli_command_object():
    assert datacard2json.name == "datacard2json"
    assert (datacard2json,) == COMMANDS


def test_shape_card_without_uproot(tmp_path, monkeypatch):
    card = write_card_a(tmp_path)
    monkeypatch.setitem(sys.modules, "uproot", None)
    with pytest.raises(MissingExtraError, match=r"pip install 'hfx\[xml\]'"):
        load_datacard(card)


def test_bb_lite_width_away_from_the_nominal_signal(tmp_path):
    """Combine adds x·sqrt(Σ (c_i e_i)²) to a BB-lite bin; HistFactory's γ scales the sum.

    For bin 0 of card B (b = 150 ± 6.40, s = 0.5 ± 0.1) the additive one-sigma width at
    r = 1 is the same; at r = 0 and r = 2 it differs by about 0.3 %.
    """
    write_root_file(
        tmp_path / "stats.root",
        {
            "data_obs": (DATA_B, None),
            "sig": (SIG_B, SIG_B_ERR),
            "bkg1": (BKG1, BKG1_ERR),
            "bkg2": (BKG2, BKG2_ERR),
        },
    )
    card = tmp_path / "card.txt"
    card.write_text(CARD_B)
    model = hfx.Workspace(read_datacard(card)).model()
    sigma = float(model.config.param_set("prop_binch").sigmas[0])
    for r, expected in ((0.0, -3.2e-3), (1.0, 0.0), (2.0, 3.0e-3)):
        up = np.ones(4)
        up[0] = 1 + sigma
        at = model.config.pars_from_dict
        width = float(
            model.expected_actualdata(at({"r": r, "prop_binch": up}))[0]
            - model.expected_actualdata(at({"r": r}))[0]
        )
        combine = math.hypot(math.hypot(5.0, 4.0), r * 0.1)
        assert width / combine - 1 == pytest.approx(expected, abs=2e-4)


def test_auto_mc_stats_options(tmp_path):
    """include-signal counts the signal in n_eff; hist-mode 2 morphs unnormalised templates;
    a process with no yield but an error in a per-process bin is left out, with a warning."""
    write_root_file(
        tmp_path / "s.root",
        {
            "data_obs": ([10.0, 3.0], None),
            "sig": ([4.0, 1.0], [0.5, 0.3]),
            "bkg": ([6.0, 2.0], [2.9, 0.9]),
            "bkg_aUp": ([7.0, 2.0], [2.9, 0.9]),
            "bkg_aDown": ([5.5, 2.0], [2.9, 0.9]),
            "zero": ([0.0, 1.0], [0.4, 0.1]),
        },
    )
    head = "imax 1\njmax 2\nkmax *\nshapes * * s.root $PROCESS $PROCESS_$SYSTEMATIC\n"
    head += "bin ch\nobservation 13\nbin ch ch ch\nprocess sig bkg zero\nprocess 0 1 2\n"
    head += "rate -1 -1 -1\na shape - 1 -\n"
    card = tmp_path / "card.txt"
    # bin 0, backgrounds only: n_eff = round(36/8.57) = 4 <= 10, so per process
    card.write_text(head + "ch autoMCStats 10 0 2\n")
    with pytest.warns(HfxWarning, match="process 'zero' .* bin 0, has no yield"):
        spec = read_datacard(card)
    samples = {s["name"]: s for s in spec["channels"][0]["samples"]}
    bkg = {m["type"]: m for m in samples["bkg"]["modifiers"]}
    assert "normsys" not in bkg  # hist-mode 2: the normalisation is in the morphing
    assert bkg["histosys"]["data"]["hi_data"] == [7.0, 2.0]
    assert bkg["shapesys"]["data"] == pytest.approx([3.0, 0.0])  # Poisson, n = 4
    card.write_text(head + "ch autoMCStats 10 1 2\n")  # with the signal: n_eff 11 > 10
    spec = read_datacard(card)
    samples = {s["name"]: s for s in spec["channels"][0]["samples"]}
    lite = {m["name"]: m["data"] for m in samples["sig"]["modifiers"]}
    assert lite["prop_binch"][0] == 0.5
    # bin 1 (bkg 2 ± 0.9, zero 1 ± 0.1): n_eff 11 > 10, but 8 once bkg starts at 2×
    assert lite["prop_binch"][1] == 0.3
    card.write_text(head + "k rateParam ch bkg 2\nch autoMCStats 10 0 2\n")
    with pytest.warns(HfxWarning, match="process 'zero'"):
        spec = read_datacard(card)
    samples = {s["name"]: s for s in spec["channels"][0]["samples"]}
    mods = {m["name"]: m["data"] for m in samples["bkg"]["modifiers"]}
    assert mods["prop_binch_bkg"] == pytest.approx([6.0 / 2, 2.0 / math.sqrt(5)])


def test_scaled_shape_rescales_its_lnn_entries(tmp_path):
    text = CARD_A.replace("jes        shape?  1.05  1", "jes        shape?  1.05  2")
    spec = read_datacard(write_card_a(tmp_path, text))
    sig = spec["channels"][0]["samples"][0]
    jes = next(m for m in sig["modifiers"] if m["name"] == "jes")
    # κ^θ = (κ^(1/s))^θ' with θ' = sθ
    assert jes["data"] == pytest.approx({"hi": 1.05**0.5, "lo": 1.05**-0.5})
    config = {c["name"]: c for c in spec["measurements"][0]["config"]["parameters"]}
    assert config["jes"]["sigmas"] == [2.0]


def test_counting_and_template_channels_in_one_card(tmp_path):
    write_card_a(tmp_path)
    text = CARD_A.replace("shapes * * shapes.root", "shapes * cnt FAKE\nshapes * ch shapes.root")
    text = text.replace("imax 1", "imax 2").replace("observation -1", "observation -1 7")
    text = text.replace("bin ch\nobservation", "bin ch cnt\nobservation")
    text = text.replace("bin          ch    ch    ch", "bin          ch    ch    ch    cnt")
    text = text.replace("process      sig   bkg   other", "process      sig   bkg   other bkg")
    text = text.replace("process      0     1     2", "process      0     1     2     1")
    text = text.replace("rate         -1    40    -1", "rate         -1    40    -1    5")
    for name in ("lumi", "alpha", "res", "jes", "other_norm"):
        text = "\n".join(
            line + "  -" if line.startswith(name + " ") else line for line in text.splitlines()
        )
    text = text.replace(
        "alpha      shape   -     1     -  -", "alpha      shape   -     1     -  1.1"
    )
    card = tmp_path / "card.txt"
    card.write_text(text + "\n")
    with pytest.warns(HfxWarning, match="shape nuisance alpha has no effect on counting bin"):
        spec = read_datacard(card)
    assert spec["observations"][1] == {"name": "cnt", "data": [7.0]}
    assert spec["channels"][1]["samples"] == [{"name": "bkg", "data": [5.0], "modifiers": []}]
