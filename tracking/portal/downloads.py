"""Run files as verified attachments, streamed without a copy, a few at a time.

A file is read twice from the artifact store, and never copied to disk:
- the first pass hashes it without keeping its bytes (a file of at most `IN_MEMORY` bytes is
  kept, and sent from memory): if its size or SHA-256 differ from the file's record, the
  request is refused with `IntegrityError` (409) before any byte is sent;
- the second pass streams it, hashing again, and holds its last chunk back until the whole
  hash is known: bytes changed between the passes end the connection short of the
  announced `Content-Length`, so no client ever holds a complete download of them.

At most `max_downloads` downloads are in progress at once, from the first pass until the
last byte is sent, the client hangs up, or it stops reading for `stall_seconds`; one more
is answered 503 with `Retry-After`.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import logging
import re
import threading
from collections.abc import Iterator
from urllib.parse import quote

import anyio
from starlette.exceptions import HTTPException
from starlette.responses import StreamingResponse
from starlette.types import Message, Receive, Scope, Send

from tracking.artifacts.base import CHUNK, ArtifactStore
from tracking.errors import ConfigError, IntegrityError, TrackingError
from tracking.names import check_file_name
from tracking.records import FileRecord
from tracking.stores.base import RecordStore

IN_MEMORY = CHUNK  # files this small are read once, kept in memory and sent from there
MAX_DOWNLOADS = 4
STALL_SECONDS = 60.0
RETRY_AFTER_SECONDS = 5
_UNSAFE_IN_FILENAME = re.compile(r"[^A-Za-z0-9._-]")
_log = logging.getLogger("tracking.portal")


class DownloadSlots:
    """How many downloads may be in progress at once.

    Args:
        limit: that number (>= 1).
        stall_seconds: how long a client may stop reading before its download is ended.

    Raises:
        ConfigError: a limit below 1 or a stall time <= 0.
    """

    def __init__(self, limit: int = MAX_DOWNLOADS, stall_seconds: float = STALL_SECONDS) -> None:
        if limit < 1:
            raise ConfigError(f"max_downloads {limit!r} is not accepted: use a whole number >= 1")
        if not stall_seconds > 0:
            raise ConfigError(
                f"stall_seconds {stall_seconds!r} is not accepted: use a number of seconds > 0"
            )
        self.limit = limit
        self.stall_seconds = stall_seconds
        self._used = 0
        self._lock = threading.Lock()

    def take(self) -> bool:
        """Take a slot if one is free; False if all are in use."""
        with self._lock:
            if self._used >= self.limit:
                return False
            self._used += 1
            return True

    def give_back(self) -> None:
        with self._lock:
            self._used -= 1


def _failed(record: FileRecord, found: str, *, sending: bool) -> IntegrityError:
    when = " while it was being sent" if sending else ""
    return IntegrityError(
        f"file {record.name!r} of run {record.run_id} failed its integrity check{when}: "
        f"{found}, but {record.sha256} ({record.size} bytes) was recorded when it was stored; "
        "it was not sent" + (" whole" if sending else "")
    )


def verified_pass(
    artifacts: ArtifactStore, record: FileRecord, *, sending: bool = True
) -> Iterator[bytes]:
    """The stored bytes, chunk by chunk, hashed as they are read.

    Raises `IntegrityError` as soon as they exceed the recorded size, and, before the last
    chunk, if their size or SHA-256 differ from `record`: whoever sends what it yields
    never sends the whole of a changed file.
    """
    digest = hashlib.sha256()
    size = 0
    held = b""
    with artifacts.open(record.uri) as source:
        while chunk := source.read(CHUNK):
            size += len(chunk)
            if size > record.size:
                raise _failed(record, f"it has grown past {record.size} bytes", sending=sending)
            digest.update(chunk)
            if held:
                yield held
            held = chunk
    if (size, digest.hexdigest()) != (record.size, record.sha256):
        found = f"its SHA-256 is {digest.hexdigest()} ({size} bytes)"
        raise _failed(record, found, sending=sending)
    if held:
        yield held


def first_pass(artifacts: ArtifactStore, record: FileRecord) -> bytes | None:
    """Check the stored file against `record`; return its bytes if it is small enough to
    keep (at most `IN_MEMORY`), else None: its bytes are not kept.

    Raises:
        IntegrityError: the stored bytes differ from those recorded.
        NotFoundError, ValidationError, StorageError: as `ArtifactStore.open`.
    """
    kept = bytearray() if record.size <= IN_MEMORY else None
    for chunk in verified_pass(artifacts, record, sending=False):
        if kept is not None:
            kept += chunk
    return None if kept is None else bytes(kept)


class VerifiedFileResponse(StreamingResponse):
    """Streams a file's chunks, then gives its download slot back however the response
    ends (sent, refused, hung up, stalled); a HEAD request gets the headers alone."""

    def __init__(
        self,
        chunks: Iterator[bytes],
        headers: dict[str, str],
        slots: DownloadSlots,
        name: str,
    ) -> None:
        super().__init__(chunks, media_type="application/octet-stream", headers=headers)
        self._chunks = chunks
        self._slots = slots
        self._name = name

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_or_give_up(message: Message) -> None:
            # A client that stops reading keeps `send` waiting: it may not hold a slot forever.
            with anyio.fail_after(self._slots.stall_seconds):
                await send(message)

        # Either way the response is left unfinished: the server ends the connection short
        # of its Content-Length, which no client takes for a complete download.
        try:
            if scope.get("method") == "HEAD":
                await send(
                    {"type": "http.response.start", "status": 200, "headers": self.raw_headers}
                )
                await send({"type": "http.response.body", "body": b"", "more_body": False})
            else:
                await super().__call__(scope, receive, send_or_give_up)
        except TrackingError as err:  # changed since the first pass, or unreadable now
            _log.error("tracking-portal: %s", err)
        except TimeoutError:
            _log.warning(
                "tracking-portal: a download of %r was ended: its client read nothing for %g s",
                self._name,
                self._slots.stall_seconds,
            )
        finally:
            with contextlib.suppress(ValueError):  # a generator still running in a thread
                close = getattr(self._chunks, "close", None)
                if close is not None:
                    close()
            self._slots.give_back()


def content_disposition(name: str) -> str:
    """`attachment` with the file's base name: an ASCII fallback and the UTF-8 original."""
    base = name.rsplit("/", 1)[-1]
    fallback = _UNSAFE_IN_FILENAME.sub("_", base) or "download"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(base, safe='')}"


def file_response(
    records: RecordStore,
    artifacts: ArtifactStore,
    run_id: str,
    name: str,
    slots: DownloadSlots,
) -> VerifiedFileResponse:
    """The run's file `name` as an `application/octet-stream` attachment, once verified.

    The name is checked before any lookup or I/O, and the file is read only through the URI
    its record holds, which the artifact store checks to lie inside its root.

    Raises:
        ValidationError: `name` is not a safe relative file name (400).
        NotFoundError: no such run or file (404).
        IntegrityError: the stored bytes no longer match the record (409).
        HTTPException: 503 with Retry-After: `slots.limit` downloads are in progress.
    """
    check_file_name(name)
    records.get_run(run_id)
    record = records.get_file(run_id, name)
    if not slots.take():
        raise HTTPException(
            503,
            f"{slots.limit} downloads are in progress, as many as this portal serves at once: "
            f"try again in {RETRY_AFTER_SECONDS} s",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    try:
        kept = first_pass(artifacts, record)
    except BaseException:
        slots.give_back()
        raise
    chunks = iter((kept,)) if kept is not None else verified_pass(artifacts, record)
    digest = base64.b64encode(bytes.fromhex(record.sha256)).decode()
    headers = {
        "Content-Disposition": content_disposition(record.name),
        "Content-Length": str(record.size),
        "Repr-Digest": f"sha-256=:{digest}:",
        "Cache-Control": "no-store",
    }
    return VerifiedFileResponse(chunks, headers, slots, record.name)
