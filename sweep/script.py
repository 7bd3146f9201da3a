"""Trials that run any training code: a script, once per config, or a function `fn(config)`.

Inside, `Run.get_context()` is the trial's run (`tracking.context.TrialRun`): what it logs
is reported through Ray Tune, never written to a database from the worker. Numbers logged
with `log` are the trial's metrics, one `tune.report` per *step*: a step ends when a name
already logged in it is logged again (the next epoch), when it holds every name of the
step before, or when the code ends. So a script that logs `loss` and `acc` each epoch
reports both once per epoch, and from the second epoch on as soon as both are logged: a
scheduler can stop the trial before it trains another epoch. Everything else it logs (text,
booleans, lists, rows, tables, tags, properties) travels with the step under `LOGGED`, and
the driver's `TrackingCallback` records it on the run.

The code runs in a fresh working folder holding `outputs/`. At the end, the trial's last
report carries a checkpoint of `outputs/` and `logs/std_log.txt` (the code's stdout and
stderr), named under `RUN_FILES`, which the callback records as the run's files
`outputs/<path>` and `logs/std_log.txt`; it repeats the metrics of the step before that it
lacks (named under `REPEATED`, which marks the last report: Tune looks for the sweep's
metric in every result); the callback does not log them again, and the schedulers of
`sweep.policies` do not judge that report. A script that exits with a non-zero status, or
a function that raises, fails the trial (and so its run) after that report.

A script runs as a subprocess of the Ray worker, not in-process (`runpy`): it may call
`sys.exit`, parse `sys.argv`, change its folder, print from C code, crash or leak state
without touching the worker, and its exit status is its verdict. Its run's events reach the
trial through a JSON-lines file named by `RAYSWEEP_TRIAL_EVENTS` in the script's
environment (passed with `env=`), which the trial reads as the script writes it. A script
whose trial Tune stops (a scheduler, say) ends with it: it watches its parent process.
"""

from __future__ import annotations

import collections
import contextlib
import json
import numbers
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import tracking
from sweep import quietexit
from sweep.cells import NODE_ID, REPEATED, cells_of
from tracking.context import ENV_TRIAL_EVENTS, Event, TrialRun, started_for

LOGGED = "tracking.logged"  # result key: the run's events of the step that are not metrics
RUN_FILES = "tracking.run_files"  # result key: the checkpoint's folders that are run files
OUTPUTS, LOGS, STD_LOG = "outputs", "logs", "std_log.txt"
STDERR_LINES = 5  # of a failed script's stderr, in its trial's error
LOG_IN_MEMORY = 1 << 20  # bytes of a trial's std_log kept in memory before it spills to a file
POLL_S = 0.1

# Runs the script as `python script.py args` would (sys.argv, sys.path[0], __main__), and
# exits when its parent (the trial's Ray worker) is gone: Tune kills a stopped trial's actor.
_BOOT = """
import os, runpy, sys, threading, time
parent = os.getppid()
def _watch():
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(143)
threading.Thread(target=_watch, daemon=True).start()
sys.argv = sys.argv[1:]
sys.path[0] = os.path.dirname(sys.argv[0])
runpy.run_path(sys.argv[0], run_name="__main__")
"""


class ScriptFailed(RuntimeError):
    """A trial's script exited with a non-zero status; the message ends with its stderr."""


def script_trainable(script: str, args: Sequence[str] = ()) -> Callable[[dict[str, Any]], None]:
    """A Ray Tune function trainable that runs `script` once per trial config.

    The command is `python script *args --key value ...` (the config's keys, nested ones
    joined with '.', as HyperDrive passes a sweep's values), in a fresh folder holding
    `outputs/`, with the worker's Python.

    Raises (in the trial):
        ScriptFailed: the script exited with a non-zero status.
    """
    path = os.path.abspath(script)  # the worker's folder is not the caller's
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no such script: {script!r}")
    fixed = [str(a) for a in args]
    relative = os.path.relpath(path)  # from the caller's folder: a job's working_dir

    def trainable(config: dict[str, Any]) -> None:
        found = _on_this_node(path, relative)
        with _Trial() as trial:
            code = trial.run_script(found, [*fixed, *arguments(config)])
            trial.finish()
            if code != 0:
                tail = said(list(trial.stderr_tail))
                raise ScriptFailed(f"{os.path.basename(path)} exited with status {code}: {tail}")

    trainable.__name__ = Path(path).stem or "script"
    return trainable


def _on_this_node(path: str, relative: str) -> str:
    """The script on this node: at the caller's path (a shared or the same file system), or
    at the same place in the working folder Ray shipped here (`runtime_env` `working_dir`,
    as `ray job submit --working-dir` gives it), which Tune names in TUNE_ORIG_WORKING_DIR.

    Raises:
        FileNotFoundError: neither is there, saying how to ship it.
    """
    if os.path.isfile(path):
        return path
    shipped = os.environ.get("TUNE_ORIG_WORKING_DIR")
    if shipped and not relative.startswith(".."):
        there = os.path.join(shipped, relative)
        if os.path.isfile(there):
            return there
    raise FileNotFoundError(
        f"the script {path!r} is not on node {socket.gethostname()}: run the sweep from a "
        "folder that holds it with a runtime_env working_dir (ray job submit --working-dir .)"
    )


def function_trainable(fn: Callable[[dict[str, Any]], Any]) -> Callable[[dict[str, Any]], None]:
    """A Ray Tune function trainable that calls `fn(config)` in the worker, in a fresh
    folder holding `outputs/`, with `Run.get_context()` its trial's run; its stdout and
    stderr are also kept as `logs/std_log.txt`. What `fn` raises fails the trial."""

    def trainable(config: dict[str, Any]) -> None:
        with _Trial() as trial:
            try:
                trial.call(fn, config)
            finally:
                if not trial.steps.stopped:  # Tune ended it: nothing more may be reported
                    trial.finish()

    trainable.__name__ = getattr(fn, "__name__", "train")
    return trainable


def first_cell(trainable: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    """A trainable of one config as a trainable of a sweep's `{"cells": [config]}`."""

    def one(config: dict[str, Any]) -> None:
        trainable(dict(cells_of(config["cells"])[0]))

    one.__name__ = trainable.__name__
    return one


def arguments(config: Mapping[str, Any], prefix: str = "") -> list[str]:
    """A config as command-line arguments: `{"kernel": "rbf", "C": 1.0}` ->
    `["--kernel", "rbf", "--C", "1.0"]`; nested keys joined with '.'."""
    found: list[str] = []
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            found.extend(arguments(value, f"{name}."))
        else:
            found.extend([f"--{name}", str(value)])
    return found


_FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+)')


def said(lines: list[str]) -> str:
    """A failed script's last stderr lines, in one line: for a Python traceback, its
    exception and the script's own frame that raised it; else the lines joined by ' | '."""
    frames = [m for m in map(_FRAME.match, lines) if m and not m["file"].startswith("<")]
    if frames and lines and not lines[-1].startswith(" "):
        where = f"{os.path.basename(frames[-1]['file'])}, line {frames[-1]['line']}"
        return f"{lines[-1]} ({where})"
    return " | ".join(lines) or "(no stderr)"


class Steps:
    """A run's events -> Tune reports, a step at a time.

    Numbers gather into a step. A step is reported as soon as it is whole: when it holds
    every name of the step before (so a scheduler hears of epoch N as soon as it is logged,
    not when epoch N + 1 begins), or when a name comes again (the first step, or a step
    with fewer names). The other events go with the step they arrived in.
    """

    def __init__(self, report: Callable[[dict[str, Any]], None]) -> None:
        self._report = report
        self._numbers: dict[str, float] = {}
        self._events: list[Event] = []
        self._last: dict[str, float] = {}  # the step reported last
        # Set when a report raised SystemExit: Tune ended the trial (a scheduler stopped
        # it), and a report after that would wait forever, holding the worker.
        self.stopped = False

    def take(self, event: Event) -> None:
        value: Any = event.get("value")
        if event.get("kind") == "log" and _is_number(value):
            name = str(event["name"])
            if name in self._numbers:
                self._send()
            self._numbers[name] = float(value)
            if self._last and self._last.keys() <= self._numbers.keys():
                self._send()
        else:
            self._events.append(event)

    def _send(self) -> None:
        try:
            self._report(self.pending())
        except SystemExit:
            self.stopped = True
            raise

    def pending(self) -> dict[str, Any]:
        """The step so far, as a result, and start a new one."""
        result: dict[str, Any] = dict(self._numbers)
        if self._numbers:
            self._last = dict(self._numbers)
        if self._events:
            result[LOGGED] = self._events
        self._numbers, self._events = {}, []
        return result

    def last(self) -> dict[str, Any]:
        """The trial's last result: what is pending, and the metrics of the step before
        that it lacks, named under `REPEATED` (a scheduler reads its metric in every result;
        the recorder does not log them again)."""
        repeated = {name: v for name, v in self._last.items() if name not in self._numbers}
        result = self.pending()
        result.update(repeated)
        result[REPEATED] = sorted(repeated)
        return result


class _Trial:
    """One trial's folders, its step reports, and its last report with the run's files."""

    def __init__(self) -> None:
        import logging

        from ray import tune

        # Ray Train logs a line per checkpoint at INFO; the run's records say it quietly.
        logging.getLogger("ray.train").setLevel(logging.WARNING)
        quietexit.install()  # Ray stopping this worker prints no stray traceback
        self._tune_report = tune.report
        self.base = Path(tempfile.mkdtemp(prefix="sweep-trial-"))
        self.work = self.base / "work"
        (self.work / OUTPUTS).mkdir(parents=True)
        self.std_log = _Log()
        self.steps = Steps(lambda result: self._tune_report(result))
        self.stderr_tail: collections.deque[str] = collections.deque(maxlen=STDERR_LINES)

    def __enter__(self) -> _Trial:
        return self

    def __exit__(self, *exc: object) -> None:
        self.std_log.close()
        try:  # what the code left: usually nothing, so three folders to remove
            for folder in (self.work / OUTPUTS, self.work, self.base):
                os.rmdir(folder)
        except OSError:
            shutil.rmtree(self.base, ignore_errors=True)

    def run_script(self, path: str, argv: list[str]) -> int:
        """Run the script to its end, reporting its steps as it logs them; its status."""
        events = self.base / "events.jsonl"
        events.touch()
        env = dict(os.environ)
        env[ENV_TRIAL_EVENTS] = str(events)
        env["PYTHONUNBUFFERED"] = "1"  # its lines reach std_log.txt as they are printed
        # `tracking` is importable in the script as it is here (Ray's working_dir, say).
        root = str(Path(tracking.__file__).resolve().parents[1])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
        command = [sys.executable, "-c", _BOOT, path, *argv]
        log = self.std_log
        process = subprocess.Popen(
            command,
            cwd=self.work,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert process.stdout is not None and process.stderr is not None
        pumps = [
            threading.Thread(target=_pump, args=(process.stdout, log, None, sys.stdout)),
            threading.Thread(
                target=_pump, args=(process.stderr, log, self.stderr_tail, sys.stderr)
            ),
        ]
        for pump in pumps:
            pump.start()
        try:
            with events.open("rb") as source:
                reader = _Lines(source)
                while process.poll() is None:
                    self._take(reader.new())
                    time.sleep(POLL_S)
                for pump in pumps:
                    pump.join()
                self._take(reader.new())
        finally:
            if process.poll() is None:  # the trial was ended under it
                process.kill()
                process.wait()
        return process.returncode

    def call(self, fn: Callable[[dict[str, Any]], Any], config: dict[str, Any]) -> None:
        """Call `fn(config)` in the trial's folder, as its run, keeping what it prints."""
        run = TrialRun(self.steps.take)
        previous = os.getcwd()
        out, err = _Tee(sys.stdout, self.std_log), _Tee(sys.stderr, self.std_log)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            os.chdir(self.work)
            try:
                with started_for(run):
                    fn(config)
            except BaseException:  # kept with its run's log, then the trial fails
                if not self.steps.stopped:
                    self.std_log.write(traceback.format_exc().encode(errors="replace"))
                raise
            finally:
                os.chdir(previous)

    def _take(self, events: Iterator[Event]) -> None:
        for event in events:
            self.steps.take(event)

    def finish(self) -> None:
        """Report the last step with a checkpoint of `outputs/` and `logs/std_log.txt`."""
        import ray
        from ray import tune

        folder = self.base / "checkpoint"
        folders = []
        if any(p.is_file() for p in (self.work / OUTPUTS).rglob("*")):
            shutil.copytree(self.work / OUTPUTS, folder / OUTPUTS, symlinks=False)
            folders.append(OUTPUTS)
        (folder / LOGS).mkdir(parents=True)
        self.std_log.copy_to(folder / LOGS / STD_LOG)
        folders.append(LOGS)
        result = self.steps.last()
        result[RUN_FILES] = folders
        result[NODE_ID] = ray.get_runtime_context().get_node_id()
        result["hostname"] = socket.gethostname()
        self._tune_report(result, checkpoint=tune.Checkpoint.from_directory(str(folder)))


class _Lines:
    """The whole JSON lines appended to a file since the last look."""

    def __init__(self, source: IO[bytes]) -> None:
        self._source = source
        self._partial = b""

    def new(self) -> Iterator[Event]:
        data = self._partial + self._source.read()
        *lines, self._partial = data.split(b"\n")
        for line in lines:
            if line.strip():
                yield json.loads(line)


class _Log:
    """A trial's `std_log.txt` while it runs: in memory (most trials print little), in a
    temporary file past `LOG_IN_MEMORY` bytes; written from several threads at once."""

    def __init__(self) -> None:
        self._file = tempfile.SpooledTemporaryFile(max_size=LOG_IN_MEMORY)  # noqa: SIM115 - see close
        self._lock = threading.Lock()

    def write(self, data: bytes) -> None:
        with self._lock:
            self._file.write(data)

    def copy_to(self, path: Path) -> None:
        with self._lock, path.open("wb") as target:
            self._file.seek(0)
            shutil.copyfileobj(self._file, target)
            self._file.seek(0, os.SEEK_END)

    def close(self) -> None:
        self._file.close()


class _Tee:
    """A text stream that writes to a stream of the worker's and to the run's log."""

    def __init__(self, stream: IO[str], log: _Log) -> None:
        self._stream, self._log = stream, log

    def write(self, text: str) -> int:
        self._stream.write(text)
        self._log.write(text.encode(errors="replace"))
        return len(text)

    def flush(self) -> None:
        self._stream.flush()


def _pump(
    source: IO[bytes],
    log: _Log,
    tail: collections.deque[str] | None,
    echo: IO[str],
) -> None:
    """Copy a pipe into the log a line at a time, and to the worker's own stream (which
    Ray forwards to the driver, as it does a function trial's prints); keep its last lines
    in `tail`."""
    for line in iter(source.readline, b""):
        log.write(line)
        try:
            echo.write(line.decode(errors="replace"))
            echo.flush()
        except (OSError, ValueError):  # the worker's stream is gone: the log still has it
            pass
        if tail is not None and line.strip():
            tail.append(line.decode(errors="replace").rstrip()[:300])
    source.close()


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)
