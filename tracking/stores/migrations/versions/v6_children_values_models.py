"""Version 6: child runs and run types, values that are not numbers, and the model registry.

Every run recorded before this version is a top-level run of type 'azureml.scriptrun'
(what `start_logging` and a sweep's cells were); nothing else changes.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tracking.stores.migrations import forward_only, set_version

revision = "6"
down_revision = "5"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("parent_run_id", sa.String(64)))
        batch.add_column(
            sa.Column("run_type", sa.String(64), nullable=False, server_default="azureml.scriptrun")
        )
    op.create_index("ix_runs_parent", "runs", ["parent_run_id", "number"])
    op.create_table(
        "run_values",
        sa.Column("run_id", sa.String(64), sa.ForeignKey("runs.run_id"), primary_key=True),
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("step", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("value_json", sa.Text, nullable=False),
        sa.Column("timestamp", sa.DateTime(timezone=True), nullable=False),
    )
    _create_model_tables()
    set_version("6")


def _create_model_tables() -> None:
    op.create_table(
        "models",
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("run_id", sa.String(64), sa.ForeignKey("runs.run_id")),
        sa.Column("path", sa.String(1024), nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_models_run", "models", ["run_id"])
    op.create_table(
        "model_files",
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("path", sa.String(1024), primary_key=True),
        sa.Column("uri", sa.Text, nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(["name", "version"], ["models.name", "models.version"]),
    )
    op.create_table(
        "model_labels",
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(8), primary_key=True),
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
        sa.ForeignKeyConstraint(["name", "version"], ["models.name", "models.version"]),
    )


def downgrade() -> None:
    forward_only()
