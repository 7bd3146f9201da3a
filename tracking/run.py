"""`Run`: one training run, its metrics, tags, properties and files (azureml.core's `Run`)."""

from __future__ import annotations

import builtins
import html
import json
import traceback
from collections.abc import Iterator, Sequence
from dataclasses import replace
from types import TracebackType
from typing import TYPE_CHECKING, Any

from tracking import azure
from tracking.errors import NotFoundError, ValidationError
from tracking.outputs import OutputsFolder
from tracking.pending import PendingValues
from tracking.records import (
    ARGUMENTS,
    SCRIPT,
    MetricItem,
    RunFilter,
    RunOrder,
    RunRecord,
    RunStatus,
    utcnow,
)
from tracking.run_files import RunFiles
from tracking.run_logging import RunLogging

if TYPE_CHECKING:
    from tracking.experiment import Experiment


def _iso(moment: Any) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


class Run(RunLogging, RunFiles):
    """A run of an experiment.

    `Run(experiment, run_id)` looks an existing run up; `experiment.start_logging()` starts
    a new one; `Run.get_context()` is the run a script or trial was started for.

    Args:
        outputs: a folder whose new files are uploaded as `outputs/<path>` when this object
            completes or fails the run (`start_logging` watches `./outputs` by default).

    Raises:
        NotFoundError: no run of this experiment has `run_id`.
    """

    def __init__(
        self,
        experiment: Experiment,
        run_id: str,
        outputs: str | None = None,
        **azure_only: Any,
    ) -> None:
        azure.take("Run", azure_only)
        record = experiment.workspace.records.get_run(run_id)
        if record.experiment_id != experiment.id:
            raise NotFoundError(f"run {run_id!r} is not a run of experiment {experiment.name!r}")
        self._experiment = experiment
        self._record = record
        self._outputs = None if outputs is None else OutputsFolder.start(outputs)

    @classmethod
    def _of(
        cls, experiment: Experiment, record: RunRecord, outputs: OutputsFolder | None = None
    ) -> Run:
        self = cls.__new__(cls)
        self._experiment = experiment
        self._record = record
        self._outputs = outputs
        return self

    @classmethod
    def get_context(cls, allow_offline: bool = True, **azure_only: Any) -> Any:
        """The run this process was started for (a sweep's trial, a submitted script);
        elsewhere an offline run that prints what it would log, as in v1.

        Raises:
            NotFoundError: not started for a run, and `allow_offline` is False.
        """
        from tracking.context import current_run

        return current_run(allow_offline=allow_offline)

    @property
    def _records(self) -> Any:
        return self._experiment.workspace.records

    # -- identity ----------------------------------------------------------------------
    @property
    def id(self) -> str:
        return self._record.run_id

    @property
    def number(self) -> int:
        """1, 2, 3... within the experiment, as the portal shows it."""
        return self._record.number

    @property
    def experiment(self) -> Experiment:
        return self._experiment

    @property
    def display_name(self) -> str:
        return self._record.display_name or f"Run {self.number}"

    @property
    def status(self) -> str:
        """The status when this object last read or changed it; `get_status()` reads it now."""
        return self._record.status.value

    @property
    def properties(self) -> dict[str, str]:
        return dict(self._record.properties)

    @property
    def tags(self) -> dict[str, str]:
        return dict(self._record.tags)

    @property
    def type(self) -> str:
        """Azure's run type: 'azureml.scriptrun', or 'hyperdrive' for a sweep's parent."""
        return self._record.run_type

    @property
    def parent(self) -> Run | None:
        """The run this one is a child of, or None."""
        parent_id = self._record.parent_run_id
        if parent_id is None:
            return None
        return Run._of(self._experiment, self._records.get_run(parent_id))

    @property
    def portal_url(self) -> str:
        return f"{self._experiment.workspace.portal_url}/runs/{self.id}"

    def get_portal_url(self) -> str:
        """The run's page in the workspace's portal."""
        return self.portal_url

    def get_status(self) -> str:
        self._refresh()
        return self.status

    def _refresh(self) -> None:
        self._record = self._records.get_run(self.id)

    def wait_for_completion(
        self,
        show_output: bool = False,
        wait_post_processing: bool = False,
        raise_on_error: bool = True,
        *,
        poll_s: float = 1.0,
    ) -> dict[str, Any]:
        """Wait until the run ends (as a run submitted with `experiment.submit` will); its
        details. With `show_output`, print its id, portal link and each status it passes
        through (a submitted script's own output reaches this process's stdout as Ray
        forwards it). `wait_post_processing` has no meaning here: nothing follows the end.

        Raises:
            RunFailedError: the run failed, and `raise_on_error`; the message is its error.
        """
        import sys
        import time

        from tracking.errors import RunFailedError

        seen = None
        if show_output:
            print(f"RunId: {self.id}\nWeb View: {self.portal_url}", file=sys.stdout, flush=True)
        while True:
            self._refresh()
            if show_output and self.status != seen:
                print(f"Status: {self.status}", file=sys.stdout, flush=True)
            seen = self.status
            if self._record.status.is_terminal:
                break
            time.sleep(poll_s)
        details = self.get_details()
        if raise_on_error and self._record.status is RunStatus.FAILED:
            error = self._record.error or "no error recorded"
            raise RunFailedError(f"run {self.id} failed: {error}")
        return details

    # -- lifecycle ---------------------------------------------------------------------
    def complete(self, **azure_only: Any) -> None:
        """Upload what the run wrote to its outputs folder, then mark it `Completed`.

        The files are recorded before the status: a completed run has its files.
        """
        set_status = azure.take("Run.complete", azure_only).get("_set_status", True)
        self._upload_outputs()
        if set_status:
            self._finish(RunStatus.COMPLETED)

    def fail(
        self, error_details: Any = None, error_code: str | None = None, **azure_only: Any
    ) -> None:
        """Upload the outputs folder's new files, then mark the run `Failed`, keeping
        `error_details` (text or an exception)."""
        if not azure.take("Run.fail", azure_only).get("_set_status", True):
            return
        if isinstance(error_details, BaseException):
            error_details = "".join(traceback.format_exception_only(error_details)).strip()
        error = None if error_details is None else str(error_details)
        if error_code:
            error = f"{error_code}: {error}" if error else error_code
        self._upload_outputs()
        self._finish(RunStatus.FAILED, error=error)

    def cancel(self) -> None:
        """Mark the run `Canceled`."""
        self._finish(RunStatus.CANCELED)

    def _finish(self, status: RunStatus, *, error: str | None = None) -> None:
        self._outputs = None
        end_time = utcnow()

        def end(metrics: Sequence[MetricItem]) -> None:  # with the values still kept
            self._records.set_status(
                self.id, status, error=error, end_time=end_time, metrics=metrics
            )

        pending: PendingValues | None = getattr(self, "_pending", None)
        if pending is None:
            end(())
        else:
            pending.finish(end)
        self._experiment.workspace.heartbeat.discard([self.id])
        self._record = replace(self._record, status=status, end_time=end_time, error=error)

    def __enter__(self) -> Run:
        return self

    def __exit__(
        self,
        exc_type: builtins.type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.get_status() != RunStatus.RUNNING.value:
            return
        if exc is None:
            self.complete()
        elif isinstance(exc, KeyboardInterrupt):
            self.cancel()
        else:
            self.fail(exc)

    # -- children ----------------------------------------------------------------------
    def child_run(
        self, name: str | None = None, run_id: str | None = None, outputs: str | None = None
    ) -> Run:
        """Start a child run of this one (in the same experiment), `Running`."""
        return self._experiment._start(
            display_name=name, run_id=run_id, parent_run_id=self.id, outputs=outputs
        )

    def create_children(
        self,
        count: int | None = None,
        tag_key: str | None = None,
        tag_values: list[str] | None = None,
    ) -> list[Run]:
        """Start `count` children at once, or one per value of `tag_values` tagged
        `tag_key`=value."""
        if tag_values is not None:
            if tag_key is None:
                raise ValidationError("create_children: tag_values needs tag_key")
            if count is not None and count != len(tag_values):
                raise ValidationError(
                    f"create_children: count {count} differs from {len(tag_values)} tag_values"
                )
            tags: list[dict[str, str]] = [{tag_key: str(v)} for v in tag_values]
        elif isinstance(count, int) and not isinstance(count, bool) and count >= 1:
            tags = [{} for _ in range(count)]
        else:
            raise ValidationError(
                f"create_children: count {count!r} is not accepted: give a number >= 1 "
                "or tag_key and tag_values"
            )
        return [self._experiment._start(parent_run_id=self.id, tags=t) for t in tags]

    def get_children(
        self,
        recursive: bool = False,
        tags: Any = None,
        properties: Any = None,
        type: str | None = None,
        status: str | None = None,
        **azure_only: Any,
    ) -> Iterator[Run]:
        """Yield this run's children (and theirs, if `recursive`), oldest first, that
        match every filter given (tags and properties as in `Experiment.get_runs`)."""
        from tracking.experiment import parse_status
        from tracking.names import label_filter

        azure.take("Run.get_children", azure_only)
        where = RunFilter(
            status=parse_status(status),
            parent_run_id=self.id,
            run_type=type,
            tags=label_filter("tag", tags),
            properties=label_filter("property", properties),
        )
        for child in self._experiment._runs(where, RunOrder("field", "number")):
            yield child
            if recursive:
                yield from child.get_children(
                    recursive=True, tags=tags, properties=properties, type=type, status=status
                )

    def get_best_run_by_primary_metric(self) -> Run | None:
        """The child with the best last value of the primary metric: the one the parent's
        properties `primary_metric_name`/`primary_metric_goal` name (a sweep sets them),
        else the experiment's. None if no child has a finite value of it."""
        props = self._record.properties
        if "primary_metric_name" in props:
            metric = props["primary_metric_name"]
            goal = props.get("primary_metric_goal", "minimize").lower()
            maximize = goal in ("maximize", "max")
        elif self._experiment.primary_metric is not None:
            metric, mode = self._experiment.primary_metric
            maximize = mode == "max"
        else:
            raise ValidationError(
                f"run {self.id!r} names no primary metric: set its properties "
                "primary_metric_name and primary_metric_goal, or the experiment's "
                "set_primary_metric(...)"
            )
        order = RunOrder("metric", metric, descending=maximize)
        page = self._records.search_runs(
            self._experiment.id, order=order, limit=1, where=RunFilter(parent_run_id=self.id)
        )
        if not page.rows or metric not in page.rows[0].metrics:
            return None
        best = page.rows[0]
        value = best.metrics[metric]
        if value != value or value in (float("inf"), float("-inf")):
            return None
        return Run._of(self._experiment, best.run)

    # -- reading -----------------------------------------------------------------------
    def get_details(self) -> dict[str, Any]:
        """The run's details in Azure ML's shape (runId, status, times, properties, tags)."""
        self._refresh()
        record = self._record
        details: dict[str, Any] = {
            "runId": record.run_id,
            "runNumber": record.number,
            "experimentName": self._experiment.name,
            "displayName": self.display_name,
            "target": "local",
            "type": record.run_type,
            "parentRunId": record.parent_run_id,
            "status": record.status.value,
            "startTimeUtc": _iso(record.start_time),
            "endTimeUtc": _iso(record.end_time),
            "properties": dict(record.properties),
            "tags": dict(record.tags),
            "inputDatasets": [],
            "outputDatasets": [],
        }
        if SCRIPT in record.properties:  # a submitted or swept script's run
            details["runDefinition"] = {
                "script": record.properties[SCRIPT],
                "arguments": json.loads(record.properties.get(ARGUMENTS, "[]")),
            }
        if record.error is not None:
            details["error"] = {"error": {"message": record.error}}
        return details

    def __repr__(self) -> str:
        return (
            f"Run(Experiment: {self._experiment.name},\nId: {self.id},\n"
            f"Number: {self.number},\nStatus: {self.status})"
        )

    def _repr_html_(self) -> str:
        cells = [
            html.escape(self._experiment.name),
            html.escape(self.id),
            str(self.number),
            html.escape(self.status),
        ]
        link = html.escape(self.portal_url, quote=True)
        return (
            "<table style='width:100%'><tr><th>Experiment</th><th>Id</th><th>Number</th>"
            "<th>Status</th><th>Details Page</th></tr><tr>"
            + "".join(f"<td>{c}</td>" for c in cells)
            + f'<td><a href="{link}" target="_blank" rel="noopener">Link to the portal</a>'
            "</td></tr></table>"
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Run) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)
