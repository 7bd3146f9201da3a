"""Version 2: each metric summary carries its run's number, for chart scans in run order."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tracking.stores.migrations import forward_only, set_version

revision = "2"
down_revision = "1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("metric_summaries") as batch:
        batch.add_column(sa.Column("number", sa.Integer, nullable=True))
    op.execute(
        "UPDATE metric_summaries SET number = "
        "(SELECT runs.number FROM runs WHERE runs.run_id = metric_summaries.run_id)"
    )
    with op.batch_alter_table("metric_summaries") as batch:
        batch.alter_column("number", existing_type=sa.Integer, nullable=False)
    op.create_index(
        "ix_metric_summaries_chart",
        "metric_summaries",
        ["experiment_id", "name", "number", "run_id", "last", "last_special"],
    )
    set_version("2")


def downgrade() -> None:
    forward_only()
