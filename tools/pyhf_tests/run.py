"""Run pyhf 0.7.6's own test files against hfx's pyhf facade and tabulate the outcome.

Usage (from the repository root, in hfx's venv)::

    python tools/pyhf_tests/run.py --pyhf-source PATH [--output tools/pyhf_tests/RESULTS.md]

PATH is a checkout of pyhf at v0.7.6 (``git clone -b v0.7.6
https://github.com/scikit-hep/pyhf``, or ``git archive v0.7.6`` of a mirror): its ``tests``
and ``validation`` folders are copied into a scratch folder and run with pytest, NumPy
backend and SciPy optimizer only (test ids naming pytorch, tensorflow, jax or
numpy_minuit are deselected), through ``pyhf_shim.py``, which only aliases ``pyhf`` to
``hfx.compat.pyhf``.
Tests of pyhf internals are counted apart, each with its reason (``excluded.py``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from excluded import converged, differs, reason_for  # noqa: E402

FILES = (
    "test_workspace.py",
    "test_patchset.py",
    "test_simplemodels.py",
    "test_infer.py",
    "test_validation.py",
    "test_pdf.py",
    "test_modifiers.py",
    "test_interpolate.py",
    "test_optim.py",
    "test_calculator.py",
    "test_teststats.py",
    "test_schema.py",
)

PYTEST_INI = """[pytest]
xfail_strict = true
markers =
{markers}
filterwarnings =
    error
    ignore::DeprecationWarning
    ignore:invalid value encountered in (true_)?divide:RuntimeWarning
    ignore:invalid value encountered in add:RuntimeWarning
    ignore:divide by zero encountered in (true_)?divide:RuntimeWarning
"""
BACKENDS = ("jax", "numpy", "numpy_minuit", "pytorch", "pytorch64", "tensorflow")
MARKERS = tuple(f"{kind}_{b}" for kind in ("fail", "only", "skip") for b in BACKENDS)


# pyhf's test_optim.py imports three private names at module level, so as shipped it does
# not import.  A copy with those three imports set to None is run as well (its tests that
# use them are pyhf internals, see excluded.py); the original is reported as it is.
PRIVATE_IMPORTS = (
    "from pyhf.optimize.mixins import OptimizerMixin",
    "from pyhf.optimize.common import _get_tensor_shim, _make_stitch_pars",
    "from pyhf.tensor.common import _TensorViewer",
)


def public_copy(test_file: Path) -> Path:
    """``test_x.py`` -> ``test_x_public.py`` with PRIVATE_IMPORTS bound to None."""
    text = test_file.read_text(encoding="utf-8")
    for line in PRIVATE_IMPORTS:
        names = line.split(" import ")[1]
        text = text.replace(line, f"{names} = {', '.join('None' for _ in names.split(','))}")
    target = test_file.with_name(test_file.stem + "_public.py")
    target.write_text(text, encoding="utf-8")
    return target


def run(source: Path, files: tuple[str, ...], scratch: Path) -> Path:
    shutil.copytree(source / "tests", scratch / "tests")
    if "test_optim.py" in files:
        public_copy(scratch / "tests" / "test_optim.py")
    if (source / "validation").is_dir():
        shutil.copytree(source / "validation", scratch / "validation")
    markers = "\n".join(f"    {m}" for m in MARKERS)
    (scratch / "pytest.ini").write_text(PYTEST_INI.format(markers=markers))
    report = scratch / "report.xml"
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(filter(None, (str(HERE), os.environ.get("PYTHONPATH")))),
    )
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "pyhf_shim",
        "-q",
        "-p",
        "no:cacheprovider",
        "--continue-on-collection-errors",
        "-k",
        "not pytorch and not tensorflow and not jax and not numpy_minuit",
        f"--junitxml={report}",
        "-o",
        "junit_family=xunit2",
        *(f"tests/{name}" for name in files),
        *(["tests/test_optim_public.py"] if "test_optim.py" in files else []),
    ]
    subprocess.run(command, cwd=scratch, env=env, check=False)
    return report


def outcomes(report: Path) -> list[tuple[str, str, str]]:
    """(file, test id, outcome) for every test case in a JUnit report."""
    rows = []
    for case in ET.parse(report).getroot().iter("testcase"):
        classname, name = case.get("classname", ""), case.get("name", "")
        kinds = {child.tag for child in case}
        if not classname and name.startswith("tests."):  # the file itself failed to import
            module = name.split(".")[1]
            rows.append((f"{module}.py", f"{module}.py", "import error"))
            continue
        module = classname.split(".")[1] if classname.startswith("tests.") else classname
        nodeid = f"{module}.py::{name}"
        if "failure" in kinds or "error" in kinds:
            outcome = "failed"
        elif "skipped" in kinds:
            outcome = "skipped"
        else:
            outcome = "passed"
        rows.append((f"{module}.py", nodeid, outcome))
    return rows


def category(nodeid: str, outcome: str) -> str:
    """passed, failed, differs (on purpose), converged (pinned loose number), internal,
    skipped or import error."""
    if outcome in ("skipped", "import error") and reason_for(nodeid) is None:
        return outcome
    if reason_for(nodeid) is not None:
        return "internal"
    if outcome == "passed":
        return "passed"
    if differs(nodeid) is not None:
        return "differs"
    if converged(nodeid) is not None:
        return "converged"
    return "failed"


COLUMNS = ("passed", "failed", "differs", "converged", "skipped", "internal")


def table(rows: list[tuple[str, str, str]], files: tuple[str, ...]) -> str:
    lines = [
        "| file | passed | failed | differs on purpose | pinned loose number | skipped "
        "| pyhf internals | pass rate (public API) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    total: Counter[str] = Counter()
    for name in files:
        count = Counter(category(n, o) for f, n, o in rows if f == name)
        total.update(count)
        lines.append(_row(name, count))
    lines.append(_row("**all**", total))
    return "\n".join(lines)


def _row(name: str, count: Counter[str]) -> str:
    public = sum(count[c] for c in ("passed", "failed", "differs", "converged"))
    rate = f"{100 * count['passed'] / public:.1f}%" if public else "–"
    if count["import error"]:
        rate = "does not import"
    cells = " | ".join(str(count[c]) for c in COLUMNS)
    return f"| {name} | {cells} | {rate} |"


def report(rows: list[tuple[str, str, str]], files: tuple[str, ...]) -> str:
    text = [table(rows, files), ""]
    sections = (
        ("failed", "Failing tests of pyhf's public API", lambda n: ""),
        ("differs", "Public-API tests where hfx differs on purpose", differs),
        ("converged", "Public-API tests that pin pyhf's loosely converged numbers", converged),
        ("internal", "Tests of pyhf internals (not counted)", reason_for),
    )
    for kind, title, why in sections:
        ids = sorted({n for _, n, o in rows if category(n, o) == kind})
        text.append(f"## {title} ({len(ids)})\n")
        text.extend(f"- `{n}`" + (f": {why(n)}" if why(n) else "") for n in ids)
        text.append("")
    return "\n".join(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pyhf-source", type=Path, required=True)
    parser.add_argument("--output", type=Path, default=None)
    parser.add_argument("--files", nargs="*", default=list(FILES))
    args = parser.parse_args()
    files = tuple(args.files)
    if "test_optim.py" in files:
        files = (*files, "test_optim_public.py")
    with tempfile.TemporaryDirectory(prefix="pyhf-tests-") as tmp:
        rows = outcomes(run(args.pyhf_source, files, Path(tmp)))
    text = report(rows, files)
    print(text)
    if args.output:
        args.output.write_text(text + "\n")


if __name__ == "__main__":
    main()
