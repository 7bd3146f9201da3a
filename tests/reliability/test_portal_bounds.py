"""Cases 25, 26 and 27: what one portal request may cost, and how the portal takes its token.

25: a run with a long metric history (written in bulk through the record store) asked for
its page and its JSON; 26: large downloads held open by stalled clients, a file changed
while it is sent, and more downloads than the portal serves at once, against a real
`python -m tracking.portal` process; 27: short tokens, tokens in files and on the command line.
"""

from __future__ import annotations

import asyncio
import hashlib
import http.client
import io
import json
import os
import re
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from tests.helpers.asgi import raw_get
from tests.helpers.net import free_port, wait_for_http
from tracking import Experiment, Workspace
from tracking.portal import create_app
from tracking.portal.__main__ import main as portal_main
from tracking.records import NewRun, RunStatus, utcnow

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient
    from starlette.types import Message, Scope

BASE = "http://127.0.0.1:8080"
MiB = 1 << 20


# -- case 25: long metric histories -----------------------------------------------------------
VALUES = 100_000
LOW_STEP, HIGH_STEP = 37_777, 63_457  # where the series' least and greatest values are


def _loss(step: int) -> float:
    if step == LOW_STEP:
        return -50.0
    if step == HIGH_STEP:
        return 50.0
    return (step % 1000) / 1000


@dataclass
class LongRun:
    workspace: Workspace
    run_id: str


@pytest.fixture(scope="module")
def long_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LongRun]:
    """A finished run with 100,000 values of 'loss' and 3 of 'acc', written in one batch."""
    folder = tmp_path_factory.mktemp("long-run")
    ws = Workspace(
        "t", tracking_uri=f"sqlite:///{folder / 'records.db'}", storage_uri=str(folder / "s")
    )
    Experiment(ws, "long")
    experiment_id = ws.records.get_experiment("long").id
    metrics = tuple(("loss", _loss(step)) for step in range(VALUES))
    metrics += (("acc", 0.5), ("acc", 0.6), ("acc", 0.7))
    ws.records.record_runs(
        experiment_id,
        [NewRun("long-run", utcnow(), metrics=metrics, status=RunStatus.COMPLETED)],
    )
    yield LongRun(ws, "long-run")
    ws.close()


@pytest.mark.reliability(
    case=25,
    fault="a finished run with 100,000 values of one metric (one bulk write), asked for its "
    "page, its JSON, a range of its history and the whole of it",
    expected="page and JSON under 1 MiB: each history at most 10,000 points, sampled evenly "
    "keeping the first, last, least and greatest values and flagged as sampled (the page "
    "says so); a step range, or the whole series up to the 100,000-point cap, comes back "
    "in full detail; more than the cap is refused with 400",
)
def test_a_long_metric_history_is_sampled_and_can_be_asked_for_in_ranges(
    long_run: LongRun, record_property: pytest.RecordProperty
) -> None:
    run_id = long_run.run_id
    with TestClient(create_app(long_run.workspace), base_url=BASE) as client:
        started = time.perf_counter()
        page = client.get(f"/runs/{run_id}")
        page_seconds = time.perf_counter() - started
        api = client.get(f"/api/runs/{run_id}")
        window = client.get(f"/api/runs/{run_id}/history?metric=loss&start=50000&end=54999")
        most = client.get(f"/api/runs/{run_id}/history?metric=loss&max_points=100000")
        beyond = client.get(f"/api/runs/{run_id}/history?metric=loss&max_points=100001")
    record_property(
        "observed",
        f"{VALUES:,} values: page {len(page.content):,} B in {page_seconds:.1f} s, run JSON "
        f"{len(api.content):,} B; range 50000-54999: {window.status_code}, "
        f"{len(window.json()['metrics']['loss']['points']) if window.status_code == 200 else '-'} "
        "points; "
        f"max_points=100001: {beyond.status_code}",
    )
    assert page.status_code == 200 and api.status_code == 200
    assert len(page.content) < MiB and len(api.content) < MiB
    assert re.search(rf"\(sampled: [\d,]+ of {VALUES:,} values", page.text)  # the caption

    body = api.json()
    assert body["metricHistorySampled"] == ["loss"]
    loss = body["metricHistory"]["loss"]
    assert 5_000 <= len(loss) <= 10_000
    steps = [step for step, _ in loss]
    assert steps == sorted(steps) and steps[0] == 0 and steps[-1] == VALUES - 1
    kept = dict(map(tuple, loss))
    assert kept[LOW_STEP] == -50.0 and kept[HIGH_STEP] == 50.0
    assert body["metricHistory"]["acc"] == [[0, 0.5], [1, 0.6], [2, 0.7]]

    assert window.status_code == 200, window.text
    detail = window.json()["metrics"]["loss"]
    assert detail["sampled"] is False and detail["count"] == VALUES
    assert detail["points"] == [[s, _loss(s)] for s in range(50_000, 55_000)]
    whole = most.json()["metrics"]["loss"]
    assert most.status_code == 200 and whole["sampled"] is False  # all of it, at the cap
    assert len(whole["points"]) == VALUES
    assert beyond.status_code == 400 and "100000" in beyond.json()["error"]


# -- case 26: downloads --------------------------------------------------------------------
SIZE = 32 * MiB
MAX_DOWNLOADS = 4  # the portal's default


@dataclass
class Served:
    port: int
    pid: int
    url: str  # the file's download path
    sha256: str
    stored: Path
    tmp: Path  # the server's TMPDIR


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    """A 32 MiB run file behind a real `python -m tracking.portal` whose TMPDIR is its own."""
    (tmp_path / "config.json").write_text(
        json.dumps({"name": "bounds", "tracking_uri": "sqlite:///records.db"})
    )
    ws = Workspace.from_config(tmp_path)
    run = Experiment(ws, "big").start_logging()
    data = os.urandom(SIZE)
    source = tmp_path / "upload.bin"
    source.write_bytes(data)
    record = run.upload_file("model.bin", source)
    run.complete()
    ws.close()
    stored = Path(unquote(urlsplit(record.uri).path))  # in the storage
    tmp = tmp_path / "server-tmp"
    tmp.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "TRACKING_PORTAL_TOKEN"}
    env["TMPDIR"] = str(tmp)
    port = free_port()
    log = (tmp_path / "portal.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "tracking.portal", "--config", str(tmp_path), "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    try:
        wait_for_http(f"http://127.0.0.1:{port}/api/experiments", process=process)
        yield Served(
            port,
            process.pid,
            f"/api/runs/{run.id}/files/model.bin",
            hashlib.sha256(data).hexdigest(),
            stored,
            tmp,
        )
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def _stalled(port: int, path: str) -> tuple[socket.socket, int, dict[str, str]]:
    """A GET whose client reads the head of the answer, then stops reading."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    sock.settimeout(30)
    sock.connect(("127.0.0.1", port))
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(1)
        assert chunk, "the server closed before its answer's head"
        head += chunk
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines if x)}
    return sock, int(status_line.split()[1]), headers


def _get(port: int, path: str) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def _temp_bytes_held(pid: int, folder: Path) -> int:
    """The size of the files under `folder` (deleted ones too) that process `pid` holds open."""
    total = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}").startswith(str(folder)):
                total += os.stat(f"/proc/{pid}/fd/{fd}").st_size
        except OSError:
            continue  # closed meanwhile
    return total


def _rss(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    line = next(x for x in status.splitlines() if x.startswith("VmRSS:"))
    return int(line.split()[1]) * 1024


@pytest.mark.reliability(
    case=26,
    fault=f"{MAX_DOWNLOADS} clients start downloading a 32 MiB run file from a real portal "
    "process and stop reading; a fifth asks for it meanwhile; then they hang up",
    expected="no temporary file grows by the file's size per client (nothing kept in TMPDIR, "
    "memory well under the file's size); the fifth gets 503 with Retry-After; once the "
    "clients hang up, a download is served whole and matches its SHA-256",
)
def test_stalled_downloads_hold_no_copy_and_are_bounded(
    served: Served, record_property: pytest.RecordProperty
) -> None:
    status, headers, body = _get(served.port, served.url)
    assert status == 200 and hashlib.sha256(body).hexdigest() == served.sha256
    assert int(headers["content-length"]) == SIZE
    del body
    rss_before = _rss(served.pid)
    held = [_stalled(served.port, served.url) for _ in range(MAX_DOWNLOADS)]
    try:
        assert [s for _, s, _ in held] == [200] * MAX_DOWNLOADS
        in_temp = _temp_bytes_held(served.pid, served.tmp)
        grown = _rss(served.pid) - rss_before
        refused, refused_headers, refused_body = _get(served.port, served.url)
    finally:
        for sock, _, _ in held:
            sock.close()
    record_property(
        "observed",
        f"{MAX_DOWNLOADS} stalled downloads of {SIZE // MiB} MiB: {in_temp:,} B held in TMPDIR, "
        f"memory +{grown / MiB:.1f} MiB; the fifth: {refused} "
        f"(Retry-After {refused_headers.get('retry-after')!r})",
    )
    assert in_temp == 0
    assert grown < SIZE
    assert refused == 503 and int(refused_headers["retry-after"]) > 0
    assert "downloads" in json.loads(refused_body)["error"]
    deadline = time.monotonic() + 10
    while True:  # the server frees the hung-up clients' slots when it sees them gone
        status, _, body = _get(served.port, served.url)
        if status == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert status == 200 and hashlib.sha256(body).hexdigest() == served.sha256


@pytest.mark.reliability(
    case=26,
    fault="a 32 MiB run file changed in storage at rest, and another changed in place (its "
    "last bytes) while a client is being sent it",
    expected="the one changed at rest: 409 before any byte; the one changed while sent: the "
    "connection ends before the announced length, so it is never a complete download",
)
def test_a_file_changed_before_or_while_it_is_sent_is_never_a_complete_download(
    served: Served, record_property: pytest.RecordProperty
) -> None:
    sock, status, headers = _stalled(served.port, served.url)
    with sock:
        assert status == 200
        with served.stored.open("r+b") as stored:  # the part not yet read by the server
            stored.seek(SIZE - 100)
            stored.write(b"\0" * 100)
        received = 0
        while chunk := sock.recv(MiB):
            received += len(chunk)
    announced = int(headers["content-length"])
    at_rest, _, body = _get(served.port, served.url)
    record_property(
        "observed",
        f"changed while sent: connection closed after {received:,} of {announced:,} bytes; "
        f"changed at rest: {at_rest} ({len(body)} B, an error message)",
    )
    assert received < announced
    assert at_rest == 409 and b"integrity" in body


# -- case 27: the access token ---------------------------------------------------------------
LONG_TOKEN = "k3Yp0rtal-t0ken-0f-f0rty-f0ur-characters-xyz"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    (tmp_path / "config.json").write_text(json.dumps({"tracking_uri": "sqlite:///records.db"}))
    return tmp_path


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port in use: a command that gets past its checks stops there instead of serving."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        yield sock.getsockname()[1]


def _lines(capsys: pytest.CaptureFixture[str]) -> list[str]:
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    return err.strip().splitlines()


@pytest.mark.reliability(
    case=27,
    fault="tracking-portal given a 1-character or 31-character token (--token, "
    "TRACKING_PORTAL_TOKEN, --token-file), an empty or missing token file, on loopback and "
    "on 0.0.0.0",
    expected="exit 2 with one line naming the 32-character rule (or the file), before any "
    "workspace is opened or port taken",
)
@pytest.mark.parametrize("host", ["127.0.0.1", "0.0.0.0"])
def test_short_or_missing_tokens_are_refused_in_one_line(
    config: Path,
    taken_port: int,
    host: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    record_property: pytest.RecordProperty,
) -> None:
    monkeypatch.delenv("TRACKING_PORTAL_TOKEN", raising=False)
    start = ["--config", str(config), "--host", host, "--port", str(taken_port)]
    (config / "short").write_text("x" * 31 + "\n")
    (config / "empty").write_text("\n")
    tries = {
        "--token x": [*start, "--token", "x"],
        "--token (31)": [*start, "--token", "y" * 31],
        "--token-file (31)": [*start, "--token-file", str(config / "short")],
        "--token-file (empty)": [*start, "--token-file", str(config / "empty")],
        "--token-file (missing)": [*start, "--token-file", str(config / "missing")],
    }
    seen = []
    for label, argv in tries.items():
        code = portal_main(argv)
        lines = _lines(capsys)
        seen.append(f"{label}: exit {code}")
        assert code == 2 and len(lines) == 1, (label, code, lines)
        assert "32 characters" in lines[0] or "token file" in lines[0], lines
        assert "x" * 31 not in lines[0] and "y" * 31 not in lines[0]  # never echoed
    monkeypatch.setenv("TRACKING_PORTAL_TOKEN", "z")
    code = portal_main(start)
    (line,) = _lines(capsys)
    seen.append(f"TRACKING_PORTAL_TOKEN=z: exit {code}")
    assert code == 2 and "TRACKING_PORTAL_TOKEN" in line and "32 characters" in line
    record_property("observed", f"{host}: " + ", ".join(seen) + "; one line each")


@pytest.mark.reliability(
    case=27,
    fault="a long token given with --token (visible in /proc/PID/cmdline)",
    expected="a one-line warning on stderr naming --token-file and TRACKING_PORTAL_TOKEN; "
    "the token itself never printed",
)
def test_a_token_on_the_command_line_is_warned_about(
    config: Path,
    taken_port: int,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    record_property: pytest.RecordProperty,
) -> None:
    monkeypatch.delenv("TRACKING_PORTAL_TOKEN", raising=False)
    argv = ["--config", str(config), "--port", str(taken_port), "--token", LONG_TOKEN]
    code = portal_main(argv)
    lines = _lines(capsys)
    record_property("observed", f"exit {code} (port taken); stderr: {lines}")
    warning = [x for x in lines if "warning" in x]
    assert len(warning) == 1
    assert "--token-file" in warning[0] and "TRACKING_PORTAL_TOKEN" in warning[0]
    assert all(LONG_TOKEN not in x for x in lines)
    assert code == 1 and "cannot listen" in lines[-1]  # it went on to serve


@pytest.mark.reliability(
    case=27,
    fault="a real portal process on 0.0.0.0 given its token with --token-file (a file "
    "ending in a newline)",
    expected="serves with that token (401 without it, 200 with it); the token is not in "
    "/proc/PID/cmdline and no warning is printed; --help names --token-file",
)
def test_a_token_file_serves_and_keeps_the_token_out_of_the_process_list(
    config: Path, record_property: pytest.RecordProperty
) -> None:
    token_file = config / "portal.token"
    token_file.write_text(LONG_TOKEN + "\n")
    token_file.chmod(0o600)
    env = {k: v for k, v in os.environ.items() if k != "TRACKING_PORTAL_TOKEN"}
    port = free_port()
    log_path = config / "portal.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "tracking.portal", "--config", str(config)),
                *("--host", "0.0.0.0", "--port", str(port), "--token-file", str(token_file)),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        url = f"http://127.0.0.1:{port}/api/experiments"
        wait_for_http(f"{url}?token={LONG_TOKEN}", process=process, timeout=30)
        cmdline = Path(f"/proc/{process.pid}/cmdline").read_bytes()
        without, _, _ = _get(port, "/api/experiments")
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request(
            "GET", "/api/experiments", headers={"Authorization": "Bearer " + LONG_TOKEN}
        )
        with_token = connection.getresponse().status
        connection.close()
    finally:
        process.terminate()
        process.wait(timeout=10)
    printed = log_path.read_text()
    shown = subprocess.run(
        [sys.executable, "-m", "tracking.portal", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    record_property(
        "observed",
        f"without the token {without}, with it {with_token}; token in cmdline: "
        f"{LONG_TOKEN.encode() in cmdline}; warning printed: {'warning' in printed}",
    )
    assert without == 401 and with_token == 200
    assert LONG_TOKEN.encode() not in cmdline and "warning" not in printed
    assert "--token-file" in shown


@pytest.mark.reliability(
    case=26,
    fault="a client that takes the first chunk of a 3 MiB download and then reads nothing "
    "(in-process: its send never returns), with one download allowed at a time",
    expected="the download is ended after the stall time (0.2 s here; 60 s by default) and "
    "its place freed: the next download is served whole",
)
def test_a_download_whose_client_stops_reading_is_ended_and_frees_its_place(
    tmp_path: Path, record_property: pytest.RecordProperty
) -> None:
    ws = Workspace("t", tracking_uri=f"sqlite:///{tmp_path / 'r.db'}", storage_uri=str(tmp_path))
    run = Experiment(ws, "stall").start_logging()
    data = os.urandom(3 * MiB)
    run.upload_file("model.bin", io.BytesIO(data))
    run.complete()
    app = create_app(ws, max_downloads=1, stalled_download_seconds=0.2)
    path = f"/api/runs/{run.id}/files/model.bin"
    received: list[int] = []

    async def stalled_client() -> float:
        never = asyncio.Event()

        async def receive() -> Message:
            await never.wait()  # the client neither sends nor hangs up
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            if message["type"] == "http.response.body":
                received.append(len(message.get("body", b"")))
                await never.wait()  # and stops reading after the first chunk

        started = time.perf_counter()
        await asyncio.wait_for(app(_scope(path), receive, send), timeout=10)
        return time.perf_counter() - started

    took = asyncio.run(stalled_client())
    status, body = raw_get(app, path.encode())
    ws.close()
    record_property(
        "observed",
        f"ended after {took:.2f} s with {sum(received):,} of {len(data):,} bytes sent; the next "
        f"download: {status}, {'whole' if body == data else 'not whole'}",
    )
    assert sum(received) < len(data)
    assert status == 200 and body == data


def _scope(path: str) -> Scope:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1:8080")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8080),
    }
