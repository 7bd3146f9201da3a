"""Case 3: a driver killed and never resumed leaves no run `Running` forever."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tracking import Experiment, Workspace
from tracking.records import RunStatus

pytestmark = pytest.mark.ray

TIMEOUT_S = 5  # the workspace's heartbeat timeout in this test


def _statuses(folder: Path) -> dict[str, RunStatus]:
    ws = Workspace.from_config(folder)
    try:
        experiment = ws.records.get_or_create_experiment("lost")
        page = ws.records.search_runs(experiment.id, limit=1000)
        return {row.run.run_id: row.run.status for row in page.rows}
    finally:
        ws.close()


def _wait_for(check: Callable[[], bool], what: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.3)


def _open_at_once(folder: str, barrier: multiprocessing.synchronize.Barrier) -> list[str]:
    barrier.wait()
    return list(Workspace.from_config(folder).lost_runs)


def _launch(folder: Path, ray_address: str, *extra: str) -> subprocess.Popen[str]:
    args = ["--alphas", "0.1:1.0:0.1", "--experiment", "lost", "--max-concurrent", "2"]
    args += ["--estimator", "tests.helpers.estimators.SluggishRidge"]
    return subprocess.Popen(
        [sys.executable, "-m", "sweep.launch", *args, *extra],
        cwd=folder,
        env={**os.environ, "RAY_ADDRESS": ray_address},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.reliability(
    case=3,
    fault="the driver SIGKILLed mid-sweep and not resumed; two processes open the workspace "
    "at once after the heartbeat timeout",
    expected="runs alive while it beats; then its Running and Queued runs are Failed exactly once; "
    "--resume later completes every alpha once",
)
def test_a_killed_drivers_runs_are_failed_once_after_its_heartbeat_stops(
    ray_address: str, tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    config = {
        "tracking_uri": "sqlite:///records.db",
        "storage_uri": "storage",
        "heartbeat_timeout_s": TIMEOUT_S,
    }
    (tmp_path / "config.json").write_text(json.dumps(config))
    driver = _launch(tmp_path, ray_address)
    try:
        _wait_for(lambda: RunStatus.RUNNING in _statuses(tmp_path).values(), "a running run")
        # While the driver beats, opening the workspace (which fails lost runs) spares them.
        watched = time.monotonic()
        while time.monotonic() - watched < TIMEOUT_S * 1.5 and driver.poll() is None:
            assert Workspace.from_config(tmp_path).lost_runs == ()
            time.sleep(0.5)
        assert driver.poll() is None, "the sweep ended before it could be killed"
        driver.send_signal(signal.SIGKILL)
        driver.wait(timeout=30)
    finally:
        if driver.poll() is None:
            driver.kill()
            driver.wait()
    # Its cells' runs still running or queued (a sweep queues every cell's run up front).
    statuses = _statuses(tmp_path)
    at_kill = {r for r, s in statuses.items() if s in (RunStatus.RUNNING, RunStatus.QUEUED)}
    assert RunStatus.RUNNING in statuses.values()

    time.sleep(TIMEOUT_S + 1)
    context = multiprocessing.get_context("spawn")
    barrier = context.Manager().Barrier(2)
    with context.Pool(2) as pool:
        first, second = pool.starmap(_open_at_once, [(str(tmp_path), barrier)] * 2)
    assert not set(first) & set(second)
    assert set(first) | set(second) == at_kill
    ws = Workspace.from_config(tmp_path)
    for run_id in at_kill:
        record = ws.records.get_run(run_id)
        assert record.status is RunStatus.FAILED
        assert record.error is not None and record.error.startswith("lost: no heartbeat")

    # Resumed later, the lost cells get new runs: each alpha ends with one completed run.
    resumed = _launch(tmp_path, ray_address, "--resume")
    _, err = resumed.communicate(timeout=600)
    assert resumed.returncode == 0, err
    runs = list(Experiment(ws, "lost").get_runs(include_children=True, type="azureml.scriptrun"))
    completed = [r.get_params()["alpha"] for r in runs if r.status == "Completed"]
    assert sorted(completed) == sorted(round(0.1 * i, 12) for i in range(1, 11))
    record_property(
        "observed",
        f"{len(at_kill)} runs Running or Queued at the kill; after {TIMEOUT_S} s the two "
        f"openers failed {len(first)} + {len(second)} of them, none twice; none failed while "
        f"the driver lived; --resume completed all 10 alphas once ({len(runs)} runs in all)",
    )
