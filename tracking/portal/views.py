"""What the pages and the JSON API show, composed from the record store's methods.

Both the HTML pages and the API build their content here, so a page's first draw and the
JSON its script polls afterwards always agree.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote
from weakref import WeakKeyDictionary

from tracking.errors import NotFoundError
from tracking.portal.encode import (
    duration_seconds,
    experiment_json,
    file_json,
    iso,
    metric_summary_json,
    model_summary_json,
    model_version_json,
    run_row_json,
)
from tracking.portal.history import HistoryCache, run_histories
from tracking.portal.query import RunQuery, parse_run_query
from tracking.records import (
    ExperimentRecord,
    ExperimentSummary,
    ModelRecord,
    RunOrder,
    RunStatus,
    utcnow,
)
from tracking.stores.base import RecordStore


@dataclass(frozen=True)
class Columns:
    """The metric and param names logged in an experiment."""

    metrics: list[str]
    params: list[str]


def file_url(run_id: str, name: str) -> str:
    """The download route of a run's file (the name keeps its '/' separators)."""
    return f"/api/runs/{quote(run_id, safe='')}/files/{quote(name, safe='/')}"


def experiment_summary(store: RecordStore, name: str) -> ExperimentSummary:
    """The experiment called `name`, with its run count, last activity and best value.

    Reads this one experiment (a few index lookups), not every experiment of the workspace:
    the charts poll it. The last activity is the latest start or end of its runs.

    Raises:
        NotFoundError: no experiment has that name.
    """
    record = store.get_experiment(name)
    by_start = store.search_runs(record.id, order=_BY_START, limit=1)
    latest = [row.run.start_time for row in by_start.rows]
    end = _latest_end(store, record.id)
    if end is not None:
        latest.append(end)
    best = None
    if record.primary_metric is not None:
        found = best_run(store, record, record.primary_metric)
        best = found["value"] if found else None
    return ExperimentSummary(record, by_start.total, max(latest, default=None), best)


_BY_START = RunOrder("field", "start_time", descending=True)
_BY_END = RunOrder("field", "end_time", descending=True)


def _latest_end(store: RecordStore, experiment_id: int) -> datetime | None:
    """The latest end time of the experiment's runs (None: none has ended)."""
    page = store.search_runs(experiment_id, order=_BY_END, limit=1)
    if page.rows and page.rows[0].run.end_time is None:
        # PostgreSQL sorts a missing end (a run not ended) first when descending: skip those.
        skip = running_count(store, experiment_id) + queued_count(store, experiment_id)
        page = store.search_runs(experiment_id, order=_BY_END, limit=1, offset=skip)
    return page.rows[0].run.end_time if page.rows else None


# An experiment's id and name never change (experiments are neither renamed nor deleted),
# so each store's id -> name map is kept, and the record itself read fresh by name.
_NAMES: WeakKeyDictionary[RecordStore, dict[int, str]] = WeakKeyDictionary()
_NAMES_LOCK = threading.Lock()


def experiment_by_id(store: RecordStore, experiment_id: int) -> ExperimentRecord:
    """The experiment with this id.

    The store reads experiments by name only: the first lookup of an id lists the
    experiments once; later ones read the one experiment by its name.

    Raises:
        NotFoundError: no experiment has that id.
    """
    with _NAMES_LOCK:
        name = _NAMES.get(store, {}).get(experiment_id)
    if name is None:
        names = {s.experiment.id: s.experiment.name for s in store.list_experiments()}
        with _NAMES_LOCK:
            _NAMES.setdefault(store, {}).update(names)
        name = names.get(experiment_id)
        if name is None:
            raise NotFoundError(f"no experiment with id {experiment_id}")
    return store.get_experiment(name)


def columns(store: RecordStore, experiment_id: int) -> Columns:
    metrics, params = store.list_columns(experiment_id)
    return Columns(metrics, params)


def run_query(store: RecordStore, experiment_id: int, params: Mapping[str, str]) -> RunQuery:
    cols = columns(store, experiment_id)
    return parse_run_query(params, metrics=cols.metrics, param_names=cols.params)


def runs_page(store: RecordStore, experiment_id: int, query: RunQuery) -> dict[str, Any]:
    """`{"total": N, "runs": [...]}`: one page of the runs table."""
    page = store.search_runs(
        experiment_id,
        order=query.order,
        status=query.status,
        limit=query.limit,
        offset=query.offset,
    )
    now = utcnow()
    return {"total": page.total, "runs": [run_row_json(row, now) for row in page.rows]}


def running_count(store: RecordStore, experiment_id: int) -> int:
    return store.search_runs(experiment_id, status=RunStatus.RUNNING, limit=0).total


def queued_count(store: RecordStore, experiment_id: int) -> int:
    return store.search_runs(experiment_id, status=RunStatus.QUEUED, limit=0).total


def experiment_detail(store: RecordStore, name: str) -> dict[str, Any]:
    """The experiment, its columns and how many of its runs are running and queued."""
    summary = experiment_summary(store, name)
    cols = columns(store, summary.experiment.id)
    return {
        **experiment_json(summary),
        "runningCount": running_count(store, summary.experiment.id),
        "queuedCount": queued_count(store, summary.experiment.id),
        "metrics": cols.metrics,
        "params": cols.params,
    }


# Names that usually score a sweep: the charts open on one of them when the experiment
# names no primary metric (the tutorial logs 'alpha_value' and 'rmse').
_SCORE_NAMES = ("rmse", "loss", "val_loss", "mse", "mae", "accuracy", "acc", "f1", "auc", "r2")


def default_chart_metric(experiment: ExperimentRecord, metrics: list[str]) -> str | None:
    """The metric the charts open on: the primary one, a usual score, or the first."""
    if experiment.primary_metric in metrics:
        return experiment.primary_metric
    return next((m for m in _SCORE_NAMES if m in metrics), metrics[0] if metrics else None)


def best_run(store: RecordStore, experiment: ExperimentRecord, metric: str) -> dict | None:
    """The best run by `metric` (an index lookup), as the chart data's `best` shows it."""
    maximize = default_goal(experiment, metric) == "max"
    run = store.best_run(experiment.id, metric, maximize=maximize)
    if run is None:
        return None
    value = store.get_metric_summaries(run.run_id)[metric].last
    return {"runId": run.run_id, "number": run.number, "value": value}


def default_goal(experiment: ExperimentRecord, metric: str) -> str:
    """'max' if `metric` is the experiment's primary metric and higher wins, else 'min'."""
    return experiment.primary_goal if experiment.primary_metric == metric else "min"


def run_detail(store: RecordStore, run_id: str, histories: HistoryCache) -> dict[str, Any]:
    """A run's details, properties, tags, params, metrics (with histories) and files.

    Each metric logged more than once has a history of at most `HISTORY_POINTS` points;
    `metricHistorySampled` names those that had more values (see `tracking.portal.history`).

    Raises:
        NotFoundError: no run has this id.
    """
    run = store.get_run(run_id)
    experiment = experiment_by_id(store, run.experiment_id)
    summaries = store.get_metric_summaries(run_id)
    counts = {name: s.count for name, s in summaries.items()}
    history, sampled = run_histories(store, run, counts, histories)
    return {
        "runId": run.run_id,
        "number": run.number,
        "displayName": run.display_name or f"Run {run.number}",
        "experimentName": experiment.name,
        "status": run.status.value,
        "startTimeUtc": iso(run.start_time),
        "endTimeUtc": iso(run.end_time),
        "durationSeconds": duration_seconds(run, utcnow()),
        "error": run.error,
        "properties": dict(run.properties),
        "tags": dict(run.tags),
        "params": store.get_params(run_id),
        "metrics": {name: metric_summary_json(s) for name, s in sorted(summaries.items())},
        "metricHistory": history,
        "metricHistorySampled": sampled,
        "values": logged_values(store, run_id),
        "files": [file_json(f, file_url(run_id, f.name)) for f in store.list_files(run_id)],
    }


def logged_values(store: RecordStore, run_id: str) -> dict[str, Any]:
    """The run's values that are not numbers, by name, as the run page shows them."""
    found: dict[str, list[Any]] = {}
    for value in store.get_values(run_id):
        if value.kind != "list":  # a marker, not a value
            found.setdefault(value.name, []).append(value.value)
    return {name: items[0] if len(items) == 1 else items for name, items in found.items()}


def models(store: RecordStore, name: str | None = None) -> dict[str, Any]:
    """`{"models": [...]}`: each registered model's latest version and version count, by
    name; with `name`, only that model, and `"versions"`: each of its versions, newest first."""
    records = store.list_models(name=name or None)
    by_name: dict[str, list[ModelRecord]] = {}
    for record in records:
        by_name.setdefault(record.name, []).append(record)  # newest first within a name
    body: dict[str, Any] = {
        "models": [model_summary_json(versions[0], len(versions)) for versions in by_name.values()]
    }
    if name:
        body["versions"] = [model_version_json(record) for record in records]
    return body
