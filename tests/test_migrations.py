"""Schema upgrades: every past version's stored workspace upgrades with nothing lost.

Each `tests/schemas/vN/` holds a workspace recorded by the code of schema version N
(`tests/schemas/make.sh`): a SQLite file, and a pg_dump of the same content recorded into
PostgreSQL, each with what that code's facade read back (`expected.json`).
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from tests.pg_server import _binary
from tests.schemas.fixture import RUNNING_RUN, dump
from tracking import Workspace
from tracking.cli import main as cli
from tracking.errors import SchemaError
from tracking.stores import migrate, schema
from tracking.stores.engine import create_engine, read_schema_version, transaction

SCHEMAS = Path(__file__).parent / "schemas"
VERSIONS = sorted(int(p.name[1:]) for p in SCHEMAS.glob("v*") if p.is_dir())
NEVER_LOST = 10**9  # a heartbeat timeout that keeps the stored running run running


def test_every_schema_version_before_this_one_has_a_stored_workspace() -> None:
    """A version's workspace is stored when the next one replaces it (tests/schemas/make.sh)."""
    head = int(migrate.HEAD)
    assert set(range(1, head)) <= set(VERSIONS) <= set(range(1, head + 1))
    assert [r.version for r in migrate.history()] == [str(v) for v in range(1, head + 1)]


def _schema_diff(engine: sa.Engine) -> list[object]:
    with engine.connect() as conn:
        return list(compare_metadata(MigrationContext.configure(conn), schema.metadata))


def _expected(folder: Path, moved_to: Path | None = None) -> dict[str, Any]:
    """What the old code read back; with `moved_to`, its files' URIs under that storage.

    The stored workspaces were made at /tmp/raysweep-schema-vN/<backend>/ and copied into
    the repository, so their records name files there. Since version 5 records keep files
    by their key under the storage root: a workspace that moved reads them where it is now.
    """
    text = (folder / "expected.json").read_text()
    old = re.search(r'"(file:///tmp/raysweep-schema-v\d+/\w+/storage)/', text)
    if moved_to is not None and old:
        text = text.replace(old.group(1), moved_to.as_uri())
    return dict(json.loads(text))


def _assert_files_download(ws: Workspace, tmp_path: Path) -> None:
    """Every recorded file of the moved workspace downloads, its SHA-256 checked."""
    downloaded = 0
    for experiment in ws.experiments.values():
        for run in experiment.get_runs():
            for record in run.get_files():
                target = run.download_file(record.name, tmp_path / f"download-{downloaded}")
                assert hashlib.sha256(target.read_bytes()).hexdigest() == record.sha256
                downloaded += 1
    assert downloaded == 6


def _sqlite_copy(version: int, tmp_path: Path) -> Path:
    folder = tmp_path / f"v{version}"
    shutil.copytree(SCHEMAS / f"v{version}" / "sqlite", folder)
    return folder


@pytest.mark.parametrize("version", VERSIONS)
def test_a_stored_sqlite_workspace_upgrades_on_open_with_nothing_lost(
    version: int, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = _sqlite_copy(version, tmp_path)
    uri = f"sqlite:///{folder / 'records.db'}"
    ws = Workspace(
        tracking_uri=uri, storage_uri=str(folder / "storage"), heartbeat_timeout_s=NEVER_LOST
    )
    assert dump(ws) == _expected(folder, moved_to=folder / "storage")
    _assert_files_download(ws, tmp_path)
    ws.close()
    engine = create_engine(uri)
    assert read_schema_version(engine) == migrate.HEAD
    assert _schema_diff(engine) == []
    backup = folder / f"records.db.bak-{version}"
    if version < int(migrate.HEAD):
        assert f"from schema version {version} to {migrate.HEAD}" in caplog.text
        assert read_schema_version(create_engine(f"sqlite:///{backup}")) == str(version)
    else:
        assert not backup.exists() and "upgraded" not in caplog.text


def test_an_upgraded_runs_process_is_judged_by_its_start(tmp_path: Path) -> None:
    """A run an older release left running is failed as lost once the timeout has passed."""
    folder = _sqlite_copy(1, tmp_path)
    ws = Workspace(
        tracking_uri=f"sqlite:///{folder / 'records.db'}",
        storage_uri=str(folder),
        heartbeat_timeout_s=1,
    )
    runs = _expected(folder)["diabetes-experiment"]["runs"]  # type: ignore[index]
    running = [r["id"] for r in runs if r["display_name"] == RUNNING_RUN]
    assert ws.lost_runs == tuple(running)
    assert ws.records.get_run(running[0]).status.value == "Failed"


def test_upgraded_chart_points_follow_run_numbers(tmp_path: Path) -> None:
    folder = _sqlite_copy(1, tmp_path)
    ws = Workspace(tracking_uri=f"sqlite:///{folder / 'records.db'}", storage_uri=str(folder))
    experiment = ws.records.get_experiment("diabetes-experiment")
    series = ws.records.chart_series(experiment.id, "rmse", x_param="alpha")
    runs = _expected(folder)["diabetes-experiment"]["runs"]  # type: ignore[index]
    by_number = {r["number"]: r for r in runs}
    assert list(series.numbers) == sorted(by_number)
    assert list(series.x) == [by_number[n]["params"].get("alpha") for n in series.numbers]


def _restore(dump_file: Path, url: str) -> None:
    subprocess.run(
        [_binary("psql"), "-q", "-v", "ON_ERROR_STOP=1", "-f", str(dump_file), url],
        check=True,
        capture_output=True,
    )


def _config(folder: Path, tracking_uri: str) -> Path:
    config = folder / "config.json"
    config.write_text(
        json.dumps(
            {
                "tracking_uri": tracking_uri,
                "storage_uri": str(folder / "storage"),
                "heartbeat_timeout_s": NEVER_LOST,
            }
        )
    )
    return config


@pytest.mark.parametrize("version", VERSIONS)
def test_a_stored_postgresql_workspace_upgrades_by_command_with_nothing_lost(
    version: int, pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stored = SCHEMAS / f"v{version}" / "postgres"
    _restore(stored / "postgres.sql", pg_url)
    shutil.copytree(stored / "storage", tmp_path / "storage")
    config = _config(tmp_path, pg_url)
    if version < int(migrate.HEAD):
        with pytest.raises(SchemaError) as refused:
            Workspace.from_config(config)
        message = str(refused.value)
        assert "\n" not in message and "python -m tracking db upgrade" in message
        assert f"schema version {version} and this release needs {migrate.HEAD}" in message
        assert read_schema_version(create_engine(pg_url)) == str(version)  # left alone
    assert cli(["db", "upgrade", "--config", str(config)]) == 0
    said = capsys.readouterr().out
    if version < int(migrate.HEAD):
        assert f"upgraded from schema version {version} to {migrate.HEAD}" in said
    else:
        assert "nothing to do" in said
    ws = Workspace.from_config(config)
    assert dump(ws) == _expected(stored, moved_to=tmp_path / "storage")
    _assert_files_download(ws, tmp_path)
    assert _schema_diff(create_engine(pg_url)) == []


def test_the_migrations_from_an_empty_database_make_this_releases_schema(
    tracking_uri: str, tmp_path: Path
) -> None:
    uri = tracking_uri
    engine = create_engine(uri)
    with transaction(engine, write=True) as conn:
        assert migrate.upgrade(conn) == (None, migrate.HEAD)
    assert _schema_diff(engine) == []
    assert Workspace(tracking_uri=uri, storage_uri=str(tmp_path)).experiments == {}


def test_a_newer_schema_is_refused_with_both_versions(tracking_uri: str, tmp_path: Path) -> None:
    uri = tracking_uri
    Workspace(tracking_uri=uri, storage_uri=str(tmp_path)).close()
    engine = create_engine(uri)
    with transaction(engine, write=True) as conn:
        conn.execute(sa.update(schema.meta).values(value="99"))
    with pytest.raises(SchemaError) as refused:
        Workspace(tracking_uri=uri, storage_uri=str(tmp_path))
    message = str(refused.value)
    assert "\n" not in message
    assert f"schema version 99, newer than this release's {migrate.HEAD}" in message
    assert "pip install -U raysweep" in message
    config = _config(tmp_path, uri)
    assert cli(["db", "upgrade", "--config", str(config)]) == 2


def test_tables_without_a_schema_version_are_not_adopted(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path}/foreign.db"
    with transaction(create_engine(uri), write=True) as conn:
        conn.execute(sa.text("CREATE TABLE runs (run_id TEXT PRIMARY KEY)"))
    with pytest.raises(SchemaError, match="has table.s. runs but no schema version"):
        Workspace(tracking_uri=uri, storage_uri=str(tmp_path))


def test_a_failed_upgrade_leaves_the_database_as_it_was(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The migrations run in one transaction: a row they cannot carry over stops them all."""
    folder = _sqlite_copy(1, tmp_path)
    uri = f"sqlite:///{folder / 'records.db'}"
    with closing(sqlite3.connect(folder / "records.db")) as db:  # a summary of a run that
        db.execute(  # is gone: version 2 cannot give it its run's number
            "INSERT INTO metric_summaries VALUES ('gone', 'rmse', 1, 1.0, NULL, 1.0, 1.0, 1)"
        )
        db.commit()
        summaries = db.execute("SELECT * FROM metric_summaries ORDER BY run_id, name").fetchall()
    assert cli(["db", "upgrade", "--config", str(_config(folder, uri))]) == 1
    said = capsys.readouterr().err
    assert said.count("\n") == 1 and "which is left as it was" in said
    assert "NOT NULL constraint failed" in said
    assert read_schema_version(create_engine(uri)) == "1"
    assert not list(folder.glob("records.db.bak-*"))
    with closing(sqlite3.connect(folder / "records.db")) as db:
        after = db.execute("SELECT * FROM metric_summaries ORDER BY run_id, name").fetchall()
    assert after == summaries


_UPGRADE = """
import sys
from tracking.cli import main
sys.exit(main(["db", "upgrade", "--config", sys.argv[1]]))
"""


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_two_processes_upgrading_at_once_upgrade_once(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if backend == "sqlite":
        folder = _sqlite_copy(1, tmp_path)
        uri = f"sqlite:///{folder / 'records.db'}"
        expected = _expected(folder, moved_to=folder / "storage")
    else:
        uri = request.getfixturevalue("pg_url")
        _restore(SCHEMAS / "v1" / "postgres" / "postgres.sql", uri)
        folder = tmp_path
        shutil.copytree(SCHEMAS / "v1" / "postgres" / "storage", folder / "storage")
        expected = _expected(SCHEMAS / "v1" / "postgres", moved_to=folder / "storage")
    config = _config(folder, uri)
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _UPGRADE, str(config)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = [p.communicate(timeout=120) for p in processes]
    assert [p.returncode for p in processes] == [0, 0], results
    said = "".join(out for out, _ in results)
    assert said.count("upgraded from schema version 1") == 1, said
    assert said.count("already at schema version") == 1, said
    assert sorted(p.name for p in folder.glob("records.db.bak-*")) == (
        ["records.db.bak-1"] if backend == "sqlite" else []
    )
    ws = Workspace(
        tracking_uri=uri, storage_uri=str(folder / "storage"), heartbeat_timeout_s=NEVER_LOST
    )
    assert dump(ws) == expected
    _assert_files_download(ws, tmp_path)
