"""A sweep in a notebook: live progress in the cell, the workspace notice, and a result that
displays as a short summary (the HTML unit-tested here without Ray; one real notebook run
through nbclient on the session's Ray)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sweep.cellruns import cells_frame
from sweep.notebook import (
    CellProgress,
    SilentTuneReporter,
    leaderboard_html,
    workspace_line,
)
from sweep.result import SweepResult
from tracking import Experiment, Workspace

NOTEBOOK = Path(__file__).parent / "notebooks" / "sweep.ipynb"
NOTICE = "no config.json found; using the local workspace in"


def _result(tmp_path: Path, values: dict[str, float], *, goal: str = "min") -> SweepResult:
    """A sweep's result over real records: one completed run per (kernel, rmse)."""
    ws = Workspace(base_dir=tmp_path)
    experiment = Experiment(ws, "html-exp")
    experiment.set_primary_metric("rmse", goal)
    for kernel, rmse in values.items():
        run = experiment.start_logging(outputs=str(tmp_path / "outputs"))
        run.log_params({"kernel": kernel})
        run.log("rmse", rmse)
        run.complete()
    best = experiment.get_best_run("rmse", mode=goal)
    runs = cells_frame(experiment)
    return SweepResult(experiment, best, runs, trained=len(values), failed=0, reused=3)


def test_the_result_shows_counts_the_best_run_with_its_link_and_the_top_five(
    tmp_path: Path,
) -> None:
    values = {f"k{i}": float(10 - i) for i in range(7)}  # k6 is best: rmse 4
    result = _result(tmp_path, values)
    shown = result._repr_html_()
    best = result.best_run
    assert best is not None and best.get_params() == {"kernel": "k6"}
    assert f'href="{best.portal_url}"' in shown and "rmse = 4" in shown
    assert "<th style='text-align:left'>trained</th><td>7</td>" in shown
    assert "<th style='text-align:left'>already done</th><td>3</td>" in shown
    assert "Top 5 of 7 runs" in shown and "2 more in <code>result.runs</code>" in shown
    assert [k for k in values if f"<td>{k}</td>" in shown] == ["k2", "k3", "k4", "k5", "k6"]
    header = shown.split("Top 5 of 7 runs")[1]
    assert "<th>number</th><th>params.kernel</th><th>metrics.rmse</th>" in header
    assert header.index("<td>k6</td>") < header.index("<td>k2</td>")  # best first


def test_a_max_metric_ranks_the_highest_first(tmp_path: Path) -> None:
    runs = cells_frame(_result(tmp_path, {"a": 0.2, "b": 0.9, "c": 0.5}).experiment)
    shown = leaderboard_html(runs, ("rmse", "max"))
    assert shown.index("<td>b</td>") < shown.index("<td>c</td>") < shown.index("<td>a</td>")


def test_every_value_is_escaped(tmp_path: Path) -> None:
    result = _result(tmp_path, {"<script>alert(1)</script>": 1.0, "a&b": 2.0})
    shown = result._repr_html_()
    assert "<script>" not in shown
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in shown and "a&amp;b" in shown
    result.experiment.workspace.close()


def test_the_repr_is_one_short_line_without_the_runs_table(tmp_path: Path) -> None:
    result = _result(tmp_path, {f"k{i}": float(i) for i in range(12)})
    text = repr(result)
    assert result.best_run is not None
    assert text == (
        f"SweepResult(experiment='html-exp', trained=12, failed=0, reused=3, "
        f"best_run='{result.best_run.id}')"
    )


def test_progress_shows_counts_and_the_workspace_escaped() -> None:
    class Counts:
        total, done, failed, running, best = 10, 6, 1, {"t1", "t2"}, 57.23482
        metric, mode = "rmse<", "min"

    cell = CellProgress("workspace in /tmp/<me>")
    shown = cell.html(Counts(), 12.4)  # type: ignore[arg-type]
    assert "<progress value='7' max='10'></progress> 7/10 (running)" in shown
    assert "<th style='text-align:left'>failed</th><td>1</td>" in shown
    assert "<th style='text-align:left'>running</th><td>2</td>" in shown
    assert "12 s" in shown and "best rmse&lt; (min)</th><td>57.2348" in shown
    assert "workspace in /tmp/&lt;me&gt;" in shown
    assert not cell.isatty()  # so ProgressCallback writes lines, which redraw the table


def test_the_embedded_workspace_is_announced_in_the_display(in_tmp: Path) -> None:
    ws = Workspace.from_config()
    assert workspace_line(ws) == f"{NOTICE} {in_tmp / 'workspace'}"
    (in_tmp / "config.json").write_text(json.dumps({"tracking_uri": "sqlite:///r.db"}))
    assert workspace_line(Workspace.from_config()).endswith(f"from {in_tmp / 'config.json'}")


def test_tunes_reporter_stays_silent() -> None:
    reporter = SilentTuneReporter()
    reporter.setup(start_time=0.0, total_samples=2, metric="rmse", mode="min")
    assert reporter.should_report([], done=True) is False


@pytest.mark.ray
def test_a_sweep_in_a_notebook(
    ray_address: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The notebook of tests/notebooks, executed in a new kernel that joins the session's
    Ray, in a folder with no config.json."""
    import nbclient
    import nbformat

    monkeypatch.setenv("RAY_ADDRESS", ray_address)  # the kernel joins the session's Ray
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        notebook, timeout=240, kernel_name="python3", resources={"metadata": {"path": tmp_path}}
    )
    client.execute()
    sweep_cell, result_cell = notebook.cells[2], notebook.cells[3]

    displays = [o for o in sweep_cell.outputs if o.output_type == "display_data"]
    html = [o.data.get("text/html", "") for o in displays]
    assert html and all(h.strip() for h in html), "an empty HTML output (Tune's reporter)"
    (progress,) = [h for h in html if "sweep-progress" in h]
    assert "2/2 (finished)" in progress and "best rmse (min)" in progress
    assert f"{NOTICE} {tmp_path / 'workspace'}" in progress
    stderr = "".join(o.text for o in sweep_cell.outputs if o.get("name") == "stderr")
    stdout = "".join(o.text for o in sweep_cell.outputs if o.get("name") == "stdout")
    assert "training 2 cells" in stdout and "training" not in stderr  # the cell's own text
    assert f"tracking: {NOTICE}" in stderr  # tracking's logged notice, not cleared
    assert "IProgress not found" not in stderr and "Missing packages" not in stderr
    assert "Checkpoint successfully created" not in stderr  # Ray Train's line per checkpoint
    assert "Trial name" not in json.dumps(sweep_cell.outputs)  # no table of Tune's own

    (shown,) = [o for o in result_cell.outputs if o.output_type == "execute_result"]
    data: dict[str, Any] = shown.data
    assert data["text/plain"].startswith("SweepResult(experiment='notebook-sweep', trained=2,")
    assert "\n" not in data["text/plain"]
    ws = Workspace(base_dir=tmp_path)  # the folder's embedded workspace
    best = Experiment(ws, "notebook-sweep").get_best_run("rmse")
    assert best.get_params() == {"alpha": 0.1}
    assert f'href="{best.portal_url}"' in data["text/html"]
    assert "Top 2 of 2 runs" in data["text/html"]


@pytest.mark.ray
def test_a_kernel_that_started_ray_shuts_down_without_signalling_it(tmp_path: Path) -> None:
    """A kernel whose sweep started a local Ray stops it when asked to shut down: ipykernel
    signals its child processes (Ray's) before Python's exit hooks, and Ray's processes
    then print `SIGTERM received` stack traces into the kernel's log."""
    import os

    from jupyter_client import KernelManager

    root = Path(__file__).resolve().parents[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
    env["PYTHONPATH"] = str(root)
    log = tmp_path / "kernel.log"
    with log.open("w") as stream:
        manager = KernelManager(kernel_name="python3")
        manager.start_kernel(stdout=stream, stderr=stream, cwd=str(tmp_path), env=env)
        client = manager.client()
        client.start_channels()
        try:
            client.wait_for_ready(timeout=120)
            code = (
                "from sweep.raystart import connect_ray\n"
                "from sweep.status import Status\n"
                "connect_ray(None, None, Status(quiet=True))  # as run_sweep starts Ray\n"
                "import ray; assert ray.is_initialized()"
            )
            reply = client.execute_interactive(code, timeout=240)
            assert reply["content"]["status"] == "ok", reply["content"]
        finally:
            client.stop_channels()
            manager.shutdown_kernel(now=False)  # a shutdown request, as Jupyter sends
    shown = log.read_text()
    assert not manager.is_alive()
    assert "SIGTERM received" not in shown, shown
