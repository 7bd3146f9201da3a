"""`SqlRecordStore`: the record store on SQLite or PostgreSQL, through SQLAlchemy Core."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from tracking.errors import ConflictError, NotFoundError
from tracking.names import check_run_id
from tracking.records import (
    SCRIPT_RUN,
    ChartSeries,
    ExperimentRecord,
    ExperimentSummary,
    FileRecord,
    LostRun,
    MetricItem,
    NewRun,
    RunFilter,
    RunOrder,
    RunPage,
    RunRecord,
    RunRow,
    RunStatus,
    RunTable,
    utcnow,
)
from tracking.stores import schema as t
from tracking.stores import statements as st
from tracking.stores import values
from tracking.stores.base import RecordStore
from tracking.stores.engine import create_engine
from tracking.stores.rows import (
    aware,
    join_value,
    record_of,
    rows_of,
)
from tracking.stores.sql_files import SqlFiles
from tracking.stores.sql_values import SqlValues


class SqlRecordStore(SqlValues, SqlFiles, RecordStore):
    """Records in a SQL database: SQLite (the default) or PostgreSQL.

    Args:
        engine: a SQLAlchemy engine made by `tracking.stores.engine.create_engine`, or
            any engine whose SQLite connections use `BEGIN IMMEDIATE` for writes.
        storage_root: the workspace's storage root URI, should opening upgrade the schema
            (a migration turns file URIs under it into keys).
    """

    @classmethod
    def from_uri(
        cls, uri: str, *, base_dir: Path | None = None, storage_root: str | None = None
    ) -> SqlRecordStore:
        return cls(create_engine(uri, base_dir=base_dir), storage_root=storage_root)

    # -- experiments -------------------------------------------------------------------
    def get_or_create_experiment(self, name: str) -> ExperimentRecord:
        values.check_text("experiment name", name, limit=values.MAX_NAME)
        try:
            return self.get_experiment(name)
        except NotFoundError:
            pass
        try:
            with self._tx(write=True) as conn:
                conn.execute(sa.insert(t.experiments).values(name=name, created_at=utcnow()))
        except ConflictError:
            pass  # created by someone else in the meantime
        return self.get_experiment(name)

    def get_experiment(self, name: str) -> ExperimentRecord:
        with self._tx(write=False) as conn:
            row = conn.execute(sa.select(t.experiments).where(t.experiments.c.name == name)).first()
        if row is None:
            raise NotFoundError(f"no experiment named {name!r} in this workspace")
        return self._experiment_record(row)

    @staticmethod
    def _experiment_record(row: sa.Row[Any]) -> ExperimentRecord:
        return ExperimentRecord(
            row.id,
            row.name,
            aware(row.created_at),  # type: ignore[arg-type]
            row.primary_metric,
            row.primary_goal,
        )

    def list_experiments(self) -> list[ExperimentSummary]:
        e, r = t.experiments, t.runs
        # A run's start is kept in last_activity as its number is taken; its end is read
        # here from the runs' end-time index, so finishing a run writes one row, not two.
        last_end = (
            sa.select(sa.func.max(r.c.end_time)).where(r.c.experiment_id == e.c.id)
        ).scalar_subquery()
        with self._tx(write=False) as conn:
            rows = conn.execute(sa.select(e, last_end.label("last_end")).order_by(e.c.name))
            return [
                ExperimentSummary(
                    self._experiment_record(row),
                    row.run_count,
                    _latest(row.last_activity, row.last_end),
                    self._best_value(conn, row.id, row.primary_metric, row.primary_goal),
                )
                for row in rows.all()
            ]

    @staticmethod
    def _best_value(
        conn: sa.Connection, experiment_id: int, metric: str | None, goal: str
    ) -> float | None:
        if metric is None:
            return None
        s = t.metric_summaries
        order = s.c.last.desc() if goal == "max" else s.c.last.asc()
        return conn.execute(
            sa.select(s.c.last)
            .where(s.c.experiment_id == experiment_id, s.c.name == metric, s.c.last.is_not(None))
            .order_by(order)
            .limit(1)
        ).scalar_one_or_none()

    def set_primary_metric(self, experiment_id: int, metric: str, goal: str) -> None:
        values.check_names("metric", [metric])
        with self._tx(write=True) as conn:
            conn.execute(
                sa.update(t.experiments)
                .where(t.experiments.c.id == experiment_id)
                .values(primary_metric=metric, primary_goal=goal)
            )

    def list_columns(self, experiment_id: int) -> tuple[list[str], list[str]]:
        c = t.experiment_columns
        with self._tx(write=False) as conn:
            rows = conn.execute(
                sa.select(c.c.kind, c.c.name)
                .where(c.c.experiment_id == experiment_id)
                .order_by(c.c.name)
            ).all()
        return (
            [name for kind, name in rows if kind == "metric"],
            [name for kind, name in rows if kind == "param"],
        )

    def chart_series(
        self,
        experiment_id: int,
        metric: str,
        *,
        x_param: str | None = None,
        x_metric: str | None = None,
        every: int = 1,
        also: int | None = None,
    ) -> ChartSeries:
        from tracking.stores.queries import chart_series

        with self._tx(write=False) as conn:
            return chart_series(
                conn, experiment_id, metric, x_param=x_param, x_metric=x_metric,
                every=every, also=also,
            )  # fmt: skip

    # -- runs --------------------------------------------------------------------------
    def create_run(
        self,
        experiment_id: int,
        run_id: str,
        *,
        display_name: str | None = None,
        properties: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        start_time: datetime | None = None,
        parent_run_id: str | None = None,
        run_type: str = SCRIPT_RUN,
    ) -> RunRecord:
        run = NewRun(
            run_id,
            start_time or utcnow(),
            display_name=display_name,
            properties=properties or {},
            params=params or {},
            tags=tags or {},
            parent_run_id=parent_run_id,
            run_type=run_type,
        )
        return self.record_runs(experiment_id, [run], checked_as_one=True)[0]

    def record_runs(
        self, experiment_id: int, runs: Sequence[NewRun], *, checked_as_one: bool = False
    ) -> list[RunRecord]:
        if not runs:
            return []
        runs = [values.checked_new_run(run, name_run=not checked_as_one) for run in runs]
        latest = max(r.end_time or r.start_time for r in runs)
        table_rows: dict[str, list[dict[str, Any]]] = {
            name: []
            for name in ("runs", "run_properties", "run_tags", "params", "metrics", "summaries")
        }
        records = []
        with self._tx(write=True) as conn:
            self._check_parents(conn, experiment_id, runs)
            numbers = self._take_queued(conn, experiment_id, runs)
            fresh = [run.run_id for run in runs if run.run_id not in numbers]
            last = self._next_numbers(conn, experiment_id, len(fresh), latest)
            numbers.update(zip(fresh, range(last - len(fresh) + 1, last + 1), strict=True))
            for run in runs:
                rows_of(experiment_id, numbers[run.run_id], run, table_rows)
                records.append(record_of(experiment_id, numbers[run.run_id], run))
            for table, key in (
                (t.runs, "runs"),
                (t.run_properties, "run_properties"),
                (t.run_tags, "run_tags"),
                (t.params, "params"),
                (t.metrics, "metrics"),
                (t.metric_summaries, "summaries"),
            ):
                if table_rows[key]:
                    conn.execute(st.INSERT[table.name], table_rows[key])
            files = [f.__dict__ for run in runs for f in run.files]
            if files:
                conn.execute(st.INSERT["files"], files)
            for kind, key, field_name in (
                ("param", "params", "key"),
                ("metric", "summaries", "name"),
            ):
                names = sorted({row[field_name] for row in table_rows[key]})
                self._add_columns(conn, experiment_id, kind, names)
        return records

    @staticmethod
    def _take_queued(
        conn: sa.Connection, experiment_id: int, runs: Sequence[NewRun]
    ) -> dict[str, int]:
        """The numbers of the queued runs of the experiment among `runs`, whose rows are
        deleted here to be written whole again: a queued run keeps its number."""
        r = t.runs
        values = {"b_run_ids": [run.run_id for run in runs], "b_experiment_id": experiment_id}
        queued = {run_id: int(number) for run_id, number in conn.execute(st.QUEUED_NUMBERS, values)}
        if queued:
            chosen = sorted(queued)
            for table in (t.run_properties, t.run_tags, t.params, t.metric_summaries, t.metrics):
                conn.execute(sa.delete(table).where(table.c.run_id.in_(chosen)))
            conn.execute(sa.delete(r).where(r.c.run_id.in_(chosen)))
        return queued

    @staticmethod
    def _check_parents(conn: sa.Connection, experiment_id: int, runs: Sequence[NewRun]) -> None:
        """Every parent named is a run of the experiment (or one of `runs`)."""
        parents = {r.parent_run_id for r in runs if r.parent_run_id} - {r.run_id for r in runs}
        if not parents:
            return
        r = t.runs
        found = set(
            conn.execute(
                sa.select(r.c.run_id).where(
                    r.c.run_id.in_(sorted(parents)), r.c.experiment_id == experiment_id
                )
            ).scalars()
        )
        if missing := sorted(parents - found):
            raise NotFoundError(
                f"parent run {missing[0]!r} is not a run of the same experiment in this workspace"
            )

    @staticmethod
    def _next_numbers(conn: sa.Connection, experiment_id: int, count: int, at: datetime) -> int:
        """Take the experiment's next `count` run numbers; return the last."""
        values = {"b_experiment_id": experiment_id, "b_count": count, "b_at": at}
        last = conn.execute(st.NEXT_NUMBERS, values).scalar_one_or_none()
        if last is None:
            raise NotFoundError(f"no experiment with id {experiment_id}")
        return int(last)

    def get_run(self, run_id: str) -> RunRecord:
        check_run_id(run_id)
        with self._tx(write=False) as conn:
            records = self._run_records(conn, [run_id])
        if not records:
            raise NotFoundError(f"no run with id {run_id!r} in this workspace")
        return records[0]

    def _run_records(self, conn: sa.Connection, run_ids: Sequence[str]) -> list[RunRecord]:
        """The runs with these ids, in the order given (missing ids are left out)."""
        rows = {
            r.run_id: r
            for r in conn.execute(sa.select(t.runs).where(t.runs.c.run_id.in_(run_ids))).all()
        }
        pairs: dict[tuple[str, str], dict[str, str]] = {}
        for table, kind in ((t.run_properties, "properties"), (t.run_tags, "tags")):
            query = sa.select(table.c.run_id, table.c.key, table.c.value).where(
                table.c.run_id.in_(run_ids)
            )
            for rid, key, value in conn.execute(query).all():
                pairs.setdefault((rid, kind), {})[key] = value
        return [
            RunRecord(
                run_id=row.run_id,
                experiment_id=row.experiment_id,
                number=row.number,
                status=RunStatus(row.status),
                start_time=aware(row.start_time),  # type: ignore[arg-type]
                end_time=aware(row.end_time),
                display_name=row.display_name,
                error=row.error,
                properties=pairs.get((row.run_id, "properties"), {}),
                tags=pairs.get((row.run_id, "tags"), {}),
                parent_run_id=row.parent_run_id,
                run_type=row.run_type,
            )
            for rid in run_ids
            if (row := rows.get(rid)) is not None
        ]

    def find_runs_by_property(self, experiment_id: int, key: str, value: str) -> list[RunRecord]:
        p = t.run_properties
        with self._tx(write=False) as conn:
            ids = (
                conn.execute(
                    sa.select(p.c.run_id).where(
                        p.c.experiment_id == experiment_id, p.c.key == key, p.c.value == value
                    )
                )
                .scalars()
                .all()
            )
            return sorted(self._run_records(conn, ids), key=lambda r: r.number)

    def search_runs(
        self,
        experiment_id: int,
        *,
        order: RunOrder | None = None,
        status: RunStatus | None = None,
        limit: int = 50,
        offset: int = 0,
        where: RunFilter | None = None,
    ) -> RunPage:
        from dataclasses import replace

        from tracking.stores.queries import page_of_run_ids

        where = where or RunFilter()
        if status is not None:
            where = replace(where, status=status)
        with self._tx(write=False) as conn:
            total, ids = page_of_run_ids(
                conn,
                experiment_id,
                order or RunOrder("field", "number", descending=True),
                where,
                limit,
                offset,
            )
            return RunPage(total, tuple(self._run_rows(conn, ids)))

    def run_table(self, experiment_id: int, where: RunFilter | None = None) -> RunTable:
        from tracking.stores.queries import run_table

        with self._tx(write=False, snapshot=True) as conn:
            return run_table(conn, experiment_id, where or RunFilter())

    def _run_rows(self, conn: sa.Connection, run_ids: Sequence[str]) -> list[RunRow]:
        params: dict[str, dict[str, Any]] = {}
        query = sa.select(t.params.c.run_id, t.params.c.key, t.params.c.value_json)
        for rid, key, value in conn.execute(query.where(t.params.c.run_id.in_(run_ids))).all():
            params.setdefault(rid, {})[key] = json.loads(value)
        last: dict[str, dict[str, float]] = {}
        s = t.metric_summaries
        summaries = sa.select(s.c.run_id, s.c.name, s.c.last, s.c.last_special)
        for rid, name, value, special in conn.execute(
            summaries.where(s.c.run_id.in_(run_ids))
        ).all():
            last.setdefault(rid, {})[name] = join_value(value, special)
        return [
            RunRow(record, params.get(record.run_id, {}), last.get(record.run_id, {}))
            for record in self._run_records(conn, run_ids)
        ]

    def best_run(self, experiment_id: int, metric: str, *, maximize: bool) -> RunRecord | None:
        s = t.metric_summaries
        order = (s.c.last.desc(), s.c.run_id.desc()) if maximize else (s.c.last, s.c.run_id)
        with self._tx(write=False) as conn:
            run_id = conn.execute(
                sa.select(s.c.run_id)
                .where(
                    s.c.experiment_id == experiment_id, s.c.name == metric, s.c.last.is_not(None)
                )
                .order_by(*order)
                .limit(1)
            ).scalar_one_or_none()
        return None if run_id is None else self.get_run(run_id)

    def set_status(
        self,
        run_id: str,
        status: RunStatus,
        *,
        error: str | None = None,
        end_time: datetime | None = None,
        properties: Mapping[str, str] | None = None,
        files: Sequence[FileRecord] = (),
        metrics: Sequence[MetricItem] = (),
    ) -> None:
        error = values.checked_finish(run_id, error, properties, files)
        values.check_batch(run_id, metrics, None, None, None)
        end_time = end_time or utcnow()
        with self._tx(write=True) as conn:
            finish = {
                "b_run_id": run_id,
                "b_status": status.value,
                "b_end_time": end_time,
                "b_error": error,
            }
            # Values are taken only by a running run, not a queued one. No row back means
            # no such run, or one that has ended (or is queued): _running_run says which.
            row = conn.execute(st.FINISH_RUNNING if metrics else st.FINISH_RUN, finish).first()
            experiment_id, number = row or self._running_run(conn, run_id)
            if metrics:  # in the transaction that ends the run: it ends with every value
                self._write_metrics(conn, run_id, (experiment_id, number), metrics, end_time)
            if properties:
                props = {k: (str(v), None) for k, v in properties.items()}
                self._set_once(conn, t.run_properties, run_id, (experiment_id, number), props)
            for record in files:
                self._insert_file(conn, record)

    def heartbeat(self, run_ids: Sequence[str], at: datetime | None = None) -> None:
        if not run_ids:
            return
        r = t.runs
        with self._tx(write=True) as conn:
            conn.execute(
                sa.update(r)
                .where(r.c.run_id.in_(list(run_ids)), r.c.status.in_(_OPEN))
                .values(heartbeat_at=at or st.database_now(conn))
            )

    def fail_lost_runs(
        self, silent_since: datetime, *, error: str, run_ids: Sequence[str] | None = None
    ) -> list[str]:
        r = t.runs
        age = utcnow() - silent_since
        with self._tx(write=True) as conn:
            now = st.database_now(conn)
            update = (
                sa.update(r)
                .where(r.c.status.in_(_OPEN), r.c.heartbeat_at < now - age)
                .values(status=RunStatus.FAILED.value, end_time=now, error=error)
                .returning(r.c.run_id)
            )
            if run_ids is not None:
                update = update.where(r.c.run_id.in_(list(run_ids)))
            # One statement: of two processes that notice at once, each run goes to one.
            return list(conn.execute(update).scalars())

    def find_lost_runs(self, silent_since: datetime) -> list[LostRun]:
        r, e = t.runs, t.experiments
        age = utcnow() - silent_since
        with self._tx(write=False) as conn:
            cutoff = st.database_now(conn) - age
            rows = conn.execute(
                sa.select(r.c.run_id, e.c.name, r.c.number, r.c.heartbeat_at)
                .join(e, e.c.id == r.c.experiment_id)
                .where(r.c.status.in_(_OPEN), r.c.heartbeat_at < cutoff)
                .order_by(r.c.heartbeat_at, r.c.run_id)
            ).all()
        return [LostRun(rid, name, number, aware(at)) for rid, name, number, at in rows]  # type: ignore[arg-type]


# The statuses of runs not yet ended: their recording process beats for them.
_OPEN = (RunStatus.QUEUED.value, RunStatus.RUNNING.value)


def _latest(*times: datetime | None) -> datetime | None:
    known = [when for when in map(aware, times) if when is not None]
    return max(known) if known else None
