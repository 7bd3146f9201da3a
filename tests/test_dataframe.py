"""`Experiment.to_dataframe`: a store's run table laid out in MLflow's columns."""

from __future__ import annotations

import math
from datetime import datetime, timezone
from pathlib import Path

import pytest

from tracking import Experiment, Workspace
from tracking.frame import RUN_COLUMNS, run_frame
from tracking.records import NewRun, RunStatus, RunTable, TableColumn, utcnow


def _nan(values: list[object]) -> list[object]:
    """The values, NaN and NaT as None (which compare)."""
    return [None if v is None or v != v else v for v in values]


def test_every_kind_of_value_has_its_column(tracking_uri: str, tmp_path: Path) -> None:
    ws = Workspace("w", tracking_uri=tracking_uri, storage_uri=str(tmp_path / "storage"))
    experiment_id = ws.records.get_or_create_experiment("exp").id
    now = utcnow().replace(microsecond=123456)
    ws.records.record_runs(
        experiment_id,
        [
            NewRun(
                "a",
                now,
                params={"alpha": 0.5, "solver": "auto"},
                metrics=(("rmse", 1.5), ("r2", math.inf)),
                properties={"host": "h"},
                tags={"team": "ml"},
                status=RunStatus.COMPLETED,
                end_time=now,
            ),
            NewRun("b", now, params={"alpha": 2}, metrics=(("rmse", math.nan),), parent_run_id="a"),
            NewRun("c", now, metrics=(("rmse", 3.0),)),
        ],
    )
    frame = Experiment(ws, "exp").to_dataframe()
    assert tuple(frame.columns) == (
        *RUN_COLUMNS,
        "params.alpha",
        "params.solver",
        "metrics.r2",
        "metrics.rmse",
        "tags.team",
        "properties.host",
    )
    assert frame["run_id"].tolist() == ["a", "b", "c"] and frame["number"].tolist() == [1, 2, 3]
    assert str(frame["start_time"].dtype) == "datetime64[us, UTC]"
    assert frame["start_time"].tolist() == [now] * 3
    assert _nan(frame["end_time"].tolist()) == [now, None, None]
    assert _nan(frame["parent_run_id"].tolist()) == [None, "a", None]
    assert frame["params.alpha"].dtype == "float64"  # a number, beside a text param
    assert _nan(frame["params.alpha"].tolist()) == [0.5, 2.0, None]
    assert _nan(frame["params.solver"].tolist()) == ["auto", None, None]
    assert _nan(frame["metrics.r2"].tolist()) == [math.inf, None, None]
    assert _nan(frame["metrics.rmse"].tolist()) == [1.5, None, 3.0]
    assert _nan(frame["tags.team"].tolist()) == ["ml", None, None]
    assert _nan(frame["properties.host"].tolist()) == ["h", None, None]
    top = Experiment(ws, "exp").to_dataframe(include_children=False)
    assert top["run_id"].tolist() == ["a", "c"]
    ws.close()


def test_values_in_any_order_find_their_runs() -> None:
    when = datetime(2026, 1, 1, tzinfo=timezone.utc)  # as PostgreSQL gives times
    runs = tuple(
        (f"r{n}", n, "Completed", when, None, None, "azureml.scriptrun") for n in (1, 2, 3)
    )
    table = RunTable(
        runs=runs,
        params=(),
        # Out of name order, a run missing, and a run written after the runs were read (9).
        metrics=(
            TableColumn("n", (1, 2), (1.0, 2.0)),
            TableColumn("m", (1, 3, 9), (1.0, 3.0, 9.0)),
        ),
        tags=(("r2", "t", "x"), ("r9", "t", "y")),
        properties=(),
    )
    frame = run_frame(table)
    assert _nan(frame["metrics.m"].tolist()) == [1.0, None, 3.0]
    assert _nan(frame["metrics.n"].tolist()) == [1.0, 2.0, None]
    assert _nan(frame["tags.t"].tolist()) == [None, "x", None]
    assert frame["start_time"].tolist() == [when] * 3


def test_no_runs_make_an_empty_frame() -> None:
    frame = run_frame(RunTable(runs=(), params=(), metrics=(), tags=(), properties=()))
    assert tuple(frame.columns) == RUN_COLUMNS and frame.empty
    assert str(frame["start_time"].dtype).startswith("datetime64")


@pytest.mark.parametrize("text", ["2026-01-01 00:00:00", "2026-01-01 00:00:00.000001"])
def test_sqlite_text_times_are_utc(text: str) -> None:
    run = ("r", 1, "Running", text, None, None, "azureml.scriptrun")
    frame = run_frame(RunTable(runs=(run,), params=(), metrics=(), tags=(), properties=()))
    assert frame.loc[0, "start_time"] == datetime.fromisoformat(text).replace(tzinfo=timezone.utc)
