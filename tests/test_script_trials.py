"""A script (or a function) as a Ray Tune trial, `Run.get_context()` inside: its runs are
recorded by `TrackingCallback` in the driver (`sweep.script`), on real Ray."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from sweep.cells import REPEATED
from tracking import Experiment, Run, Workspace

pytestmark = pytest.mark.ray

SCRIPT = """\
import argparse, sys
from tracking import Run

parser = argparse.ArgumentParser()
parser.add_argument("--lr", type=float, required=True)
parser.add_argument("--kernel", required=True)
args = parser.parse_args()
run = Run.get_context()
for step in range(1, 4):
    run.log("loss", args.lr / step)
    run.log("acc", 0.5 + step / 10)
run.log("kernel_used", args.kernel)
run.log("converged", True)
run.tag("stage", "test")
with open("outputs/model.txt", "w") as handle:
    handle.write(f"model lr={args.lr}")
print(f"trained with lr={args.lr} kernel={args.kernel}")
if args.lr > 0.15:
    print("boom: the learning rate diverged", file=sys.stderr)
    sys.exit(1)
"""


def _workspace(folder: Path) -> Workspace:
    data = {"tracking_uri": "sqlite:///records.db", "storage_uri": "storage"}
    (folder / "config.json").write_text(json.dumps(data))
    return Workspace.from_config(folder)


def _fit(experiment: Experiment, trainable: Any, space: dict[str, Any], tmp: Path) -> Any:
    from ray import tune

    from sweep.callback import TrackingCallback

    callback = TrackingCallback(experiment)
    tuner = tune.Tuner(
        trainable,
        param_space=space,
        run_config=tune.RunConfig(callbacks=[callback], storage_path=str(tmp / "tune"), verbose=0),
    )
    try:
        grid = tuner.fit()
    finally:
        callback.close()
        shutil.rmtree(tmp / "tune", ignore_errors=True)
    assert callback.errors == []
    return grid


def _text(run: Run, name: str, folder: Path) -> str:
    target = folder / name.replace("/", "_")
    run.download_file(name, str(target))
    return target.read_text()


def test_a_script_per_config_logs_steps_text_and_files_and_fails_on_exit_status(
    ray_address: str, tmp_path: Path
) -> None:
    from ray import tune

    from sweep.script import script_trainable

    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    experiment = Experiment(_workspace(tmp_path), "script")
    space = {"lr": tune.grid_search([0.1, 0.2]), "kernel": "rbf"}
    grid = _fit(experiment, script_trainable(str(script)), space, tmp_path)

    # Tune saw one result per step (a scheduler would have): loss and acc together; then
    # the last report with the files, repeating the last step's values (not logged again).
    ok = next(r for r in grid if r.config["lr"] == 0.1)
    frame = ok.metrics_dataframe
    assert list(frame["loss"]) == pytest.approx([0.1, 0.05, 0.1 / 3, 0.1 / 3])
    assert list(frame["acc"]) == pytest.approx([0.6, 0.7, 0.8, 0.8])
    assert list(frame[REPEATED].iloc[-1]) == ["acc", "loss"]
    assert frame[REPEATED].iloc[:-1].isna().all()

    runs = {r.get_params()["lr"]: r for r in experiment.get_runs()}
    good, bad = runs[0.1], runs[0.2]
    assert good.get_params() == {"lr": 0.1, "kernel": "rbf"}
    assert good.get_status() == "Completed"
    metrics = good.get_metrics()
    assert metrics["loss"] == pytest.approx([0.1, 0.05, 0.1 / 3])
    assert metrics["acc"] == pytest.approx([0.6, 0.7, 0.8])
    assert metrics["kernel_used"] == "rbf"
    assert metrics["converged"] is True
    assert good.get_tags()["stage"] == "test"
    assert sorted(good.get_file_names()) == ["logs/std_log.txt", "outputs/model.txt"]
    assert _text(good, "outputs/model.txt", tmp_path) == "model lr=0.1"
    assert "trained with lr=0.1 kernel=rbf" in _text(good, "logs/std_log.txt", tmp_path)

    assert bad.get_status() == "Failed"
    error = bad.get_details()["error"]["error"]["message"]
    assert "train.py exited with status 1" in error
    assert error.endswith("boom: the learning rate diverged")
    assert bad.get_metrics()["loss"] == pytest.approx([0.2, 0.1, 0.2 / 3])  # logged first
    log = _text(bad, "logs/std_log.txt", tmp_path)
    assert "trained with lr=0.2" in log and "boom: the learning rate diverged" in log


def _train(config: dict[str, Any]) -> None:
    run = Run.get_context()
    for epoch in range(config["epochs"]):
        run.log("loss", 1.0 / (epoch + 1))
    run.log_list("sizes", [1, 2, 3])
    run.log_row("curve", x=1, y=0.5)
    Path("outputs", "weights.txt").write_text("w")
    print("function trained")


def test_a_function_trial_uses_its_run_in_process(ray_address: str, tmp_path: Path) -> None:
    from sweep.script import function_trainable

    experiment = Experiment(_workspace(tmp_path), "function")
    _fit(experiment, function_trainable(_train), {"epochs": 3}, tmp_path)
    (run,) = experiment.get_runs()
    assert run.get_status() == "Completed"
    metrics = run.get_metrics()
    assert metrics["loss"] == pytest.approx([1.0, 0.5, 1 / 3])
    assert metrics["sizes"] == [1, 2, 3]
    assert metrics["curve"] == {"x": 1, "y": 0.5}
    assert sorted(run.get_file_names()) == ["logs/std_log.txt", "outputs/weights.txt"]
    assert "function trained" in _text(run, "logs/std_log.txt", tmp_path)


# --- steps: when a trial's logged numbers reach Tune (no Ray) -------------------------------


def _steps() -> tuple[Any, list[dict[str, Any]]]:
    from sweep.script import Steps

    sent: list[dict[str, Any]] = []
    return Steps(sent.append), sent


def _log(name: str, value: Any) -> dict[str, Any]:
    return {"kind": "log", "name": name, "value": value}


def test_a_step_is_reported_as_soon_as_it_holds_every_name_of_the_step_before() -> None:
    from sweep.script import LOGGED

    steps, sent = _steps()
    steps.take(_log("loss", 0.9))
    steps.take(_log("acc", 0.5))
    steps.take(_log("note", "warming up"))
    assert sent == []  # the first step's names are not known until one comes again
    steps.take(_log("loss", 0.7))
    assert sent == [{"loss": 0.9, "acc": 0.5, LOGGED: [_log("note", "warming up")]}]
    steps.take(_log("acc", 0.6))  # step 2 is whole: sent now, not when epoch 3 begins
    assert sent[1:] == [{"loss": 0.7, "acc": 0.6}]
    steps.take(_log("loss", 0.5))
    assert len(sent) == 2


def test_one_metric_per_epoch_is_reported_at_each_log_from_the_second_on() -> None:
    steps, sent = _steps()
    for value in (3.0, 2.0, 1.0):
        steps.take(_log("val_loss", value))
    assert sent == [{"val_loss": 3.0}, {"val_loss": 2.0}, {"val_loss": 1.0}]


def test_the_last_report_repeats_the_metrics_it_lacks_and_names_them() -> None:
    from sweep.script import LOGGED

    steps, sent = _steps()
    for value in (3.0, 2.0):
        steps.take(_log("loss", value))
        steps.take(_log("acc", value / 10))
    steps.take(_log("test_acc", 0.9))  # after the loop: a new name, the step is not whole
    steps.take(_log("done", True))
    assert sent == [{"loss": 3.0, "acc": 0.3}, {"loss": 2.0, "acc": 0.2}]
    assert steps.last() == {
        "test_acc": 0.9,
        "loss": 2.0,
        "acc": 0.2,
        REPEATED: ["acc", "loss"],
        LOGGED: [_log("done", True)],
    }
    fresh, _ = _steps()
    assert fresh.last() == {REPEATED: []}  # code that logged nothing


def test_a_trials_log_keeps_every_line_from_threads_past_its_memory_limit(tmp_path: Path) -> None:
    """What a trial prints is held in memory up to `LOG_IN_MEMORY` bytes, then in a file:
    lines written by several threads at once, across that switch, all reach std_log.txt."""
    import threading

    from sweep.script import LOG_IN_MEMORY, _Log

    log = _Log()
    line = b"x" * 99 + b"\n"
    per_thread = LOG_IN_MEMORY // len(line)  # four threads: past the limit four times over

    def write(tag: bytes) -> None:
        for _ in range(per_thread):
            log.write(tag + line)

    threads = [threading.Thread(target=write, args=(bytes([65 + i]),)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    log.write(b"the end\n")
    log.copy_to(tmp_path / "std_log.txt")
    log.close()
    lines = (tmp_path / "std_log.txt").read_bytes().splitlines()
    assert len(lines) == 4 * per_thread + 1 and lines[-1] == b"the end"
    for tag in b"ABCD":
        assert sum(1 for kept in lines if kept[0] == tag) == per_thread
