"""Hypothesis tests on the ROOT-validated models of validation-tables.md G.2 (rows 1-11).

Each model is written here from the table's description.  Rows 1-10 use normsys code1
(histosys then falls back to code0), default bounds (μ in [0, 10]) and data = observed +
auxdata; row 11 keeps the default codes (code4/code4p) and uses qtilde.  Row 3 is the
toy-based version of row 2 (2000 toys); our generator differs from the one pyhf seeded,
so it is checked within the statistical uncertainty of 2000 toys instead of digit by digit.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import ndtr
from scipy.stats import norm

from hfx import Workspace
from hfx.infer import hypotest

CODE1 = {"normsys": {"interpcode": "code1"}}


def _sample(name, data, *mods):
    return {"name": name, "data": list(data), "modifiers": list(mods)}


def _mu(name="mu"):
    return {"name": name, "type": "normfactor", "data": None}


def _shapesys(name, data):
    return {"name": name, "type": "shapesys", "data": list(data)}


def _normsys(name, lo, hi):
    return {"name": name, "type": "normsys", "data": {"lo": lo, "hi": hi}}


def _histosys(name, lo, hi):
    return {"name": name, "type": "histosys", "data": {"lo_data": lo, "hi_data": hi}}


def _model(channels, observed, *, poi="mu", parameters=(), settings=CODE1):
    """(model, data) for {channel: [samples]} and {channel: observed counts}."""
    spec = {
        "version": "1.0.0",
        "channels": [{"name": c, "samples": s} for c, s in channels.items()],
        "observations": [{"name": c, "data": list(d)} for c, d in observed.items()],
        "measurements": [{"name": "meas", "config": {"poi": poi, "parameters": list(parameters)}}],
    }
    ws = Workspace(spec)
    model = ws.model(modifier_settings=settings)
    return model, np.asarray(ws.data(model), dtype=float)


def _one_bin(data, sig):
    return _model(
        {
            "singlechannel": [
                _sample("signal", [sig], _mu()),
                _sample("background", [50.0], _shapesys("uncorr_bkguncrt", [7.0])),
            ]
        },
        {"singlechannel": [data]},
    )


def row1():
    return _one_bin(55.0, 10.0)


def row2():
    return _one_bin(80.0, 25.0)


def row4():
    lumi = {"name": "lumi", "type": "lumi", "data": None}
    return _model(
        {
            "channel1": [
                _sample("signal", [20.0], _mu()),
                _sample("background1", [100.0], lumi),
                _sample("background2", [0.0], lumi),
            ]
        },
        {"channel1": [55.0]},
        parameters=[
            {
                "name": "lumi",
                "auxdata": [1.0],
                "sigmas": [0.1],
                "bounds": [[0.0, 10.0]],
                "inits": [1.0],
            }
        ],
    )


def row5():
    return _model(
        {
            "singlechannel": [
                _sample("signal", [30.0, 95.0], _mu()),
                _sample("background", [100.0, 150.0], _normsys("bkg_norm", 0.9, 1.1)),
            ]
        },
        {"singlechannel": [120.0, 180.0]},
    )


def row6():
    return _model(
        {
            "singlechannel": [
                _sample("signal", [30.0, 95.0], _mu()),
                _sample(
                    "background",
                    [100.0, 150.0],
                    _histosys("bkg_norm", [98.0, 100.0], [102.0, 190.0]),
                ),
            ]
        },
        {"singlechannel": [120.0, 180.0]},
    )


def row7():
    return _model(
        {
            "signal": [
                _sample("signal", [10.0, 35.0], _mu()),
                _sample(
                    "background", [100.0, 150.0], _shapesys("uncorr_bkguncrt_signal", [10.0, 10.0])
                ),
            ],
            "control": [
                _sample(
                    "background", [200.0, 350.0], _shapesys("uncorr_bkguncrt_control", [5.0, 10.0])
                )
            ],
        },
        {"signal": [110.0, 155.0], "control": [205.0, 345.0]},
    )


def row8():
    name = "coupled_normsys"
    return _model(
        {
            "signal": [
                _sample("signal", [10.0, 35.0], _mu()),
                _sample("bkg1", [100.0, 100.0], _normsys(name, 0.9, 1.1)),
                _sample("bkg2", [50.0, 100.0], _normsys(name, 0.5, 1.5)),
            ],
            "control": [_sample("background", [100.0, 100.0], _normsys(name, 0.9, 1.1))],
        },
        {"signal": [105.0, 220.0], "control": [110.0, 105.0]},
    )


def row9():
    name = "coupled_histosys"
    return _model(
        {
            "signal": [
                _sample("signal", [30.0, 35.0], _mu()),
                _sample("bkg1", [100.0, 100.0], _histosys(name, [90.0, 90.0], [110.0, 110.0])),
                _sample("bkg2", [50.0, 120.0], _histosys(name, [45.0, 45.0], [55.0, 55.0])),
            ],
            "control": [
                _sample("bkg1", [105.0, 100.0], _histosys(name, [95.0, 90.0], [110.0, 115.0]))
            ],
        },
        {"signal": [170.0, 220.0], "control": [110.0, 105.0]},
    )


def row10():
    sf = {"name": "coupled_shapefactor", "type": "shapefactor", "data": None}
    return _model(
        {
            "signal": [
                _sample("signal", [20.0, 20.0], _mu()),
                _sample("bkg1", [100.0, 70.0], sf),
            ],
            "control": [_sample("background", [100.0, 100.0], sf)],
        },
        {"signal": [220.0, 230.0], "control": [200.0, 300.0]},
    )


def row11():
    return _model(
        {
            "channel1": [
                _sample("signal", [20.0, 10.0], _mu("SigXsecOverSM")),
                _sample("background1", [100.0, 10.0], _shapesys("syst", [10.0, 0.0])),
            ]
        },
        {"channel1": [100.0, 10.0]},
        poi="SigXsecOverSM",
        parameters=[
            {
                "name": "lumi",
                "auxdata": [1.0],
                "bounds": [[0.5, 1.5]],
                "inits": [1.0],
                "sigmas": [0.1],
            }
        ],
        settings=None,
    )


# Table values (rows 1-10) come from pyhf's default SLSQP fits, which stop short of the
# minimum: pyhf 0.7.6 itself, re-run with scipy_optimizer(tolerance=1e-14), moves them by up
# to the relative "gap" listed per row (3.3e-4 for row 2, 1.2e-4 for row 8, <6e-5 elsewhere).
# hfx's fits reach the minimum, so each row is checked twice: against those converged pyhf
# values at the table's tolerance, and against the table at max(tolerance, 1.5 x gap).
# row: (builder, mu, test stat, table obs, table band, table rtol, gap)
CASES = {
    1: (row1, 1.0, "q", 0.45418892944576333,
        [0.06372011644331387, 0.1509686618126131, 0.3279657430196915, 0.604613569829645,
         0.8662652332047568], 1e-6, 3.4e-5),
    2: (row2, 0.0, "q0", 0.003936883191585841,
        [1.2204714710520103e-05, 0.0006405237426269669, 0.013202867164405075,
         0.11119604157594337, 0.41286079728391695], 3e-4, 3.4e-4),
    4: (row4, 1.0, "q", 0.010473144401519705,
        [0.01060400765567206, 0.04022451457730529, 0.13614632580079802, 0.37078985531427255,
         0.7110468540175344], 4e-6, 4.8e-5),
    5: (row5, 1.0, "q", 0.0006735336290569807,
        [7.472581399417304e-10, 5.741738272450336e-08, 3.690120950161796e-06,
         0.00016966882793076826, 0.004392935288879465], 3e-6, 3e-5),
    6: (row6, 1.0, "q", 0.1001463460725534,
        [7.133904244038431e-06, 0.00012547100627138575, 0.001880010666437615,
         0.02078964907605385, 0.13692494523572218], 8e-5, 6e-5),
    7: (row7, 1.0, "q", 0.0563327694384318,
        [0.0004349234603527283, 0.003422361539161119, 0.02337454317608372,
         0.12186650297311125, 0.40382274594391104], 1e-6, 2.2e-5),
    8: (row8, 1.0, "q", 0.5906216823766879,
        [0.05522270453784095, 0.1361301880753241, 0.30686879632329855, 0.5839437910061168,
         0.8554708284963864], 1e-6, 1.2e-4),
    9: (row9, 1.0, "q", 0.07967400132261188,
        [1.7654378902209275e-05, 0.00026266409358853543, 0.0033401113778672156,
         0.03152286332324451, 0.17907927340107824], 1e-6, 3.6e-5),
    10: (row10, 1.0, "q", 0.5421679124909312,
         [0.013753299929451691, 0.048887400056355966, 0.15555296253957684, 0.4007561343326305,
          0.7357169630955912], 2.5e-6, 1e-7),
}  # fmt: skip

# pyhf 0.7.6, numpy backend, scipy_optimizer(tolerance=1e-14): (obs, band) per row
CONVERGED = {
    1: (
        0.45418652850451413,
        [
            0.06371798121779965, 0.15096501215164623, 0.3279606646793146, 0.6046087011839504,
            0.8662627456514119,
        ],
    ),
    2: (
        0.003936878440203589,
        [
            1.2208770267664714e-05, 0.0006406911186080995, 0.013205408378553909,
            0.11121023525274693, 0.4128899617531745,
        ],
    ),
    4: (
        0.01047282908057491,
        [
            0.010603505954434994, 0.0402230835543757, 0.13614300296772666, 0.37078453928287747,
            0.7110423214486054,
        ],
    ),
    5: (
        0.0006735341308611819,
        [
            7.472799913203738e-10, 5.741881958023563e-08, 3.6901978646223436e-06,
            0.0001696716646732531, 0.004392991047201388,
        ],
    ),
    6: (
        0.10014623464978221,
        [
            7.133994899484361e-06, 0.00012546354735008808, 0.0018799233006447712,
            0.02078894401957171, 0.1369219128512485,
        ],
    ),
    7: (
        0.0563326301783994,
        [
            0.0004349139029902096, 0.003422302251076052, 0.023374243772290512, 0.12186546122132383,
            0.40382081420210986,
        ],
    ),
    8: (
        0.5906276316555424,
        [
            0.05522924848367239, 0.13614192215386964, 0.30688585090917997, 0.5839608695345462,
            0.8554799430957348,
        ],
    ),
    9: (
        0.07967399073788356,
        [
            1.7653746202926074e-05, 0.0002626564440149471, 0.0033400360878108578,
            0.0315223527534728, 0.17907742817135033,
        ],
    ),
    10: (
        0.5421679105239648,
        [
            0.013753298767019974, 0.0488873969652219, 0.15555295584798698, 0.4007561243520019,
            0.7357169551621001,
        ],
    ),
    11: (
        0.00436063441839087,
        [
            2.7021979696732777e-05, 0.00037099917966232604, 0.004360634418347457,
            0.038150315296662476, 0.202030276305107,
        ],
    ),
}  # fmt: skip


@pytest.mark.parametrize("row", sorted(CASES))
def test_g2_asymptotic(row):
    build, mu, stat, obs, exp, rtol, gap = CASES[row]
    model, data = build()
    res = hypotest(model, data, mu, test_stat=stat)
    ours = [res.pvalue, *res.pvalue_expected]
    conv_obs, conv_exp = CONVERGED[row]
    np.testing.assert_allclose(ours, [conv_obs, *conv_exp], rtol=rtol)
    np.testing.assert_allclose(ours, [obs, *exp], rtol=max(rtol, 1.5 * gap))


def test_g2_row11_qtilde_root_values():
    model, data = row11()
    assert model.config.npars == 3  # SigXsecOverSM, syst[0], syst[1] (fixed); lumi unused
    res = hypotest(model, data, 1.0, test_stat="qtilde")
    exp = [2.702197937866914e-05, 0.00037099917612576155, 0.004360634386335687,
           0.03815031509701916, 0.20203027564155074]  # fmt: skip
    np.testing.assert_allclose(res.cls, 0.004360634405484502, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(res.cls_expected, exp, rtol=1e-5, atol=1e-4)
    # the ROOT values are converged: agreement is much closer than the table asks
    np.testing.assert_allclose(
        [res.cls, *res.cls_expected], [CONVERGED[11][0], *CONVERGED[11][1]], rtol=1e-6
    )


def test_g2_row3_toys_within_statistical_uncertainty():
    """q0 with 2000 toys: p0 0.004; expected p0 band [0, 0, 0.0135, 0.1365, 0.39854497].

    Both pyhf's numbers and ours are random draws.  Allowed difference: 4 sigma of the
    difference of two independent 2000-toy estimates.  p0 is a binomial fraction.  A band
    point is the p0 at the Φ(n) quantile of the μ = 1 toys: its spread is the binomial
    spread of p0 plus that of the quantile, sqrt(l(1-l)/N) in level l, times dp/dl =
    φ(z_p)/φ(n) with z_p = Φ⁻¹(1 − p) (slope from the asymptotic band of row 2).
    """
    model, data = row2()
    ntoys = 2000
    res = hypotest(model, data, 0.0, test_stat="q0", calculator="toys", ntoys=ntoys, seed=0)

    def binomial(p):
        p = max(p, 1.0 / ntoys)
        return math.sqrt(p * (1 - p) / ntoys)

    assert abs(res.clsb - 0.004) <= 4 * math.sqrt(2) * binomial(0.004)
    ref = [0.0, 0.0, 0.0135, 0.1365, 0.39854497]
    asymptotic = CASES[2][4]
    for k, n in enumerate((2, 1, 0, -1, -2)):
        level = ndtr(-n)
        slope = norm.pdf(norm.isf(asymptotic[k])) / norm.pdf(n)
        quantile = slope * math.sqrt(level * (1 - level) / ntoys)
        sd = math.hypot(binomial(ref[k]), quantile)
        assert abs(res.clsb_expected[k] - ref[k]) <= 4 * math.sqrt(2) * sd, (k, res.clsb_expected)
