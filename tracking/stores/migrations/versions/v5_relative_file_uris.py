"""Version 5: files by key under the storage root; claims and a small key-value table for sweeps.

Files inside the workspace's storage are recorded by their key under its root.
A workspace then stays whole when its storage moves (a folder restored elsewhere, mounted at
another path on another node). The storage root is known from the workspace being opened or
upgraded, if it passed one, and from the records themselves: `upload_file` stored every
file at `<root>/runs/<run id>/<name>`, so each such URI names its root. Every absolute URI
under one of those roots becomes its key; any other (a file registered from elsewhere, a
root that cannot be told) is kept as it was, and still reads as before.

The `claims` table holds who holds a key until when (a sweep's claim on its experiment),
and `kv` small values by namespace and key (the digests of a sweep's saved Tune state).
"""

from __future__ import annotations

from urllib.parse import unquote

import sqlalchemy as sa
from alembic import context, op

from tracking.stores.migrations import forward_only, set_version

revision = "5"
down_revision = "4"
branch_labels = None
depends_on = None

files = sa.table(
    "files", sa.column("run_id", sa.String), sa.column("name", sa.String), sa.column("uri", sa.Text)
)


def upgrade() -> None:
    _create_sweep_tables()
    conn = op.get_bind()
    rows = conn.execute(sa.select(files.c.run_id, files.c.name, files.c.uri)).all()
    given = context.config.attributes.get("storage_root")
    roots = {given.rstrip("/")} if given else set()
    roots |= {root for run_id, name, uri in rows if (root := _upload_root(run_id, name, uri))}
    # The longest root first: one storage folder may sit inside another's tree.
    ordered = sorted(roots, key=len, reverse=True)
    for run_id, name, uri in rows:
        key = next((k for root in ordered if (k := _key_under(root, uri))), None)
        if key is not None:
            conn.execute(
                sa.update(files)
                .where(files.c.run_id == run_id, files.c.name == name)
                .values(uri=key)
            )
    set_version("5")


def _create_sweep_tables() -> None:
    op.create_table(
        "claims",
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("holder", sa.Text, nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "kv",
        sa.Column("namespace", sa.String(64), primary_key=True),
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def _upload_root(run_id: str, name: str, uri: str) -> str | None:
    """The storage root that `uri` names if it is where `upload_file` put `name`."""
    root, found, rest = uri.rpartition(f"/runs/{run_id}/")
    if found and "://" in root and _plain(uri, rest) == name:
        return root
    return None


def _key_under(root: str, uri: str) -> str | None:
    if "://" in uri and uri.startswith(root + "/"):
        return _plain(uri, uri[len(root) + 1 :]) or None
    return None


def _plain(uri: str, part: str) -> str:
    """A part of `uri` as a key: file URIs are percent-encoded, S3 ones are not."""
    return unquote(part) if uri.startswith("file:") else part


def downgrade() -> None:
    forward_only()
