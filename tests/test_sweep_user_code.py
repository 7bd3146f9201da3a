"""A sweep of the user's own code: `python -m sweep.launch --script train.py ... -- args` and
`run_sweep(train=fn)`, each cell's `Run.get_context()` its run; a Bayesian search reproducible
by seed and extended with a warm start; each early stopping policy ending a diverging trial
`Canceled` with the policy and step recorded, while the good ones complete."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from sweep import run_sweep
from tracking import Experiment, Run, Workspace

pytestmark = pytest.mark.ray

SCRIPT = """\
import argparse, sys
from tracking import Run

parser = argparse.ArgumentParser()
parser.add_argument("--lr", type=float, required=True)
parser.add_argument("--kernel", required=True)
parser.add_argument("--note", required=True)
args = parser.parse_args()
run = Run.get_context()
for epoch in range(1, 4):
    run.log("loss", args.lr / epoch)
run.log("kernel_used", args.kernel)
run.log("note", args.note)
with open("outputs/model.txt", "w") as handle:
    handle.write(f"lr={args.lr} kernel={args.kernel}")
print(f"trained lr={args.lr}")
if args.lr > 1:
    print("the loss diverged at lr", args.lr, file=sys.stderr)
    sys.exit(3)
"""


def _workspace(tmp_path: Path) -> Workspace:
    return Workspace(
        "w", tracking_uri=f"sqlite:///{tmp_path / 'records.db'}", storage_uri=str(tmp_path / "s")
    )


def _cells(experiment: Experiment) -> list[Run]:
    return list(experiment.get_runs(include_children=True, type="azureml.scriptrun"))


def _text(run: Run, name: str, folder: Path) -> str:
    target = folder / name.replace("/", "_")
    run.download_file(name, str(target))
    return target.read_text()


def test_a_script_sweep_runs_the_script_per_cell_with_its_arguments(
    ray_address: str, tmp_path: Path
) -> None:
    (tmp_path / "train.py").write_text(SCRIPT)
    args = ["--script", "train.py", "--param", "lr=0.1,0.5,2.0", "--param", "kernel=rbf"]
    args += ["--metric", "loss", "--mode", "min", "--", "--note", "hello there"]
    done = subprocess.run(
        [sys.executable, "-m", "sweep.launch", *args],
        cwd=tmp_path,
        env={**os.environ, "RAY_ADDRESS": ray_address},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1, done.stderr  # a cell failed
    assert (
        "1 cell failed with sweep.script.ScriptFailed: train.py exited with status 3" in done.stdout
    )
    ws = Workspace(base_dir=str(tmp_path))
    experiment = Experiment(ws, "train")  # the script's name, by default
    assert experiment.primary_metric == ("loss", "min")
    runs = {run.get_params()["lr"]: run for run in _cells(experiment)}
    assert sorted(runs) == [0.1, 0.5, 2.0]
    assert {run.parent.id for run in runs.values() if run.parent} == {
        next(experiment.get_runs(type="hyperdrive")).id
    }
    good = runs[0.5]
    assert good.status == "Completed"
    metrics = good.get_metrics()
    assert metrics["loss"] == pytest.approx([0.5, 0.25, 0.5 / 3])  # every step, in order
    assert metrics["kernel_used"] == "rbf" and metrics["note"] == "hello there"
    assert set(good.get_file_names()) == {"outputs/model.txt", "logs/std_log.txt"}
    assert _text(good, "outputs/model.txt", tmp_path) == "lr=0.5 kernel=rbf"
    assert "trained lr=0.5" in _text(good, "logs/std_log.txt", tmp_path)
    failed = runs[2.0]
    assert failed.status == "Failed"
    error = failed.get_details()["error"]["error"]["message"]
    assert "exited with status 3" in error and "the loss diverged at lr 2.0" in error
    assert "the loss diverged" in _text(failed, "logs/std_log.txt", tmp_path)
    assert runs[0.1].get_metrics()["loss"][-1] == pytest.approx(0.1 / 3)
    assert "Best run:" in done.stdout and "lr=0.1" in done.stdout


def train_fn(config: dict[str, Any]) -> None:
    """A user's training function: it logs through `Run.get_context()` and writes outputs/."""
    run = Run.get_context()
    for epoch in range(1, 3):
        run.log("error", (config["x"] - 2) ** 2 + 1 / epoch)
    run.log("shape", "parabola")
    Path("outputs/x.txt").write_text(str(config["x"]))


def test_a_function_sweep_and_a_bayesian_search_reproducible_by_seed_and_extended(
    ray_address: str, tmp_path: Path
) -> None:
    ws = _workspace(tmp_path)
    common: dict[str, Any] = {"workspace": ws, "progress": False, "train": train_fn}
    common.update(metric="error", mode="min", max_concurrent=1)
    space = {"x": "uniform(0,4)"}
    first = run_sweep(**common, experiment="a", params=space, search="bayesian", samples=4)
    run_sweep(**common, experiment="b", params=space, search="bayesian", samples=4)
    assert (first.trained, first.failed) == (4, 0)

    def drawn(name: str) -> list[float]:
        runs = sorted(_cells(Experiment(ws, name)), key=lambda run: run.number)
        return [run.get_params()["x"] for run in runs]

    assert drawn("a") == drawn("b")  # the same seed draws the same cells
    assert all(0 <= x <= 4 for x in drawn("a"))
    best = first.best_run
    assert best is not None and best.get_metrics()["shape"] == "parabola"
    assert best.get_file_names() == ["logs/std_log.txt", "outputs/x.txt"]

    more = run_sweep(**common, experiment="a", params=space, search="bayesian", samples=6)
    assert (more.trained, more.reused) == (2, 4)  # only the new cells, warm-started
    assert drawn("a")[:4] == drawn("b")
    assert len(set(drawn("a"))) == 6
    parents = list(Experiment(ws, "a").get_runs(type="hyperdrive"))
    assert len(parents) == 2 and len(list(parents[0].get_children())) == 2
    nothing = run_sweep(**common, experiment="a", params=space, search="bayesian", samples=6)
    assert (nothing.trained, nothing.reused) == (0, 6)


STEPS = 12
GOOD = (1.1, 1.05, 1.0)  # loss = scale / step; each trial a little better than the last
DIVERGING = 0.0  # loss = 1 + step


def climb(config: dict[str, Any]) -> None:
    """A trial that logs its loss at each of `STEPS` steps."""
    run = Run.get_context()
    scale = config["scale"]
    for step in range(1, STEPS + 1):
        run.log("loss", scale / step if scale != DIVERGING else 1.0 + step)


@pytest.mark.parametrize(
    ("early_stop", "stopped_at"),
    [
        ("bandit:slack=0.2,delay=3,interval=2", 4),
        ("median:delay=3,interval=2", 4),
        ("truncation:percent=25,delay=3", 3),
        ("asha:grace=2,max_t=12,reduction=2", 2),
    ],
)
def test_each_policy_cancels_the_diverging_trial_and_completes_the_good_ones(
    ray_address: str, tmp_path: Path, early_stop: str, stopped_at: int
) -> None:
    """One trial at a time, the diverging one last: every decision is the same on every run."""
    result = run_sweep(
        workspace=_workspace(tmp_path),
        progress=False,
        train=climb,
        params={"scale": [*GOOD, DIVERGING]},
        metric="loss",
        mode="min",
        max_concurrent=1,
        early_stop=early_stop,
    )
    runs = {run.get_params()["scale"]: run for run in _cells(result.experiment)}
    diverging = runs.pop(DIVERGING)
    assert diverging.status == "Canceled"
    properties = diverging.get_properties()
    assert properties["stopped_by"] == early_stop.partition(":")[0]
    assert properties["stopped_at_iteration"] == str(stopped_at)
    assert len(diverging.get_metrics()["loss"]) == stopped_at
    assert sorted(runs) == sorted(GOOD)
    for run in runs.values():
        assert run.status == "Completed"
        assert len(run.get_metrics()["loss"]) == STEPS
    assert result.best_run is not None and result.best_run.get_params()["scale"] == 1.0


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (
            [
                '  File "<frozen runpy>", line 88, in _run_code',
                '  File "/work/train.py", line 7, in <module>',
                '    raise ValueError("too big")',
                "ValueError: too big",
            ],
            "ValueError: too big (train.py, line 7)",
        ),
        (["loss diverged", "giving up"], "loss diverged | giving up"),
        ([], "(no stderr)"),
    ],
)
def test_a_failed_scripts_stderr_is_said_in_one_line(lines: list[str], expected: str) -> None:
    from sweep.script import said

    assert said(lines) == expected
