"""`Run.get_context()`: the run a process (or a trial) was started for.

Two ways to be started for a run:
- in-process: code that runs a trial or a function for a run installs the run for the
  duration (`started_for(run)`); a sweep's trial installs a run that reports through Ray
  Tune, so no database credentials reach a worker;
- a separate process: the environment names the run (`RAYSWEEP_RUN_ID`, its experiment
  `RAYSWEEP_EXPERIMENT` and the workspace's config file `RAYSWEEP_CONFIG`), read here,
  at the edge, and never written by this package.

A sweep trial's script (`sweep.script`) is started with `RAYSWEEP_TRIAL_EVENTS` naming a
JSON-lines file: its `get_context()` is a `TrialRun` that appends what it logs there, for
the trial to report through Ray Tune (no database, no credentials in the script either).

Anywhere else `get_context()` returns an `OfflineRun`, which prints what it would log, as
Azure ML v1 does outside a submitted run.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import numbers
import os
import sys
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from tracking.errors import NotFoundError, ValidationError

ENV_RUN_ID = "RAYSWEEP_RUN_ID"
ENV_EXPERIMENT = "RAYSWEEP_EXPERIMENT"
ENV_CONFIG = "RAYSWEEP_CONFIG"
ENV_TRIAL_EVENTS = "RAYSWEEP_TRIAL_EVENTS"  # a sweep trial's script: where its run's events go

_current: contextvars.ContextVar[Any] = contextvars.ContextVar("tracking_current_run", default=None)


@contextlib.contextmanager
def started_for(run: Any) -> Iterator[Any]:
    """Make `run` what `Run.get_context()` returns inside this block (this thread/task)."""
    token = _current.set(run)
    try:
        yield run
    finally:
        _current.reset(token)


def current_run(*, allow_offline: bool = True) -> Any:
    run = _current.get()
    if run is not None:
        return run
    run_id = os.environ.get(ENV_RUN_ID)
    if run_id:
        return _from_environment(run_id)
    events = os.environ.get(ENV_TRIAL_EVENTS)
    if events:
        run = TrialRun(_appender(events))
        _current.set(run)
        return run
    if not allow_offline:
        raise NotFoundError(
            "this process was not started for a run (no sweep trial or submitted script): "
            "use experiment.start_logging(), or get_context(allow_offline=True)"
        )
    return OfflineRun()


def _from_environment(run_id: str) -> Any:
    from tracking.experiment import Experiment
    from tracking.outputs import OutputsFolder
    from tracking.run import Run
    from tracking.workspace import Workspace

    workspace = Workspace.from_config(os.environ.get(ENV_CONFIG) or None)
    experiment = Experiment(workspace, os.environ.get(ENV_EXPERIMENT, ""))
    run = Run(experiment, run_id)
    run._outputs = OutputsFolder.start("outputs")
    _current.set(run)
    return run


class OfflineRun:
    """What `Run.get_context()` gives outside a run: it logs to stdout and keeps the values
    in memory, so a script written for a run also runs on its own."""

    def __init__(self) -> None:
        self.id = f"OfflineRun_{uuid.uuid4()}"
        self.status = "Running"
        self._metrics: dict[str, list[Any]] = {}
        self.tags: dict[str, str] = {}
        self.properties: dict[str, str] = {}

    def _say(self, what: str) -> None:
        print(f"OfflineRun: {what}", file=sys.stdout)

    def log(self, name: str, value: Any, description: str = "") -> None:
        self._metrics.setdefault(name, []).append(value)
        self._say(f"log {name} = {value!r}")

    def log_list(self, name: str, value: Any, description: str = "") -> None:
        self._metrics.setdefault(name, []).extend(list(value))
        self._say(f"log_list {name} = {list(value)!r}")

    def log_row(self, name: str, description: str | None = None, **row: Any) -> None:
        self._metrics.setdefault(name, []).append(dict(row))
        self._say(f"log_row {name} = {row!r}")

    def log_table(self, name: str, value: Any, description: str = "") -> None:
        self._metrics[name] = [dict(value)]
        self._say(f"log_table {name} = {dict(value)!r}")

    def log_image(
        self, name: str, path: Any = None, plot: Any = None, description: str = ""
    ) -> None:
        self._say(f"log_image {name} (not kept offline)")

    def get_metrics(self, name: str | None = None) -> dict[str, Any]:
        found = {k: v[0] if len(v) == 1 else list(v) for k, v in self._metrics.items()}
        return found if name is None else {name: found[name]} if name in found else {}

    def set_tags(self, tags: dict[str, Any]) -> None:
        self.tags.update({k: str(v) for k, v in tags.items()})

    def tag(self, key: str, value: Any = None) -> None:
        self.set_tags({key: "" if value is None else value})

    def add_properties(self, properties: dict[str, Any]) -> None:
        self.properties.update({k: str(v) for k, v in properties.items()})

    def upload_file(self, name: str, path_or_stream: Any) -> None:
        self._say(f"upload_file {name} (not kept offline)")

    def complete(self) -> None:
        self.status = "Completed"

    def fail(self, error_details: Any = None, error_code: str | None = None) -> None:
        self.status = "Failed"

    def __repr__(self) -> str:
        return f"OfflineRun(Id: {self.id})"


Event = dict[str, Any]  # one thing a trial's run logged: {"kind": ..., "name": ..., "value": ...}


class TrialRun(OfflineRun):
    """The run of a sweep trial, as its code (a script or a function, on a Ray worker)
    sees it: each call is kept in memory (`get_metrics`) and sent to `send` as an `Event`
    of JSON values, which the trial reports through Ray Tune; it never reaches a database.

    Kinds: `log` (one number, string or boolean), `list`, `row`, `table` (their `value`),
    `tags` and `properties` (a dict of strings, no name).
    """

    def __init__(self, send: Callable[[Event], None]) -> None:
        super().__init__()
        self.id = f"TrialRun_{uuid.uuid4()}"
        self._send = send

    def _say(self, what: str) -> None:
        pass  # reported through the trial, not printed

    def log(self, name: str, value: Any, description: str = "") -> None:
        value = _plain(name, value)
        super().log(name, value)
        self._send({"kind": "log", "name": name, "value": value})

    def log_list(self, name: str, value: Any, description: str = "") -> None:
        values = [_plain(name, v) for v in value]
        super().log_list(name, values)
        self._send({"kind": "list", "name": name, "value": values})

    def log_row(self, name: str, description: str | None = None, **row: Any) -> None:
        cells = {str(k): _plain(name, v, none=True) for k, v in row.items()}
        super().log_row(name, **cells)
        self._send({"kind": "row", "name": name, "value": cells})

    def log_table(self, name: str, value: Any, description: str = "") -> None:
        columns = {str(k): [_plain(name, v, none=True) for v in c] for k, c in value.items()}
        super().log_table(name, columns)
        self._send({"kind": "table", "name": name, "value": columns})

    def set_tags(self, tags: dict[str, Any]) -> None:
        super().set_tags(tags)
        self._send({"kind": "tags", "value": {k: str(v) for k, v in tags.items()}})

    def add_properties(self, properties: dict[str, Any]) -> None:
        super().add_properties(properties)
        self._send({"kind": "properties", "value": {k: str(v) for k, v in properties.items()}})

    def upload_file(self, name: str, path_or_stream: Any) -> None:
        raise ValidationError(
            f"upload_file({name!r}): a trial's files are those it writes under ./outputs"
        )

    def __repr__(self) -> str:
        return f"TrialRun(Id: {self.id})"


def _plain(name: str, value: Any, *, none: bool = False) -> Any:
    """A logged value as JSON: a number (numpy's too), a string or a boolean."""
    if isinstance(value, (str, bool)) or (none and value is None):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    raise ValidationError(
        f"metric {name!r}: value {value!r} ({type(value).__name__}) is not accepted: "
        "log a number, a string or a boolean"
    )


def _appender(path: str) -> Callable[[Event], None]:
    """Append each event to the JSON-lines file at `path`, one whole line per write."""
    handle = open(path, "a", encoding="utf-8")  # noqa: SIM115 - open for the process's life

    def send(event: Event) -> None:
        handle.write(json.dumps(event) + "\n")
        handle.flush()

    return send
