"""The run page: a sweep's run is titled by its number and its cell, with its Ray Tune trial
among the properties; JSON values are shown formatted, and long values wrap between words.

In-process with Starlette's test client, and once in headless Chromium for the wrapping.
"""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.browser import CHROMIUM, CHROMIUM_ARGS
from tests.helpers.net import free_port, wait_for_http
from tracking import Experiment, Run, Workspace
from tracking.portal import create_app
from tracking.portal.pages import cell_label, format_json

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # Starlette 1.x prefers httpx2 for its test client
    from starlette.testclient import TestClient

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
TRIAL = "train_cells_09e79_00000"
CELL = {"alpha": 0.1, "fit_intercept": True, "solver": "auto"}
# As sweep.spec.SweepSpec.cell_key writes it: json.dumps with its default separators.
CELL_KEY = json.dumps(
    {
        "data": "builtin:diabetes",
        "estimator": "sklearn.linear_model.Ridge",
        "params": CELL,
        "seed": 0,
        "target": None,
        "test_size": 0.2,
    },
    sort_keys=True,
)
LONG_TEXT = "a model of the diabetes data set trained on a laptop " * 4


def _sweep_run(experiment: Experiment) -> Run:
    """A run as a sweep records one of its cells: named after its Tune trial."""
    run = experiment.start_logging(
        display_name=TRIAL,
        properties={
            "ray.trial_id": "09e79_00000",
            "ray.trial_cell": "0",
            "sweep.tune_run": "diabetes-experiment-20240501-120000",
            "sweep.cell": CELL_KEY,
            "note": LONG_TEXT,
        },
        tags={"removed_files": json.dumps([f"checkpoint_00000{i}/model.pkl" for i in range(4)])},
    )
    run.log_params(CELL)
    run.log("rmse", 57.2)
    run.complete()
    return run


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    monkeypatch.chdir(tmp_path)  # start_logging watches ./outputs
    workspace = Workspace(
        "test",
        tracking_uri=f"sqlite:///{tmp_path / 'records.db'}",
        storage_uri=str(tmp_path / "storage"),
    )
    yield workspace
    workspace.close()


@pytest.fixture
def experiment(ws: Workspace) -> Experiment:
    return Experiment(ws, "diabetes-experiment")


@pytest.fixture
def client(ws: Workspace) -> Iterator[TestClient]:
    with TestClient(create_app(ws), base_url="http://127.0.0.1:8080") as test_client:
        yield test_client


def _page(client: TestClient, run: Run) -> str:
    response = client.get(f"/runs/{run.id}")
    assert response.status_code == 200
    return response.text


def _text(fragment: str) -> str:
    """The text of an HTML fragment, tags dropped and spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def _element(page: str, pattern: str) -> str:
    found = re.search(pattern, page, re.S)
    assert found, f"no {pattern!r} in the page"
    return found.group(0)


def _property_rows(page: str) -> dict[str, str]:
    table = _element(page, r'<table class="kv" id="properties">.*?</table>')
    rows = re.findall(r"<tr[^>]*><th[^>]*>(.*?)</th>(<td.*?</td>)</tr>", table, re.S)
    return {html.unescape(name): cell for name, cell in rows}


def test_a_sweep_run_is_titled_by_its_number_and_cell(
    client: TestClient, experiment: Experiment
) -> None:
    run = _sweep_run(experiment)
    page = _page(client, run)
    label = "alpha=0.1, fit_intercept=true, solver=auto"
    assert _text(_element(page, r"<title>.*?</title>")) == (
        f"Run {run.number} · {label} · diabetes-experiment · test · raysweep"
    )
    assert _text(_element(page, r'<h1 id="run-title">.*?</h1>')) == (
        f"Run {run.number} · {label} Completed"
    )
    assert _text(_element(page, r'<nav class="crumbs".*?</nav>')).endswith(f"Run {run.number}")
    # The trial's name is no longer the title: it is the first property row.
    assert TRIAL not in _element(page, r"<title>.*?</h1>")
    rows = _property_rows(page)
    assert next(iter(rows)) == "Trial" and _text(rows["Trial"]) == TRIAL


def test_other_runs_keep_their_names(client: TestClient, experiment: Experiment) -> None:
    plain = experiment.start_logging()
    plain.complete()
    named = experiment.start_logging(display_name="fold <1>")
    named.complete()
    # A trial of someone's own Tuner: no sweep cell, its config flattened into params.
    tuner = experiment.start_logging(
        display_name="train_fn_1a2b3_00002", properties={"ray.trial_id": "1a2b3_00002"}
    )
    tuner.log_params({"model/alpha": 0.5, "lr": 0.01})
    tuner.complete()

    title = r'<h1 id="run-title">.*?</h1>'
    assert _text(_element(_page(client, plain), title)) == f"Run {plain.number} Completed"
    assert "Trial" not in _property_rows(_page(client, plain))
    named_page = _page(client, named)
    assert "fold &lt;1&gt;" in named_page  # escaped
    assert _text(_element(named_page, title)) == f"Run {named.number} · fold <1> Completed"
    tuner_page = _page(client, tuner)
    assert _text(_element(tuner_page, title)) == (
        f"Run {tuner.number} · lr=0.01, model/alpha=0.5 Completed"
    )
    assert _text(_property_rows(tuner_page)["Trial"]) == "train_fn_1a2b3_00002"


def test_json_values_are_formatted_and_other_text_is_kept(
    client: TestClient, experiment: Experiment
) -> None:
    run = _sweep_run(experiment)
    rows = _property_rows(_page(client, run))
    lines = _json_lines(rows["sweep.cell"])
    assert json.loads("\n".join(text for _, text in lines)) == json.loads(CELL_KEY)
    # One member a line, indented by depth; the cell's params, short enough, stay whole.
    assert lines[0] == (0, "{") and lines[-1] == (0, "}") and len(lines) == 8
    assert (1, '"params": {"alpha": 0.1, "fit_intercept": true, "solver": "auto"},') in lines
    # Text that is not JSON is shown as it is, to wrap between its words.
    assert html.unescape(rows["note"]) == f"<td>{LONG_TEXT}</td>"
    assert html.unescape(rows["ray.trial_cell"]) == "<td>0</td>"
    tags = _element(_page(client, run), r'<table class="kv" id="tags">.*?</table>')
    assert _json_lines(tags)[:2] == [(0, "["), (1, '"checkpoint_000000/model.pkl",')]


def _json_lines(fragment: str) -> list[tuple[int, str]]:
    """The lines of the first formatted JSON value in `fragment`: (depth, text)."""
    value = _element(fragment, r'<div class="json-value">.*?</div></td>')
    lines = re.findall(r'<div class="d(\d)">(.*?)</div>', value)
    return [(int(depth), html.unescape(text)) for depth, text in lines]


def test_format_json_keeps_what_fits_on_a_line() -> None:
    assert format_json({"alpha": 0.1}) == '{"alpha": 0.1}'
    assert format_json([]) == "[]" and format_json("x" * 100) == json.dumps("x" * 100)
    nested = {"a": ["x" * 30, "y" * 30], "b": {"c": 1}}
    assert format_json(nested) == (
        '{\n  "a": [\n    "' + "x" * 30 + '",\n    "' + "y" * 30 + '"\n  ],\n  "b": {"c": 1}\n}'
    )
    assert json.loads(format_json(nested)) == nested


def test_cell_label_names_at_most_six_params() -> None:
    assert cell_label({"alpha": 0.1, "positive": False, "solver": "lbfgs"}) == (
        "alpha=0.1, positive=false, solver=lbfgs"
    )
    assert cell_label({f"p{i}": i for i in range(8)}).endswith("p5=5, …")


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"no Chromium at {CHROMIUM}")
def test_long_values_wrap_between_words_in_chromium(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from playwright.sync_api import sync_playwright

    (tmp_path / "config.json").write_text(
        json.dumps({"name": "run-page", "tracking_uri": "sqlite:///records.db"})
    )
    monkeypatch.chdir(tmp_path)  # start_logging watches ./outputs
    workspace = Workspace.from_config(tmp_path)
    try:
        run = _sweep_run(Experiment(workspace, "diabetes-experiment"))
    finally:
        workspace.close()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "TRACKING_PORTAL_TOKEN"}
    command = [sys.executable, "-m", "tracking.portal", "--config", str(tmp_path)]
    log = (tmp_path / "portal.log").open("wb")
    process = subprocess.Popen(
        [*command, "--port", str(port)], stdout=log, stderr=subprocess.STDOUT, env=env
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for_http(f"{url}/api/experiments", process=process)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 900, "height": 900})
            page.goto(f"{url}/runs/{run.id}")
            # Each word of a value on one line: no word broken across two.
            broken = page.evaluate(SPLIT_WORDS, "#properties td, #tags td, #params td")
            lines = page.evaluate(LINES, "#properties .json-value")
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "portal-run-sweep-cell.png"), full_page=True)
            browser.close()
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()
    assert broken == []
    assert lines > 8  # the card is narrower than the JSON: some of its lines wrapped


# The words of the matched cells (runs of characters but spaces and hyphens, after which a
# line may break) that the browser laid out on more than one line.
SPLIT_WORDS = """(selector) => {
  const broken = [];
  for (const cell of document.querySelectorAll(selector)) {
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const word of node.data.matchAll(/[^\\s-]+/g)) {
        const range = document.createRange();
        range.setStart(node, word.index);
        range.setEnd(node, word.index + word[0].length);
        const tops = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
        if (tops.size > 1) broken.push(word[0]);
      }
    }
  }
  return broken;
}"""

# How many lines the element's text takes on the screen.
LINES = """(selector) => {
  const range = document.createRange();
  range.selectNodeContents(document.querySelector(selector));
  return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
}"""
