"""The arguments of `tracking.model`'s calls, checked: Azure-only keywords (listed in
`tracking.azure`), label filters, versions, and the files a version is made of (a local
file or folder, or a run's files).

A model's file paths are relative to the folder that held what was registered: a model of
'outputs/model.pkl' holds 'model.pkl'; one of the folder 'outputs' holds 'outputs/...'.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from tracking import azure
from tracking.errors import NotFoundError, TrackingError, ValidationError
from tracking.names import check_file_name, check_key
from tracking.records import FileRecord, ModelFile

if TYPE_CHECKING:
    from tracking.artifacts.base import ArtifactStore

# Azure's keywords (listed with their effect in `tracking.azure.ACCEPTED`) that become
# properties (or, when listing, filters on them), and those refused with a value.
_AS_PROPERTIES = ("model_framework", "model_framework_version")
_REFUSED = ("datasets", "sample_input_dataset", "sample_output_dataset", "dataset_id")
_SHOWN_FILES = 20


def azure_properties(call: str, kwargs: Mapping[str, Any]) -> dict[str, str]:
    """The properties that the Azure-only keywords of `call` become.

    Raises:
        TypeError: a keyword that `tracking.azure.ACCEPTED[call]` does not list.
        ValidationError: a refused keyword with a value.
    """
    taken = azure.take(call, kwargs)
    for name in _REFUSED:
        if taken.get(name):
            effect = azure.ACCEPTED[call][name]
            raise ValidationError(f"{call}(): {name}={taken[name]!r} is {effect}")
    return {k: str(taken[k]) for k in _AS_PROPERTIES if taken.get(k) is not None}


def label_pairs(kind: str, pairs: Mapping[str, Any] | None) -> dict[str, str]:
    """Tags or properties to set, as text (None as '')."""
    return {check_key(kind, k): "" if v is None else str(v) for k, v in (pairs or {}).items()}


def model_version(version: object) -> int:
    """A version number given as 3 or '3'."""
    if isinstance(version, int) and not isinstance(version, bool) and version > 0:
        return version
    if isinstance(version, str) and version.isdigit() and int(version) > 0:
        return int(version)
    raise ValidationError(f"model version {version!r} is not accepted: use 1, 2, 3...")


def sha256_of(path: Path) -> str:
    from tracking.artifacts.base import copy_hashing  # not at `import tracking`

    with path.open("rb") as stream:
        return copy_hashing(stream)[1]


def local_files(local: Path, child_paths: Iterable[str] | None) -> list[tuple[str, Path]]:
    """(path within the model, local file) of each file of `local` to register, by path.

    Raises:
        NotFoundError: `local`, or one of `child_paths` under it, does not exist.
        ValidationError: a file name is not accepted, or the folder holds no files.
    """
    root = local.absolute().name
    if local.is_file():
        if child_paths:
            raise ValidationError("child_paths is accepted only with a folder's model_path")
        found = [(root, local)]
    elif local.is_dir():
        found = sorted(
            (f"{root}/{Path(folder, name).relative_to(local).as_posix()}", Path(folder, name))
            for folder, _, names in os.walk(local)
            for name in names
            if Path(folder, name).is_file()
        )
        if child_paths is not None:
            chosen = {f"{root}/{check_file_name(p.strip('/'))}" for p in child_paths}
            if missing := sorted(chosen - {path for path, _ in found}):
                raise NotFoundError(f"no file {missing[0]!r} under {str(local)!r}")
            found = [(path, source) for path, source in found if path in chosen]
        if not found:
            raise ValidationError(f"model path {str(local)!r} is a folder without files")
    else:
        raise NotFoundError(f"cannot register {str(local)!r}: no such file or folder")
    for path, _ in found:
        check_file_name(path)
    return found


@contextlib.contextmanager
def uploading(
    artifacts: ArtifactStore, key: str, files: Sequence[tuple[str, Path]]
) -> Iterator[list[ModelFile]]:
    """Upload `files` under `key`; yield their records. Should the block fail, the bytes
    uploaded are deleted (a killed process leaves them: nothing reads them)."""
    uploaded: list[str] = []
    try:
        records = []
        for path, source in files:
            stored = artifacts.put(f"{key}/{path}", source)
            uploaded.append(stored.uri)
            records.append(
                ModelFile(path, artifacts.relative(stored.uri), stored.size, stored.sha256)
            )
        yield records
    except BaseException:
        for uri in uploaded:
            with contextlib.suppress(TrackingError):
                artifacts.delete(uri)
        raise


def run_model_files(run_id: str, path: str, records: Sequence[FileRecord]) -> list[ModelFile]:
    """The model files of the run's file `path`, or of its files under the folder `path`:
    their URIs and SHA-256s as recorded.

    Raises:
        NotFoundError: no file is `path` or under it (the error lists the run's files).
    """
    chosen = [f for f in records if f.name == path] or [
        f for f in records if f.name.startswith(path + "/")
    ]
    if not chosen:
        names = [f.name for f in records]
        shown = ", ".join(names[:_SHOWN_FILES]) + (", ..." if len(names) > _SHOWN_FILES else "")
        raise NotFoundError(
            f"run {run_id!r} has no file or folder {path!r}; its files: {shown or '(none)'}"
        )
    parent = str(PurePosixPath(path).parent)
    cut = 0 if parent == "." else len(parent) + 1
    return [ModelFile(f.name[cut:], f.uri, f.size, f.sha256) for f in chosen]
