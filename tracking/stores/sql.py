"""`SqlRecordStore`: the record store on SQLite or PostgreSQL, through SQLAlchemy Core."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from tracking.errors import ConflictError, NotFoundError, RunFinishedError
from tracking.names import check_run_id
from tracking.records import (
    SCRIPT_RUN,
    ChartSeries,
    ClaimRecord,
    ExperimentRecord,
    ExperimentSummary,
    FileRecord,
    LoggedValue,
    LostRun,
    MetricSummary,
    MetricValue,
    ModelFile,
    ModelRecord,
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
from tracking.stores import claims, logged, registry, values
from tracking.stores import schema as t
from tracking.stores import statements as st
from tracking.stores.base import RecordStore
from tracking.stores.engine import create_engine, ensure_schema
from tracking.stores.errors import read_only, tracking_error
from tracking.stores.rows import (
    aware,
    fold_metrics,
    join_value,
    new_summary,
    param_columns,
    record_of,
    rows_of,
)


class SqlRecordStore(RecordStore):
    """Records in a SQL database: SQLite (the default) or PostgreSQL.

    Args:
        engine: a SQLAlchemy engine made by `tracking.stores.engine.create_engine`, or
            any engine whose SQLite connections use `BEGIN IMMEDIATE` for writes.
        storage_root: the workspace's storage root URI, should opening upgrade the schema
            (a migration turns file URIs under it into keys).
    """

    def __init__(self, engine: sa.Engine, *, storage_root: str | None = None) -> None:
        self._engine = engine
        self._writer = engine.execution_options(tracking_write=True)
        self._known_columns: set[tuple[int, str, str]] = set()
        ensure_schema(engine, storage_root=storage_root)

    @classmethod
    def from_uri(
        cls, uri: str, *, base_dir: Path | None = None, storage_root: str | None = None
    ) -> SqlRecordStore:
        return cls(create_engine(uri, base_dir=base_dir), storage_root=storage_root)

    def close(self) -> None:
        self._engine.dispose()

    @property
    def read_only(self) -> bool:
        return bool(self._engine.get_execution_options().get("tracking_read_only"))

    @contextmanager
    def _tx(self, *, write: bool) -> Iterator[sa.Connection]:
        """One short transaction; database failures become `tracking` errors
        (`tracking.stores.errors`), a write to a read-only database one at once."""
        if write and self.read_only:
            raise read_only(str(self._engine.url.database))
        try:
            with (self._writer if write else self._engine).begin() as conn:
                yield conn
        except sa_exc.DBAPIError as err:
            raise tracking_error(err, self._engine) from None

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

    def _add_columns(
        self, conn: sa.Connection, experiment_id: int, kind: str, names: Sequence[str]
    ) -> None:
        """Remember that the experiment has these metric or param names."""
        names = [n for n in names if (experiment_id, kind, n) not in self._known_columns]
        if not names:
            return
        c = t.experiment_columns
        known = set(
            conn.execute(
                sa.select(c.c.name).where(
                    c.c.experiment_id == experiment_id, c.c.kind == kind, c.c.name.in_(names)
                )
            ).scalars()
        )
        new = [
            {"experiment_id": experiment_id, "kind": kind, "name": n}
            for n in names
            if n not in known
        ]
        if new:
            # Another process may add the same name meanwhile (PostgreSQL does not lock the
            # whole database as SQLite does): a duplicate is not an error here.
            conn.execute(st.insert_new(conn.dialect.name, c), new)
        # Columns are never removed, so what this process has seen stays true.
        self._known_columns.update((experiment_id, kind, n) for n in names)

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
            last = self._next_numbers(conn, experiment_id, len(runs), latest)
            for number, run in enumerate(runs, start=last - len(runs) + 1):
                rows_of(experiment_id, number, run, table_rows)
                records.append(record_of(experiment_id, number, run))
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

    @staticmethod
    def _insert_pairs(
        conn: sa.Connection,
        table: sa.Table,
        run_id: str,
        pairs: Mapping[str, str] | None,
        experiment_id: int | None = None,
    ) -> None:
        if not pairs:
            return
        extra = {} if experiment_id is None else {"experiment_id": experiment_id}
        conn.execute(
            st.INSERT[table.name],
            [{"run_id": run_id, "key": k, "value": str(v), **extra} for k, v in pairs.items()],
        )

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

        with self._tx(write=False) as conn:
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
    ) -> None:
        error = values.checked_finish(run_id, error, properties, files)
        end_time = end_time or utcnow()
        with self._tx(write=True) as conn:
            finish = {
                "b_run_id": run_id,
                "b_status": status.value,
                "b_end_time": end_time,
                "b_error": error,
            }
            # No row back means no such run, or a finished one: _running_run says which.
            row = conn.execute(st.FINISH_RUN, finish).first()
            experiment_id, number = row or self._running_run(conn, run_id)
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
                .where(r.c.run_id.in_(list(run_ids)), r.c.status == RunStatus.RUNNING.value)
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
                .where(r.c.status == RunStatus.RUNNING.value, r.c.heartbeat_at < now - age)
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
                .where(r.c.status == RunStatus.RUNNING.value, r.c.heartbeat_at < cutoff)
                .order_by(r.c.heartbeat_at, r.c.run_id)
            ).all()
        return [LostRun(rid, name, number, aware(at)) for rid, name, number, at in rows]  # type: ignore[arg-type]

    def _running_run(
        self, conn: sa.Connection, run_id: str, *, must_run: bool = True
    ) -> tuple[int, int]:
        """Lock the run's row; return its experiment id and number, checking it is running."""
        row = conn.execute(st.RUN_STATE, {"b_run_id": run_id}).first()
        if row is None:
            raise NotFoundError(f"no run with id {run_id!r} in this workspace")
        if must_run and row.status != RunStatus.RUNNING.value:
            raise RunFinishedError(f"run {run_id!r} has already finished ({row.status})")
        return int(row.experiment_id), int(row.number)

    # -- values ------------------------------------------------------------------------
    def log_batch(
        self,
        run_id: str,
        *,
        metrics: Sequence[tuple[str, float]] = (),
        params: Mapping[str, Any] | None = None,
        tags: Mapping[str, str] | None = None,
        properties: Mapping[str, str] | None = None,
        timestamp: datetime | None = None,
    ) -> None:
        values.check_batch(run_id, metrics, params, tags, properties)
        timestamp = timestamp or utcnow()
        with self._tx(write=True) as conn:
            must_run = bool(metrics or params or properties)
            experiment_id, number = self._running_run(conn, run_id, must_run=must_run)
            if metrics:
                self._write_metrics(conn, run_id, (experiment_id, number), metrics, timestamp)
            if params:
                self._write_params(conn, run_id, (experiment_id, number), params)
            if properties:
                props = {k: (str(v), None) for k, v in properties.items()}
                self._set_once(conn, t.run_properties, run_id, (experiment_id, number), props)
            if tags:
                tg = t.run_tags
                conn.execute(sa.delete(tg).where(tg.c.run_id == run_id, tg.c.key.in_(list(tags))))
                self._insert_pairs(conn, tg, run_id, tags)

    def _write_params(
        self, conn: sa.Connection, run_id: str, run: tuple[int, int], params: Mapping[str, Any]
    ) -> None:
        columns = {k: param_columns(v) for k, v in params.items()}
        new = self._set_once(conn, t.params, run_id, run, columns)
        self._add_columns(conn, run[0], "param", new)

    @staticmethod
    def _set_once(
        conn: sa.Connection,
        table: sa.Table,
        run_id: str,
        run: tuple[int, int],
        wanted: Mapping[str, tuple[str, float | None]],
    ) -> list[str]:
        """Insert the keys that are new (returned); an existing key must keep its value.

        `run` is the run's (experiment id, number); `wanted` maps each key to its text and,
        for params, its numeric value.
        """
        is_params = table is t.params
        text = table.c.value_json if is_params else table.c.value
        experiment_id, run_number = run
        rows = [
            {"run_id": run_id, "key": key, "experiment_id": experiment_id, text.key: value}
            | ({"value_num": numeric, "number": run_number} if is_params else {})
            for key, (value, numeric) in wanted.items()
        ]
        inserted = set(conn.execute(st.insert_new(conn.dialect.name, table), rows).scalars())
        kept = [key for key in wanted if key not in inserted]
        if kept:
            existing = conn.execute(
                sa.select(table.c.key, text).where(table.c.run_id == run_id, table.c.key.in_(kept))
            )
            for key, value in existing:
                if wanted[key][0] != value:
                    raise ConflictError(
                        f"{'param' if is_params else 'property'} {key!r} of run {run_id!r} is "
                        f"already {value}; it cannot be changed to {wanted[key][0]}"
                    )
        return [key for key in wanted if key in inserted]

    def _write_metrics(
        self,
        conn: sa.Connection,
        run_id: str,
        run: tuple[int, int],
        values: Sequence[tuple[str, float]],
        timestamp: datetime,
    ) -> None:
        """Append the values, and bring each metric's summary row up to date.

        `run` is the run's (experiment id, number).
        """
        experiment_id, number = run
        names = sorted({name for name, _ in values})
        old = {
            row.name: row._asdict()
            for row in conn.execute(st.SUMMARIES, {"b_run_id": run_id, "b_names": names})
        }
        summaries = {
            name: old.get(name) or new_summary(run_id, name, experiment_id, number)
            for name in names
        }
        rows = fold_metrics(run_id, values, summaries, timestamp)
        conn.execute(st.INSERT["metrics"], rows)
        new = [summary for name, summary in summaries.items() if name not in old]
        if new:
            conn.execute(st.INSERT["metric_summaries"], new)
            self._add_columns(conn, experiment_id, "metric", [row["name"] for row in new])
        if old:
            changed = [
                {"b_run_id": run_id, "b_name": name}
                | {k: summaries[name][k] for k in ("last", "last_special", "min", "max", "count")}
                for name in old
            ]
            conn.execute(st.UPDATE_SUMMARY, changed)

    def get_metric_history(self, run_id: str) -> list[MetricValue]:
        m = t.metrics
        with self._tx(write=False) as conn:
            rows = conn.execute(
                sa.select(m).where(m.c.run_id == run_id).order_by(m.c.name, m.c.step)
            ).all()
        return [
            MetricValue(r.name, join_value(r.value, r.special), r.step, aware(r.timestamp))  # type: ignore[arg-type]
            for r in rows
        ]

    def get_metric_summaries(self, run_id: str) -> dict[str, MetricSummary]:
        s = t.metric_summaries
        with self._tx(write=False) as conn:
            rows = conn.execute(sa.select(s).where(s.c.run_id == run_id)).all()
        return {
            m["name"]: MetricSummary(
                m["name"], join_value(m["last"], m["last_special"]), m["min"], m["max"], m["count"]
            )
            for m in (row._mapping for row in rows)
        }

    def get_params(self, run_id: str) -> dict[str, Any]:
        p = t.params
        with self._tx(write=False) as conn:
            rows = conn.execute(sa.select(p.c.key, p.c.value_json).where(p.c.run_id == run_id))
            return {key: json.loads(value) for key, value in rows}

    def log_values(self, run_id: str, values: Sequence[LoggedValue]) -> None:
        rows = logged.rows_of(run_id, values)
        with self._tx(write=True) as conn:
            self._running_run(conn, run_id)
            logged.append(conn, run_id, rows, utcnow())

    def get_values(self, run_id: str) -> list[LoggedValue]:
        check_run_id(run_id)
        with self._tx(write=False) as conn:
            return logged.read(conn, run_id)

    # -- files -------------------------------------------------------------------------
    def add_file(self, record: FileRecord) -> None:
        values.check_file(record)
        with self._tx(write=True) as conn:
            self._running_run(conn, record.run_id)
            self._insert_file(conn, record)

    @staticmethod
    def _insert_file(conn: sa.Connection, record: FileRecord) -> None:
        exists = conn.execute(
            sa.select(t.files.c.name).where(
                t.files.c.run_id == record.run_id, t.files.c.name == record.name
            )
        ).first()
        if exists:
            raise ConflictError(f"run {record.run_id!r} already has a file named {record.name!r}")
        conn.execute(st.INSERT["files"], record.__dict__)

    def list_files(self, run_id: str) -> list[FileRecord]:
        f = t.files
        with self._tx(write=False) as conn:
            rows = conn.execute(sa.select(f).where(f.c.run_id == run_id).order_by(f.c.name)).all()
        return [self._file_record(row) for row in rows]

    def get_file(self, run_id: str, name: str) -> FileRecord:
        check_run_id(run_id)
        f = t.files
        with self._tx(write=False) as conn:
            row = conn.execute(sa.select(f).where(f.c.run_id == run_id, f.c.name == name)).first()
        if row is None:
            raise NotFoundError(f"run {run_id!r} has no file named {name!r}")
        return self._file_record(row)

    def file_uris(self, prefix: str = "") -> set[str]:
        found: set[str] = set()
        with self._tx(write=False) as conn:
            for uri in (t.files.c.uri, t.model_files.c.uri):  # a model's files are kept too
                query = sa.select(uri).distinct()
                if prefix:
                    # substr, not LIKE: SQLite's LIKE ignores case; '%' and '_' may be in a URI.
                    query = query.where(sa.func.substr(uri, 1, len(prefix)) == prefix)
                found.update(conn.execute(query).scalars())
        return found

    @staticmethod
    def _file_record(row: sa.Row[Any]) -> FileRecord:
        return FileRecord(
            row.run_id,
            row.name,
            row.uri,
            row.size,
            row.sha256,
            aware(row.created_at),  # type: ignore[arg-type]
        )

    # -- models (tracking.stores.registry) ---------------------------------------------
    def register_model(
        self,
        name: str,
        *,
        path: str,
        files: Sequence[ModelFile],
        run_id: str | None = None,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
        properties: Mapping[str, str] | None = None,
    ) -> ModelRecord:
        registry.check_model(name, path, files, run_id, description, tags, properties)
        model = registry.NewModel(
            name, path, tuple(files), run_id, description, dict(tags or {}), dict(properties or {})
        )
        for attempt in range(registry.VERSION_ATTEMPTS):
            try:
                with self._tx(write=True) as conn:
                    version = registry.insert(conn, model)
                break
            except ConflictError:  # another process took this version first: the next one
                if attempt == registry.VERSION_ATTEMPTS - 1:
                    raise
        return self.get_model(name, version)

    def get_model(self, name: str, version: int | None = None) -> ModelRecord:
        with self._tx(write=False) as conn:
            return registry.get(conn, name, version)

    def list_models(
        self,
        *,
        name: str | None = None,
        run_id: str | None = None,
        tags: Mapping[str, str | None] | None = None,
        properties: Mapping[str, str | None] | None = None,
        latest: bool = False,
    ) -> list[ModelRecord]:
        with self._tx(write=False) as conn:
            return registry.search(
                conn, name=name, run_id=run_id, tags=tags, properties=properties, latest=latest
            )

    def label_model(
        self,
        name: str,
        version: int,
        *,
        tags: Mapping[str, str] | None = None,
        properties: Mapping[str, str] | None = None,
    ) -> ModelRecord:
        registry.check_labels(tags, properties)
        with self._tx(write=True) as conn:
            registry.label(conn, name, version, tags or {}, properties or {})
        return self.get_model(name, version)

    # -- claims and values (tracking.stores.claims) ------------------------------------
    def claim(self, key: str, holder: str, lease_s: float) -> ClaimRecord | None:
        claims.check_claim(key, holder, lease_s)
        with self._tx(write=True) as conn:
            return claims.claim(conn, key, holder, lease_s)

    def renew_claim(self, key: str, holder: str, lease_s: float) -> bool:
        claims.check_claim(key, holder, lease_s)
        with self._tx(write=True) as conn:
            return claims.renew_claim(conn, key, holder, lease_s)

    def release_claim(self, key: str, holder: str) -> None:
        with self._tx(write=True) as conn:
            claims.release_claim(conn, key, holder)

    def get_claim(self, key: str) -> ClaimRecord | None:
        with self._tx(write=False) as conn:
            return claims.get_claim(conn, key)

    def set_value(self, namespace: str, key: str, value: str) -> None:
        claims.check_entry(namespace, key, value)
        with self._tx(write=True) as conn:
            claims.set_value(conn, namespace, key, value)

    def get_value(self, namespace: str, key: str) -> str | None:
        with self._tx(write=False) as conn:
            return claims.get_value(conn, namespace, key)


def _latest(*times: datetime | None) -> datetime | None:
    known = [when for when in map(aware, times) if when is not None]
    return max(known) if known else None
