"""The sweep on a multi-node Ray cluster (three Ray nodes on this machine), with S3 storage."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT
from tests.helpers.cluster import running
from tracking import Experiment, Run, Workspace

pytestmark = pytest.mark.cluster


TOKEN = secrets.token_hex(32)
# Token authentication on, as `ray start` has it; clients present the same token.
AUTH = {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": TOKEN}


@pytest.fixture(scope="module")
def cluster() -> Iterator[dict[str, Any]]:
    """A head node without CPUs and two 1-CPU worker nodes, in a helper process."""
    # The nodes' workers import test helpers (a slow estimator) from the repository.
    with running({**os.environ, "PYTHONPATH": str(ROOT), **AUTH}) as started:
        yield started


def _project(folder: Path, bucket: str, endpoint: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    config = {
        "tracking_uri": f"sqlite:///{folder / 'records.db'}",
        "storage_uri": f"s3://{bucket}/team",
        "s3_endpoint_url": endpoint,
    }
    (folder / "config.json").write_text(json.dumps(config))
    return folder


def _driver(args: list[str], cwd: Path, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "sweep.launch", *args],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT), **AUTH, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _check_every_alpha_once(experiment: Experiment, alphas: list[float]) -> list[Any]:
    runs = list(experiment.get_runs(include_children=True, type="azureml.scriptrun"))
    assert all(r.status == "Completed" for r in runs), [(r.number, r.status) for r in runs]
    assert sorted(r.get_params()["alpha"] for r in runs) == pytest.approx(alphas)
    for run in runs:
        (name,) = run.get_file_names()
        run.load_model(name)  # downloads from the S3 endpoint, verifies SHA-256, loads
    return runs


def test_trials_spread_over_nodes_with_checkpoints_on_s3(
    cluster: dict[str, Any], tmp_path: Path, s3_endpoint: str, s3_bucket: str
) -> None:
    project = _project(tmp_path, s3_bucket, s3_endpoint)
    driver = _driver(
        [
            "--address",
            cluster["address"],
            "--alphas",
            "0.1:0.6:0.1",
            "--experiment",
            "multi",
            "--estimator",
            "tests.helpers.estimators.SlowRidge",
        ],
        project,
    )
    _, err = driver.communicate(timeout=300)
    assert driver.returncode == 0, err
    experiment = Experiment(Workspace.from_config(project), "multi")
    runs = _check_every_alpha_once(experiment, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
    nodes = {r.properties["ray.node_id"] for r in runs}
    assert len(nodes) >= 2
    assert all(r.get_files()[0].uri.startswith(f"s3://{s3_bucket}/team/sweeps/") for r in runs)


def test_a_job_submitted_through_the_job_api_lands_in_the_workspace(
    cluster: dict[str, Any], tmp_path: Path, s3_endpoint: str, s3_bucket: str
) -> None:
    project = _project(tmp_path, s3_bucket, s3_endpoint)
    command = [
        sys.executable, "-m", "ray.scripts.scripts", "job", "submit",
        "--address", cluster["dashboard"], "--working-dir", str(ROOT), "--",
        "python", "-m", "sweep.launch", "--config", str(project / "config.json"),
        "--alphas", "0.1,0.2", "--experiment", "job",
    ]  # fmt: skip
    deadline = time.monotonic() + 60
    while True:
        submit = subprocess.run(
            command, capture_output=True, text=True, timeout=300, env={**os.environ, **AUTH}
        )
        # A new head node takes a moment before its agent
        # accepts jobs.
        if "No available agent to submit job" not in submit.stderr + submit.stdout:
            break
        if time.monotonic() > deadline:
            break
        time.sleep(3)
    assert submit.returncode == 0, submit.stdout[-3000:] + submit.stderr[-3000:]
    assert "Best run:" in submit.stdout
    experiment = Experiment(Workspace.from_config(project), "job")  # from the laptop side
    runs = _check_every_alpha_once(experiment, [0.1, 0.2])
    assert {r.properties["ray.job_id"] for r in runs} != {""}


SCRIPT = """\
import argparse, time
from tracking import Run

parser = argparse.ArgumentParser()
parser.add_argument("--lr", type=float)
args = parser.parse_args()
run = Run.get_context()
for epoch in (1, 2):
    time.sleep(1)
    run.log("loss", args.lr / epoch)
with open("outputs/weights.txt", "w") as handle:
    handle.write(f"lr={args.lr}")
"""


def test_a_script_sweep_spreads_over_nodes_with_its_outputs_on_s3(
    cluster: dict[str, Any], tmp_path: Path, s3_endpoint: str, s3_bucket: str
) -> None:
    project = _project(tmp_path, s3_bucket, s3_endpoint)
    (project / "train.py").write_text(SCRIPT)
    args = ["--address", cluster["address"], "--script", "train.py"]
    args += ["--param", "lr=0.1,0.2,0.3,0.4", "--metric", "loss", "--mode", "min"]
    driver = _driver(args, project)
    _, err = driver.communicate(timeout=300)
    assert driver.returncode == 0, err
    experiment = Experiment(Workspace.from_config(project), "train")
    runs = list(experiment.get_runs(include_children=True, type="azureml.scriptrun"))
    assert sorted(r.get_params()["lr"] for r in runs) == [0.1, 0.2, 0.3, 0.4]
    assert all(r.status == "Completed" for r in runs)
    assert len({r.properties["ray.node_id"] for r in runs}) >= 2
    for run in runs:
        lr = run.get_params()["lr"]
        assert run.get_metrics()["loss"] == pytest.approx([lr, lr / 2])
        (weights,) = [f for f in run.get_files() if f.name == "outputs/weights.txt"]
        assert weights.uri.startswith(f"s3://{s3_bucket}/team/sweeps/")
        run.download_file("outputs/weights.txt", str(tmp_path / f"{lr}.txt"))  # hash-checked
        assert (tmp_path / f"{lr}.txt").read_text() == f"lr={lr}"


HYPERDRIVE_FLOW = """\
from tracking import Experiment, Workspace
from sweep.hyperdrive import (
    BanditPolicy, BayesianParameterSampling, ComputeTarget, GridParameterSampling,
    HyperDriveConfig, PrimaryMetricGoal, RandomParameterSampling, ScriptRunConfig, choice,
    uniform,
)

ws = Workspace.from_config()
target = ComputeTarget(workspace=ws, name="ray-cluster")
experiment = Experiment(ws, name="hd")
src = ScriptRunConfig(source_directory="src", script="train.py", arguments=["--lr", 0.1],
                      compute_target=target)
run = experiment.submit(src)
run.wait_for_completion(show_output=True)
sampling = GridParameterSampling({"--lr": choice(0.1, 0.2, 0.3, 0.4)})
goal = PrimaryMetricGoal.MINIMIZE
config = HyperDriveConfig(run_config=src, hyperparameter_sampling=sampling,
                          primary_metric_name="loss", primary_metric_goal=goal,
                          max_total_runs=4, max_concurrent_runs=2)
hd_run = experiment.submit(config)
hd_run.wait_for_completion(show_output=True)
best = hd_run.get_best_run_by_primary_metric()
model = best.register_model(model_name="weights", model_path="outputs/weights.txt")
print("RESULT", run.id, hd_run.id, best.id, model.id)
others = [
    (RandomParameterSampling({"--lr": uniform(0.1, 0.5)}), BanditPolicy(slack_factor=0.5)),
    (BayesianParameterSampling({"--lr": uniform(0.1, 0.5)}), None),
]
for sampling, policy in others:
    config = HyperDriveConfig(run_config=src, hyperparameter_sampling=sampling, policy=policy,
                              primary_metric_name="loss", primary_metric_goal=goal,
                              max_total_runs=2, max_concurrent_runs=2)
    other = experiment.submit(config)
    other.wait_for_completion()
    print("OTHER", other.id)
"""


def test_a_hyperdrive_run_submitted_to_a_named_compute_target_runs_on_the_cluster(
    cluster: dict[str, Any], tmp_path: Path, s3_endpoint: str, s3_bucket: str
) -> None:
    project = _project(tmp_path, s3_bucket, s3_endpoint)
    config = json.loads((project / "config.json").read_text())
    config["compute_targets"] = {"ray-cluster": {"address": cluster["address"]}}
    (project / "config.json").write_text(json.dumps(config))
    (project / "src").mkdir()
    (project / "src" / "train.py").write_text(SCRIPT)
    (project / "flow.py").write_text(HYPERDRIVE_FLOW)
    done = subprocess.run(
        [sys.executable, "flow.py"],
        cwd=project,
        env={**os.environ, "PYTHONPATH": str(ROOT), **AUTH},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = next(line for line in done.stdout.splitlines() if line.startswith("RESULT"))
    run_id, hd_id, best_id, model_id = result.split()[1:]
    experiment = Experiment(Workspace.from_config(project), "hd")
    assert Run(experiment, run_id).get_metrics()["loss"] == pytest.approx([0.1, 0.05])
    children = list(Run(experiment, hd_id).get_children())
    assert sorted(c.get_params()["lr"] for c in children) == [0.1, 0.2, 0.3, 0.4]
    assert all(c.status == "Completed" for c in children)
    assert len({c.properties["ray.node_id"] for c in children}) >= 2
    assert Run(experiment, best_id).get_params()["lr"] == 0.1 and model_id == "weights:1"
    others = [line.split()[1] for line in done.stdout.splitlines() if line.startswith("OTHER")]
    assert len(others) == 2  # random with a Bandit policy, and Bayesian
    for other in others:
        parent = Run(experiment, other)
        assert parent.get_status() == "Completed"
        runs = list(parent.get_children())
        assert len(runs) == 2 and all(0.1 <= r.get_params()["lr"] <= 0.5 for r in runs)
        assert all(r.status in ("Completed", "Canceled") for r in runs)


@pytest.mark.reliability(
    case=10,
    fault="a job POSTed to the local cluster's dashboard job API without the Ray auth token",
    expected="refused with 401/403",
)
def test_job_submission_without_the_token_is_refused(cluster: dict[str, Any]) -> None:
    body = json.dumps({"entrypoint": "echo pwned"}).encode()
    request = urllib.request.Request(
        f"{cluster['dashboard']}/api/jobs/",
        data=body,
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code in (401, 403)


@pytest.mark.reliability(
    case=10,
    fault="python -m sweep.launch --address <cluster> without the Ray auth token",
    expected="exit 2 with one line naming the token, nothing written to the workspace",
)
def test_a_driver_without_the_token_stops_before_scheduling(
    cluster: dict[str, Any], tmp_path: Path, s3_endpoint: str, s3_bucket: str
) -> None:
    project = _project(tmp_path, s3_bucket, s3_endpoint)
    driver = _driver(
        ["--address", cluster["address"], "--alphas", "0.1", "--experiment", "notoken"],
        project,
        HOME=str(tmp_path),  # no ~/.ray/auth_token there
        RAY_AUTH_TOKEN="",
    )
    _, err = driver.communicate(timeout=120)
    assert driver.returncode == 2, err
    lines = [line for line in err.splitlines() if line.startswith("sweep:")]
    assert len(lines) == 1 and "token" in lines[0].lower(), err
    assert "notoken" not in Workspace.from_config(project).experiments  # nothing written


@pytest.mark.reliability(
    case=1,
    fault="a worker node of a 3-node local Ray cluster killed mid-sweep (--max-failures 3)",
    expected="the sweep exits 0 and every alpha has exactly one Completed run",
)
def test_a_worker_node_killed_mid_sweep_ends_with_every_alpha_once(
    cluster: dict[str, Any], tmp_path: Path, s3_endpoint: str, s3_bucket: str
) -> None:
    project = _project(tmp_path, s3_bucket, s3_endpoint)
    alphas = [round(0.1 * i, 1) for i in range(1, 7)]
    # 3 s fits on 2 worker slots: the sweep is still running well after two of its runs
    # show Completed (records lag trials by up to the callback's 1 s batch window).
    driver = _driver(
        [
            "--address",
            cluster["address"],
            "--alphas",
            "0.1:0.6:0.1",
            "--experiment",
            "lost",
            "--estimator",
            "tests.helpers.estimators.SluggishRidge",
            "--max-failures",
            "3",
        ],
        project,
    )
    ws = Workspace.from_config(project)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and driver.poll() is None:
        if (
            "lost" in ws.experiments
            and len(
                list(
                    Experiment(ws, "lost").get_runs(
                        status="Completed", include_children=True, type="azureml.scriptrun"
                    )
                )
            )
            >= 2
        ):
            break
        time.sleep(0.3)
    assert driver.poll() is None, "the sweep finished before a node could be killed"
    helper = cluster["process"]
    helper.stdin.write("kill-worker\n")
    helper.stdin.flush()
    assert "killed" in json.loads(helper.stdout.readline())
    _, err = driver.communicate(timeout=400)
    assert driver.returncode == 0, err
    # Whether a trial was in flight on the lost node depends on timing: each alpha still
    # ends with exactly one completed run (a retried trial keeps its run, tagged ray.retries).
    _check_every_alpha_once(Experiment(ws, "lost"), alphas)
