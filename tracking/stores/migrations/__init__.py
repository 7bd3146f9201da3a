"""The record store's Alembic migrations: one revision per schema version, forward only.

Revision ids are the schema versions ("1", "2", ...), and each revision ends by writing its
version to the `meta` table, which stays the one place a version is read from (releases
before migrations existed read it there too, and refuse a version they do not know). Run
them with `python -m tracking db upgrade`; `tracking.stores.migrate` drives Alembic.

A schema change is: edit `schema.py`, bump `SCHEMA_VERSION`, add `versions/vN_<what>.py`
with `revision = "N"` and `down_revision = "N-1"`, and store a workspace of the version it
replaces under `tests/schemas/` (`tests/schemas/make.sh`).
"""

from __future__ import annotations

import sqlalchemy as sa


def set_version(version: str) -> None:
    """Record `version` as the schema's version: the last step of every revision."""
    from alembic import op

    op.execute(
        sa.text("UPDATE meta SET value = :version WHERE key = 'schema_version'").bindparams(
            version=version
        )
    )


def forward_only() -> None:
    """The body of every `downgrade`: a downgrade is not promised (restore a backup)."""
    raise NotImplementedError(
        "raysweep's schema migrations go forward only: restore the backup taken before "
        "the upgrade instead"
    )
