"""`Model`: a registered model's versions, their files and labels (azureml.core's `Model`).

A version points at its files by key under the storage root (or URI), with the size and
SHA-256 they had: a model registered from a run points at the run's files (no copy); one
registered from a local file or folder is uploaded once under `models/<name>/<key>/`.
Downloads check every file's SHA-256 before it appears where it was asked for. A model of
'outputs/model.pkl' downloads as 'model.pkl', one of the folder 'outputs' as 'outputs/...',
as in Azure: `download` and `get_model_path` return that file or folder.
"""

from __future__ import annotations

import html
import os
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote

from tracking import azure
from tracking.errors import ConflictError, NotFoundError, ValidationError
from tracking.model_args import (
    azure_properties,
    label_pairs,
    local_files,
    model_version,
    run_model_files,
    sha256_of,
    uploading,
)
from tracking.names import Labels, check_file_name, inside, label_filter
from tracking.records import ModelFile, ModelRecord

if TYPE_CHECKING:
    from datetime import datetime

    from tracking.experiment import Experiment
    from tracking.stores.base import RecordStore
    from tracking.workspace import Workspace

CACHE_FOLDER = "azureml-models"  # get_model_path's downloads: ./azureml-models/<name>/<version>


class Model:
    """A version of a registered model: `Model(ws, "name")` is its latest version.

    Args:
        workspace: the workspace that holds it.
        name: the model's name.
        id: 'name:version', instead of `name` and `version`.
        tags, properties: only a version with these ('key', or ['key', 'value'] items, or
            a dict); the latest such version unless `version` is given.
        version: this version (default: the latest that matches).
        run_id: only a version registered from this run.

    Raises:
        NotFoundError: no version matches.
        ValidationError: neither name nor id is given, or they disagree.
        TypeError: an unknown keyword (see `tracking.azure.ACCEPTED`).
    """

    def __init__(
        self,
        workspace: Workspace,
        name: str | None = None,
        id: str | None = None,
        tags: Labels = None,
        properties: Labels = None,
        version: int | str | None = None,
        run_id: str | None = None,
        **azure_only: Any,
    ) -> None:
        wanted = label_filter("property", properties) | azure_properties("Model", azure_only)
        if id is not None:
            id_name, _, id_version = id.rpartition(":") if ":" in id else (id, "", "")
            if name is not None and name != id_name:
                raise ValidationError(f"model name {name!r} and id {id!r} disagree")
            name, version = id_name, id_version or version
        if name is None:
            raise ValidationError("Model() needs a name or an id ('name:version')")
        number = None if version is None else model_version(version)
        store = workspace.records
        tag_filter = label_filter("tag", tags)
        if not (tag_filter or wanted or run_id):
            record = store.get_model(name, number)
        else:
            found = [
                r
                for r in store.list_models(
                    name=name, run_id=run_id, tags=tag_filter, properties=wanted
                )
                if number is None or r.version == number
            ]
            if not found:
                filters = {"tags": tag_filter, "properties": wanted, "run_id": run_id}
                shown = ", ".join(f"{k}={v!r}" for k, v in filters.items() if v)
                which = "version" if number is None else f"version {number}"
                raise NotFoundError(f"no {which} of model {name!r} matches {shown}")
            record = found[0]
        self._workspace = workspace
        self._record = record

    @classmethod
    def _of(cls, workspace: Workspace, record: ModelRecord) -> Model:
        self = cls.__new__(cls)
        self._workspace = workspace
        self._record = record
        return self

    # -- registering and finding -------------------------------------------------------
    @classmethod
    def register(
        cls,
        workspace: Workspace,
        model_path: str | os.PathLike[str],
        model_name: str,
        tags: Mapping[str, Any] | None = None,
        properties: Mapping[str, Any] | None = None,
        description: str | None = None,
        child_paths: Iterable[str] | None = None,
        **azure_only: Any,
    ) -> Model:
        """Register a local file or folder as the next version of `model_name`.

        Its files are uploaded once under `models/<name>/<key>/` in the workspace's storage;
        if registering fails, the uploaded bytes are deleted.

        Args:
            child_paths: of a folder, only these files (paths relative to the folder).

        Raises:
            NotFoundError: `model_path` (or a child path) does not exist.
            ValidationError: the name, a file name, a tag or a property is not accepted,
                or the folder holds no files.
            TypeError: an unknown keyword (see `tracking.azure.ACCEPTED`).
        """
        from tracking.stores.registry import check_model_name

        extra = azure_properties("Model.register", azure_only)
        check_model_name(model_name)
        files = local_files(Path(model_path), child_paths)
        tag_pairs = label_pairs("tag", tags)
        property_pairs = {**extra, **label_pairs("property", properties)}
        key = f"models/{model_name}/{uuid.uuid4().hex[:12]}"  # of this upload alone
        with uploading(workspace.artifacts, key, files) as records:
            record = workspace.records.register_model(
                model_name, path=Path(model_path).absolute().name, files=records,
                description=description, tags=tag_pairs, properties=property_pairs,
            )  # fmt: skip
        return cls._of(workspace, record)

    @classmethod
    def list(
        cls,
        workspace: Workspace,
        name: str | None = None,
        tags: Labels = None,
        properties: Labels = None,
        run_id: str | None = None,
        latest: bool = False,
        **azure_only: Any,
    ) -> list[Model]:
        """The versions that match every filter given, by name then newest first.

        Args:
            tags, properties: 'key' (any value) and ['key', 'value'] items, or a dict.
            latest: only each name's latest matching version.
        """
        wanted = label_filter("property", properties) | azure_properties("Model.list", azure_only)
        records = workspace.records.list_models(
            name=name, run_id=run_id, tags=label_filter("tag", tags), properties=wanted,
            latest=latest,
        )  # fmt: skip
        return [cls._of(workspace, r) for r in records]

    @staticmethod
    def get_model_path(
        model_name: str, version: int | None = None, _workspace: Workspace | None = None
    ) -> str:
        """The local path of a model version's file (or folder, for a folder model).

        Its files are downloaded into ./azureml-models/<name>/<version>/ unless they are
        there already with their recorded SHA-256s.

        Args:
            _workspace: where the model is registered (default: `Workspace.from_config()`).

        Raises:
            NotFoundError: no such model or version.
            IntegrityError: stored bytes do not match their recorded SHA-256.
        """
        if _workspace is None:
            from tracking.workspace import Workspace

            _workspace = Workspace.from_config()
        model = Model(_workspace, model_name, version=version)
        folder = Path.cwd() / CACHE_FOLDER / model.name / str(model.version)
        for file in model._record.files:
            target = inside(folder, file.path)
            if not (target.is_file() and sha256_of(target) == file.sha256):
                model._fetch(file, target)
        return str(folder / model._root)

    # -- reading -----------------------------------------------------------------------
    @staticmethod
    def deploy(*args: Any, **kwargs: Any) -> None:
        """Refused: deploying a model as an Azure web service has no counterpart here."""
        azure.refuse("Model.deploy")

    def download(
        self,
        target_dir: str | os.PathLike[str] = ".",
        exist_ok: bool = False,
        exists_ok: Any = None,
    ) -> str:
        """Download the model's files into `target_dir`, each after its SHA-256 is checked.

        Args:
            exist_ok: replace the file or folder if it exists (`exists_ok`: Azure's older
                spelling).

        Returns:
            The path of the model's file, or of its folder.

        Raises:
            ConflictError: the file or folder exists and `exist_ok` is False.
            IntegrityError: stored bytes do not match their recorded SHA-256 (that file is
                not written).
        """
        replace = exist_ok or bool(exists_ok)
        folder = Path(target_dir)
        root = folder / self._root
        if root.exists() and not replace:
            raise ConflictError(f"{root} exists already: pass exist_ok=True to replace it")
        for file in self._record.files:
            self._fetch(file, inside(folder, file.path))
        return str(root)

    def _fetch(self, file: ModelFile, target: Path) -> None:
        self._workspace.artifacts.download(
            file.uri, target, sha256=file.sha256, label=f"{file.path!r} of model {self.id}"
        )

    @property
    def _root(self) -> str:
        """What was registered, as it downloads: a file name or a folder name."""
        return PurePosixPath(self._record.path).name

    # -- labels ------------------------------------------------------------------------
    def add_tags(self, tags: Mapping[str, Any]) -> None:
        """Set tags, replacing the values of those it has."""
        self._label(tags=label_pairs("tag", tags))

    def add_properties(self, properties: Mapping[str, Any]) -> None:
        """Add properties: set once (the same value again is accepted), never changed.

        Raises:
            ConflictError: a property would change.
        """
        self._label(properties=label_pairs("property", properties))

    def _label(self, **labels: dict[str, str]) -> None:
        self._record = self._workspace.records.label_model(self.name, self.version, **labels)

    # -- attributes --------------------------------------------------------------------
    @property
    def workspace(self) -> Workspace:
        return self._workspace

    @property
    def name(self) -> str:
        return self._record.name

    @property
    def version(self) -> int:
        return self._record.version

    @property
    def id(self) -> str:
        return f"{self.name}:{self.version}"

    @property
    def tags(self) -> dict[str, str]:
        return dict(self._record.tags)

    @property
    def properties(self) -> dict[str, str]:
        return dict(self._record.properties)

    @property
    def description(self) -> str | None:
        return self._record.description

    @property
    def run_id(self) -> str | None:
        return self._record.run_id

    @property
    def created_time(self) -> datetime:
        return self._record.created_at

    @property
    def framework(self) -> str | None:
        return self._record.properties.get("model_framework")

    @property
    def files(self) -> tuple[ModelFile, ...]:
        """The model's files: path within the model, stored key or URI, size, SHA-256."""
        return self._record.files

    @property
    def portal_url(self) -> str:
        """The portal's page of this model's versions, at this version."""
        name = quote(self.name, safe="")
        return f"{self._workspace.portal_url}/models?name={name}#version-{self.version}"

    def get_portal_url(self) -> str:
        return self.portal_url

    def serialize(self) -> dict[str, Any]:
        """The version as a JSON-ready dict, in Azure's key names where it has them."""
        return {
            "id": self.id,
            "name": self.name,
            "version": self.version,
            "description": self.description,
            "createdTime": self.created_time.isoformat().replace("+00:00", "Z"),
            "runId": self.run_id,
            "framework": self.framework,
            "frameworkVersion": self._record.properties.get("model_framework_version"),
            "tags": self.tags,
            "properties": self.properties,
            "path": self._record.path,
            "files": [{"path": f.path, "size": f.size, "sha256": f.sha256} for f in self.files],
        }

    def __repr__(self) -> str:
        return (
            f"Model(workspace={self._workspace!r}, name={self.name}, id={self.id}, "
            f"version={self.version}, tags={self.tags}, properties={self.properties})"
        )

    def _repr_html_(self) -> str:
        def link(url: str, text: str) -> str:
            href = html.escape(url, quote=True)
            return f'<a href="{href}" target="_blank" rel="noopener">{html.escape(text)}</a>'

        portal = self._workspace.portal_url
        run = (
            link(f"{portal}/runs/{quote(self.run_id, safe='')}", self.run_id) if self.run_id else ""
        )
        return (
            "<table style='width:100%'><tr><th>Name</th><th>Version</th><th>Run</th>"
            "<th>Details Page</th></tr>"
            f"<tr><td>{html.escape(self.name)}</td><td>{self.version}</td><td>{run}</td>"
            f"<td>{link(self.portal_url, 'Link to the portal')}</td></tr></table>"
        )

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Model)
            and (other.name, other.version) == (self.name, self.version)
            and other._workspace.tracking_uri == self._workspace.tracking_uri
        )

    def __hash__(self) -> int:
        return hash((self._workspace.tracking_uri, self.name, self.version))


class RunOfFiles(Protocol):
    """What `register_run_model` reads of a run (`tracking.run.Run`)."""

    @property
    def id(self) -> str: ...

    @property
    def _records(self) -> RecordStore: ...

    @property
    def _experiment(self) -> Experiment: ...


def register_run_model(
    run: RunOfFiles,
    model_name: str,
    model_path: str | None = None,
    tags: Mapping[str, Any] | None = None,
    properties: Mapping[str, Any] | None = None,
    description: str | None = None,
    **azure_only: Any,
) -> Model:
    """Register a run's file, or its files under a folder, as the next version of a model
    (what `Run.register_model` does): the model points at the run's files, no copy.

    Args:
        model_path: a file name of the run ('outputs/model.pkl') or a folder prefix of its
            file names ('outputs'); default: `model_name`, as in Azure.

    Raises:
        NotFoundError: no file of the run is `model_path` or under it (the error lists
            the run's files).
        ValidationError: the name, a tag or a property is not accepted.
        TypeError: an unknown keyword (see `tracking.azure.ACCEPTED`).
    """
    extra = azure_properties("Run.register_model", azure_only)
    path = check_file_name((model_path or model_name).rstrip("/") or "/")
    files = run_model_files(run.id, path, run._records.list_files(run.id))
    workspace = run._experiment.workspace
    record = workspace.records.register_model(
        model_name, path=path, files=files, run_id=run.id, description=description,
        tags=label_pairs("tag", tags),
        properties={**extra, **label_pairs("property", properties)},
    )  # fmt: skip
    return Model._of(workspace, record)
