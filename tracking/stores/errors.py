"""Database failures as `tracking` errors: every SQLAlchemy DBAPI error maps to one here.

- a refused duplicate record: `ConflictError`;
- a value the database refuses (PostgreSQL's data exceptions): `ValidationError`;
- a SQLite file that is not a database, or a damaged one: `SchemaError`, saying so and
  naming the file (a state the caller must fix, not a passing failure);
- a write to a read-only SQLite file: `StorageError`, saying the workspace is read-only;
- anything else (locked, unreachable, out of space...): `StorageError`.
Each message is one line, the URL's password hidden.
"""

from __future__ import annotations

import re
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from tracking.errors import (
    ConflictError,
    SchemaError,
    StorageError,
    TrackingError,
    ValidationError,
)

# SQLite's primary result codes (the low byte of an extended code).
SQLITE_READONLY, SQLITE_CORRUPT, SQLITE_NOTADB = 8, 11, 26
_TABLE = re.compile(r"\b(?:INSERT INTO|UPDATE|DELETE FROM|FROM)\s+\"?(\w+)", re.IGNORECASE)


def one_line(err: BaseException | None) -> str:
    """A driver's message on one line (psycopg's carry hints on lines of their own)."""
    return "; ".join(line.strip() for line in str(err).splitlines() if line.strip())


def sqlite_code(err: sa_exc.DBAPIError) -> int | None:
    """SQLite's primary result code of `err`, None for another database's error."""
    code = getattr(err.orig, "sqlite_errorcode", None)
    return None if code is None else int(code) & 0xFF


def not_readable(path: str, detail: str) -> SchemaError:
    return SchemaError(
        f"the tracking database file {path} is not a readable SQLite database ({detail}): "
        "restore it from a backup, or move it away to start a new one"
    )


def read_only(path: str) -> StorageError:
    return StorageError(
        f"the tracking database {path} is read-only (opened for reading, or its file or "
        "folder cannot be written): this workspace can be read, not changed"
    )


def tracking_error(
    err: sa_exc.DBAPIError, engine: sa.Engine, *, failed: str | None = None
) -> TrackingError:
    """The `tracking` error that `err`, raised on `engine`, reaches a caller as.

    Args:
        failed: for a failure opening, reading or upgrading the schema, what the
            `StorageError` says before the driver's message; a duplicate or a refused
            value is then the database's failure too, not the caller's.
    """
    url = engine.url.render_as_string(hide_password=True)
    detail = one_line(err.orig)
    if isinstance(err, sa_exc.IntegrityError) and failed is None:
        return ConflictError(f"the record conflicts with an existing one: {detail}")
    if isinstance(err, sa_exc.DataError) and failed is None:
        table = _TABLE.search(str(err.statement or ""))
        where = f" for table {table.group(1)}" if table else ""
        return ValidationError(f"the tracking database {url} refused a value{where}: {detail}")
    code = sqlite_code(err)
    path = str(Path(engine.url.database or ""))
    if code in (SQLITE_CORRUPT, SQLITE_NOTADB):
        return not_readable(path, detail)
    if code == SQLITE_READONLY:
        return read_only(path)
    return StorageError(f"{failed or f'the tracking database {url} failed'}: {detail}")
