"""A run's checkpoints as its files: registered once each, and noticed when Tune deletes them.

Each file of a checkpoint becomes a file of the run named `<checkpoint folder>/<path>`, e.g.
`checkpoint_000001/model.pkl`. A checkpoint inside the workspace's storage is recorded where
it lies, by key, size and SHA-256 (read once); one outside it (Tune's default
`~/ray_results`, say) is copied into the storage under `runs/<run id>/` once, hashed as it
is copied. When Tune deletes a checkpoint (`CheckpointConfig(num_to_keep=...)`), its files
are `removed`: their records stay, and a copy made here is deleted too, so that
`num_to_keep` bounds the workspace's storage as it bounds Tune's.

Used on the recorder's writer thread only. No Tune import: paths and pyarrow filesystems.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pyarrow import fs

from sweep.storage import uri_of
from tracking.artifacts.base import ArtifactStore
from tracking.errors import ValidationError
from tracking.records import FileRecord


@dataclass
class _Kept:
    """A checkpoint registered for a run, that Tune has not deleted (as far as is known)."""

    path: str
    filesystem: Any
    names: list[str]
    copies: list[str] = field(default_factory=list)  # URIs of copies made in the storage


class CheckpointFiles:
    """The checkpoint files of each run: registering them, and noticing deleted ones.

    Args:
        artifacts: the workspace's artifact store (called when needed: a restored callback
            finds its workspace late).
    """

    def __init__(self, artifacts: Callable[[], ArtifactStore]) -> None:
        self._artifacts = artifacts
        self._names: dict[str, set[str]] = {}  # run id -> its file names recorded so far
        self._kept: dict[str, list[_Kept]] = {}  # run id -> its checkpoints Tune still keeps
        self.removed: dict[str, list[str]] = {}  # run id -> its files whose bytes are gone

    def known(self, run_id: str, names: list[str]) -> None:
        """Note files a run already has (a re-attached run): not registered again."""
        self._names.setdefault(run_id, set()).update(names)

    def register(self, run_id: str, path: str, filesystem: Any, at: datetime) -> list[FileRecord]:
        """The records of the checkpoint's files, each read once (copied in if outside).

        Raises:
            StorageError: the checkpoint or the storage cannot be read or written.
        """
        filesystem = filesystem or fs.LocalFileSystem()
        artifacts = self._artifacts()
        inside = _is_inside(artifacts, uri_of(path, filesystem))
        folder = posixpath.basename(path.rstrip("/"))
        names = self._names.setdefault(run_id, set())
        kept = _Kept(path, filesystem, [])
        records = []
        for entry in filesystem.get_file_info(fs.FileSelector(path, recursive=True)):
            if entry.type != fs.FileType.File:
                continue
            name = f"{folder}/{entry.path[len(path) :].lstrip('/')}"
            if name in names:
                continue  # a retried trial's report of a checkpoint already recorded
            if inside:
                stored = artifacts.describe(uri_of(entry.path, filesystem))
            else:
                with filesystem.open_input_stream(entry.path) as stream:
                    stored = artifacts.put(f"runs/{run_id}/{name}", stream)
                kept.copies.append(stored.uri)
            key = artifacts.relative(stored.uri)
            records.append(FileRecord(run_id, name, key, stored.size, stored.sha256, at))
            names.add(name)
            kept.names.append(name)
        self._kept.setdefault(run_id, []).append(kept)
        return records

    def check_removed(self, run_id: str) -> bool:
        """Look for the run's checkpoints that Tune has deleted since the last look; delete
        the copies made of them. Returns whether any was found (`removed` has grown)."""
        found = False
        still = []
        for kept in self._kept.get(run_id, []):
            if kept.filesystem.get_file_info(kept.path).type != fs.FileType.NotFound:
                still.append(kept)
                continue
            found = True
            self.removed.setdefault(run_id, []).extend(kept.names)
            for uri in kept.copies:
                self._artifacts().delete(uri)
        self._kept[run_id] = still
        return found

    def forget(self, run_id: str) -> None:
        """The run has ended: its checkpoints need no more watching."""
        self._kept.pop(run_id, None)


def _is_inside(artifacts: ArtifactStore, uri: str) -> bool:
    try:
        artifacts.check_inside(uri)
    except ValidationError:
        return False
    return True
