"""How a workspace opens, for writing or for reading, and closes; how its backends are
chosen by URI scheme; and what one poll of the portal's chart reads."""

from __future__ import annotations

import hashlib
import pickle
import shutil
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from tracking import Experiment, Workspace
from tracking.artifacts import open_artifact_store
from tracking.errors import ConfigError, SchemaError, StorageError
from tracking.portal import create_app
from tracking.records import RunStatus
from tracking.stores import open_record_store
from tracking.stores.engine import create_engine
from tracking.stores.sql import SqlRecordStore

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

SCHEMAS = Path(__file__).parent / "schemas"


def _workspace(folder: Path, **kwargs: object) -> Workspace:
    return Workspace(
        "w",
        tracking_uri=f"sqlite:///{folder / 'records.db'}",
        storage_uri=str(folder / "storage"),
        **kwargs,  # type: ignore[arg-type]
    )


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- backends by scheme -------------------------------------------------------------------


@pytest.mark.parametrize("uri", ["mysql://u@h/db", "mongodb://h/db", "gs://bucket/records"])
def test_an_unknown_tracking_scheme_is_one_error_listing_the_schemes(uri: str) -> None:
    said = set()
    for open_ in (
        lambda: open_record_store(uri),
        lambda: create_engine(uri),  # `python -m tracking db` opens engines directly
        lambda: Workspace(tracking_uri=uri, storage_uri="unused"),
    ):
        with pytest.raises(ConfigError) as caught:
            open_()
        said.add(str(caught.value))
    (message,) = said  # the same words, whichever way in
    assert "unsupported scheme" in message
    for scheme in ("sqlite://", "postgresql://", "postgres://"):
        assert scheme in message


@pytest.mark.parametrize("uri", ["gs://bucket/prefix", "azure://container/x", "http://h/x"])
def test_an_unknown_storage_scheme_is_one_error_listing_the_schemes(
    uri: str, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError) as direct:
        open_artifact_store(uri)
    with pytest.raises(ConfigError) as through:
        Workspace(tracking_uri=f"sqlite:///{tmp_path / 'r.db'}", storage_uri=uri)
    assert str(direct.value) == str(through.value)
    assert "unsupported scheme" in str(direct.value)
    for scheme in ("a folder path", "file://", "s3://"):
        assert scheme in str(direct.value)


def test_folder_paths_and_file_uris_open_the_same_folder(tmp_path: Path) -> None:
    roots = {
        open_artifact_store(str(tmp_path / "s")).root_uri,
        open_artifact_store((tmp_path / "s").as_uri()).root_uri,
        open_artifact_store("s", base_dir=tmp_path).root_uri,
    }
    assert roots == {(tmp_path / "s").as_uri()}


# -- opening at once, and closing ------------------------------------------------------------


def test_a_workspace_opens_its_stores_at_once_as_its_docstring_says(tmp_path: Path) -> None:
    assert "open the stores at once" in " ".join((Workspace.__doc__ or "").split())
    assert "on first use" not in (Workspace._bind.__doc__ or "")
    _workspace(tmp_path)
    assert (tmp_path / "records.db").is_file()  # made by the constructor, before any use
    with pytest.raises(SchemaError):
        (tmp_path / "junk.db").write_bytes(b"not a database" * 100)
        Workspace(tracking_uri=f"sqlite:///{tmp_path / 'junk.db'}", storage_uri="s")


def test_a_closed_workspace_refuses_use_rather_than_reopening(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    Experiment(ws, "e")
    ws.close()
    ws.close()  # closing again does nothing
    for use in (
        lambda: ws.records,
        lambda: ws.artifacts,
        lambda: ws.experiments,
        lambda: Experiment(ws, "e"),
        lambda: ws.heartbeat,
    ):
        with pytest.raises(StorageError, match="'w' is closed"):
            use()
    assert ws.name == "w"  # what the config says still reads


def test_a_pickled_copy_opens_on_first_use_and_keeps_the_mode(tmp_path: Path) -> None:
    _workspace(tmp_path).close()
    reader = _workspace(tmp_path, read_only=True)
    copy = pickle.loads(pickle.dumps(reader))
    assert copy._records is None
    assert copy.read_only and copy.records.read_only
    again = copy.with_storage(str(tmp_path / "other"))
    assert again.read_only
    for ws in (reader, copy, again):
        ws.close()


# -- opening for reading ----------------------------------------------------------------------


@pytest.fixture
def lost(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A workspace whose one run is `Running` with no heartbeat for over its timeout."""
    ws = _workspace(tmp_path, heartbeat_timeout_s=1)
    experiment = ws.records.get_or_create_experiment("e")
    run = ws.records.create_run(experiment.id, "the-lost-run")
    ws.close()
    time.sleep(2.5)  # past the 1 s timeout: a writer opening now fails the run
    yield tmp_path, run.run_id


def test_a_reader_leaves_a_lost_run_running_and_writes_nothing(
    lost: tuple[Path, str],
) -> None:
    folder, run_id = lost
    before = _digest(folder / "records.db")
    reader = _workspace(folder, heartbeat_timeout_s=1, read_only=True)
    assert reader.lost_runs == ()
    assert reader.read_only
    assert reader.records.get_run(run_id).status is RunStatus.RUNNING
    assert [s.experiment.name for s in reader.records.list_experiments()] == ["e"]
    with pytest.raises(StorageError, match="read-only"):
        Experiment(reader, "new")
    with pytest.raises(StorageError, match="read-only"):
        reader.fail_lost_runs()
    reader.close()
    assert _digest(folder / "records.db") == before

    writer = _workspace(folder, heartbeat_timeout_s=1)
    assert writer.lost_runs == (run_id,)
    assert writer.records.get_run(run_id).status is RunStatus.FAILED
    writer.close()


def test_a_reader_opens_a_read_only_file(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    with Experiment(ws, "e").start_logging() as run:
        run.log("rmse", 0.5)
    ws.close()
    db = tmp_path / "records.db"
    db.chmod(0o444)
    try:
        reader = _workspace(tmp_path, read_only=True)
        assert reader.records.get_run(run.id).status is RunStatus.COMPLETED
        assert reader.records.get_metric_summaries(run.id)["rmse"].last == 0.5
        reader.close()
    finally:
        db.chmod(0o644)


def test_a_reader_does_not_upgrade_an_older_database(tmp_path: Path) -> None:
    shutil.copy(SCHEMAS / "v1" / "sqlite" / "records.db", tmp_path / "records.db")
    before = _digest(tmp_path / "records.db")
    with pytest.raises(SchemaError, match="python -m tracking db upgrade"):
        _workspace(tmp_path, read_only=True)
    assert _digest(tmp_path / "records.db") == before
    assert sorted(p.name for p in tmp_path.iterdir() if ".bak" in p.name) == []


def test_the_portal_command_opens_its_workspace_for_reading(
    lost: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tracking.portal import __main__ as portal_main

    folder, run_id = lost
    (folder / "config.json").write_text(
        '{"tracking_uri": "sqlite:///records.db", "storage_uri": "storage",'
        ' "heartbeat_timeout_s": 1}'
    )
    opened: list[Workspace] = []
    real = Workspace.from_config.__func__  # type: ignore[attr-defined]

    def spy(cls: type[Workspace], *args: object, **kwargs: object) -> Workspace:
        opened.append(real(cls, *args, **kwargs))
        raise portal_main.PortalExit("stop before serving")

    monkeypatch.setattr(Workspace, "from_config", classmethod(spy))
    with pytest.raises(portal_main.PortalExit):
        portal_main.run(["--config", str(folder), "--port", "0"], {})
    (ws,) = opened
    assert ws.read_only and ws.lost_runs == ()
    assert ws.records.get_run(run_id).status is RunStatus.RUNNING
    ws.close()


# -- what one chart poll reads ------------------------------------------------------------------


def test_a_chart_poll_reads_one_experiment_not_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = _workspace(tmp_path)
    for name in ("a", "b", "c"):
        experiment = Experiment(ws, name)
        experiment.set_primary_metric("rmse", "min")
        for i in range(3):
            with experiment.start_logging() as run:
                run.log("alpha", i / 10)
                run.log("rmse", 1.0 + i)
    Experiment(ws, "b").start_logging()  # one still running
    expected = {s.experiment.name: s for s in ws.records.list_experiments()}

    calls: list[str] = []
    listing = SqlRecordStore.list_experiments

    def counted(self: SqlRecordStore) -> list:
        calls.append("list_experiments")
        return listing(self)

    monkeypatch.setattr(SqlRecordStore, "list_experiments", counted)
    with TestClient(create_app(ws), base_url="http://127.0.0.1:8080") as client:
        for name in ("a", "b"):
            for _ in range(2):  # a cached chart and a fresh one alike
                chart = client.get(f"/api/experiments/{name}/chart", params={"metric": "rmse"})
                assert chart.status_code == 200, chart.text
                assert chart.json()["runs"] == expected[name].run_count
            detail = client.get(f"/api/experiments/{name}").json()
            summary = expected[name]
            assert detail["runCount"] == summary.run_count
            assert detail["bestValue"] == summary.best_value == 1.0
            assert detail["lastActivityUtc"] is not None
        assert calls == []

        from tracking.portal.views import experiment_summary

        for name, summary in expected.items():
            assert experiment_summary(ws.records, name) == summary
        assert calls == []

        run_id = next(iter(Experiment(ws, "c").get_runs())).id
        for _ in range(3):  # the run page lists experiments once, to learn an id's name
            assert client.get(f"/api/runs/{run_id}").json()["experimentName"] == "c"
        assert len(calls) <= 1
    ws.close()


def test_one_experiments_summary_is_what_the_list_says_on_each_backend(
    tracking_uri: str, tmp_path: Path
) -> None:
    from datetime import datetime, timedelta, timezone

    from tracking.portal.views import experiment_by_id, experiment_summary

    store = open_record_store(tracking_uri, base_dir=tmp_path)
    exp = store.get_or_create_experiment("e")
    assert experiment_summary(store, "e") == store.list_experiments()[0]  # no runs yet
    store.set_primary_metric(exp.id, "rmse", "max")
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    for i in range(3):
        store.create_run(exp.id, f"r{i}", start_time=start + timedelta(minutes=i))
        store.log_batch(f"r{i}", metrics=[("rmse", float(i))])
    store.set_status("r0", RunStatus.COMPLETED, end_time=start + timedelta(hours=1))
    # r1 and r2 still run: PostgreSQL sorts their missing end first, SQLite last.
    (listed,) = store.list_experiments()
    summary = experiment_summary(store, "e")
    assert summary == listed
    assert summary.last_activity == start + timedelta(hours=1)
    assert summary.run_count == 3
    assert summary.best_value == 2.0
    assert experiment_by_id(store, exp.id) == store.get_experiment("e")
    store.close()
