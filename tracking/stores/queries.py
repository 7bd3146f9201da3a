"""The sorted, filtered, paginated runs-table query, answered through indexes.

Sorting by a metric or a param reads the summary (or params) index in order, so the first
page of 100,000 runs costs the same as the first page of 10. Runs that lack the value (or
whose last value is not finite) follow, by run number.
"""

from __future__ import annotations

import sqlalchemy as sa

from tracking.records import RunOrder, RunStatus
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


def page_of_run_ids(
    conn: sa.Connection,
    experiment_id: int,
    order: RunOrder,
    status: RunStatus | None,
    limit: int,
    offset: int,
) -> tuple[int, list[str]]:
    """Return (number of matching runs, the run ids of the requested page in order)."""
    runs = t.runs
    where = [runs.c.experiment_id == experiment_id]
    if status is not None:
        where.append(runs.c.status == status.value)
    total = conn.execute(sa.select(sa.func.count()).select_from(runs).where(*where)).scalar_one()
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
    if status is not None:
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
