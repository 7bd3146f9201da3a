"""Records as JSON: times as ISO strings, non-finite numbers as strings, frozen maps as dicts.

JSON has no NaN or infinity, and a metric may be logged as either: they travel as the strings
"NaN", "Infinity" and "-Infinity" (what JavaScript's `Number()` reads back), so every
response is strict JSON.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from starlette.responses import JSONResponse

from tracking.records import (
    ExperimentSummary,
    FileRecord,
    MetricSummary,
    ModelRecord,
    RunRecord,
    RunRow,
    RunStatus,
)


def iso(moment: datetime | None) -> str | None:
    """A UTC time as '2024-05-01T12:00:03.123456Z'."""
    if moment is None:
        return None
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def number(value: float | None) -> float | str | None:
    """A float that JSON can carry: NaN and infinities become strings."""
    if value is None or not isinstance(value, float) or math.isfinite(value):
        return value
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def jsonable(value: Any) -> Any:
    """`value` with every nested float made JSON-safe and every mapping a dict."""
    if isinstance(value, float):
        return number(value)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime):
        return iso(value)
    return value


class PortalJSONResponse(JSONResponse):
    """Strict JSON (no NaN), never cached: the records change while a sweep runs."""

    def __init__(self, content: Any, status_code: int = 200) -> None:
        super().__init__(content, status_code, headers={"Cache-Control": "no-store"})

    def render(self, content: Any) -> bytes:
        return json.dumps(jsonable(content), allow_nan=False, separators=(",", ":")).encode()


def duration_seconds(run: RunRecord, now: datetime) -> float | None:
    """How long the run took, or has been running so far; None while it is queued."""
    if run.status is RunStatus.QUEUED:
        return None
    return max(0.0, ((run.end_time or now) - run.start_time).total_seconds())


def experiment_json(summary: ExperimentSummary) -> dict[str, Any]:
    record = summary.experiment
    return {
        "name": record.name,
        "runCount": summary.run_count,
        "createdUtc": iso(record.created_at),
        "lastActivityUtc": iso(summary.last_activity),
        "primaryMetric": record.primary_metric,
        "primaryGoal": record.primary_goal,
        "bestValue": summary.best_value,
    }


def run_row_json(row: RunRow, now: datetime) -> dict[str, Any]:
    """A row of the runs table."""
    run = row.run
    return {
        "runId": run.run_id,
        "number": run.number,
        "displayName": run.display_name,
        "status": run.status.value,
        "runType": run.run_type,
        "startTimeUtc": iso(run.start_time),
        "endTimeUtc": iso(run.end_time),
        "durationSeconds": duration_seconds(run, now),
        "params": dict(row.params),
        "metrics": dict(row.metrics),
    }


def metric_summary_json(summary: MetricSummary) -> dict[str, Any]:
    return {"last": summary.last, "min": summary.min, "max": summary.max, "count": summary.count}


def file_json(record: FileRecord, download_url: str) -> dict[str, Any]:
    return {
        "name": record.name,
        "size": record.size,
        "sha256": record.sha256,
        "createdUtc": iso(record.created_at),
        "url": download_url,
    }


def model_version_json(record: ModelRecord) -> dict[str, Any]:
    """A version of a registered model, with its files (no storage locations)."""
    return {
        "name": record.name,
        "version": record.version,
        "runId": record.run_id,
        "path": record.path,
        "description": record.description,
        "createdUtc": iso(record.created_at),
        "tags": dict(record.tags),
        "properties": dict(record.properties),
        "files": [{"path": f.path, "size": f.size, "sha256": f.sha256} for f in record.files],
    }


def model_summary_json(latest: ModelRecord, version_count: int) -> dict[str, Any]:
    """A registered model as the models list shows it: its latest version and how many."""
    return {
        "name": latest.name,
        "latestVersion": latest.version,
        "versionCount": version_count,
        "runId": latest.run_id,
        "description": latest.description,
        "createdUtc": iso(latest.created_at),
    }
