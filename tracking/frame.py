"""`Experiment.to_dataframe`'s table: a store's `RunTable` laid out in MLflow's columns,
one column at a time (no pivot, no join)."""

from __future__ import annotations

import math
from itertools import groupby
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from tracking.records import RunTable

if TYPE_CHECKING:
    import pandas as pd

RUN_COLUMNS = ("run_id", "number", "status", "start_time", "end_time", "parent_run_id", "type")


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
    for prefix, triples, keys in (
        ("params", table.params, own["number"]),
        ("metrics", table.metrics, own["number"]),
        ("tags", table.tags, own["run_id"]),
        ("properties", table.properties, own["run_id"]),
    ):
        wide = _wide(triples, keys)
        columns.update((f"{prefix}.{name}", wide[name]) for name in sorted(wide))
    return pd.DataFrame(columns)


def _wide(triples: tuple[tuple[Any, str, Any], ...], keys: list[Any]) -> dict[str, list[Any]]:
    """{name: its value in each row, NaN where a run has none} from (key, name, value)
    triples, `keys` being the runs' keys in row order. A name whose triples are all the
    runs', in row order (as a store reads params and metrics), is a slice of the values;
    others are placed one value at a time."""
    their_keys, names, values = (list(map(itemgetter(i), triples)) for i in range(3))
    wide: dict[str, list[Any]] = {}
    rows: dict[Any, int] = {}
    end = 0
    for name, group in groupby(names):
        start, end = end, end + len(list(group))
        if name not in wide and their_keys[start:end] == keys:
            wide[name] = values[start:end]
            continue
        rows = rows or {key: row for row, key in enumerate(keys)}
        column = wide.setdefault(name, [math.nan] * len(keys))
        for key, value in zip(their_keys[start:end], values[start:end], strict=True):
            row = rows.get(key)
            if row is not None:  # None: a run written after the runs were read
                column[row] = value
    return wide


def _utc(times: list[Any]) -> Any:
    """The database's times in UTC: ISO text from SQLite (numpy parses it several times
    faster than pandas), datetimes from PostgreSQL."""
    import numpy as np
    import pandas as pd

    if isinstance(next((t for t in times if t is not None), None), str):
        return pd.to_datetime(np.array(times, dtype="datetime64[us]"), utc=True)  # naive UTC
    return pd.to_datetime(pd.Series(times, dtype=object), utc=True, format="ISO8601")
