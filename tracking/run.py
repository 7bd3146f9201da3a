"""`Run`: one training run, its metrics, tags, properties and files (azureml.core's `Run`)."""

from __future__ import annotations

import contextlib
import io
import numbers
import os
import re
import tempfile
import traceback
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, BinaryIO

from tracking.errors import (
    ConflictError,
    IntegrityError,
    NotFoundError,
    RunFinishedError,
    TrackingError,
    ValidationError,
)
from tracking.names import check_file_name, check_key
from tracking.records import FileRecord, RunRecord, RunStatus, utcnow

if TYPE_CHECKING:
    from tracking.experiment import Experiment


_SHA256 = re.compile(r"[0-9a-f]{64}")


def _number(name: str, value: object) -> float:
    if isinstance(value, numbers.Real):
        return float(value)
    raise ValidationError(
        f"metric {name!r}: value {value!r} is not accepted: log numbers (use set_tags for text)"
    )


def _iso(moment: Any) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


def _inside(folder: Path, name: str) -> Path:
    """`folder/name`, refusing any result that resolves outside `folder` (symlinks too)."""
    target = folder / name
    if not target.resolve().is_relative_to(folder.resolve()):
        raise ValidationError(f"file name {name!r} would be written outside {folder}")
    return target


class Run:
    """A run of an experiment.

    `Run(experiment, run_id)` looks an existing run up; `experiment.start_logging()` starts
    a new one.

    Raises:
        NotFoundError: no run of this experiment has `run_id`.
    """

    def __init__(self, experiment: Experiment, run_id: str, **_azure_kwargs: Any) -> None:
        record = experiment.workspace.records.get_run(run_id)
        if record.experiment_id != experiment.id:
            raise NotFoundError(f"run {run_id!r} is not a run of experiment {experiment.name!r}")
        self._experiment = experiment
        self._record = record

    @classmethod
    def _of(cls, experiment: Experiment, record: RunRecord) -> Run:
        self = cls.__new__(cls)
        self._experiment = experiment
        self._record = record
        return self

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
    def portal_url(self) -> str:
        return f"{self._experiment.workspace.portal_url}/runs/{self.id}"

    def get_status(self) -> str:
        self._refresh()
        return self.status

    def _refresh(self) -> None:
        self._record = self._records.get_run(self.id)

    # -- logging -----------------------------------------------------------------------
    def log(self, name: str, value: float, description: str = "") -> None:
        """Log a numeric value; logging a name again makes it a list, as in Azure ML.

        `description` is accepted for Azure ML's signature; it is not stored.
        """
        check_key("metric", name)
        self._records.log_batch(self.id, metrics=[(name, _number(name, value))])

    def log_list(self, name: str, value: Iterable[float], description: str = "") -> None:
        """Log several values of one metric in one write."""
        check_key("metric", name)
        values = [(name, _number(name, v)) for v in value]
        if values:
            self._records.log_batch(self.id, metrics=values)

    def log_metrics(self, metrics: Mapping[str, float]) -> None:
        """Log one value of each of several metrics in one write."""
        values = [(check_key("metric", k), _number(k, v)) for k, v in metrics.items()]
        if values:
            self._records.log_batch(self.id, metrics=values)

    def log_params(self, params: Mapping[str, Any]) -> None:
        """Record the run's hyperparameters (set once; JSON-serialisable values)."""
        for key in params:
            check_key("param", key)
        self._records.log_batch(self.id, params=params)

    def get_params(self) -> dict[str, Any]:
        return self._records.get_params(self.id)

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        """Set or change tags (allowed after the run has finished)."""
        clean = {check_key("tag", k): "" if v is None else str(v) for k, v in tags.items()}
        self._records.log_batch(self.id, tags=clean)
        self._refresh()

    def tag(self, key: str, value: Any = None) -> None:
        self.set_tags({key: value})

    def get_tags(self) -> dict[str, str]:
        self._refresh()
        return self.tags

    def add_properties(self, properties: Mapping[str, Any]) -> None:
        """Add properties: set once, never changed (tags are the mutable kind)."""
        clean = {check_key("property", k): str(v) for k, v in properties.items()}
        self._records.log_batch(self.id, properties=clean)
        self._refresh()

    def get_properties(self) -> dict[str, str]:
        self._refresh()
        return self.properties

    # -- lifecycle ---------------------------------------------------------------------
    def complete(self, **_azure_kwargs: Any) -> None:
        """Mark the run `Completed`."""
        self._finish(RunStatus.COMPLETED)

    def fail(self, error_details: Any = None, error_code: str | None = None, **_: Any) -> None:
        """Mark the run `Failed`, keeping `error_details` (text or an exception)."""
        if isinstance(error_details, BaseException):
            error_details = "".join(traceback.format_exception_only(error_details)).strip()
        error = None if error_details is None else str(error_details)
        if error_code:
            error = f"{error_code}: {error}" if error else error_code
        self._finish(RunStatus.FAILED, error=error)

    def cancel(self) -> None:
        """Mark the run `Canceled`."""
        self._finish(RunStatus.CANCELED)

    def _finish(self, status: RunStatus, *, error: str | None = None) -> None:
        end_time = utcnow()
        self._records.set_status(self.id, status, error=error, end_time=end_time)
        self._experiment.workspace.heartbeat.discard([self.id])
        self._record = replace(self._record, status=status, end_time=end_time, error=error)

    def __enter__(self) -> Run:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
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

    # -- reading -----------------------------------------------------------------------
    def get_metrics(self, name: str | None = None) -> dict[str, Any]:
        """Each metric's value, or the list of its values if it was logged several times."""
        values: dict[str, list[float]] = {}
        for value in self._records.get_metric_history(self.id):
            if name is None or value.name == name:
                values.setdefault(value.name, []).append(value.value)
        return {k: v[0] if len(v) == 1 else v for k, v in values.items()}

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
            "status": record.status.value,
            "startTimeUtc": _iso(record.start_time),
            "endTimeUtc": _iso(record.end_time),
            "properties": dict(record.properties),
            "tags": dict(record.tags),
            "inputDatasets": [],
            "outputDatasets": [],
        }
        if record.error is not None:
            details["error"] = {"error": {"message": record.error}}
        return details

    # -- files -------------------------------------------------------------------------
    def upload_file(
        self, name: str, path_or_stream: str | os.PathLike[str] | BinaryIO
    ) -> FileRecord:
        """Store a local file (or the bytes of a binary stream) as the run's file `name`.

        Raises:
            ValidationError: `name` is not a safe relative file name.
            ConflictError: the run already has a file called `name`.
            RunFinishedError: the run has finished.
        """
        check_file_name(name)
        source: BinaryIO | Path
        if isinstance(path_or_stream, (str, os.PathLike)):
            source = Path(path_or_stream)
            if not source.is_file():
                raise NotFoundError(f"cannot upload {str(source)!r}: no such file")
        elif isinstance(path_or_stream, (bytes, bytearray)):
            source = io.BytesIO(path_or_stream)
        else:
            source = path_or_stream
        self._refresh()
        if self._record.status.is_terminal:
            raise RunFinishedError(f"run {self.id!r} has already finished ({self.status})")
        if name in self.get_file_names():  # the usual conflict, refused before any upload
            raise ConflictError(f"run {self.id!r} already has a file named {name!r}")
        # Each upload writes under a key of its own and the record then claims the name: of
        # two uploads of one name at once, the one recorded first wins, and the other's
        # bytes are deleted, never seen under the name (a killed loser's are left to gc).
        artifacts = self._experiment.workspace.artifacts
        stored = artifacts.put(f"runs/{self.id}/{uuid.uuid4().hex[:12]}/{name}", source)
        record = FileRecord(
            self.id, name, artifacts.relative(stored.uri), stored.size, stored.sha256, utcnow()
        )
        try:
            self._records.add_file(record)
        except TrackingError:
            with contextlib.suppress(TrackingError):
                artifacts.delete(stored.uri)
            raise
        return replace(record, uri=stored.uri)

    def register_file(
        self, name: str, uri: str, *, size: int | None = None, sha256: str | None = None
    ) -> FileRecord:
        """Record a file that already lives in the workspace's storage, without copying it.

        Without `size` and `sha256` the file is read once to measure them.
        """
        check_file_name(name)
        artifacts = self._experiment.workspace.artifacts
        artifacts.check_inside(uri)
        if size is None or sha256 is None:
            stored = artifacts.describe(uri)
            size, sha256 = stored.size, stored.sha256
        record = FileRecord(self.id, name, artifacts.relative(uri), size, sha256, utcnow())
        self._records.add_file(record)
        return replace(record, uri=artifacts.resolve(record.uri))

    def get_file_names(self) -> list[str]:
        return [f.name for f in self._records.list_files(self.id)]

    def get_files(self) -> list[FileRecord]:
        """The run's file records, each with the absolute URI of its bytes."""
        resolve = self._experiment.workspace.artifacts.resolve
        return [replace(f, uri=resolve(f.uri)) for f in self._records.list_files(self.id)]

    def download_file(
        self,
        name: str,
        output_file_path: str | os.PathLike[str] | None = None,
        _validate_checksum: bool = True,
    ) -> Path:
        """Download the run's file `name`, after checking its SHA-256 against the record.

        Args:
            output_file_path: a file path, or an existing folder to put it in (default:
                the current folder, under the file's base name).

        Raises:
            ValidationError: `name` is not a safe relative file name.
            NotFoundError: the run has no such file.
            IntegrityError: the stored bytes do not match the recorded SHA-256.
        """
        check_file_name(name)
        record = self._records.get_file(self.id, name)
        target = Path(output_file_path) if output_file_path is not None else Path.cwd()
        if target.is_dir():
            target = target / Path(name).name
        return self._fetch(record, target)

    def _fetch(self, record: FileRecord, target: Path) -> Path:
        return self._experiment.workspace.artifacts.download(
            record.uri, target, sha256=record.sha256, label=f"{record.name!r} of run {self.id}"
        )

    def download_files(
        self,
        prefix: str | None = None,
        output_directory: str | os.PathLike[str] | None = None,
        append_prefix: bool = True,
    ) -> list[Path]:
        """Download every file whose name starts with `prefix`, keeping their folders.

        Args:
            append_prefix: keep the prefix in the written paths (False strips it).
        """
        if prefix:
            check_file_name(prefix.rstrip("/") or prefix)
        folder = Path(output_directory) if output_directory is not None else Path.cwd()
        written = []
        for record in self._records.list_files(self.id):
            if prefix and not record.name.startswith(prefix):
                continue
            relative = record.name if append_prefix or not prefix else record.name[len(prefix) :]
            written.append(self._fetch(record, _inside(folder, relative.lstrip("/"))))
        return written

    def load_model(self, name: str) -> Any:
        """Load a joblib/pickle model file of the run, only if its SHA-256 matches the record.

        Loading a pickle runs whatever code its writer put in it. The SHA-256 check proves
        only that the bytes are the ones recorded when the file was stored: it protects
        against a file changed in storage afterwards, not against a writer you should not
        trust. Anyone who could write to this workspace's records or storage can have
        recorded a hostile model. The run's properties `host` and `user` say which machine
        and account recorded it: load models only from runs and people you trust.

        Raises:
            IntegrityError: the record holds no valid SHA-256, or the stored bytes do not
                match it; nothing is unpickled.
        """
        import joblib

        check_file_name(name)
        record = self._records.get_file(self.id, name)
        if not _SHA256.fullmatch(record.sha256 or ""):
            # The check below would refuse it too, but by a hash mismatch: say what is wrong.
            raise IntegrityError(
                f"file {name!r} of run {self.id} has no valid SHA-256 recorded "
                f"({record.sha256!r}), so its bytes cannot be verified; it was not loaded"
            )
        with tempfile.TemporaryDirectory() as folder:
            return joblib.load(self._fetch(record, Path(folder) / "model"))

    def __repr__(self) -> str:
        return (
            f"Run(Experiment: {self._experiment.name},\nId: {self.id},\n"
            f"Number: {self.number},\nStatus: {self.status})"
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Run) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)
