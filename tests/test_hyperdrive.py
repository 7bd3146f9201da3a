"""Azure v1's ScriptRunConfig and HyperDrive on the shared Ray, as the scikit-learn sample
uses them (`train_iris.py`-shaped script of our own): submit, wait, the best child by the
primary metric, its model registered; cancel; and bad input refused before anything runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from sweep.errors import SweepInputError
from sweep.hyperdrive import (
    AmlCompute,
    BanditPolicy,
    BayesianParameterSampling,
    ComputeTarget,
    ComputeTargetException,
    Environment,
    GridParameterSampling,
    HyperDriveConfig,
    PrimaryMetricGoal,
    RandomParameterSampling,
    RunDetails,
    ScriptRunConfig,
    choice,
    uniform,
)
from tracking import Experiment, Model, Workspace
from tracking.errors import RunFailedError, UnsupportedError

TRAIN_IRIS = """\
import argparse, os, time
import joblib
from sklearn import datasets
from sklearn.model_selection import train_test_split
from sklearn.svm import SVC
from tracking import Run

run = Run.get_context()

def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--kernel", type=str, default="linear")
    parser.add_argument("--penalty", type=float, default=1.0)
    parser.add_argument("--sleep", type=float, default=0.0)
    args = parser.parse_args()
    run.log("Kernel type", args.kernel)
    run.log("Penalty", args.penalty)
    time.sleep(args.sleep)
    if args.penalty < 0:
        raise ValueError("penalty must be positive")
    X, y = datasets.load_iris(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    model = SVC(kernel=args.kernel, C=args.penalty).fit(X_train, y_train)
    run.log("Accuracy", float(model.score(X_test, y_test)))
    os.makedirs("outputs", exist_ok=True)
    joblib.dump(model, "outputs/model.joblib")
    print("trained", args.kernel, args.penalty)

if __name__ == "__main__":
    main()
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "sklearn-iris"
    folder.mkdir()
    (folder / "train_iris.py").write_text(TRAIN_IRIS)
    return folder


def _experiment(tmp_path: Path) -> Experiment:
    ws = Workspace(
        "w", tracking_uri=f"sqlite:///{tmp_path / 'records.db'}", storage_uri=str(tmp_path / "s")
    )
    return Experiment(ws, "train_iris")


def _src(project: Path, *arguments: Any) -> ScriptRunConfig:
    return ScriptRunConfig(
        source_directory=str(project),
        script="train_iris.py",
        arguments=["--kernel", "linear", "--penalty", 1.0, *arguments],
    )


@pytest.mark.ray
def test_a_submitted_script_runs_on_ray_and_is_waited_for(
    ray_address: str, project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    experiment = _experiment(tmp_path)
    run = experiment.submit(_src(project), tags={"stage": "first"})
    details = run.wait_for_completion(show_output=True)
    assert details["status"] == "Completed"
    assert details["runDefinition"]["arguments"] == ["--kernel", "linear", "--penalty", "1.0"]
    assert f"RunId: {run.id}" in capsys.readouterr().out
    RunDetails(run).show()  # azureml.widgets' monitor: the status and the portal link
    assert f"{run.id}: Completed; see {run.portal_url}" in capsys.readouterr().out
    metrics = run.get_metrics()
    assert metrics["Kernel type"] == "linear" and metrics["Penalty"] == 1.0
    assert 0.9 <= metrics["Accuracy"] <= 1
    assert set(run.get_file_names()) == {"outputs/model.joblib", "logs/std_log.txt"}
    assert run.get_tags()["stage"] == "first"
    assert list(experiment.get_runs()) == [run]

    failed = experiment.submit(_src(project, "--penalty", -1))
    with pytest.raises(RunFailedError, match="ValueError: penalty must be positive"):
        failed.wait_for_completion()
    assert failed.wait_for_completion(raise_on_error=False)["status"] == "Failed"


@pytest.mark.ray
@pytest.mark.parametrize(
    ("sampling", "policy", "children"),
    [
        (GridParameterSampling({"--kernel": choice("linear", "rbf")}), None, 2),
        (
            RandomParameterSampling(
                {"--kernel": choice("linear", "rbf", "poly"), "--penalty": choice(0.5, 1, 1.5)},
                properties={"seed": 3},
            ),
            BanditPolicy(evaluation_interval=1, slack_factor=0.1),
            4,
        ),
        (BayesianParameterSampling({"--penalty": uniform(0.05, 2)}), None, 4),
    ],
    ids=["grid", "random-bandit", "bayesian"],
)
def test_a_hyperdrive_run_sweeps_the_script_and_registers_the_best_model(
    ray_address: str,
    project: Path,
    tmp_path: Path,
    sampling: Any,
    policy: Any,
    children: int,
) -> None:
    experiment = _experiment(tmp_path)
    config = HyperDriveConfig(
        run_config=_src(project),
        hyperparameter_sampling=sampling,
        policy=policy,
        primary_metric_name="Accuracy",
        primary_metric_goal=PrimaryMetricGoal.MAXIMIZE,
        max_total_runs=4,
        max_concurrent_runs=2,
    )
    hd_run = experiment.submit(config)
    assert hd_run.get_details()["type"] == "hyperdrive"
    hd_run.wait_for_completion()
    assert hd_run.get_status() == "Completed"
    runs = list(hd_run.get_children())
    assert len(runs) == children and all(r.status == "Completed" for r in runs)
    by_child = hd_run.get_metrics()
    assert set(by_child) == {r.id for r in runs}
    best = hd_run.get_best_run_by_primary_metric()
    assert best is not None
    assert by_child[best.id]["Accuracy"] == max(m["Accuracy"] for m in by_child.values())
    ranked = hd_run.get_children_sorted_by_primary_metric(top=2)
    assert len(ranked) == 2 and ranked[0]["best_primary_metric"] == by_child[best.id]["Accuracy"]
    arguments = best.get_details()["runDefinition"]["arguments"]
    assert arguments[:4] == ["--kernel", "linear", "--penalty", "1.0"]  # then its own values
    sampled = dict(zip(arguments[4::2], arguments[5::2], strict=True))
    assert {k.lstrip("-") for k in sampled} == set(best.get_params())
    model = best.register_model(model_name="sklearn-iris", model_path="outputs/model.joblib")
    assert model.id == "sklearn-iris:1" and Model(experiment.workspace, "sklearn-iris").version == 1


@pytest.mark.ray
def test_canceling_a_hyperdrive_run_stops_its_trials(
    ray_address: str, project: Path, tmp_path: Path
) -> None:
    experiment = _experiment(tmp_path)
    config = HyperDriveConfig(
        run_config=_src(project, "--sleep", 3),
        hyperparameter_sampling=GridParameterSampling({"--penalty": choice(0.5, 1, 1.5, 2)}),
        primary_metric_name="Accuracy",
        primary_metric_goal=PrimaryMetricGoal.MAXIMIZE,
        max_concurrent_runs=1,
    )
    hd_run = experiment.submit(config)
    hd_run.cancel()
    hd_run.wait_for_completion()
    assert hd_run.get_status() == "Canceled"
    runs = Experiment(experiment.workspace, "train_iris").get_runs(include_children=True)
    children = [r for r in runs if r.type != "hyperdrive"]
    assert all(r.status in ("Completed", "Canceled") for r in children)
    assert sum(r.status == "Completed" for r in children) < 4


def test_bad_configs_are_refused_before_anything_runs(project: Path, tmp_path: Path) -> None:
    experiment = _experiment(tmp_path)
    with pytest.raises(SweepInputError, match="script 'nope.py' does not exist in"):
        ScriptRunConfig(source_directory=str(project), script="nope.py")
    with pytest.raises(SweepInputError, match="source_directory '/no/such/folder' is not a"):
        ScriptRunConfig(source_directory="/no/such/folder", script="train.py")
    with pytest.raises(ComputeTargetException, match="compute target 'cpu-cluster' is not in"):
        ComputeTarget(experiment.workspace, "cpu-cluster")
    with pytest.raises(ComputeTargetException, match="compute target 'gpu' is not in"):
        src = ScriptRunConfig(str(project), "train_iris.py", compute_target="gpu")
        experiment.submit(src)
    with pytest.raises(
        SweepInputError, match=r"penalty 'uniform\(0, 1\)' is not accepted with the grid"
    ):
        HyperDriveConfig(
            run_config=_src(project),
            hyperparameter_sampling=GridParameterSampling({"--penalty": uniform(0, 1)}),
            primary_metric_name="Accuracy",
            primary_metric_goal=PrimaryMetricGoal.MAXIMIZE,
        )
    with pytest.raises(SweepInputError, match="needs max_total_runs"):
        HyperDriveConfig(
            run_config=_src(project),
            hyperparameter_sampling=RandomParameterSampling({"--penalty": uniform(0, 1)}),
            primary_metric_name="Accuracy",
            primary_metric_goal=PrimaryMetricGoal.MAXIMIZE,
        )
    with pytest.raises(SweepInputError, match="bandit takes exactly one of slack"):
        BanditPolicy().early_stop()
    with pytest.raises(UnsupportedError, match="cluster/local.sh"):
        AmlCompute.provisioning_configuration(vm_size="STANDARD_D2_V2", max_nodes=4)
    with pytest.raises(UnsupportedError, match="serve the model yourself"):
        Model.deploy(experiment.workspace, "service", [])
    with pytest.raises(TypeError, match="takes a ScriptRunConfig"):
        experiment.submit(object())
    assert list(experiment.get_runs()) == []


def test_environments_become_rays_runtime_env(project: Path, tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("# pinned\nscikit-learn>=1.3\n\njoblib\n")
    env = Environment.from_pip_requirements("sk", str(requirements))
    assert env.runtime_env == {"pip": ["scikit-learn>=1.3", "joblib"]}
    conda = tmp_path / "env.yml"
    conda.write_text("name: sk\ndependencies:\n  - python=3.11\n  - pip:\n    - joblib\n")
    assert Environment.from_conda_specification("sk", str(conda)).runtime_env == {
        "conda": {"name": "sk", "dependencies": ["python=3.11", {"pip": ["joblib"]}]}
    }
    src = ScriptRunConfig(str(project), "train_iris.py", environment=env)
    assert src._runtime_env(None) == {"pip": ["scikit-learn>=1.3", "joblib"]}
    assert src._runtime_env("10.0.0.5:6379") == {
        "pip": ["scikit-learn>=1.3", "joblib"],
        "working_dir": str(project),
    }


def test_experiment_submit_imports_no_ray(tmp_path: Path) -> None:
    """The facade hands the config its experiment; only a config (from sweep) imports Ray."""
    code = (
        "import sys; from tracking import Workspace, Experiment\n"
        f"ws = Workspace('w', tracking_uri='sqlite:///{tmp_path}/r.db', "
        f"storage_uri='{tmp_path}/s')\n"
        "try:\n    Experiment(ws, 'e').submit(object())\n"
        "except TypeError as err:\n    print(err)\n"
        "assert 'ray' not in sys.modules, 'ray imported'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "takes a ScriptRunConfig (from sweep)" in done.stdout
