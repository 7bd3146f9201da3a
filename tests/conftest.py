"""Shared fixtures: real servers on loopback, one per test session, stopped by their pid."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.net import free_port, wait_for_http

pytest_plugins = ["tests.pg_server"]

# moto's server accepts any credentials; boto3 and pyarrow need some to sign requests.
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """moto's standalone S3 server on 127.0.0.1, as a real HTTP endpoint."""
    port = free_port()
    log = tmp_path_factory.mktemp("moto") / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(f"{url}/moto-api/", process=process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def s3_client(s3_endpoint: str):  # type: ignore[no-untyped-def]
    from tracking.artifacts.s3 import make_s3_client

    return make_s3_client(s3_endpoint)


@pytest.fixture
def s3_bucket(s3_client) -> str:  # type: ignore[no-untyped-def]
    """A new, empty bucket on the loopback endpoint."""
    name = f"test-{uuid.uuid4().hex[:12]}"
    s3_client.create_bucket(Bucket=name)
    return name


@pytest.fixture(params=["sqlite", "postgresql"])
def tracking_uri(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A new, empty record store on each backend: a SQLite file, a PostgreSQL database."""
    if request.param == "postgresql":
        return str(request.getfixturevalue("pg_url"))
    return f"sqlite:///{tmp_path / 'records.db'}"


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run the test in an empty current folder."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def flaky_markers(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where tests.helpers.estimators.FlakyRidge (in Ray workers) records its attempts."""
    return tmp_path_factory.mktemp("flaky")


@pytest.fixture(scope="session")
def ray_address(flaky_markers: Path) -> Iterator[str]:
    """One local Ray instance for the whole test session; returns its address."""
    import logging

    import ray

    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
    # Workers import test helpers (estimators with planted faults) from the repository; set
    # here, before the raylet starts, so the workers of every job (test-launched drivers too)
    # inherit it.
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p
    )
    os.environ["FLAKY_MARKERS"] = str(flaky_markers)
    ray.init(
        address="local",  # a new instance, even where a `ray start` cluster is registered
        num_cpus=2,
        include_dashboard=False,
        logging_level=logging.ERROR,
        log_to_driver=False,
    )
    try:
        yield ray.get_runtime_context().gcs_address
    finally:
        ray.shutdown()
