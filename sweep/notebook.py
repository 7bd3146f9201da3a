"""A sweep in a Jupyter notebook: its live progress in the cell, and how its result displays.

In a notebook, Ray Tune's own reporter would clear the cell's output (taking the workspace
notice with it) and leave an empty HTML output behind: `SilentTuneReporter` keeps it quiet,
and `CellProgress` draws `ProgressCallback`'s counts as one HTML table updated in place.
`sweep_html` is `SweepResult._repr_html_`: counts, the best run with its portal link, and
the top of the leaderboard, never the whole DataFrame. No Ray import.
"""

from __future__ import annotations

import html
import io
import logging
import math
import sys
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TextIO, cast

from tracking import Workspace
from tracking.config import DEFAULT_FOLDER, default_config, redact

if TYPE_CHECKING:
    import pandas as pd
    from ray.tune import ProgressReporter

    from sweep.progress import ProgressCallback
    from sweep.result import SweepResult
    from sweep.spec import SweepSpec

LEADERBOARD_ROWS = 5
UPDATE_INTERVAL_S = 0.5  # at most two redraws a second: a big sweep sends many events


def in_notebook() -> bool:
    """Whether this process is a Jupyter kernel (where display() reaches a cell)."""
    if "ipykernel" not in sys.modules:
        return False
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


@contextmanager
def quiet_ray_import() -> Iterator[None]:
    """Import Ray inside this block without the two lines its import writes in a notebook
    that has no ipywidgets: tqdm's `IProgress not found` warning and Ray's `Missing
    packages` notice. Outside a notebook, or with Ray imported already, it does nothing."""
    if "ray" in sys.modules or not in_notebook():
        yield
        return
    notice = logging.getLogger("ray.widgets.util")
    level = notice.level
    notice.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="IProgress not found")
            yield
    finally:
        notice.setLevel(level)


class SilentTuneReporter:
    """A Tune progress reporter that reports nothing (`RunConfig(progress_reporter=...)`).

    Without one, Tune picks its `JupyterNotebookReporter` in a notebook even at
    `verbose=0`, and that reporter clears the cell's output when it starts. It implements
    Tune's `ProgressReporter` contract (`setup`, `should_report`, `report`) without
    importing Ray, so that it pickles into a sweep's saved state by name.
    """

    def setup(self, *args: Any, **kwargs: Any) -> None:
        pass

    def should_report(self, trials: list[Any], done: bool = False) -> bool:
        return False

    def report(self, trials: list[Any], done: bool, *sys_info: str) -> None:
        pass


def silent_tune_reporter() -> ProgressReporter:
    """A `SilentTuneReporter`, typed as what `RunConfig(progress_reporter=...)` takes."""
    return cast("ProgressReporter", SilentTuneReporter())


def workspace_line(workspace: Workspace) -> str:
    """Where the sweep records, in words: its config file, or the embedded workspace (in
    the words of `tracking.config.announce_default`, which a notebook may not show)."""
    config = workspace.config
    if config.source is not None:
        return f"workspace {config.name!r} from {config.source}"
    if config.base_dir is not None and config == default_config(config.base_dir):
        folder = config.base_dir / DEFAULT_FOLDER
        return f"no config.json found; using the local workspace in {folder}"
    return f"workspace {config.name!r}: records in {redact(config.tracking_uri)}"


def progress_callback(
    total: int, spec: SweepSpec, workspace: Workspace, **options: Any
) -> ProgressCallback:
    """The sweep's progress display: `ProgressCallback` (a bar on a terminal, lines
    elsewhere), drawn in a notebook as an HTML table in the cell; `options` go to it."""
    from sweep.progress import ProgressCallback

    if not in_notebook():
        return ProgressCallback(total, spec.metric, spec.mode, **options)
    cell = CellProgress(workspace_line(workspace), started=options.get("started"))
    progress = ProgressCallback(
        total, spec.metric, spec.mode, stream=cast(TextIO, cell), interval=UPDATE_INTERVAL_S,
        **options,
    )  # fmt: skip
    return cell.follow(progress)


class CellProgress(io.TextIOBase):
    """A stream for `ProgressCallback` that, each time it writes a line, shows the
    callback's counts instead, as a small HTML table updated in place in the cell.

    Not a terminal, so the callback writes plain lines (at most one per `interval`, and
    one at the end); `ProgressCallback` does not pickle its stream, so neither the display
    nor this reaches a sweep's saved state.

    Args:
        workspace: a line saying where the runs are recorded, shown above the counts.
        started: when the sweep began, on `time.time()`'s clock (default: now).
    """

    def __init__(self, workspace: str = "", *, started: float | None = None) -> None:
        super().__init__()
        self.workspace = workspace
        self.started = time.time() if started is None else started
        self._progress: ProgressCallback | None = None
        self._handle: Any = None

    def follow(self, progress: ProgressCallback) -> ProgressCallback:
        """Show `progress`'s counts from now on; returns it."""
        self._progress = progress
        return progress

    def isatty(self) -> bool:
        return False

    def write(self, text: str) -> int:
        if "\n" in text and self._progress is not None:
            self.show(self._progress)
        return len(text)

    def show(self, progress: ProgressCallback) -> None:
        """Draw the table: in the cell's output the first time, updating it after."""
        from IPython.display import HTML, display

        page = HTML(self.html(progress, time.time() - self.started))
        if self._handle is None:
            self._handle = display(page, display_id=True)
        else:
            self._handle.update(page)

    def html(self, progress: ProgressCallback, elapsed: float) -> str:
        """Runs finished of the total, completed, failed, running, elapsed, best so far."""
        finished = progress.done + progress.failed
        state = "finished" if finished >= progress.total and not progress.running else "running"
        best = "-" if progress.best is None else f"{progress.best:.6g}"
        metric = f"best {progress.metric} ({progress.mode})"
        bar = f"<progress value='{finished}' max='{max(progress.total, 1)}'></progress>"
        rows = [
            ("runs", f"{bar} {finished}/{progress.total} ({state})"),
            ("completed", str(progress.done)),
            ("failed", str(progress.failed)),
            ("running", str(len(progress.running))),
            ("elapsed", f"{elapsed:.0f} s"),
            (html.escape(metric), html.escape(best)),
        ]
        note = f"<div>{html.escape(self.workspace)}</div>" if self.workspace else ""
        return f"<div class='sweep-progress'>{note}{_fields(rows)}</div>"


# -- a sweep's result --------------------------------------------------------------------


def sweep_html(result: SweepResult) -> str:
    """The result in a notebook: counts, the best run with its portal link, and the
    leaderboard's top rows. Every value is escaped."""
    metric = result.experiment.primary_metric  # as the sweep set it: no database read
    parts = [
        f"<h4>Sweep of experiment {_link(result.experiment.name, result.experiment.portal_url)}"
        "</h4>",
        _counts(result),
        _best(result, metric),
    ]
    if result.tracking_errors:
        errors = "".join(f"<li>{html.escape(e)}</li>" for e in result.tracking_errors)
        parts.append(f"<p>Not recorded:</p><ul>{errors}</ul>")
    parts.append(leaderboard_html(result.runs, metric))
    return "<div class='sweep-result'>" + "".join(parts) + "</div>"


def _link(text: str, url: str) -> str:
    href = html.escape(url, quote=True)
    return f'<a href="{href}" target="_blank" rel="noopener">{html.escape(text)}</a>'


def _counts(result: SweepResult) -> str:
    counts = [("trained", result.trained), ("failed", result.failed)]
    if result.canceled:
        counts.append(("canceled", result.canceled))
    counts.append(("already done", result.reused))
    rows = [(k, str(v)) for k, v in counts]
    if result.interrupted:
        rows.append(("stopped early", "yes: <code>resume=True</code> finishes the sweep"))
    if result.parent_run is not None:
        rows.append(
            ("sweep run", _link(f"run {result.parent_run.number}", result.parent_run.portal_url))
        )
    return _fields(rows)


def _fields(rows: list[tuple[str, str]]) -> str:
    """A two-column table of (name, HTML value) rows."""
    body = "".join(f"<tr><th style='text-align:left'>{k}</th><td>{v}</td></tr>" for k, v in rows)
    return f"<table>{body}</table>"


def _best(result: SweepResult, metric: tuple[str, str] | None) -> str:
    run = result.best_run
    if run is None:
        return "<p>Best run: none (no run has the metric).</p>"
    value = ""
    if metric is not None:
        column, runs = f"metrics.{metric[0]}", result.runs
        rows = runs[runs["run_id"] == run.id] if "run_id" in runs.columns else runs.iloc[:0]
        if column in rows.columns and len(rows):
            value = f", {html.escape(metric[0])} = {html.escape(_text(rows[column].iloc[0]))}"
    link = _link(f"run {run.number}", run.portal_url)
    return f"<p>Best run: {link} (<code>{html.escape(run.id)}</code>){value}</p>"


def leaderboard_html(runs: pd.DataFrame, metric: tuple[str, str] | None) -> str:
    """The top runs by the metric, best first (ties by run number), as a table of their
    number, params and that metric; with no metric, the first runs by number."""
    column = None if metric is None else f"metrics.{metric[0]}"
    if metric is not None and column in runs.columns:
        ranked = runs.dropna(subset=[column])
        ranked = ranked.sort_values([column, "number"], ascending=[metric[1] != "max", True])
    elif "number" in runs.columns:
        ranked = runs.sort_values("number")
    else:
        ranked = runs
    if ranked.empty:
        return "<p>No run has the metric yet.</p>" if metric else "<p>No runs yet.</p>"
    params = [c for c in runs.columns if c.startswith("params.")]
    columns = [c for c in ["number", *params, column] if c in runs.columns]
    shown = ranked.head(LEADERBOARD_ROWS)
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_text(row[c]))}</td>" for c in columns) + "</tr>"
        for _, row in shown.iterrows()
    )
    more = len(ranked) - len(shown)
    tail = f"<p>… {more} more in <code>result.runs</code>.</p>" if more else ""
    title = f"<p>Top {len(shown)} of {len(ranked)} runs:</p>"
    return f"{title}<table><tr>{head}</tr>{body}</table>{tail}"


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)
