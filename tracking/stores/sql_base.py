"""What the SQL record store's parts share: the engine, one short transaction, the
running-run check, and the experiments' column names."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from tracking.errors import NotFoundError, RunFinishedError
from tracking.records import RunStatus
from tracking.stores import schema as t
from tracking.stores import statements as st
from tracking.stores.engine import ensure_schema, transaction
from tracking.stores.errors import read_only, tracking_error


class SqlBase:
    """The engine and transactions of `SqlRecordStore` (see there)."""

    def __init__(self, engine: sa.Engine, *, storage_root: str | None = None) -> None:
        self._engine = engine
        # Reads made of several statements that must agree (one snapshot): SQLite's BEGIN
        # gives one already; PostgreSQL's default (READ COMMITTED) would not.
        self._snapshot = (
            engine.execution_options(isolation_level="REPEATABLE READ")
            if engine.dialect.name == "postgresql"
            else engine
        )
        self._known_columns: set[tuple[int, str, str]] = set()
        ensure_schema(engine, storage_root=storage_root)

    def close(self) -> None:
        self._engine.dispose()

    @property
    def read_only(self) -> bool:
        return bool(self._engine.get_execution_options().get("tracking_read_only"))

    @contextmanager
    def _tx(self, *, write: bool, snapshot: bool = False) -> Iterator[sa.Connection]:
        """One short transaction (for reads, with `snapshot`, every statement sees the
        same committed state); database failures become `tracking` errors
        (`tracking.stores.errors`), a write to a read-only database one at once."""
        if write and self.read_only:
            raise read_only(str(self._engine.url.database))
        engine = self._snapshot if snapshot and not write else self._engine
        try:
            with transaction(engine, write=write) as conn:
                yield conn
        except sa_exc.DBAPIError as err:
            raise tracking_error(err, self._engine) from None

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

    def _running_run(
        self, conn: sa.Connection, run_id: str, *, must_run: bool = True
    ) -> tuple[int, int]:
        """Lock the run's row; return its experiment id and number, checking it is running."""
        row = conn.execute(st.RUN_STATE, {"b_run_id": run_id}).first()
        if row is None:
            raise NotFoundError(f"no run with id {run_id!r} in this workspace")
        if must_run and row.status == RunStatus.QUEUED.value:
            raise RunFinishedError(f"run {run_id!r} is queued: it takes values once it runs")
        if must_run and row.status != RunStatus.RUNNING.value:
            raise RunFinishedError(f"run {run_id!r} has already finished ({row.status})")
        return int(row.experiment_id), int(row.number)
