"""`python -m tracking.portal --workers N`: N processes serve one port, alike, and stop together.

The portal runs as a subprocess on 127.0.0.1 and is stopped by its pid. Which worker served a
connection is read from the process tree, as an operator would (`/proc`: the worker holding
the connection's socket), not from anything the portal answers.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers.net import free_port
from tracking import Experiment, Workspace
from tracking.portal.__main__ import main as portal_main

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "a-token-of-more-than-32-characters-0123456789"
EXPERIMENT = "diabetes"

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


@dataclass
class Portal:
    process: subprocess.Popen[bytes]
    port: int
    log: Path


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """A workspace with an experiment of three completed runs, and its config.json."""
    database, storage = tmp_path / "records.db", tmp_path / "storage"
    workspace = Workspace("test", tracking_uri=f"sqlite:///{database}", storage_uri=str(storage))
    experiment = Experiment(workspace, EXPERIMENT)
    for alpha in (0.1, 0.2, 0.3):
        run = experiment.start_logging()
        run.log("alpha", alpha)
        run.log("rmse", 50 + alpha)
        run.complete()
    workspace.close()
    path = tmp_path / "config.json"
    path.write_text(
        json.dumps({"tracking_uri": f"sqlite:///{database}", "storage_uri": str(storage)})
    )
    return path


def _alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie, ended but not yet reaped, does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rpartition(")")[2].split()[1]) == pid and _alive(int(entry.name)):
            found.append(int(entry.name))
    return found


def _workers(pid: int) -> list[int]:
    """The children of `pid` that are portal workers (not multiprocessing's helpers)."""
    workers = []
    for child in _children(pid):
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
        if b"spawn_main" in command:
            workers.append(child)
    return workers


@pytest.fixture
def portal(config: Path, tmp_path: Path) -> Iterator[Portal]:
    """The portal with 2 workers and a token (from the environment); stopped by its pid and
    its workers' pids, whatever the test did."""
    port = free_port()
    log = tmp_path / "portal.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TRACKING_PORTAL_TOKEN": TOKEN}
    command = [sys.executable, "-m", "tracking.portal", "--config", str(config)]
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*command, "--port", str(port), "--workers", "2"], stdout=out, stderr=out, env=env
        )
    started = Portal(process, port, log)
    try:
        _wait_until_served(started)
        yield started
    finally:
        left = _children(process.pid)
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for pid in left:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


def _get(
    connection: http.client.HTTPConnection, path: str, *, token: str | None = TOKEN
) -> tuple[int, bytes]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    return response.status, response.read()


def _wait_until_served(portal: Portal, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if portal.process.poll() is not None:
            raise RuntimeError(f"the portal exited: {portal.log.read_text()}")
        connection = http.client.HTTPConnection("127.0.0.1", portal.port, timeout=5)
        try:
            if _get(connection, "/api/experiments")[0] == 200:
                return
        except OSError:
            time.sleep(0.1)
        finally:
            connection.close()
    raise RuntimeError(f"the portal did not answer in {timeout} s: {portal.log.read_text()}")


def _socket_inodes(pid: int) -> set[int]:
    inodes = set()
    fds = Path(f"/proc/{pid}/fd")
    for fd in fds.iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(int(target[len("socket:[") : -1]))
    return inodes


def _server_inode(server_port: int, client_port: int) -> int | None:
    """The inode of the portal's end of the connection from `client_port` (/proc/net/tcp)."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote = fields[1], fields[2]
        if int(local.split(":")[1], 16) == server_port and int(remote.split(":")[1], 16) == (
            client_port
        ):
            return int(fields[9])
    return None


def _serving_pid(portal: Portal, connection: http.client.HTTPConnection) -> int | None:
    """The worker that holds the portal's end of `connection` (None: none found)."""
    assert connection.sock is not None
    inode = _server_inode(portal.port, connection.sock.getsockname()[1])
    if inode is None:
        return None
    return next((pid for pid in _workers(portal.process.pid) if inode in _socket_inodes(pid)), None)


def test_two_workers_serve_alike_and_stop_with_the_command(portal: Portal) -> None:
    workers = _workers(portal.process.pid)
    assert len(workers) == 2, workers
    # Kept-alive connections until each worker has served some: the kernel gives a new
    # connection to whichever worker accepts first, and that worker keeps it.
    connections: list[http.client.HTTPConnection] = []
    served: dict[int, list[bytes]] = {}
    deadline = time.monotonic() + 60
    try:
        while len(served) < 2 and time.monotonic() < deadline and len(connections) < 200:
            connection = http.client.HTTPConnection("127.0.0.1", portal.port, timeout=10)
            connections.append(connection)
            bodies = [_get(connection, "/api/experiments") for _ in range(2)]
            bodies.append(_get(connection, f"/api/experiments/{EXPERIMENT}/runs?sort=rmse"))
            assert all(status == 200 for status, _ in bodies), bodies
            pid = _serving_pid(portal, connection)
            assert pid in workers, (pid, workers)
            served.setdefault(pid, []).extend(body for _, body in bodies)
            # The same guard in every worker: no token, no answer.
            assert _get(connection, "/api/experiments", token=None)[0] == 401
            assert _get(connection, "/api/experiments", token=TOKEN[:-1] + "x")[0] == 401
        assert set(served) == set(workers), f"served by {sorted(served)} of {workers}"
        first, second = (served[pid] for pid in workers)
        assert first[0] == second[0] and first[2] == second[2]  # the same records
        runs = json.loads(first[2])
        assert runs["total"] == 3 and [r["metrics"]["rmse"] for r in runs["runs"]] == [
            50.1,
            50.2,
            50.3,
        ]
    finally:
        for connection in connections:
            connection.close()
    everyone = _children(portal.process.pid)
    portal.process.send_signal(signal.SIGTERM)
    assert portal.process.wait(30) == 0, portal.log.read_text()
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in everyone) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in everyone if _alive(pid)], "a worker outlived the portal"
    log = portal.log.read_text()
    assert "Traceback" not in log and "(2 workers)" in log, log


def test_connections_opened_at_once_are_spread_across_the_workers(portal: Portal) -> None:
    """A burst of clients (a page's requests, a load test) is served by every worker, not
    all by the first to wake: on Linux each worker listens on its own socket of the port."""
    workers = _workers(portal.process.pid)
    connections = [
        http.client.HTTPConnection("127.0.0.1", portal.port, timeout=10) for _ in range(24)
    ]
    try:
        for connection in connections:
            connection.connect()
        for connection in connections:
            assert _get(connection, "/api/experiments")[0] == 200
        serving = [_serving_pid(portal, connection) for connection in connections]
    finally:
        for connection in connections:
            connection.close()
    counts = {pid: serving.count(pid) for pid in workers}
    assert sum(counts.values()) == 24, (serving, workers)
    assert min(counts.values()) >= 2, f"24 connections at once, by worker: {counts}"


def test_a_worker_that_ends_stops_the_portal(portal: Portal) -> None:
    workers = _workers(portal.process.pid)
    assert len(workers) == 2
    os.kill(workers[0], signal.SIGKILL)
    assert portal.process.wait(30) == 1
    assert not _alive(workers[1])
    assert f"worker {workers[0]} ended" in portal.log.read_text()


def test_the_worker_count_is_checked(capsys: pytest.CaptureFixture[str]) -> None:
    assert portal_main(["--workers", "0"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "tracking-portal: --workers 0 is not accepted: use 1 to 64", err
