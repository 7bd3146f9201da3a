"""The portal's JSON API and pages, in-process against a real SQLite workspace and folder.

Runs are made through the facade, as the tutorial makes them; requests go through the whole
ASGI app (guard, routing, error handlers) with Starlette's test client, or, where a client
would normalise the path (`../`, `#`), as raw ASGI requests shaped the way uvicorn shapes them.
"""

from __future__ import annotations

import getpass
import hashlib
import io
import json
import math
import os
import socket
import sqlite3
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import pytest

from tests.helpers.asgi import raw_get
from tracking import Experiment, Run, Workspace
from tracking.portal import create_app
from tracking.portal.__main__ import main as portal_main
from tracking.portal.security import COOKIE

with warnings.catch_warnings():
    # Starlette 1.x prefers httpx2 for its test client; httpx still works.
    warnings.simplefilter("ignore")
    from starlette.routing import Mount, Route
    from starlette.testclient import TestClient

BASE = "http://127.0.0.1:8080"
HOST, USER = socket.gethostname(), getpass.getuser()  # who records a start_logging run
EXPERIMENT = "diabetes-experiment"


# -- the workspace ---------------------------------------------------------------------------
@dataclass
class Sweep:
    workspace: Workspace
    experiment: Experiment
    runs: list[Run]  # in run-number order
    rmse: dict[str, float]  # by run id
    alpha: dict[str, float]
    storage: Path
    database: Path


def _model(alpha: float) -> bytes:
    return f"a model trained with alpha={alpha}".encode() * 10


def _make_sweep(folder: Path) -> Sweep:
    """Seven runs: five completed, one failed, one running; one rmse is NaN."""
    storage = folder / "storage"
    workspace = Workspace(
        "test", tracking_uri=f"sqlite:///{folder / 'records.db'}", storage_uri=str(storage)
    )
    experiment = Experiment(workspace, EXPERIMENT)
    runs, rmse, alpha = [], {}, {}
    values = [58.1, 56.2, 55.4, math.nan, 57.3, 59.9, 56.8]
    for i, value in enumerate(values):
        run = experiment.start_logging(properties={"trial": f"trial_{i}"})
        a = round(0.1 * (i + 1), 1)
        run.log_params({"alpha": a, "solver": "auto"})
        run.log("alpha_value", a)
        for step in range(3):
            run.log("loss", 10.0 / (step + 1) + a)
        run.log("rmse", value)
        run.upload_file(f"model_alpha_{a}.pkl", io.BytesIO(_model(a)))
        run.tag("family", "ridge")
        if i == 5:
            run.fail("diverged")
        elif i < 6:
            run.complete()
        else:
            run.flush()  # a running run's values, written as its thread would within 1 s
        runs.append(run)
        rmse[run.id], alpha[run.id] = value, a
    return Sweep(workspace, experiment, runs, rmse, alpha, storage, folder / "records.db")


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sweep]:
    """The sweep that read-only tests share."""
    made = _make_sweep(tmp_path_factory.mktemp("shared"))
    yield made
    made.workspace.close()


@pytest.fixture
def own_sweep(tmp_path: Path) -> Iterator[Sweep]:
    """A sweep of the test's own, for tests that change records or files."""
    made = _make_sweep(tmp_path)
    yield made
    made.workspace.close()


@pytest.fixture
def client(sweep: Sweep) -> Iterator[TestClient]:
    with TestClient(create_app(sweep.workspace), base_url=BASE) as test_client:
        yield test_client


@pytest.fixture
def own_client(own_sweep: Sweep) -> Iterator[TestClient]:
    with TestClient(create_app(own_sweep.workspace), base_url=BASE) as test_client:
        yield test_client


def _runs(client: TestClient, query: str = "") -> dict[str, Any]:
    response = client.get(f"/api/experiments/{EXPERIMENT}/runs{query}")
    assert response.status_code == 200, response.text
    return response.json()


# -- experiments and runs ----------------------------------------------------------------------
def test_experiments_list_their_runs_activity_and_best_value(
    own_client: TestClient, own_sweep: Sweep
) -> None:
    Experiment(own_sweep.workspace, "empty")
    own_sweep.experiment.set_primary_metric("rmse", "min")
    body = own_client.get("/api/experiments").json()
    by_name = {e["name"]: e for e in body["experiments"]}
    assert by_name[EXPERIMENT]["runCount"] == 7
    assert by_name[EXPERIMENT]["bestValue"] == 55.4
    assert by_name[EXPERIMENT]["lastActivityUtc"].endswith("Z")
    assert by_name["empty"] == by_name["empty"] | {"runCount": 0, "bestValue": None}


def test_runs_come_newest_first_with_their_values(client: TestClient, sweep: Sweep) -> None:
    body = _runs(client)
    assert body["total"] == 7
    assert [r["number"] for r in body["runs"]] == [7, 6, 5, 4, 3, 2, 1]
    first = body["runs"][-1]
    assert first["runId"] == sweep.runs[0].id
    assert first["status"] == "Completed"
    assert first["params"] == {"alpha": 0.1, "solver": "auto"}
    assert first["metrics"] == {"alpha_value": 0.1, "loss": 10.0 / 3 + 0.1, "rmse": 58.1}
    assert first["startTimeUtc"] <= first["endTimeUtc"]
    assert body["runs"][0]["status"] == "Running" and body["runs"][0]["endTimeUtc"] is None
    # JSON has no NaN: a NaN metric travels as the string "NaN".
    assert body["runs"][3]["metrics"]["rmse"] == "NaN"


@pytest.mark.parametrize("sort", ["rmse", "metrics.rmse"])
def test_runs_sort_by_a_metric_with_nan_last_either_way(
    client: TestClient, sweep: Sweep, sort: str
) -> None:
    finite = sorted((v, k) for k, v in sweep.rmse.items() if not math.isnan(v))
    nan_run = next(k for k, v in sweep.rmse.items() if math.isnan(v))
    ascending = [r["runId"] for r in _runs(client, f"?sort={sort}")["runs"]]
    assert ascending == [k for _, k in finite] + [nan_run]
    descending = [r["runId"] for r in _runs(client, f"?sort={sort}&order=desc")["runs"]]
    assert descending == [k for _, k in reversed(finite)] + [nan_run]


def test_runs_sort_by_params_and_fields(client: TestClient, sweep: Sweep) -> None:
    by_alpha = _runs(client, "?sort=params.alpha&order=desc")["runs"]
    assert [r["params"]["alpha"] for r in by_alpha] == sorted(sweep.alpha.values(), reverse=True)
    assert [r["number"] for r in _runs(client, "?sort=number")["runs"]] == list(range(1, 8))
    ids = [r["runId"] for r in _runs(client, "?sort=run_id")["runs"]]
    assert ids == sorted(ids)
    statuses = [r["status"] for r in _runs(client, "?sort=status")["runs"]]
    assert statuses == sorted(statuses)
    starts = [r["startTimeUtc"] for r in _runs(client, "?sort=start_time&order=desc")["runs"]]
    assert starts == sorted(starts, reverse=True)


def test_runs_are_paginated_on_the_server(client: TestClient) -> None:
    whole = [r["runId"] for r in _runs(client, "?sort=number")["runs"]]
    pages = [_runs(client, f"?sort=number&limit=3&offset={o}") for o in (0, 3, 6)]
    assert all(page["total"] == 7 for page in pages)
    assert [len(page["runs"]) for page in pages] == [3, 3, 1]
    assert [r["runId"] for page in pages for r in page["runs"]] == whole
    assert _runs(client, "?offset=100") == {"total": 7, "runs": []}


def test_runs_filter_by_status(client: TestClient, sweep: Sweep) -> None:
    failed = _runs(client, "?status=Failed")
    assert failed["total"] == 1 and failed["runs"][0]["runId"] == sweep.runs[5].id
    running = _runs(client, "?status=running")
    assert [r["runId"] for r in running["runs"]] == [sweep.runs[6].id]
    assert _runs(client, "?status=Canceled") == {"total": 0, "runs": []}
    assert _runs(client, "?status=Completed&sort=rmse&limit=2")["total"] == 5


@pytest.mark.parametrize(
    ("query", "named", "accepted"),
    [
        ("sort=bogus", "'bogus'", "metrics.rmse"),
        ("sort=metrics.nope", "'metrics.nope'", "params.alpha"),
        ("sort=duration", "'duration'", "start_time"),
        ("order=up", "'up'", "'asc' or 'desc'"),
        ("limit=0", "limit '0'", "from 1 to 500"),
        ("limit=501", "limit '501'", "from 1 to 500"),
        ("limit=ten", "limit 'ten'", "whole number"),
        ("offset=-1", "offset '-1'", "whole number"),
        ("status=Done", "'Done'", "Running, Completed, Failed, Canceled"),
    ],
)
def test_bad_run_queries_get_400_naming_the_value(
    client: TestClient, query: str, named: str, accepted: str
) -> None:
    response = client.get(f"/api/experiments/{EXPERIMENT}/runs?{query}")
    assert response.status_code == 400
    message = response.json()["error"]
    assert named in message and accepted in message


def test_chart_data_against_a_param_a_metric_and_run_number(
    client: TestClient, sweep: Sweep
) -> None:
    chart = client.get(f"/api/experiments/{EXPERIMENT}/chart?metric=rmse&param=alpha").json()
    assert chart["number"] == list(range(1, 8))
    assert chart["x"] == [sweep.alpha[r.id] for r in sweep.runs]
    assert chart["y"][3] == "NaN" and chart["y"][2] == 55.4
    assert chart["best"] == {"runId": sweep.runs[2].id, "number": 3, "value": 55.4}
    highest = client.get(f"/api/experiments/{EXPERIMENT}/chart?metric=rmse&goal=max").json()
    assert highest["best"]["runId"] == sweep.runs[5].id and highest["x"] == []
    by_metric = client.get(
        f"/api/experiments/{EXPERIMENT}/chart?metric=rmse&xmetric=alpha_value"
    ).json()
    assert by_metric["x"] == chart["x"]


def test_a_chart_of_more_runs_than_max_points_samples_them_and_keeps_the_best(
    client: TestClient, sweep: Sweep
) -> None:
    url = f"/api/experiments/{EXPERIMENT}/chart?metric=rmse&param=alpha&max_points=3"
    chart = client.get(url).json()
    assert (chart["every"], chart["runs"]) == (3, 7)
    assert chart["number"] == [3, 6]  # every 3rd run, and run 3 is the best
    assert chart["x"] == [sweep.alpha[sweep.runs[2].id], sweep.alpha[sweep.runs[5].id]]
    assert chart["best"]["number"] == 3
    full = client.get(f"/api/experiments/{EXPERIMENT}/chart?metric=rmse").json()
    assert full["every"] == 1 and len(full["number"]) == 7


def test_chart_data_follows_new_runs_and_values_of_running_ones(
    own_client: TestClient, own_sweep: Sweep
) -> None:
    url = f"/api/experiments/{EXPERIMENT}/chart?metric=rmse"
    own_sweep.runs[6].complete()  # none running: the chart may be kept
    assert own_client.get(url).json() == own_client.get(url).json()
    assert len(own_client.get(url).json()["y"]) == 7
    run = own_sweep.experiment.start_logging()
    run.log("rmse", 70.0)
    run.flush()  # written at once, not within the second its thread would take
    assert own_client.get(url).json()["y"][-1] == 70.0
    run.log("rmse", 50.0)  # a running run's value changes the chart at once
    run.flush()
    chart = own_client.get(url).json()
    assert chart["y"][-1] == 50.0 and chart["best"]["runId"] == run.id
    run.complete()
    assert own_client.get(url).json()["number"][-1] == 8


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("", "metric ''"),
        ("metric=nope", "'nope'"),
        ("metric=rmse&param=nope", "'nope'"),
        ("metric=rmse&xmetric=nope", "'nope'"),
        ("metric=rmse&max_points=0", "max_points"),
        ("metric=rmse&param=alpha&xmetric=loss", "not both"),
        ("metric=rmse&goal=best", "'best'"),
    ],
)
def test_bad_chart_queries_get_400(client: TestClient, query: str, named: str) -> None:
    response = client.get(f"/api/experiments/{EXPERIMENT}/chart?{query}")
    assert response.status_code == 400 and named in response.json()["error"]


def test_a_run_has_details_params_metrics_history_tags_and_files(
    client: TestClient, sweep: Sweep
) -> None:
    run = sweep.runs[5]
    body = client.get(f"/api/runs/{run.id}").json()
    assert body["runId"] == run.id and body["number"] == 6
    assert body["experimentName"] == EXPERIMENT
    assert body["status"] == "Failed" and "diverged" in body["error"]
    assert body["properties"] == {"trial": "trial_5", "host": HOST, "user": USER}
    assert body["tags"] == {"family": "ridge"}
    assert body["params"] == {"alpha": 0.6, "solver": "auto"}
    last = 10.0 / 3 + 0.6
    assert body["metrics"]["loss"] == {"last": last, "min": last, "max": 10.6, "count": 3}
    assert [step for step, _ in body["metricHistory"]["loss"]] == [0, 1, 2]
    assert "rmse" not in body["metricHistory"]  # logged once: a value, not a chart
    (file,) = body["files"]
    assert file["name"] == "model_alpha_0.6.pkl"
    assert file["sha256"] == hashlib.sha256(_model(0.6)).hexdigest()
    assert file["url"] == f"/api/runs/{run.id}/files/model_alpha_0.6.pkl"


@pytest.mark.parametrize(
    "path",
    [
        "/api/experiments/nope",
        "/api/experiments/nope/runs",
        "/api/experiments/nope/chart?metric=rmse",
        "/api/runs/nope",
        "/api/runs/nope/files/model.pkl",
        "/api/nothing-here",
    ],
)
def test_unknown_things_get_404_as_json(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    assert "error" in response.json()


def test_an_unknown_file_of_a_known_run_gets_404(client: TestClient, sweep: Sweep) -> None:
    response = client.get(f"/api/runs/{sweep.runs[0].id}/files/outputs/other.pkl")
    assert response.status_code == 404 and "other.pkl" in response.json()["error"]


def test_the_api_is_described_by_openapi(client: TestClient) -> None:
    document = client.get("/api/openapi.json").json()
    assert document["openapi"].startswith("3.")
    described = set(document["paths"])
    app_routes = {
        route.path.replace(":path}", "}")
        for route in client.app.routes  # type: ignore[attr-defined]
        if isinstance(route, Route) and route.path.startswith("/api/")
    }
    assert app_routes == described
    runs = document["paths"]["/api/experiments/{name}/runs"]["get"]
    assert {p["name"] for p in runs["parameters"]} >= {"sort", "order", "limit", "offset", "status"}
    assert set(document["components"]["schemas"]["RunRow"]["required"]) >= {
        "runId",
        "number",
        "status",
        "metrics",
        "params",
    }


# -- downloads -------------------------------------------------------------------------------
def test_a_download_is_the_recorded_file_as_an_attachment(client: TestClient, sweep: Sweep) -> None:
    run = sweep.runs[2]
    (record,) = run.get_files()
    response = client.get(f"/api/runs/{run.id}/files/{record.name}")
    assert response.status_code == 200
    assert hashlib.sha256(response.content).hexdigest() == record.sha256
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["content-disposition"].startswith("attachment;")
    assert f'filename="{record.name}"' in response.headers["content-disposition"]
    assert response.headers["x-content-type-options"] == "nosniff"


def test_a_file_in_a_folder_downloads_under_its_base_name(
    own_client: TestClient, own_sweep: Sweep
) -> None:
    run = own_sweep.runs[6]  # still running: it may get another file
    run.upload_file("outputs/näive model.pkl", io.BytesIO(b"nested"))
    response = own_client.get(f"/api/runs/{run.id}/files/outputs/{quote('näive model.pkl')}")
    assert response.status_code == 200 and response.content == b"nested"
    disposition = response.headers["content-disposition"]
    assert 'filename="n_ive_model.pkl"' in disposition
    assert "filename*=UTF-8''n%C3%A4ive%20model.pkl" in disposition


@pytest.mark.reliability(
    case=5,
    fault="a run file changed in storage, then downloaded through the portal",
    expected="409 naming the recorded hash; none of the changed bytes sent",
)
def test_a_tampered_file_is_refused_and_none_of_it_is_sent(
    own_client: TestClient, own_sweep: Sweep
) -> None:
    run = own_sweep.runs[0]
    (record,) = run.get_files()
    stored = Path(unquote(urlsplit(record.uri).path))
    stored.write_bytes(b"not the model that was recorded")
    response = own_client.get(f"/api/runs/{run.id}/files/{record.name}")
    assert response.status_code == 409
    message = response.json()["error"]
    assert "integrity" in message and record.sha256 in message
    assert b"not the model" not in response.content


# Opened files are watched with an audit hook: the real `open` calls, not a stand-in.
_opened: list[str] | None = None


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if event == "open" and _opened is not None and isinstance(args[0], (str, bytes, Path)):
        _opened.append(os.path.realpath(os.fsdecode(args[0])))


sys.addaudithook(_audit)


@contextmanager
def files_opened() -> Iterator[list[str]]:
    global _opened
    _opened = seen = []
    try:
        yield seen
    finally:
        _opened = None


TRAVERSALS = [
    "../../../../etc/passwd",
    "../secret.txt",
    "..%2f..%2fsecret.txt",
    "..%2F..%2Fsecret.txt",
    "%252e%252e%252fsecret.txt",
    "%25252e%25252e%25252fsecret.txt",
    "..\\..\\secret.txt",
    "..%5c..%5csecret.txt",
    "/etc/passwd",
    "%2fetc%2fpasswd",
    "C:\\Windows\\win.ini",
    "C:%5cWindows%5cwin.ini",
    "c:/secret.txt",
    "model.pkl#../../secret.txt",
    "model.pkl%23",
    "model.pkl;.txt",
    "model%00.pkl",
    "model%0a.pkl",
    "model%0d%0a.pkl",
    "%1b[31m.pkl",
    "model\x7f.pkl",
    "./model.pkl",
    "outputs//model.pkl",
    "~/secret.txt",
]


@pytest.mark.reliability(
    case=7,
    fault="24 traversal request targets (raw, unnormalised) against the portal's file route",
    expected="400/404, nothing under the storage folder opened, the secret never read",
)
@pytest.mark.parametrize("name", TRAVERSALS)
def test_file_names_that_leave_the_run_are_refused_before_any_io(sweep: Sweep, name: str) -> None:
    secret = sweep.storage.parent / "secret.txt"
    secret.write_text("outside the storage")
    app = create_app(sweep.workspace)
    run_id = sweep.runs[0].id
    raw = f"/api/runs/{run_id}/files/{name}".encode("latin-1")
    with files_opened() as opened:
        status, body = raw_get(app, raw)
    assert status in (400, 404), body
    assert b"outside the storage" not in body
    touched = [p for p in opened if p.startswith(str(sweep.storage.resolve()))]
    assert touched == [], f"{name!r} opened {touched}"
    assert str(secret.resolve()) not in opened and "/etc/passwd" not in opened


@pytest.mark.reliability(
    case=7,
    fault="a stored run file replaced by a symlink to a file outside the storage folder",
    expected="the portal refuses it (outside the storage folder); the target is never opened",
)
def test_a_symlink_out_of_the_storage_folder_is_not_followed(
    own_client: TestClient, own_sweep: Sweep
) -> None:
    run = own_sweep.runs[1]
    (record,) = run.get_files()
    stored = Path(unquote(urlsplit(record.uri).path))
    secret = own_sweep.storage.parent / "secret.pkl"
    secret.write_bytes(stored.read_bytes())  # same bytes: only the link itself may refuse it
    stored.unlink()
    stored.symlink_to(secret)
    with files_opened() as opened:
        response = own_client.get(f"/api/runs/{run.id}/files/{record.name}")
    assert response.status_code in (400, 404)
    assert "outside the storage folder" in response.json()["error"]
    assert str(secret.resolve()) not in opened


# -- pages -------------------------------------------------------------------------------------
def test_the_pages_show_experiments_runs_and_outputs(client: TestClient, sweep: Sweep) -> None:
    home = client.get("/")
    assert home.status_code == 200 and f'href="/experiments/{EXPERIMENT}"' in home.text
    page = client.get(f"/experiments/{EXPERIMENT}?sort=rmse&limit=3")
    assert page.status_code == 200
    assert page.text.count('<tr data-run-id="') == 3
    assert sweep.runs[2].id in page.text  # the best run, first by rmse
    assert 'href="?sort=metrics.rmse&amp;order=desc' in page.text  # its header toggles
    assert 'id="next-page" href="?sort=metrics.rmse&amp;order=asc&amp;limit=3&amp;offset=3"' in (
        page.text
    )
    run = client.get(f"/runs/{sweep.runs[2].id}")
    assert run.status_code == 200
    assert f'href="/api/runs/{sweep.runs[2].id}/files/model_alpha_0.3.pkl"' in run.text
    assert "https://" not in home.text + page.text + run.text  # nothing from a CDN


def test_the_notebook_link_opens_the_experiment_page(client: TestClient, sweep: Sweep) -> None:
    link = urlsplit(sweep.experiment.portal_url)
    assert link.path in sweep.experiment._repr_html_()
    assert client.get(link.path).status_code == 200
    assert client.get(urlsplit(sweep.runs[0].portal_url).path).status_code == 200


def test_pages_answer_bad_queries_and_unknown_names_with_error_pages(client: TestClient) -> None:
    bad = client.get(f"/experiments/{EXPERIMENT}?status=Done")
    assert bad.status_code == 400 and "Done" in bad.text and "<html" in bad.text
    assert client.get("/experiments/nope").status_code == 404
    assert client.get("/runs/nope").status_code == 404


def test_static_files_are_served_and_vendored(client: TestClient) -> None:
    for path in ("/static/portal.js", "/static/experiment.js", "/static/vendor/uPlot.iife.min.js"):
        response = client.get(path)
        assert response.status_code == 200 and len(response.content) > 500
    assert "MIT" in client.get("/static/vendor/LICENSE").text


# -- security ----------------------------------------------------------------------------------
def _concrete(path: str, sweep: Sweep) -> str:
    run = sweep.runs[0]
    return (
        path.replace("{name:path}", run.get_file_names()[0])
        .replace("{run_id}", run.id)
        .replace("{name}", EXPERIMENT)
    )


def _every_route(app: Any, sweep: Sweep) -> list[str]:
    urls = []
    for route in app.routes:
        if isinstance(route, Mount):
            urls.append(f"{route.path}/portal.css")
        elif isinstance(route, Route):
            url = _concrete(route.path, sweep)
            urls.append(url + ("?metric=rmse" if url.endswith("/chart") else ""))
    return urls


@pytest.mark.reliability(
    case=9,
    fault="every route of a portal with a token, asked without it or with a wrong one",
    expected="401 for each, the token never echoed; served with it",
)
def test_with_a_token_every_route_needs_it(sweep: Sweep) -> None:
    app = create_app(sweep.workspace, token=LONG_TOKEN)
    urls = _every_route(app, sweep)
    assert len(urls) == len(app.routes) >= 11
    with TestClient(app, base_url=BASE, follow_redirects=False) as client:
        for url in urls:
            refused = client.get(url)
            assert refused.status_code == 401, url
            assert LONG_TOKEN not in refused.text
            assert client.get(url, headers={"Authorization": "Bearer wrong"}).status_code == 401
            allowed = client.get(url, headers={"Authorization": f"Bearer {LONG_TOKEN}"})
            assert allowed.status_code in (200, 307), (url, allowed.text)


def test_a_token_in_the_address_becomes_an_http_only_cookie(sweep: Sweep) -> None:
    app = create_app(sweep.workspace, token=LONG_TOKEN)
    with TestClient(app, base_url=BASE, follow_redirects=False) as client:
        assert client.get("/?token=wrong").status_code == 401
        first = client.get(f"/experiments/{EXPERIMENT}?token={LONG_TOKEN}&sort=rmse")
        assert first.status_code == 303
        assert first.headers["location"] == f"/experiments/{EXPERIMENT}?sort=rmse"
        cookie = first.headers["set-cookie"]
        assert cookie.startswith(f"{COOKIE}=") and "httponly" in cookie.lower()
        assert LONG_TOKEN not in cookie
        assert client.get(first.headers["location"]).status_code == 200  # the cookie is sent
        assert client.get("/api/experiments").status_code == 200
    with TestClient(app, base_url=BASE) as api_client:
        assert api_client.get(f"/api/experiments?token={LONG_TOKEN}").status_code == 200


@pytest.mark.reliability(
    case=9,
    fault="a request whose Host header is a foreign name or another loopback address",
    expected="400 naming the host",
)
@pytest.mark.parametrize("host", ["evil.example", "evil.example:8080", "127.0.0.2", "[::2]:80"])
def test_a_foreign_host_header_is_refused(client: TestClient, host: str) -> None:
    response = client.get("/api/experiments", headers={"Host": host})
    assert response.status_code == 400 and "host" in response.json()["error"]


@pytest.mark.parametrize("host", ["127.0.0.1:8080", "localhost:8080", "localhost", "[::1]:8080"])
def test_loopback_host_headers_are_served(client: TestClient, host: str) -> None:
    assert client.get("/api/experiments", headers={"Host": host}).status_code == 200


@pytest.mark.reliability(
    case=9,
    fault="POSTs from another origin, with a text/plain or form body, or Origin null",
    expected="403 (a same-origin JSON POST gets 405: nothing is writable)",
)
def test_posts_are_not_served_and_cross_origin_ones_are_refused(client: TestClient) -> None:
    url = "/api/experiments"
    assert client.post(url, json={}).status_code == 405
    assert client.post(f"/experiments/{EXPERIMENT}", json={}).status_code == 405
    foreign = client.post(url, json={}, headers={"Origin": "http://evil.example"})
    assert foreign.status_code == 403 and "evil.example" in foreign.json()["error"]
    plain = client.post(url, content=b"x", headers={"Content-Type": "text/plain"})
    assert plain.status_code == 403
    form = client.post("/", data={"a": "b"})
    assert form.status_code == 403
    assert client.delete("/api/runs/x/files/y", headers={"Origin": "null"}).status_code == 403


def _snapshot(sweep: Sweep) -> tuple[list[str], list[tuple[str, int, int]]]:
    with sqlite3.connect(f"file:{sweep.database}?mode=ro", uri=True) as db:
        rows = list(db.iterdump())
    files = sorted(
        (str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in sweep.storage.rglob("*")
    )
    return rows, files


def test_no_get_changes_the_records_or_the_files(client: TestClient, sweep: Sweep) -> None:
    before = _snapshot(sweep)
    urls = _every_route(client.app, sweep)
    urls += [f"/experiments/{EXPERIMENT}?sort=rmse&status=Completed", "/api/runs/x"]
    for url in urls:
        assert client.get(url).status_code in (200, 307, 404)
    assert _snapshot(sweep) == before


def test_every_answer_forbids_framing_and_foreign_scripts(client: TestClient) -> None:
    for url in ("/", "/api/experiments", "/static/portal.css", "/api/nope"):
        headers = client.get(url).headers
        assert headers["x-frame-options"] == "DENY"
        assert "script-src 'self'" in headers["content-security-policy"]


@pytest.mark.reliability(
    case=9,
    fault="create_app allowing any Host ('*') without a token, or with a blank token",
    expected="ConfigError naming the token",
)
def test_create_app_refuses_any_host_without_a_token(sweep: Sweep) -> None:
    from tracking.errors import ConfigError

    with pytest.raises(ConfigError, match="token"):
        create_app(sweep.workspace, allowed_hosts=["*"])
    with pytest.raises(ConfigError, match="token"):
        create_app(sweep.workspace, token=" ")


# -- the command -------------------------------------------------------------------------------
def _config(tmp_path: Path, sweep: Sweep) -> Path:
    config = tmp_path / "portal-config.json"
    config.write_text(
        json.dumps(
            {"tracking_uri": f"sqlite:///{sweep.database}", "storage_uri": str(sweep.storage)}
        )
    )
    return config


def _one_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err, err
    return err


@pytest.mark.reliability(
    case=9,
    fault="tracking-portal --host 0.0.0.0 / 192.0.2.10 without a token (in-process)",
    expected="exit 2 with one line naming TRACKING_PORTAL_TOKEN",
)
def test_the_command_refuses_a_public_address_without_a_token(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TRACKING_PORTAL_TOKEN", raising=False)
    assert portal_main(["--host", "0.0.0.0"]) == 2
    assert "without an access token" in _one_line(capsys)
    assert portal_main(["--host", "192.0.2.10", "--port", "8080"]) == 2
    assert "TRACKING_PORTAL_TOKEN" in _one_line(capsys)


def test_the_command_reports_a_bad_config_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "config.json"
    bad.write_text('{"tracking_uri": "mysql://nope", "colour": "blue"}')
    assert portal_main(["--config", str(bad)]) == 2
    assert "colour" in _one_line(capsys)
    assert portal_main(["--config", str(tmp_path / "missing")]) == 2
    assert "no workspace config" in _one_line(capsys)
    assert portal_main(["--port", "http"]) == 2
    assert "invalid int value" in _one_line(capsys)


def test_the_command_reports_a_port_in_use_in_one_line(
    tmp_path: Path, sweep: Sweep, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        code = portal_main(["--config", str(_config(tmp_path, sweep)), "--port", str(port)])
    assert code == 1
    assert f"cannot listen on 127.0.0.1:{port}" in _one_line(capsys)


# -- long histories, bounded downloads and tokens (issue 12, items 14-16) ----------------------
def test_a_metric_history_is_given_by_range(client: TestClient, sweep: Sweep) -> None:
    run = sweep.runs[1]
    url = f"/api/runs/{run.id}/history"
    body = client.get(f"{url}?metric=loss").json()
    assert body["runId"] == run.id and list(body["metrics"]) == ["loss"]
    loss = body["metrics"]["loss"]
    assert loss["points"] == [[0, 10.2], [1, 5.2], [2, 10.0 / 3 + 0.2]]
    assert loss["count"] == loss["inRange"] == 3 and loss["sampled"] is False
    part = client.get(f"{url}?metric=loss&start=1&end=1").json()
    assert part["metrics"]["loss"]["points"] == [[1, 5.2]]
    assert part["metrics"]["loss"]["inRange"] == 1 and part["start"] == part["end"] == 1
    every = client.get(url).json()["metrics"]
    assert sorted(every) == ["alpha_value", "loss", "rmse"]
    assert every["rmse"]["points"] == [[0, sweep.rmse[run.id]]]
    assert client.get(f"/api/runs/{run.id}").json()["metricHistorySampled"] == []


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("metric=nope", "'nope'"),
        ("metric=loss&start=2&end=1", "start 2 is after end 1"),
        ("metric=loss&start=-1", "start '-1'"),
        ("metric=loss&max_points=3", "from 4 to 100000"),
        ("metric=loss&max_points=lots", "max_points 'lots'"),
    ],
)
def test_bad_history_queries_get_400(
    client: TestClient, sweep: Sweep, query: str, named: str
) -> None:
    response = client.get(f"/api/runs/{sweep.runs[0].id}/history?{query}")
    assert response.status_code == 400 and named in response.json()["error"]
    assert client.get("/api/runs/nope/history?metric=loss").status_code == 404


def test_sampling_keeps_the_ends_and_each_stretchs_extremes() -> None:
    from array import array

    from tracking.portal.history import Series, sample

    values = [float(i % 7) for i in range(1000)]
    values[500], values[501], values[502] = math.nan, -3.0, 99.0
    series = Series(array("q", range(1000)), array("d", values))
    chosen = sample(series, 40)
    steps = [step for step, _ in chosen.points]
    assert chosen.sampled and chosen.in_range == 1000 and len(steps) <= 40
    assert steps[0] == 0 and steps[-1] == 999 and steps == sorted(set(steps))
    assert [501, -3.0] in chosen.points and [502, 99.0] in chosen.points
    ranged = sample(series, 40, start=100, end=119)
    assert ranged.points == [[s, values[s]] for s in range(100, 120)] and not ranged.sampled
    assert sample(series, 10, start=2000).points == []


def test_a_long_history_is_read_once_for_a_finished_run(own_sweep: Sweep) -> None:
    from tracking.portal.history import HistoryCache

    store, run = own_sweep.workspace.records, own_sweep.runs[0]  # completed
    cache = HistoryCache()
    record = store.get_run(run.id)
    first = cache.histories(store, record, 9)
    assert cache.histories(store, record, 9) is first
    running = store.get_run(own_sweep.runs[6].id)
    assert cache.histories(store, running, 9) is not cache.histories(store, running, 9)


def test_a_download_answers_head_with_its_headers_alone(client: TestClient, sweep: Sweep) -> None:
    run = sweep.runs[2]
    (record,) = run.get_files()
    response = client.head(f"/api/runs/{run.id}/files/{record.name}")
    assert response.status_code == 200 and response.content == b""
    assert response.headers["content-length"] == str(record.size)


def test_a_refused_download_frees_its_place(own_sweep: Sweep) -> None:
    app = create_app(own_sweep.workspace, max_downloads=1)
    changed, kept = own_sweep.runs[0], own_sweep.runs[1]
    (record,) = changed.get_files()
    stored = Path(unquote(urlsplit(record.uri).path))
    stored.write_bytes(b"changed")
    with TestClient(app, base_url=BASE) as test_client:
        for _ in range(3):
            assert test_client.get(f"/api/runs/{changed.id}/files/{record.name}").status_code == 409
        (other,) = kept.get_files()
        response = test_client.get(f"/api/runs/{kept.id}/files/{other.name}")
        assert response.status_code == 200 and response.content == _model(0.2)


def test_create_app_refuses_a_download_bound_below_one(sweep: Sweep) -> None:
    from tracking.errors import ConfigError

    with pytest.raises(ConfigError, match="max_downloads 0"):
        create_app(sweep.workspace, max_downloads=0)
    with pytest.raises(ConfigError, match="stall_seconds"):
        create_app(sweep.workspace, stalled_download_seconds=0)


LONG_TOKEN = "0123456789abcdef0123456789abcdef-portal"


def test_a_token_file_readable_by_others_is_warned_about(
    tmp_path: Path, sweep: Sweep, capsys: pytest.CaptureFixture[str]
) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(LONG_TOKEN + "\n")
    token_file.chmod(0o644)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = str(taken.getsockname()[1])
        argv = ["--config", str(_config(tmp_path, sweep)), "--port", port]
        assert portal_main([*argv, "--token-file", str(token_file)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert "can be read by other users (mode 644): chmod 600" in err[0]
    assert "cannot listen" in err[1] and LONG_TOKEN not in "".join(err)


def test_token_and_token_file_together_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--token", LONG_TOKEN, "--token-file", str(tmp_path / "token")]
    assert portal_main(argv) == 2
    assert "not allowed with argument --token" in _one_line(capsys)
    assert portal_main(["--token", LONG_TOKEN[:20] + " " + LONG_TOKEN[20:]]) == 2
    assert "spaces" in _one_line(capsys)


def test_the_listening_socket_lets_asyncio_turn_nagle_off() -> None:
    """asyncio sets TCP_NODELAY only on IPPROTO_TCP sockets; without it every response on a
    kept-alive connection waits ~40 ms for the client's delayed ACK."""
    from tracking.portal.__main__ import _bind

    sock = _bind("127.0.0.1", 0)
    try:
        assert sock.proto == socket.IPPROTO_TCP
        client = socket.create_connection(sock.getsockname())
        accepted, _ = sock.accept()
        assert accepted.proto == socket.IPPROTO_TCP  # what asyncio checks on each connection
        accepted.close()
        client.close()
    finally:
        sock.close()


def test_create_app_refuses_a_short_token(sweep: Sweep) -> None:
    from tracking import ConfigError

    with pytest.raises(ConfigError, match="has 31 characters: a token has at least 32"):
        create_app(sweep.workspace, token="x" * 31)


def test_pages_run_one_at_a_time_in_the_page_thread_while_downloads_use_their_own(
    own_sweep: Sweep, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Blocking endpoints take turns in one page thread per process (threads sharing the
    GIL cost each request more CPU under load); a download runs beside them."""
    import asyncio
    import threading
    import time

    import httpx

    store = own_sweep.workspace.records
    real = store.list_experiments
    lock, inside, seen = threading.Lock(), [0], {"most": 0, "threads": set()}
    gate = threading.Event()

    def slow_list() -> Any:
        with lock:
            inside[0] += 1
            seen["most"] = max(seen["most"], inside[0])
            seen["threads"].add(threading.current_thread().name)
        time.sleep(0.05)
        with lock:
            inside[0] -= 1
        return real()

    real_file = store.get_file

    def held_file(run_id: str, name: str) -> Any:
        # A download that stays in its endpoint until the pages have been served.
        if not gate.wait(10):
            raise RuntimeError("the pages waited for the download")
        return real_file(run_id, name)

    monkeypatch.setattr(store, "list_experiments", slow_list)
    monkeypatch.setattr(store, "get_file", held_file)
    run = own_sweep.runs[0]
    (record,) = run.get_files()

    async def main() -> tuple[list[int], int]:
        transport = httpx.ASGITransport(app=create_app(own_sweep.workspace))
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
            download = asyncio.ensure_future(client.get(f"/api/runs/{run.id}/files/{record.name}"))
            pages = await asyncio.gather(*(client.get("/api/experiments") for _ in range(4)))
            gate.set()
            return [p.status_code for p in pages], (await download).status_code

    statuses, downloaded = asyncio.run(main())
    assert statuses == [200] * 4 and downloaded == 200
    assert seen["most"] == 1
    assert len(seen["threads"]) == 1 and next(iter(seen["threads"])).startswith("portal-page")
