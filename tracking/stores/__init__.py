"""Record stores, chosen by the scheme of the workspace's tracking URI."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from tracking.errors import ConfigError

if TYPE_CHECKING:
    from tracking.stores.base import RecordStore

# Every scheme maps to the SQL store; the table is here so that a new backend is one line.
SCHEMES = ("sqlite", "postgresql")


def open_record_store(uri: str, *, base_dir: Path | None = None) -> RecordStore:
    """Open the record store that `uri` names (imports its backend on first use).

    Raises:
        ConfigError: the URI's scheme is not one of `SCHEMES`.
    """
    scheme = uri.partition(":")[0].partition("+")[0].lower()
    if scheme not in SCHEMES:
        raise ConfigError(
            f"tracking URI {uri!r} has an unsupported scheme {scheme!r}; supported: "
            + ", ".join(f"{s}://" for s in SCHEMES)
        )
    from tracking.stores.sql import SqlRecordStore

    return SqlRecordStore.from_uri(uri, base_dir=base_dir)
