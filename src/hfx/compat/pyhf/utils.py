"""pyhf's ``utils``: the workspace digest and the citation."""

from __future__ import annotations

from typing import Any

from hfx.spec.operations import digest as _digest

__all__ = ["citation", "digest"]


def digest(obj: Any, algorithm: str = "sha256") -> str:
    """Hex digest of the canonical JSON form of ``obj`` (pyhf's ``utils.digest``)."""
    return _digest(obj, algorithm=algorithm)


_CITATION = """@software{pyhf,
  author = {Lukas Heinrich and Matthew Feickert and Giordon Stark},
  title = "{pyhf: v0.7.6}",
  version = {0.7.6},
  doi = {10.5281/zenodo.1169739},
  url = {https://doi.org/10.5281/zenodo.1169739},
}

@article{pyhf_joss,
  author = {Lukas Heinrich and Matthew Feickert and Giordon Stark and Kyle Cranmer},
  title = {pyhf: pure-Python implementation of HistFactory statistical models},
  journal = {Journal of Open Source Software},
  volume = {6},
  number = {58},
  pages = {2823},
  year = {2021},
  doi = {10.21105/joss.02823},
}
"""


def citation(oneline: bool = False) -> str:
    """BibTeX for pyhf, whose API and JSON format the facade follows (``oneline=True``:
    without line breaks)."""
    if oneline:
        return "".join(line.strip() for line in _CITATION.splitlines())
    return _CITATION.rstrip("\n")
