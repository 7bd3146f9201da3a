"""The runs-table and chart queries, answered through indexes.

Sorting by a metric or a param reads the summary (or params) index in order, so the first
page of 100,000 runs costs the same as the first page of 10. Runs that lack the value (or
whose last value is not finite) follow, by run number.
"""

from __future__ import annotations

import json
from operator import itemgetter
from typing import Any

import sqlalchemy as sa

from tracking.records import ChartSeries, RunFilter, RunOrder, RunTable, TableColumn
from tracking.stores import schema as t

_FIELD_COLUMNS = {
    "number": t.runs.c.number,
    "start_time": t.runs.c.start_time,
    "end_time": t.runs.c.end_time,
    "status": t.runs.c.status,
    "run_id": t.runs.c.run_id,
}


def _ordered(column: sa.ColumnElement, tiebreak: sa.ColumnElement, descending: bool) -> tuple:
    return (column.desc(), tiebreak.desc()) if descending else (column.asc(), tiebreak.asc())


def _conditions(experiment_id: int, where: RunFilter) -> list[sa.ColumnElement[bool]]:
    """The WHERE clause over `runs` that selects what `where` asks for."""
    runs = t.runs
    found: list[sa.ColumnElement[bool]] = [runs.c.experiment_id == experiment_id]
    if where.status is not None:
        found.append(runs.c.status == where.status.value)
    if where.top_level:
        found.append(runs.c.parent_run_id.is_(None))
    if where.parent_run_id is not None:
        found.append(runs.c.parent_run_id == where.parent_run_id)
    if where.run_type is not None:
        found.append(runs.c.run_type == where.run_type)
    for table, pairs in ((t.run_tags, where.tags), (t.run_properties, where.properties)):
        for key, value in pairs.items():
            match = sa.exists().where(table.c.run_id == runs.c.run_id, table.c.key == key)
            found.append(match if value is None else match.where(table.c.value == value))
    return found


def page_of_run_ids(
    conn: sa.Connection,
    experiment_id: int,
    order: RunOrder,
    filter_: RunFilter,
    limit: int,
    offset: int,
) -> tuple[int, list[str]]:
    """Return (number of matching runs, the run ids of the requested page in order)."""
    runs = t.runs
    where = _conditions(experiment_id, filter_)
    if filter_.is_empty:
        # Runs are never deleted: the experiment's run counter is their number, without a
        # count over 100,000 index entries for every page.
        count = sa.select(t.experiments.c.run_count).where(t.experiments.c.id == experiment_id)
    else:
        count = sa.select(sa.func.count()).select_from(runs).where(*where)
    total = int(conn.execute(count).scalar_one_or_none() or 0)
    if limit <= 0 or offset >= total:
        return total, []

    if order.kind == "field":
        column = _FIELD_COLUMNS[order.name]
        query = sa.select(runs.c.run_id).where(*where)
        query = query.order_by(*_ordered(column, runs.c.number, order.descending))
        return total, list(conn.execute(query.limit(limit).offset(offset)).scalars())

    table, key_column, value_column = (
        (t.metric_summaries, t.metric_summaries.c.name, t.metric_summaries.c.last)
        if order.kind == "metric"
        else (t.params, t.params.c.key, t.params.c.value_num)
    )
    ranked_where = [
        table.c.experiment_id == experiment_id,
        key_column == order.name,
        value_column.is_not(None),
    ]
    ranked = sa.select(table.c.run_id).where(*ranked_where)
    if not filter_.is_empty:
        ranked = ranked.join(runs, runs.c.run_id == table.c.run_id).where(*where)
    page = list(
        conn.execute(
            ranked.order_by(*_ordered(value_column, table.c.run_id, order.descending))
            .limit(limit)
            .offset(offset)
        ).scalars()
    )
    if len(page) == limit:
        return total, page

    # The ranked runs ran out inside this page: fill it with the runs that have no value.
    if page:
        ranked_count = offset + len(page)
    else:
        ranked_count = conn.execute(
            sa.select(sa.func.count()).select_from(ranked.subquery())
        ).scalar_one()
    has_value = sa.exists().where(table.c.run_id == runs.c.run_id, *ranked_where)
    rest = (
        sa.select(runs.c.run_id)
        .where(*where, ~has_value)
        .order_by(runs.c.number)
        .limit(limit - len(page))
        .offset(max(0, offset - ranked_count))
    )
    return total, page + list(conn.execute(rest).scalars())


def run_table(conn: sa.Connection, experiment_id: int, where: RunFilter) -> RunTable:
    """The matching runs and their values in columns: a read of the runs, then a few index
    range scans per param and metric name (the experiment's columns), and no object per
    run beyond its values."""
    r, c = t.runs, t.experiment_columns
    conditions = _conditions(experiment_id, where)
    runs = _rows(
        conn,
        sa.select(
            r.c.run_id,
            r.c.number,
            r.c.status,
            r.c.start_time,
            r.c.end_time,
            r.c.parent_run_id,
            r.c.run_type,
        )
        .where(*conditions)
        .order_by(r.c.number),
    )
    chosen = None if where.is_empty else sa.select(r.c.run_id).where(*conditions)

    def of_runs(query: sa.Select[Any], table: sa.Table) -> tuple[tuple[Any, ...], ...]:
        query = query.where(table.c.experiment_id == experiment_id)
        if chosen is not None:
            query = query.where(table.c.run_id.in_(chosen))
        return _rows(conn, query)

    def column(
        table: sa.Table,
        key: sa.Column[Any],
        name: str,
        value: sa.Column[Any],
        other: sa.Column[Any],
        decode: Any,
    ) -> TableColumn:
        """`name`'s values in run order, read from `value` through the table's chart index
        (it covers the run number and the value); where `value` is NULL (a param that is
        not a number, a metric that is not finite, both few), `other` decoded instead."""
        named, by_number = key == name, table.c.number
        count = of_runs(sa.select(sa.func.count()).select_from(table).where(named), table)
        their_numbers: tuple[Any, ...]
        if count[0][0] == len(numbers):  # every run has one: no need to read the numbers
            their_numbers = numbers
            rows = of_runs(sa.select(value).where(named).order_by(by_number), table)
            values = list(map(itemgetter(0), rows))
        else:
            rows = of_runs(sa.select(by_number, value).where(named).order_by(by_number), table)
            their_numbers, values = tuple(map(itemgetter(0), rows)), list(map(itemgetter(1), rows))
        fixes = of_runs(sa.select(by_number, other).where(named, value.is_(None)), table)
        if fixes:  # one snapshot: each is a run read above
            at = {number: i for i, number in enumerate(their_numbers)}
            decoded = decode(list(map(itemgetter(1), fixes)))
            for (number, _), fixed in zip(fixes, decoded, strict=True):
                values[at[number]] = fixed
        return TableColumn(name, their_numbers, tuple(values))

    numbers = tuple(map(itemgetter(1), runs))
    names = conn.execute(
        sa.select(c.c.kind, c.c.name).where(c.c.experiment_id == experiment_id).order_by(c.c.name)
    ).all()
    p, s, tg, pr = t.params, t.metric_summaries, t.run_tags, t.run_properties
    metrics = tuple(
        column(s, s.c.name, name, s.c.last, s.c.last_special, lambda texts: map(float, texts))
        for kind, name in names
        if kind == "metric"
    )
    params = tuple(
        column(p, p.c.key, name, p.c.value_num, p.c.value_json, _decode_json)
        for kind, name in names
        if kind == "param"
    )
    properties = of_runs(sa.select(pr.c.run_id, pr.c.key, pr.c.value), pr)
    # Tags by run (they have no experiment column): a join probes each run's, where a list
    # of the runs' ids would have to be built first.
    tags = _rows(
        conn,
        sa.select(tg.c.run_id, tg.c.key, tg.c.value)
        .join_from(r, tg, tg.c.run_id == r.c.run_id)
        .where(*conditions),
    )
    return RunTable(runs=runs, params=params, metrics=metrics, tags=tags, properties=properties)


def _decode_json(texts: list[str]) -> list[Any]:
    """JSON texts decoded in one call."""
    return json.loads("[" + ",".join(texts) + "]")


def _rows(conn: sa.Connection, query: sa.Select[Any]) -> tuple[tuple[Any, ...], ...]:
    """The query's rows as plain tuples, as the driver gives them (no row objects)."""
    return tuple(conn.execute(query).cursor.fetchall())


def chart_series(
    conn: sa.Connection,
    experiment_id: int,
    metric: str,
    *,
    x_param: str | None = None,
    x_metric: str | None = None,
    every: int = 1,
    also: int | None = None,
) -> ChartSeries:
    # Covering-index range scans keyed by run number, no join per run and no run ids:
    # 100,000 points cost tens of milliseconds.
    s, p = t.metric_summaries, t.params

    def sampled(number: sa.ColumnElement[int]) -> sa.ColumnElement[bool]:
        if every <= 1:
            return sa.true()
        return sa.or_(number % every == 0, number == (also if also is not None else -1))

    which = sa.and_(s.c.name == metric, sampled(s.c.number))
    numbers, y = _by_number(conn, which, experiment_id)
    x: tuple[float | None, ...] = ()
    if x_metric is not None:
        other = sa.and_(s.c.name == x_metric, sampled(s.c.number))
        x = _aligned(numbers, *_by_number(conn, other, experiment_id))
    elif x_param is not None:
        x_numbers, values = _column(
            conn,
            sa.select(p.c.number, p.c.value_num)
            .where(p.c.experiment_id == experiment_id, p.c.key == x_param)
            .where(sampled(p.c.number))
            .order_by(p.c.number),
        )
        x = _aligned(numbers, x_numbers, values)
    return ChartSeries(numbers, y, x)


def _by_number(
    conn: sa.Connection, which: sa.ColumnElement[bool], experiment_id: int
) -> tuple[tuple[int, ...], tuple[float, ...]]:
    """A metric's last values (NaN and infinities included) with their run numbers."""
    s = t.metric_summaries
    query = (
        sa.select(s.c.number, s.c.last, s.c.last_special)
        .where(s.c.experiment_id == experiment_id, which)
        .order_by(s.c.number)
    )
    columns = _column(conn, query, width=3)
    y = tuple(v if sp is None else float(sp) for v, sp in zip(columns[1], columns[2], strict=True))
    return columns[0], y


def _column(
    conn: sa.Connection, query: sa.Select[Any], *, width: int = 2
) -> tuple[tuple[Any, ...], ...]:
    """The query's result as columns. Only for ints, floats and text: the driver's rows
    are read as they come, as SQLAlchemy's row objects would double the cost."""
    rows = conn.execute(query).cursor.fetchall()
    return tuple(zip(*rows, strict=True)) if rows else ((),) * width


def _aligned(
    numbers: tuple[int, ...], x_numbers: tuple[int, ...], values: tuple[Any, ...]
) -> tuple[float | None, ...]:
    """`values` (keyed by `x_numbers`) in the order of `numbers`, None where missing."""
    if x_numbers == numbers:
        return tuple(values)
    by_number = dict(zip(x_numbers, values, strict=True))
    return tuple(by_number.get(n) for n in numbers)
