"""Frozen records that cross the store boundaries.

Stores return these and nothing else: no SQLAlchemy rows or boto3 responses leave the module
that made them.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from types import MappingProxyType
from typing import Any

# Azure's run types: a run that trains (start_logging, a script, a sweep's cell), and the
# parent run of a sweep.
SCRIPT_RUN = "azureml.scriptrun"
SWEEP_RUN = "hyperdrive"
# Properties of a script's run (submitted, or a sweep's cell): its script and arguments,
# which `get_details()["runDefinition"]` shows as v1 does.
SCRIPT = "script"
ARGUMENTS = "arguments"
RUN_TYPES = (SCRIPT_RUN, SWEEP_RUN)


class RunStatus(str, enum.Enum):
    """A run's status, in Azure Machine Learning's words."""

    QUEUED = "Queued"  # created before it starts (a sweep's cells wait their turn)
    RUNNING = "Running"
    COMPLETED = "Completed"
    FAILED = "Failed"
    CANCELED = "Canceled"

    @property
    def is_terminal(self) -> bool:
        return self not in (RunStatus.QUEUED, RunStatus.RUNNING)

    def __str__(self) -> str:
        return self.value


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _frozen(mapping: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True)
class ExperimentRecord:
    id: int
    name: str
    created_at: datetime
    primary_metric: str | None = None  # the metric that ranks its runs, e.g. 'rmse'
    primary_goal: str = "min"  # 'min' or 'max'


@dataclass(frozen=True)
class ExperimentSummary:
    """An experiment with what its list page shows."""

    experiment: ExperimentRecord
    run_count: int
    last_activity: datetime | None
    best_value: float | None = None  # of its primary metric, None without one


@dataclass(frozen=True)
class RunRecord:
    run_id: str
    experiment_id: int
    number: int
    status: RunStatus
    start_time: datetime
    end_time: datetime | None = None
    display_name: str | None = None
    error: str | None = None
    properties: Mapping[str, str] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)
    parent_run_id: str | None = None
    run_type: str = SCRIPT_RUN

    def __post_init__(self) -> None:
        object.__setattr__(self, "properties", _frozen(self.properties))
        object.__setattr__(self, "tags", _frozen(self.tags))


@dataclass(frozen=True)
class RunFilter:
    """Which runs of an experiment a listing returns (every field narrows it).

    `tags` and `properties` map a key to the value it must have, or to None for any value.
    """

    status: RunStatus | None = None
    top_level: bool = False  # only runs without a parent
    parent_run_id: str | None = None  # only the children of this run
    run_type: str | None = None
    tags: Mapping[str, str | None] = field(default_factory=dict)
    properties: Mapping[str, str | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "tags", _frozen(self.tags))
        object.__setattr__(self, "properties", _frozen(self.properties))

    @property
    def is_empty(self) -> bool:
        return self == RunFilter()


@dataclass(frozen=True)
class LoggedValue:
    """A value a run logged that is not a number (see `RecordStore.log_values`).

    `kind` is 'text' (a string or boolean), 'row' (a dict of columns), 'table' (a dict of
    columns of values), 'image' (the name of the run's PNG file), or 'list' (a marker: the
    name was logged by `log_list`, so it reads back as a list); `value` is JSON-ready.
    """

    name: str
    kind: str
    value: Any
    step: int = 0
    timestamp: datetime | None = None


@dataclass(frozen=True)
class ModelFile:
    """One file of a registered model: its path within the model, and where its bytes are."""

    path: str
    uri: str
    size: int
    sha256: str


@dataclass(frozen=True)
class ModelRecord:
    """One version of a registered model."""

    name: str
    version: int
    path: str  # what was registered: a run file or folder, or a local file's name
    created_at: datetime
    files: tuple[ModelFile, ...]
    run_id: str | None = None
    description: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    properties: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "properties", _frozen(self.properties))
        object.__setattr__(self, "tags", _frozen(self.tags))


@dataclass(frozen=True)
class LostRun:
    """A running run whose recording process stopped beating (see `fail_lost_runs`)."""

    run_id: str
    experiment: str  # the experiment's name
    number: int
    heartbeat_at: datetime  # its last heartbeat


@dataclass(frozen=True)
class MetricValue:
    """One logged value. `step` orders the values of one metric within a run."""

    name: str
    value: float
    step: int
    timestamp: datetime


@dataclass(frozen=True)
class MetricSummary:
    """What a run's metric came to: the last value, and the least and greatest finite values."""

    name: str
    last: float
    min: float | None
    max: float | None
    count: int


@dataclass(frozen=True)
class FileRecord:
    """A file of a run: where it lives, and the size and SHA-256 it had when recorded."""

    run_id: str
    name: str
    uri: str
    size: int
    sha256: str
    created_at: datetime


@dataclass(frozen=True)
class ChartSeries:
    """Each run's last value of a metric, in columns (100,000 points stay cheap), by number.

    `x` holds, for each run, its value of the param or metric asked for as x (None where it
    has none, or where a param is not a number); it is empty when no x was asked for.
    """

    numbers: tuple[int, ...]
    y: tuple[float, ...]
    x: tuple[float | None, ...] = ()


@dataclass(frozen=True)
class NewRun:
    """A run written whole, in one go: created, its values logged, and perhaps finished.

    What a sweep's writer records for the trials that started and ended between two of
    its batches; `status` RUNNING leaves the run open, QUEUED creates it waiting to start.
    """

    run_id: str
    start_time: datetime
    display_name: str | None = None
    properties: Mapping[str, str] = field(default_factory=dict)
    params: Mapping[str, Any] = field(default_factory=dict)
    metrics: tuple[tuple[str, float], ...] = ()
    status: RunStatus = RunStatus.RUNNING
    error: str | None = None
    end_time: datetime | None = None
    files: tuple[FileRecord, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)
    parent_run_id: str | None = None
    run_type: str = SCRIPT_RUN


@dataclass(frozen=True)
class RunRow:
    """A run with its params and final metric values, as a runs table shows it."""

    run: RunRecord
    params: Mapping[str, Any]
    metrics: Mapping[str, float]

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", _frozen(self.params))
        object.__setattr__(self, "metrics", _frozen(self.metrics))


# A metric value to record: (name, value), or (name, value, when it was logged; by default
# when it is written).
MetricItem = tuple[str, float] | tuple[str, float, datetime]


@dataclass(frozen=True)
class TableColumn:
    """One param's or metric's values in a `RunTable`: `values[i]` is the value of the run
    numbered `numbers[i]`, in ascending run number, runs without a value left out."""

    name: str
    numbers: tuple[int, ...]
    values: tuple[Any, ...]


@dataclass(frozen=True)
class RunTable:
    """Runs in columns, for a data frame: `runs` holds one tuple per run, in run number
    order (run_id, number, status, start_time, end_time, parent_run_id, run_type; times as
    the database gives them: datetimes, or ISO text from SQLite). `params` (numbers as
    floats) and `metrics` (their last values) hold a column per name; tags and properties
    (text) hold (run id, name, value) triples."""

    runs: tuple[tuple[Any, ...], ...]
    params: tuple[TableColumn, ...]
    metrics: tuple[TableColumn, ...]
    tags: tuple[tuple[str, str, str], ...]
    properties: tuple[tuple[str, str, str], ...]


@dataclass(frozen=True)
class RunPage:
    """One page of a sorted, filtered runs table, and how many runs match in all."""

    total: int
    rows: tuple[RunRow, ...]


def is_finite(value: float) -> bool:
    return not (math.isnan(value) or math.isinf(value))


RUN_FIELDS = ("number", "start_time", "end_time", "status", "run_id")


@dataclass(frozen=True)
class RunOrder:
    """How to sort a runs table: by a run field, a metric's last value or a param.

    `RunOrder.parse("metrics.rmse")`, `RunOrder.parse("params.alpha", descending=True)`,
    `RunOrder.parse("number")`. Runs without the metric or param, and non-finite metric
    values, sort after all the others in either direction.
    """

    kind: str  # "field", "metric" or "param"
    name: str
    descending: bool = False

    @classmethod
    def parse(cls, text: str, *, descending: bool = False) -> RunOrder:
        from tracking.errors import ValidationError

        prefix, _, rest = text.partition(".")
        if prefix in ("metrics", "params") and rest:
            return cls("metric" if prefix == "metrics" else "param", rest, descending)
        if text in RUN_FIELDS:
            return cls("field", text, descending)
        raise ValidationError(
            f"cannot sort runs by {text!r}: use one of {', '.join(RUN_FIELDS)}, "
            "'metrics.<name>' or 'params.<name>'"
        )


@dataclass(frozen=True)
class ClaimRecord:
    """Who holds a key (`RecordStore.claim`), until when, and since when (database time)."""

    key: str
    holder: str
    lease_until: datetime
    acquired_at: datetime
