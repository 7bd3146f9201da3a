"""Workspace garbage collection, on real parts: a local folder and an S3 endpoint.

Each workspace holds what killed processes leave (an upload's temporary part or unfinished
multipart upload, bytes stored but never recorded, a run left `Running`) beside what must
survive (recorded files, files outside `runs/`, uploads that may still be alive).
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from tracking import Experiment, Run, Workspace
from tracking.errors import ValidationError
from tracking.gc import Kept, collect, find_garbage
from tracking.heartbeat import LOST
from tracking.records import FileRecord, RunStatus, utcnow

MODEL = b"model bytes" * 100
DAYS_AGO = time.time() - 3 * 86400


@pytest.fixture
def local_ws(tmp_path: Path) -> Iterator[Workspace]:
    ws = Workspace(
        "gc", tracking_uri=f"sqlite:///{tmp_path / 'r.db'}", storage_uri=str(tmp_path / "files")
    )
    yield ws
    ws.close()


@pytest.fixture
def s3_ws(tmp_path: Path, s3_client, s3_bucket: str) -> Iterator[Workspace]:  # type: ignore[no-untyped-def]
    ws = Workspace(
        "gc",
        tracking_uri=f"sqlite:///{tmp_path / 'r.db'}",
        storage_uri=f"s3://{s3_bucket}/ws",
        s3_client=s3_client,
    )
    yield ws
    ws.close()


def _recorded_run(ws: Workspace) -> Run:
    """A finished run with a recorded model file."""
    run = Experiment(ws, "exp").start_logging()
    run.upload_file("model.pkl", io.BytesIO(MODEL))
    run.complete()
    return run


def _lost_run(ws: Workspace) -> str:
    """A run whose recording process was killed an hour ago: still `Running`, silent."""
    exp = ws.records.get_or_create_experiment("exp").id
    ws.records.create_run(exp, "lost-run", start_time=utcnow() - timedelta(hours=2))
    ws.records.heartbeat(["lost-run"], at=utcnow() - timedelta(hours=1))
    return "lost-run"


def _record_late(ws: Workspace, key: str) -> str:
    """A process records, after `find_garbage`, a file it stored long before; its run id."""
    uri = ws.artifacts.uri_for(key)
    stored = ws.artifacts.describe(uri)
    run = Experiment(ws, "late").start_logging()
    run.register_file("late.bin", uri, size=stored.size, sha256=stored.sha256)
    return run.id


def _plant_part(folder: Path, name: str, data: bytes, *, old: bool) -> Path:
    """What the local store leaves when killed midway through writing `folder/name`."""
    folder.mkdir(parents=True, exist_ok=True)
    fd, path = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".part")
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    if old:
        os.utime(path, (DAYS_AGO, DAYS_AGO))
    return Path(path)


def _put_old(ws: Workspace, key: str, data: bytes) -> Path:
    ws.artifacts.put(key, io.BytesIO(data))
    path = Path(ws.artifacts.root) / key  # type: ignore[attr-defined]
    os.utime(path, (DAYS_AGO, DAYS_AGO))
    return path


def _assert_downloads(run: Run, folder: Path) -> None:
    path = run.download_file("model.pkl", folder / run.id)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == hashlib.sha256(MODEL).hexdigest()


def test_gc_on_a_local_workspace(local_ws: Workspace, tmp_path: Path) -> None:
    ws, root = local_ws, tmp_path / "files"
    run = _recorded_run(ws)
    recorded = Path(unquote(urlsplit(run.get_files()[0].uri).path))
    os.utime(recorded, (DAYS_AGO, DAYS_AGO))  # old, but recorded
    orphan = _put_old(ws, f"runs/{run.id}/orphan.bin", b"x" * 100)
    late = _put_old(ws, "runs/elsewhere/late.bin", b"late")
    fresh = ws.artifacts.put("runs/live/fresh.bin", io.BytesIO(b"uploading now"))
    tune = _put_old(ws, "exp/trial_0/checkpoint_000000/model.pkl", b"checkpoint")
    old_part = _plant_part(root / "runs" / run.id, "big.pkl", b"y" * 50, old=True)
    fresh_part = _plant_part(root / "runs" / "live", "next.pkl", b"z", old=False)
    lost = _lost_run(ws)

    garbage = find_garbage(ws)

    assert [(lo.kind, lo.key, lo.size) for lo in garbage.leftovers] == [
        ("part", old_part.relative_to(root).as_posix(), 50)
    ]
    assert sorted(o.key for o in garbage.unreferenced) == sorted(
        [f"runs/{run.id}/orphan.bin", "runs/elsewhere/late.bin"]
    )
    assert [r.run_id for r in garbage.lost_runs] == [lost]
    assert garbage.size == 50 + 100 + 4
    for item in (*garbage.leftovers, *garbage.unreferenced):
        assert timedelta(days=2, hours=23) < garbage.age(item) < timedelta(days=3, hours=1)
    assert timedelta(minutes=59) < garbage.age(garbage.lost_runs[0]) < timedelta(minutes=61)
    assert ws.records.get_run(lost).status is RunStatus.RUNNING  # finding changes nothing
    assert old_part.exists() and orphan.exists()

    _record_late(ws, "runs/elsewhere/late.bin")
    result = collect(ws, garbage)

    assert result.removed == garbage.leftovers
    assert [o.key for o in result.deleted] == [f"runs/{run.id}/orphan.bin"]
    assert result.failed_runs == (lost,)
    assert result.kept == (Kept(ws.artifacts.uri_for("runs/elsewhere/late.bin"),
                                "a file record names it now"),)  # fmt: skip
    assert result.freed == 150
    assert not old_part.exists() and not orphan.exists()
    assert fresh_part.exists() and late.exists() and tune.exists()
    assert ws.artifacts.describe(fresh.uri) == fresh
    failed = ws.records.get_run(lost)
    assert failed.status is RunStatus.FAILED and failed.error.startswith(LOST)  # type: ignore[union-attr]
    _assert_downloads(run, tmp_path / "out")
    assert not find_garbage(ws)


def test_gc_on_an_s3_workspace(s3_ws: Workspace, s3_client, s3_bucket: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ws = s3_ws
    run = _recorded_run(ws)
    ws.artifacts.put(f"runs/{run.id}/orphan.bin", io.BytesIO(b"x" * 100))
    ws.artifacts.put("runs/elsewhere/late.bin", io.BytesIO(b"late"))
    ws.artifacts.put("exp/trial_0/checkpoint_000000/model.pkl", io.BytesIO(b"checkpoint"))
    s3_client.put_object(Bucket=s3_bucket, Key="not-the-workspace/runs/r/x", Body=b"neighbour")
    old_upload = _start_upload(s3_client, s3_bucket, f"ws/runs/{run.id}/big.pkl")
    lost = _lost_run(ws)
    # S3 cannot backdate: gc looks as it will a day after `cutoff`, so what was written
    # before it is old and what is written after it is fresh. The cutoff is a whole second
    # (the test server's times have none) and we wait until it has passed.
    cutoff = datetime.fromtimestamp(int(time.time()) + 1, tz=timezone.utc)
    time.sleep(max(0.0, (cutoff - utcnow()).total_seconds()) + 0.05)
    fresh_upload = _start_upload(s3_client, s3_bucket, "ws/runs/live/next.pkl")
    ws.artifacts.put("runs/live/fresh.bin", io.BytesIO(b"uploading now"))

    garbage = find_garbage(ws, now=cutoff + timedelta(days=1))

    assert [(lo.kind, lo.key, lo.upload_id, lo.size) for lo in garbage.leftovers] == [
        ("multipart", f"runs/{run.id}/big.pkl", old_upload, 10)
    ]
    assert sorted(o.key for o in garbage.unreferenced) == sorted(
        [f"runs/{run.id}/orphan.bin", "runs/elsewhere/late.bin"]
    )
    assert [r.run_id for r in garbage.lost_runs] == [lost]

    late_run = _record_late(ws, "runs/elsewhere/late.bin")
    result = collect(ws, garbage)

    assert result.removed == garbage.leftovers
    assert [o.key for o in result.deleted] == [f"runs/{run.id}/orphan.bin"]
    # Only the runs found are failed: a run begun since is not, though as gc sees it
    # (a day from now) its heartbeat is old too.
    assert result.failed_runs == (lost,)
    assert ws.records.get_run(late_run).status is RunStatus.RUNNING
    assert [k.what for k in result.kept] == [ws.artifacts.uri_for("runs/elsewhere/late.bin")]
    uploads = s3_client.list_multipart_uploads(Bucket=s3_bucket).get("Uploads", [])
    assert [u["UploadId"] for u in uploads] == [fresh_upload]
    keys = {o["Key"] for o in s3_client.list_objects_v2(Bucket=s3_bucket)["Contents"]}
    assert keys == {
        run.get_files()[0].uri.split("/", 3)[3],  # the recorded model's key
        "ws/runs/elsewhere/late.bin",
        "ws/runs/live/fresh.bin",
        "ws/exp/trial_0/checkpoint_000000/model.pkl",
        "not-the-workspace/runs/r/x",
    }
    assert ws.records.get_run(lost).status is RunStatus.FAILED
    _assert_downloads(run, tmp_path / "out")


def _start_upload(client, bucket: str, key: str) -> str:  # type: ignore[no-untyped-def]
    """A multipart upload whose process was killed after its first part."""
    upload_id: str = client.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    client.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=1, Body=b"p" * 10)
    return upload_id


def test_collecting_twice_never_raises_for_what_has_gone(
    local_ws: Workspace, tmp_path: Path
) -> None:
    ws = local_ws
    run = _recorded_run(ws)
    _put_old(ws, f"runs/{run.id}/orphan.bin", b"x")
    _plant_part(tmp_path / "files" / "runs" / run.id, "big.pkl", b"y", old=True)
    _lost_run(ws)
    garbage = find_garbage(ws)
    assert len(garbage.leftovers) == len(garbage.unreferenced) == len(garbage.lost_runs) == 1

    collect(ws, garbage)
    again = collect(ws, garbage)

    assert (again.removed, again.deleted, again.failed_runs) == ((), (), ())
    assert [k.what for k in again.kept] == [
        garbage.leftovers[0].uri,
        "lost-run",
        garbage.unreferenced[0].uri,
    ]
    _assert_downloads(run, tmp_path / "out")


def test_a_file_written_again_after_it_was_found_is_kept(
    local_ws: Workspace, tmp_path: Path
) -> None:
    ws = local_ws
    path = _put_old(ws, "runs/r/model.pkl", b"old bytes")
    garbage = find_garbage(ws)
    ws.artifacts.put("runs/r/model.pkl", io.BytesIO(b"new bytes"))  # its upload, retried

    result = collect(ws, garbage)

    assert result.deleted == ()
    assert [k.what for k in result.kept] == [garbage.unreferenced[0].uri]
    assert path.read_bytes() == b"new bytes"


def test_a_record_outside_the_root_still_protects_the_file_it_names(
    local_ws: Workspace, tmp_path: Path
) -> None:
    # The same shared folder, mounted elsewhere on the machine that recorded the file.
    ws = local_ws
    _put_old(ws, "runs/r/model.pkl", b"bytes")
    elsewhere = Path("/mnt/team/files/runs/r/model.pkl").as_uri()
    exp = ws.records.get_or_create_experiment("e").id
    ws.records.create_run(exp, "r")
    ws.records.add_file(FileRecord("r", "model.pkl", elsewhere, 5, "a" * 64, utcnow()))
    assert find_garbage(ws).unreferenced == ()


def test_bad_arguments_are_refused(local_ws: Workspace) -> None:
    with pytest.raises(ValidationError, match="negative"):
        find_garbage(local_ws, older_than=timedelta(hours=-1))
    with pytest.raises(ValidationError, match="timezone"):
        find_garbage(local_ws, now=datetime(2030, 1, 1))

