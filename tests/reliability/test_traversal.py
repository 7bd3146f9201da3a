"""Case 7: path traversal against the facade (upload_file, download_file, download_files) and
the portal. Every file-system call of the test process is watched with an audit hook.
"""

from __future__ import annotations

import io
import os
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest

from tests.helpers.asgi import raw_get
from tests.reliability.audit import Access, outside, watch
from tracking import Experiment, Run, ValidationError, Workspace
from tracking.portal import create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

SECRET = "secret.txt"
# The corpus of issue 7, in the forms a caller could pass them (the absolute path of the
# secret file is added per test, since it depends on the test's folder).
CORPUS = [
    "../secret.txt",
    "../../../../../../etc/passwd",
    "outputs/../../secret.txt",
    "..%2fsecret.txt",
    "..%2F..%2F..%2Fsecret.txt",
    "%2e%2e/secret.txt",
    "%252e%252e%252fsecret.txt",
    "%25252e%25252e%25252fsecret.txt",
    "..\\secret.txt",
    "outputs\\..\\..\\secret.txt",
    "..%5csecret.txt",
    "/etc/passwd",
    "//etc/passwd",
    "%2fetc%2fpasswd",
    "~/secret.txt",
    "C:\\Windows\\win.ini",
    "C:/secret.txt",
    "c:secret.txt",
    "model.pkl#../../secret.txt",
    "#",
    "model.pkl;../secret.txt",
    ";",
    "model.pkl?x=../secret.txt",
    "?x=../",
    "model\x00.pkl",
    "model\n.pkl",
    "model\r\n.pkl",
    "\x1b[31mmodel.pkl",
    "model\x7f.pkl",
    "model%00.pkl",
    "model%0a.pkl",
    "model\u2028.pkl",
    "\u202ekp.ledom",
    "./model.pkl",
    "outputs//model.pkl",
    ".",
    "..",
]


@dataclass
class Setup:
    folder: Path
    workspace: Workspace
    run: Run
    storage: Path
    secret: Path

    @property
    def run_folder(self) -> Path:
        return self.storage / "runs" / self.run.id


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    storage = tmp_path / "ws" / "storage"
    ws = Workspace(
        "t", tracking_uri=f"sqlite:///{tmp_path / 'ws' / 'records.db'}", storage_uri=str(storage)
    )
    run = Experiment(ws, "traversal").start_logging()
    run.upload_file("model.pkl", io.BytesIO(b"the run's own model"))
    secret = tmp_path / SECRET
    secret.write_text("outside the storage")
    yield Setup(tmp_path, ws, run, storage, secret)
    ws.close()


def _corpus(setup: Setup) -> list[str]:
    return [*CORPUS, str(setup.secret), setup.secret.as_uri()]


def _check_untouched(setup: Setup, seen: list[Access], label: str) -> None:
    writes = [a for a in seen if a.writes]
    assert writes == [], f"{label}: wrote {writes}"
    strays = outside(seen, [setup.run_folder], setup.folder)
    assert strays == [], f"{label}: touched {strays}"
    assert all(a.path != "/etc/passwd" for a in seen), f"{label}: read /etc/passwd"


@pytest.mark.reliability(
    case=7,
    fault="traversal names (../, ..%2f, %252e%252e%252f, ..\\, absolute, C:\\, #, ;, ?x=../, "
    "control characters) given to Run.upload_file, download_file and download_files",
    expected="every name refused with ValidationError before any I/O; no file outside the "
    "run's files opened or written",
)
def test_the_facade_refuses_every_traversal_name_before_any_io(
    setup: Setup, record_property: pytest.RecordProperty
) -> None:
    out = setup.folder / "out"
    out.mkdir()
    names = _corpus(setup)
    refused = 0
    for name in names:
        attempts: list[tuple[str, Any]] = [
            ("upload_file", lambda n=name: setup.run.upload_file(n, io.BytesIO(b"evil"))),
            ("download_file", lambda n=name: setup.run.download_file(n, out)),
            ("download_files", lambda n=name: setup.run.download_files(n, output_directory=out)),
        ]
        for method, attempt in attempts:
            with watch() as seen, pytest.raises(ValidationError, match="not accepted"):
                attempt()
            _check_untouched(setup, seen, f"{method}({name!r})")
            refused += 1
    assert list(out.iterdir()) == []
    assert setup.run.get_file_names() == ["model.pkl"]
    assert setup.secret.read_text() == "outside the storage"
    record_property(
        "observed",
        f"{len(names)} names x 3 methods: {refused} of {3 * len(names)} calls refused with "
        "ValidationError; 0 files written, 0 opened outside the run's folder",
    )


@pytest.mark.reliability(
    case=7,
    fault="a run's stored file replaced by a symlink to a file outside the storage folder "
    "(same bytes, so only the link can give it away)",
    expected="download_file, download_files, load_model and the portal refuse it; the outside "
    "file is never opened",
)
def test_a_symlinked_run_file_is_refused_everywhere(
    setup: Setup, record_property: pytest.RecordProperty
) -> None:
    (record,) = setup.run.get_files()
    stored = Path(unquote(urlsplit(record.uri).path))
    setup.secret.write_bytes(stored.read_bytes())
    stored.unlink()
    stored.symlink_to(setup.secret)
    out = setup.folder / "out"
    out.mkdir()
    messages = []
    with watch() as seen:
        for attempt in (
            lambda: setup.run.download_file("model.pkl", out),
            lambda: setup.run.download_files(output_directory=out),
            lambda: setup.run.load_model("model.pkl"),
        ):
            with pytest.raises(ValidationError, match="outside the storage folder") as refused:
                attempt()
            messages.append(str(refused.value))
        with TestClient(create_app(setup.workspace), base_url="http://127.0.0.1:8080") as client:
            response = client.get(f"/api/runs/{setup.run.id}/files/model.pkl")
    assert response.status_code == 400, response.text
    assert "outside the storage folder" in response.json()["error"]
    assert b"the run's own model" not in response.content
    assert all(a.path != str(setup.secret.resolve()) for a in seen), "the outside file was read"
    assert list(out.iterdir()) == []
    record_property(
        "observed",
        f"3 facade calls refused ('...{messages[0][-40:]}') and the portal answered "
        f"{response.status_code}; the outside file was never opened",
    )


@pytest.mark.reliability(
    case=7,
    fault="a run's storage folder replaced by a symlink to a folder outside the storage, "
    "then files uploaded to it (flat and in a sub-folder)",
    expected="upload_file refuses both; nothing is created or written outside the storage",
)
def test_an_upload_into_a_symlinked_run_folder_writes_nothing_outside(
    setup: Setup, record_property: pytest.RecordProperty
) -> None:
    run = Experiment(setup.workspace, "traversal").start_logging()
    elsewhere = setup.folder / "elsewhere"
    elsewhere.mkdir()
    folder = setup.storage / "runs" / run.id
    folder.symlink_to(elsewhere, target_is_directory=True)
    with watch() as seen:
        for name in ("model.pkl", "sub/model.pkl", "sub/deeper/model.pkl"):
            with pytest.raises(ValidationError, match="outside the storage folder"):
                run.upload_file(name, io.BytesIO(b"evil"))
    created = sorted(p.relative_to(elsewhere).as_posix() for p in elsewhere.rglob("*"))
    writes = [a for a in seen if a.writes and a.path.startswith(str(elsewhere.resolve()))]
    record_property(
        "observed",
        f"3 uploads through the symlinked folder: {len(run.get_file_names())} files recorded, "
        f"{len(created)} entries created outside ({created}), {len(writes)} writes outside",
    )
    assert run.get_file_names() == []
    assert created == [], f"created outside the storage: {created}"
    assert writes == []


@pytest.mark.reliability(
    case=7,
    fault="download_files into an output folder whose sub-folder is a symlink leading outside",
    expected="refused before the file is written; nothing written outside the output folder",
)
def test_download_files_does_not_follow_a_symlink_out_of_the_output_folder(
    setup: Setup, record_property: pytest.RecordProperty
) -> None:
    run = Experiment(setup.workspace, "traversal").start_logging()
    run.upload_file("outputs/model.pkl", io.BytesIO(b"model"))
    out, elsewhere = setup.folder / "out", setup.folder / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    (out / "outputs").symlink_to(elsewhere, target_is_directory=True)
    with watch() as seen, pytest.raises(ValidationError, match="outside"):
        run.download_files(output_directory=out)
    writes = [a for a in seen if a.writes and a.path.startswith(str(elsewhere.resolve()))]
    record_property(
        "observed",
        f"refused; {len(list(elsewhere.iterdir()))} files and {len(writes)} writes "
        "outside the output folder",
    )
    assert list(elsewhere.iterdir()) == [] and writes == []


def _percent(name: str) -> str:
    """`name` as a request target can carry it: control characters and spaces %-encoded."""
    return "".join(
        c if 0x20 < ord(c) < 0x7F else f"%{ord(c):02X}"
        for c in name.encode("utf-8").decode("latin-1")
    )


@pytest.mark.reliability(
    case=7,
    fault="the same traversal corpus sent to the portal's file route as raw request targets",
    expected="each refused (400/404), or, for a literal '?', answered with the run's own file "
    "only; no file outside the run's files opened, none written",
)
def test_the_portal_refuses_every_traversal_name(
    setup: Setup, record_property: pytest.RecordProperty
) -> None:
    app = create_app(setup.workspace)
    statuses: dict[int, int] = {}
    for name in _corpus(setup):
        raw = f"/api/runs/{setup.run.id}/files/{_percent(name)}".encode("latin-1")
        with watch() as seen:
            status, body = raw_get(app, raw)
        statuses[status] = statuses.get(status, 0) + 1
        assert b"outside the storage" not in body and b"root:" not in body, name
        if status == 200:
            # A literal '?' starts the query: the target names the run's own model.pkl.
            assert name.startswith("model.pkl?") and body == b"the run's own model", name
        else:
            assert status in (400, 404), (name, status, body)
        # The portal copies a file it sends into an anonymous temporary file (O_TMPFILE).
        anonymous = os.path.realpath(tempfile.gettempdir())
        _check_untouched(setup, [a for a in seen if a.path != anonymous], name)
    record_property(
        "observed",
        f"{sum(statuses.values())} request targets: "
        + ", ".join(f"{n} answered {s}" for s, n in sorted(statuses.items()))
        + " (200 only for 'model.pkl?x=...', the run's own file); nothing opened outside",
    )
