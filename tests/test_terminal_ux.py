"""What `python -m sweep.launch` says while it starts, and what Ctrl-C does (issue 18,
items 2 and 4): through a pseudo-terminal, as a user at a terminal sees it."""

from __future__ import annotations

import io
import json
import os
import pty
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sweep import status as status_module
from sweep.spec import SweepSpec
from sweep.status import Status
from tracking import Experiment, Workspace

ROOT = Path(__file__).resolve().parents[1]
SLOW = "tests.helpers.estimators.SluggishRidge"  # 3 s a fit: a sweep to stop midway


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _env(**extra: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(ROOT),
        "RAY_ADDRESS": "",
        "COLUMNS": "200",
        "HOME": os.environ.get("HOME", "/tmp"),
        **extra,
    }


def _config(folder: Path) -> Path:
    data = {"tracking_uri": "sqlite:///records.db", "storage_uri": "storage"}
    (folder / "config.json").write_text(json.dumps(data))
    return folder


def _cells(folder: Path, experiment: str) -> list[tuple[str, str]]:
    ws = Workspace.from_config(folder)
    runs = Experiment(ws, experiment).get_runs(include_children=True)
    return [(run.type, run.status) for run in runs]


def _numbered(folder: Path, experiment: str) -> list[tuple[int, float, str]]:
    """The experiment's cells' runs as (number, alpha, status), by number."""
    ws = Workspace.from_config(folder)
    runs = Experiment(ws, experiment).get_runs(include_children=True, type="azureml.scriptrun")
    return sorted((run.number, run.get_params()["alpha"], run.status) for run in runs)


# -- item 2: each phase said with its elapsed time ---------------------------------------
def test_status_lines_carry_the_seconds_since_the_sweep_began() -> None:
    stream = io.StringIO()
    status = Status(time.monotonic() - 2.0, stream=stream)
    with status.during("starting Ray: local, 2 CPUs"):
        pass
    status.say("Ray ready: 2 CPUs")
    lines = stream.getvalue().splitlines()
    assert re.fullmatch(r"\[2\.\ds\] starting Ray: local, 2 CPUs \.\.\.", lines[0]), lines
    assert re.fullmatch(r"\[2\.\ds\] Ray ready: 2 CPUs", lines[1]), lines


def test_on_a_terminal_the_line_counts_the_seconds_while_ray_starts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(status_module, "TICK_S", 0.05)
    stream = Terminal()
    status = Status(stream=stream)
    with status.during("starting Ray: local, 2 CPUs"):
        time.sleep(0.3)
    shown = stream.getvalue()
    assert shown.count("\r\x1b[K") >= 3  # redrawn in place, then ended
    assert shown.endswith("starting Ray: local, 2 CPUs ...\n")


def test_quiet_says_nothing() -> None:
    stream = io.StringIO()
    status = Status(stream=stream, quiet=True)
    with status.during("starting Ray"):
        status.say("ready")
    assert stream.getvalue() == ""


def test_a_rerun_with_nothing_left_to_train_does_not_start_ray(tmp_path: Path) -> None:
    _config(tmp_path)
    spec = SweepSpec.create(alphas=[0.1, 0.2], experiment="done")
    experiment = Experiment(Workspace.from_config(tmp_path), "done")
    for cell in spec.cells():
        run = experiment.start_logging(
            properties={"sweep.cell": spec.cell_key(cell)}, outputs=str(tmp_path / "out")
        )
        run.log("rmse", 50.0 + cell["alpha"])
        run.complete()
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "sweep.launch", "--alphas", "0.1,0.2", "--experiment", "done"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env=_env(),
    )
    assert result.returncode == 0, result.stderr
    assert "starting Ray" not in result.stderr and "Ray ready" not in result.stderr
    assert (
        "nothing to train: all 2 cells of done are done; to train again use "
        "--experiment NEW_NAME" in result.stdout
    )
    assert "Best run:" in result.stdout
    assert time.monotonic() - started < 60  # no Ray start-up (about 15 s here)


# -- item 4: Ctrl-C -------------------------------------------------------------------------
class PtyLauncher:
    """`python -m sweep.launch` on a pseudo-terminal (its stdout and stderr)."""

    def __init__(self, args: list[str], cwd: Path, env: dict[str, str]) -> None:
        self._fd, child = pty.openpty()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "sweep.launch", *args],
            cwd=cwd,
            env=env,
            stdin=child,
            stdout=child,
            stderr=child,
            close_fds=True,
        )
        os.close(child)
        self.output = ""

    def read(self, timeout: float) -> None:
        ready, _, _ = select.select([self._fd], [], [], timeout)
        if ready:
            try:
                self.output += os.read(self._fd, 65536).decode(errors="replace")
            except OSError:  # the child has gone: its end of the pty is closed
                time.sleep(timeout)

    def wait_for(self, pattern: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not re.search(pattern, self.output):
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.read(0.5)
                pytest.fail(f"no {pattern!r} within {timeout} s; output:\n{self.output}")
            self.read(0.5)

    def finish(self, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while self.process.poll() is None and time.monotonic() < deadline:
            self.read(0.5)
        if self.process.poll() is None:
            self.process.kill()
            pytest.fail(f"the launcher did not exit within {timeout} s:\n{self.output}")
        for _ in range(4):
            self.read(0.1)
        os.close(self._fd)
        return int(self.process.returncode)


@pytest.mark.ray
def test_ctrl_c_cancels_the_runs_in_flight_and_says_how_to_resume(tmp_path: Path) -> None:
    """Its own local Ray (the launcher is a user's: Ray's start-up is said, on a terminal)."""
    _config(tmp_path)
    args = ["--alphas", "0.1:0.6:0.1", "--experiment", "stopped", "--estimator", SLOW]
    launcher = PtyLauncher(args, tmp_path, _env())
    launcher.wait_for(r"\[\d+\.\ds\] starting Ray: local, \d+ CPUs \.\.\.", 60)
    launcher.wait_for(r"\[\d+\.\ds\] Ray ready: \d+ CPUs", 240)
    launcher.wait_for(r"\[\d+\.\ds\] training 6 cells", 60)
    # Stopped while some cell's run is Running, and some other has completed.
    deadline = time.monotonic() + 240
    cell = "azureml.scriptrun"
    while not {(cell, "Running"), (cell, "Completed")} <= set(_cells(tmp_path, "stopped")):
        assert time.monotonic() < deadline, launcher.output
        launcher.read(0.5)
    launcher.process.send_signal(signal.SIGINT)
    code = launcher.finish(120)
    shown = launcher.output
    assert code == 130, shown
    assert "stopping: the runs in flight will be canceled; Ctrl-C again to stop at once" in shown
    assert re.search(r"Interrupted \(Ctrl-C\): \d+ cells? canceled while training", shown), shown
    assert f"python -m sweep.launch {' '.join(args)} --resume" in shown
    runs = _cells(tmp_path, "stopped")
    assert not {"Running", "Queued"} & {s for _, s in runs}, runs
    assert ("hyperdrive", "Canceled") in runs
    assert ("azureml.scriptrun", "Canceled") in runs
    # Every cell had its run from the start, numbered in grid order; those never started
    # are canceled (and did not count as trained).
    cells = _numbered(tmp_path, "stopped")
    assert [alpha for _, alpha, _ in cells] == [0.1, 0.2, 0.3, 0.4, 0.5, 0.6], cells


@pytest.mark.ray
def test_a_second_ctrl_c_stops_at_once(ray_address: str, tmp_path: Path) -> None:
    """On the test session's Ray: this test is about the second Ctrl-C, not Ray's start."""
    _config(tmp_path)
    args = ["--alphas", "0.1:0.6:0.1", "--experiment", "twice", "--estimator", SLOW]
    # The session's environment: it holds what joining the session's Ray takes.
    launcher = PtyLauncher(args, tmp_path, {**os.environ, "RAY_ADDRESS": ray_address})
    launcher.wait_for(r"training 6 cells", 120)
    deadline = time.monotonic() + 240
    while ("azureml.scriptrun", "Running") not in _cells(tmp_path, "twice"):
        assert time.monotonic() < deadline, launcher.output
        launcher.read(0.5)
    launcher.process.send_signal(signal.SIGINT)
    launcher.wait_for("Ctrl-C again to stop at once", 30)
    launcher.process.send_signal(signal.SIGINT)
    stopped = time.monotonic()
    code = launcher.finish(60)
    assert code == 130, launcher.output
    assert time.monotonic() - stopped < 15, launcher.output
    assert "--resume" in launcher.output
    runs = _cells(tmp_path, "twice")
    assert not {"Running", "Queued"} & {s for _, s in runs}, runs  # as far as they got, ended
    before = max(number for number, _, _ in _numbered(tmp_path, "twice"))
    # Resumed: every cell completes once; the cells it still had to train are queued
    # again, in grid order, after the runs already there.
    resumed = subprocess.run(
        [sys.executable, "-m", "sweep.launch", *args, "--resume"],
        cwd=tmp_path, env={**os.environ, "RAY_ADDRESS": ray_address},
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    cells = _numbered(tmp_path, "twice")
    completed = sorted(alpha for _, alpha, status in cells if status == "Completed")
    assert completed == [0.1, 0.2, 0.3, 0.4, 0.5, 0.6], cells
    new = [alpha for number, alpha, _ in cells if number > before]
    assert new == sorted(new) and new, cells
    assert all(status == "Completed" for number, _, status in cells if number > before), cells
