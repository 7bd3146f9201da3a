"""Claims with a lease and a small key-value table: the SQL behind `SqlRecordStore`'s
`claim`, `renew_claim`, `release_claim`, `get_claim`, `set_value` and `get_value`.

Each function takes a connection inside the store's transaction. Leases are given and
judged by the database's clock (`statements.database_now`), so a process whose own clock is
off neither takes a held key nor keeps one that lapsed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from tracking.errors import ValidationError
from tracking.records import ClaimRecord
from tracking.stores import schema as t
from tracking.stores import values
from tracking.stores.rows import aware
from tracking.stores.statements import database_now

_c, _kv = t.claims, t.kv
MAX_NAMESPACE = 64
_INSERTS: dict[str, Callable[[sa.Table], Any]] = {
    "postgresql": postgresql.insert,
    "sqlite": sqlite.insert,
}


def check_claim(key: str, holder: str | None = None, lease_s: float | None = None) -> None:
    """Check a claim's key, holder and lease before any write.

    Raises:
        ValidationError: naming the value and what is accepted.
    """
    values.check_text("claim key", key, limit=values.MAX_NAME)
    if holder is not None:
        values.check_text("claim holder", holder)
    if lease_s is not None and not (
        isinstance(lease_s, (int, float)) and math.isfinite(lease_s) and lease_s > 0
    ):
        raise ValidationError(
            f"lease {lease_s!r} is not accepted: use a finite number of seconds above 0"
        )


def check_entry(namespace: str, key: str, value: str | None = None) -> None:
    """Check a key-value entry's namespace, key and value before any write."""
    values.check_text("namespace", namespace, limit=MAX_NAMESPACE)
    values.check_text("key", key, limit=values.MAX_NAME)
    if value is not None:
        if not isinstance(value, str):
            raise ValidationError(f"value {value!r} of key {key!r} is not accepted: use text")
        values.check_text(f"value of key {key!r}", value)


def _record(row: sa.Row[Any] | None) -> ClaimRecord | None:
    if row is None:
        return None
    return ClaimRecord(row.key, row.holder, aware(row.lease_until), aware(row.acquired_at))  # type: ignore[arg-type]


def claim(conn: sa.Connection, key: str, holder: str, lease_s: float) -> ClaimRecord | None:
    """Take `key` for `holder` if it is free, its lease ran out or `holder` has it; else None."""
    now = database_now(conn)
    insert = _INSERTS[conn.dialect.name](_c)
    ours = _c.c.holder == insert.excluded.holder
    until = now + timedelta(seconds=lease_s)
    statement = (
        insert.values(key=key, holder=holder, lease_until=until, acquired_at=now)
        .on_conflict_do_update(
            index_elements=[_c.c.key],
            set_={
                "holder": insert.excluded.holder,
                "lease_until": insert.excluded.lease_until,
                "acquired_at": sa.case((ours, _c.c.acquired_at), else_=insert.excluded.acquired_at),
            },
            # One statement: of two processes that claim at once, one takes the key.
            where=sa.or_(_c.c.lease_until < now, ours),
        )
        .returning(*_c.c)
    )
    return _record(conn.execute(statement).first())


def renew_claim(conn: sa.Connection, key: str, holder: str, lease_s: float) -> bool:
    """Extend `holder`'s lease on `key`; False if it holds it no more (a lapsed lease that
    no one took over is still its own)."""
    now = database_now(conn)
    renewed = conn.execute(
        sa.update(_c)
        .where(_c.c.key == key, _c.c.holder == holder)
        .values(lease_until=now + timedelta(seconds=lease_s))
    )
    return renewed.rowcount == 1


def release_claim(conn: sa.Connection, key: str, holder: str) -> None:
    """Free `key` if `holder` holds it."""
    conn.execute(sa.delete(_c).where(_c.c.key == key, _c.c.holder == holder))


def get_claim(conn: sa.Connection, key: str) -> ClaimRecord | None:
    """The claim on `key`, lapsed or not; None if there is none."""
    return _record(conn.execute(sa.select(_c).where(_c.c.key == key)).first())


def set_value(conn: sa.Connection, namespace: str, key: str, value: str) -> None:
    """Set `namespace`/`key` to `value`, replacing what it held."""
    insert = _INSERTS[conn.dialect.name](_kv)
    conn.execute(
        insert.values(
            namespace=namespace, key=key, value=value, updated_at=database_now(conn)
        ).on_conflict_do_update(
            index_elements=[_kv.c.namespace, _kv.c.key],
            set_={"value": insert.excluded.value, "updated_at": insert.excluded.updated_at},
        )
    )


def get_value(conn: sa.Connection, namespace: str, key: str) -> str | None:
    """The value of `namespace`/`key`, or None."""
    return conn.execute(
        sa.select(_kv.c.value).where(_kv.c.namespace == namespace, _kv.c.key == key)
    ).scalar_one_or_none()
