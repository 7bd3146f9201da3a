"""`LocalArtifactStore`: run files in a local (or mounted shared) folder."""

from __future__ import annotations

import os
import stat
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import BinaryIO
from urllib.parse import unquote, urlparse

from tracking.artifacts.base import (
    ArtifactStore,
    Leftover,
    ObjectInfo,
    StoredObject,
    check_prefix,
    copy_hashing,
    is_part_name,
    temporary_beside,
)
from tracking.errors import NotFoundError, StorageError, ValidationError
from tracking.names import check_file_name


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
        if "://" not in uri:  # a key relative to the root, as records keep it
            check_file_name(uri)
            return self.root / uri
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
            with temporary_beside(target) as (tmp, handle):
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

    # -- listing and clean-up ----------------------------------------------------------
    def key_of(self, uri: str) -> str:
        named = Path(os.path.normpath(self._named_path(uri)))
        if named.is_relative_to(self.root) and named != self.root:
            return named.relative_to(self.root).as_posix()
        # Spelled through a symlink (or another spelling of the root): judged resolved.
        resolved, root = self._contained(named, repr(uri)), self.root.resolve()
        if resolved == root:
            raise ValidationError(f"{uri!r} is the storage folder itself, not a file in it")
        return resolved.relative_to(root).as_posix()

    def list_objects(self, prefix: str = "") -> Iterator[ObjectInfo]:
        folder = check_prefix(prefix).rpartition("/")[0]
        for key, info in self._walk(folder):
            if key.startswith(prefix) and not is_part_name(PurePosixPath(key).name):
                yield ObjectInfo(self.uri_for(key), key, info.st_size, _modified(info))

    def delete(self, uri: str, *, not_modified_after: datetime | None = None) -> bool:
        path = self._entry(self.key_of(uri), uri)
        try:
            info = path.lstat()
            if not stat.S_ISREG(info.st_mode):
                raise ValidationError(f"{uri!r} is not a stored file (a link or a folder)")
            if not_modified_after is not None and _modified(info) > not_modified_after:
                return False
            path.unlink()
        except FileNotFoundError:
            return False
        except OSError as err:
            raise StorageError(f"cannot delete {uri}: {err}") from None
        return True

    def leftovers(self, started_before: datetime) -> list[Leftover]:
        return [
            Leftover("part", self.uri_for(key), key, info.st_size, _modified(info))
            for key, info in self._walk("")
            if is_part_name(PurePosixPath(key).name) and _modified(info) < started_before
        ]

    def remove(self, leftover: Leftover) -> bool:
        if leftover.kind != "part" or not is_part_name(PurePosixPath(leftover.key).name):
            raise ValidationError(f"{leftover.uri!r} is not a temporary .part file of {self}")
        path = self._entry(leftover.key, leftover.uri)
        try:
            info = path.lstat()
            # A part written since it was listed belongs to an upload that is alive.
            if not stat.S_ISREG(info.st_mode) or _modified(info) > leftover.started:
                return False
            path.unlink()
        except FileNotFoundError:
            return False
        except OSError as err:
            raise StorageError(f"cannot delete {leftover.uri}: {err}") from None
        return True

    def _entry(self, key: str, shown: str) -> Path:
        """The path of `key` itself (a link is not followed), its folder checked inside."""
        check_file_name(key)
        named = self.root / key
        return self._contained(named.parent, repr(shown)) / named.name

    def _walk(self, folder: str) -> Iterator[tuple[str, os.stat_result]]:
        """(key, lstat) of each regular file under `folder`, by key; links are not followed."""
        top = self.root / folder
        if not top.is_dir():
            return
        top = self._contained(top, repr(folder))
        try:
            for dirpath, dirnames, filenames in os.walk(top, onerror=_raise):
                dirnames.sort()
                base = Path(dirpath).relative_to(top)
                for name in sorted(filenames):
                    try:
                        info = os.lstat(os.path.join(dirpath, name))
                    except FileNotFoundError:  # removed while we looked
                        continue
                    if stat.S_ISREG(info.st_mode):
                        yield PurePosixPath(folder, base.as_posix(), name).as_posix(), info
        except OSError as err:
            raise StorageError(f"cannot list the storage folder {self.root}: {err}") from None


def _modified(info: os.stat_result) -> datetime:
    return datetime.fromtimestamp(info.st_mtime, tz=timezone.utc)


def _raise(err: OSError) -> None:
    if not isinstance(err, FileNotFoundError):  # a folder removed while we looked
        raise err
