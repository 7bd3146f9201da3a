"""Several processes writing into one SQLite workspace at once lose nothing."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from tracking import Experiment, Workspace

PROCESSES = 8
VALUES = 50


def _log_from_a_process(folder: str, worker: int) -> str:
    ws = Workspace("w", base_dir=folder)
    run = Experiment(ws, "shared").start_logging(properties={"worker": str(worker)})
    for i in range(VALUES):
        run.log("value", worker * 1000 + i)
    run.log_list("batch", [float(i) for i in range(VALUES)])
    run.complete()
    return run.id


def test_eight_processes_logging_at_once_keep_every_value(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    with context.Pool(PROCESSES) as pool:
        run_ids = pool.starmap(_log_from_a_process, [(str(tmp_path), w) for w in range(PROCESSES)])

    experiment = Experiment(Workspace("w", base_dir=tmp_path), "shared")
    runs = list(experiment.get_runs())
    assert sorted(r.id for r in runs) == sorted(run_ids)
    assert sorted(r.number for r in runs) == list(range(1, PROCESSES + 1))
    for run in runs:
        worker = int(run.properties["worker"])
        metrics = run.get_metrics()
        assert metrics["value"] == [worker * 1000 + i for i in range(VALUES)]
        assert metrics["batch"] == [float(i) for i in range(VALUES)]
        assert run.status == "Completed"
