"""The portal in a real headless Chromium (Debian's package), driven by Playwright.

The portal runs as `python -m tracking.portal` in a subprocess on 127.0.0.1, stopped by its
pid; the runs are made through the facade with real scikit-learn models, as in the tutorial.
Screenshots of the three pages land in test-artifacts/.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import joblib
import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Ridge
from sklearn.metrics import mean_squared_error
from sklearn.model_selection import cross_val_score, train_test_split

from tests.helpers.browser import CHROMIUM, CHROMIUM_ARGS
from tests.helpers.net import free_port, wait_for_http
from tracking import Experiment, Workspace

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
EXPERIMENT = "diabetes-experiment"
REFRESH_SECONDS = 0.5


@dataclass
class Portal:
    url: str
    workspace: Workspace
    experiment: Experiment
    rmse: dict[str, float]  # by run id
    folder: Path


def _tutorial_runs(experiment: Experiment, folder: Path) -> dict[str, float]:
    """The tutorial's loop: one Ridge model per alpha, its rmse, and its model file.

    Each run also logs the rmse of its 5 cross-validation folds: a metric logged several
    times, which the run page draws.
    """
    X, y = load_diabetes(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=66)
    rmse = {}
    for alpha in (0.1, 0.3, 0.5, 0.7, 0.9):
        run = experiment.start_logging()
        run.log_params({"alpha": alpha})
        run.log("alpha_value", alpha)
        folds = cross_val_score(
            Ridge(alpha=alpha), X_train, y_train, cv=5, scoring="neg_root_mean_squared_error"
        )
        run.log_list("cv_rmse", [-fold for fold in folds])
        model = Ridge(alpha=alpha).fit(X_train, y_train)
        score = math.sqrt(mean_squared_error(y_test, model.predict(X_test)))
        run.log("rmse", score)
        path = folder / f"model_alpha_{alpha}.pkl"
        joblib.dump(model, path)
        run.upload_file(name=f"model_alpha_{alpha}.pkl", path_or_stream=path)
        run.complete()
        rmse[run.id] = score
    return rmse


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    folder = tmp_path_factory.mktemp("portal")
    (folder / "config.json").write_text(
        json.dumps({"name": "browser-test", "tracking_uri": "sqlite:///records.db"})
    )
    workspace = Workspace.from_config(folder)
    experiment = Experiment(workspace, EXPERIMENT)
    rmse = _tutorial_runs(experiment, folder)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "TRACKING_PORTAL_TOKEN"}
    log = (folder / "portal.log").open("wb")
    command = [sys.executable, "-m", "tracking.portal", "--config", str(folder)]
    command += ["--port", str(port), "--refresh", str(REFRESH_SECONDS)]
    process = subprocess.Popen(
        command,
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(f"{url}/api/experiments", process=process)
        yield Portal(url, workspace, experiment, rmse, folder)
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()
        workspace.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is not installed at {CHROMIUM}: apt-get install chromium")
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    opened.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    yield opened
    context.close()
    assert errors == [], f"the page logged errors: {errors}"


def _shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"portal-{name}.png"), full_page=True)


def test_from_the_experiments_page_to_the_best_model(
    portal: Portal, page: Page, tmp_path: Path
) -> None:
    p = page
    p.goto(portal.url + "/")
    link = p.get_by_role("link", name=EXPERIMENT)
    assert p.locator("#experiments-table tbody tr").count() >= 1
    _shot(p, "experiments")

    link.click()
    p.wait_for_url(f"**/experiments/{EXPERIMENT}")
    p.locator("#runs-table th[data-sort='metrics.rmse'] a").click()
    p.wait_for_url("**sort=metrics.rmse**")
    p.wait_for_function("() => document.body.dataset.charts === 'drawn'")
    rows = p.locator("#runs-table tbody tr")
    ids = [rows.nth(i).get_attribute("data-run-id") for i in range(rows.count())]
    assert ids == sorted(portal.rmse, key=portal.rmse.__getitem__)
    best_id = ids[0]
    assert p.locator("#best-run-link").get_attribute("href") == f"/runs/{best_id}"
    # Both charts drew one point per run, with uPlot's canvas.
    for plot in ("#chart-x-plot", "#chart-number-plot"):
        assert p.locator(plot).get_attribute("data-points") == "5"
        assert p.locator(f"{plot} canvas").count() == 1
    _shot(p, "experiment")

    rows.first.locator("td").first.get_by_role("link").click()
    p.wait_for_url(f"**/runs/{best_id}")
    assert best_id in p.locator("#details").inner_text()
    history = p.locator(".history-plot[data-metric='cv_rmse']")
    assert history.get_attribute("data-points") == "5"
    assert history.locator("canvas").count() == 1
    _shot(p, "run")
    with p.expect_download() as info:
        p.locator("#outputs a.download").first.click()
    download = info.value
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    (record,) = portal.workspace.records.list_files(best_id)
    assert download.suggested_filename == record.name
    assert hashlib.sha256(saved.read_bytes()).hexdigest() == record.sha256


def test_the_experiment_page_picks_up_a_new_run_without_reloading(
    portal: Portal, page: Page
) -> None:
    p = page
    live = Experiment(portal.workspace, "live-experiment")
    first = live.start_logging()
    first.log("rmse", 50.0)
    first.complete()
    p.goto(f"{portal.url}/experiments/{live.name}")
    p.wait_for_function("() => document.body.dataset.charts === 'drawn'")
    p.evaluate("() => { window.notReloaded = true; }")
    total = int(p.locator("#tile-total").inner_text())

    run = live.start_logging()
    run.log_params({"alpha": 2.0})
    run.log("rmse", 42.0)
    row = p.locator(f"#runs-table tr[data-run-id='{run.id}']")
    row.wait_for(timeout=10_000)
    assert row.get_attribute("data-status") == "Running"
    assert p.locator("#tile-running").inner_text() == "1"
    assert p.locator("#tile-total").inner_text() == str(total + 1)

    run.complete()
    p.locator(f"#runs-table tr[data-run-id='{run.id}'][data-status='Completed']").wait_for(
        timeout=10_000
    )
    # The charts and the best tile followed: 42 is the new lowest rmse.
    p.locator("#best-run-link", has_text=f"Run {run.number}").wait_for(timeout=10_000)
    assert p.evaluate("() => window.notReloaded") is True


def test_queued_runs_show_waiting_then_running_in_their_place(portal: Portal, page: Page) -> None:
    from tracking.records import NewRun, RunStatus, utcnow

    queue = Experiment(portal.workspace, "queue-experiment")
    records = portal.workspace.records
    parent = NewRun("sweep-parent", utcnow(), run_type="hyperdrive")  # a sweep's, marked
    waiting = [
        NewRun(f"queued-{i}", utcnow(), status=RunStatus.QUEUED, parent_run_id="sweep-parent")
        for i in range(3)
    ]
    records.record_runs(queue.id, [parent, *waiting])
    page.goto(f"{portal.url}/experiments/{queue.name}")
    assert page.locator("#tile-queued").inner_text() == "3"
    marked = page.locator("#runs-table tr[data-run-id='sweep-parent'] td").first
    assert marked.locator("a").inner_text() == "1"
    assert marked.locator(".kind").inner_text() == "sweep"
    row = page.locator("#runs-table tr[data-run-id='queued-1']")
    assert row.get_attribute("data-status") == "Queued"
    assert row.locator("td.field").nth(4).inner_text() == ""  # no duration while it waits

    started = NewRun("queued-1", utcnow(), params={"alpha": 0.5}, metrics=(("rmse", 40.0),),
                     parent_run_id="sweep-parent")  # fmt: skip
    records.record_runs(queue.id, [started])  # it starts: the same run, in the same place
    page.locator("#runs-table tr[data-run-id='queued-1'][data-status='Running']").wait_for(
        timeout=10_000
    )
    assert page.locator("#tile-queued").inner_text() == "2"
    assert page.locator("#tile-running").inner_text() == "2"  # the cell and its sweep
    assert records.get_run("queued-1").number == 3
    # Drawn again by the page's script: the sweep's run still marked.
    assert marked.locator(".kind").inner_text() == "sweep"


def test_the_status_filter_asks_the_server_for_those_runs(portal: Portal, page: Page) -> None:
    page.goto(f"{portal.url}/experiments/{EXPERIMENT}?sort=metrics.rmse&order=desc")
    page.locator("#status-select").select_option("Failed")
    page.wait_for_url("**status=Failed**")
    assert "sort=metrics.rmse" in page.url
    page.wait_for_function("() => Number(document.body.dataset.polls) >= 1")  # redrawn by JS
    assert page.locator("#runs-table tbody tr.empty-row").inner_text() == (
        "No runs with status Failed."
    )
    page.locator("#status-select").select_option("Completed")
    page.wait_for_url("**status=Completed**")
    assert page.locator("#runs-table tbody tr[data-run-id]").count() == len(portal.rmse)


def test_the_browser_formats_values_as_the_server_does(portal: Portal, page: Page) -> None:
    from tracking.portal.templating import fmt_duration, fmt_number

    numbers = [0.0, 1.0, 57.234812, 0.1 + 0.2, 1234567.0, 123456.7, 1e-5, 0.0001234, -2.5e12]
    durations = [0.0004, 0.0375, 0.9996, 9.96, 61.0, 3599.9, 7380.0]
    page.goto(f"{portal.url}/experiments/{EXPERIMENT}")
    shown = page.evaluate(
        "([n, d]) => [n.map(Portal.fmtNumber), d.map(Portal.fmtDuration),"
        " ['NaN', 'Infinity', '-Infinity'].map(Portal.fmtNumber)]",
        [numbers, durations],
    )
    assert shown[0] == [fmt_number(v) for v in numbers]
    assert shown[1] == [fmt_duration(v) for v in durations]
    assert shown[1][:3] == ["0 ms", "38 ms", "1.0 s"]
    assert shown[2] == [fmt_number(v) for v in (math.nan, math.inf, -math.inf)]


def test_a_long_history_is_drawn_sampled_and_a_dragged_range_in_full(
    portal: Portal, page: Page
) -> None:
    from tracking.records import NewRun, RunStatus, utcnow

    Experiment(portal.workspace, "long-history")
    store = portal.workspace.records
    values = tuple(("loss", (step % 100) / 100) for step in range(30_000))
    (run,) = store.record_runs(
        store.get_experiment("long-history").id,
        [NewRun("long-history-run", utcnow(), metrics=values, status=RunStatus.COMPLETED)],
    )
    page.goto(f"{portal.url}/runs/{run.run_id}")
    figure = page.locator("figure", has=page.locator(".history-plot[data-metric='loss']"))
    plot, caption = figure.locator(".history-plot"), figure.locator(".history-caption")
    plot.locator("canvas").wait_for()
    assert re.search(r"sampled: [\d,]+ of 30,000 values", caption.inner_text())
    assert int(plot.get_attribute("data-points") or 0) <= 10_000

    box = plot.locator(".u-over").bounding_box()
    assert box is not None
    middle = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * 0.4, middle)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.6, middle, steps=5)
    page.mouse.up()
    page.wait_for_function(
        "() => document.querySelector(\".history-plot[data-metric='loss']\").dataset.range"
    )
    start, end = map(int, (plot.get_attribute("data-range") or "").split("-"))
    assert 0 < start < end < 30_000
    assert plot.get_attribute("data-points") == str(end - start + 1)  # every value in it
    assert "all " + f"{end - start + 1:,}" + " values" in caption.inner_text()
    _shot(page, "run-history-range")

    figure.locator(".history-whole").click()
    assert int(plot.get_attribute("data-points") or 0) <= 10_000
    assert "sampled" in caption.inner_text()
