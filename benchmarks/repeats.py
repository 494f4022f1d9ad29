"""How many times a benchmark case is repeated (standard library only: every runner uses it).

At least ``repeats`` times; fast cases go on until ``min_time_s`` seconds are measured (at
most ``max_repeats``), so millisecond timings are medians of many runs on a noisy machine;
slow cases stop early once ``budget_s`` seconds are spent (the tables say how many ran).
"""

from __future__ import annotations

from typing import Any


def keep_going(times: list[float], case: dict[str, Any]) -> bool:
    """Whether to time ``case`` once more after the runs in ``times``."""
    spent = sum(times)
    if spent > case.get("budget_s", float("inf")):
        return False
    if len(times) < int(case.get("repeats", 3)):
        return True
    return spent < case.get("min_time_s", 0.0) and len(times) < case.get("max_repeats", 50)
