"""Version 3: params carry their run's number too; the summaries' chart index drops run_id."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tracking.stores.migrations import forward_only, set_version

revision = "3"
down_revision = "2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("params") as batch:
        batch.add_column(sa.Column("number", sa.Integer, nullable=True))
    op.execute(
        "UPDATE params SET number = "
        "(SELECT runs.number FROM runs WHERE runs.run_id = params.run_id)"
    )
    with op.batch_alter_table("params") as batch:
        batch.alter_column("number", existing_type=sa.Integer, nullable=False)
    op.create_index("ix_params_chart", "params", ["experiment_id", "key", "number", "value_num"])
    op.drop_index("ix_metric_summaries_chart", table_name="metric_summaries")
    op.create_index(
        "ix_metric_summaries_chart",
        "metric_summaries",
        ["experiment_id", "name", "number", "last", "last_special"],
    )
    set_version("3")


def downgrade() -> None:
    forward_only()
