"""Record stores, chosen by the scheme of the workspace's tracking URI."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from tracking.config import redact
from tracking.errors import ConfigError

if TYPE_CHECKING:
    from tracking.stores.base import RecordStore

# Every scheme maps to the SQL store; the table is here so that a new backend is one line.
# `postgres://` is the spelling many tools print; it means the same server.
SCHEMES = ("sqlite", "postgresql", "postgres")


def open_record_store(
    uri: str, *, base_dir: Path | None = None, storage_root: str | None = None
) -> RecordStore:
    """Open the record store that `uri` names (imports its backend on first use).

    `storage_root` is the workspace's storage root URI, used if opening upgrades the schema.

    Raises:
        ConfigError: the URI's scheme is not one of `SCHEMES`.
    """
    scheme = uri.partition(":")[0].partition("+")[0].lower()
    if scheme not in SCHEMES:
        raise ConfigError(
            f"tracking URI {redact(uri)!r} has an unsupported scheme {scheme!r}; supported: "
            + ", ".join(f"{s}://" for s in SCHEMES)
        )
    from tracking.stores.sql import SqlRecordStore

    return SqlRecordStore.from_uri(uri, base_dir=base_dir, storage_root=storage_root)
