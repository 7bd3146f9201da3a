"""`TrackingCallback` in a Ray Tune user's own `Tuner`, on real Ray (issue 14).

The user's trainable (tests.helpers.user_code.train_sgd) trains SGDRegressor one epoch at a
time, reports nested metrics every epoch and a checkpoint every 5 epochs; trials run one
at a time, so that ASHA's decisions are the same on every run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.user_code import EPOCHS, train_sgd
from tracking import Experiment, Run, Workspace

pytestmark = pytest.mark.ray

GOOD = {"alpha": 0.0001, "eta0": 0.01}
BAD = {"alpha": 10.0, "eta0": 0.00001}  # barely moves: ASHA stops it at its first rung


def _workspace(folder: Path, **config: str) -> Workspace:
    data = {"tracking_uri": "sqlite:///records.db", "storage_uri": "storage", **config}
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(data))
    return Workspace.from_config(folder)


def _fit(experiment: Experiment, **run_config: Any) -> Any:
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler

    from sweep.callback import TrackingCallback

    callback = TrackingCallback(experiment)
    tuner = tune.Tuner(
        train_sgd,
        param_space={"model": tune.grid_search([GOOD, BAD])},
        tune_config=tune.TuneConfig(
            metric="rmse",
            mode="min",
            scheduler=ASHAScheduler(max_t=EPOCHS, grace_period=2, reduction_factor=3),
            max_concurrent_trials=1,
        ),
        run_config=tune.RunConfig(
            callbacks=[callback],
            checkpoint_config=tune.CheckpointConfig(num_to_keep=2),
            verbose=0,
            **run_config,
        ),
    )
    try:
        grid = tuner.fit()
    finally:
        callback.close()
    assert callback.errors == []
    return grid


def _runs(experiment: Experiment) -> dict[float, Run]:
    return {r.get_params()["model/eta0"]: r for r in experiment.get_runs()}


def test_a_users_tuner_with_tunes_default_storage(ray_address: str, tmp_path: Path) -> None:
    """Checkpoints outside the workspace are copied in; deleted ones are marked; ASHA's
    early stop is Canceled; nested params and metrics are flattened; times are the trial's."""
    ws = _workspace(tmp_path)
    experiment = Experiment(ws, "user-default-storage")
    name = f"user-tuner-{uuid.uuid4().hex[:8]}"
    grid = _fit(experiment, name=name)  # no storage_path: Tune's default, ~/ray_results
    try:
        assert not Path(grid.experiment_path).is_relative_to(tmp_path)
        runs = _runs(experiment)
        good, bad = runs[GOOD["eta0"]], runs[BAD["eta0"]]

        # 4: params and metrics flattened with '/', as Ray's logger callbacks do.
        assert good.get_params() == {"model/alpha": GOOD["alpha"], "model/eta0": GOOD["eta0"]}
        metrics = good.get_metrics()
        assert set(metrics) == {"rmse", "val/rmse", "val/r2"}
        assert len(metrics["val/rmse"]) == EPOCHS

        # 3: ASHA stopped the bad trial at its first rung; the good one ran to max_t.
        assert good.get_status() == "Completed"
        assert "stopped_by" not in good.properties
        assert bad.get_status() == "Canceled"
        assert bad.properties["stopped_by"] == "AsyncHyperBandScheduler"  # ASHAScheduler
        assert bad.properties["stopped_at_iteration"] == "2"
        assert len(bad.get_metrics()["rmse"]) == 2 and bad.get_file_names() == []

        # 1 and 2: every checkpoint listed under its folder's name, copied in once; the two
        # that num_to_keep=2 deleted are marked removed, and their copies are gone too.
        names = [f"checkpoint_00000{i}/model.pkl" for i in range(4)]
        assert good.get_file_names() == names
        removed = json.loads(good.get_tags()["removed_files"])
        assert removed == names[:2]
        files = {f.name: f for f in ws.records.list_files(good.id)}
        assert all(files[n].uri == f"runs/{good.id}/{n}" for n in names)
        stored = {o.key for o in ws.artifacts.list_objects(f"runs/{good.id}/")}
        assert stored == {f"runs/{good.id}/{n}" for n in names[2:]}
        model = good.load_model(names[3])  # hash-checked
        assert hasattr(model, "coef_")
        best = grid.get_best_result()
        assert best.metrics["rmse"] == pytest.approx(metrics["rmse"][-1])

        # 5: each run's times are its trial's own: one ran after the other.
        first, second = good.get_details(), bad.get_details()
        assert first["startTimeUtc"] < first["endTimeUtc"] <= second["startTimeUtc"]
        assert second["startTimeUtc"] < second["endTimeUtc"]
    finally:
        shutil.rmtree(grid.experiment_path, ignore_errors=True)


def test_a_users_tuner_with_storage_in_the_workspace_and_a_stopper(
    ray_address: str, tmp_path: Path
) -> None:
    """Checkpoints inside the workspace's storage are registered where they lie; a trial a
    stopper ended is Canceled, naming the stopper and the iteration."""
    from ray.tune.stopper import MaximumIterationStopper

    ws = _workspace(tmp_path)
    experiment = Experiment(ws, "user-inside-storage")
    storage = tmp_path / "storage" / "tune"
    _fit(experiment, storage_path=str(storage), stop=MaximumIterationStopper(12))
    runs = _runs(experiment)
    good, bad = runs[GOOD["eta0"]], runs[BAD["eta0"]]
    assert (good.get_status(), bad.get_status()) == ("Canceled", "Canceled")
    assert good.properties["stopped_by"] == "MaximumIterationStopper"
    assert good.properties["stopped_at_iteration"] == "12"
    assert bad.properties["stopped_by"] == "AsyncHyperBandScheduler"
    names = [f"checkpoint_00000{i}/model.pkl" for i in range(2)]
    assert good.get_file_names() == names
    assert "removed_files" not in good.get_tags()
    for record in ws.records.list_files(good.id):
        assert record.uri.startswith("tune/")  # by key, where Tune put it: not copied
        assert (tmp_path / "storage" / record.uri).is_file()
    assert not (tmp_path / "storage" / "runs").exists()
    assert good.load_model(names[1]) is not None


def test_run_sweep_exposes_tunes_results_and_leaves_the_environment_as_it_was(
    ray_address: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sweep import run_sweep

    monkeypatch.delenv("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", raising=False)
    monkeypatch.setenv("RAY_AIR_NEW_OUTPUT", "1")
    before = dict(os.environ)
    result = run_sweep(
        workspace=_workspace(tmp_path), alphas=[0.1, 0.2], experiment="grid", progress=False
    )
    assert dict(os.environ) == before
    assert result.result_grid is not None and len(result.result_grid) == 2
    assert not result.result_grid.errors


def test_run_sweep_passes_a_runtime_env_and_shows_the_workers_output(
    ray_address: str, tmp_path: Path
) -> None:
    _workspace(tmp_path)
    code = (
        "from sweep import run_sweep\n"
        "r = run_sweep(alphas=[0.1], experiment='env', progress=False,\n"
        "              estimator='tests.helpers.user_code.ChattyRidge',\n"
        "              runtime_env={'env_vars': {'SWEEP_TEST_MARK': 'from-runtime-env'}})\n"
        "assert r.ok, r\n"
    )
    env = {**os.environ, "RAY_ADDRESS": ray_address}
    env.pop("SWEEP_TEST_MARK", None)
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "worker says: mark=from-runtime-env" in done.stdout + done.stderr


def test_a_driver_exiting_right_after_its_trials_waits_for_their_last_output() -> None:
    """Ray forwards worker output about every half second: a script that ends at once
    after `run_sweep` still shows its trials' last lines (the exit hook waits for them)."""
    code = (
        "import time\n"
        "from sweep import raystart\n"
        "raystart.OUTPUT_LAG_S = 0.6\n"
        "raystart._let_worker_output_arrive()  # no trials yet: no wait\n"
        "started = time.monotonic(); raystart._let_worker_output_arrive()\n"
        "assert time.monotonic() - started < 0.1\n"
        "raystart.trials_ended()\n"
        "started = time.monotonic(); raystart._let_worker_output_arrive()\n"
        "print(time.monotonic() - started)\n"
        "raystart.trials_ended(); time.sleep(0.7)  # ended long enough ago: no wait\n"
        "started = time.monotonic(); raystart._let_worker_output_arrive()\n"
        "print(time.monotonic() - started)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    just_after, long_after = map(float, done.stdout.split())
    assert 0.5 < just_after < 0.6 + 1.0  # the rest of the lag (a busy machine may oversleep)
    assert long_after < 0.1


def test_data_on_s3_is_read_from_the_workspaces_endpoint(
    ray_address: str, tmp_path: Path, s3_endpoint: str, s3_bucket: str, s3_client: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    from sweep import DataSpec, run_sweep

    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3", raising=False)
    rows = "\n".join(f"{i},{i % 7},{2 * i + 1}" for i in range(40))
    s3_client.put_object(Bucket=s3_bucket, Key="data/table.csv", Body=f"a,b,y\n{rows}\n")
    ws = _workspace(tmp_path, s3_endpoint_url=s3_endpoint)  # storage stays a local folder
    result = run_sweep(
        workspace=ws, alphas=[0.1], experiment="s3-data", progress=False,
        data=DataSpec(path=f"s3://{s3_bucket}/data/table.csv", target="y"),
    )  # fmt: skip
    assert result.ok and result.trained == 1
