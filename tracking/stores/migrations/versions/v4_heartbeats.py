"""Version 4: runs carry a heartbeat, so a run whose process died is failed, not left running.

A run already running when the database is upgraded counts as having beaten at its start:
the process that recorded it ran an older release, which cannot write to this schema, so it
is failed as lost once the workspace's heartbeat timeout has passed since then.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tracking.stores.migrations import forward_only, set_version

revision = "4"
down_revision = "3"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("runs", sa.Column("heartbeat_at", sa.DateTime(timezone=True)))
    op.execute("UPDATE runs SET heartbeat_at = start_time")
    op.create_index("ix_runs_status_heartbeat", "runs", ["status", "heartbeat_at"])
    set_version("4")


def downgrade() -> None:
    forward_only()
