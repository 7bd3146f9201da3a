"""Schema versions of the record store: reading them, and upgrading through Alembic.

The version lives in the `meta` table (key `schema_version`), where every release has read
it. Alembic is imported only to upgrade or to list the history, never to open a workspace.
Before each upgrade Alembic's own version table is set from `meta`, so a database that was
created without Alembic (every new one is: tables are made in one step, not by replaying
history) upgrades the same way as one that was upgraded before.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from tracking.errors import SchemaError
from tracking.stores import schema

HEAD = schema.SCHEMA_VERSION
SCRIPTS = Path(__file__).with_name("migrations")


@dataclass(frozen=True)
class Revision:
    """One schema version: its number and what it changed (the first line of its doc)."""

    version: str
    summary: str


def read_version(conn: sa.Connection) -> str | None:
    """The database's schema version, or None when it has no record tables yet."""
    if not sa.inspect(conn).has_table(schema.meta.name):
        return None
    version = conn.execute(
        sa.select(schema.meta.c.value).where(schema.meta.c.key == "schema_version")
    ).scalar_one_or_none()
    return None if version is None else str(version)


def compare(version: str) -> int:
    """-1, 0 or 1 as `version` is older than, the same as, or newer than `HEAD`.

    Raises:
        ValueError: `version` is not a schema version number.
    """
    number = int(version)
    return (number > int(HEAD)) - (number < int(HEAD))


def upgrade(
    conn: sa.Connection,
    *,
    on_step: Callable[[str, str], None] | None = None,
    storage_root: str | None = None,
) -> tuple[str | None, str]:
    """Upgrade the database behind `conn` to `HEAD`, inside the caller's transaction.

    The caller holds the schema lock; nothing is committed here, so an upgrade that fails
    half-way leaves the database as it was. An empty database gets every revision from 1.

    Args:
        conn: a connection in a write transaction.
        on_step: called with (from, to) after each revision has run.
        storage_root: the workspace's storage root URI, for revisions that need it (5).

    Returns:
        The version before and after.
    """
    from alembic import command

    before = read_version(conn)
    config = _config(conn)
    config.attributes["storage_root"] = storage_root
    command.stamp(config, before or "base", purge=True)
    if on_step is not None:
        config.attributes["on_version_apply"] = _reporter(on_step)
    command.upgrade(config, "head")
    after = read_version(conn)
    if after != HEAD:  # a revision that forgot set_version(): roll it all back
        raise SchemaError(f"the migrations ended at schema version {after}, not {HEAD}")
    return before, after


def history() -> list[Revision]:
    """Every schema version, oldest first."""
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory(str(SCRIPTS))
    revisions = [
        Revision(str(r.revision), (r.doc or "").strip().splitlines()[0].rstrip("."))
        for r in scripts.walk_revisions()
    ]
    return sorted(revisions, key=lambda r: int(r.version))


def _config(conn: sa.Connection) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(SCRIPTS))
    config.attributes["connection"] = conn
    return config


def _reporter(on_step: Callable[[str, str], None]) -> Callable[..., None]:
    def report(*, step: Any, **_: Any) -> None:
        down = step.down_revision_ids
        on_step(str(down[0]) if down else "0", str(step.up_revision_id))

    return report
