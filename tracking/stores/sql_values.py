"""`SqlRecordStore`'s values: metrics (with their summaries), params, tags, properties and
values that are not numbers."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from tracking.errors import ConflictError
from tracking.names import check_run_id
from tracking.records import (
    LoggedValue,
    MetricItem,
    MetricSummary,
    MetricValue,
    utcnow,
)
from tracking.stores import logged, values
from tracking.stores import schema as t
from tracking.stores import statements as st
from tracking.stores.rows import (
    aware,
    fold_metrics,
    join_value,
    new_summary,
    param_columns,
)
from tracking.stores.sql_base import SqlBase


class SqlValues(SqlBase):
    """The value writes and reads of `SqlRecordStore`."""

    # -- values ------------------------------------------------------------------------
    def log_batch(
        self,
        run_id: str,
        *,
        metrics: Sequence[MetricItem] = (),
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
        values: Sequence[MetricItem],
        timestamp: datetime,
    ) -> None:
        """Append the values, and bring each metric's summary row up to date.

        `run` is the run's (experiment id, number).
        """
        experiment_id, number = run
        names = sorted({item[0] for item in values})
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
