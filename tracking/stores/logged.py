"""Values a run logs that are not numbers (the `run_values` table): text and booleans,
rows, tables, images and list markers. Numbers live in `metrics`; see `LoggedValue`."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from tracking.errors import ValidationError
from tracking.names import check_run_id
from tracking.records import LoggedValue
from tracking.stores import schema as t
from tracking.stores.rows import aware
from tracking.stores.values import MAX_NAME, check_text

KINDS = ("text", "row", "table", "image", "list")
MAX_VALUE = 1_000_000  # characters of JSON per value: a table of a few thousand rows


def _no_special_floats(value: Any, name: str) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise ValidationError(f"value of {name!r} holds {value}: JSON has no such number")
    if isinstance(value, dict):
        for item in value.values():
            _no_special_floats(item, name)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _no_special_floats(item, name)


def rows_of(run_id: str, values: Sequence[LoggedValue]) -> list[tuple[str, str, str]]:
    """(name, kind, JSON) for each value, checked.

    Raises:
        ValidationError: a name, kind or value is not accepted.
    """
    check_run_id(run_id)
    rows = []
    for value in values:
        check_text("metric name", value.name, limit=MAX_NAME)
        if value.kind not in KINDS:
            raise ValidationError(
                f"kind {value.kind!r} of {value.name!r} is not accepted: use one of "
                f"{', '.join(KINDS)}"
            )
        _no_special_floats(value.value, value.name)
        try:
            text = json.dumps(value.value, allow_nan=False)
        except (TypeError, ValueError) as err:
            raise ValidationError(
                f"value of {value.name!r} is not accepted: it must be JSON ({err})"
            ) from None
        check_text(f"value of {value.name!r}", text, limit=MAX_VALUE)
        rows.append((value.name, value.kind, text))
    return rows


def append(
    conn: sa.Connection, run_id: str, rows: Sequence[tuple[str, str, str]], at: datetime
) -> None:
    """Insert `rows`, each at the next step of its name."""
    if not rows:
        return
    v = t.run_values
    names = sorted({name for name, _, _ in rows})
    steps = dict(
        conn.execute(
            sa.select(v.c.name, sa.func.max(v.c.step))
            .where(v.c.run_id == run_id, v.c.name.in_(names))
            .group_by(v.c.name)
        ).all()
    )
    inserts = []
    for name, kind, text in rows:
        step = steps.get(name, -1) + 1
        steps[name] = step
        inserts.append(
            {
                "run_id": run_id,
                "name": name,
                "step": step,
                "kind": kind,
                "value_json": text,
                "timestamp": at,
            }
        )
    conn.execute(sa.insert(v), inserts)


def read(conn: sa.Connection, run_id: str) -> list[LoggedValue]:
    v = t.run_values
    rows = conn.execute(
        sa.select(v.c.name, v.c.kind, v.c.value_json, v.c.step, v.c.timestamp)
        .where(v.c.run_id == run_id)
        .order_by(v.c.name, v.c.step)
    ).all()
    return [
        LoggedValue(name, kind, json.loads(text), step, aware(at))
        for name, kind, text, step, at in rows
    ]
