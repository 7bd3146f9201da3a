"""Several processes writing into one workspace at once lose nothing, on every backend."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from tracking import Experiment, Workspace

PROCESSES = 8
VALUES = 50


def _log_from_a_process(tracking_uri: str, folder: str, worker: int) -> str:
    ws = Workspace("w", tracking_uri=tracking_uri, storage_uri=folder)
    run = Experiment(ws, "shared").start_logging(properties={"worker": str(worker)})
    for i in range(VALUES):
        run.log("value", worker * 1000 + i)
    run.log_list("batch", [float(i) for i in range(VALUES)])
    run.log_metrics({f"only-{worker % 3}": 1.0, "common": 2.0})
    run.complete()
    return run.id


@pytest.mark.reliability(
    case=6,
    fault="8 processes logging 50+ values each into a NEW workspace at once (SQLite, PostgreSQL)",
    expected="every value kept in order, run numbers 1..8, one schema",
)
def test_processes_logging_at_once_keep_every_value(tracking_uri: str, tmp_path: Path) -> None:
    """The workspace is new: the processes also race to create its schema."""
    context = multiprocessing.get_context("spawn")
    jobs = [(tracking_uri, str(tmp_path / "files"), w) for w in range(PROCESSES)]
    with context.Pool(PROCESSES) as pool:
        run_ids = pool.starmap(_log_from_a_process, jobs)

    ws = Workspace("w", tracking_uri=tracking_uri, storage_uri=str(tmp_path / "files"))
    experiment = Experiment(ws, "shared")
    runs = list(experiment.get_runs())
    assert sorted(r.id for r in runs) == sorted(run_ids)
    assert sorted(r.number for r in runs) == list(range(1, PROCESSES + 1))
    for run in runs:
        worker = int(run.properties["worker"])
        metrics = run.get_metrics()
        assert metrics["value"] == [worker * 1000 + i for i in range(VALUES)]
        assert metrics["batch"] == [float(i) for i in range(VALUES)]
        assert run.status == "Completed"
    metric_names, _ = ws.records.list_columns(experiment.id)
    assert metric_names == ["batch", "common", "only-0", "only-1", "only-2", "value"]
