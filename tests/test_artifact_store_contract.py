"""The artifact store contract, run against a local folder and a real S3 endpoint."""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from tracking.artifacts import open_artifact_store
from tracking.artifacts.base import ArtifactStore, Leftover
from tracking.artifacts.local import LocalArtifactStore
from tracking.artifacts.s3 import S3ArtifactStore
from tracking.errors import (
    ConfigError,
    IntegrityError,
    NotFoundError,
    StorageError,
    ValidationError,
)
from tracking.records import utcnow


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ArtifactStore:
    if request.param == "local":
        return open_artifact_store(str(tmp_path / "storage"))
    client = request.getfixturevalue("s3_client")
    bucket = request.getfixturevalue("s3_bucket")
    return open_artifact_store(f"s3://{bucket}/team/ws", s3_client=client)


def test_put_records_size_and_sha256_and_reads_back(store: ArtifactStore) -> None:
    data = b"model bytes" * 1000
    stored = store.put("runs/r1/model.pkl", io.BytesIO(data))
    assert stored.uri == store.uri_for("runs/r1/model.pkl")
    assert stored.uri.startswith(store.root_uri)
    assert (stored.size, stored.sha256) == (len(data), hashlib.sha256(data).hexdigest())
    with store.open(stored.uri) as stream:
        assert stream.read() == data
    assert store.describe(stored.uri) == stored


def test_put_from_a_local_file(store: ArtifactStore, tmp_path: Path) -> None:
    source = tmp_path / "m.bin"
    source.write_bytes(b"\x00\x01" * 10)
    stored = store.put("runs/r/m.bin", source)
    assert stored.size == 20


def test_download_verifies_the_hash_before_the_file_appears(
    store: ArtifactStore, tmp_path: Path
) -> None:
    stored = store.put("runs/r/f.txt", io.BytesIO(b"hello"))
    out = store.download(stored.uri, tmp_path / "out" / "f.txt", sha256=stored.sha256, label="f")
    assert out.read_bytes() == b"hello"
    bad = tmp_path / "bad" / "f.txt"
    with pytest.raises(IntegrityError, match="'f.txt' of run r"):
        store.download(stored.uri, bad, sha256="0" * 64, label="'f.txt' of run r")
    assert not bad.exists()
    assert list(bad.parent.iterdir()) == []  # the partial copy is gone too


def test_missing_objects_and_foreign_uris(store: ArtifactStore) -> None:
    with pytest.raises(NotFoundError), store.open(store.uri_for("runs/none/x")):
        pass
    for outside in ("file:///etc/passwd", "s3://other-bucket/x", store.root_uri + "/../x"):
        with pytest.raises(ValidationError), store.open(outside):
            pass
        with pytest.raises(ValidationError):
            store.check_inside(outside)
    store.check_inside(store.uri_for("runs/not-yet-written/model.pkl"))


def test_objects_are_listed_by_key_prefix(store: ArtifactStore) -> None:
    for key, data in (("runs/r1/a", b"1"), ("runs/r1/b/c.txt", b"22"), ("runs/r2/d", b"333")):
        store.put(key, io.BytesIO(data))
    store.put("tune/exp/checkpoint", io.BytesIO(b"ckpt"))
    listed = {o.key: o for o in store.list_objects("runs/")}
    assert sorted(listed) == ["runs/r1/a", "runs/r1/b/c.txt", "runs/r2/d"]
    assert listed["runs/r2/d"].size == 3
    for obj in listed.values():
        assert obj.uri == store.uri_for(obj.key)
        assert store.key_of(obj.uri) == obj.key
        assert abs(utcnow() - obj.modified) < timedelta(minutes=1)  # aware, in UTC
    assert sorted(o.key for o in store.list_objects("runs/r1")) == ["runs/r1/a", "runs/r1/b/c.txt"]
    assert len(list(store.list_objects())) == 4
    assert list(store.list_objects("nothing/here/")) == []
    for bad in ("../", "/etc/", "runs/../../"):
        with pytest.raises(ValidationError, match="prefix"):
            list(store.list_objects(bad))


def test_key_of_accepts_only_uris_inside_the_root(store: ArtifactStore) -> None:
    assert store.key_of(store.uri_for("runs/r/m.pkl")) == "runs/r/m.pkl"
    for outside in ("file:///etc/passwd", "s3://other-bucket/x", store.root_uri + "/../x"):
        with pytest.raises(ValidationError):
            store.key_of(outside)


def test_delete_removes_one_object_and_tolerates_a_vanished_one(store: ArtifactStore) -> None:
    keep = store.put("runs/r/keep", io.BytesIO(b"keep"))
    gone = store.put("runs/r/gone", io.BytesIO(b"gone"))
    (listed,) = store.list_objects("runs/r/gone")
    # Written again after the moment given: kept.
    assert not store.delete(gone.uri, not_modified_after=listed.modified - timedelta(hours=1))
    assert store.delete(gone.uri, not_modified_after=listed.modified)
    assert not store.delete(gone.uri)  # already gone: not an error
    with pytest.raises(NotFoundError), store.open(gone.uri):
        pass
    assert store.describe(keep.uri) == keep
    for outside in ("file:///etc/passwd", "s3://other-bucket/x", store.root_uri + "/../x"):
        with pytest.raises(ValidationError):
            store.delete(outside)


@pytest.fixture
def plant_leftover(store: ArtifactStore) -> Callable[[str, bytes], None]:
    """Leave what an upload killed midway leaves: a `.part` file, or a multipart upload."""

    def plant(key: str, data: bytes) -> None:
        if isinstance(store, LocalArtifactStore):
            target = store.root / key
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, _ = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
        else:
            assert isinstance(store, S3ArtifactStore)
            full = f"{store.prefix}/{key}"
            upload = store.client.create_multipart_upload(Bucket=store.bucket, Key=full)
            store.client.upload_part(
                Bucket=store.bucket, Key=full, UploadId=upload["UploadId"], PartNumber=1, Body=data
            )

    return plant


def test_leftovers_are_listed_once_old_and_removed_once(
    store: ArtifactStore, plant_leftover: Callable[[str, bytes], None]
) -> None:
    plant_leftover("runs/r/model.pkl", b"half a model")
    store.put("runs/r/done.txt", io.BytesIO(b"done"))
    assert store.leftovers(utcnow() - timedelta(hours=1)) == []  # it may be alive
    (leftover,) = store.leftovers(utcnow() + timedelta(minutes=1))
    assert isinstance(leftover, Leftover)
    assert leftover.kind in ("part", "multipart")
    assert leftover.key.startswith("runs/r/") and "model.pkl" in leftover.key
    assert leftover.uri == store.uri_for(leftover.key)
    assert leftover.size == len(b"half a model")
    assert abs(utcnow() - leftover.started) < timedelta(minutes=1)
    assert [o.key for o in store.list_objects("runs/")] == ["runs/r/done.txt"]  # not an object
    assert store.remove(leftover)
    assert not store.remove(leftover)  # gone already: not an error
    assert store.leftovers(utcnow() + timedelta(minutes=1)) == []
    assert [o.key for o in store.list_objects("runs/")] == ["runs/r/done.txt"]


def test_a_leftover_written_again_since_it_was_listed_is_kept(
    store: ArtifactStore, plant_leftover: Callable[[str, bytes], None]
) -> None:
    plant_leftover("runs/r/model.pkl", b"first part")
    (leftover,) = store.leftovers(utcnow() + timedelta(minutes=1))
    earlier = leftover.started - timedelta(seconds=5)
    assert not store.remove(Leftover(**{**leftover.__dict__, "started": earlier}))
    assert len(store.leftovers(utcnow() + timedelta(minutes=1))) == 1


def test_check_writable_passes_on_usable_storage(store: ArtifactStore) -> None:
    store.check_writable()


def test_missing_bucket_names_bucket_and_endpoint(s3_client, s3_endpoint: str) -> None:  # type: ignore[no-untyped-def]
    store = open_artifact_store("s3://no-such-bucket/p", s3_client=s3_client)
    with pytest.raises(StorageError, match="'no-such-bucket'.*" + s3_endpoint) as info:
        store.check_writable()
    assert "Traceback" not in str(info.value)
    with pytest.raises(StorageError, match="no-such-bucket"):
        store.put("x", io.BytesIO(b"1"))


def test_unreachable_endpoint_is_one_clear_error() -> None:
    from tracking.artifacts.s3 import make_s3_client

    client = make_s3_client("http://127.0.0.1:9", max_attempts=1)
    store = open_artifact_store("s3://bucket/p", s3_client=client)
    with pytest.raises(StorageError, match="127.0.0.1:9.*'bucket'|'bucket'.*127.0.0.1:9"):
        store.check_writable()


def test_unwritable_folder_is_one_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(StorageError, match=str(blocker)):
        open_artifact_store(str(blocker / "storage")).check_writable()


def test_local_store_refuses_symlinks_out_of_the_root(tmp_path: Path) -> None:
    root = tmp_path / "storage"
    (root / "runs").mkdir(parents=True)
    secret = tmp_path / "secret.txt"
    secret.write_text("secret")
    (root / "runs" / "link").symlink_to(secret)
    (root / "runs" / "dir").symlink_to(tmp_path)
    store = open_artifact_store(str(root))
    with pytest.raises(ValidationError), store.open(store.uri_for("runs/link")):
        pass
    with pytest.raises(ValidationError):
        store.put("runs/dir/evil.txt", io.BytesIO(b"x"))
    assert not (tmp_path / "evil.txt").exists()


def test_local_listing_skips_links_and_deletes_no_link_target(tmp_path: Path) -> None:
    root = tmp_path / "storage"
    store = open_artifact_store(str(root))
    kept = store.put("runs/r/kept.txt", io.BytesIO(b"kept"))
    outside = tmp_path / "outside.txt"
    outside.write_text("outside")
    (root / "runs" / "r" / "link-out").symlink_to(outside)
    (root / "runs" / "r" / "link-in").symlink_to(root / "runs" / "r" / "kept.txt")
    (root / "runs" / "dir-out").symlink_to(tmp_path)
    assert [o.key for o in store.list_objects("runs/")] == ["runs/r/kept.txt"]
    for link in ("runs/r/link-out", "runs/r/link-in", "runs/dir-out/outside.txt"):
        with pytest.raises(ValidationError):
            store.delete(store.uri_for(link))
    assert outside.read_text() == "outside"
    assert store.describe(kept.uri) == kept


def test_s3_listing_stays_inside_the_prefix(s3_client, s3_bucket: str) -> None:  # type: ignore[no-untyped-def]
    store = open_artifact_store(f"s3://{s3_bucket}/team/ws", s3_client=s3_client)
    s3_client.put_object(Bucket=s3_bucket, Key="team/ws2/runs/r/x", Body=b"neighbour")
    s3_client.put_object(Bucket=s3_bucket, Key="team/ws/runs/", Body=b"")  # a folder marker
    neighbour = s3_client.create_multipart_upload(Bucket=s3_bucket, Key="team/ws2/runs/r/y")
    store.put("runs/r/mine", io.BytesIO(b"mine"))
    assert [o.key for o in store.list_objects()] == ["runs/r/mine"]
    assert store.leftovers(utcnow() + timedelta(days=1)) == []
    s3_client.abort_multipart_upload(
        Bucket=s3_bucket, Key="team/ws2/runs/r/y", UploadId=neighbour["UploadId"]
    )


def test_unknown_scheme_lists_the_supported_ones() -> None:
    with pytest.raises(ConfigError, match=r"gs.*folder path, file://, s3://"):
        open_artifact_store("gs://bucket/x")
