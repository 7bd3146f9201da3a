"""Portal benchmark: an experiment of 100,000 runs, served over HTTP and drawn in Chromium.

    python tests/bench/portal_bench.py [--runs 100000] [--repeat 5] [--folder DIR]

Each run has 2 params and 3 metrics, written through the record store's bulk write
(`record_runs`, as a sweep's callback writes them). The workspace is kept in --folder
(default bench-results/portal-<runs>) and reused by the next call. The portal is served by
uvicorn on 127.0.0.1 in this process; server times are the medians of --repeat HTTP requests
(after one warm-up), browser times the medians of --repeat page loads in headless Chromium
from navigation start. The chart data of an experiment with no running run is kept by the
portal once read, so its first request (median over 6 metric/param pairs) is shown apart.
Targets: under 200 ms on the server, under 1 s in the browser.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench.common import median_ms
from tests.bench.store_bench import bulk_write_runs
from tests.helpers.browser import CHROMIUM, CHROMIUM_ARGS
from tests.helpers.net import free_port
from tracking import Workspace
from tracking.portal import create_app

EXPERIMENT = "big"


def fill(workspace: Workspace, runs: int) -> None:
    """Give the experiment `runs` completed runs (adding only those it lacks)."""
    store = workspace.records
    experiment = store.get_or_create_experiment(EXPERIMENT)
    bulk_write_runs(store, experiment.id, store.search_runs(experiment.id, limit=0).total, runs)


@contextmanager
def serving(workspace: Workspace) -> Iterator[str]:
    """The portal on 127.0.0.1 under uvicorn in a thread; stopped through its server handle."""
    import uvicorn

    port = free_port()
    config = uvicorn.Config(
        create_app(workspace, refresh_seconds=60),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="off",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the portal did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def fetch(url: str) -> Callable[[], int]:
    def call() -> int:
        with urllib.request.urlopen(url, timeout=60) as response:
            return len(response.read())

    return call


def first_chart_ms(api: str) -> float:
    """Median ms of the first request of 6 charts (3 metrics x 2 params), before any other.

    The portal keeps an experiment's chart data once read (while no run is running), so
    only a chart's first request reads the records.
    """
    first = []
    for metric in ("rmse", "mae", "r2"):
        for param in ("alpha", "l1_ratio"):
            call = fetch(f"{api}/chart?metric={metric}&param={param}")
            started = time.perf_counter()
            call()
            first.append((time.perf_counter() - started) * 1000)
    return statistics.median(first)


def server_times(
    base: str, runs: int, repeat: int, experiment: str = EXPERIMENT
) -> dict[str, tuple[str, float]]:
    """What each request is and its median ms, by key; `tests/bench/run.py` reports
    `first_page_ms` and `chart_data_ms` (first requests) as the portal's figures."""
    api = f"{base}/api/experiments/{experiment}"
    rows = {"chart_data_ms": ("chart data, first request (6 charts)", first_chart_ms(api))}
    requests = {
        "first_page_ms": ("runs page 1 (newest first)", f"{api}/runs"),
        "first_page_by_rmse_ms": (
            "runs page 1 sorted by rmse",
            f"{api}/runs?sort=metrics.rmse&order=asc",
        ),
        "first_page_by_alpha_ms": (
            "runs page 1 sorted by alpha desc",
            f"{api}/runs?sort=params.alpha&order=desc",
        ),
        "middle_page_ms": (
            "runs page in the middle (by rmse)",
            f"{api}/runs?sort=rmse&offset={runs // 2}",
        ),
        "summary_ms": ("experiment summary", api),
        "chart_data_kept_ms": (
            "chart data rmse vs alpha (kept)",
            f"{api}/chart?metric=rmse&param=alpha",
        ),
        "experiment_page_ms": ("experiment page (HTML)", f"{base}/experiments/{experiment}"),
    }
    for key, (label, url) in requests.items():
        rows[key] = (label, median_ms(fetch(url), repeat))
    return rows


def browser_times(base: str, repeat: int) -> dict[str, float]:
    """Medians over page loads: ms from navigation start to the drawn table and charts."""
    from playwright.sync_api import sync_playwright

    table, charts = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            for _ in range(repeat + 1):  # the first load warms the browser's cache
                page.goto(f"{base}/experiments/{EXPERIMENT}", wait_until="commit")
                page.wait_for_selector("#runs-table tbody tr[data-run-id]")
                table.append(
                    page.evaluate(
                        "() => { const e = performance.getEntriesByType('navigation')[0];"
                        " return e.domContentLoadedEventEnd; }"
                    )
                )
                page.wait_for_function("() => document.body.dataset.charts === 'drawn'")
                charts.append(page.evaluate("() => Number(document.body.dataset.chartsMs)"))
        finally:
            browser.close()
    return {
        "table drawn (DOMContentLoaded)": statistics.median(table[1:]),
        "charts drawn": statistics.median(charts[1:]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--folder", type=Path, default=None)
    args = parser.parse_args()
    folder = args.folder or Path("bench-results") / f"portal-{args.runs}"
    workspace = Workspace(
        "bench",
        tracking_uri=f"sqlite:///{folder.absolute() / 'records.db'}",
        storage_uri=str(folder.absolute() / "storage"),
    )
    print(f"filling {folder} up to {args.runs:,} runs...", file=sys.stderr, flush=True)
    fill(workspace, args.runs)
    with serving(workspace) as base:
        rows = server_times(base, args.runs, args.repeat)
        browser = browser_times(base, args.repeat)
    print(f"\nportal at {args.runs:,} runs (medians of {args.repeat})\n")
    print(f"{'server: GET':<40} {'ms':>8}")
    for label, ms in rows.values():
        print(f"{label:<40} {ms:>8.1f}")
    print(f"\n{'browser: from navigation start':<40} {'ms':>8}")
    for label, ms in browser.items():
        print(f"{label:<40} {ms:>8.1f}")


if __name__ == "__main__":
    main()
