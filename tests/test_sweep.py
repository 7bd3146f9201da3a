"""The sweep on real Ray (one local instance shared by the session)."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sklearn.metrics import mean_squared_error

from sweep import SweepResult, SweepSpec, run_sweep
from sweep.data import load_dataset
from tracking import Experiment, Run, Workspace
from tracking.records import SCRIPT_RUN, SWEEP_RUN

pytestmark = pytest.mark.ray


def _cells(experiment: Experiment, status: str | None = None) -> list[Run]:
    """The experiment's cells' runs (children of its sweeps' parent runs), newest first."""
    return list(experiment.get_runs(include_children=True, type=SCRIPT_RUN, status=status))


def _workspace(folder: Path, storage: str | None = None, **config: str) -> Workspace:
    data = {"tracking_uri": "sqlite:///records.db", "storage_uri": storage or "storage"}
    data.update(config)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(data))
    return Workspace.from_config(folder)


def _check_default_sweep(ws: Workspace) -> None:
    experiment = Experiment(ws, "diabetes-experiment")
    runs = _cells(experiment)
    assert len(runs) == 10 and all(r.status == "Completed" for r in runs)
    alphas = sorted(r.get_metrics()["alpha_value"] for r in runs)
    assert alphas == pytest.approx([0.1 * i for i in range(1, 11)])
    for run in runs:
        metrics = run.get_metrics()
        assert set(metrics) == {"alpha_value", "rmse", "mae", "r2"}
        assert run.get_file_names() == [f"model_alpha_{run.get_params()['alpha']}.pkl"]
        properties = run.get_details()["properties"]
        assert {"ray.trial_id", "ray.node_id", "ray.job_id", "host"} <= set(properties)

    best = experiment.get_best_run("rmse")
    assert best.get_file_names() == ["model_alpha_0.1.pkl"]
    model = best.load_model("model_alpha_0.1.pkl")  # downloads, verifies SHA-256, loads
    data = load_dataset(SweepSpec().data, seed=66)
    rmse = math.sqrt(mean_squared_error(data.y_test, model.predict(data.X_test)))
    assert rmse == pytest.approx(best.get_metrics()["rmse"])


def test_default_sweep_with_local_storage(ray_address: str, tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    result = run_sweep(workspace=ws, progress=False)
    assert (result.trained, result.failed, result.reused) == (10, 0, 0) and result.ok
    assert len(result.runs) == 10
    assert result.best_run is not None and result.best_run.get_params() == {"alpha": 0.1}
    _check_default_sweep(ws)
    # The model files were registered where Tune put the checkpoints, not copied.
    best = result.best_run
    uri = best.get_files()[0].uri
    assert uri.startswith((tmp_path / "storage" / "sweeps").as_uri())
    assert not (tmp_path / "storage" / "runs").exists()


def test_default_sweep_with_s3_storage(
    ray_address: str, tmp_path: Path, s3_endpoint: str, s3_bucket: str, s3_client
) -> None:  # type: ignore[no-untyped-def]
    ws = _workspace(tmp_path, f"s3://{s3_bucket}/team", s3_endpoint_url=s3_endpoint)
    result = run_sweep(workspace=ws, progress=False)
    assert result.ok and result.trained == 10
    _check_default_sweep(ws)
    listed = s3_client.list_objects_v2(Bucket=s3_bucket, Prefix="team/sweeps/")
    keys = [o["Key"] for o in listed.get("Contents", [])]
    models = [k for k in keys if k.rsplit("/", 1)[-1].startswith("model_alpha_")]
    assert len(models) == 10


def test_extending_the_grid_trains_only_new_cells(ray_address: str, tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    first = run_sweep(workspace=ws, progress=False, alphas=[0.1, 0.2], experiment="grow")
    assert (first.trained, first.reused) == (2, 0)
    second = run_sweep(workspace=ws, progress=False, alphas=[0.1, 0.2, 0.3], experiment="grow")
    assert (second.trained, second.reused) == (1, 2)
    third = run_sweep(workspace=ws, progress=False, alphas=[0.2, 0.3], experiment="grow")
    assert (third.trained, third.reused) == (0, 2)
    runs = _cells(Experiment(ws, "grow"))
    assert sorted(r.get_params()["alpha"] for r in runs) == [0.1, 0.2, 0.3]


def test_a_failing_trial_is_recorded_failed_and_the_others_complete(
    ray_address: str, tmp_path: Path
) -> None:
    ws = _workspace(tmp_path)

    def sweep() -> SweepResult:
        return run_sweep(
            workspace=ws,
            progress=False,
            alphas=[0.1, 0.2, 0.3],
            experiment="faulty",
            estimator="tests.helpers.estimators.FailingRidge",
        )

    result = sweep()
    assert (result.trained, result.failed) == (3, 1) and not result.ok
    by_alpha = {r.get_params()["alpha"]: r for r in _cells(Experiment(ws, "faulty"))}
    assert {a: r.status for a, r in by_alpha.items()} == {
        0.1: "Completed",
        0.2: "Failed",
        0.3: "Completed",
    }
    error = by_alpha[0.2].get_details()["error"]["error"]["message"]
    assert "planted failure for alpha 0.2" in error
    assert by_alpha[0.2].get_file_names() == []
    # A rerun retries the failed cell only.
    rerun = sweep()
    assert (rerun.trained, rerun.reused) == (1, 2)


def test_max_failures_retries_a_failed_trial_into_the_same_run(
    ray_address: str, tmp_path: Path
) -> None:
    ws = _workspace(tmp_path)
    options = {"alphas": [0.1, 0.2], "experiment": "flaky", "progress": False}
    estimator = "tests.helpers.estimators.FlakyRidge"
    result = run_sweep(workspace=ws, estimator=estimator, max_failures=1, **options)
    assert (result.trained, result.failed) == (2, 0) and result.ok
    runs = _cells(Experiment(ws, "flaky"))
    assert sorted(r.get_params()["alpha"] for r in runs) == [0.1, 0.2]
    assert all(r.status == "Completed" and r.get_tags()["ray.retries"] == "1" for r in runs)


def test_packed_cells_are_runs_each_with_its_model_and_status(
    ray_address: str, tmp_path: Path
) -> None:
    ws = _workspace(tmp_path)
    alphas = [0.1, 0.2, 0.3, 0.4, 0.5]
    estimator = "tests.helpers.estimators.FailingRidge"
    result = run_sweep(
        workspace=ws, alphas=alphas, pack=3, estimator=estimator, experiment="packed",
        progress=False,
    )  # fmt: skip
    assert (result.trained, result.failed) == (5, 1)
    runs = {r.get_params()["alpha"]: r for r in _cells(Experiment(ws, "packed"))}
    assert sorted(runs) == alphas
    assert len({r.properties["ray.trial_id"] for r in runs.values()}) == 2  # 3 + 2 cells
    failed = runs.pop(0.2)
    assert failed.status == "Failed" and failed.get_file_names() == []
    assert "planted failure for alpha 0.2" in failed.get_details()["error"]["error"]["message"]
    data = load_dataset(SweepSpec().data, seed=66)
    for alpha, run in runs.items():
        assert run.status == "Completed"
        model = run.load_model(f"model_alpha_{alpha}.pkl")
        rmse = math.sqrt(mean_squared_error(data.y_test, model.predict(data.X_test)))
        assert rmse == pytest.approx(run.get_metrics()["rmse"])
    # In a storage folder each model is written once, in its trial's models/ folder; Tune's
    # checkpoints hold only the count of cells done, and no partial file is left.
    stored = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    models = [p for p in stored if p.suffix == ".pkl" and p.name.startswith("model_")]
    assert len(models) == 4 and {p.parent.name for p in models} == {"models"}
    assert not [p for p in stored if p.name.endswith(".part")]
    assert {p.name for p in stored if "checkpoint_" in str(p)} == {"pack.json"}


def test_cells_are_queued_up_front_in_grid_order(ray_address: str, tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    alphas = ["0.5", "0.1", "0.4", "0.2", "0.3", "0.6"]  # the grid's order, not sorted
    slow = "tests.helpers.estimators.SlowRidge"
    args = ["--alphas", ",".join(alphas), "--experiment", "queued", "--pack", "2",
            "--max-concurrent", "1", "--estimator", slow]  # fmt: skip
    process = _launch(args, tmp_path, ray_address)
    first: list[Run] = []
    deadline = time.monotonic() + 240
    while not first and process.poll() is None:
        assert time.monotonic() < deadline, "no run was recorded"
        if "queued" in ws.experiments:
            first = _cells(Experiment(ws, "queued"))
        time.sleep(0.2)
    # The first time any cell shows, every cell does, in grid order, most still queued.
    assert len(first) == 6, [(r.number, r.status) for r in first]
    assert [str(r.get_params()["alpha"]) for r in sorted(first, key=lambda r: r.number)] == alphas
    assert {r.status for r in first} <= {"Queued", "Running", "Completed"}
    assert sum(r.status == "Queued" for r in first) >= 4
    _, err = process.communicate(timeout=300)
    assert process.returncode == 0, err
    runs = sorted(_cells(Experiment(ws, "queued")), key=lambda r: r.number)
    assert [str(r.get_params()["alpha"]) for r in runs] == alphas
    assert [r.number for r in runs] == [2, 3, 4, 5, 6, 7]  # after the sweep's parent, run 1
    assert all(r.status == "Completed" for r in runs)
    details = [r.get_details() for r in runs]
    assert all(d["startTimeUtc"] < d["endTimeUtc"] for d in details)  # each cell's own times
    # A wider grid queues only its new cells, after the runs already there.
    wider = run_sweep(workspace=ws, progress=False, experiment="queued", pack=2, estimator=slow,
                      alphas=[float(a) for a in [*alphas, "0.8", "0.7"]])  # fmt: skip
    assert (wider.trained, wider.reused) == (2, 6)
    new = sorted(_cells(Experiment(ws, "queued")), key=lambda r: r.number)[6:]
    assert [(r.number, r.get_params()["alpha"]) for r in new] == [(9, 0.8), (10, 0.7)]


def test_a_packed_trial_retried_after_its_worker_died_resumes_at_its_checkpoint(
    ray_address: str, tmp_path: Path, flaky_markers: Path
) -> None:
    """Cells report every 2 s: 0.1 and 0.2 are checkpointed before 0.4 kills the worker."""
    ws = _workspace(tmp_path)
    alphas = [0.1, 0.2, 0.3, 0.4]
    result = run_sweep(
        workspace=ws, alphas=alphas, pack=4, max_failures=1, experiment="lost-worker",
        estimator="tests.helpers.estimators.CountedRidge", progress=False,
    )  # fmt: skip
    assert (result.trained, result.failed) == (4, 0) and result.ok
    runs = _cells(Experiment(ws, "lost-worker"))
    assert sorted(r.get_params()["alpha"] for r in runs) == alphas
    assert all(r.status == "Completed" for r in runs)
    fits = {a: len(list((flaky_markers / "counted").glob(f"alpha-{a}-*"))) for a in alphas}
    assert fits[0.1] == fits[0.2] == 1  # not retrained: they were in the checkpoint
    assert fits[0.4] == 2


def _launch(args: list[str], cwd: Path, ray_address: str) -> subprocess.Popen[str]:
    env = {**os.environ, "RAY_ADDRESS": ray_address}
    return subprocess.Popen(
        [sys.executable, "-m", "sweep.launch", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_launch_runs_the_sweep_and_prints_the_leaderboard(ray_address: str, tmp_path: Path) -> None:
    _workspace(tmp_path)
    process = _launch(["--alphas", "0.1:0.3:0.1", "--experiment", "cli"], tmp_path, ray_address)
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err
    assert "Best run:" in out and "alpha=0.1" in out
    assert "model_alpha_0.1.pkl" in out
    assert "download_file('model_alpha_0.1.pkl')" in out
    assert "runs 3/3" in err  # plain progress lines when not on a terminal
    assert "Traceback" not in err
    runs = _cells(Experiment(Workspace.from_config(tmp_path), "cli"))
    assert sorted(r.get_params()["alpha"] for r in runs) == [0.1, 0.2, 0.3]


def test_two_drivers_sweeping_into_one_postgresql_workspace(
    ray_address: str, tmp_path: Path, pg_url: str
) -> None:
    _workspace(tmp_path, tracking_uri=pg_url)
    grids = ["0.1:1.0:0.1", "1.1:2.0:0.1"]
    drivers = [
        _launch(["--alphas", g, "--experiment", "shared"], tmp_path, ray_address) for g in grids
    ]
    for driver in drivers:
        _, err = driver.communicate(timeout=300)
        assert driver.returncode == 0, err
    ws = Workspace.from_config(tmp_path)
    experiment = Experiment(ws, "shared")
    runs = _cells(experiment)
    alphas = sorted(r.get_params()["alpha"] for r in runs)
    assert alphas == pytest.approx([round(0.1 * i, 1) for i in range(1, 21)])
    assert all(r.status == "Completed" and r.get_file_names() for r in runs)
    # One parent per driver, each with its own ten cells; no number is taken twice.
    parents = list(experiment.get_runs())
    assert [p.type for p in parents] == [SWEEP_RUN, SWEEP_RUN]
    assert all(len(list(p.get_children())) == 10 for p in parents)
    assert sorted(r.number for r in [*runs, *parents]) == list(range(1, 23))


@pytest.mark.reliability(
    case=2,
    fault=(
        "the sweep driver (python -m sweep.launch, 20 alphas) SIGKILLed after 4 runs completed, "
        "then rerun with --resume"
    ),
    expected=(
        "no run lost, none duplicated (20 alphas, 20 Completed runs), runs finished before the "
        "kill neither retrained nor touched"
    ),
)
def test_killed_driver_resumes_without_losing_or_duplicating_runs(
    ray_address: str, tmp_path: Path
) -> None:
    ws = _workspace(tmp_path)
    args = [
        "--alphas",
        "0.1:2.0:0.1",
        "--experiment",
        "killed",
        "--max-concurrent",
        "1",
        "--estimator",
        "tests.helpers.estimators.SlowRidge",
    ]
    process = _launch(args, tmp_path, ray_address)
    experiment = None
    deadline = time.monotonic() + 240
    completed_before: dict[str, str] = {}
    while time.monotonic() < deadline:
        time.sleep(0.5)
        if process.poll() is not None:
            pytest.fail(f"the sweep ended before it was killed: {process.communicate()[1]}")
        if experiment is None and "killed" in ws.experiments:
            experiment = Experiment(ws, "killed")
        if experiment is not None:
            done = _cells(experiment, "Completed")
            if len(done) >= 4:
                completed_before = {r.id: r.get_details()["endTimeUtc"] for r in done}
                break
    assert completed_before, "the sweep made no progress before the deadline"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert experiment is not None
    # (A trial in flight may have no run yet: the writer records a quarter second at a time.)
    interrupted = _cells(experiment)
    assert len([r for r in interrupted if r.status == "Completed"]) < 20, "not interrupted"

    resumed = _launch([*args, "--resume"], tmp_path, ray_address)
    _, err = resumed.communicate(timeout=400)
    assert resumed.returncode == 0, err
    runs = _cells(experiment)
    alphas = [r.get_params()["alpha"] for r in runs if r.status == "Completed"]
    assert sorted(alphas) == pytest.approx([round(0.1 * i, 1) for i in range(1, 21)])
    assert len(alphas) == len(set(alphas)) == 20
    assert all(r.status == "Completed" for r in runs), [(r.number, r.status) for r in runs]
    # Runs finished before the kill were neither retrained nor touched.
    for run_id, end in completed_before.items():
        assert next(r for r in runs if r.id == run_id).get_details()["endTimeUtc"] == end
    # The resumed driver took over the killed one's parent (still running: its heartbeat
    # had not timed out), and ended it: one sweep, one parent of all twenty cells.
    (parent,) = experiment.get_runs()
    assert parent.type == SWEEP_RUN and parent.status == "Completed"
    assert {r.id for r in parent.get_children()} == {r.id for r in runs}
