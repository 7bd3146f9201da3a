"""A run's metric histories, sampled to a bounded number of points per request.

A run may log a metric hundreds of thousands of times. The run page and `GET /api/runs/{id}`
carry at most `HISTORY_POINTS` points of each metric: when there are more values, the steps
are cut into even stretches and each stretch keeps its least and greatest value (so spikes
survive), the first and last values are always kept, and the metric is flagged as sampled.
`GET /api/runs/{id}/history` gives a metric (or all) over a range of steps, in full up to
`MAX_HISTORY_POINTS` values, sampled the same way beyond.

The record store reads a run's whole history at once (it has no read by metric or by step),
so the portal keeps the histories of finished runs (which never change) compactly, in a
cache bounded by values, and reads long histories one at a time: N requests for a long run
cost one read, not N.
"""

from __future__ import annotations

import math
import threading
from array import array
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tracking.portal.encode import number
from tracking.portal.query import (
    HISTORY_POINTS,
    MAX_HISTORY_POINTS,
    HistoryQuery,
    parse_history_query,
)
from tracking.records import RunRecord
from tracking.stores.base import RecordStore

CACHE_VALUES = 2_000_000  # values kept for finished runs: 16 bytes each, ~32 MiB
LONG_READ = 50_000  # a run with more values than this is read by one request at a time


@dataclass(frozen=True)
class Series:
    """One metric's values in step order: steps as 64-bit integers, values as doubles."""

    steps: array
    values: array

    def __len__(self) -> int:
        return len(self.steps)


_EMPTY = Series(array("q"), array("d"))


@dataclass(frozen=True)
class Sample:
    """The points chosen from a range of a series."""

    points: list[list[Any]]  # [step, value], JSON-safe, in step order
    in_range: int  # values in the range asked for
    sampled: bool  # True if `points` leaves some of them out


def _extremes(values: array, lo: int, hi: int) -> list[int]:
    """The indices of the least and greatest finite value in values[lo:hi] (or lo)."""
    chunk = values[lo:hi]
    finite = [v for v in chunk if math.isfinite(v)]
    if not finite:
        return [lo]  # NaN or infinite throughout: one of them shows the gap
    low, high = lo + chunk.index(min(finite)), lo + chunk.index(max(finite))
    return sorted({low, high})


def sample(
    series: Series, max_points: int, start: int | None = None, end: int | None = None
) -> Sample:
    """The values of `series` with steps from `start` to `end` (inclusive), at most
    `max_points` (>= 4) of them: all if they fit, else the first, the last, and the least
    and greatest of each of (max_points - 2) // 2 even stretches between them."""
    lo = 0 if start is None else bisect_left(series.steps, start)
    hi = len(series) if end is None else bisect_right(series.steps, end)
    count = max(0, hi - lo)
    if count <= max_points:
        chosen: list[int] | range = range(lo, lo + count)
    else:
        stretches = (max_points - 2) // 2
        inner = count - 2
        chosen = [lo]
        for k in range(stretches):
            first = lo + 1 + k * inner // stretches
            after = lo + 1 + (k + 1) * inner // stretches
            chosen += _extremes(series.values, first, after)
        chosen.append(hi - 1)
    steps, values = series.steps, series.values
    points = [[steps[i], v if math.isfinite(v := values[i]) else number(v)] for i in chosen]
    return Sample(points, count, count > max_points)


def _read(store: RecordStore, run_id: str) -> dict[str, Series]:
    histories: dict[str, Series] = {}
    for value in store.get_metric_history(run_id):  # by name, then step
        series = histories.get(value.name)
        if series is None:
            series = histories[value.name] = Series(array("q"), array("d"))
        series.steps.append(value.step)
        series.values.append(value.value)
    return histories


class HistoryCache:
    """Histories of finished runs, least recently used out, at most `size` values in all."""

    def __init__(self, size: int = CACHE_VALUES) -> None:
        self._size = size
        self._held = 0
        self._entries: OrderedDict[str, tuple[int, dict[str, Series]]] = OrderedDict()
        self._lock = threading.Lock()
        self._long_read = threading.Lock()

    def _get(self, run_id: str) -> dict[str, Series] | None:
        with self._lock:
            entry = self._entries.get(run_id)
            if entry is None:
                return None
            self._entries.move_to_end(run_id)
            return entry[1]

    def _put(self, run_id: str, histories: dict[str, Series], values: int) -> None:
        if values > self._size:
            return
        with self._lock:
            if run_id in self._entries:
                return
            self._entries[run_id] = (values, histories)
            self._held += values
            while self._held > self._size:
                _, (dropped, _) = self._entries.popitem(last=False)
                self._held -= dropped

    def histories(self, store: RecordStore, run: RunRecord, values: int) -> dict[str, Series]:
        """Every metric's series of `run`, which has `values` values in all.

        A finished run's are kept; a long history is read by one request at a time, so
        that requests for it wait for the first one's read instead of each making its own.
        """
        found = self._get(run.run_id)
        if found is not None:
            return found
        if values <= LONG_READ:
            found = _read(store, run.run_id)
        else:
            with self._long_read:
                found = self._get(run.run_id) or _read(store, run.run_id)
        if run.status.is_terminal:
            self._put(run.run_id, found, values)
        return found


def run_histories(
    store: RecordStore, run: RunRecord, counts: Mapping[str, int], cache: HistoryCache
) -> tuple[dict[str, list[list[Any]]], list[str]]:
    """The run page's charts: each metric logged more than once, at most `HISTORY_POINTS`
    points each, and the names of those sampled."""
    charted = sorted(name for name, count in counts.items() if count > 1)
    if not charted:
        return {}, []
    histories = cache.histories(store, run, sum(counts.values()))
    points: dict[str, list[list[Any]]] = {}
    sampled: list[str] = []
    for name in charted:
        chosen = sample(histories.get(name, _EMPTY), HISTORY_POINTS)
        points[name] = chosen.points
        if chosen.sampled:
            sampled.append(name)
    return points, sampled


def metric_history(
    store: RecordStore, run_id: str, params: Mapping[str, str], cache: HistoryCache
) -> dict[str, Any]:
    """A run's metrics (or the one `metric` names) over a range of steps, as
    `GET /api/runs/{id}/history` gives them: at most `max_points` values per metric, and
    `MAX_HISTORY_POINTS` in all (shared evenly when several metrics are asked for).

    Raises:
        NotFoundError: no run has this id.
        ValidationError: an unknown metric, or a bad range or max_points.
    """
    run = store.get_run(run_id)
    counts = {name: s.count for name, s in store.get_metric_summaries(run_id).items()}
    query: HistoryQuery = parse_history_query(params, metrics=sorted(counts))
    names = [query.metric] if query.metric else sorted(counts)
    each = max(4, min(query.max_points, MAX_HISTORY_POINTS // max(1, len(names))))
    histories = cache.histories(store, run, sum(counts.values())) if names else {}
    metrics = {}
    for name in names:
        chosen = sample(histories.get(name, _EMPTY), each, query.start, query.end)
        metrics[name] = {
            "count": counts[name],
            "inRange": chosen.in_range,
            "sampled": chosen.sampled,
            "points": chosen.points,
        }
    return {"runId": run.run_id, "start": query.start, "end": query.end, "metrics": metrics}
