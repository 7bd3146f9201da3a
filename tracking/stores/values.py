"""Values checked before a record store writes them, so SQLite and PostgreSQL agree.

PostgreSQL refuses text holding a NUL character and strings longer than their column;
SQLite stores both. The store checks what it is given against the same rules on every
database, before any write, and either:
- refuses it with a `ValidationError` naming the field: run ids, names (experiment, display,
  metric, param, tag, property and file names), tag and property values, file URIs and
  SHA-256s, file sizes; or
- cleans it: a run's error text, whose NUL characters become U+FFFD. Failing a run must
  not fail for the message it carries (often an exception's, written by no one on purpose).

Param values need no check: they are stored as JSON, which escapes control characters.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from tracking.errors import ValidationError
from tracking.names import check_run_id
from tracking.records import RUN_TYPES, FileRecord, MetricItem, NewRun

MAX_NAME = 255  # the name columns: experiments, display names, metrics, params, tags...
MAX_FILE_NAME = 1024
MAX_SHA256 = 64
MAX_SIZE = 2**63 - 1  # a BIGINT
NUL, REPLACEMENT = "\x00", "\ufffd"


def _shown(value: str) -> str:
    return f"{value[:40]!r}... ({len(value)} characters)" if len(value) > 40 else repr(value)


def check_text(field: str, value: object, *, limit: int | None = None) -> str:
    """Return `value` as text if a database stores it as given, else raise.

    Raises:
        ValidationError: it holds a NUL character, or is longer than `limit`.
    """
    text = value if isinstance(value, str) else str(value)
    if NUL in text:
        raise ValidationError(f"{field} {_shown(text)} is not accepted: it holds a NUL character")
    if limit is not None and len(text) > limit:
        raise ValidationError(
            f"{field} {_shown(text)} is not accepted: use at most {limit} characters"
        )
    return text


def check_names(kind: str, names: Iterable[object]) -> None:
    """Check metric, param, tag or property names (`kind`)."""
    for name in names:
        check_text(f"{kind} name", name, limit=MAX_NAME)


def check_pairs(kind: str, pairs: Mapping[str, object] | None) -> None:
    """Check the names and values of tags or properties (`kind`)."""
    for key, value in (pairs or {}).items():
        check_text(f"{kind} name", key, limit=MAX_NAME)
        check_text(f"{kind} {key!r} value", value)


def clean_error(error: str | None) -> str | None:
    """A run's error text with each NUL character replaced by U+FFFD."""
    return None if error is None else error.replace(NUL, REPLACEMENT)


def check_file(record: FileRecord) -> None:
    """Check a file record's run id, name, URI, size and SHA-256."""
    check_run_id(record.run_id)
    check_text("file name", record.name, limit=MAX_FILE_NAME)
    check_text(f"URI of file {record.name!r}", record.uri)
    check_text(f"sha256 of file {record.name!r}", record.sha256, limit=MAX_SHA256)
    if not isinstance(record.size, int) or not 0 <= record.size <= MAX_SIZE:
        raise ValidationError(
            f"size {record.size!r} of file {record.name!r} is not accepted: use a whole "
            f"number of bytes from 0 to {MAX_SIZE}"
        )


def check_run(
    run_id: str,
    display_name: str | None,
    properties: Mapping[str, object] | None,
    tags: Mapping[str, object] | None,
    params: Mapping[str, Any] | None,
) -> None:
    """Check what a new run is created with."""
    check_run_id(run_id)
    if display_name is not None:
        check_text("display name", display_name, limit=MAX_NAME)
    check_pairs("property", properties)
    check_pairs("tag", tags)
    check_names("param", params or {})


def check_batch(
    run_id: str,
    metrics: Sequence[MetricItem],
    params: Mapping[str, Any] | None,
    tags: Mapping[str, object] | None,
    properties: Mapping[str, object] | None,
) -> None:
    """Check what `log_batch` writes to a run."""
    check_run_id(run_id)
    check_names("metric", {item[0] for item in metrics})
    check_names("param", params or {})
    check_pairs("tag", tags)
    check_pairs("property", properties)


def checked_finish(
    run_id: str,
    error: str | None,
    properties: Mapping[str, object] | None,
    files: Sequence[FileRecord],
) -> str | None:
    """Check what `set_status` writes; returns the error text, cleaned."""
    check_run_id(run_id)
    check_pairs("property", properties)
    for record in files:
        check_file(record)
    return clean_error(error)


def checked_new_run(run: NewRun, *, name_run: bool = True) -> NewRun:
    """`run` with its error text cleaned, once everything else in it is checked.

    Raises:
        ValidationError: naming the run (so a writer may retry the others) and the field.
    """
    check_run_id(run.run_id)
    try:
        check_run(run.run_id, run.display_name, run.properties, run.tags, run.params)
        check_names("metric", {name for name, _ in run.metrics})
        for record in run.files:
            check_file(record)
        if run.run_type not in RUN_TYPES:
            raise ValidationError(
                f"run type {run.run_type!r} is not accepted: use one of {', '.join(RUN_TYPES)}"
            )
        if run.parent_run_id is not None:
            check_run_id(run.parent_run_id)
    except ValidationError as err:
        if not name_run:
            raise
        raise ValidationError(f"run {run.run_id!r}: {err}") from None
    return run if run.error is None else replace(run, error=clean_error(run.error))
