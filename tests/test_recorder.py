"""`sweep.recorder.Recorder` without Ray: trial events in, records out."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from sweep.cells import flatten, one_run
from sweep.recorder import Recorder
from sweep.trialops import Op
from tracking import Experiment, Workspace
from tracking.records import RunStatus

T0 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


@dataclass
class StandInTrial:
    trial_id: str
    config: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"train_{self.trial_id}"


@pytest.fixture
def experiment(tmp_path: Path) -> Experiment:
    ws = Workspace("t", tracking_uri=f"sqlite:///{tmp_path}/r.db", storage_uri=str(tmp_path / "s"))
    return Experiment(ws, "rec")


def _recorder(experiment: Experiment, runs: dict[str, list[str]], errors: list[str]) -> Recorder:
    return Recorder(lambda: experiment, runs, one_run, None, errors.append)


def test_the_recorder_imports_no_ray() -> None:
    code = "import sys, sweep.recorder, sweep.cells; assert 'ray' not in sys.modules, 'ray'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_flatten_joins_nested_keys_with_a_slash_as_ray_does() -> None:
    from ray.tune.utils import flatten_dict

    nested = {"model": {"alpha": 0.1, "layers": {"n": 2}}, "lr": 1e-3, "tags": [1, 2]}
    assert flatten(nested) == flatten_dict(nested, delimiter="/")
    assert flatten(nested) == {"model/alpha": 0.1, "model/layers/n": 2, "lr": 1e-3, "tags": [1, 2]}


def test_a_run_has_its_trials_times_flattened_params_and_a_canceled_end(
    experiment: Experiment,
) -> None:
    trial = StandInTrial("t1", {"model": {"alpha": 0.5}})
    runs: dict[str, list[str]] = {"t1": ["run-1"]}
    errors: list[str] = []
    recorder = _recorder(experiment, runs, errors)
    end = T0 + timedelta(seconds=3)
    recorder.apply(  # one batch, as the writer gives it: the times are still the trial's
        [
            Op("start", trial, "start", at=T0, started=T0),
            Op("metrics", trial, "log", metrics=[("val/rmse", 2.0)]),
            Op(
                "end", trial, "end", at=end, status=RunStatus.CANCELED,
                where={"stopped_by": "AsyncHyperBandScheduler", "stopped_at_iteration": "2"},
            ),
        ]
    )  # fmt: skip
    assert errors == []
    (run,) = experiment.get_runs()
    assert run.get_params() == {"model/alpha": 0.5}
    assert run.get_metrics() == {"val/rmse": 2.0}
    assert run.get_status() == "Canceled"
    assert run.properties["stopped_by"] == "AsyncHyperBandScheduler"
    record = experiment.workspace.records.get_run("run-1")
    assert (record.start_time, record.end_time) == (T0, end)


def test_checkpoints_outside_storage_are_copied_once_and_deleted_ones_marked(
    experiment: Experiment, tmp_path: Path
) -> None:
    trial = StandInTrial("t2", {"alpha": 1})
    runs: dict[str, list[str]] = {"t2": ["run-2"]}
    errors: list[str] = []
    recorder = _recorder(experiment, runs, errors)
    outside = tmp_path / "ray_results" / "t2"
    folders = []
    for index in range(3):
        folder = outside / f"checkpoint_00000{index}"
        (folder / "sub").mkdir(parents=True)
        (folder / "model.pkl").write_bytes(b"model %d" % index)
        (folder / "sub" / "extra.txt").write_text("x")
        folders.append(folder)
    recorder.apply([Op("start", trial, "start", at=T0, started=T0)])
    for index, folder in enumerate(folders):
        if index == 2:
            for path in sorted(folders[0].rglob("*"), reverse=True):  # as num_to_keep=2 does
                path.unlink() if path.is_file() else path.rmdir()
            folders[0].rmdir()
        op = Op("checkpoint", trial, "checkpoint", path=str(folder), keep=2)
        recorder.apply([op])
    recorder.apply([Op("end", trial, "end", at=T0 + timedelta(seconds=1))])
    assert errors == []

    run = next(experiment.get_runs())
    names = [f"checkpoint_00000{i}/{n}" for i in range(3) for n in ("model.pkl", "sub/extra.txt")]
    assert run.get_file_names() == names
    assert json.loads(run.get_tags()["removed_files"]) == names[:2]
    artifacts = experiment.workspace.artifacts
    kept = {o.key for o in artifacts.list_objects("runs/run-2/")}
    assert kept == {f"runs/run-2/{n}" for n in names[2:]}  # the copy of a deleted one: gone
    assert run.get_status() == "Completed"


def test_packed_cells_keep_their_own_times(experiment: Experiment) -> None:
    """Cells trained one after another in one trial each get the times their trainable
    reported, not the time of the report that carried them (issue 18, item 5)."""
    trial = StandInTrial("t2", {})
    runs: dict[str, list[str]] = {"t2": ["cell-1", "cell-2"]}
    errors: list[str] = []
    packed = Recorder(
        lambda: experiment, runs, lambda config: [{"alpha": 0.1}, {"alpha": 0.2}], None,
        errors.append,
    )  # fmt: skip
    first, second = T0.timestamp(), T0.timestamp() + 1.5
    entries = [
        {"index": 0, "attempts": 1, "error": "ValueError: a", "started": first,
         "ended": first + 0.5},
        {"index": 1, "attempts": 1, "error": "ValueError: b", "started": second,
         "ended": second + 0.25},
    ]  # fmt: skip
    report_time = T0 + timedelta(seconds=10)
    packed.apply([Op("cells", trial, "cells", at=report_time, started=T0, entries=entries)])
    assert errors == []
    times = {
        run_id: (record.start_time, record.end_time)
        for run_id in ("cell-1", "cell-2")
        if (record := experiment.workspace.records.get_run(run_id))
    }
    assert times["cell-1"] == (T0, T0 + timedelta(seconds=0.5))
    assert times["cell-2"] == (T0 + timedelta(seconds=1.5), T0 + timedelta(seconds=1.75))


def test_a_trainables_cell_reports_its_own_times(tmp_path: Path) -> None:
    from sweep.trainable import attempt_cell

    def slow_fit(cell: Any) -> tuple[Any, dict[str, float]]:
        import time

        time.sleep(0.05)
        return {"model": cell}, {"rmse": 1.0}

    entry = attempt_cell(0, {"alpha": 0.1}, str(tmp_path), slow_fit, retries=0)
    assert entry["ended"] - entry["started"] >= 0.05
    assert "metrics" in entry


def test_the_recorder_owns_its_trial_to_run_map(experiment: Experiment) -> None:
    """A new trial's run ids reach the recorder in its first op, on the writer's thread;
    the map the recorder was made with is copied, not shared with the Tune loop."""
    given: dict[str, list[str]] = {}
    errors: list[str] = []
    recorder = _recorder(experiment, given, errors)
    trial = StandInTrial("t3", {"alpha": 0.3})
    recorder.apply([Op("start", trial, "start", at=T0, started=T0, run_ids=["own-1"])])
    given["t3"] = ["someone-else"]  # the caller's dict is not the recorder's
    recorder.apply([Op("end", trial, "end", at=T0 + timedelta(seconds=1))])
    assert errors == []
    assert recorder.runs() == {"t3": ["own-1"]}
    assert experiment.workspace.records.get_run("own-1").status is RunStatus.COMPLETED


def test_queued_cells_are_recorded_in_place_and_those_never_started_canceled(
    experiment: Experiment,
) -> None:
    from sweep.cellruns import (
        SWEEP_CELL,
        SWEEP_RUN,
        cancel_queued,
        cell_counts,
        queue_cells,
        runs_of,
    )
    from sweep.spec import SweepSpec

    spec = SweepSpec.create(alphas=[0.3, 0.1, 0.2], experiment="rec")
    cells = spec.cells()
    queued = queue_cells(experiment, spec, cells, "tune-1", None)
    waiting = sorted(experiment.get_runs(), key=lambda run: run.number)
    assert [(r.number, r.get_status(), r.get_params()["alpha"]) for r in waiting] == [
        (1, "Queued", 0.3), (2, "Queued", 0.1), (3, "Queued", 0.2),
    ]  # fmt: skip
    heartbeat = experiment.workspace.heartbeat
    assert {r.id for r in waiting} <= heartbeat.runs  # beaten for until they end

    def properties(trial: Any, index: int) -> dict[str, str]:
        return {SWEEP_RUN: "tune-1", SWEEP_CELL: spec.cell_key(trial.config["cells"][index])}

    errors: list[str] = []
    recorder = Recorder(lambda: experiment, {}, lambda c: c["cells"], properties, errors.append)
    trial = StandInTrial("t1", {"cells": [cells[1]]})  # alpha 0.1 trains first
    end = T0 + timedelta(seconds=2)
    recorder.apply(
        [
            Op("start", trial, "start", at=T0, started=T0, run_ids=list(queued(trial.config))),
            Op("metrics", trial, "log", metrics=[("rmse", 3.0)]),
            Op("end", trial, "end", at=end, status=RunStatus.COMPLETED),
        ]
    )
    assert errors == []
    done = experiment.workspace.records.get_run(waiting[1].id)
    assert (done.number, done.status, done.start_time, done.end_time) == (
        2, RunStatus.COMPLETED, T0, end,
    )  # fmt: skip
    assert done.properties["ray.trial_id"] == "t1"
    # The sweep stopped before the other two started: canceled, no time spent running,
    # and not counted as trained.
    ran = runs_of(experiment, "tune-1")
    assert {r.run_id for r in cancel_queued(experiment, ran)} == {
        waiting[0].id, waiting[2].id,
    }  # fmt: skip
    for run in (waiting[0], waiting[2]):
        record = experiment.workspace.records.get_run(run.id)
        assert record.status is RunStatus.CANCELED and record.start_time == record.end_time
        assert record.properties["stopped_by"] == "interrupted"
        assert run.get_params() == {"alpha": run.get_params()["alpha"]}  # kept
        assert run.id not in heartbeat.runs
    assert cell_counts(ran) == cell_counts(runs_of(experiment, "tune-1")) == (1, 0, 0)
