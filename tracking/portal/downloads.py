"""Run files as verified attachments: a file is sent only once its SHA-256 matches the record.

The bytes are copied from the artifact store into an anonymous temporary file while being
hashed; only when size and hash agree with the file's record is the copy streamed to the
client. A changed file is refused with `IntegrityError` (409) and no byte of it is sent.
"""

from __future__ import annotations

import base64
import re
import tempfile
from collections.abc import Iterator
from typing import BinaryIO
from urllib.parse import quote

from starlette.responses import StreamingResponse

from tracking.artifacts.base import CHUNK, ArtifactStore, copy_hashing
from tracking.errors import IntegrityError
from tracking.names import check_file_name
from tracking.records import FileRecord
from tracking.stores.base import RecordStore

_UNSAFE_IN_FILENAME = re.compile(r"[^A-Za-z0-9._-]")


def verified_copy(artifacts: ArtifactStore, record: FileRecord) -> BinaryIO:
    """A temporary copy of the file, rewound, whose size and SHA-256 match `record`.

    Raises:
        IntegrityError: the stored bytes differ from those recorded.
        NotFoundError, ValidationError, StorageError: as `ArtifactStore.open`.
    """
    # Closed by the caller once streamed (or here, if refused): not a `with` block.
    copy = tempfile.TemporaryFile()  # noqa: SIM115
    try:
        with artifacts.open(record.uri) as source:
            size, sha256 = copy_hashing(source, copy)
        if (size, sha256) != (record.size, record.sha256):
            raise IntegrityError(
                f"file {record.name!r} of run {record.run_id} failed its integrity check: "
                f"its SHA-256 is {sha256} ({size} bytes), but {record.sha256} ({record.size} "
                "bytes) was recorded when it was stored; it was not sent"
            )
        copy.seek(0)
        return copy
    except BaseException:
        copy.close()
        raise


def _chunks(stream: BinaryIO) -> Iterator[bytes]:
    try:
        while chunk := stream.read(CHUNK):
            yield chunk
    finally:
        stream.close()


def content_disposition(name: str) -> str:
    """`attachment` with the file's base name: an ASCII fallback and the UTF-8 original."""
    base = name.rsplit("/", 1)[-1]
    fallback = _UNSAFE_IN_FILENAME.sub("_", base) or "download"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(base, safe='')}"


def file_response(
    records: RecordStore, artifacts: ArtifactStore, run_id: str, name: str
) -> StreamingResponse:
    """The run's file `name` as an `application/octet-stream` attachment, once verified.

    The name is checked before any lookup or I/O, and the file is read only through the URI
    its record holds, which the artifact store checks to lie inside its root.

    Raises:
        ValidationError: `name` is not a safe relative file name (400).
        NotFoundError: no such run or file (404).
        IntegrityError: the stored bytes no longer match the record (409).
    """
    check_file_name(name)
    records.get_run(run_id)
    record = records.get_file(run_id, name)
    copy = verified_copy(artifacts, record)
    digest = base64.b64encode(bytes.fromhex(record.sha256)).decode()
    return StreamingResponse(
        _chunks(copy),
        media_type="application/octet-stream",
        headers={
            "Content-Disposition": content_disposition(record.name),
            "Content-Length": str(record.size),
            "Repr-Digest": f"sha-256=:{digest}:",
            "Cache-Control": "no-store",
        },
    )
