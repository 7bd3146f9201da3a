"""The artifact store contract, run against a local folder and a real S3 endpoint."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest

from tracking.artifacts import open_artifact_store
from tracking.artifacts.base import ArtifactStore
from tracking.errors import (
    ConfigError,
    IntegrityError,
    NotFoundError,
    StorageError,
    ValidationError,
)


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


def test_unknown_scheme_lists_the_supported_ones() -> None:
    with pytest.raises(ConfigError, match=r"gs.*folder path, file://, s3://"):
        open_artifact_store("gs://bucket/x")
