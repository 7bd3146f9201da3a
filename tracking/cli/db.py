"""`python -m tracking db upgrade | current | history`: the record database's schema."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from tracking.cli import EXIT_OK, CliExit, add_config
from tracking.config import WorkspaceConfig, redact, resolve_config


def add_commands(commands: Any) -> None:
    db = commands.add_parser(
        "db",
        help="the record database's schema: upgrade it, show its version and history",
        description="The schema of the workspace's record database. Opening a SQLite "
        "workspace upgrades it by itself (after a copy to records.db.bak-<version>); a "
        "PostgreSQL workspace is upgraded only by 'db upgrade'. A downgrade is not promised.",
    )
    actions = db.add_subparsers(dest="action", metavar="ACTION", parser_class=type(db))
    actions.required = True
    upgrade = actions.add_parser(
        "upgrade",
        help="bring the database to this release's schema",
        description="Run the migrations from the database's schema version to this "
        "release's, in one transaction under the schema lock (two at once upgrade once). "
        "Back a PostgreSQL database up first (pg_dump): a downgrade is not promised.",
    )
    current = actions.add_parser("current", help="the database's schema version")
    history = actions.add_parser("history", help="every schema version and what it changed")
    for parser in (upgrade, current, history):
        add_config(parser)
    upgrade.set_defaults(run=_upgrade)
    current.set_defaults(run=_current)
    history.set_defaults(run=_history)


def _engine(config: WorkspaceConfig, *, must_exist: bool) -> Any:
    import sqlalchemy as sa

    from tracking.stores.engine import create_engine, sqlite_path

    if must_exist and config.tracking_uri.startswith("sqlite:"):
        path = sqlite_path(sa.make_url(config.tracking_uri), config.base_dir)
        if not path.is_file():  # say so, rather than create an empty database to read
            raise CliExit(f"python -m tracking db: there is no tracking database at {path}")
    return create_engine(config.tracking_uri, base_dir=config.base_dir)


def _storage_root(config: WorkspaceConfig) -> str:
    """The workspace's storage root URI (nothing is read from the storage itself)."""
    from tracking.artifacts import open_artifact_store

    return open_artifact_store(
        config.storage_uri, base_dir=config.base_dir, s3_endpoint_url=config.s3_endpoint_url
    ).root_uri


def _upgrade(args: argparse.Namespace, out: TextIO) -> int:
    from tracking.stores.engine import upgrade_schema

    config = resolve_config(args.config)
    engine = _engine(config, must_exist=False)
    url = redact(engine.url.render_as_string(hide_password=True))
    try:
        result = upgrade_schema(
            engine,
            on_step=lambda old, new: print(f"  {old} -> {new}", file=out, flush=True),
            storage_root=_storage_root(config),
        )
    finally:
        engine.dispose()
    if result.before is None:
        print(f"{url}: created at schema version {result.after}", file=out)
    elif result.before == result.after:
        print(f"{url}: already at schema version {result.after}; nothing to do", file=out)
    else:
        kept = f"; the old file is kept as {result.backup}" if result.backup else ""
        print(
            f"{url}: upgraded from schema version {result.before} to {result.after}{kept}",
            file=out,
        )
    return EXIT_OK


def _current(args: argparse.Namespace, out: TextIO) -> int:
    from tracking.stores import migrate
    from tracking.stores.engine import read_schema_version

    engine = _engine(resolve_config(args.config), must_exist=True)
    try:
        version = read_schema_version(engine)
    finally:
        engine.dispose()
    url = redact(engine.url.render_as_string(hide_password=True))
    if version is None:
        print(f"{url}: no record tables yet (this release makes version {migrate.HEAD})", file=out)
        return EXIT_OK
    try:
        order = migrate.compare(version)
    except ValueError:
        order = 1
    state = {
        0: "current",
        -1: f"older than this release's {migrate.HEAD}: run 'python -m tracking db upgrade'",
        1: f"newer than this release's {migrate.HEAD}: upgrade raysweep",
    }[order]
    print(f"{url}: schema version {version} ({state})", file=out)
    return EXIT_OK


def _history(args: argparse.Namespace, out: TextIO) -> int:
    from tracking.stores import migrate

    for revision in migrate.history():
        head = "  (this release)" if revision.version == migrate.HEAD else ""
        print(f"{revision.version:>3}  {revision.summary}{head}", file=out)
    return EXIT_OK
