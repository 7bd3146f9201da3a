"""Case 6: many processes writing into one workspace, or opening a new one, at the same moment.

Real processes (spawned, each with its own engine and connections) on real SQLite and
PostgreSQL; a barrier lines them up so that they start together.
"""

from __future__ import annotations

import json
import multiprocessing
import sqlite3
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import pytest

from tracking import Experiment, Run, Workspace
from tracking.records import NewRun, utcnow

WRITERS, WRITES = 16, 200
OPENERS = 8
TIMEOUT_S = 300


def _span(numbers: list[int]) -> str:
    contiguous = numbers == list(range(1, len(numbers) + 1))
    return f"1..{len(numbers)}" if contiguous and numbers else str(numbers)


def _backend(uri: str) -> str:
    return uri.split(":", 1)[0]


def _write(uri: str, folder: str, run_id: str, worker: int, start: Any, out: Any) -> None:
    """Log WRITES values, one write each, into the shared run; report any error's text."""
    try:
        ws = Workspace("w", tracking_uri=uri, storage_uri=folder)
        run = Run(Experiment(ws, "load"), run_id)
        start.wait(timeout=120)
        for i in range(WRITES):
            run.log("value", worker * 1000 + i)
        ws.close()
        out.put((worker, None))
    except BaseException:  # everything reaches the test, "database is locked" above all
        out.put((worker, traceback.format_exc()))


def _spawn(target: Any, args: list[tuple[Any, ...]]) -> list[tuple[int, str | None]]:
    context = multiprocessing.get_context("spawn")
    start, out = context.Barrier(len(args)), context.Queue()
    processes = [context.Process(target=target, args=(*a, start, out)) for a in args]
    for process in processes:
        process.start()
    try:
        results = [out.get(timeout=TIMEOUT_S) for _ in processes]
    finally:
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
                process.join()
    return sorted(results, key=lambda r: r[0])


@pytest.mark.reliability(
    case=6,
    fault=f"{WRITERS} processes x {WRITES} metric writes (one transaction each) into one run "
    "of one workspace, started together (SQLite, PostgreSQL)",
    expected=f"exactly {WRITERS * WRITES:,} values stored, the run's summary agrees; no "
    "'database is locked' or other error reaches a caller",
)
def test_sixteen_processes_writing_at_once_keep_every_value(
    tracking_uri: str, tmp_path: Path, record_property: pytest.RecordProperty
) -> None:
    folder = str(tmp_path / "files")
    ws = Workspace("w", tracking_uri=tracking_uri, storage_uri=folder)
    run = Experiment(ws, "load").start_logging()
    results = _spawn(_write, [(tracking_uri, folder, run.id, w) for w in range(WRITERS)])
    errors = [error for _, error in results if error is not None]
    values = run.get_metrics()["value"]
    summary = ws.records.get_metric_summaries(run.id)["value"]
    expected = sorted(w * 1000 + i for w in range(WRITERS) for i in range(WRITES))
    locked = sum("database is locked" in e for e in errors)
    record_property(
        "observed",
        f"{_backend(tracking_uri)}: {len(values):,} values stored, summary count "
        f"{summary.count:,}; {len(errors)} processes saw an error ({locked} 'database is "
        "locked')",
    )
    assert errors == [], errors[0]
    assert sorted(values) == expected
    for worker in range(WRITERS):  # each process's values in the order it logged them
        mine = [v for v in values if v // 1000 == worker]
        assert mine == [worker * 1000 + i for i in range(WRITES)]
    assert (summary.count, summary.min, summary.max) == (len(expected), 0, expected[-1])
    ws.close()


def _open(uri: str, folder: str, worker: int, start: Any, out: Any) -> None:
    """Open the (new) workspace at the barrier, then record one run in it."""
    try:
        start.wait(timeout=120)
        ws = Workspace("w", tracking_uri=uri, storage_uri=folder)
        run = Experiment(ws, "first").start_logging(properties={"worker": str(worker)})
        run.log("opened", 1.0)
        run.complete()
        ws.close()
        out.put((worker, None))
    except BaseException:
        out.put((worker, traceback.format_exc()))


def _schema_rows(uri: str) -> list[tuple[str, str]]:
    if uri.startswith("sqlite:///"):
        with sqlite3.connect(uri.removeprefix("sqlite:///")) as db:
            return list(db.execute("SELECT key, value FROM meta"))
    import psycopg

    with psycopg.connect(uri) as db:
        return [tuple(row) for row in db.execute("SELECT key, value FROM meta")]  # type: ignore[misc]


@pytest.mark.reliability(
    case=6,
    fault=f"{OPENERS} processes opening the same NEW workspace at the same moment "
    "(SQLite, PostgreSQL), each then recording a run",
    expected="every process succeeds; the schema is created once (one schema_version row, "
    f"one experiment), run numbers 1..{OPENERS} without a gap or duplicate",
)
def test_processes_opening_a_new_workspace_at_once_all_succeed(
    tracking_uri: str, tmp_path: Path, record_property: pytest.RecordProperty
) -> None:
    folder = str(tmp_path / "files")
    results = _spawn(_open, [(tracking_uri, folder, w) for w in range(OPENERS)])
    errors = [error for _, error in results if error is not None]
    meta = _schema_rows(tracking_uri)
    ws = Workspace("w", tracking_uri=tracking_uri, storage_uri=folder)
    runs = list(Experiment(ws, "first").get_runs())
    record_property(
        "observed",
        f"{_backend(tracking_uri)}: {OPENERS - len(errors)} of {OPENERS} processes succeeded; "
        f"meta rows {meta}; {len(ws.experiments)} experiment, {len(runs)} runs numbered "
        f"{_span(sorted(r.number for r in runs))}",
    )
    assert errors == [], errors[0]
    assert [key for key, _ in meta] == ["schema_version"]
    assert list(ws.experiments) == ["first"]
    assert sorted(r.number for r in runs) == list(range(1, OPENERS + 1))
    assert sorted(r.properties["worker"] for r in runs) == sorted(map(str, range(OPENERS)))
    ws.close()


FRAME_BATCHES = 40


def _record(uri: str, folder: str, worker: int, start: Any, out: Any) -> None:
    """Record FRAME_BATCHES batches of 25 runs; run `r<i>` has m = i, and `half` = i only
    when i is even, so that a column holds some runs' values and not others'."""
    try:
        ws = Workspace("w", tracking_uri=uri, storage_uri=folder)
        experiment_id = ws.records.get_or_create_experiment("frames").id
        start.wait(timeout=120)
        for batch in range(FRAME_BATCHES):
            runs = []
            for i in range(batch * 25, batch * 25 + 25):
                metrics = (("m", float(i)), *((("half", float(i)),) if i % 2 == 0 else ()))
                params = {"p": i, "text": f"t{i}"} if i % 3 else {"p": i}
                runs.append(NewRun(f"r{i}", utcnow(), params=params, metrics=metrics))
            ws.records.record_runs(experiment_id, runs)
            time.sleep(0.02)  # so that the reader's frames fall between batches
        ws.close()
        out.put((worker, None))
    except BaseException:
        out.put((worker, traceback.format_exc()))


@pytest.mark.reliability(
    case=6,
    fault=f"to_dataframe read again and again while another process records "
    f"{FRAME_BATCHES * 25:,} runs in batches (SQLite, PostgreSQL)",
    expected="every frame is one consistent snapshot: each row holds its own run's values "
    "(never a neighbour's), a run's missing value is NaN",
)
def test_a_frame_read_during_writes_keeps_each_runs_values_in_its_row(
    tracking_uri: str, tmp_path: Path, record_property: pytest.RecordProperty
) -> None:
    folder = str(tmp_path / "files")
    ws = Workspace("w", tracking_uri=tracking_uri, storage_uri=folder)
    experiment = Experiment(ws, "frames")
    context = multiprocessing.get_context("spawn")
    start, out = context.Barrier(2), context.Queue()
    writer = context.Process(target=_record, args=(tracking_uri, folder, 0, start, out))
    writer.start()
    start.wait(timeout=120)
    sizes = []
    while writer.is_alive() or not sizes:
        frame = experiment.to_dataframe()
        sizes.append(len(frame))
        if frame.empty:  # the first batch is not in yet
            continue
        made = frame["run_id"].str.slice(1).astype(int)
        assert (frame["metrics.m"] == made).all()
        assert (frame["params.p"] == made).all()
        even = made % 2 == 0
        assert (frame["metrics.half"][even] == made[even]).all()
        assert frame["metrics.half"][~even].isna().all()
        texts = made % 3 != 0
        assert (frame["params.text"][texts] == "t" + made[texts].astype(str)).all()
        assert frame["params.text"][~texts].isna().all()
    writer.join(timeout=TIMEOUT_S)
    _, error = out.get(timeout=10)
    assert error is None, error
    final = experiment.to_dataframe()
    record_property(
        "observed",
        f"{_backend(tracking_uri)}: {len(sizes)} frames read during the writes, of "
        f"{min(sizes)}..{max(sizes)} runs; the last has {len(final)} runs, each with its own "
        "values",
    )
    assert len(final) == FRAME_BATCHES * 25 and len(set(sizes)) > 2, sizes
    ws.close()


# Run in a small process of its own: forking the test's large one 800 times took a minute.
_CONNECT_RACE = """
import json, multiprocessing, sys
from tracking.stores.engine import create_engine

def connect(path, start, out):
    try:
        start.wait(timeout=60)
        engine = create_engine(f"sqlite:///{path}")
        with engine.connect() as conn:
            mode = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
        engine.dispose()
        out.put(None if mode == "wal" else f"journal mode {mode}")
    except BaseException as err:
        out.put(f"{type(err).__name__}: {str(err).splitlines()[0]}")

context = multiprocessing.get_context("fork")  # the race needs them together, not imports
folder, rounds, processes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
errors = []
for attempt in range(rounds):
    start, out = context.Barrier(processes), context.Queue()
    path = f"{folder}/new-{attempt}.db"
    workers = [context.Process(target=connect, args=(path, start, out)) for _ in range(processes)]
    for worker in workers:
        worker.start()
    errors += [e for e in (out.get(timeout=120) for _ in workers) if e is not None]
    for worker in workers:
        worker.join(timeout=60)
print(json.dumps(errors))
"""


@pytest.mark.reliability(
    case=6,
    fault="8 processes connecting to the same NEW SQLite file at the same moment, 150 times "
    "(each connection turns WAL mode on)",
    expected="every connection succeeds in WAL mode; none is told 'database is locked'",
)
def test_processes_connecting_to_a_new_sqlite_file_at_once_all_get_wal(
    tmp_path: Path, record_property: pytest.RecordProperty
) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _CONNECT_RACE, str(tmp_path), "150", "8"],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    errors = json.loads(done.stdout)
    record_property("observed", f"{1200 - len(errors)} of 1200 in WAL mode; {errors[:1]}")
    assert errors == []
