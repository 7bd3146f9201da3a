"""Cases 5 and 8: model files altered in storage, and pickles that run code when loaded.

The hostile pickle is real: `pickle.loads` of it writes a marker file (see
`tests.helpers.faults.WritesMarker`), so "never executed" is checked by the marker's absence.
"""

from __future__ import annotations

import io
import pickle
import warnings
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from tests.helpers.faults import WritesMarker
from tracking import Experiment, IntegrityError, Run, Workspace
from tracking.portal import create_app
from tracking.records import FileRecord, utcnow

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

MODEL = pickle.dumps({"weights": [1.0, 2.0]})


@pytest.fixture(params=["local", "s3"])
def workspace(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Workspace, str]]:
    """A workspace whose files are in a folder, or in a bucket of the loopback S3 server."""
    records = f"sqlite:///{tmp_path / 'records.db'}"
    if request.param == "s3":
        bucket = request.getfixturevalue("s3_bucket")
        endpoint = request.getfixturevalue("s3_endpoint")
        ws = Workspace(
            "t", tracking_uri=records, storage_uri=f"s3://{bucket}/team", s3_endpoint_url=endpoint
        )
    else:
        ws = Workspace("t", tracking_uri=records, storage_uri=str(tmp_path / "storage"))
    yield ws, request.param
    ws.close()


def _overwrite(ws: Workspace, uri: str, data: bytes) -> None:
    """Change a stored file behind the tracking records' back, as an intruder would."""
    if uri.startswith("s3://"):
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        ws.artifacts.client.put_object(Bucket=bucket, Key=key, Body=data)  # type: ignore[attr-defined]
    else:
        Path(unquote(urlsplit(uri).path)).write_bytes(data)


def _hostile(marker: Path) -> bytes:
    data = pickle.dumps(WritesMarker(marker))
    assert b"write_text" in data  # it really calls Path.write_text when loaded
    return data


@pytest.mark.reliability(
    case=5,
    fault="a stored model file replaced in storage (folder, S3) after upload by a pickle that "
    "writes a marker when loaded",
    expected="download_file and Run.load_model refuse it (SHA-256 mismatch) with an error "
    "naming the file; nothing is downloaded, nothing unpickled",
)
def test_an_altered_model_is_refused_by_download_and_load(
    workspace: tuple[Workspace, str], tmp_path: Path, record_property: pytest.RecordProperty
) -> None:
    ws, kind = workspace
    run = Experiment(ws, "tampered").start_logging()
    record = run.upload_file("outputs/model.pkl", io.BytesIO(MODEL))
    assert run.load_model("outputs/model.pkl") == {"weights": [1.0, 2.0]}
    marker = tmp_path / "pwned"
    _overwrite(ws, record.uri, _hostile(marker))
    errors = []
    with pytest.raises(IntegrityError) as refused:
        run.download_file("outputs/model.pkl", tmp_path / "copy.pkl")
    errors.append(str(refused.value))
    with pytest.raises(IntegrityError) as refused:
        run.download_files(output_directory=tmp_path / "all")
    errors.append(str(refused.value))
    with pytest.raises(IntegrityError) as refused:
        run.load_model("outputs/model.pkl")
    errors.append(str(refused.value))
    with pytest.raises(IntegrityError) as refused:
        Run(Experiment(ws, "tampered"), run.id).load_model("outputs/model.pkl")
    errors.append(str(refused.value))
    record_property(
        "observed",
        f"{kind}: {len(errors)} of 4 calls (download_file, download_files, load_model x2) "
        "raised IntegrityError naming 'outputs/model.pkl' and its recorded hash; "
        f"0 copies written; marker present: {marker.exists()}",
    )
    assert all(f"'outputs/model.pkl' of run {run.id}" in e for e in errors), errors
    assert all(record.sha256 in e for e in errors)
    assert not (tmp_path / "copy.pkl").exists()
    assert not any((tmp_path / "all").rglob("*.pkl"))
    assert not marker.exists()


@pytest.mark.reliability(
    case=8,
    fault="a hostile .pkl (unpickling writes a marker file) uploaded as a run file, then "
    "downloaded through the portal and the facade",
    expected="the downloads deliver its bytes as a file, verified, without unpickling it: "
    "the marker never appears",
)
def test_downloading_a_hostile_pickle_never_runs_it(
    workspace: tuple[Workspace, str], tmp_path: Path, record_property: pytest.RecordProperty
) -> None:
    ws, kind = workspace
    marker = tmp_path / "pwned"
    hostile = _hostile(marker)
    run = Experiment(ws, "hostile").start_logging()
    run.upload_file("model.pkl", io.BytesIO(hostile))
    with TestClient(create_app(ws), base_url="http://127.0.0.1:8080") as client:
        response = client.get(f"/api/runs/{run.id}/files/model.pkl")
        page = client.get(f"/runs/{run.id}")
    assert response.status_code == 200 and response.content == hostile
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["content-disposition"].startswith("attachment;")
    assert page.status_code == 200
    single = run.download_file("model.pkl", tmp_path / "one.pkl")
    every = run.download_files(output_directory=tmp_path / "all")
    assert single.read_bytes() == hostile and [p.read_bytes() for p in every] == [hostile]
    record_property(
        "observed",
        f"{kind}: portal {response.status_code} as an attachment, {len(every) + 1} verified "
        f"facade copies; marker present: {marker.exists()}",
    )
    assert not marker.exists(), "downloading the pickle ran it"


@pytest.mark.reliability(
    case=8,
    fault="a hostile .pkl whose file record has no SHA-256 recorded at upload (empty or "
    "malformed hash, as a row from another client could hold)",
    expected="Run.load_model refuses it with an error naming the file, before reading it; "
    "the marker never appears",
)
def test_load_model_refuses_a_file_without_a_recorded_hash(
    workspace: tuple[Workspace, str], tmp_path: Path, record_property: pytest.RecordProperty
) -> None:
    ws, kind = workspace
    marker = tmp_path / "pwned"
    run = Experiment(ws, "unhashed").start_logging()
    recorded_hashes = ["", "unknown", "0" * 63, "A" * 64]
    for i, recorded in enumerate(recorded_hashes):
        name = f"legacy-{i}.pkl"
        stored = ws.artifacts.put(f"runs/{run.id}/{name}", io.BytesIO(_hostile(marker)))
        ws.records.add_file(FileRecord(run.id, name, stored.uri, stored.size, recorded, utcnow()))
        with pytest.raises(IntegrityError) as refused:
            run.load_model(name)
        message = str(refused.value)
        assert f"'{name}' of run {run.id}" in message and "no valid SHA-256" in message
        assert not marker.exists()
    record_property(
        "observed",
        f"{kind}: {len(recorded_hashes)} of {len(recorded_hashes)} files (hash '', 'unknown', "
        "63 zeros, upper-case hex) refused by load_model with IntegrityError naming the file; "
        "marker absent",
    )
