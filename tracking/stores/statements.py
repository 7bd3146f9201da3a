"""The statements of the record store's write path, built once.

A notebook that logs one run at a time runs about ten of these per run. Building a
SQLAlchemy statement and its cache key costs more than SQLite takes to execute it, so each
is built here once, with bound parameters, and executed with a dict of values. Names that
start with `b_` are parameters; others are column values.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy import bindparam as param
from sqlalchemy.dialects import postgresql, sqlite

from tracking.records import RunStatus
from tracking.stores import schema as t

_e, _r, _s = t.experiments, t.runs, t.metric_summaries

# Take the next `b_count` run numbers of an experiment; returns the last one. The update
# takes the experiment row's lock, so numbers are given out one at a time on PostgreSQL too.
NEXT_NUMBERS = (
    sa.update(_e)
    .where(_e.c.id == param("b_experiment_id"))
    .values(run_count=_e.c.run_count + param("b_count"), last_activity=param("b_at"))
    .returning(_e.c.run_count)
)

# The numbers of the queued runs among `b_run_ids` of an experiment (a queued run that
# starts keeps its number).
QUEUED_NUMBERS = sa.select(_r.c.run_id, _r.c.number).where(
    _r.c.run_id.in_(param("b_run_ids", expanding=True)),
    _r.c.experiment_id == param("b_experiment_id"),
    _r.c.status == RunStatus.QUEUED.value,
)

# A run's state, its row locked (PostgreSQL) for the rest of the transaction.
RUN_STATE = (
    sa.select(_r.c.status, _r.c.experiment_id, _r.c.number)
    .where(_r.c.run_id == param("b_run_id"))
    .with_for_update()
)


def _finish(*open_states: RunStatus) -> sa.Update:
    return (
        sa.update(_r)
        .where(_r.c.run_id == param("b_run_id"), _r.c.status.in_([s.value for s in open_states]))
        .values(status=param("b_status"), end_time=param("b_end_time"), error=param("b_error"))
        .returning(_r.c.experiment_id, _r.c.number)
    )


# End a running (or queued) run; returns its (experiment id, number), or nothing if it
# has ended.
FINISH_RUN = _finish(RunStatus.QUEUED, RunStatus.RUNNING)
# End a running run (one that takes values); returns as FINISH_RUN does.
FINISH_RUNNING = _finish(RunStatus.RUNNING)

SUMMARIES = sa.select(_s).where(
    _s.c.run_id == param("b_run_id"), _s.c.name.in_(param("b_names", expanding=True))
)

# Executed with the new column values, and the run id and metric name as `b_` parameters.
UPDATE_SUMMARY = sa.update(_s).where(_s.c.run_id == param("b_run_id"), _s.c.name == param("b_name"))

INSERT = {table.name: sa.insert(table) for table in t.metadata.sorted_tables}

# The database's clock, which heartbeats are written and judged by, so that a process whose
# own clock is off neither fails runs that beat nor spares runs that stopped. PostgreSQL's
# is its server's; SQLite's is that of the host holding the file, which every process that
# shares the file runs on (SQLite's locks hold on no other).
_NOW = {
    "postgresql": sa.select(sa.func.now()),
    "sqlite": sa.select(sa.func.strftime("%Y-%m-%d %H:%M:%f", "now")),
}


def database_now(conn: sa.Connection) -> datetime:
    """The database's current time (UTC)."""
    now = conn.execute(_NOW[conn.dialect.name]).scalar_one()
    if isinstance(now, str):
        now = datetime.fromisoformat(now)
    return now if now.tzinfo is not None else now.replace(tzinfo=timezone.utc)


def insert_new(dialect: str, table: sa.Table) -> sa.Insert:
    """INSERT that skips rows whose key exists; of the rows it inserts, it returns the
    primary key's columns other than `run_id` (for params: the key)."""
    return _INSERT_NEW[dialect, table.name]


def _skipping_existing(insert: Callable[[sa.Table], Any], table: sa.Table) -> sa.Insert:
    key = [c for c in table.primary_key.columns if c.name != "run_id"]
    return insert(table).on_conflict_do_nothing().returning(*key)


_INSERT_NEW = {
    (dialect, table.name): _skipping_existing(insert, table)
    for dialect, insert in (("postgresql", postgresql.insert), ("sqlite", sqlite.insert))
    for table in (t.params, t.run_properties, t.experiment_columns)
}
