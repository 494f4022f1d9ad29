"""How many times a benchmark case is repeated (standard library only: every runner uses it).

At least ``repeats`` times; fast cases go on until ``min_time_s`` seconds are measured (at
most ``max_repeats``), so millisecond timings are medians of many runs on a noisy machine;
slow cases stop early once ``budget_s`` seconds are spent (the tables say how many ran).

:func:`timed_runs` runs that rule for every tool alike.  A fast case (its first run under
10 ms) is first run untimed for 50 ms: a few hundred microseconds measured right after
something else (another tool's process that just ended, a large build) are otherwise
slowed by the machine settling, and a fast case's 50 timed runs take only milliseconds.
A slow case's first run counts as its first repeat, as before.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

FAST_S = 0.01  # a first run under this: the case is settled before it is timed
SETTLE_S = 0.05  # untimed runs of a fast case for this long first


def timed_runs(work: Callable[[], Any], case: dict[str, Any]) -> tuple[list[float], Any]:
    """The times of repeated runs of ``work`` (as :func:`keep_going` says) and its last
    answer."""
    start = time.perf_counter()
    value = work()
    first = time.perf_counter() - start
    times: list[float] = []
    if first < FAST_S:
        until = time.perf_counter() + SETTLE_S
        while time.perf_counter() < until:
            work()
    else:
        times.append(first)
    while keep_going(times, case):
        start = time.perf_counter()
        value = work()
        times.append(time.perf_counter() - start)
    return times, value


def keep_going(times: list[float], case: dict[str, Any]) -> bool:
    """Whether to time ``case`` once more after the runs in ``times``."""
    spent = sum(times)
    if spent > case.get("budget_s", float("inf")):
        return False
    if len(times) < int(case.get("repeats", 3)):
        return True
    return spent < case.get("min_time_s", 0.0) and len(times) < case.get("max_repeats", 50)
