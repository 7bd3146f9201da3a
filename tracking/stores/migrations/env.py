"""Alembic's environment: migrations run on the connection `tracking.stores.migrate` passes.

That connection is already inside a transaction that holds the schema lock, so every
revision of one upgrade commits together, or not at all.
"""

from __future__ import annotations

from alembic import context

from tracking.stores.schema import metadata

config = context.config
if context.is_offline_mode():
    raise SystemExit("raysweep's migrations run against a database, not as --sql scripts")
context.configure(
    connection=config.attributes["connection"],
    target_metadata=metadata,
    on_version_apply=config.attributes.get("on_version_apply"),
)
with context.begin_transaction():
    context.run_migrations()
