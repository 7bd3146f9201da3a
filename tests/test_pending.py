"""Numbers a run logs are written in batches (`tracking.pending`): by a thread within a
second, with the run's end in one transaction, when the process reads runs back, and when
it closes the workspace or exits."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from tracking import Experiment, Workspace
from tracking.pending import FLUSH_S

ROOT = Path(__file__).resolve().parents[1]


def _open(folder: Path) -> Workspace:
    return Workspace(
        "w", tracking_uri=f"sqlite:///{folder / 'records.db'}", storage_uri=str(folder / "s")
    )


def test_a_running_runs_values_reach_other_readers_within_a_second(tmp_path: Path) -> None:
    ws, reader = _open(tmp_path), _open(tmp_path)
    run = Experiment(ws, "e").start_logging()
    for value in (3.0, 2.0, 1.0):
        run.log("loss", value)
    deadline = time.monotonic() + 4 * FLUSH_S + 5
    history = reader.records.get_metric_history(run.id)
    while len(history) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
        history = reader.records.get_metric_history(run.id)
    assert [(m.step, m.value) for m in history] == [(0, 3.0), (1, 2.0), (2, 1.0)]
    times = [m.timestamp for m in history]
    assert times == sorted(times) and len(set(times)) == 3  # each at the time it was logged
    assert run.get_status() == "Running"
    run.complete()
    ws.close()
    reader.close()


def test_the_end_of_a_run_writes_what_it_kept_with_their_own_times(tmp_path: Path) -> None:
    ws = _open(tmp_path)
    run = Experiment(ws, "e").start_logging()
    run.log("rmse", 5.0)
    run.log_metrics({"mae": 4.0, "r2": 0.5})
    run.complete()
    reader = _open(tmp_path)
    history = reader.records.get_metric_history(run.id)
    assert {(m.name, m.value) for m in history} == {("rmse", 5.0), ("mae", 4.0), ("r2", 0.5)}
    end = reader.records.get_run(run.id).end_time
    assert end is not None and all(m.timestamp <= end for m in history)
    ws.close()
    reader.close()


def test_reading_back_in_the_same_process_sees_every_value(tmp_path: Path) -> None:
    ws = _open(tmp_path)
    experiment = Experiment(ws, "e")
    run = experiment.start_logging()
    run.log("rmse", 2.0)
    assert run.get_metrics() == {"rmse": 2.0}
    other = experiment.start_logging()
    other.log("rmse", 1.0)
    assert experiment.get_best_run("rmse").id == other.id
    assert experiment.to_dataframe()["metrics.rmse"].tolist() == [2.0, 1.0]
    ws.close()


def test_closing_the_workspace_or_exiting_writes_what_runs_kept(tmp_path: Path) -> None:
    ws = _open(tmp_path)
    run = Experiment(ws, "e").start_logging()
    run.log("loss", 1.5)
    ws.close()
    script = (
        "import sys; from tracking import Experiment, Workspace\n"
        f"ws = Workspace('w', tracking_uri={f'sqlite:///{tmp_path}/records.db'!r}, "
        f"storage_uri={str(tmp_path / 's')!r})\n"
        "run = Experiment(ws, 'e').start_logging()\n"
        "run.log('loss', 2.5)\n"
        "print(run.id)\n"  # and exits, the run neither completed nor the workspace closed
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        check=True,
    )
    reader = _open(tmp_path)
    assert [m.value for m in reader.records.get_metric_history(run.id)] == [1.5]
    exited = done.stdout.strip()
    assert [m.value for m in reader.records.get_metric_history(exited)] == [2.5]
    reader.close()
