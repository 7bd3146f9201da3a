"""A run's files: uploads, registered files, downloads, `./outputs`, code snapshots and
models registered from them. A mixin of `tracking.run.Run`."""

from __future__ import annotations

import contextlib
import io
import os
import re
import tempfile
import uuid
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from tracking.artifacts.base import NAME_MAX
from tracking.errors import (
    IntegrityError,
    NotFoundError,
    RunFinishedError,
    TrackingError,
)
from tracking.names import check_file_name, inside
from tracking.outputs import OutputsFolder, Signature, signature_of
from tracking.records import FileRecord, RunRecord, utcnow

if TYPE_CHECKING:
    from tracking.experiment import Experiment
    from tracking.model import Model
    from tracking.stores.base import RecordStore

_SHA256 = re.compile(r"[0-9a-f]{64}")
SNAPSHOTS = "snapshots/"


class RunFiles:
    """The file calls of a run (see `tracking.run.Run`)."""

    _experiment: Experiment
    _record: RunRecord
    _outputs: OutputsFolder | None
    _uploaded: dict[Path, tuple[Signature, FileRecord]]

    if TYPE_CHECKING:

        @property
        def id(self) -> str: ...

        @property
        def _records(self) -> RecordStore: ...

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
        if self._record.status.is_terminal:  # as this object knows it; add_file checks anew
            raise RunFinishedError(
                f"run {self.id!r} has already finished ({self._record.status.value})"
            )
        # Each upload writes under a key of its own and the record then claims the name: of
        # two uploads of one name at once, the one recorded first wins, and the other's
        # bytes are deleted, never seen under the name (a killed loser's are left to gc).
        # The key's own part prefixes the file's name rather than making a folder (a folder
        # per upload cost about 0.15 ms of an upload's 1-1.5 ms on a local disk), unless
        # the name is too long to take it.
        artifacts = self._experiment.workspace.artifacts
        upload = uuid.uuid4().hex[:12]
        folder, _, base = f"runs/{self.id}/{name}".rpartition("/")
        own = f"{upload}-{base}"
        if len(own.encode()) > NAME_MAX:
            own = f"{upload}/{base}"
        stored = artifacts.put(f"{folder}/{own}", source)
        record = FileRecord(
            self.id, name, artifacts.relative(stored.uri), stored.size, stored.sha256, utcnow()
        )
        try:
            self._records.add_file(record)
        except TrackingError:
            with contextlib.suppress(TrackingError):
                artifacts.delete(stored.uri)
            raise
        if isinstance(source, Path) and (signature := signature_of(source)) is not None:
            self._uploaded_files()[Path(os.path.abspath(source))] = (signature, record)
        return replace(record, uri=stored.uri)

    def _uploaded_files(self) -> dict[Path, tuple[Signature, FileRecord]]:
        if not hasattr(self, "_uploaded"):
            self._uploaded = {}
        return self._uploaded

    def _upload_outputs(self) -> None:
        """Upload what the run wrote under its outputs folder, as `outputs/<path>`."""
        outputs = getattr(self, "_outputs", None)
        changed = [] if outputs is None else outputs.changed()
        if not changed:
            return
        taken = set(self.get_file_names())
        uploaded = self._uploaded_files()
        for name, path, signature in changed:
            if name in taken:
                continue  # the run uploaded it under that name itself
            earlier = uploaded.get(path)
            if earlier is not None and earlier[0] == signature:
                # Uploaded already under another name and unchanged: one copy, two names.
                same = earlier[1]
                self._records.add_file(replace(same, name=name, created_at=utcnow()))
            else:
                self.upload_file(name, path)

    # -- snapshots ---------------------------------------------------------------------
    def take_snapshot(self, file_or_folder_path_or_list: Any) -> str:
        """Store the code at a path (or a list of paths) with the run, as a zip; return
        the snapshot's id.

        Folders are walked; `.git`, virtual environments, `outputs/`, caches and what a
        `.amlignore` (else `.gitignore`) in the folder names are left out. At most 300 MB
        and 2,000 files (`tracking.snapshot`).

        Raises:
            ValidationError: the snapshot is over a limit (the message says what is big).
            NotFoundError: a path does not exist.
        """
        from tracking.snapshot import build_snapshot

        paths = file_or_folder_path_or_list
        listed = paths if isinstance(paths, (list, tuple)) else [paths]
        for path in listed:
            if not Path(path).exists():
                raise NotFoundError(f"cannot snapshot {str(path)!r}: no such file or folder")
        snapshot_id = str(uuid.uuid4())
        snapshot = build_snapshot(paths)
        try:
            self.upload_file(f"{SNAPSHOTS}{snapshot_id}.zip", snapshot.path)
        finally:
            snapshot.path.unlink(missing_ok=True)
        return snapshot_id

    def restore_snapshot(
        self, snapshot_id: str | None = None, path: str | os.PathLike[str] | None = None
    ) -> str:
        """Restore a snapshot (default: the run's latest) as a zip, as v1 does; return the
        zip's path. Its SHA-256 is checked against the record.

        Args:
            path: a folder to put `<snapshot_id>.zip` in, or the zip's file path
                (default: the current folder). `tracking.snapshot.restore_snapshot`
                unpacks it, refusing any member that would land outside its target.

        Raises:
            NotFoundError: the run has no such snapshot.
        """
        snapshots = [f for f in self._records.list_files(self.id) if f.name.startswith(SNAPSHOTS)]
        if snapshot_id is None:
            if not snapshots:
                raise NotFoundError(f"run {self.id!r} has no snapshot")
            record = max(snapshots, key=lambda f: f.created_at)
        else:
            wanted = f"{SNAPSHOTS}{snapshot_id}.zip"
            found = [f for f in snapshots if f.name == wanted]
            if not found:
                ids = ", ".join(f.name[len(SNAPSHOTS) : -4] for f in snapshots) or "none"
                raise NotFoundError(
                    f"run {self.id!r} has no snapshot {snapshot_id!r} (it has: {ids})"
                )
            record = found[0]
        target = Path(path) if path is not None else Path.cwd()
        if target.is_dir():
            target = target / Path(record.name).name
        return str(self._fetch(record, target))

    # -- models ------------------------------------------------------------------------
    def register_model(
        self,
        model_name: str,
        model_path: str | None = None,
        tags: dict[str, Any] | None = None,
        properties: dict[str, Any] | None = None,
        description: str | None = None,
        **azure_only: Any,
    ) -> Model:
        """Register the run's file (or the files under a folder of its files) as the
        next version of model `model_name`, by URI and SHA-256: nothing is copied.

        Raises:
            NotFoundError: the run has no file at `model_path` (the message lists them).
        """
        from tracking.model import register_run_model

        return register_run_model(
            self,
            model_name,
            model_path,
            tags=tags,
            properties=properties,
            description=description,
            **azure_only,
        )

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
            written.append(self._fetch(record, inside(folder, relative.lstrip("/"))))
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
