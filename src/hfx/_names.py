"""Short "did you mean" hints for messages about unknown names.

A model can have hundreds of parameters; an error that lists them all is unreadable.
Messages instead name the few nearest matches and how many names there are.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def nearest(name: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """Up to ``n`` of ``candidates`` closest to ``name`` (best first; none when nothing is close).

    A candidate that differs from ``name`` only in letter case always counts as close.
    """
    pool = sorted({str(c) for c in candidates})
    folded = str(name).casefold()
    same_case = [c for c in pool if c.casefold() == folded and c != name]
    close = difflib.get_close_matches(str(name), pool, n=n, cutoff=0.6)
    out = same_case + [c for c in close if c not in same_case]
    return out[:n]


def did_you_mean(
    name: str,
    candidates: Iterable[str],
    noun: str = "parameter",
    owner: str = "the model",
    n: int = 3,
) -> str:
    """Hint text like ``did you mean 'mu_SIG', 'mu_Sig'? (the model has 142 parameters)``.

    Without a close match: ``the model has 142 parameters, none close to 'x'``.
    """
    pool = sorted({str(c) for c in candidates})
    total = f"{len(pool)} {noun}" + ("" if len(pool) == 1 else "s")
    matches = nearest(name, pool, n=n)
    if matches:
        return f"did you mean {', '.join(repr(m) for m in matches)}? ({owner} has {total})"
    if not pool:
        return f"{owner} has no {noun}s"
    return f"{owner} has {total}, none close to {name!r}"
