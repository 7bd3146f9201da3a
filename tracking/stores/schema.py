"""The SQL schema of the record store (portable across SQLite and PostgreSQL)."""

from __future__ import annotations

import sqlalchemy as sa

SCHEMA_VERSION = "6"

metadata = sa.MetaData()

meta = sa.Table(
    "meta",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.String(255), nullable=False),
)

experiments = sa.Table(
    "experiments",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(255), nullable=False, unique=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("run_count", sa.Integer, nullable=False, server_default="0"),
    # The latest run start; list_experiments adds the latest run end from the runs table.
    sa.Column("last_activity", sa.DateTime(timezone=True)),
    sa.Column("primary_metric", sa.String(255)),
    sa.Column("primary_goal", sa.String(8), nullable=False, server_default="min"),
)

# The metric and param names logged in each experiment: the runs table's columns and the
# charts' menus, without a scan of every run.
experiment_columns = sa.Table(
    "experiment_columns",
    metadata,
    sa.Column("experiment_id", sa.Integer, sa.ForeignKey("experiments.id"), primary_key=True),
    sa.Column("kind", sa.String(8), primary_key=True),  # 'metric' or 'param'
    sa.Column("name", sa.String(255), primary_key=True),
)

runs = sa.Table(
    "runs",
    metadata,
    sa.Column("run_id", sa.String(64), primary_key=True),
    sa.Column("experiment_id", sa.Integer, sa.ForeignKey("experiments.id"), nullable=False),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("display_name", sa.String(255)),
    sa.Column("start_time", sa.DateTime(timezone=True), nullable=False),
    sa.Column("end_time", sa.DateTime(timezone=True)),
    sa.Column("error", sa.Text),
    # When the process recording a running run last said it was alive (see fail_lost_runs).
    sa.Column("heartbeat_at", sa.DateTime(timezone=True)),
    # A child run's parent (a sweep's cells are children of the sweep's run), and Azure's
    # run type: 'azureml.scriptrun' for runs that train, 'hyperdrive' for a sweep's parent.
    sa.Column("parent_run_id", sa.String(64)),
    sa.Column("run_type", sa.String(64), nullable=False, server_default="azureml.scriptrun"),
    sa.UniqueConstraint("experiment_id", "number", name="uq_runs_experiment_number"),
    sa.Index("ix_runs_status_heartbeat", "status", "heartbeat_at"),
    sa.Index("ix_runs_experiment_status_number", "experiment_id", "status", "number"),
    sa.Index("ix_runs_experiment_start", "experiment_id", "start_time"),
    sa.Index("ix_runs_experiment_end", "experiment_id", "end_time"),
    sa.Index("ix_runs_parent", "parent_run_id", "number"),
)

run_properties = sa.Table(
    "run_properties",
    metadata,
    sa.Column("run_id", sa.String(64), sa.ForeignKey("runs.run_id"), primary_key=True),
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
    sa.Column("experiment_id", sa.Integer, nullable=False),
    sa.Index("ix_run_properties_lookup", "experiment_id", "key", "value"),
)

run_tags = sa.Table(
    "run_tags",
    metadata,
    sa.Column("run_id", sa.String(64), sa.ForeignKey("runs.run_id"), primary_key=True),
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

params = sa.Table(
    "params",
    metadata,
    sa.Column("run_id", sa.String(64), sa.ForeignKey("runs.run_id"), primary_key=True),
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("experiment_id", sa.Integer, nullable=False),
    sa.Column("value_json", sa.Text, nullable=False),
    # The value as a number when it is one, so that runs sort by a param through an index.
    sa.Column("value_num", sa.Float),
    sa.Column("number", sa.Integer, nullable=False),  # the run's number, for charts
    sa.Index("ix_params_sort", "experiment_id", "key", "value_num", "run_id"),
    sa.Index("ix_params_chart", "experiment_id", "key", "number", "value_num"),
)

metrics = sa.Table(
    "metrics",
    metadata,
    sa.Column("run_id", sa.String(64), sa.ForeignKey("runs.run_id"), primary_key=True),
    sa.Column("name", sa.String(255), primary_key=True),
    sa.Column("step", sa.Integer, primary_key=True),
    # Finite values live in `value`; NaN and infinities in `special` ('nan', 'inf', '-inf'),
    # because SQLite stores a NaN float as NULL.
    sa.Column("value", sa.Float),
    sa.Column("special", sa.String(8)),
    sa.Column("timestamp", sa.DateTime(timezone=True), nullable=False),
)

# One row per run and metric, kept up to date as values are written: best-run queries and
# tables sorted by a metric read this through an index instead of scanning `metrics`.
metric_summaries = sa.Table(
    "metric_summaries",
    metadata,
    sa.Column("run_id", sa.String(64), sa.ForeignKey("runs.run_id"), primary_key=True),
    sa.Column("name", sa.String(255), primary_key=True),
    sa.Column("experiment_id", sa.Integer, nullable=False),
    sa.Column("number", sa.Integer, nullable=False),  # the run's number, for charts
    sa.Column("last", sa.Float),  # the last value if finite, else NULL (see last_special)
    sa.Column("last_special", sa.String(8)),
    sa.Column("min", sa.Float),
    sa.Column("max", sa.Float),
    sa.Column("count", sa.Integer, nullable=False),
    sa.Index("ix_metric_summaries_sort", "experiment_id", "name", "last", "run_id"),
    # Covers the chart query: one range scan gives every run's point in run order.
    sa.Index(
        "ix_metric_summaries_chart",
        "experiment_id",
        "name",
        "number",
        "last",
        "last_special",
    ),
)

# What a run logged that is not a number: text and booleans (`log`), rows (`log_row`),
# tables (`log_table`), images (`log_image`: the name of the run's PNG file), and a marker
# of kind 'list' for a name logged by `log_list`, which reads back as a list however long.
# Values are JSON. Numbers stay in `metrics`, so only they are ranked and charted.
run_values = sa.Table(
    "run_values",
    metadata,
    sa.Column("run_id", sa.String(64), sa.ForeignKey("runs.run_id"), primary_key=True),
    sa.Column("name", sa.String(255), primary_key=True),
    sa.Column("step", sa.Integer, primary_key=True),
    sa.Column("kind", sa.String(8), nullable=False),
    sa.Column("value_json", sa.Text, nullable=False),
    sa.Column("timestamp", sa.DateTime(timezone=True), nullable=False),
)

files = sa.Table(
    "files",
    metadata,
    sa.Column("run_id", sa.String(64), sa.ForeignKey("runs.run_id"), primary_key=True),
    sa.Column("name", sa.String(1024), primary_key=True),
    # A file inside the workspace's storage: its key under the root (so the storage can
    # move); any other: its absolute URI.
    sa.Column("uri", sa.Text, nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

# Who holds a key (a sweep's claim on its experiment) until when, by the database's clock.
claims = sa.Table(
    "claims",
    metadata,
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("holder", sa.Text, nullable=False),
    sa.Column("lease_until", sa.DateTime(timezone=True), nullable=False),
    sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
)

# Small values kept by key, apart from any run (a sweep's state digests).
kv = sa.Table(
    "kv",
    metadata,
    sa.Column("namespace", sa.String(64), primary_key=True),
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

# The model registry: versions 1, 2, 3... of each named model, each pointing at its files
# (by key under the storage root, or URI) with the size and SHA-256 they had.
models = sa.Table(
    "models",
    metadata,
    sa.Column("name", sa.String(255), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("run_id", sa.String(64), sa.ForeignKey("runs.run_id")),
    sa.Column("path", sa.String(1024), nullable=False),  # as registered: a run file or folder
    sa.Column("description", sa.Text),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_models_run", "run_id"),
)

model_files = sa.Table(
    "model_files",
    metadata,
    sa.Column("name", sa.String(255), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("path", sa.String(1024), primary_key=True),  # within the model
    sa.Column("uri", sa.Text, nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.ForeignKeyConstraint(["name", "version"], ["models.name", "models.version"]),
)

# A model version's tags (changeable) and properties (set once), as for runs.
model_labels = sa.Table(
    "model_labels",
    metadata,
    sa.Column("name", sa.String(255), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("kind", sa.String(8), primary_key=True),  # 'tag' or 'property'
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
    sa.ForeignKeyConstraint(["name", "version"], ["models.name", "models.version"]),
)
