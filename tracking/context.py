"""`Run.get_context()`: the run a process (or a trial) was started for.

Two ways to be started for a run:
- in-process: code that runs a trial or a function for a run installs the run for the
  duration (`started_for(run)`); a sweep's trial installs a run that reports through Ray
  Tune, so no database credentials reach a worker;
- a separate process: the environment names the run (`RAYSWEEP_RUN_ID`, its experiment
  `RAYSWEEP_EXPERIMENT` and the workspace's config file `RAYSWEEP_CONFIG`), read here,
  at the edge, and never written by this package.

Anywhere else `get_context()` returns an `OfflineRun`, which prints what it would log, as
Azure ML v1 does outside a submitted run.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import sys
import uuid
from collections.abc import Iterator
from typing import Any

from tracking.errors import NotFoundError

ENV_RUN_ID = "RAYSWEEP_RUN_ID"
ENV_EXPERIMENT = "RAYSWEEP_EXPERIMENT"
ENV_CONFIG = "RAYSWEEP_CONFIG"

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
