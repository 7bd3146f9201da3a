"""A real PostgreSQL server for the test session, on 127.0.0.1, stopped by its pid.

PostgreSQL refuses to run as root, so under root the server runs as the `postgres` user
(or `nobody`). Each test that asks for `pg_url` gets a new, empty database.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest


def _binary(name: str) -> str:
    found = shutil.which(name) or next(
        iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))), None
    )
    if found is None:
        raise RuntimeError(f"PostgreSQL's {name} is not installed (scripts/test installs it)")
    return found


def _server_user() -> str | None:
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise RuntimeError("running as root, and there is no 'postgres' user to run PostgreSQL as")


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """Start PostgreSQL; yield the URL of its `postgres` database as the superuser."""

    # Not under pytest's temporary folders: those are private to root, and the server user
    # must be able to reach its data folder.
    folder = Path(tempfile.mkdtemp(prefix="raysweep-pg-"))
    try:
        yield from _serve(folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _serve(folder: Path) -> Iterator[str]:
    from tests.helpers.net import free_port

    data, sockets = folder / "data", folder / "sockets"
    sockets.mkdir()
    user = _server_user()
    if user is not None:
        entry = pwd.getpwnam(user)
        for path in (folder, sockets):
            os.chown(path, entry.pw_uid, entry.pw_gid)
    subprocess.run(
        [_binary("initdb"), "-D", str(data), "-U", "tracking", "--auth=trust", "-E", "UTF8"],
        check=True,
        capture_output=True,
        user=user,
    )
    port = free_port()
    log = (folder / "server.log").open("wb")
    process = subprocess.Popen(
        [
            _binary("postgres"),
            "-D",
            str(data),
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-k",
            str(sockets),
            "-c",
            "max_connections=200",
            "-c",
            "fsync=off",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        user=user,
    )
    url = f"postgresql://tracking@127.0.0.1:{port}/postgres"
    try:
        _wait_for(url, process, folder / "server.log")
        yield url
    finally:
        process.send_signal(signal.SIGINT)  # PostgreSQL's "fast shutdown"
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _wait_for(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    import psycopg

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"PostgreSQL exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            psycopg.connect(url, connect_timeout=1).close()
            return
        except psycopg.OperationalError:
            time.sleep(0.1)
    raise RuntimeError("PostgreSQL did not start within 30 s")


@pytest.fixture
def pg_url(pg_server: str) -> str:
    """The URL of a new, empty database on the session's server."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return pg_server.rsplit("/", 1)[0] + f"/{name}"
