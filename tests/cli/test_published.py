"""Published likelihoods that pyhf reads: configs of absent parameters, background-only files.

A HEPData background-only workspace may still configure parameters of the removed signal
(and names the signal's POI); pyhf ignores such configs.  hfx reads them with one warning.
"""

from __future__ import annotations

import json

import pytest

from hfx.errors import HfxWarning, MissingPOIWarning, ModelError
from hfx.spec.workspace import Workspace
from tests.cli.test_subprocess import hfx
from tests.conftest import ATLAS_WS

BKG = ATLAS_WS / "2018-31_BkgOnlyA.json"
SIGNAL = ATLAS_WS / "2018-31_BkgOnlyA.signal.json"
needs_atlas = pytest.mark.skipif(not BKG.is_file(), reason="../shared/data not present")


def _published(tmp_path):
    """BkgOnlyA whose measurement also configures a parameter no sample has."""
    spec = json.loads(BKG.read_text())
    spec["measurements"][0]["config"]["parameters"].append(
        {"name": "mu_removed_sample", "inits": [1.0], "bounds": [[0.0, 10.0]]}
    )
    path = tmp_path / "published.json"
    path.write_text(json.dumps(spec))
    return path


@needs_atlas
def test_cls_on_a_published_workspace_warns_once_and_succeeds(tmp_path):
    path = _published(tmp_path)
    proc = hfx("cls", path, "--patch", SIGNAL)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.decode().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("hfx: warning: ")
    assert "'mu_removed_sample'" in lines[0]
    assert "measurement 'NormalMeasurement'" in lines[0]
    assert "CLs_obs" in json.loads(proc.stdout)


@needs_atlas
def test_the_ignored_config_changes_no_number(tmp_path):
    import hfx as lib

    patch = json.loads(SIGNAL.read_text())
    plain = Workspace.load(BKG)
    reference = plain.model(patches=[patch])
    published = Workspace.load(_published(tmp_path))
    with pytest.warns(HfxWarning, match="mu_removed_sample"):
        model = published.model(patches=[patch])
    assert model.config.par_order == reference.config.par_order
    ours = lib.hypotest(model, published.data(model), 1.0)
    theirs = lib.hypotest(reference, plain.data(reference), 1.0)
    assert ours.cls == theirs.cls


@needs_atlas
def test_background_only_without_its_patch_says_which_poi_is_missing():
    proc = hfx("cls", BKG)
    assert proc.returncode == 2
    lines = proc.stderr.decode().splitlines()
    assert len(lines) == 1, lines
    line = lines[0]
    assert line.startswith("hfx: error: ")
    assert "'mu_SIG' is missing from the model" in line
    assert "--patch" in line


@needs_atlas
def test_background_only_model_builds_without_a_poi():
    ws = Workspace.load(BKG)
    with pytest.warns(MissingPOIWarning, match="the POI 'mu_SIG' is not a parameter"):
        model = ws.model()
    assert model.config.poi_index is None
    assert model.config.missing_poi == "mu_SIG"


@needs_atlas
def test_fit_on_the_background_only_workspace_warns_once(tmp_path):
    proc = hfx("fit", BKG)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.decode().splitlines()
    assert len(lines) == 1, lines
    assert "the POI 'mu_SIG' is not a parameter of the model" in lines[0]


def test_unknown_parameter_names_the_nearest_not_all():
    from hfx.simplemodels import uncorrelated_background

    model = uncorrelated_background([5.0] * 3, [50.0] * 3, [5.0] * 3)
    with pytest.raises(ModelError) as info:
        model.config.par_slice("MU")
    text = str(info.value)
    assert "did you mean 'mu'?" in text
    assert "2 parameters" in text
