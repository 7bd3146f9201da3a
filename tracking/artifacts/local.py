"""`LocalArtifactStore`: run files in a local (or mounted shared) folder."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote, urlparse

from tracking.artifacts.base import ArtifactStore, StoredObject, _temporary_beside, copy_hashing
from tracking.errors import NotFoundError, StorageError, ValidationError


class LocalArtifactStore(ArtifactStore):
    """Files under `root`; created on first write."""

    def __init__(self, root: Path) -> None:
        self.root = root.expanduser().absolute()
        self.root_uri = self.root.as_uri()

    def __repr__(self) -> str:
        return f"LocalArtifactStore({str(self.root)!r})"

    def uri_for(self, key: str) -> str:
        return (self.root / key).as_uri()

    def _contained(self, path: Path, shown: str) -> Path:
        """`path` with symlinks resolved, if it stays inside the root."""
        resolved = path.resolve()
        if not resolved.is_relative_to(self.root.resolve()):
            raise ValidationError(f"{shown} is outside the storage folder {self.root}")
        return resolved

    def _path_of(self, uri: str) -> Path:
        return self._contained(self._named_path(uri), repr(uri))

    def _named_path(self, uri: str) -> Path:
        parsed = urlparse(uri)
        if parsed.scheme != "file" or parsed.netloc not in ("", "localhost"):
            raise ValidationError(f"{uri!r} is not a file:// URI of the storage folder {self.root}")
        return Path(unquote(parsed.path))

    def check_inside(self, uri: str) -> None:
        # A name inside the root by its spelling alone passes without touching the disk (a
        # sweep checks one per run); every read resolves symlinks again (`_path_of`).
        named = self._named_path(uri)
        if not Path(os.path.normpath(named)).is_relative_to(self.root):
            self._contained(named, repr(uri))

    def put(self, key: str, source: BinaryIO | Path) -> StoredObject:
        # Checked before any folder is made: a symlinked folder on the way must not get
        # folders created outside the root; and again after, against a link made meanwhile.
        self._contained(self.root / key, repr(key))
        try:
            (self.root / key).parent.mkdir(parents=True, exist_ok=True)
            target = self._contained(self.root / key, repr(key))
            with _temporary_beside(target) as (tmp, handle):
                if isinstance(source, Path):
                    with source.open("rb") as stream:
                        size, sha256 = copy_hashing(stream, handle)
                else:
                    size, sha256 = copy_hashing(source, handle)
                handle.flush()
                os.fsync(handle.fileno())
                handle.close()
                os.replace(tmp, target)
        except OSError as err:
            raise StorageError(
                f"cannot write {key!r} under the storage folder {self.root}: {err}"
            ) from None
        return StoredObject(target.as_uri(), size, sha256)

    @contextmanager
    def open(self, uri: str) -> Iterator[BinaryIO]:
        path = self._path_of(uri)
        try:
            stream = path.open("rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise NotFoundError(f"there is no file at {uri}") from None
        except OSError as err:
            raise StorageError(f"cannot read {uri}: {err}") from None
        with stream:
            yield stream

    def check_writable(self) -> None:
        probe = self.root / f".write-probe-{uuid.uuid4().hex}"
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            probe.write_bytes(b"ok")
            probe.unlink()
        except OSError as err:
            raise StorageError(f"the storage folder {self.root} cannot be written: {err}") from None
