"""`Experiment.to_dataframe`'s table: a store's `RunTable` laid out in MLflow's columns,
one column at a time (no pivot, no join)."""

from __future__ import annotations

import contextlib
import gc
import math
from collections.abc import Iterator, Sequence
from operator import attrgetter, itemgetter
from typing import TYPE_CHECKING, Any

from tracking.records import RunTable

if TYPE_CHECKING:
    import pandas as pd

RUN_COLUMNS = ("run_id", "number", "status", "start_time", "end_time", "parent_run_id", "type")


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for a bulk read: the rows of a large table
    are millions of fresh tuples of numbers and text, none in a cycle, which the collector
    would otherwise walk again and again as they are made (a quarter of the time of
    `to_dataframe` at 100,000 runs). Reference counting still frees what is dropped."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def run_frame(table: RunTable) -> pd.DataFrame:
    """One row per run, in the table's order: `RUN_COLUMNS`, then `params.<name>`,
    `metrics.<name>`, `tags.<name>` and `properties.<name>`, each group's names sorted,
    NaN where a run has no value."""
    import pandas as pd

    runs = table.runs
    own = {name: list(map(itemgetter(i), runs)) for i, name in enumerate(RUN_COLUMNS)}
    columns: dict[str, Any] = {
        name: _utc(values)
        if name.endswith("_time")
        else pd.Series(values, dtype=None if runs else object)  # object: as before, if empty
        for name, values in own.items()
    }
    numbers = own["number"]
    for prefix, table_columns in (("params", table.params), ("metrics", table.metrics)):
        columns.update(
            (f"{prefix}.{column.name}", pd.Series(_placed(column.numbers, column.values, numbers)))
            for column in sorted(table_columns, key=attrgetter("name"))
        )
    for prefix, triples in (("tags", table.tags), ("properties", table.properties)):
        wide: dict[str, tuple[list[str], list[str]]] = {}
        for run_id, name, value in triples:
            keys, values = wide.setdefault(name, ([], []))
            keys.append(run_id)
            values.append(value)
        columns.update(
            (f"{prefix}.{name}", _placed(*wide[name], own["run_id"])) for name in sorted(wide)
        )
    return pd.DataFrame(columns)


def _placed(keys: Sequence[Any], values: Sequence[Any], rows: list[Any]) -> Sequence[Any]:
    """A column's values in row order, NaN where a run has none, given the runs' keys in
    row order (`rows`) and each value's run key. A column that has every run's value in
    row order (as a store reads params and metrics) is its values as they are."""
    if len(keys) == len(rows) and list(keys) == rows:
        return values
    row_of = {key: row for row, key in enumerate(rows)}
    column: list[Any] = [math.nan] * len(rows)
    for key, value in zip(keys, values, strict=True):
        row = row_of.get(key)
        if row is not None:  # None: a run written after the runs were read
            column[row] = value
    return column


def _utc(times: list[Any]) -> Any:
    """The database's times in UTC: ISO text from SQLite (numpy parses it several times
    faster than pandas), datetimes from PostgreSQL."""
    import numpy as np
    import pandas as pd

    if isinstance(next((t for t in times if t is not None), None), str):
        return pd.to_datetime(np.array(times, dtype="datetime64[us]"), utc=True)  # naive UTC
    return pd.to_datetime(pd.Series(times, dtype=object), utc=True, format="ISO8601")
