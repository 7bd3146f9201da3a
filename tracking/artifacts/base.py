"""The artifact store contract: files kept under one storage root (a folder or an S3 prefix).

Every backend implements `ArtifactStore` and passes the contract suite in
`tests/test_artifact_store_contract.py`. Keys are '/'-separated paths relative to the root,
already checked by `tracking.names.check_file_name`; URIs are absolute (`file:///...`,
`s3://bucket/key`). A store only reads URIs inside its own root.
"""

from __future__ import annotations

import abc
import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from tracking.errors import IntegrityError

CHUNK = 1 << 20


@dataclass(frozen=True)
class StoredObject:
    uri: str
    size: int
    sha256: str


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
        with self.open(uri) as source, _temporary_beside(destination) as (tmp, handle):
            _, actual = copy_hashing(source, handle)
            handle.close()
            if actual != sha256:
                raise IntegrityError(
                    f"file {label} failed its integrity check: its SHA-256 is {actual}, but "
                    f"{sha256} was recorded when it was stored; it was not downloaded"
                )
            os.replace(tmp, destination)
        return destination


@contextmanager
def _temporary_beside(path: Path) -> Iterator[tuple[Path, BinaryIO]]:
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield tmp, handle
    finally:
        tmp.unlink(missing_ok=True)
