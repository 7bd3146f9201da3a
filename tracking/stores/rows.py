"""Rows of the record store's tables, built in Python: pure functions shared by the
per-run writes and the bulk `record_runs`."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from tracking.records import MetricItem, NewRun, RunRecord, is_finite


def aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


def split_value(value: float) -> tuple[float | None, str | None]:
    """A metric value as (finite value, special spelling) for the two columns."""
    if is_finite(value):
        return value, None
    return None, "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")


def join_value(value: float | None, special: str | None) -> float:
    return float(special) if special is not None else float(value)  # type: ignore[arg-type]


def param_columns(value: Any) -> tuple[str, float | None]:
    number = None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and is_finite(value):
        number = float(value)
    return json.dumps(value, sort_keys=True, default=str), number


def new_summary(run_id: str, name: str, experiment_id: int, number: int) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "name": name,
        "experiment_id": experiment_id,
        "number": number,
        "min": None,
        "max": None,
        "count": 0,
    }


def fold_metrics(
    run_id: str,
    values: Sequence[MetricItem],
    summaries: dict[str, dict[str, Any]],
    timestamp: datetime,
) -> list[dict[str, Any]]:
    """The metric rows of `values`, each at the next step of its name and at its own time
    (else `timestamp`), updating `summaries`."""
    rows = []
    for name, value, *logged_at in values:
        summary = summaries[name]
        finite, special = split_value(value)
        rows.append(
            {
                "run_id": run_id,
                "name": name,
                "step": summary["count"],
                "value": finite,
                "special": special,
                "timestamp": logged_at[0] if logged_at else timestamp,
            }
        )
        summary.update(last=finite, last_special=special, count=summary["count"] + 1)
        if finite is not None:
            summary["min"] = finite if summary["min"] is None else min(summary["min"], finite)
            summary["max"] = finite if summary["max"] is None else max(summary["max"], finite)
    return rows


def rows_of(
    experiment_id: int, number: int, run: NewRun, rows: dict[str, list[dict[str, Any]]]
) -> None:
    """Add the rows that record `run` (numbered `number`) to `rows`, by table."""
    rows["runs"].append(
        {
            "run_id": run.run_id,
            "experiment_id": experiment_id,
            "number": number,
            "status": run.status.value,
            "display_name": run.display_name,
            "start_time": run.start_time,
            "end_time": run.end_time,
            "error": run.error,
            "heartbeat_at": run.start_time,
            "parent_run_id": run.parent_run_id,
            "run_type": run.run_type,
        }
    )
    rows["run_properties"].extend(
        {"run_id": run.run_id, "key": k, "value": str(v), "experiment_id": experiment_id}
        for k, v in run.properties.items()
    )
    rows["run_tags"].extend(
        {"run_id": run.run_id, "key": k, "value": str(v)} for k, v in run.tags.items()
    )
    for key, value in run.params.items():
        text, numeric = param_columns(value)
        rows["params"].append(
            {
                "run_id": run.run_id,
                "key": key,
                "experiment_id": experiment_id,
                "value_json": text,
                "value_num": numeric,
                "number": number,
            }
        )
    summaries = {
        name: new_summary(run.run_id, name, experiment_id, number)
        for name in {name for name, _ in run.metrics}
    }
    stamp = run.end_time or run.start_time
    rows["metrics"].extend(fold_metrics(run.run_id, run.metrics, summaries, stamp))
    rows["summaries"].extend(summaries.values())


def record_of(experiment_id: int, number: int, run: NewRun) -> RunRecord:
    return RunRecord(
        run_id=run.run_id,
        experiment_id=experiment_id,
        number=number,
        status=run.status,
        start_time=run.start_time,
        end_time=run.end_time,
        display_name=run.display_name,
        error=run.error,
        properties={k: str(v) for k, v in run.properties.items()},
        tags={k: str(v) for k, v in run.tags.items()},
        parent_run_id=run.parent_run_id,
        run_type=run.run_type,
    )
