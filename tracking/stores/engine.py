"""SQLAlchemy engines for the record store, and safe creation of its schema."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy import exc as sa_exc

from tracking.errors import ConfigError, StorageError
from tracking.stores import schema

SQLITE_BUSY_TIMEOUT_S = 60
# Any constant will do: it names the lock that serialises schema creation on PostgreSQL.
_SCHEMA_LOCK_ID = 0x7261_7973  # "rays"


def create_engine(uri: str, *, base_dir: Path | None = None) -> sa.Engine:
    """An engine for a `sqlite:///path` or `postgresql://...` URI.

    A relative SQLite path resolves against `base_dir` (the folder of the workspace's
    config file), and its folder is created.
    """
    try:
        url = sa.make_url(uri)
    except sa_exc.ArgumentError:
        raise ConfigError(f"tracking URI {uri!r} is not a database URL") from None
    backend = url.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(url, base_dir)
    if backend == "postgresql":
        if url.drivername == "postgresql" and importlib.util.find_spec("psycopg"):
            url = url.set(drivername="postgresql+psycopg")
        try:
            return sa.create_engine(url, pool_pre_ping=True)
        except ModuleNotFoundError as err:
            raise ConfigError(
                f"tracking URI {url.render_as_string()!r} needs a PostgreSQL driver: "
                f"pip install 'raysweep[postgres]' ({err})"
            ) from None
    raise ConfigError(
        f"tracking URI {uri!r} has an unsupported scheme {url.drivername!r}: "
        "use sqlite:///path or postgresql://user@host/database"
    )


def _sqlite_engine(url: sa.URL, base_dir: Path | None) -> sa.Engine:
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        raise ConfigError(
            f"tracking URI {url.render_as_string()!r} names no database file: "
            "use sqlite:///path/to/records.db"
        )
    path = Path(database).expanduser()
    if not path.is_absolute():
        path = (base_dir or Path.cwd()) / path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise StorageError(
            f"cannot create the folder of the tracking database {path}: {err}"
        ) from None
    engine = sa.create_engine(
        url.set(database=str(path)), connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S}
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below issue BEGIN, not the sqlite3 module.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        # A write transaction takes the write lock at its start (waiting up to the busy
        # timeout), so it can never fail half-way with "database is locked" when upgrading.
        immediate = conn.get_execution_options().get("tracking_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def ensure_schema(engine: sa.Engine) -> None:
    """Create the tables if they are missing; safe when many processes do it at once."""
    writer = engine.execution_options(tracking_write=True)
    try:
        with writer.begin() as conn:
            if engine.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:id)"), {"id": _SCHEMA_LOCK_ID})
            schema.metadata.create_all(conn, checkfirst=True)
            version = conn.execute(
                sa.select(schema.meta.c.value).where(schema.meta.c.key == "schema_version")
            ).scalar_one_or_none()
            if version is None:
                conn.execute(
                    sa.insert(schema.meta).values(key="schema_version", value=schema.SCHEMA_VERSION)
                )
            elif version != schema.SCHEMA_VERSION:
                raise ConfigError(
                    f"the tracking database has schema version {version}; this release reads "
                    f"version {schema.SCHEMA_VERSION}"
                )
    except (sa_exc.OperationalError, sa_exc.InterfaceError) as err:
        url = engine.url.render_as_string(hide_password=True)
        raise StorageError(f"cannot open the tracking database {url}: {err.orig}") from None
