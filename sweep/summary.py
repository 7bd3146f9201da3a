"""What `python -m sweep.launch` prints when a sweep ends: the counts, why cells failed,
the leaderboard, the best run and a download command that works from any folder."""

from __future__ import annotations

import json
import math
import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sweep.parent import cells_of
from sweep.scoring import METRICS

if TYPE_CHECKING:
    from sweep.result import SweepResult
    from sweep.spec import SweepSpec
    from tracking import Experiment, Run

# The failure summary: at most this many lines, cells named per line, characters per error.
MAX_ERROR_LINES, MAX_CELLS_NAMED, MAX_ERROR_CHARS = 5, 5, 200


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.6g}"
    return "" if value is None else str(value)


def print_summary(
    result: SweepResult, spec: SweepSpec, *, top: int = 5, resume: str | None = None
) -> None:
    """The counts, why cells failed, the leaderboard of the best runs, the best run, and
    what to do next.

    Args:
        resume: the command that finishes the sweep if it was interrupted (default: say
            to rerun it with `--resume`).
    """
    experiment, frame = result.experiment, result.runs
    completed, failures = grid_outcome(experiment, spec)
    total = cells_of(spec)
    if result.trained == 0 and result.reused == total and not result.interrupted:
        print(
            f"\nnothing to train: all {_cells(total)} of {experiment.name} are done; "
            f"to train again use --experiment NEW_NAME"
        )
    else:
        # Trained counts the cells this call completed; a failed cell is only counted failed.
        trained = max(0, completed - result.reused)
        print(
            f"\n{experiment.name}: {trained} trained, {len(failures)} failed, "
            f"{result.reused} already done"
        )
    for line in failure_lines(failures):
        print(line)
    if result.interrupted:
        left = total - completed - len(failures)
        print(
            f"Interrupted (Ctrl-C): {_cells(result.canceled)} canceled while training, "
            f"{_cells(left)} not done; to finish the sweep: {resume or 'rerun it with --resume'}"
        )
    if result.best_run is None or frame.empty:
        print("No run has a finite value of the metric: no best run.")
        return
    metric, mode = experiment.primary_metric or ("rmse", "min")
    _, params = experiment.workspace.records.list_columns(experiment.id)
    named = {
        "number": "number",
        "run_id": "run_id",
        **{p: _column(frame, "params", p) for p in params},
        # Those the sweep has: the built-in trainable's, or the user's primary metric.
        **{m: _column(frame, "metrics", m) for m in dict.fromkeys([*METRICS, metric])},
    }
    columns = {shown: column for shown, column in named.items() if column in frame}
    ranked = frame[frame["status"] == "Completed"].sort_values(
        _column(frame, "metrics", metric), ascending=mode == "min"
    )
    print(f"\nTop {min(top, len(ranked))} of {len(frame)} runs by {metric} ({mode}):")
    widths = {
        s: max(len(s), *(len(_fmt(v)) for v in ranked[c].head(top))) for s, c in columns.items()
    }
    print("  ".join(s.ljust(widths[s]) for s in columns))
    for _, row in ranked.head(top).iterrows():
        print("  ".join(_fmt(row[c]).ljust(widths[s]) for s, c in columns.items()))
    best = result.best_run
    files = best.get_file_names()
    shown = ", ".join(f"{k}={_fmt(v)}" for k, v in best.get_params().items())
    value = best.get_metrics().get(metric)
    value = value[-1] if isinstance(value, list) and value else value  # logged per step
    print(f"\nBest run: {best.id} (run {best.number}): {shown}, {metric} {_fmt(value)}")
    if files:
        # The built-in trainable's model file; your code's first output, not its log.
        file = next((f for f in files if f.startswith("outputs/")), files[0])
        print(f"{'Output' if spec.user_code else 'Model'} file: {file}")
        command = download_command(best, file, storage_overridden=bool(spec.storage))
        print(f"Download it: {command}")
        if file.endswith((".pkl", ".joblib", ".pickle")):
            print(
                "Loading a model unpickles it, which runs its code: the SHA-256 check proves "
                "the file unchanged, not its writer trusted; load models only from workspaces "
                "you trust."
            )
    print(f"See every run: python -m tracking.portal, then open {experiment.portal_url}")


def _column(frame: Any, prefix: str, name: str) -> str:
    """The runs table's column of a param or metric (MLflow's names)."""
    return f"{prefix}.{name}"


def grid_outcome(experiment: Experiment, spec: SweepSpec) -> tuple[int, list[tuple[str, str]]]:
    """How many of the grid's cells have a completed run, and the cells whose latest run
    failed, in grid order: (the cell as `name=value`s, the last line of its error)."""
    from sweep.cellruns import SWEEP_CELL

    latest: dict[str, Run] = {}
    completed: set[str] = set()
    for run in experiment.get_runs(include_children=True):  # newest first
        key = run.properties.get(SWEEP_CELL)
        if key is not None:
            latest.setdefault(key, run)
            if run.status == "Completed":
                completed.add(key)
    if spec.adaptive:  # the cells its runs drew, oldest first
        keys = [key for key in reversed(latest) if spec.owns_key(key)]
        cells = [json.loads(key)["params"] for key in keys]
    else:
        cells = spec.cells()
        keys = [spec.cell_key(cell) for cell in cells]
    # Name a cell by the params that tell the grid's cells apart (all, for a one-cell grid).
    varying = [n for n in cells[0] if len({repr(c[n]) for c in cells}) > 1] if cells else []
    failures = []
    for cell, key in zip(cells, keys, strict=True):
        last = latest.get(key)
        if key in completed or last is None or last.status != "Failed":
            continue
        named = " ".join(f"{n}={_fmt(cell[n])}" for n in varying or cell)
        failures.append((named, _last_line(last.get_details().get("error", {}))))
    return len(completed.intersection(keys)), failures


def _last_line(error: Mapping[str, Any]) -> str:
    """The last line of a run's recorded error (the exception that ended it), cut short."""
    text = str(error.get("error", {}).get("message") or "")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    line = lines[-1].rstrip(".") if lines else "an error without a message"
    return line if len(line) <= MAX_ERROR_CHARS else line[: MAX_ERROR_CHARS - 3] + "..."


def failure_lines(failures: Sequence[tuple[str, str]]) -> list[str]:
    """One line per distinct error, the most common first: how many cells failed with it
    and which (naming at most `MAX_CELLS_NAMED`); at most `MAX_ERROR_LINES` lines."""
    groups: dict[str, list[str]] = {}
    for cell, error in failures:
        groups.setdefault(error, []).append(cell)
    ordered = sorted(groups.items(), key=lambda group: -len(group[1]))  # ties in grid order
    if len(ordered) > MAX_ERROR_LINES:
        shown, rest = ordered[: MAX_ERROR_LINES - 1], ordered[MAX_ERROR_LINES - 1 :]
    else:
        shown, rest = ordered, []
    lines = []
    for error, cells in shown:
        named = ", ".join(cells[:MAX_CELLS_NAMED])
        if len(cells) > MAX_CELLS_NAMED:
            named += f" and {len(cells) - MAX_CELLS_NAMED} more"
        lines.append(f"{_cells(len(cells))} failed with {error}: {named}")
    if rest:
        count = sum(len(cells) for _, cells in rest)
        lines.append(f"{_cells(count)} failed with {len(rest)} other errors (see each run's page)")
    return lines


def _cells(count: int) -> str:
    return f"{count} cell" if count == 1 else f"{count} cells"


def download_command(run: Run, name: str, *, storage_overridden: bool = False) -> str:
    """A shell command that downloads the run's file `name` into the current folder, from
    any folder: the workspace is named by absolute paths, not found from the current one.

    Args:
        storage_overridden: the run's workspace keeps files in a storage other than its
            config's (`--storage`): the command names that storage too.
    """
    workspace = run.experiment.workspace
    config = workspace.config
    if config.source is not None:
        opened = f"Workspace.from_config({str(config.source)!r})"
    else:  # the embedded workspace of the folder the sweep ran in
        opened = f"Workspace(base_dir={str(config.base_dir or Path.cwd())!r})"
    if storage_overridden:
        opened += f".with_storage({workspace.artifacts.root_uri!r})"
    code = (
        "from tracking import Workspace, Experiment, Run; "
        f"Run(Experiment({opened}, {run.experiment.name!r}), {run.id!r})"
        f".download_file({name!r})"
    )
    if any(c in code for c in '"$`\\!'):  # special inside a shell's double quotes
        return f"python -c {shlex.quote(code)}"
    return f'python -c "{code}"'
