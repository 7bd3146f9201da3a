"""Record stores, chosen by the scheme of the workspace's tracking URI.

`BACKENDS` is the one place that maps a scheme to its backend: adding a backend is a line
there (and its module). The SQL engine below a scheme is dialect-specific, not a second
choice of backend (`tracking.stores.engine`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from tracking.config import redact
from tracking.errors import ConfigError

if TYPE_CHECKING:
    from tracking.stores.base import RecordStore

# An opener: (uri, base_dir, storage_root, read_only) -> the open store.
Opener = Callable[[str, "Path | None", "str | None", bool], "RecordStore"]


def _open_sql(
    uri: str, base_dir: Path | None, storage_root: str | None, read_only: bool
) -> RecordStore:
    from tracking.stores.engine import create_engine
    from tracking.stores.sql import SqlRecordStore

    engine = create_engine(uri, base_dir=base_dir, read_only=read_only)
    return SqlRecordStore(engine, storage_root=storage_root)


# scheme -> its backend's opener (which imports the backend on first use).
# `postgres://` is the spelling many tools print; it means the same server.
BACKENDS: dict[str, Opener] = {
    "sqlite": _open_sql,
    "postgresql": _open_sql,
    "postgres": _open_sql,
}
SCHEMES = tuple(BACKENDS)


def scheme_of(uri: str) -> str:
    """The scheme of a tracking URI, without a driver (`postgresql+psycopg` -> `postgresql`).

    Raises:
        ConfigError: the scheme is not one of `SCHEMES` (the message lists them).
    """
    scheme = uri.partition(":")[0].partition("+")[0].lower()
    if scheme not in BACKENDS:
        raise unsupported_scheme(uri, scheme)
    return scheme


def unsupported_scheme(uri: str, scheme: str) -> ConfigError:
    """The one error for a tracking URI whose scheme has no backend."""
    return ConfigError(
        f"tracking URI {redact(uri)!r} has an unsupported scheme {scheme!r}; supported: "
        + ", ".join(f"{s}://" for s in SCHEMES)
    )


def open_record_store(
    uri: str,
    *,
    base_dir: Path | None = None,
    storage_root: str | None = None,
    read_only: bool = False,
) -> RecordStore:
    """Open the record store that `uri` names (imports its backend on first use).

    Args:
        uri: the tracking URI; its scheme picks the backend from `BACKENDS`.
        base_dir: where a relative path in the URI resolves.
        storage_root: the workspace's storage root URI, used if opening upgrades the schema.
        read_only: open for reading: the store refuses every write at once and opening
            never upgrades the schema (a database of an older schema is refused with the
            command that upgrades it).

    Raises:
        ConfigError: the URI's scheme is not one of `SCHEMES`.
    """
    opener = BACKENDS[scheme_of(uri)]
    return opener(uri, base_dir, storage_root, read_only)
