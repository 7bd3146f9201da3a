"""What the benchmarks share: the alphas, the runs' values, timing, and progress lines."""

from __future__ import annotations

import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from itertools import pairwise
from typing import Any

_STARTED = time.perf_counter()

EXPERIMENT = "bench"


def alphas(n: int) -> list[float]:
    """`n` distinct Ridge alphas: 0.001, 0.002, ..."""
    return [round(0.001 * (i + 1), 6) for i in range(n)]


def run_values(number: int) -> tuple[dict[str, float], dict[str, float]]:
    """The params (alpha, l1_ratio) and metrics (rmse, mae, r2) of synthetic run `number`.

    A function of the number alone, so every store holds the same values for the same run.
    """
    rng = random.Random(number)
    alpha = rng.uniform(0, 10)
    params = {"alpha": round(alpha, 4), "l1_ratio": round(rng.random(), 3)}
    metrics = {
        "rmse": 50 + (alpha - 4) ** 2 + rng.random() * 5,
        "mae": 40 + rng.random() * 5,
        "r2": rng.random(),
    }
    return params, metrics


def progress(message: str) -> None:
    """One progress line on stderr, with the seconds since the benchmark started."""
    print(f"[{time.perf_counter() - _STARTED:7.1f} s] {message}", file=sys.stderr, flush=True)


def seconds(call: Callable[[], Any]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def median(values: Sequence[float | None]) -> float | None:
    """The median of the values, or None when any is missing (a contender that could not run)."""
    if not values or any(v is None for v in values):
        return None
    return statistics.median(v for v in values if v is not None)


def median_ms(call: Callable[[], object], repeat: int, *, warm: bool = True) -> float:
    """The median milliseconds of `repeat` calls, after one untimed warm-up call."""
    if warm:
        call()  # the database's pages in the OS cache, as on a store in use
    return statistics.median(1000 * seconds(call) for _ in range(repeat))


def chunks(first: int, last: int, count: int = 3) -> list[tuple[int, int]]:
    """`[first, last)` cut into `count` nearly equal consecutive ranges (none empty)."""
    count = max(1, min(count, last - first))
    return list(pairwise(first + (last - first) * k // count for k in range(count + 1)))
