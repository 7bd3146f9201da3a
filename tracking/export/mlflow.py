"""Copy one experiment of a workspace into an MLflow tracking store, run by run.

    from tracking.export.mlflow import export_to_mlflow

    export_to_mlflow(ws, "diabetes", "sqlite:///mlflow.db", artifact_location="/data/mlflow")

The MLflow experiment has the same name (created if missing). Each run becomes an MLflow run:
- params: strings as they are, numbers and booleans as `str()` writes them (as MLflow's
  `log_param` does), lists, dicts and None as JSON;
- metrics: every value in order; MLflow step = our step, timestamp = when it was logged (ms).
  NaN stays NaN; MLflow's SQL stores keep +-inf as +-1.7976931348623157e308 (float max);
- tags: the run's tags; each property as `raysweep.property.<key>`; the display name (or
  'Run <number>') as `mlflow.runName`; `raysweep.run_id`, `raysweep.run_number`; a run's
  error text as `raysweep.error`; our status as `raysweep.status`, written last;
- status: Completed -> FINISHED, Failed -> FAILED, Canceled -> KILLED, Running -> RUNNING,
  Queued -> SCHEDULED,
  any other -> FAILED if the run has an end time, else RUNNING; start and end times (ms);
- files: artifacts at the same relative names, each checked against its recorded size and
  SHA-256 before anything of its run is written.

Nothing is truncated, as MLflow itself would do silently: before anything is written, a key
MLflow refuses (over 250 characters, or other than letters, digits, '_', '-', '.', ' ', ':'
and '/' in a normalised relative path), a param value over 6000 characters, a tag value over
8000, or a run's own tag named `raysweep.*` raises `ValidationError` naming the run and the
key. Only a run's error text is cut to 8000 characters, ending in '...'.

Exporting again is idempotent: a run whose copy has `raysweep.status` of a finished run is
skipped. A copy without it (an export stopped half-way) or of a run that was still running
is deleted (MLflow's soft delete) and exported again. Tags changed later are not carried over.
"""

from __future__ import annotations

import json
import posixpath
import re
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tracking.artifacts.base import copy_hashing
from tracking.config import redact
from tracking.errors import ConfigError, IntegrityError, StorageError, ValidationError
from tracking.records import FileRecord, RunOrder, RunRecord, RunRow

if TYPE_CHECKING:
    from tracking.workspace import Workspace

PROPERTY_PREFIX = "raysweep.property."
RUN_ID_TAG, RUN_NUMBER_TAG = "raysweep.run_id", "raysweep.run_number"
STATUS_TAG, ERROR_TAG = "raysweep.status", "raysweep.error"
# Our statuses in MLflow's words; any other is FAILED if the run has ended, else RUNNING.
STATUSES = {
    "Completed": "FINISHED",
    "Failed": "FAILED",
    "Canceled": "KILLED",
    "Running": "RUNNING",
    "Queued": "SCHEDULED",
}
_OPEN = ("Running", "Queued")  # our statuses of runs a later export copies again
MAX_KEY, MAX_PARAM_VALUE, MAX_TAG_VALUE = 250, 6000, 8000
# Per log_batch call: MLflow's limits, and half its 1 MB request size for the values.
_LIMITS, _MAX_ENTITIES, _MAX_CHARS = (1000, 100, 100), 1000, 500_000
_KEY = re.compile(r"[/\w.\- :]+")
_EPOCH, _MS = datetime(1970, 1, 1, tzinfo=timezone.utc), timedelta(milliseconds=1)
_PAGE = 500


@dataclass(frozen=True)
class ExportResult:
    """What one export did."""

    experiment_id: str  # the MLflow experiment's id
    exported: int  # runs written to MLflow by this export
    skipped: int  # runs exported before, left as they were
    files: int  # files copied as artifacts


def export_to_mlflow(
    workspace: Workspace,
    experiment: str,
    tracking_uri: str,
    *,
    client: Any = None,
    artifact_location: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ExportResult:
    """Copy every run of `experiment` into the MLflow tracking store at `tracking_uri`.

    Args:
        workspace: the workspace that holds the experiment.
        experiment: its name; the MLflow experiment gets the same one.
        tracking_uri: MLflow's tracking URI (`sqlite:///mlflow.db`, `http://host:5000`...).
        client: an `MlflowClient` to use instead of one made for `tracking_uri`.
        artifact_location: where a new MLflow experiment keeps its artifacts (default:
            MLflow's choice, relative to the current folder for a database URI).
        progress: called as `progress(done, total)` after each run.

    Returns:
        The MLflow experiment's id and how many runs and files were copied or skipped.

    Raises:
        ConfigError: MLflow is not installed.
        NotFoundError: the workspace has no such experiment, or a file is missing.
        ValidationError: a value MLflow cannot hold; nothing has been written.
        IntegrityError: a stored file does not match its record; the runs before it are
            exported, nothing of its own run is.
        StorageError: MLflow failed (in one line, passwords redacted).
    """
    try:
        from mlflow import MlflowClient
    except ImportError as err:
        raise ConfigError("exporting to MLflow needs it: pip install 'raysweep[mlflow]'") from err
    records = workspace.records
    workspace.flusher.flush()  # the values this process logged, exported too
    rows = _rows(workspace, records.get_experiment(experiment).id)
    for row in rows:
        _check(row)
    uri = tracking_uri
    with _mlflow_errors(uri, "connect to it"):
        client = client if client is not None else MlflowClient(tracking_uri=uri)
    experiment_id, copies = _target(client, uri, experiment, artifact_location)
    exported = skipped = files = 0
    for done, row in enumerate(rows, 1):
        copy = copies.get(row.run.run_id)
        if copy is not None and copy.data.tags.get(STATUS_TAG, "Running") not in _OPEN:
            skipped += 1
        else:
            if copy is not None:
                with _mlflow_errors(uri, f"delete the unfinished copy of run {row.run.number}"):
                    client.delete_run(copy.info.run_id)
            files += _export_run(workspace, client, uri, experiment_id, row)
            exported += 1
        if progress is not None:
            progress(done, len(rows))
    return ExportResult(experiment_id, exported, skipped, files)


def _rows(workspace: Workspace, experiment_id: int) -> list[RunRow]:
    rows: list[RunRow] = []
    while True:
        page = workspace.records.search_runs(
            experiment_id, order=RunOrder("field", "number"), limit=_PAGE, offset=len(rows)
        )
        rows.extend(page.rows)
        if not page.rows or len(rows) >= page.total:
            return rows


def _param(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, int, float)):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def _tags(run: RunRecord) -> dict[str, str]:
    """The tags that `log_batch` writes (create_run writes the run id, number and name)."""
    tags = dict(run.tags)
    tags.update({PROPERTY_PREFIX + k: v for k, v in run.properties.items()})
    if run.error is not None:
        cut = len(run.error) > MAX_TAG_VALUE
        tags[ERROR_TAG] = run.error[: MAX_TAG_VALUE - 3] + "..." if cut else run.error
    return tags


def _check(row: RunRow) -> None:
    """Raise `ValidationError` for a key or value of the run that MLflow cannot hold."""
    run = row.run
    where = f"run {run.number} ({run.run_id})"
    ours = sorted(k for k in run.tags if k.startswith("raysweep."))
    if ours:
        raise ValidationError(f"{where}: tag {ours[0]!r} is reserved for the export's own tags")
    items = [("metric", key, "", 0) for key in row.metrics]
    items += [("param", k, _param(v), MAX_PARAM_VALUE) for k, v in row.params.items()]
    tags = {"mlflow.runName": run.display_name or "", **_tags(run)}
    items += [("tag", k, v, MAX_TAG_VALUE) for k, v in tags.items()]
    for kind, key, value, limit in items:
        normal = posixpath.normpath(key)
        bad_path = normal != key or normal == "." or normal.startswith(("..", "/"))
        if len(key) > MAX_KEY or not _KEY.fullmatch(key) or bad_path:
            raise ValidationError(
                f"{where}: {kind} {key!r} cannot be exported: MLflow accepts names of at most "
                f"{MAX_KEY} letters, digits, '_', '-', '.', ' ', ':' or '/', as a relative path"
            )
        if len(value) > limit > 0:
            raise ValidationError(
                f"{where}: {kind} {key!r} cannot be exported: its value has {len(value)} "
                f"characters, MLflow keeps at most {limit}"
            )


def _export_run(
    workspace: Workspace, client: Any, uri: str, experiment_id: str, row: RunRow
) -> int:
    """Write one run to MLflow; return how many files were copied."""
    from mlflow.entities import Metric, Param, RunTag

    run = row.run
    history = workspace.records.get_metric_history(run.run_id)
    metrics = [Metric(v.name, v.value, _ms(v.timestamp), v.step) for v in history]
    params = [Param(k, _param(v)) for k, v in row.params.items()]
    tags = [RunTag(k, v) for k, v in _tags(run).items()]
    with tempfile.TemporaryDirectory(prefix="raysweep-export-") as folder:
        files = workspace.records.list_files(run.run_id)
        for record in files:
            _stage(workspace, record, Path(folder))
        with _mlflow_errors(uri, f"write run {run.number} ({run.run_id})"):
            identity = {RUN_ID_TAG: run.run_id, RUN_NUMBER_TAG: str(run.number)}
            name = run.display_name or f"Run {run.number}"
            copy = client.create_run(experiment_id, _ms(run.start_time), identity, name)
            run_id = copy.info.run_id
            for batch in _batches(metrics, params, tags):
                client.log_batch(run_id, metrics=batch[0], params=batch[1], tags=batch[2])
            if files:
                client.log_artifacts(run_id, folder)
            status = STATUSES.get(run.status.value, "FAILED" if run.end_time else "RUNNING")
            if status == "SCHEDULED":
                client.update_run(run_id, status=status)
            elif status != "RUNNING":
                end = _ms(run.end_time) if run.end_time is not None else None
                client.set_terminated(run_id, status, end)
            client.set_tag(run_id, STATUS_TAG, run.status.value)
    return len(files)


def _stage(workspace: Workspace, record: FileRecord, folder: Path) -> None:
    """Copy a run file under `folder`, checking its size and SHA-256 against its record."""
    target = folder / record.name
    if not target.resolve().is_relative_to(folder.resolve()):
        raise ValidationError(f"file {record.name!r} of run {record.run_id} leaves its folder")
    target.parent.mkdir(parents=True, exist_ok=True)
    with workspace.artifacts.open(record.uri) as source, target.open("wb") as out:
        size, sha256 = copy_hashing(source, out)
    if size != record.size or sha256 != record.sha256:
        raise IntegrityError(
            f"file {record.name!r} of run {record.run_id} failed its integrity check: it has "
            f"{size} bytes with SHA-256 {sha256}, but {record.size} bytes with "
            f"{record.sha256} were recorded; the run was not exported"
        )


def _batches(*kinds: Sequence[Any]) -> Iterator[tuple[list[Any], ...]]:
    """Split (metrics, params, tags) into as few `log_batch` calls as MLflow's limits allow."""
    at = [0, 0, 0]
    while any(at[kind] < len(kinds[kind]) for kind in range(3)):
        batch: tuple[list[Any], ...] = ([], [], [])
        chars = 0
        for kind in (1, 2, 0):  # params and tags first; metrics fill the rest
            items = kinds[kind]
            while at[kind] < len(items) and len(batch[kind]) < _LIMITS[kind]:
                cost = len(items[at[kind]].key) + len(str(items[at[kind]].value))
                if sum(map(len, batch)) == _MAX_ENTITIES or (chars + cost > _MAX_CHARS and chars):
                    break
                batch[kind].append(items[at[kind]])
                at[kind], chars = at[kind] + 1, chars + cost
        yield batch


def _ms(moment: datetime) -> int:
    return (moment - _EPOCH) // _MS


@contextmanager
def _mlflow_errors(uri: str, doing: str) -> Iterator[None]:
    """Turn an error of the MLflow calls inside into one line of `StorageError`."""
    try:
        yield
    except Exception as err:  # MLflow raises its own, SQLAlchemy's, requests' and OSError
        lines = [line.strip() for line in str(err).splitlines() if line.strip()]
        why = redact(lines[0] if lines else type(err).__name__)
        why = why if len(why) <= 300 else why[:297] + "..."
        raise StorageError(f"MLflow at {redact(uri)}: could not {doing}: {why}") from err


def _target(
    client: Any, uri: str, name: str, artifact_location: str | None
) -> tuple[str, dict[str, Any]]:
    """The active MLflow experiment `name` (created if missing), and its copies of our runs."""
    with _mlflow_errors(uri, f"open experiment {name!r}"):
        found = client.get_experiment_by_name(name)
        if found is None:
            return str(client.create_experiment(name, artifact_location)), {}
    if found.lifecycle_stage != "active":
        raise StorageError(
            f"MLflow at {redact(uri)}: experiment {name!r} is deleted: restore it "
            "(mlflow experiments restore) or remove it for good (mlflow gc) first"
        )
    copies: dict[str, Any] = {}
    token: str | None = None
    with _mlflow_errors(uri, "list the experiment's runs"):
        while token != "":
            page = client.search_runs([found.experiment_id], max_results=1000, page_token=token)
            copies.update((r.data.tags[RUN_ID_TAG], r) for r in page if RUN_ID_TAG in r.data.tags)
            token = page.token or ""
    return str(found.experiment_id), copies
