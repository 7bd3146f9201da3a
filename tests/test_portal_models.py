"""The portal's models: the /models page and /api/models, in-process on every backend, and
one walk through them in headless Chromium."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.net import free_port, wait_for_http
from tracking import Experiment, Model, Run, Workspace
from tracking.model import register_run_model
from tracking.portal import create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # Starlette 1.x prefers httpx2 for its test client
    from starlette.testclient import TestClient

BASE = "http://127.0.0.1:8080"
TOKEN = "t" * 40


def _run(ws: Workspace) -> Run:
    run = Experiment(ws, "diabetes-experiment").start_logging()
    run.upload_file("outputs/model.pkl", io.BytesIO(b"model bytes"))
    run.upload_file("outputs/scaler.pkl", io.BytesIO(b"scaler"))
    run.complete()
    return run


@pytest.fixture
def ws(tracking_uri: str, tmp_path: Path) -> Iterator[Workspace]:
    workspace = Workspace("test", tracking_uri=tracking_uri, storage_uri=str(tmp_path / "storage"))
    yield workspace
    workspace.close()


@pytest.fixture
def client(ws: Workspace) -> Iterator[TestClient]:
    with TestClient(create_app(ws), base_url=BASE) as test_client:
        yield test_client


@pytest.fixture
def registered(ws: Workspace, tmp_path: Path) -> dict[str, str]:
    """diabetes: two versions from two runs; churn: one uploaded from a local file."""
    first, second = _run(ws), _run(ws)
    register_run_model(first, "diabetes", "outputs/model.pkl", tags={"stage": "<dev>"})
    register_run_model(second, "diabetes", "outputs", description="model and scaler")
    local = tmp_path / "churn.pkl"
    local.write_bytes(b"churn")
    Model.register(ws, local, "churn")
    return {"first": first.id, "second": second.id}


def test_api_lists_each_model_with_its_latest_version(
    client: TestClient, registered: dict[str, str]
) -> None:
    response = client.get("/api/models")
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    models = response.json()["models"]
    assert [m["name"] for m in models] == ["churn", "diabetes"]
    churn, diabetes = models
    assert churn | {"createdUtc": None} == {
        "name": "churn",
        "latestVersion": 1,
        "versionCount": 1,
        "runId": None,
        "description": None,
        "createdUtc": None,
    }
    assert (diabetes["latestVersion"], diabetes["versionCount"]) == (2, 2)
    assert diabetes["runId"] == registered["second"]
    assert diabetes["description"] == "model and scaler"
    assert diabetes["createdUtc"].endswith("Z")
    assert "versions" not in response.json()


def test_api_gives_one_models_versions_newest_first(
    client: TestClient, registered: dict[str, str]
) -> None:
    body = client.get("/api/models", params={"name": "diabetes"}).json()
    assert [m["name"] for m in body["models"]] == ["diabetes"]
    latest, first = body["versions"]
    assert (latest["version"], first["version"]) == (2, 1)
    assert latest["path"] == "outputs"
    assert [f["path"] for f in latest["files"]] == ["outputs/model.pkl", "outputs/scaler.pkl"]
    assert set(latest["files"][0]) == {"path", "size", "sha256"}  # no storage locations
    assert first["runId"] == registered["first"] and first["tags"] == {"stage": "<dev>"}
    assert client.get("/api/models?name=absent").json() == {"models": [], "versions": []}


def test_an_empty_workspace_lists_no_models(client: TestClient) -> None:
    assert client.get("/api/models").json() == {"models": []}
    page = client.get("/models")
    assert page.status_code == 200 and "No models yet" in page.text


def test_the_models_page_links_each_model_and_its_run(
    client: TestClient, registered: dict[str, str]
) -> None:
    page = client.get("/models")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert 'id="models-table"' in page.text
    assert 'href="/models?name=diabetes"' in page.text
    assert f'href="/runs/{registered["second"]}"' in page.text
    assert 'href="/models">Models</a>' in client.get("/").text  # in every page's header


def test_a_models_page_lists_its_versions_escaped(
    client: TestClient, registered: dict[str, str]
) -> None:
    page = client.get("/models?name=diabetes")
    assert page.status_code == 200
    assert 'id="version-2"' in page.text and 'id="version-1"' in page.text
    assert f'href="/runs/{registered["first"]}"' in page.text
    assert "stage=&lt;dev&gt;" in page.text and "<dev>" not in page.text
    absent = client.get("/models?name=%3Cscript%3E")
    assert "No model named <code>&lt;script&gt;</code>" in absent.text


def test_models_are_described_and_guarded_like_every_route(ws: Workspace) -> None:
    with TestClient(create_app(ws, token=TOKEN), base_url=BASE) as guarded:
        for url in ("/models", "/api/models"):
            assert guarded.get(url).status_code == 401
            allowed = guarded.get(url, headers={"Authorization": f"Bearer {TOKEN}"})
            assert allowed.status_code == 200
        document = guarded.get(
            "/api/openapi.json", headers={"Authorization": f"Bearer {TOKEN}"}
        ).json()
    assert document["paths"]["/api/models"]["get"]["operationId"] == "listModels"
    assert "ModelVersion" in document["components"]["schemas"]


# -- in a browser ------------------------------------------------------------------------------
def test_from_the_header_to_a_models_run_in_chromium(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    from tests.helpers.browser import CHROMIUM, CHROMIUM_ARGS

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is not installed at {CHROMIUM}: apt-get install chromium")
    (tmp_path / "config.json").write_text(
        json.dumps({"name": "models-test", "tracking_uri": "sqlite:///records.db"})
    )
    ws = Workspace.from_config(tmp_path)
    run = _run(ws)
    register_run_model(run, "diabetes", "outputs/model.pkl")
    register_run_model(run, "diabetes", "outputs/model.pkl")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "TRACKING_PORTAL_TOKEN"}
    command = [sys.executable, "-m", "tracking.portal", "--config", str(tmp_path)]
    with (tmp_path / "portal.log").open("wb") as log:
        process = subprocess.Popen(
            [*command, "--port", str(port)], stdout=log, stderr=subprocess.STDOUT, env=env
        )
    url = f"http://127.0.0.1:{port}"
    errors: list[str] = []
    try:
        wait_for_http(f"{url}/api/models", process=process)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(url + "/")
            page.locator("nav.sections").get_by_role("link", name="Models").click()
            page.wait_for_url("**/models")
            row = page.locator("#models-table tbody tr")
            assert row.count() == 1
            assert row.locator("td").nth(1).inner_text() == "2"
            row.get_by_role("link", name="diabetes").click()
            page.wait_for_url("**/models?name=diabetes")
            assert page.locator("#versions-table tbody tr").count() == 2
            page.locator("#version-1").get_by_role("link", name=run.id).click()
            page.wait_for_url(f"**/runs/{run.id}")
            browser.close()
    finally:
        process.terminate()
        process.wait(timeout=10)
        ws.close()
    assert errors == []
