"""Version 1: experiments, runs, params, metrics with per-run summaries, tags, properties, files.

The tables as the first release created them, kept here as they were (the live schema moves
on in `schema.py`).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tracking.stores.migrations import forward_only

revision = "1"
down_revision = None
branch_labels = None
depends_on = None


def _tables() -> sa.MetaData:
    m = sa.MetaData()
    sa.Table(
        "meta",
        m,
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.String(255), nullable=False),
    )
    sa.Table(
        "experiments",
        m,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(255), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("run_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_activity", sa.DateTime(timezone=True)),
        sa.Column("primary_metric", sa.String(255)),
        sa.Column("primary_goal", sa.String(8), nullable=False, server_default="min"),
    )
    sa.Table(
        "experiment_columns",
        m,
        sa.Column("experiment_id", sa.Integer, sa.ForeignKey("experiments.id"), primary_key=True),
        sa.Column("kind", sa.String(8), primary_key=True),
        sa.Column("name", sa.String(255), primary_key=True),
    )
    sa.Table(
        "runs",
        m,
        sa.Column("run_id", sa.String(64), primary_key=True),
        sa.Column("experiment_id", sa.Integer, sa.ForeignKey("experiments.id"), nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("display_name", sa.String(255)),
        sa.Column("start_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_time", sa.DateTime(timezone=True)),
        sa.Column("error", sa.Text),
        sa.UniqueConstraint("experiment_id", "number", name="uq_runs_experiment_number"),
        sa.Index("ix_runs_experiment_status_number", "experiment_id", "status", "number"),
        sa.Index("ix_runs_experiment_start", "experiment_id", "start_time"),
        sa.Index("ix_runs_experiment_end", "experiment_id", "end_time"),
    )
    sa.Table(
        "run_properties",
        m,
        sa.Column("run_id", sa.String(64), sa.ForeignKey("runs.run_id"), primary_key=True),
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("experiment_id", sa.Integer, nullable=False),
        sa.Index("ix_run_properties_lookup", "experiment_id", "key", "value"),
    )
    sa.Table(
        "run_tags",
        m,
        sa.Column("run_id", sa.String(64), sa.ForeignKey("runs.run_id"), primary_key=True),
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    sa.Table(
        "params",
        m,
        sa.Column("run_id", sa.String(64), sa.ForeignKey("runs.run_id"), primary_key=True),
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("experiment_id", sa.Integer, nullable=False),
        sa.Column("value_json", sa.Text, nullable=False),
        sa.Column("value_num", sa.Float),
        sa.Index("ix_params_sort", "experiment_id", "key", "value_num", "run_id"),
    )
    sa.Table(
        "metrics",
        m,
        sa.Column("run_id", sa.String(64), sa.ForeignKey("runs.run_id"), primary_key=True),
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("step", sa.Integer, primary_key=True),
        sa.Column("value", sa.Float),
        sa.Column("special", sa.String(8)),
        sa.Column("timestamp", sa.DateTime(timezone=True), nullable=False),
    )
    sa.Table(
        "metric_summaries",
        m,
        sa.Column("run_id", sa.String(64), sa.ForeignKey("runs.run_id"), primary_key=True),
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("experiment_id", sa.Integer, nullable=False),
        sa.Column("last", sa.Float),
        sa.Column("last_special", sa.String(8)),
        sa.Column("min", sa.Float),
        sa.Column("max", sa.Float),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Index("ix_metric_summaries_sort", "experiment_id", "name", "last", "run_id"),
    )
    sa.Table(
        "files",
        m,
        sa.Column("run_id", sa.String(64), sa.ForeignKey("runs.run_id"), primary_key=True),
        sa.Column("name", sa.String(1024), primary_key=True),
        sa.Column("uri", sa.Text, nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    return m


def upgrade() -> None:
    tables = _tables()
    tables.create_all(op.get_bind())
    op.execute(tables.tables["meta"].insert().values(key="schema_version", value="1"))


def downgrade() -> None:
    forward_only()
