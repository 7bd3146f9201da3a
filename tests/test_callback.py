"""TrackingCallback's hooks, called with stand-in trials (no cluster), as Ray's own tests do."""

from __future__ import annotations

import dataclasses
import io
import math
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from sweep.callback import TrackingCallback
from sweep.driver import trial_cells
from tracking import Experiment, Workspace


@dataclass
class StandInTrial:
    """The attributes of ray.tune.experiment.Trial that the callback reads."""

    trial_id: str
    config: dict[str, Any]
    last_result: dict[str, Any] = field(default_factory=dict)
    checkpoint: Any = None
    error_file: str | None = None

    def get_error(self) -> None:
        return None

    def __str__(self) -> str:
        return f"train_{self.trial_id}"


@pytest.fixture
def experiment(tmp_path: Path) -> Experiment:
    ws = Workspace("t", tracking_uri=f"sqlite:///{tmp_path}/r.db", storage_uri=str(tmp_path / "s"))
    return Experiment(ws, "cb")


def _restored(callback: TrackingCallback) -> TrackingCallback:
    """The callback as a restored Tuner has it: unpickled."""
    return pickle.loads(pickle.dumps(callback))


def _result(step: int, rmse: float) -> dict[str, Any]:
    return {
        "training_iteration": step,
        "rmse": rmse,
        "time_total_s": 1.0,
        "pid": 7,
        "hostname": "node-a",
        "tracking.node_id": "n1",
        "done": False,
        "note": "text",
    }


def test_trials_become_runs_with_params_metrics_and_status(experiment: Experiment) -> None:
    callback = TrackingCallback(experiment, cells=lambda c: [c["cell"]])
    trial = StandInTrial("t1", {"cell": {"alpha": 0.5}})
    callback.on_trial_start(0, [trial], trial)
    callback.on_trial_result(0, [trial], trial, _result(1, 3.0))
    trial.last_result = _result(1, 3.0)
    callback.on_trial_complete(0, [trial], trial)
    callback.flush()
    (run,) = experiment.get_runs()
    assert run.get_params() == {"alpha": 0.5}
    assert run.get_metrics() == {"rmse": 3.0}  # no Tune bookkeeping, no text
    details = run.get_details()
    assert details["status"] == "Completed"
    assert details["properties"]["ray.trial_id"] == "t1"
    assert details["properties"]["ray.node_id"] == "n1"
    assert details["properties"]["host"] == "node-a"
    assert callback.errors == []


def test_a_restored_callback_reattaches_instead_of_duplicating(experiment: Experiment) -> None:
    first = TrackingCallback(experiment)
    trial = StandInTrial("t1", {"alpha": 0.1})
    first.on_trial_start(0, [trial], trial)
    first.on_trial_result(0, [trial], trial, _result(1, 2.0))
    first.flush()
    state = first.get_state()

    restored = _restored(TrackingCallback(experiment))
    restored.set_state(state)
    restored.on_trial_start(0, [trial], trial)
    restored.on_trial_result(0, [trial], trial, _result(1, 2.0))  # the same result again
    restored.on_trial_result(0, [trial], trial, _result(2, 1.0))
    restored.flush()

    # The state was never saved: the run is found by its trial id property.
    lost_state = _restored(TrackingCallback(experiment))
    lost_state.on_trial_start(0, [trial], trial)
    lost_state.on_trial_complete(0, [trial], trial)
    lost_state.flush()

    (run,) = experiment.get_runs()
    assert run.get_metrics() == {"rmse": [2.0, 1.0]}
    assert run.get_status() == "Completed"
    again = _restored(TrackingCallback(experiment))  # a trial re-run after its run completed
    again.on_trial_start(0, [trial], trial)
    again.on_trial_result(0, [trial], trial, _result(5, 9.0))
    again.on_trial_complete(0, [trial], trial)
    again.flush()
    assert again.errors == [] and run.get_metrics() == {"rmse": [2.0, 1.0]}


def test_failed_trials_keep_the_last_line_of_their_error(
    experiment: Experiment, tmp_path: Path
) -> None:
    error_file = tmp_path / "error.txt"
    error_file.write_text("Failure # 1\nTraceback...\n  File x\nValueError: diverged\n")
    trial = StandInTrial("t9", {"alpha": 2.0}, error_file=str(error_file))
    callback = TrackingCallback(experiment)
    callback.on_trial_start(0, [trial], trial)
    callback.on_trial_error(0, [trial], trial)
    callback.flush()
    (run,) = experiment.get_runs()
    assert run.get_details()["error"]["error"]["message"] == "ValueError: diverged"
    assert callback.unretried == ()  # it failed while it ran: Tune used its retries


def test_a_trial_failed_after_a_retry_that_never_started_is_listed_unretried(
    experiment: Experiment,
) -> None:
    trial = StandInTrial("t10", {"alpha": 5.0}, last_result=_result(1, 3.0))
    callback = TrackingCallback(experiment)
    callback.on_trial_start(0, [trial], trial)
    callback.on_trial_recover(0, [trial], trial)  # its worker lost while it ran
    callback.on_trial_error(0, [trial], trial)  # its retry's actor lost before it started
    callback.close()
    assert callback.unretried == ({"alpha": 5.0},)


@pytest.mark.parametrize("retried_first", [True, False])
def test_a_trial_that_fails_before_it_ever_started_ends_its_runs_failed(
    experiment: Experiment, tmp_path: Path, retried_first: bool
) -> None:
    """Its actor never ran (its node was lost as it was placed): Tune retries it, or fails
    it, without `on_trial_start`; its cell's run, queued or not, ends Failed with the error."""
    error_file = tmp_path / "error.txt"
    error_file.write_text("Failure # 1\nray.exceptions.NodeDiedError: the node died\n")
    trial = StandInTrial("t7", {"alpha": 3.0}, error_file=str(error_file))
    callback = TrackingCallback(experiment)
    if retried_first:
        callback.on_trial_recover(0, [trial], trial)
    callback.on_trial_error(0, [trial], trial)
    callback.close()
    assert callback.errors == [] and callback.unretried == ({"alpha": 3.0},)
    (run,) = experiment.get_runs()
    assert run.get_status() == "Failed"
    assert run.get_details()["error"]["error"]["message"] == (
        "ray.exceptions.NodeDiedError: the node died"
    )


def test_a_trial_retried_before_it_started_takes_its_queued_run_when_it_starts(
    experiment: Experiment,
) -> None:
    from datetime import datetime, timezone

    from tracking.records import NewRun, RunStatus

    waiting = NewRun("q-1", datetime.now(timezone.utc), params={"alpha": 4.0})
    waiting = dataclasses.replace(waiting, status=RunStatus.QUEUED)
    experiment.workspace.records.record_runs(experiment.id, [waiting])
    trial = StandInTrial("t8", {"alpha": 4.0}, last_result=_result(1, 3.0))
    callback = TrackingCallback(experiment, queued=lambda config: ["q-1"])
    callback.on_trial_recover(0, [trial], trial)  # lost before it started
    callback.on_trial_start(0, [trial], trial)  # its retry
    callback.on_trial_result(0, [trial], trial, _result(1, 3.0))
    callback.on_trial_complete(0, [trial], trial)
    callback.close()
    assert callback.errors == []
    (run,) = experiment.get_runs()
    assert (run.id, run.get_status(), run.get_metrics()["rmse"]) == ("q-1", "Completed", 3.0)


def _cell(index: int, rmse: float, name: str = "") -> dict[str, Any]:
    name = name or f"model_{index}.pkl"
    return {"index": index, "attempts": 1, "metrics": {"rmse": rmse}, "file": name,
            "sha256": "0" * 64, "size": 1}  # fmt: skip


def _checkpoint(experiment: Experiment, folder: str) -> Any:
    inside = str(experiment.workspace.artifacts.root / "sweeps" / folder)  # type: ignore[attr-defined]
    return type("Checkpoint", (), {"path": inside, "filesystem": None})()


def test_packed_cells_each_become_a_run_as_they_finish(experiment: Experiment) -> None:
    callback = TrackingCallback(experiment, cells=trial_cells)
    trial = StandInTrial("p1", {"cells": [{"alpha": 1}, {"alpha": 2}, {"alpha": 3}]})
    callback.on_trial_start(0, [trial], trial)
    callback.flush()
    assert list(experiment.get_runs()) == []  # recorded as they finish, not as queued
    failed = {"index": 1, "attempts": 3, "error": "ValueError: diverged"}
    trial.last_result = {"tracking.cells": [_cell(0, 2.5), failed], "hostname": "node-a"}
    callback.on_trial_result(0, [trial], trial, trial.last_result)
    callback.on_checkpoint(0, [trial], trial, _checkpoint(experiment, "p1/checkpoint_000000"))
    trial.error_file = None
    callback.on_trial_error(0, [trial], trial)  # its worker lost for good before cell 2
    callback.flush()

    runs = {r.get_params()["alpha"]: r for r in experiment.get_runs()}
    assert {a: r.get_status() for a, r in runs.items()} == {
        1: "Completed",
        2: "Failed",
        3: "Failed",
    }
    assert runs[1].get_metrics() == {"rmse": 2.5}
    (record,) = experiment.workspace.records.list_files(runs[1].id)
    assert record.uri == "sweeps/p1/checkpoint_000000/model_0.pkl"  # by key: storage can move
    assert runs[2].get_details()["error"]["error"]["message"] == "ValueError: diverged"
    assert runs[2].get_tags()["ray.retries"] == "2"
    assert {r.properties["ray.trial_cell"] for r in runs.values()} == {"0", "1", "2"}
    assert {r.properties["ray.trial_id"] for r in runs.values()} == {"p1"}
    assert runs[1].properties["host"] == "node-a"
    assert callback.errors == []


def test_packed_cells_as_json_text_with_their_models_in_a_folder_of_their_own(
    experiment: Experiment,
) -> None:
    """What `sweep.trainable` reports in a storage folder: the entries as JSON text, and
    the folder its models were saved in; the checkpoint holds only its count."""
    from sweep.cells import encode_entries

    callback = TrackingCallback(experiment, cells=trial_cells)
    trial = StandInTrial("p3", {"cells": [{"alpha": 1}, {"alpha": 2}]})
    callback.on_trial_start(0, [trial], trial)
    models = experiment.workspace.artifacts.root / "sweeps" / "p3" / "models"  # type: ignore[attr-defined]
    trial.last_result = {
        "tracking.cells": encode_entries([_cell(0, 2.5), _cell(1, 1.5)]),
        "tracking.files_at": models.as_uri(),
    }
    callback.on_trial_result(0, [trial], trial, trial.last_result)
    callback.on_checkpoint(0, [trial], trial, _checkpoint(experiment, "p3/checkpoint_000000"))
    callback.close()
    assert callback.errors == []
    runs = {r.get_params()["alpha"]: r for r in experiment.get_runs()}
    assert {a: r.get_metrics() for a, r in runs.items()} == {1: {"rmse": 2.5}, 2: {"rmse": 1.5}}
    uris = {a: experiment.workspace.records.list_files(r.id)[0].uri for a, r in runs.items()}
    assert uris == {1: "sweeps/p3/models/model_0.pkl", 2: "sweeps/p3/models/model_1.pkl"}


def test_a_restored_packed_trial_records_each_cell_once(experiment: Experiment) -> None:
    first = TrackingCallback(experiment, cells=trial_cells)
    trial = StandInTrial("p2", {"cells": [{"alpha": 1}, {"alpha": 2}]})
    first.on_trial_start(0, [trial], trial)
    trial.last_result = {"tracking.cells": [_cell(0, 2.5)]}
    first.on_checkpoint(0, [trial], trial, _checkpoint(experiment, "p2/checkpoint_000000"))
    state = first.get_state()  # the writes are flushed before Tune saves the state

    for lost in (False, True):  # restored with its state, then with the state lost
        again = _restored(TrackingCallback(experiment, cells=trial_cells))
        if not lost:
            again.set_state(state)
        again.on_trial_start(0, [trial], trial)
        trial.last_result = {"tracking.cells": [_cell(0, 9.9), _cell(1, 1.5)]}
        again.on_checkpoint(0, [trial], trial, _checkpoint(experiment, "p2/checkpoint_000001"))
        again.on_trial_complete(0, [trial], trial)
        again.flush()
        assert again.errors == []
    runs = {r.get_params()["alpha"]: r for r in experiment.get_runs()}
    assert {a: r.get_metrics() for a, r in runs.items()} == {1: {"rmse": 2.5}, 2: {"rmse": 1.5}}
    assert all(r.get_status() == "Completed" for r in runs.values())


def test_tracking_failures_are_reported_not_raised_into_tune(experiment: Experiment) -> None:
    callback = TrackingCallback(experiment)
    trial = StandInTrial("t1", {"alpha": 0.1})
    callback.on_trial_start(0, [trial], trial)
    callback.flush()
    run = next(experiment.get_runs())
    run.upload_file("model.pkl", io.BytesIO(b"x"))
    trial.last_result = {"tracking.cells": [_cell(0, 1.0, "model.pkl")]}
    # The file name is taken: a conflict.
    callback.on_checkpoint(0, [trial], trial, _checkpoint(experiment, "t1"))
    callback.close()
    assert len(callback.errors) == 1 and "model.pkl" in callback.errors[0]
    assert run.get_status() == "Running"  # not completed without its file


def test_a_pickled_callback_holds_no_workspace_and_restores_into_the_drivers(
    experiment: Experiment, tmp_path: Path
) -> None:
    from sweep.attach import attached

    secret = "postgresql://tracking:SeCrEt-pw-123@127.0.0.1:5/db"
    experiment.workspace._config = dataclasses.replace(
        experiment.workspace.config, tracking_uri=secret
    )  # what a PostgreSQL workspace's config holds: never opened here
    pickled = pickle.dumps(TrackingCallback(experiment))
    assert b"SeCrEt" not in pickled and b"postgresql" not in pickled

    ws = Workspace("t", tracking_uri=f"sqlite:///{tmp_path}/own.db", storage_uri=str(tmp_path))
    own = Experiment(ws, "cb")
    with attached(own) as restored:
        callback = pickle.loads(pickled)
    assert restored == [callback]
    trial = StandInTrial("t1", {"alpha": 0.1})
    callback.on_trial_start(0, [trial], trial)
    callback.on_trial_complete(0, [trial], trial)
    callback.close()
    assert [r.get_params() for r in own.get_runs()] == [{"alpha": 0.1}]
    assert list(experiment.get_runs()) == []


def test_a_run_the_database_refuses_is_failed_and_costs_no_other_run(
    pg_url: str, tmp_path: Path
) -> None:
    ws = Workspace("t", tracking_uri=pg_url, storage_uri=str(tmp_path / "s"))
    experiment = Experiment(ws, "refused")
    callback = TrackingCallback(experiment, cells=trial_cells)
    packed = StandInTrial("p1", {"cells": [{"alpha": 1}, {"alpha": 2}, {"alpha": 3}]})
    lone = StandInTrial("l1", {"cells": [{"alpha": 9}]})
    for trial in (packed, lone):
        callback.on_trial_start(0, [trial], trial)
    callback.flush()  # the lone cell's run is Running; the packed ones are not written yet
    refused = {**_cell(1, 0.0), "metrics": {"score\x00": 1.0}}  # no database takes a NUL
    packed.last_result = {"tracking.cells": [_cell(0, 2.5), refused, _cell(2, 1.5)]}
    lone.last_result = {"tracking.cells": [{**_cell(0, 0.0, "m.pkl"), "metrics": {"a\x00": 1.0}}]}
    for trial in (packed, lone):
        callback.on_checkpoint(0, [trial], trial, _checkpoint(experiment, trial.trial_id))
        callback.on_trial_complete(0, [trial], trial)
    callback.close()  # all of it in one batch

    runs = {r.get_params()["alpha"]: r for r in experiment.get_runs()}
    assert {a: r.get_status() for a, r in runs.items()} == {
        1: "Completed",
        2: "Failed",
        3: "Completed",
        9: "Failed",
    }
    assert runs[1].get_metrics() == {"rmse": 2.5} and runs[3].get_metrics() == {"rmse": 1.5}
    for alpha in (2, 9):
        error = runs[alpha].get_details()["error"]["error"]["message"]
        assert error.startswith("the tracking database refused this run's record")
    assert len(callback.errors) == 2
    assert {runs[2].id, runs[9].id} == {e.split()[4] for e in callback.errors}


def test_a_packed_trials_cells_travel_as_json_text_unless_json_would_change_them() -> None:
    from sweep.cells import cells_of, pack_value

    cells = [{"alpha": 0.1, "solver": "auto"}, {"alpha": 2, "fit_intercept": False}]
    packed = pack_value(cells)
    assert isinstance(packed, str) and cells_of(packed) == cells
    assert trial_cells({"cells": packed}) == cells
    assert trial_cells({"cells": cells}) == cells  # a config saved as a list reads the same
    tupled = [{"hidden_layer_sizes": (10, 10)}]
    assert pack_value(tupled) == tupled  # as it is: JSON would give a list back
    nan = pack_value([{"alpha": float("nan")}])
    assert isinstance(nan, list) and math.isnan(nan[0]["alpha"])
