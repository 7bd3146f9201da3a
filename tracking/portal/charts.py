"""The experiment charts' data: each run's last value of a metric, and a cache of it.

At 100,000 runs the data is 100,000 points, so it travels in columns and, once no run of the
experiment is running, is kept encoded: a finished run's metrics and params never change
(the store refuses writes to it), so such an experiment's charts change only when a run is
created or finishes, and either changes its run count or last activity.
"""

from __future__ import annotations

import json
import math
import threading
from collections import OrderedDict
from collections.abc import Hashable, Mapping
from typing import Any

from tracking.portal.encode import number
from tracking.portal.query import ChartQuery, parse_chart_query
from tracking.portal.views import (
    columns,
    default_goal,
    experiment_summary,
    queued_count,
    running_count,
)
from tracking.records import ExperimentRecord
from tracking.stores.base import RecordStore


def chart_query(store: RecordStore, experiment_id: int, params: Mapping[str, str]) -> ChartQuery:
    cols = columns(store, experiment_id)
    return parse_chart_query(params, metrics=cols.metrics, param_names=cols.params)


def _finite_or_none(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def chart_data(
    store: RecordStore, experiment: ExperimentRecord, query: ChartQuery
) -> dict[str, Any]:
    """Each run that logged the metric, by run number, in columns of JSON-safe values.

    `x` is the param's (or the other metric's) value when it is a finite number, else null
    (empty when the chart has no x); `best` is the run with the least finite value, or the
    greatest if the goal is 'max' (by default the experiment's goal for its primary metric).
    """
    goal = query.goal or default_goal(experiment, query.metric)
    best = store.best_run(experiment.id, query.metric, maximize=goal == "max")
    # A chart of more runs than max_points draws every k-th run (and the best): the points
    # then cost the same at 100,000 runs as at 10,000, and the eye loses nothing.
    total = experiment_summary(store, experiment.name).run_count
    every = max(1, math.ceil(total / query.max_points))
    series = store.chart_series(
        experiment.id,
        query.metric,
        x_param=query.param,
        x_metric=query.xmetric,
        every=every,
        also=best.number if best else None,
    )
    return {
        "metric": query.metric,
        "param": query.param,
        "xmetric": query.xmetric,
        "goal": goal,
        "every": every,
        "runs": total,
        "number": series.numbers,
        "x": [_finite_or_none(x) for x in series.x],
        "y": [y if math.isfinite(y) else number(y) for y in series.y],
        "best": None
        if best is None
        else {
            "runId": best.run_id,
            "number": best.number,
            "value": series.y[series.numbers.index(best.number)],
        },
    }


class ChartCache:
    """Encoded chart data of experiments that have no running run, least recently used out.

    Args:
        size: how many charts to keep.
    """

    def __init__(self, size: int = 16) -> None:
        self._size = size
        self._entries: OrderedDict[Hashable, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> bytes | None:
        with self._lock:
            body = self._entries.get(key)
            if body is not None:
                self._entries.move_to_end(key)
            return body

    def put(self, key: Hashable, body: bytes) -> None:
        with self._lock:
            self._entries[key] = body
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)


def _state(store: RecordStore, name: str) -> Hashable | None:
    """What the chart data of the experiment depends on, or None while a run is running
    or queued."""
    summary = experiment_summary(store, name)
    record = summary.experiment
    if running_count(store, record.id) or queued_count(store, record.id):
        return None
    return (
        record.id,
        summary.run_count,
        summary.last_activity,
        record.primary_metric,
        record.primary_goal,
    )


def chart_json(
    store: RecordStore, name: str, params: Mapping[str, str], cache: ChartCache
) -> bytes:
    """The chart data of experiment `name` for the query `params`, as JSON.

    Raises:
        NotFoundError: no experiment has that name.
        ValidationError: the query names an unknown metric or param, or a bad goal.
    """
    experiment = store.get_experiment(name)
    query = chart_query(store, experiment.id, params)
    before = _state(store, name)
    key = (before, query)
    if before is not None and (body := cache.get(key)) is not None:
        return body
    data = chart_data(store, experiment, query)
    body = json.dumps(data, allow_nan=False, separators=(",", ":")).encode()
    # Kept only if nothing changed while it was read.
    if before is not None and _state(store, name) == before:
        cache.put(key, body)
    return body
