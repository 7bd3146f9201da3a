"""A sweep is one `hyperdrive` run whose children are its cells (Azure v1's HyperDrive).

The sweeps run on real Ray (one local instance shared by the session); which parent a
resumed sweep takes, and a user's own Tuner's parent, are shown without Ray.
"""

from __future__ import annotations

import json
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from sweep import SweepSpec, run_sweep
from sweep.parent import NAMESPACE, SweepParent
from tracking import Experiment, NotFoundError, Workspace
from tracking.records import SCRIPT_RUN, SWEEP_RUN, RunStatus

FAILING = "tests.helpers.estimators.FailingRidge"  # alpha 0.2 fails


def _workspace(folder: Path) -> Workspace:
    folder.mkdir(parents=True, exist_ok=True)
    config = {"tracking_uri": "sqlite:///records.db", "storage_uri": "storage"}
    (folder / "config.json").write_text(json.dumps(config))
    return Workspace.from_config(folder)


def _alphas(runs: Any) -> list[float]:
    return [run.get_params()["alpha"] for run in runs]


@pytest.mark.ray
def test_a_sweep_is_a_parent_run_and_a_rerun_is_another(ray_address: str, tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    options = {"alphas": [0.1, 0.2, 0.3], "experiment": "hd", "estimator": FAILING}
    result = run_sweep(workspace=ws, progress=False, max_concurrent=1, **options)
    assert (result.trained, result.failed) == (3, 1)

    parent = result.parent_run
    assert parent is not None and parent.type == SWEEP_RUN and parent.parent is None
    # Completed though a cell failed, as HyperDrive is; the failed cells are counted.
    assert parent.status == "Completed"
    assert parent.properties["failed_cells"] == "1"
    assert parent.properties["trained_cells"] == "3"
    assert parent.properties["primary_metric_name"] == "rmse"
    assert parent.properties["primary_metric_goal"] == "minimize"
    assert len(parent.properties["sweep.grid_sha256"]) == 64

    children = list(parent.get_children())
    assert _alphas(children) == [0.1, 0.2, 0.3]  # in grid order
    assert [c.status for c in children] == ["Completed", "Failed", "Completed"]
    assert all(c.type == SCRIPT_RUN and c.parent == parent for c in children)
    assert all(c.number > parent.number for c in children)  # the parent came first

    experiment = result.experiment
    assert list(experiment.get_runs()) == [parent]  # one row you can open
    assert len(list(experiment.get_runs(include_children=True))) == 4
    best = parent.get_best_run_by_primary_metric()
    assert best is not None and best == result.best_run and best.get_params() == {"alpha": 0.1}

    frame = result.runs  # the cells, in to_dataframe's columns; no parent
    assert list(frame["params.alpha"]) == [0.1, 0.2, 0.3]
    assert set(frame["parent_run_id"]) == {parent.id} and set(frame["type"]) == {SCRIPT_RUN}
    assert {"run_id", "number", "status", "metrics.rmse", "properties.sweep.cell"} <= set(frame)
    assert "properties.primary_metric_name" not in frame

    # A rerun (no --resume) retries the failed cell: a new sweep, so a new parent; the
    # cells it re-uses keep theirs.
    rerun = run_sweep(workspace=ws, progress=False, **options)
    assert (rerun.trained, rerun.reused) == (1, 2)
    second = rerun.parent_run
    assert second is not None and second != parent and second.status == "Completed"
    assert list(experiment.get_runs()) == [second, parent]
    assert _alphas(second.get_children()) == [0.2]
    assert _alphas(parent.get_children()) == [0.1, 0.2, 0.3]
    assert len(rerun.runs) == 4 and set(rerun.runs["parent_run_id"]) == {parent.id, second.id}

    # Nothing left to train: no Tune run, no parent.
    done = run_sweep(workspace=ws, progress=False, **{**options, "alphas": [0.1, 0.3]})
    assert (done.trained, done.reused, done.parent_run) == (0, 2, None)
    assert len(list(experiment.get_runs(type=SWEEP_RUN))) == 2


@pytest.mark.ray
@pytest.mark.parametrize(
    ("raised", "status"), [(RuntimeError("no slots"), "Failed"), (KeyboardInterrupt(), "Canceled")]
)
def test_a_sweep_whose_driver_raises_ends_its_parent(
    ray_address: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    raised: BaseException,
    status: str,
) -> None:
    from sweep import driver

    def fail(spec: SweepSpec) -> int:
        raise raised

    monkeypatch.setattr(driver, "trial_slots", fail)  # after the parent, before any trial
    ws = _workspace(tmp_path)
    with pytest.raises(type(raised)):
        run_sweep(workspace=ws, progress=False, alphas=[0.1, 0.2], experiment="raises")
    (parent,) = Experiment(ws, "raises").get_runs()
    assert parent.type == SWEEP_RUN and parent.status == status
    error = parent.get_details().get("error", {}).get("error", {}).get("message")
    assert error == ("RuntimeError: no slots" if status == "Failed" else None)
    # Its cells were queued before the driver raised: none is left waiting.
    cells = list(parent.get_children())
    assert [c.status for c in cells] == ["Canceled", "Canceled"]
    assert not {parent.id, *(c.id for c in cells)} & ws.heartbeat.runs  # no longer beating


@pytest.fixture
def experiment(tmp_path: Path) -> Experiment:
    ws = Workspace("t", tracking_uri=f"sqlite:///{tmp_path}/r.db", storage_uri=str(tmp_path / "s"))
    return Experiment(ws, "parents")


def test_a_resumed_sweep_takes_over_its_parent_while_it_runs(experiment: Experiment) -> None:
    spec = SweepSpec.create(alphas=[0.1, 0.2], experiment=experiment.name)
    first = SweepParent.open(experiment, spec, name="sweep-1", cells=2, resumes=None)
    first.adopt("sweep-1")
    assert experiment.workspace.records.get_value(NAMESPACE, "sweep-1") == first.run_id
    # Its driver was killed: the parent still runs (its heartbeat has not timed out).
    again = SweepParent.open(experiment, spec, name="sweep-2", cells=1, resumes="sweep-1")
    assert (again.run_id, again.reused) == (first.run_id, True)
    assert first.run_id in experiment.workspace.heartbeat.runs

    assert again.finish(RunStatus.CANCELED) is None  # say, interrupted
    assert first.run_id not in experiment.workspace.heartbeat.runs
    # A parent that ended stays as it ended: the resumed sweep gets a new one.
    later = SweepParent.open(experiment, spec, name="sweep-3", cells=1, resumes="sweep-1")
    assert later.run_id != first.run_id and not later.reused
    assert later.run.display_name == "sweep sweep-3" and later.run.status == "Running"
    # An unknown Tune run (no parent recorded): a new parent too.
    other = SweepParent.open(experiment, spec, name="sweep-4", cells=1, resumes="unknown")
    assert other.run_id not in (first.run_id, later.run_id)


@dataclass
class StandInTrial:
    trial_id: str
    config: dict[str, Any]
    last_result: dict[str, Any] = field(default_factory=dict)
    status: str = "RUNNING"

    def __str__(self) -> str:
        return f"train_{self.trial_id}"


def test_a_users_tuner_makes_top_level_runs_unless_given_a_parent(
    experiment: Experiment, tmp_path: Path
) -> None:
    from sweep.callback import TrackingCallback

    def one_trial(callback: TrackingCallback, trial_id: str) -> None:
        trial = StandInTrial(trial_id, {"alpha": 0.5})
        callback.on_trial_start(0, [trial], trial)
        callback.on_trial_complete(0, [trial], trial)
        callback.on_experiment_end([trial])
        callback.close()
        assert callback.errors == [] and not callback.interrupted

    one_trial(TrackingCallback(experiment), "t1")
    (alone,) = experiment.get_runs()
    assert alone.parent is None

    mine = experiment.start_logging(outputs=str(tmp_path / "out"))
    callback = TrackingCallback(experiment, parent_run=mine)
    restored = pickle.loads(pickle.dumps(callback))  # as Tuner.restore has it: same parent
    assert restored.parent_run_id == mine.id
    one_trial(callback, "t2")
    (child,) = mine.get_children()
    assert child.parent == mine and child.properties["ray.trial_id"] == "t2"
    assert mine.status == "Running"  # the user's run: the callback leaves it to them

    with pytest.raises(NotFoundError):
        TrackingCallback(experiment, parent_run="not-a-run")
    elsewhere = Experiment(experiment.workspace, "elsewhere").start_logging(
        outputs=str(tmp_path / "out")
    )
    with pytest.raises(NotFoundError):
        TrackingCallback(experiment, parent_run=elsewhere)
    for run in (mine, elsewhere):
        run.complete()


def test_a_sweep_left_unfinished_by_tune_is_interrupted(experiment: Experiment) -> None:
    from sweep.callback import TrackingCallback

    callback = TrackingCallback(experiment)
    started, queued = (
        StandInTrial("t1", {"alpha": 1}),
        StandInTrial("t2", {"a": 2}, status="PENDING"),
    )
    callback.on_trial_start(0, [started, queued], started)
    # Ctrl+C: Tune marks the running trial terminated without its hooks, and ends.
    started.status = "TERMINATED"
    callback.on_experiment_end([started, queued])
    callback.close()
    assert callback.interrupted
    (run,) = experiment.get_runs()
    # Canceled at once, not left Running until a heartbeat check fails it as lost.
    assert run.status == "Canceled" and run.properties["stopped_by"] == "interrupted"
