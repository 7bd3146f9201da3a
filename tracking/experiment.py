"""`Experiment`: a named group of runs in a workspace."""

from __future__ import annotations

import functools
import html
import os
import uuid
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from tracking import azure
from tracking.errors import NotFoundError, ValidationError
from tracking.names import check_experiment_name, check_key, check_run_id, label_filter
from tracking.records import (
    RUN_TYPES,
    ExperimentRecord,
    RunFilter,
    RunOrder,
    RunPage,
    RunStatus,
)

if TYPE_CHECKING:
    import pandas as pd

    from tracking.run import Run
    from tracking.workspace import Workspace

_PAGE = 2000


def parse_status(status: str | RunStatus | None) -> RunStatus | None:
    """A status from its Azure name ('Completed') or a `RunStatus`; None stays None."""
    if status is None or isinstance(status, RunStatus):
        return status
    for candidate in RunStatus:
        if candidate.value.lower() == str(status).lower():
            return candidate
    raise ValidationError(
        f"status {status!r} is not accepted: use one of {', '.join(s.value for s in RunStatus)}"
    )


def check_run_type(run_type: str | None) -> str | None:
    if run_type is not None and run_type not in RUN_TYPES:
        raise ValidationError(
            f"run type {run_type!r} is not accepted: use one of {', '.join(RUN_TYPES)}"
        )
    return run_type


class Experiment:
    """An experiment of a workspace, created on first use (as azureml.core's `Experiment`).

    Args:
        workspace: the workspace that holds it.
        name: 1 to 255 letters, digits, '-', '_' or '.'.

    Raises:
        ValidationError: the name is not accepted.
    """

    def __init__(self, workspace: Workspace, name: str, **azure_only: Any) -> None:
        azure.take("Experiment", azure_only)
        check_experiment_name(name)
        self._workspace = workspace
        self._record = workspace.records.get_or_create_experiment(name)

    @classmethod
    def _of(cls, workspace: Workspace, record: ExperimentRecord) -> Experiment:
        self = cls.__new__(cls)
        self._workspace = workspace
        self._record = record
        return self

    @property
    def workspace(self) -> Workspace:
        return self._workspace

    @property
    def name(self) -> str:
        return self._record.name

    @property
    def id(self) -> int:
        return self._record.id

    @property
    def primary_metric(self) -> tuple[str, str] | None:
        """The metric that ranks this experiment's runs and its goal, e.g. ('rmse', 'min')."""
        record = self._record
        return (
            None if record.primary_metric is None else (record.primary_metric, record.primary_goal)
        )

    def set_primary_metric(self, metric: str, mode: str = "min") -> None:
        """Name the metric that ranks the runs (the portal's best-run tile and sort)."""
        if mode not in ("min", "max"):
            raise ValidationError(f"mode {mode!r} is not accepted: use 'min' or 'max'")
        self._workspace.records.set_primary_metric(self.id, check_key("metric", metric), mode)
        self._record = self._workspace.records.get_experiment(self.name)

    @property
    def portal_url(self) -> str:
        return f"{self._workspace.portal_url}/experiments/{quote(self.name)}"

    def submit(self, config: Any, tags: Mapping[str, str] | None = None, **kwargs: Any) -> Run:
        """Run `config` (a `sweep.ScriptRunConfig` or `sweep.hyperdrive.HyperDriveConfig`)
        on Ray, driven from this process in the background; its run, at once.

        The config runs itself: this package imports no Ray.

        Raises:
            TypeError: `config` is neither; an unknown keyword.
        """
        azure.take("Experiment.submit", kwargs)
        submit = getattr(config, "_submit", None)
        if not callable(submit):
            raise TypeError(
                f"experiment.submit() takes a ScriptRunConfig (from sweep) or a "
                f"HyperDriveConfig (from sweep.hyperdrive), not {type(config).__name__}"
            )
        run: Run = submit(self, dict(tags or {}))
        return run

    def start_logging(
        self,
        *,
        outputs: str | None = None,
        snapshot_directory: str | None = None,
        display_name: str | None = None,
        tags: Mapping[str, str] | None = None,
        properties: Mapping[str, str] | None = None,
        run_id: str | None = None,
        **azure_only: Any,
    ) -> Run:
        """Start a new run of this experiment and return it, `Running`, as v1 does.

        The run's properties `host` and `user` say who recorded it and its files (unless
        `properties` gives them), so that whoever loads a model can judge its source.

        Args:
            outputs: the folder to watch (default `./outputs`, created if missing): what
                the run writes there is uploaded as `outputs/<path>` when it ends.
            snapshot_directory: a folder whose code is stored with the run now
                (`run.take_snapshot`).
            run_id: the new run's id (default: a new UUID); it names the run's folder in
                storage, so it is checked as `tracking.names.check_run_id` says.

        Raises:
            ValidationError: the run id, display name, a tag or a property is not accepted.
        """
        azure.take("Experiment.start_logging", azure_only)
        run = self._start(
            display_name=display_name,
            tags=tags,
            properties=properties,
            run_id=run_id,
            outputs=outputs if outputs is not None else "outputs",
        )
        if snapshot_directory is not None:
            run.take_snapshot(snapshot_directory)
        return run

    def _start(
        self,
        *,
        display_name: str | None = None,
        tags: Mapping[str, str] | None = None,
        properties: Mapping[str, str] | None = None,
        run_id: str | None = None,
        parent_run_id: str | None = None,
        outputs: str | None = None,
    ) -> Run:
        from tracking.outputs import OutputsFolder
        from tracking.run import Run

        watched = None if outputs is None else OutputsFolder.start(outputs)
        record = self._workspace.records.create_run(
            self.id,
            str(uuid.uuid4()) if run_id is None else check_run_id(run_id),
            display_name=display_name,
            properties={**_recorder(), **(properties or {})},  # a copy: the cache stays
            tags=tags,
            parent_run_id=parent_run_id,
        )
        # Alive while this process is: if it dies first, the run is failed, not left running.
        self._workspace.heartbeat.add([record.run_id])
        return Run._of(self, record, watched)

    def get_runs(
        self,
        type: str | None = None,
        tags: Any = None,
        properties: Any = None,
        include_children: bool = False,
        *,
        status: str | RunStatus | None = None,
    ) -> Iterator[Run]:
        """Yield the experiment's runs, newest first, that match every filter given.

        Args:
            type: only runs of this type ('azureml.scriptrun', or 'hyperdrive' for sweeps).
            tags: a dict of key -> value (None: any value), a key, or a list of keys and
                [key, value] pairs; `properties` likewise.
            include_children: also child runs (a sweep's cells); by default only top-level
                runs, as in v1.
            status: only runs with this status ('Completed', ...).
        """
        where = RunFilter(
            status=parse_status(status),
            top_level=not include_children,
            run_type=check_run_type(type),
            tags=label_filter("tag", tags),
            properties=label_filter("property", properties),
        )
        yield from self._runs(where, RunOrder("field", "number", descending=True))

    def _runs(self, where: RunFilter, order: RunOrder) -> Iterator[Run]:
        from tracking.run import Run

        self._workspace.flusher.flush()  # what this process logged, read back

        offset = 0
        while True:
            page = self._workspace.records.search_runs(
                self.id, order=order, limit=_PAGE, offset=offset, where=where
            )
            for row in page.rows:
                yield Run._of(self, row.run)
            offset += len(page.rows)
            if not page.rows or offset >= page.total:
                return

    def search_runs(
        self,
        *,
        order: RunOrder | str | None = None,
        status: str | RunStatus | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> RunPage:
        """One page of the runs table, with params and final metrics (the portal's view).

        Args:
            order: a `RunOrder` or its text: 'number', 'start_time', 'metrics.rmse',
                'params.alpha'; prefix '-' for descending. Default: newest first.
        """
        if isinstance(order, str):
            descending = order.startswith("-")
            order = RunOrder.parse(order.lstrip("-"), descending=descending)
        self._workspace.flusher.flush()
        return self._workspace.records.search_runs(
            self.id, order=order, status=parse_status(status), limit=limit, offset=offset
        )

    def get_best_run(self, metric: str, mode: str = "min") -> Run:
        """The run whose last value of `metric` is best; NaN and infinities never are.

        Raises:
            ValidationError: `mode` is not 'min' or 'max'.
            NotFoundError: no run has a finite value of `metric`.
        """
        from tracking.run import Run

        if mode not in ("min", "max"):
            raise ValidationError(f"mode {mode!r} is not accepted: use 'min' or 'max'")
        self._workspace.flusher.flush()
        record = self._workspace.records.best_run(self.id, metric, maximize=mode == "max")
        if record is None:
            raise NotFoundError(
                f"no run of experiment {self.name!r} has a finite value of metric {metric!r}"
            )
        return Run._of(self, record)

    def to_dataframe(self, include_children: bool = True) -> pd.DataFrame:
        """One row per run, oldest first, in MLflow's column convention: `run_id`,
        `number`, `status`, `start_time`, `end_time`, `parent_run_id`, `type`, then
        `params.<name>`, `metrics.<name>` (the last value), `tags.<name>` and
        `properties.<name>`. Built from a handful of reads, whatever the number of runs;
        params that are numbers come back as floats."""
        from tracking.frame import collector_paused, run_frame

        self._workspace.flusher.flush()
        with collector_paused():
            where = RunFilter(top_level=not include_children)
            return run_frame(self._workspace.records.run_table(self.id, where))

    def __repr__(self) -> str:
        return f"Experiment(Name: {self.name},\nWorkspace: {self._workspace.name})"

    def _repr_html_(self) -> str:
        name = html.escape(self.name)
        workspace = html.escape(self._workspace.name)
        link = html.escape(self.portal_url, quote=True)
        return (
            "<table style='width:100%'><tr><th>Name</th><th>Workspace</th>"
            "<th>Report Page</th></tr>"
            f"<tr><td>{name}</td><td>{workspace}</td>"
            f'<td><a href="{link}" target="_blank" rel="noopener">Link to the portal</a>'
            "</td></tr></table>"
        )

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Experiment)
            and other.id == self.id
            and (other._workspace.tracking_uri == self._workspace.tracking_uri)
        )

    def __hash__(self) -> int:
        return hash((self._workspace.tracking_uri, self.id))


@functools.cache
def _recorder() -> dict[str, str]:
    """This process's host and user, as run properties (looked up once per process)."""
    import getpass
    import socket

    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container's)
        user = str(os.getuid()) if hasattr(os, "getuid") else "unknown"
    return {"host": socket.gethostname(), "user": user}
