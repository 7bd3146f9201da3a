"""SQLAlchemy engines for the record store, and safe creation of its schema."""

from __future__ import annotations

import importlib.util
import logging
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy import exc as sa_exc

from tracking.config import redact
from tracking.errors import ConfigError, SchemaError, StorageError
from tracking.stores import migrate, schema
from tracking.stores.errors import read_only, tracking_error

SQLITE_BUSY_TIMEOUT_S = 60
# Any constant will do: it names the lock that serialises schema creation on PostgreSQL.
_SCHEMA_LOCK_ID = 0x7261_7973  # "rays"
log = logging.getLogger(__name__)


def create_engine(uri: str, *, base_dir: Path | None = None, read_only: bool = False) -> sa.Engine:
    """An engine for a `sqlite:///path` or `postgresql://...` URI.

    The URI's scheme is checked against the record store's one table
    (`tracking.stores.BACKENDS`); what follows is set up by SQLAlchemy dialect. A relative
    SQLite path resolves against `base_dir` (the folder of the workspace's config file), and
    its folder is created. A SQLite file that cannot be written, or whose folder cannot (a
    read-only mount), is opened read-only (see `_read_only_args`).

    Args:
        read_only: mark the engine for reading only (`tracking_read_only`): the store
            refuses writes at once and `ensure_schema` never upgrades it.

    Raises:
        ConfigError: the scheme has no backend (the message lists those that do), the URI
            is not a database URL, or its driver is not installed.
        StorageError: the folder of a SQLite file cannot be made.
    """
    from tracking.stores import scheme_of, unsupported_scheme

    scheme_of(uri)
    try:
        url = sa.make_url(uri)
    except sa_exc.ArgumentError:
        raise ConfigError(f"tracking URI {redact(uri)!r} is not a database URL") from None
    if url.drivername.split("+")[0] == "postgres":  # the spelling many tools print
        url = url.set(drivername=url.drivername.replace("postgres", "postgresql", 1))
    make = _ENGINES.get(url.get_backend_name())
    if make is None:  # a scheme of the table that no dialect here sets up
        raise unsupported_scheme(uri, url.get_backend_name())
    options = {"tracking_read_only": True} if read_only else {}
    return make(url, base_dir, options)


def _postgresql_engine(url: sa.URL, _base_dir: Path | None, options: dict[str, Any]) -> sa.Engine:
    if url.drivername == "postgresql" and importlib.util.find_spec("psycopg"):
        url = url.set(drivername="postgresql+psycopg")
    try:
        return sa.create_engine(url, pool_pre_ping=True, execution_options=options)
    except ModuleNotFoundError as err:
        raise ConfigError(
            f"tracking URI {url.render_as_string()!r} needs a PostgreSQL driver: "
            f"pip install 'raysweep[postgres]' ({err})"
        ) from None
    except sa_exc.NoSuchModuleError:
        raise ConfigError(
            f"tracking URI {url.render_as_string()!r} names a driver SQLAlchemy does not "
            "have: use postgresql:// (psycopg) or postgresql+<an installed driver>://"
        ) from None


def sqlite_path(url: sa.URL, base_dir: Path | None) -> Path:
    """The file a `sqlite:///path` URL names; a relative path resolves against `base_dir`.

    Raises:
        ConfigError: the URL names no file (an in-memory or URI-style database).
    """
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        raise ConfigError(
            f"tracking URI {url.render_as_string()!r} names no database file: "
            "use sqlite:///path/to/records.db"
        )
    path = Path(database).expanduser()
    return path if path.is_absolute() else (base_dir or Path.cwd()) / path


def _sqlite_engine(url: sa.URL, base_dir: Path | None, options: dict[str, Any]) -> sa.Engine:
    path = sqlite_path(url, base_dir)
    read_only = path.exists() and not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise StorageError(
            f"cannot create the folder of the tracking database {path}: {err}"
        ) from None
    engine = sa.create_engine(
        url.set(database=str(path)),
        **(
            _read_only_args(path)
            if read_only
            else {
                "connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_S},
                "execution_options": options,
            }
        ),
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Leave transactions to `transaction` (below), not to the sqlite3 module.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if not read_only:  # a read-only file keeps the journal mode it has (WAL, as made)
            _use_wal(cursor)
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
        cursor.close()

    return engine


def _use_wal(cursor: sqlite3.Cursor) -> None:
    """Put the database in WAL mode (a no-op once it is).

    Changing a file's journal mode needs it whole, and SQLite refuses at once, without its
    busy handler, when that could deadlock: of processes opening a new database together,
    some were told "database is locked" (9-11 of 800 here). A refusal is retried for up to
    the busy timeout.
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_S
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as err:
            if "database is locked" not in str(err) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


@contextmanager
def transaction(engine: sa.Engine, *, write: bool = False) -> Iterator[sa.Connection]:
    """One transaction on an engine of `create_engine`: committed when the block ends, rolled
    back when it raises.

    On SQLite, the sqlite3 module is kept out of transactions (`_sqlite_engine`) and BEGIN
    is issued here, on the driver's connection. A write transaction takes the write lock at
    its start (BEGIN IMMEDIATE, waiting up to the busy timeout), so it can never fail
    half-way with "database is locked" when upgrading. (An engine "begin" event would do
    the same, but any connection event makes SQLAlchemy dispatch events around every
    statement, about 0.15 ms of the 1.2 ms a tracked run's three transactions took.)
    """
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            driver = cast(sqlite3.Connection, conn.connection.driver_connection)  # checked out
            driver.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        yield conn


# SQLAlchemy dialect -> how its engine is made (the scheme was checked before).
_ENGINES: dict[str, Callable[[sa.URL, Path | None, dict[str, Any]], sa.Engine]] = {
    "sqlite": _sqlite_engine,
    "postgresql": _postgresql_engine,
}


def _read_only_args(path: Path) -> dict[str, Any]:
    """`create_engine` arguments that open a SQLite file read-only, for reading.

    SQLite reads a WAL database through its `-wal` and `-shm` files. While a writer has
    them open beside the file (someone who can write it), it shares them read-only; at
    rest there are none, and it cannot make them in a folder it cannot write, so it reads
    the file as immutable, which it is while no one writes it. Each transaction connects
    afresh (no pool) and so sees what was committed since, and which of the two applies.
    The engine's `tracking_read_only` option tells the store to refuse writes at once.
    """

    def connect() -> sqlite3.Connection:
        mode = "ro" if Path(f"{path}-wal").exists() else "ro&immutable=1"
        return sqlite3.connect(
            f"{path.as_uri()}?mode={mode}",
            uri=True,
            timeout=SQLITE_BUSY_TIMEOUT_S,
            check_same_thread=False,
        )

    return {
        "creator": connect,
        "poolclass": sa.pool.NullPool,
        "execution_options": {"tracking_read_only": True},
    }


def ensure_schema(engine: sa.Engine, *, storage_root: str | None = None) -> None:
    """Make the database ready for this release: create the tables, or upgrade an old SQLite.

    A database at this release's version costs one read. A new one gets its tables; a
    SQLite file of an older version is copied to `<file>.bak-<version>` and upgraded; an
    older PostgreSQL database is left alone (other clients may still run the release that
    wrote it) and refused with the command that upgrades it, as is an older SQLite file that
    is read-only or opened for reading (`create_engine(read_only=True)`). Creating and
    upgrading hold the schema lock (PostgreSQL's advisory lock, SQLite's write lock), so two
    processes do either once.

    Raises:
        SchemaError: the schema is newer than this release, or an older PostgreSQL or
            read-only one; or the SQLite file is damaged or not a database.
        StorageError: the database cannot be opened.
    """
    url = engine.url.render_as_string(hide_password=True)
    read_only = bool(engine.get_execution_options().get("tracking_read_only"))
    in_place = engine.dialect.name == "sqlite" and not read_only  # may upgrade here
    try:
        with engine.connect() as conn:
            version = migrate.read_version(conn)
        if version is not None and _check(version, url, allow_upgrade=in_place) == 0:
            return
        result = _upgrade_locked(engine, url, allow=in_place, storage_root=storage_root)
    except sa_exc.DBAPIError as err:
        raise tracking_error(
            err, engine, failed=f"cannot open the tracking database {url}"
        ) from None
    if result.before is not None and result.before != result.after:
        log.warning(
            "upgraded the tracking database %s from schema version %s to %s; the old file "
            "is kept as %s",
            url,
            result.before,
            result.after,
            result.backup,
        )


@dataclass(frozen=True)
class Upgrade:
    """What `upgrade_schema` did: the versions before (None: a new database) and after."""

    before: str | None
    after: str
    backup: Path | None = None  # the copy of a SQLite file taken first


def upgrade_schema(
    engine: sa.Engine,
    *,
    on_step: Callable[[str, str], None] | None = None,
    storage_root: str | None = None,
) -> Upgrade:
    """Bring the database to this release's schema: create it, or run the migrations.

    A SQLite file is first copied to `<file>.bak-<version>`; PostgreSQL is upgraded in one
    transaction (back it up with pg_dump first: a downgrade is not promised).
    `storage_root` is the workspace's storage root URI, which some migrations use.

    Raises:
        SchemaError: the schema is newer than this release's.
        StorageError: the database cannot be opened or written.
    """
    url = engine.url.render_as_string(hide_password=True)
    try:
        return _upgrade_locked(engine, url, allow=True, on_step=on_step, storage_root=storage_root)
    except sa_exc.DBAPIError as err:
        failed = f"cannot upgrade the tracking database {url}, which is left as it was"
        raise tracking_error(err, engine, failed=failed) from None


def read_schema_version(engine: sa.Engine) -> str | None:
    """The database's schema version (None: it has no record tables yet).

    Raises:
        StorageError: the database cannot be read.
    """
    try:
        with engine.connect() as conn:
            return migrate.read_version(conn)
    except sa_exc.DBAPIError as err:
        url = engine.url.render_as_string(hide_password=True)
        raise tracking_error(
            err, engine, failed=f"cannot read the tracking database {url}"
        ) from None


def _upgrade_locked(
    engine: sa.Engine,
    url: str,
    *,
    allow: bool,
    on_step: Callable[[str, str], None] | None = None,
    storage_root: str | None = None,
) -> Upgrade:
    """Create or upgrade under the schema lock; `allow=False` refuses to upgrade."""
    with transaction(engine, write=True) as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:id)"), {"id": _SCHEMA_LOCK_ID})
        version = migrate.read_version(conn)  # again: another process may have been first
        if version is None:
            _create(conn, url)
            return Upgrade(None, migrate.HEAD)
        order = _check(version, url, allow_upgrade=allow)
        if order == 0:
            return Upgrade(version, version)
        if engine.get_execution_options().get("tracking_read_only"):
            raise read_only(str(engine.url.database))
        backup = _backup_sqlite(engine, version) if engine.dialect.name == "sqlite" else None
        try:
            migrate.upgrade(conn, on_step=on_step, storage_root=storage_root)
        except BaseException:
            if backup is not None:  # the transaction rolls back: nothing to keep a copy of
                backup.unlink()
            raise
        return Upgrade(version, migrate.HEAD, backup)


def _create(conn: sa.Connection, url: str) -> None:
    """Make this release's tables in an empty database (all at once, not by migrations)."""
    inspector = sa.inspect(conn)
    ours = [name for name in schema.metadata.tables if inspector.has_table(name)]
    if ours:
        raise SchemaError(
            f"the tracking database {url} has table(s) {', '.join(ours)} but no schema "
            "version: it is not a raysweep workspace, or a damaged one"
        )
    schema.metadata.create_all(conn)
    conn.execute(sa.insert(schema.meta).values(key="schema_version", value=migrate.HEAD))


def _check(version: str, url: str, *, allow_upgrade: bool) -> int:
    """`migrate.compare(version)`, refusing a newer schema, and an older one unless allowed."""
    try:
        order = migrate.compare(version)
    except ValueError:
        raise SchemaError(
            f"the tracking database {url} has schema version {version!r}, which no release "
            "of raysweep wrote"
        ) from None
    if order > 0:
        raise SchemaError(
            f"the tracking database {url} has schema version {version}, newer than this "
            f"release's {migrate.HEAD}: upgrade raysweep (pip install -U raysweep)"
        )
    if order < 0 and not allow_upgrade:
        raise SchemaError(
            f"the tracking database {url} has schema version {version} and this release "
            f"needs {migrate.HEAD}: run 'python -m tracking db upgrade' with the workspace's "
            "config (see README, Upgrading)"
        )
    return order


def _backup_sqlite(engine: sa.Engine, version: str) -> Path:
    """Copy the SQLite file, as of its last commit, to `<file>.bak-<version>` (or -2, -3 ...)."""
    path = Path(str(engine.url.database))
    target = path.with_name(f"{path.name}.bak-{version}")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}.bak-{version}-{n}")
    # A second connection reads the last committed state while this process holds the
    # write lock (WAL mode lets readers through), so the copy is consistent.
    with closing(sqlite3.connect(path)) as source, closing(sqlite3.connect(target)) as copy:
        source.backup(copy)
    return target
