"""`Workspace`: where a team's runs are recorded (a database) and their files kept (storage)."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tracking import azure
from tracking.config import (
    WorkspaceConfig,
    check_timeout,
    default_config,
    redact,
    resolve_config,
)
from tracking.errors import ConfigError, SchemaError, StorageError, TrackingError
from tracking.heartbeat import DEFAULT_TIMEOUT_S, Heartbeat, interval_for, lost_error
from tracking.pending import Flusher
from tracking.records import utcnow

if TYPE_CHECKING:
    from tracking.artifacts.base import ArtifactStore
    from tracking.experiment import Experiment
    from tracking.stores.base import RecordStore

DEFAULT_PORTAL_URL = "http://127.0.0.1:8080"
log = logging.getLogger(__name__)


class Workspace:
    """A tracking database and a storage root, under one name.

    Most code gets one with `Workspace.from_config()`. The constructor serves code without a
    config file; with no URIs it is the embedded workspace of the current folder.

    Both open the stores at once, so a bad URI or database fails here, and a writer fails
    the runs that were lost meanwhile (`lost_runs`, `fail_lost_runs`). A reader
    (`read_only=True`, as the portal opens it) changes nothing: no lost runs are failed, no
    schema is upgraded, and every write fails in one line (a database with no tables yet
    still gets them, so a portal can start before the first run). `close()` ends the
    workspace: using it afterwards raises `StorageError` (open a new one). A copy that Ray
    unpickles opens its stores again on first use.

    Args:
        name: a label shown in the portal and in notebooks.
        tracking_uri: `sqlite:///path` or `postgresql://user@host/db`.
        storage_uri: a folder path, `file:///...` or `s3://bucket/prefix`.
        s3_endpoint_url: the S3 endpoint (None: the standard AWS chain, `AWS_ENDPOINT_URL`).
        portal_url: where this workspace's portal is served, for links.
        s3_client: a boto3 S3 client to use instead of making one.
        base_dir: where relative paths in the URIs resolve (default: the current folder).
        heartbeat_timeout_s: a running run whose process has not beaten for this long is
            lost: failed when a workspace opens for writing, or by a running sweep.
        read_only: open for reading only (see above).

    A SQLite database that cannot be written (a read-only mount, a folder or file without
    write permission) opens read-only: everything reads, and every write fails in one line
    saying the workspace is read-only.

    Raises:
        ConfigError: a URI is malformed or has an unsupported scheme.
        SchemaError: the tracking database is damaged, not a database, or of a schema
            this release does not read (or, opened read-only, of an older one).
        StorageError: the tracking database cannot be opened.
    """

    def __init__(
        self,
        name: str = "local",
        resource_group: str | None = None,
        workspace_name: str | None = None,
        *,
        tracking_uri: str | None = None,
        storage_uri: str | None = None,
        s3_endpoint_url: str | None = None,
        portal_url: str | None = None,
        s3_client: Any = None,
        base_dir: str | Path | None = None,
        heartbeat_timeout_s: float = DEFAULT_TIMEOUT_S,
        read_only: bool = False,
    ) -> None:
        if resource_group is not None or workspace_name is not None:
            # Azure's Workspace(subscription_id, resource_group, workspace_name): the
            # workspace that the current folder's config.json describes, if it is that one.
            config = _azure_named(name, resource_group, workspace_name)
            self._bind(config, s3_client, read_only=read_only)
            self._open()
            return
        check_timeout(heartbeat_timeout_s, "heartbeat_timeout_s")
        base = Path(base_dir).absolute() if base_dir is not None else Path.cwd()
        default = default_config(base)
        self._config = WorkspaceConfig(
            name=name,
            tracking_uri=tracking_uri or default.tracking_uri,
            storage_uri=storage_uri or default.storage_uri,
            s3_endpoint_url=s3_endpoint_url,
            portal_url=portal_url,
            base_dir=base,
            heartbeat_timeout_s=float(heartbeat_timeout_s),
        )
        self._bind(self._config, s3_client, read_only=read_only)
        self._open()

    @classmethod
    def from_config(
        cls,
        path: str | Path | None = None,
        *,
        s3_client: Any = None,
        read_only: bool = False,
        _file_name: str | None = None,
        **azure_only: Any,
    ) -> Workspace:
        """The workspace that a `config.json` describes.

        Args:
            path: the config file, or a folder holding `config.json` (or
                `.azureml/config.json`). None: the current folder; if it has no config file,
                the embedded workspace there (a SQLite file and a folder under ./workspace),
                announced once on stderr.
            s3_client: a boto3 S3 client to use instead of making one.
            read_only: open for reading only: nothing is written, not even the failing of
                lost runs (see `Workspace`).
            _file_name: the config file's name in `path` (v1's keyword).

        Raises:
            ConfigError: `path` holds no config file, or the file is malformed.
            SchemaError, StorageError: as `Workspace`.
        """
        azure.take("Workspace.from_config", azure_only)
        if _file_name is not None:
            path = Path(path if path is not None else Path.cwd()) / _file_name
        return cls._from(resolve_config(path), s3_client=s3_client, read_only=read_only)

    @classmethod
    def get(cls, name: str, **azure_only: Any) -> Workspace:
        """The workspace called `name`: the one the current folder's config.json
        describes, if it has that name (v1 looks workspaces up in Azure; here there is
        only the config).

        Raises:
            ConfigError: the config describes another workspace (both names are said).
        """
        given = azure.take("Workspace.get", azure_only)
        return cls(given.get("subscription_id") or "", given.get("resource_group") or "", name)

    @classmethod
    def create(cls, name: str, *args: Any, **kwargs: Any) -> Workspace:
        """Refused: creating a workspace provisions Azure resources (the message says what
        to do here instead)."""
        azure.refuse("Workspace.create")
        raise AssertionError  # unreachable

    def write_config(self, *args: Any, **kwargs: Any) -> None:
        """Refused: write config.json yourself (README 'Workspaces')."""
        azure.refuse("Workspace.write_config")

    def delete(self, *args: Any, **kwargs: Any) -> None:
        """Refused: a workspace here is its database and storage; remove those yourself."""
        azure.refuse("Workspace.delete")

    @classmethod
    def _from(
        cls, config: WorkspaceConfig, *, s3_client: Any = None, read_only: bool = False
    ) -> Workspace:
        self = cls.__new__(cls)
        self._bind(config, s3_client, read_only=read_only)
        self._open()
        return self

    def _bind(self, config: WorkspaceConfig, s3_client: Any, *, read_only: bool) -> None:
        """Take `config`, with nothing opened yet (`_open` opens; the constructors call it)."""
        self._config = config
        self._s3_client = s3_client
        self._read_only = read_only
        self._closed = False
        self._records: RecordStore | None = None
        self._artifacts: ArtifactStore | None = None
        self._heartbeat: Heartbeat | None = None
        self._flusher: Flusher | None = None
        self.lost_runs: tuple[str, ...] = ()  # the lost runs that opening this failed

    def _open(self) -> None:
        from tracking.artifacts import open_artifact_store
        from tracking.stores import open_record_store

        if self._closed:
            raise StorageError(
                f"the workspace {self.name!r} is closed: open it again "
                "(Workspace.from_config(), Workspace(...))"
            )
        config = self._config
        self._artifacts = open_artifact_store(
            config.storage_uri,
            base_dir=config.base_dir,
            s3_endpoint_url=config.s3_endpoint_url,
            s3_client=self._s3_client,
        )
        self._records = open_record_store(
            config.tracking_uri,
            base_dir=config.base_dir,
            storage_root=self._artifacts.root_uri,
            read_only=self._read_only,
        )
        if self._records.read_only:
            return  # opened for reading: failing lost runs is left to those who write
        try:
            self.lost_runs = tuple(self.fail_lost_runs())
        except SchemaError:
            raise  # a damaged database: refused now, not at the first read that meets it
        except TrackingError as err:  # say, a database that became read-only
            log.warning("could not check for lost runs: %s", err)

    def fail_lost_runs(self) -> list[str]:
        """Fail the running runs whose process stopped beating `heartbeat_timeout_s` ago.

        Opening a workspace does this (unless it is opened, or its database is, read-only),
        so a run left
        behind by a killed process does not stay `Running` forever. Silence is measured on
        the database's clock, so a process whose clock is off fails no run that beats.
        Returns the ids of the runs this call failed (each lost run is failed once,
        whichever process gets there first).
        """
        timeout = self._config.heartbeat_timeout_s
        silent_since = utcnow() - timedelta(seconds=timeout)
        return self.records.fail_lost_runs(silent_since, error=lost_error(timeout))

    @property
    def flusher(self) -> Flusher:
        """The thread that writes the values runs have logged (see `tracking.pending`)."""
        if self._flusher is None:
            self._flusher = Flusher()
        return self._flusher

    @property
    def heartbeat(self) -> Heartbeat:
        """Keeps this process's running runs alive in the records (see `fail_lost_runs`)."""
        if self._heartbeat is None:
            interval = interval_for(self._config.heartbeat_timeout_s)
            self._heartbeat = Heartbeat(self.records, interval)
        return self._heartbeat

    def with_storage(self, storage_uri: str) -> Workspace:
        """This workspace with another storage root (the same records), opened anew."""
        from dataclasses import replace

        return Workspace._from(
            replace(self._config, storage_uri=storage_uri),
            s3_client=self._s3_client,
            read_only=self._read_only,
        )

    # Ray may pickle a workspace into a task: the engine and the S3 client stay behind and
    # are made again on the other side, on first use.
    def __getstate__(self) -> dict[str, Any]:
        return {"_config": self._config, "_read_only": self._read_only}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._bind(state["_config"], None, read_only=state.get("_read_only", False))

    @property
    def records(self) -> RecordStore:
        """The record store (experiments, runs, metrics, file records).

        Raises:
            StorageError: the workspace is closed.
        """
        if self._records is None:
            self._open()  # an unpickled copy; a closed workspace raises
        return self._records  # type: ignore[return-value]

    @property
    def artifacts(self) -> ArtifactStore:
        """The artifact store (run files, and the sweep's checkpoints).

        Raises:
            StorageError: the workspace is closed.
        """
        if self._artifacts is None:
            self._open()  # an unpickled copy; a closed workspace raises
        return self._artifacts  # type: ignore[return-value]

    @property
    def read_only(self) -> bool:
        """True if this workspace only reads: opened so, or its database cannot be written."""
        return self.records.read_only

    @property
    def name(self) -> str:
        return self._config.name

    @property
    def location(self) -> str:
        """Where the workspace is: 'local' (no Azure region)."""
        return "local"

    @property
    def subscription_id(self) -> str:
        """The Azure subscription its config.json names, else ''."""
        return self._config.subscription_id

    @property
    def resource_group(self) -> str:
        """The Azure resource group its config.json names, else ''."""
        return self._config.resource_group

    @property
    def config(self) -> WorkspaceConfig:
        return self._config

    @property
    def tracking_uri(self) -> str:
        return self._config.tracking_uri

    @property
    def storage_uri(self) -> str:
        """The storage root as a URI (`file:///...` or `s3://...`)."""
        return self.artifacts.root_uri

    @property
    def portal_url(self) -> str:
        return (self._config.portal_url or DEFAULT_PORTAL_URL).rstrip("/")

    @property
    def experiments(self) -> dict[str, Experiment]:
        """Every experiment of the workspace, by name (as azureml's `Workspace.experiments`)."""
        from tracking.experiment import Experiment

        return {
            s.experiment.name: Experiment._of(self, s.experiment)
            for s in self.records.list_experiments()
        }

    def get_details(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "trackingUri": redact(self._config.tracking_uri),
            "storageUri": self.storage_uri,
            "portalUrl": self.portal_url,
            "configFile": str(self._config.source) if self._config.source else None,
        }

    def close(self) -> None:
        """Stop the heartbeat and release the database connections; the workspace is then
        closed (using it raises `StorageError`). Closing again does nothing."""
        if self._flusher is not None:
            self._flusher.close()  # the values logged are written before the database closes
            self._flusher = None
        if self._heartbeat is not None:
            self._heartbeat.close()
            self._heartbeat = None
        if self._records is not None:
            self._records.close()
            self._records = None
        self._artifacts = None
        self._closed = True

    def __repr__(self) -> str:
        return f"Workspace.create(name={self.name!r}, tracking_uri={redact(self.tracking_uri)!r})"


def _azure_named(
    subscription_id: str, resource_group: str | None, name: str | None
) -> WorkspaceConfig:
    """The current folder's config, if it is the workspace these Azure names describe."""
    config = resolve_config(None)
    wanted = {
        "workspace_name": (name, config.name),
        "subscription_id": (subscription_id, config.subscription_id),
        "resource_group": (resource_group, config.resource_group),
    }
    for field, (given, found) in wanted.items():
        # An Azure name the config leaves out does not rule it out; the workspace name must match.
        if given and (found or field == "workspace_name") and given != found:
            where = config.source or "the embedded workspace (no config.json here)"
            raise ConfigError(
                f"no workspace with {field} {given!r} here: {where} describes "
                f"{field} {found!r} (workspaces are found by config.json, not in Azure)"
            )
    return config
