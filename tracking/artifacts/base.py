"""The artifact store contract: files kept under one storage root (a folder or an S3 prefix).

Every backend implements `ArtifactStore` and passes the contract suite in
`tests/test_artifact_store_contract.py`. Keys are '/'-separated paths relative to the root,
already checked by `tracking.names.check_file_name`; URIs are absolute (`file:///...`,
`s3://bucket/key`). A store only reads and deletes URIs inside its own root. Wherever a
method takes a URI it also takes a key (no `://`): records keep files inside the root as
keys (`relative`), so a workspace stays whole when its storage moves.

An upload cut off midway (a killed process) leaves bytes that are not yet an object: a local
store's temporary `.part` file, an unfinished S3 multipart upload. Stores list these as
`Leftover`s, so that a clean-up (`tracking.gc`) can remove them; nothing reads them.
"""

from __future__ import annotations

import abc
import hashlib
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote

from tracking.errors import IntegrityError, ValidationError
from tracking.names import check_file_name

CHUNK = 1 << 20
NAME_MAX = 255  # bytes in one file name, on the local file systems people use
# What `temporary_beside` names a file: '.<name>.' + mkstemp's 8 random characters + '.part'
# (the name cut short if the whole would pass NAME_MAX).
_PART_NAME = re.compile(r"\..+\.[a-z0-9_]{8}\.part")


@dataclass(frozen=True)
class StoredObject:
    uri: str
    size: int
    sha256: str


@dataclass(frozen=True)
class ObjectInfo:
    """An object in storage, as a listing shows it.

    Attributes:
        uri: its absolute URI.
        key: its '/'-separated path relative to the store's root.
        size: its size in bytes.
        modified: when it was last written (UTC).
    """

    uri: str
    key: str
    size: int
    modified: datetime


@dataclass(frozen=True)
class Leftover:
    """What an upload cut off midway left behind: bytes that no object is made of.

    Attributes:
        kind: 'part' (a local store's temporary file) or 'multipart' (an unfinished S3
            multipart upload).
        uri: where it lies: the temporary file, or the object the upload was writing.
        key: the same, relative to the store's root.
        size: the bytes it holds.
        started: when it was last written, UTC: a part's modification time; a multipart
            upload's newest part (or its start, before any part).
        upload_id: S3's id of the multipart upload ('' for a part).
    """

    kind: str
    uri: str
    key: str
    size: int
    started: datetime
    upload_id: str = ""


def is_part_name(name: str) -> bool:
    """Whether a file name is one that `temporary_beside` gives its temporary files."""
    return _PART_NAME.fullmatch(name) is not None


def check_prefix(prefix: str) -> str:
    """Return `prefix` if it is a relative key prefix ('' or e.g. 'runs/'), else raise."""
    segments = prefix.split("/")[:-1]  # the last segment may be a partial name
    if prefix.startswith("/") or "\\" in prefix or any(s in ("", ".", "..") for s in segments):
        raise ValidationError(
            f"key prefix {prefix!r} is not accepted: use '' or a relative path such as 'runs/'"
        )
    return prefix


def copy_hashing(source: BinaryIO, target: BinaryIO | None = None) -> tuple[int, str]:
    """Copy `source` to `target` (if given); return the size and SHA-256 of what was read."""
    digest = hashlib.sha256()
    size = 0
    while chunk := source.read(CHUNK):
        digest.update(chunk)
        size += len(chunk)
        if target is not None:
            target.write(chunk)
    return size, digest.hexdigest()


class ArtifactStore(abc.ABC):
    """Where run files live."""

    root_uri: str

    @abc.abstractmethod
    def uri_for(self, key: str) -> str:
        """The URI of `key` under this store's root."""

    @abc.abstractmethod
    def put(self, key: str, source: BinaryIO | Path) -> StoredObject:
        """Store the bytes of `source` (a readable binary stream or a local file) at `key`.

        The object appears whole or not at all: a failed upload leaves nothing behind.

        Raises:
            StorageError: the storage cannot be written.
        """

    @abc.abstractmethod
    def open(self, uri: str) -> AbstractContextManager[BinaryIO]:
        """Open the object at `uri` for reading.

        Raises:
            ValidationError: `uri` is not inside this store's root.
            NotFoundError: there is no object at `uri`.
            StorageError: the storage cannot be read.
        """

    @abc.abstractmethod
    def check_inside(self, uri: str) -> None:
        """Raise `ValidationError` unless `uri` names a place inside this store's root."""

    @abc.abstractmethod
    def check_writable(self) -> None:
        """Write and delete a small object, to fail early when the storage is unusable.

        Raises:
            StorageError: naming the folder, or the bucket and endpoint, and why.
        """

    def relative(self, uri: str) -> str:
        """What a record keeps for `uri`: its key if it lies inside this root, so that the
        records stay true when the storage moves (a folder restored elsewhere, another
        mount point); any other URI as it is."""
        prefix = self.root_uri.rstrip("/") + "/"
        try:
            if uri.startswith(prefix):  # by its spelling: no storage call (a sweep asks per run)
                key = uri[len(prefix) :]
                key = unquote(key) if uri.startswith("file:") else key
                check_file_name(key)
                return key
            return self.key_of(uri)
        except ValidationError:
            return uri

    def resolve(self, stored: str) -> str:
        """The URI of what a record keeps: a key under this root, or an absolute URI."""
        return stored if "://" in stored else self.uri_for(stored)

    @abc.abstractmethod
    def key_of(self, uri: str) -> str:
        """The key of `uri` relative to this store's root, however the URI spells it.

        Raises:
            ValidationError: `uri` is not inside this store's root, or is the root itself.
        """

    @abc.abstractmethod
    def list_objects(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Yield every object whose key starts with `prefix`.

        Leftovers (a local store's `.part` files) and symbolic links are not objects and
        are not listed. A prefix nothing is stored under yields nothing.

        Raises:
            ValidationError: `prefix` is absolute or has '.' or '..' segments.
            StorageError: the storage cannot be listed.
        """

    @abc.abstractmethod
    def delete(self, uri: str, *, not_modified_after: datetime | None = None) -> bool:
        """Delete the object at `uri`; with `not_modified_after`, only if it was last
        written at or before that moment (an object written again since is kept).

        Returns:
            True if this call deleted it; False if it was not there or was kept.

        Raises:
            ValidationError: `uri` is not inside this store's root, or names no object.
            StorageError: the storage cannot be read or written.
        """

    @abc.abstractmethod
    def leftovers(self, started_before: datetime) -> list[Leftover]:
        """Return the leftovers anywhere under the root last written before `started_before`.

        Raises:
            StorageError: the storage cannot be listed.
        """

    @abc.abstractmethod
    def remove(self, leftover: Leftover) -> bool:
        """Delete a part, or abort a multipart upload, that `leftovers` returned.

        Returns:
            True if this call removed it; False if it was gone, or written since it was
            listed (a live upload).

        Raises:
            ValidationError: `leftover` is not one of this store's kind, or not inside its root.
            StorageError: the storage cannot be written.
        """

    def describe(self, uri: str) -> StoredObject:
        """Read the object at `uri` once, for its size and SHA-256."""
        with self.open(uri) as stream:
            size, sha256 = copy_hashing(stream)
        return StoredObject(uri, size, sha256)

    def download(self, uri: str, destination: Path, *, sha256: str, label: str) -> Path:
        """Copy the object at `uri` to `destination` if its SHA-256 is `sha256`.

        The copy is written beside `destination` and renamed into place only once its hash
        has been checked, so a refused file never appears there.

        Raises:
            IntegrityError: the stored bytes do not hash to `sha256`; names `label`.
        """
        destination.parent.mkdir(parents=True, exist_ok=True)
        with self.open(uri) as source, temporary_beside(destination) as (tmp, handle):
            _, actual = copy_hashing(source, handle)
            if actual != sha256:
                raise IntegrityError(
                    f"file {label} failed its integrity check: its SHA-256 is {actual}, but "
                    f"{sha256} was recorded when it was stored; it was not downloaded"
                )
            # mkstemp makes the file 0600: give it what open() would have (0644 under 022).
            os.fchmod(handle.fileno(), 0o666 & ~_umask())
            handle.close()
            os.replace(tmp, destination)
        return destination


def _umask() -> int:
    """The process's umask, read where Linux shows it (setting it to read it would change
    it, for a moment, for every thread); elsewhere by setting it back at once."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o077)
    os.umask(mask)
    return mask


@contextmanager
def temporary_beside(path: Path) -> Iterator[tuple[Path, BinaryIO]]:
    """A temporary file in `path`'s folder, open for writing, as (its path, its handle):
    the caller renames it onto `path` once whole. It is removed if it is still there when
    the block ends; a process killed meanwhile leaves it under a name that `gc` finds
    (`is_part_name`)."""
    room = NAME_MAX - len(".." + "x" * 8 + ".part")
    short = path.name.encode()[:room].decode(errors="ignore")  # whole characters only
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{short}.", suffix=".part")
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield tmp, handle
    finally:
        tmp.unlink(missing_ok=True)
