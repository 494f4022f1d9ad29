"""hfx.infer on the shared ATLAS workspaces against the pyhf 0.7.6 references.

For every workspace whose reference file has them (2019-09 has none): CLs observed and
expected at μ = 1 within 2e-3 relative, upper limits (toms748) observed and expected
within 5e-3, and our unconditional minimum never above pyhf's (2NLL ≤ ref + 1e-3).
"""

from __future__ import annotations

import numpy as np
import pytest

from hfx.infer import hypotest, upper_limit
from hfx.optimize import fit
from tests.conftest import ATLAS_NAMES, load_atlas, needs_shared
from tests.likelihood.helpers import atlas_model

pytestmark = needs_shared()

KEYS = ("cls_mu1_obs", "cls_mu1_exp", "upper_limit_obs", "upper_limit_exp", "mle_twice_nll")


def _with_refs() -> list[str]:
    names = []
    for name in ATLAS_NAMES:
        _, _, ref = load_atlas(name)
        if all(k in ref for k in KEYS):
            names.append(name)
    return names


NAMES = _with_refs() if ATLAS_NAMES else []


@pytest.fixture(scope="module", params=NAMES)
def atlas(request):
    return atlas_model(request.param)


def test_references_present():
    assert len(NAMES) >= 5, NAMES


def test_cls_at_mu1(atlas):
    model, data, ref = atlas
    res = hypotest(model, data, 1.0, test_stat="qtilde")
    np.testing.assert_allclose(res.cls, ref["cls_mu1_obs"], rtol=2e-3)
    np.testing.assert_allclose(res.cls_expected, ref["cls_mu1_exp"], rtol=2e-3)


def test_upper_limits(atlas):
    model, data, ref = atlas
    res = upper_limit(model, data, rtol=1e-6)
    np.testing.assert_allclose(res.obs, ref["upper_limit_obs"], rtol=5e-3)
    np.testing.assert_allclose(res.exp, ref["upper_limit_exp"], rtol=5e-3)


def test_mle_not_worse_than_pyhf(atlas):
    model, data, ref = atlas
    res = fit(model, data, uncertainties=False)
    assert res.twice_nll <= ref["mle_twice_nll"] + 1e-3
