"""Case 9: the portal served on an address other than loopback.

The app is driven in-process through Starlette's test client (guard, routing, handlers all
real); the command runs as a real `python -m tracking.portal` process.
"""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.net import free_port
from tracking import ConfigError, Experiment, Run, Workspace
from tracking.portal import create_app
from tracking.portal.__main__ import allowed_hosts

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.routing import Mount, Route
    from starlette.testclient import TestClient

TOKEN = "a-long-portal-token-of-32-or-more-chars"
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[tuple[Workspace, Run]]:
    ws = Workspace(
        "t", tracking_uri=f"sqlite:///{tmp_path / 'records.db'}", storage_uri=str(tmp_path / "s")
    )
    run = Experiment(ws, "exp").start_logging()
    run.log("rmse", 1.0)
    run.upload_file("model.pkl", io.BytesIO(b"model"))
    run.complete()
    yield ws, run
    ws.close()


def _urls(app: object, run: Run) -> list[str]:
    """One concrete URL for every route of the app, enumerated from the app itself."""
    urls = []
    for route in app.routes:  # type: ignore[attr-defined]
        if isinstance(route, Mount):
            urls.append(f"{route.path}/portal.css")
        elif isinstance(route, Route):
            url = (
                route.path.replace("{name:path}", "model.pkl")
                .replace("{run_id}", run.id)
                .replace("{name}", "exp")
            )
            urls.append(url + ("?metric=rmse" if url.endswith("/chart") else ""))
        else:
            raise AssertionError(f"a route of unknown kind: {route!r}")
    return urls


@pytest.mark.reliability(
    case=9,
    fault="create_app asked to serve a non-loopback address (0.0.0.0, ::, 192.0.2.10, '*') "
    "without a token",
    expected="refused with ConfigError naming the token",
)
@pytest.mark.parametrize("host", ["0.0.0.0", "::", "[::]", "192.0.2.10", "10.1.2.3", "*"])
def test_create_app_refuses_a_public_address_without_a_token(
    workspace: tuple[Workspace, Run], host: str, record_property: pytest.RecordProperty
) -> None:
    ws, _ = workspace
    with pytest.raises(ConfigError, match="needs a token") as refused:
        create_app(ws, allowed_hosts=["127.0.0.1", host])
    create_app(ws, allowed_hosts=["127.0.0.1", host], token=TOKEN)  # with one it serves
    assert repr(host) in str(refused.value)
    record_property("observed", f"{host}: ConfigError naming it")


@pytest.mark.reliability(
    case=9,
    fault="`python -m tracking.portal --host 0.0.0.0` (and ::, 192.0.2.10) started without "
    "--token or TRACKING_PORTAL_TOKEN",
    expected="exits 2 with one line naming the token, before listening on the port",
)
@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10"])
def test_the_command_refuses_to_start_on_a_public_address_without_a_token(
    workspace: tuple[Workspace, Run],
    tmp_path: Path,
    host: str,
    record_property: pytest.RecordProperty,
) -> None:
    (tmp_path / "config.json").write_text(
        '{"tracking_uri": "sqlite:///records.db", "storage_uri": "s"}'
    )
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "TRACKING_PORTAL_TOKEN"}
    result = subprocess.run(
        [sys.executable, "-m", "tracking.portal", "--host", host, "--port", str(port)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    lines = result.stderr.strip().splitlines()
    with socket.socket() as probe:  # the port was never taken
        probe.bind(("127.0.0.1", port))
    record_property(
        "observed", f"--host {host}: exit {result.returncode}, {len(lines)} line, port free"
    )
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1 and "without an access token" in lines[0], result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


@pytest.mark.reliability(
    case=9,
    fault="a portal served on 0.0.0.0 with a token (as the command builds it) asked every "
    "route, enumerated from the app, with every method, without the token or with a wrong one",
    expected="401 for every route and method (static files and unknown paths too); the token "
    "is never echoed",
)
def test_every_route_and_method_needs_the_token(
    workspace: tuple[Workspace, Run], record_property: pytest.RecordProperty
) -> None:
    ws, run = workspace
    app = create_app(ws, token=TOKEN, allowed_hosts=allowed_hosts("0.0.0.0", [], token=TOKEN))
    urls = [*_urls(app, run), "/no/such/page", "/api/no-such-thing"]
    assert len(urls) >= len(app.routes) >= 11
    answers: dict[int, int] = {}
    with TestClient(app, base_url="http://192.0.2.10:8080", follow_redirects=False) as client:
        for url in urls:
            for method in METHODS:
                for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
                    response = client.request(method, url, headers=headers)
                    answers[response.status_code] = answers.get(response.status_code, 0) + 1
                    assert response.status_code == 401, (method, url, headers)
                    assert TOKEN not in response.text
            allowed = client.get(url, headers={"Authorization": f"Bearer {TOKEN}"})
            unknown = url in ("/no/such/page", "/api/no-such-thing")
            served = (404,) if unknown else (200, 307)  # /experiments redirects to /
            assert allowed.status_code in served, (url, allowed.status_code)
    record_property(
        "observed",
        f"{len(urls)} URLs ({len(app.routes)} routes + 2 unknown) x {len(METHODS)} methods x 3 "
        f"credentials (none, wrong, no 'Bearer'): {answers}; with the token they are served",
    )


@pytest.mark.reliability(
    case=9,
    fault="requests carrying the valid token, but cross-origin (Origin, Sec-Fetch-Site, "
    "Origin null), with a text/plain or form body, or with a foreign Host header",
    expected="cross-origin and simple-body POSTs refused with 403, a foreign Host with 400, "
    "before any route runs",
)
def test_cross_origin_plain_text_posts_and_foreign_hosts_are_refused_even_with_the_token(
    workspace: tuple[Workspace, Run], record_property: pytest.RecordProperty
) -> None:
    ws, run = workspace
    auth = {"Authorization": f"Bearer {TOKEN}"}
    app = create_app(ws, token=TOKEN, allowed_hosts=allowed_hosts("192.0.2.10", [], token=TOKEN))
    refusals = []
    with TestClient(app, base_url="http://192.0.2.10:8080") as client:
        for url in _urls(app, run):
            for extra in (
                {"Origin": "http://evil.example"},
                {"Origin": "null"},
                {"Sec-Fetch-Site": "cross-site", "Content-Type": "application/json"},
                {"Content-Type": "text/plain"},
                {"Content-Type": "text/plain; charset=utf-8"},
                {"Content-Type": "application/x-www-form-urlencoded"},
                {"Content-Type": "multipart/form-data; boundary=x"},
            ):
                response = client.post(url, content=b"{}", headers={**auth, **extra})
                assert response.status_code == 403, (url, extra, response.status_code)
                refusals.append(response.status_code)
            for host in ("evil.example", "evil.example:8080", "192.0.2.11", "[::2]"):
                response = client.get(url, headers={**auth, "Host": host})
                assert response.status_code == 400, (url, host, response.status_code)
                refusals.append(response.status_code)
        assert client.get("/api/experiments", headers=auth).status_code == 200
    record_property(
        "observed",
        f"{refusals.count(403)} cross-origin/simple-body POSTs answered 403, "
        f"{refusals.count(400)} foreign-Host GETs answered 400, over {len(app.routes)} routes; "
        "the same token on the portal's own host is served (200)",
    )
