"""The record store contract, run against every backend."""

from __future__ import annotations

import math
import multiprocessing
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

import pytest

from tracking.errors import ConflictError, NotFoundError, RunFinishedError, ValidationError
from tracking.records import ChartSeries, FileRecord, NewRun, RunOrder, RunStatus, utcnow
from tracking.stores import open_record_store
from tracking.stores.base import RecordStore

if TYPE_CHECKING:
    from multiprocessing import Queue
    from multiprocessing.synchronize import Barrier


@pytest.fixture
def store(tracking_uri: str) -> Iterator[RecordStore]:
    opened = open_record_store(tracking_uri)
    yield opened
    opened.close()


def _runs(store: RecordStore, experiment_id: int, n: int) -> list[str]:
    ids = [f"run-{experiment_id}-{i}" for i in range(n)]
    for run_id in ids:
        store.create_run(experiment_id, run_id)
    return ids


def test_experiments_are_created_once_and_found_by_name(store: RecordStore) -> None:
    first = store.get_or_create_experiment("exp")
    again = store.get_or_create_experiment("exp")
    assert first == again
    assert store.get_experiment("exp") == first
    with pytest.raises(NotFoundError, match="'nope'"):
        store.get_experiment("nope")


def test_run_numbers_count_up_within_each_experiment(store: RecordStore) -> None:
    a = store.get_or_create_experiment("a").id
    b = store.get_or_create_experiment("b").id
    numbers_a = [store.create_run(a, f"a{i}").number for i in range(3)]
    numbers_b = [store.create_run(b, f"b{i}").number for i in range(2)]
    assert numbers_a == [1, 2, 3]
    assert numbers_b == [1, 2]
    summaries = {s.experiment.name: s for s in store.list_experiments()}
    assert summaries["a"].run_count == 3
    assert summaries["b"].last_activity is not None


def test_last_activity_is_the_latest_run_start_or_end(store: RecordStore) -> None:
    exp = store.get_or_create_experiment("e").id
    started = datetime(2026, 1, 1, tzinfo=timezone.utc)
    store.create_run(exp, "early", start_time=started)
    store.create_run(exp, "late", start_time=started + timedelta(hours=1))
    (summary,) = store.list_experiments()
    assert summary.last_activity == started + timedelta(hours=1)
    store.set_status("early", RunStatus.COMPLETED, end_time=started + timedelta(hours=2))
    (summary,) = store.list_experiments()
    assert summary.last_activity == started + timedelta(hours=2)


def test_a_new_run_is_running_with_its_properties_and_tags(store: RecordStore) -> None:
    exp = store.get_or_create_experiment("e").id
    run = store.create_run(exp, "r1", properties={"ray.trial_id": "t1"}, tags={"k": "v"})
    assert run.status is RunStatus.RUNNING
    assert run.end_time is None
    assert dict(run.properties) == {"ray.trial_id": "t1"}
    assert dict(run.tags) == {"k": "v"}
    assert store.find_runs_by_property(exp, "ray.trial_id", "t1") == [store.get_run("r1")]
    assert store.find_runs_by_property(exp, "ray.trial_id", "t2") == []


def test_duplicate_run_ids_and_unknown_runs_are_refused(store: RecordStore) -> None:
    exp = store.get_or_create_experiment("e").id
    store.create_run(exp, "r1")
    with pytest.raises(ConflictError):
        store.create_run(exp, "r1")
    with pytest.raises(NotFoundError, match="'ghost'"):
        store.get_run("ghost")
    with pytest.raises(NotFoundError):
        store.log_batch("ghost", metrics=[("m", 1.0)])
    with pytest.raises(NotFoundError, match="'ghost'"):
        store.set_status("ghost", RunStatus.COMPLETED)
    with pytest.raises(NotFoundError):
        store.create_run(10_000, "r2")


def test_metric_values_keep_their_order_and_summaries_follow(store: RecordStore) -> None:
    exp = store.get_or_create_experiment("e").id
    store.create_run(exp, "r")
    store.log_batch("r", metrics=[("loss", 3.0), ("loss", 1.0), ("acc", 0.5)])
    store.log_batch("r", metrics=[("loss", 2.0)])
    history = store.get_metric_history("r")
    assert [(v.name, v.step, v.value) for v in history] == [
        ("acc", 0, 0.5),
        ("loss", 0, 3.0),
        ("loss", 1, 1.0),
        ("loss", 2, 2.0),
    ]
    loss = store.get_metric_summaries("r")["loss"]
    assert (loss.last, loss.min, loss.max, loss.count) == (2.0, 1.0, 3.0, 3)


def test_non_finite_values_are_kept_but_never_best(store: RecordStore) -> None:
    exp = store.get_or_create_experiment("e").id
    for run_id, value in [("nan", math.nan), ("inf", math.inf), ("ninf", -math.inf), ("ok", 9.0)]:
        store.create_run(exp, run_id)
        store.log_batch(run_id, metrics=[("rmse", value)])
    assert math.isnan(store.get_metric_history("nan")[0].value)
    assert store.get_metric_history("ninf")[0].value == -math.inf
    assert math.isnan(store.get_metric_summaries("nan")["rmse"].last)
    best_min = store.best_run(exp, "rmse", maximize=False)
    best_max = store.best_run(exp, "rmse", maximize=True)
    assert best_min is not None and best_min.run_id == "ok"
    assert best_max is not None and best_max.run_id == "ok"
    assert store.best_run(exp, "other", maximize=False) is None


def test_best_run_uses_each_runs_last_value(store: RecordStore) -> None:
    exp = store.get_or_create_experiment("e").id
    store.create_run(exp, "a")
    store.log_batch("a", metrics=[("rmse", 1.0), ("rmse", 5.0)])
    store.create_run(exp, "b")
    store.log_batch("b", metrics=[("rmse", 3.0)])
    assert store.best_run(exp, "rmse", maximize=False).run_id == "b"  # type: ignore[union-attr]
    assert store.best_run(exp, "rmse", maximize=True).run_id == "a"  # type: ignore[union-attr]


def test_finished_runs_refuse_values_but_accept_tags(store: RecordStore) -> None:
    exp = store.get_or_create_experiment("e").id
    store.create_run(exp, "r")
    store.set_status("r", RunStatus.COMPLETED)
    done = store.get_run("r")
    assert done.status is RunStatus.COMPLETED and done.end_time is not None
    with pytest.raises(RunFinishedError, match="Completed"):
        store.log_batch("r", metrics=[("m", 1.0)])
    with pytest.raises(RunFinishedError):
        store.set_status("r", RunStatus.FAILED)
    with pytest.raises(RunFinishedError):
        store.add_file(FileRecord("r", "f", "file:///x", 1, "0" * 64, utcnow()))
    store.log_batch("r", tags={"note": "good"})
    assert dict(store.get_run("r").tags) == {"note": "good"}


def test_failed_runs_keep_their_error(store: RecordStore) -> None:
    exp = store.get_or_create_experiment("e").id
    store.create_run(exp, "r")
    store.set_status("r", RunStatus.FAILED, error="ValueError: boom")
    assert store.get_run("r").status is RunStatus.FAILED
    assert store.get_run("r").error == "ValueError: boom"


def test_params_and_properties_are_set_once_tags_change(store: RecordStore) -> None:
    exp = store.get_or_create_experiment("e").id
    store.create_run(exp, "r")
    store.log_batch("r", params={"alpha": 0.1, "solver": "auto"}, properties={"host": "h1"})
    store.log_batch("r", params={"alpha": 0.1}, properties={"host": "h1"})  # same: fine
    with pytest.raises(ConflictError, match="alpha"):
        store.log_batch("r", params={"alpha": 0.2})
    with pytest.raises(ConflictError, match="host"):
        store.log_batch("r", properties={"host": "h2"})
    store.log_batch("r", tags={"t": "1"})
    store.log_batch("r", tags={"t": "2"})
    assert store.get_params("r") == {"alpha": 0.1, "solver": "auto"}
    assert dict(store.get_run("r").tags) == {"t": "2"}
    assert dict(store.get_run("r").properties) == {"host": "h1"}


def test_a_failed_batch_writes_nothing(store: RecordStore) -> None:
    exp = store.get_or_create_experiment("e").id
    store.create_run(exp, "r")
    store.log_batch("r", params={"alpha": 0.1})
    with pytest.raises(ConflictError):
        store.log_batch("r", metrics=[("m", 1.0)], params={"alpha": 0.5})
    assert store.get_metric_history("r") == []


def test_files_are_recorded_once_per_name(store: RecordStore) -> None:
    exp = store.get_or_create_experiment("e").id
    store.create_run(exp, "r")
    record = FileRecord("r", "outputs/m.pkl", "file:///s/m.pkl", 12, "a" * 64, utcnow())
    store.add_file(record)
    with pytest.raises(ConflictError, match="outputs/m.pkl"):
        store.add_file(record)
    assert store.list_files("r") == [record]
    assert store.get_file("r", "outputs/m.pkl") == record
    with pytest.raises(NotFoundError, match="other"):
        store.get_file("r", "other")


def test_file_uris_are_every_recorded_uri_or_those_under_a_prefix(store: RecordStore) -> None:
    exp = store.get_or_create_experiment("e").id
    store.create_run(exp, "a")
    now = utcnow()
    uris = [
        "s3://b/ws/runs/a/model.pkl",
        "s3://b/ws/runs/a/100%_done.txt",  # '%' and '_' are LIKE's wildcards
        "s3://b/ws/tune/exp/checkpoint_000001",
        "s3://b/WS/runs/a/upper.txt",
    ]
    for i, uri in enumerate(uris):
        store.add_file(FileRecord("a", f"f{i}", uri, 1, "a" * 64, now))
    done = FileRecord("done", "m", "s3://b/ws/runs/done/m", 1, "b" * 64, now)
    store.record_runs(exp, [NewRun("done", now, status=RunStatus.COMPLETED, end_time=now,
                                   files=(done,))])  # fmt: skip
    assert store.file_uris() == {*uris, done.uri}
    assert store.file_uris("s3://b/ws/runs/") == {uris[0], uris[1], done.uri}  # case counts
    assert store.file_uris("s3://b/ws/runs/a/100%_") == {uris[1]}
    assert store.file_uris("s3://b/ws/runs/a/100x") == set()
    assert store.file_uris("gs://") == set()


def test_lost_runs_are_found_without_being_failed(store: RecordStore) -> None:
    exp = store.get_or_create_experiment("e").id
    start = utcnow() - timedelta(hours=2)
    for run_id in ("older", "old", "alive", "done"):
        store.create_run(exp, run_id, start_time=start)
    store.heartbeat(["old"], at=start + timedelta(minutes=30))
    store.heartbeat(["alive"])
    store.set_status("done", RunStatus.COMPLETED)
    cutoff = utcnow() - timedelta(minutes=10)
    lost = store.find_lost_runs(cutoff)
    shown = [(r.run_id, r.experiment, r.number) for r in lost]
    assert shown == [("older", "e", 1), ("old", "e", 2)]
    assert [r.heartbeat_at for r in lost] == [start, start + timedelta(minutes=30)]
    assert store.get_run("older").status is RunStatus.RUNNING  # found, not failed
    # Only the runs named, and only while they are still lost.
    named = ["old", "alive", "done", "ghost"]
    assert store.fail_lost_runs(cutoff, error="lost", run_ids=named) == ["old"]
    assert store.fail_lost_runs(cutoff, error="lost", run_ids=[]) == []
    assert [r.run_id for r in store.find_lost_runs(cutoff)] == ["older"]
    assert store.fail_lost_runs(cutoff, error="lost") == ["older"]
    assert store.find_lost_runs(cutoff) == []


@pytest.fixture
def table(store: RecordStore) -> tuple[RecordStore, int]:
    """Six runs: rmse 6..1 (run 3 has NaN, run 5 none), alpha 0.1..0.6, run 2 failed."""
    exp = store.get_or_create_experiment("table").id
    for i, run_id in enumerate(_runs(store, exp, 6)):
        if i != 4:
            store.log_batch(run_id, metrics=[("rmse", math.nan if i == 2 else 6.0 - i)])
        store.log_batch(run_id, params={"alpha": round(0.1 * (i + 1), 1)})
        status = RunStatus.FAILED if i == 1 else RunStatus.COMPLETED
        store.set_status(run_id, status)
    return store, exp


def _numbers(page) -> list[int]:  # type: ignore[no-untyped-def]
    return [row.run.number for row in page.rows]


def test_runs_table_sorts_by_metric_with_missing_values_last(table) -> None:  # type: ignore[no-untyped-def]
    store, exp = table
    ascending = store.search_runs(exp, order=RunOrder.parse("metrics.rmse"), limit=10)
    assert ascending.total == 6
    assert _numbers(ascending) == [6, 4, 2, 1, 3, 5]
    descending = store.search_runs(
        exp, order=RunOrder.parse("metrics.rmse", descending=True), limit=10
    )
    assert _numbers(descending) == [1, 2, 4, 6, 3, 5]


def test_runs_table_pages_through_ranked_and_unranked_runs(table) -> None:  # type: ignore[no-untyped-def]
    store, exp = table
    order = RunOrder.parse("metrics.rmse")
    pages = [_numbers(store.search_runs(exp, order=order, limit=2, offset=o)) for o in (0, 2, 4)]
    assert pages == [[6, 4], [2, 1], [3, 5]]
    assert _numbers(store.search_runs(exp, order=order, limit=2, offset=5)) == [5]
    assert _numbers(store.search_runs(exp, order=order, limit=2, offset=6)) == []


def test_runs_table_sorts_by_param_and_field_and_filters_status(table) -> None:  # type: ignore[no-untyped-def]
    store, exp = table
    by_alpha = store.search_runs(exp, order=RunOrder.parse("params.alpha", descending=True))
    assert _numbers(by_alpha) == [6, 5, 4, 3, 2, 1]
    newest = store.search_runs(exp)
    assert _numbers(newest) == [6, 5, 4, 3, 2, 1]
    failed = store.search_runs(exp, status=RunStatus.FAILED)
    assert failed.total == 1 and _numbers(failed) == [2]
    completed = store.search_runs(
        exp, order=RunOrder.parse("metrics.rmse"), status=RunStatus.COMPLETED
    )
    assert completed.total == 5 and _numbers(completed) == [6, 4, 1, 3, 5]


def test_runs_table_rows_carry_params_and_final_metrics(table) -> None:  # type: ignore[no-untyped-def]
    store, exp = table
    row = store.search_runs(exp, order=RunOrder.parse("number"), limit=1).rows[0]
    assert row.run.number == 1
    assert dict(row.params) == {"alpha": 0.1}
    assert dict(row.metrics) == {"rmse": 6.0}


def test_columns_list_every_metric_and_param_name_once(table) -> None:  # type: ignore[no-untyped-def]
    store, exp = table
    store.create_run(exp, "extra")
    store.log_batch("extra", metrics=[("mae", 1.0), ("rmse", 2.0)], params={"solver": "svd"})
    assert store.list_columns(exp) == (["mae", "rmse"], ["alpha", "solver"])
    other = store.get_or_create_experiment("other").id
    assert store.list_columns(other) == ([], [])


def test_chart_series_pair_each_runs_metric_with_its_x(table) -> None:  # type: ignore[no-untyped-def]
    store, exp = table
    series = store.chart_series(exp, "rmse", x_param="alpha")
    assert series.numbers == (1, 2, 3, 4, 6)
    assert series.x == (0.1, 0.2, 0.3, 0.4, 0.6)
    assert [y for n, y in zip(series.numbers, series.y, strict=True) if n != 3] == [
        6.0,
        5.0,
        3.0,
        1.0,
    ]
    assert math.isnan(series.y[2])
    assert store.chart_series(exp, "rmse").x == ()
    assert store.chart_series(exp, "nothing-logged") == ChartSeries((), (), ())
    store.create_run(exp, "x-only")
    store.log_batch("x-only", metrics=[("mae", 0.5)])
    by_metric = store.chart_series(exp, "rmse", x_metric="mae")
    assert by_metric.x == (None,) * 5  # no run has both rmse and mae


def test_primary_metric_gives_each_experiment_its_best_value(table) -> None:  # type: ignore[no-untyped-def]
    store, exp = table
    assert store.list_experiments()[0].best_value is None
    store.set_primary_metric(exp, "rmse", "max")
    summary = store.list_experiments()[0]
    assert summary.experiment.primary_metric == "rmse"
    assert summary.best_value == 6.0
    store.set_primary_metric(exp, "rmse", "min")
    assert store.list_experiments()[0].best_value == 1.0


def test_chart_series_can_sample_every_kth_run_and_the_best(table) -> None:  # type: ignore[no-untyped-def]
    store, exp = table
    series = store.chart_series(exp, "rmse", x_param="alpha", every=2, also=1)
    assert series.numbers == (1, 2, 4, 6)
    assert series.x == (0.1, 0.2, 0.4, 0.6)
    assert store.chart_series(exp, "rmse", every=3).numbers == (3, 6)


def test_a_run_is_created_with_its_params_in_one_write(store: RecordStore) -> None:
    exp = store.get_or_create_experiment("e").id
    store.create_run(exp, "r", params={"alpha": 0.5}, properties={"ray.trial_id": "t"})
    assert store.get_params("r") == {"alpha": 0.5}
    assert store.list_columns(exp) == ([], ["alpha"])


def test_finishing_records_properties_and_files_all_or_nothing(store: RecordStore) -> None:
    exp = store.get_or_create_experiment("e").id
    store.create_run(exp, "r", properties={"host": "a"})
    model = FileRecord("r", "model.pkl", "file:///s/m.pkl", 5, "b" * 64, utcnow())
    with pytest.raises(ConflictError, match="host"):
        store.set_status("r", RunStatus.COMPLETED, properties={"host": "b"}, files=[model])
    assert store.get_run("r").status is RunStatus.RUNNING
    assert store.list_files("r") == []
    store.set_status(
        "r", RunStatus.COMPLETED, properties={"host": "a", "node": "n1"}, files=[model]
    )
    done = store.get_run("r")
    assert done.status is RunStatus.COMPLETED
    assert dict(done.properties) == {"host": "a", "node": "n1"}
    assert store.list_files("r") == [model]


def test_runs_recorded_whole_in_one_batch(store: RecordStore) -> None:
    exp = store.get_or_create_experiment("bulk").id
    store.create_run(exp, "before")
    now = utcnow()
    model = FileRecord("done", "model.pkl", "file:///s/model.pkl", 3, "c" * 64, now)
    records = store.record_runs(
        exp,
        [
            NewRun("done", now, "trial 1", {"ray.trial_id": "t1"}, {"alpha": 0.1},
                   (("rmse", 3.0), ("rmse", 2.0), ("r2", math.nan)),
                   RunStatus.COMPLETED, end_time=now, files=(model,)),
            NewRun("failed", now, params={"alpha": 0.2}, status=RunStatus.FAILED,
                   error="ValueError: boom", end_time=now),
            NewRun("open", now, params={"alpha": 0.3}, metrics=(("rmse", 9.0),)),
        ],
    )  # fmt: skip
    assert [r.number for r in records] == [2, 3, 4]
    done = store.get_run("done")
    assert (done.status, done.number, dict(done.properties)) == (
        RunStatus.COMPLETED,
        2,
        {"ray.trial_id": "t1"},
    )
    assert [(v.name, v.step, v.value) for v in store.get_metric_history("done")][1:] == [
        ("rmse", 0, 3.0),
        ("rmse", 1, 2.0),
    ]
    assert store.get_metric_summaries("done")["rmse"].last == 2.0
    assert store.list_files("done") == [model]
    assert store.get_run("failed").error == "ValueError: boom"
    assert store.best_run(exp, "rmse", maximize=False).run_id == "done"  # type: ignore[union-attr]
    assert store.list_columns(exp) == (["r2", "rmse"], ["alpha"])
    store.log_batch("open", metrics=[("rmse", 8.0)])  # an open run goes on as usual
    assert store.get_metric_summaries("open")["rmse"].count == 2
    with pytest.raises(ConflictError):
        store.record_runs(exp, [NewRun("new", now), NewRun("done", now)])
    with pytest.raises(NotFoundError):
        store.get_run("new")  # the whole batch was refused
    assert store.search_runs(exp).total == 4


def test_queued_runs_keep_their_numbers_when_recorded_whole(store: RecordStore) -> None:
    exp = store.get_or_create_experiment("queue").id
    now = utcnow()
    cell = {"sweep.cell": "alpha=0.1"}
    queued = [
        NewRun(f"q{i}", now, params={"alpha": i / 10}, properties=cell, status=RunStatus.QUEUED)
        for i in range(1, 4)
    ]
    assert [r.number for r in store.record_runs(exp, queued)] == [1, 2, 3]
    store.create_run(exp, "later")  # after the queue: number 4
    assert store.get_run("q2").status is RunStatus.QUEUED
    with pytest.raises(RunFinishedError, match="queued"):
        store.log_batch("q2", metrics=[("rmse", 1.0)])  # no values before it starts
    # Recorded whole, out of order: each keeps its number, and takes what it is given.
    end = utcnow()
    store.record_runs(
        exp,
        [
            NewRun("q3", end, params={"alpha": 0.3}, properties={**cell, "trial": "t3"},
                   metrics=(("rmse", 2.0),), status=RunStatus.COMPLETED, end_time=end),
            NewRun("q1", end, params={"alpha": 0.1}, properties=cell),
        ],
    )  # fmt: skip
    q1, q3 = store.get_run("q1"), store.get_run("q3")
    assert (q1.number, q1.status, q1.start_time) == (1, RunStatus.RUNNING, end)
    assert (q3.number, q3.status, dict(q3.properties)) == (
        3, RunStatus.COMPLETED, {**cell, "trial": "t3"},
    )  # fmt: skip
    assert store.get_metric_summaries("q3")["rmse"].last == 2.0
    assert store.search_runs(exp).total == 4
    store.set_status("q2", RunStatus.CANCELED)  # a queued run may end without running
    assert store.get_run("q2").status is RunStatus.CANCELED
    with pytest.raises(ConflictError):  # only a queued run is recorded again
        store.record_runs(exp, [NewRun("q3", end)])
    # A queued run whose recording process stopped beating is lost like a running one.
    old = utcnow() - timedelta(minutes=10)
    store.record_runs(exp, [NewRun("waiting", old, status=RunStatus.QUEUED)])
    assert store.fail_lost_runs(utcnow() - timedelta(minutes=1), error="lost") == ["waiting"]


def test_runs_whose_heartbeat_stopped_are_failed_once(store: RecordStore) -> None:
    exp = store.get_or_create_experiment("e").id
    start = utcnow() - timedelta(minutes=10)
    for run_id in ("alive", "lost", "done"):
        store.create_run(exp, run_id, start_time=start)
    store.set_status("done", RunStatus.COMPLETED)
    store.heartbeat(["alive", "done"])  # a finished run's heartbeat is ignored

    cutoff = utcnow() - timedelta(minutes=1)
    assert store.fail_lost_runs(cutoff, error="lost: no heartbeat") == ["lost"]
    assert store.fail_lost_runs(cutoff, error="lost: no heartbeat") == []  # once
    lost = store.get_run("lost")
    assert (lost.status, lost.error) == (RunStatus.FAILED, "lost: no heartbeat")
    assert store.get_run("alive").status is RunStatus.RUNNING
    assert store.get_run("done").status is RunStatus.COMPLETED
    # A run recorded whole by a sweep starts its heartbeat at its start time too.
    store.record_runs(exp, [NewRun("bulk", start)])
    assert store.fail_lost_runs(cutoff, error="lost") == ["bulk"]


def test_values_a_database_would_refuse_are_refused_alike(store: RecordStore) -> None:
    exp = store.get_or_create_experiment("e").id
    store.create_run(exp, "r")
    now = utcnow()
    refused = {
        "run id": lambda: store.create_run(exp, "r" * 65),
        "display name": lambda: store.create_run(exp, "d", display_name="d" * 256),
        "tag": lambda: store.create_run(exp, "t", tags={"k": "a\x00b"}),
        "property": lambda: store.log_batch("r", properties={"p": "\x00"}),
        "metric name": lambda: store.log_batch("r", metrics=[("m" * 256, 1.0)]),
        "experiment name": lambda: store.get_or_create_experiment("x" * 256),
        "sha256": lambda: store.add_file(FileRecord("r", "f", "file:///f", 1, "a" * 65, now)),
        "file name": lambda: store.add_file(FileRecord("r", "f" * 1025, "u", 1, "a" * 64, now)),
        "size": lambda: store.add_file(FileRecord("r", "f", "u", 2**63, "a" * 64, now)),
        "tag 'k' value": lambda: store.record_runs(exp, [NewRun("b", now, tags={"k": "\x00"})]),
    }
    for field, attempt in refused.items():
        with pytest.raises(ValidationError, match=field):
            attempt()
    assert [row.run.run_id for row in store.search_runs(exp).rows] == ["r"]
    assert store.get_run("r").properties == {} and store.list_files("r") == []


def test_error_text_is_kept_with_nul_replaced(store: RecordStore) -> None:
    exp = store.get_or_create_experiment("e").id
    store.create_run(exp, "r")
    store.set_status("r", RunStatus.FAILED, error="bad\x00thing")
    store.record_runs(exp, [NewRun("b", utcnow(), status=RunStatus.FAILED, error="x\x00")])
    assert store.get_run("r").error == "bad\ufffdthing"
    assert store.get_run("b").error == "x\ufffd"


@pytest.mark.parametrize("run_id", ["..", ".", "", "../r", "a/b", "a\\b", "-r", "r\x00", "r" * 65])
def test_run_ids_are_checked_on_every_way_in(store: RecordStore, run_id: str) -> None:
    exp = store.get_or_create_experiment("e").id
    now = utcnow()
    for attempt in (
        lambda: store.create_run(exp, run_id),
        lambda: store.record_runs(exp, [NewRun(run_id, now)]),
        lambda: store.get_run(run_id),
        lambda: store.log_batch(run_id, tags={"k": "v"}),
        lambda: store.set_status(run_id, RunStatus.COMPLETED),
        lambda: store.add_file(FileRecord(run_id, "f", "u", 1, "a" * 64, now)),
        lambda: store.get_file(run_id, "f"),
    ):
        with pytest.raises(ValidationError, match="run id"):
            attempt()


def test_heartbeats_are_judged_on_the_databases_clock(
    store: RecordStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    exp = store.get_or_create_experiment("e").id
    start = utcnow() - timedelta(minutes=5)
    for run_id in ("beating", "silent"):
        store.create_run(exp, run_id, start_time=start)
    store.heartbeat(["beating"])  # dated by the database
    # A caller whose clock runs 11 minutes fast asks for the runs silent for 10 minutes.
    fast = lambda: datetime.now(timezone.utc) + timedelta(minutes=11)  # noqa: E731
    monkeypatch.setattr("tracking.stores.sql.utcnow", fast)
    assert store.find_lost_runs(fast() - timedelta(minutes=10)) == []
    assert store.fail_lost_runs(fast() - timedelta(minutes=10), error="lost") == []
    # ... and one whose clock runs slow, for the runs silent for a minute.
    slow = lambda: datetime.now(timezone.utc) - timedelta(minutes=11)  # noqa: E731
    monkeypatch.setattr("tracking.stores.sql.utcnow", slow)
    assert store.fail_lost_runs(slow() - timedelta(minutes=1), error="lost") == ["silent"]


def test_a_free_key_is_claimed_and_a_second_holder_refused(store: RecordStore) -> None:
    assert store.get_claim("experiment:1") is None
    claim = store.claim("experiment:1", "first", 60)
    assert claim is not None and claim.holder == "first" and claim.key == "experiment:1"
    assert claim.lease_until - claim.acquired_at == timedelta(seconds=60)
    assert store.claim("experiment:1", "second", 60) is None
    assert store.get_claim("experiment:1") == claim
    assert store.claim("experiment:2", "second", 60) is not None  # keys are apart


def test_the_holder_renews_and_releases_its_claim(store: RecordStore) -> None:
    first = store.claim("k", "me", 1)
    assert first is not None
    again = store.claim("k", "me", 60)  # re-claiming one's own key renews it
    assert again is not None and again.acquired_at == first.acquired_at
    assert again.lease_until > first.lease_until
    assert store.renew_claim("k", "me", 120)
    assert not store.renew_claim("k", "someone else", 120)
    store.release_claim("k", "someone else")  # not theirs: nothing changes
    assert store.get_claim("k") is not None
    store.release_claim("k", "me")
    assert store.get_claim("k") is None
    assert not store.renew_claim("k", "me", 60)
    assert store.claim("k", "next", 60) is not None


def test_a_lapsed_lease_is_taken_over(store: RecordStore) -> None:
    assert store.claim("k", "gone", 0.05) is not None
    time.sleep(0.2)
    taken = store.claim("k", "next", 60)
    assert taken is not None and taken.holder == "next"
    assert not store.renew_claim("k", "gone", 60)


def test_claims_are_checked_before_any_write(store: RecordStore) -> None:
    for key, holder, lease_s in (("k" * 256, "h", 1), ("k", "h\x00", 1), ("k", "h", 0)):
        with pytest.raises(ValidationError):
            store.claim(key, holder, lease_s)
    with pytest.raises(ValidationError):
        store.claim("k", "h", math.inf)
    assert store.get_claim("k") is None


def _claim_in_process(uri: str, holder: str, barrier: Barrier, results: Queue[bool]) -> None:
    opened = open_record_store(uri)
    try:
        barrier.wait(timeout=60)
        results.put(opened.claim("race", holder, 60) is not None)
    finally:
        opened.close()


def test_of_processes_claiming_one_key_at_once_exactly_one_wins(
    store: RecordStore, tracking_uri: str
) -> None:
    context = multiprocessing.get_context("spawn")
    barrier, queue = context.Barrier(4), context.Queue()
    processes = [
        context.Process(target=_claim_in_process, args=(tracking_uri, f"p{i}", barrier, queue))
        for i in range(4)
    ]
    for process in processes:
        process.start()
    won = [queue.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(timeout=60)
    assert sorted(won) == [False, False, False, True]
    held = store.get_claim("race")
    assert held is not None and held.holder in {f"p{i}" for i in range(4)}


def test_values_are_set_replaced_and_read_by_namespace(store: RecordStore) -> None:
    assert store.get_value("tune-state", "run") is None
    store.set_value("tune-state", "run", '{"tuner.pkl": "ab"}')
    store.set_value("other", "run", "x")
    assert store.get_value("tune-state", "run") == '{"tuner.pkl": "ab"}'
    store.set_value("tune-state", "run", "replaced")
    assert store.get_value("tune-state", "run") == "replaced"
    assert store.get_value("other", "run") == "x"
    for namespace, key, value in (("n" * 65, "k", "v"), ("n", "k" * 256, "v"), ("n", "k", "\x00")):
        with pytest.raises(ValidationError):
            store.set_value(namespace, key, value)
