"""The record store contract: experiments, runs, metrics, params, tags and file records.

Every backend implements `RecordStore` and passes the contract suite in
`tests/test_record_store_contract.py`.

Rules every implementation keeps:
- It takes and returns only the frozen records of `tracking.records`, plain ids and
  built-in values.
- It is safe to use from several threads of one process, and from several processes on the
  same database: every method is one short transaction.
- A run's number is 1, 2, 3... within its experiment, assigned once and never reused.
- Writes to a run that is not `Running` raise `RunFinishedError` (status changes too, but
  a `Queued` run may end without running: canceled, say).
- A `Queued` run (`record_runs` with that status) holds its number, params, properties and
  parent until it starts: recording it again by id (`record_runs`) writes it whole in its
  place, keeping its number. Heartbeats and lost runs treat it as running.
- A running run has a heartbeat: the time its recording process last said it was alive,
  by the database's clock. `fail_lost_runs` fails the runs whose heartbeat stopped, each
  exactly once even when several processes call it at the same time; a caller whose clock
  is off fails no run that still beats.
- Run ids follow `tracking.names.check_run_id`, and every value is checked before it is
  written (`tracking.stores.values`): what one database would refuse, every backend
  refuses with the same `ValidationError`, naming the field.
- Every database failure reaches the caller as a `TrackingError` (see
  `tracking.stores.errors`); a read-only database is read, and refuses writes in one line.
- A claim on a key has one holder at a time: taking a free or lapsed key is one atomic
  step, leases are given and judged by the database's clock.
- Non-finite metric values are stored and returned as they were logged, but never sort
  before finite ones and are never chosen as a best value.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from tracking.records import (
    SCRIPT_RUN,
    ChartSeries,
    ClaimRecord,
    ExperimentRecord,
    ExperimentSummary,
    FileRecord,
    LoggedValue,
    LostRun,
    MetricItem,
    MetricSummary,
    MetricValue,
    ModelFile,
    ModelRecord,
    NewRun,
    RunFilter,
    RunOrder,
    RunPage,
    RunRecord,
    RunStatus,
    RunTable,
)


class RecordStore(abc.ABC):
    """Where experiments and runs are recorded."""

    @property
    def read_only(self) -> bool:
        """True if this store can only be read (a read-only file, folder or mount)."""
        return False

    # -- experiments -------------------------------------------------------------------
    @abc.abstractmethod
    def get_or_create_experiment(self, name: str) -> ExperimentRecord:
        """Return the experiment called `name`, creating it if it does not exist."""

    @abc.abstractmethod
    def get_experiment(self, name: str) -> ExperimentRecord:
        """Return the experiment called `name`.

        Raises:
            NotFoundError: no experiment has that name.
        """

    @abc.abstractmethod
    def list_experiments(self) -> list[ExperimentSummary]:
        """Return every experiment with its run count and last activity, by name."""

    @abc.abstractmethod
    def set_primary_metric(self, experiment_id: int, metric: str, goal: str) -> None:
        """Name the metric that ranks the experiment's runs, and whether 'min' or 'max' wins."""

    @abc.abstractmethod
    def list_columns(self, experiment_id: int) -> tuple[list[str], list[str]]:
        """Return the metric names and the param names logged in the experiment, sorted."""

    @abc.abstractmethod
    def chart_series(
        self,
        experiment_id: int,
        metric: str,
        *,
        x_param: str | None = None,
        x_metric: str | None = None,
        every: int = 1,
        also: int | None = None,
    ) -> ChartSeries:
        """Return each run's last value of `metric`, by run number.

        With `x_param` (or `x_metric`), `x` holds each run's value of that param if it is a
        number (or that metric's last value), else None. Runs without `metric` are left out;
        non-finite values are included. With `every` > 1, only runs whose number is a
        multiple of it are included, and the run numbered `also` (the best, say).
        """

    # -- runs --------------------------------------------------------------------------
    @abc.abstractmethod
    def create_run(
        self,
        experiment_id: int,
        run_id: str,
        *,
        display_name: str | None = None,
        properties: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        start_time: datetime | None = None,
        parent_run_id: str | None = None,
        run_type: str = SCRIPT_RUN,
    ) -> RunRecord:
        """Create a `Running` run with the next run number of the experiment (one write).

        Args:
            parent_run_id: the run this one is a child of (a run of the same experiment).
            run_type: one of `tracking.records.RUN_TYPES`.

        Raises:
            NotFoundError: the experiment does not exist.
            ConflictError: a run with this id exists.
            ValidationError: the run id, display name, a tag or a property is not accepted.
        """

    @abc.abstractmethod
    def record_runs(self, experiment_id: int, runs: Sequence[NewRun]) -> list[RunRecord]:
        """Create several runs whole (params, metrics, properties, files, status) at once.

        One transaction for all of them, the bulk form of `create_run`, `log_batch` and
        `set_status`: what a sweep's writer uses to keep up with many short trials. A run
        whose id is a `Queued` run of the experiment replaces it, keeping its number.

        Raises:
            NotFoundError: the experiment does not exist.
            ConflictError: a run id exists already (and is not a queued run of the
                experiment).
        """

    @abc.abstractmethod
    def get_run(self, run_id: str) -> RunRecord:
        """Return the run with this id.

        Raises:
            NotFoundError: no run has this id.
            ValidationError: `run_id` is not a valid run id.
        """

    @abc.abstractmethod
    def find_runs_by_property(self, experiment_id: int, key: str, value: str) -> list[RunRecord]:
        """Return the runs of the experiment whose property `key` equals `value`."""

    @abc.abstractmethod
    def search_runs(
        self,
        experiment_id: int,
        *,
        order: RunOrder | None = None,
        status: RunStatus | None = None,
        limit: int = 50,
        offset: int = 0,
        where: RunFilter | None = None,
    ) -> RunPage:
        """Return one page of the experiment's runs with their params and final metrics.

        Args:
            order: the sort; by default newest first (run number descending).
            status: only runs with this status.
            limit: at most this many rows.
            offset: skip this many rows of the sorted, filtered table.
            where: only the runs it selects (parent, type, tags, properties, status).

        Returns:
            The page and the number of runs that match in all.
        """

    @abc.abstractmethod
    def run_table(self, experiment_id: int, where: RunFilter | None = None) -> RunTable:
        """Return every matching run with its params, last metric values, tags and
        properties, in columns, by run number: what a data frame of the runs is built
        from, in a handful of reads however many runs there are, all of one snapshot
        (runs written meanwhile are wholly in it or wholly not)."""

    @abc.abstractmethod
    def best_run(self, experiment_id: int, metric: str, *, maximize: bool) -> RunRecord | None:
        """Return the run whose last finite value of `metric` is least (or greatest).

        Runs whose last value is NaN or infinite are never chosen. Returns None if no run
        has a finite value of the metric.
        """

    @abc.abstractmethod
    def set_status(
        self,
        run_id: str,
        status: RunStatus,
        *,
        error: str | None = None,
        end_time: datetime | None = None,
        properties: Mapping[str, str] | None = None,
        files: Sequence[FileRecord] = (),
        metrics: Sequence[MetricItem] = (),
    ) -> None:
        """Finish a running (or queued) run with a terminal status, with its last
        properties, files and metric values (as `log_batch` records them).

        All in one transaction: a run is never seen finished without its files. NUL
        characters in `error` are replaced by U+FFFD rather than refused.

        Raises:
            RunFinishedError: the run has already finished.
            ConflictError: a property would change, or a file name is taken.
        """

    @abc.abstractmethod
    def heartbeat(self, run_ids: Sequence[str], at: datetime | None = None) -> None:
        """Say that the process recording these runs is alive (finished runs are skipped).

        Without `at`, the beat is dated by the database's clock, not the caller's.
        """

    @abc.abstractmethod
    def fail_lost_runs(
        self, silent_since: datetime, *, error: str, run_ids: Sequence[str] | None = None
    ) -> list[str]:
        """Fail every running run whose last heartbeat is before `silent_since`.

        `silent_since` is read on the caller's clock as an age (now - `silent_since`) and
        that age is measured on the database's clock: a caller whose clock runs fast does
        not fail runs that beat, nor one whose clock runs slow spare runs that stopped.

        Args:
            run_ids: only these runs (say, those `find_lost_runs` returned), if still lost.

        Returns the ids of the runs this call failed: each lost run is failed by exactly one
        call, however many processes call at once.
        """

    @abc.abstractmethod
    def find_lost_runs(self, silent_since: datetime) -> list[LostRun]:
        """Return the running runs whose last heartbeat is before `silent_since` (read as
        `fail_lost_runs` reads it), oldest heartbeat first, without changing them: what
        `fail_lost_runs` would fail."""

    # -- values ------------------------------------------------------------------------
    @abc.abstractmethod
    def log_batch(
        self,
        run_id: str,
        *,
        metrics: Sequence[MetricItem] = (),
        params: Mapping[str, Any] | None = None,
        tags: Mapping[str, str] | None = None,
        properties: Mapping[str, str] | None = None,
        timestamp: datetime | None = None,
    ) -> None:
        """Record metric values (in order; each at its own time, if it has one, else at
        `timestamp`), params, tags and properties in one transaction.

        Each metric value gets the next step of its name within the run. Params and
        properties are set once: setting one again to a different value raises
        `ConflictError`. Tags may change.

        Raises:
            NotFoundError: no run has this id.
            RunFinishedError: the run has finished (metrics, params and properties only;
                tags may be changed at any time).
            ValidationError: a name or a tag or property value is not accepted.
        """

    @abc.abstractmethod
    def get_metric_history(self, run_id: str) -> list[MetricValue]:
        """Return every metric value of the run, by name and then step."""

    @abc.abstractmethod
    def get_metric_summaries(self, run_id: str) -> dict[str, MetricSummary]:
        """Return the summary of each metric of the run."""

    @abc.abstractmethod
    def get_params(self, run_id: str) -> dict[str, Any]:
        """Return the run's params."""

    @abc.abstractmethod
    def log_values(self, run_id: str, values: Sequence[LoggedValue]) -> None:
        """Append values that are not numbers to a running run (`LoggedValue` says which
        kinds); each takes the next step of its name, and `step`/`timestamp` are ignored.

        Raises:
            RunFinishedError: the run has finished.
            ValidationError: a name, kind or value is not accepted (values must be JSON).
        """

    @abc.abstractmethod
    def get_values(self, run_id: str) -> list[LoggedValue]:
        """Return the run's logged values that are not numbers, by name and then step."""

    # -- files -------------------------------------------------------------------------
    @abc.abstractmethod
    def add_file(self, record: FileRecord) -> None:
        """Record a file of a running run.

        Raises:
            ConflictError: the run already has a file of that name.
            RunFinishedError: the run has finished.
            ValidationError: its name, URI, size or SHA-256 is not accepted.
        """

    @abc.abstractmethod
    def list_files(self, run_id: str) -> list[FileRecord]:
        """Return the run's files, by name."""

    @abc.abstractmethod
    def get_file(self, run_id: str, name: str) -> FileRecord:
        """Return the run's file called `name`.

        Raises:
            NotFoundError: the run has no such file.
        """

    @abc.abstractmethod
    def file_uris(self, prefix: str = "") -> set[str]:
        """Return the URI of every recorded file, of any run (one read).

        Args:
            prefix: only the URIs that start with it, compared exactly (case too).
        """

    # -- models ------------------------------------------------------------------------
    @abc.abstractmethod
    def register_model(
        self,
        name: str,
        *,
        path: str,
        files: Sequence[ModelFile],
        run_id: str | None = None,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
        properties: Mapping[str, str] | None = None,
    ) -> ModelRecord:
        """Record the next version of model `name` (1 for a new name), in one transaction:
        of several processes registering one name at once, each gets its own version.

        Raises:
            NotFoundError: `run_id` names no run.
            ValidationError: the name, a path, a file record, a tag or a property is not
                accepted, or `files` is empty.
        """

    @abc.abstractmethod
    def get_model(self, name: str, version: int | None = None) -> ModelRecord:
        """Return version `version` of model `name` (None: its latest).

        Raises:
            NotFoundError: no such model or version.
        """

    @abc.abstractmethod
    def list_models(
        self,
        *,
        name: str | None = None,
        run_id: str | None = None,
        tags: Mapping[str, str | None] | None = None,
        properties: Mapping[str, str | None] | None = None,
        latest: bool = False,
    ) -> list[ModelRecord]:
        """Return the model versions that match every filter given, by name then version
        (newest first within a name); with `latest`, only each name's latest version that
        matches. Tags and properties map a key to its value, or to None for any value."""

    @abc.abstractmethod
    def label_model(
        self,
        name: str,
        version: int,
        *,
        tags: Mapping[str, str] | None = None,
        properties: Mapping[str, str] | None = None,
    ) -> ModelRecord:
        """Set tags (replacing values) and add properties (set once) of a model version.

        Raises:
            NotFoundError: no such model version.
            ConflictError: a property would change.
        """

    # -- claims and values -------------------------------------------------------------
    @abc.abstractmethod
    def claim(self, key: str, holder: str, lease_s: float) -> ClaimRecord | None:
        """Take `key` for `holder` for `lease_s` seconds, in one atomic step.

        The key is taken if no one holds it, its lease ran out (by the database's clock),
        or `holder` holds it already (which renews it, keeping `acquired_at`). Of several
        processes that claim one key at once, exactly one gets it.

        Returns:
            The claim now held by `holder`, or None if someone else holds the key.

        Raises:
            ValidationError: the key (at most 255 characters), holder or lease (seconds
                above 0) is not accepted.
        """

    @abc.abstractmethod
    def renew_claim(self, key: str, holder: str, lease_s: float) -> bool:
        """Extend `holder`'s lease on `key` to `lease_s` seconds from now.

        Returns:
            False if `holder` no longer holds the key (it was released or taken over).
        """

    @abc.abstractmethod
    def release_claim(self, key: str, holder: str) -> None:
        """Free `key` if `holder` holds it (else nothing changes)."""

    @abc.abstractmethod
    def get_claim(self, key: str) -> ClaimRecord | None:
        """Return the claim on `key`, its lease run out or not; None if it is free."""

    @abc.abstractmethod
    def set_value(self, namespace: str, key: str, value: str) -> None:
        """Set `key` of `namespace` to `value`, replacing any value it had.

        Raises:
            ValidationError: the namespace (at most 64 characters), key (at most 255) or
                value (text) is not accepted.
        """

    @abc.abstractmethod
    def get_value(self, namespace: str, key: str) -> str | None:
        """Return the value of `key` in `namespace`, or None if it has none."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections. The store must not be used afterwards."""
