"""The benchmark's results for people: its targets, a markdown page and two plots.

    python tests/bench/report.py FILE.json

draws FILE.png and FILE-goals.png and writes FILE.md again from a run's FILE.json (the
targets computed anew), as `tests/bench/run.py` does at the end of a run.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

# How each contender's line is drawn: the floor dotted, the peers dashed, ours solid.
LINE_STYLES = {
    "plain_loop_s": ":",
    "mlflow_loop_s": "--",
    "bare_tune_s": "--",
    "tune_mlflow_s": "--",
}

# Sweep contenders: result key -> label, in the order they are shown.
SWEEP_LABELS = {
    "plain_loop_s": "plain loop",
    "tracking_loop_s": "loop + tracking",
    "mlflow_loop_s": "loop + MLflow",
    "bare_tune_s": "bare Ray Tune",
    "tune_mlflow_s": "Tune + MLflowLoggerCallback",
    "sweep_s": "raysweep sweep",
    "sweep_packed_s": "raysweep sweep, pack=auto",
}


def peer_ms(row: dict[str, Any], key: str) -> tuple[float | None, bool]:
    """MLflow's figure, and whether it is a lower bound (a search stopped at the cap)."""
    if row.get(f"{key}_over") is not None:
        return row[f"{key}_over"], True
    return row.get(key), False


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b == 0 else a / b


def _row(rows: list[dict[str, Any]], key: str, value: int) -> dict[str, Any]:
    """The row whose `key` is `value`, else the largest one below it (a --quick run)."""
    fits = [r for r in rows if r[key] <= value] or rows
    return max(fits, key=lambda r: r[key])


def targets(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target of issue 6 with what this run measured: at 1,000 alphas and 100,000 runs,
    or at the largest size run when smaller (`at` says which)."""
    sweep = _row(result["sweep"], "n", 1000)
    store = _row(result["store"], "runs", 100_000)
    n, runs = sweep["n"], store["runs"]
    checks: list[tuple[str, str, int, float | None, float, str, str]] = [
        (
            "sweep_s / bare_tune_s <= 1.05",
            "alphas",
            n,
            _ratio(sweep["sweep_s"], sweep["bare_tune_s"]),
            1.05,
            "<=",
            "{:.3f}",
        ),
        (
            "sweep_s < tune_mlflow_s (ratio < 1)",
            "alphas",
            n,
            _ratio(sweep["sweep_s"], sweep["tune_mlflow_s"]),
            1,
            "<",
            "{:.3f}",
        ),
        (
            "sweep_packed_s / plain_loop_s <= 2",
            "alphas",
            n,
            _ratio(sweep["sweep_packed_s"], sweep["plain_loop_s"]),
            2,
            "<=",
            "{:.2f}",
        ),
        (
            "the tutorial loop: tracking_loop_s / plain_loop_s <= 2 (issue 19)",
            "alphas",
            n,
            _ratio(sweep["tracking_loop_s"], sweep["plain_loop_s"]),
            2,
            "<=",
            "{:.2f}",
        ),
        ("best run < 10 ms", "runs", runs, store["best_run_ms"], 10, "<", "{:.2f} ms"),
        (
            "best run >= 100x faster than MLflow's search",
            "runs",
            runs,
            _ratio(peer_ms(store, "mlflow_best_run_ms")[0], store["best_run_ms"]),
            100,
            ">=",
            (">" if peer_ms(store, "mlflow_best_run_ms")[1] else "") + "{:,.0f}x",
        ),
        (
            "first page of 50 by rmse < 10 ms",
            "runs",
            runs,
            store["first_page_ms"],
            10,
            "<",
            "{:.2f} ms",
        ),
        (
            "writes >= 10x MLflow's runs/s",
            "runs",
            runs,
            _ratio(store["write_runs_per_s"], store["mlflow_write_runs_per_s"]),
            10,
            ">=",
            "{:.1f}x",
        ),
    ]
    out = [
        _target(text, f"{size:,} {unit}", value, goal, sense, shape)
        for text, unit, size, value, goal, sense, shape in checks
    ]
    out += packed_targets(result.get("packed", []))
    out += asha_targets(result.get("asha"))
    out += heavy_targets(result.get("heavy", []))
    out += portal_load_targets(result.get("portal_load", []))
    imported = result["import_tracking_s"]
    out.append(
        _target(
            "import tracking well under 0.5 s",
            "a fresh interpreter",
            imported,
            0.5,
            "<",
            "{:.3f} s",
        )
    )
    return out


MEETS: dict[str, Callable[[float, float], bool]] = {
    "<=": lambda value, goal: value <= goal,
    "<": lambda value, goal: value < goal,
    ">=": lambda value, goal: value >= goal,
}


def _target(
    text: str, at: str, value: float | None, goal: float, sense: str, shape: str
) -> dict[str, Any]:
    """One goal and what the run measured: `sense` says how the value must stand to the
    goal (a key of MEETS); `shape` formats the value for people."""
    return {
        "target": text,
        "at": at,
        "measured": value,
        "goal": goal,
        "sense": sense,
        "shown": "n/a" if value is None else shape.format(value),
        "met": None if value is None else MEETS[sense](value, goal),
    }


def _ratio_target(target: str, at: str, ratio: float | None, goal: float) -> dict[str, Any]:
    """A goal on a ratio that must stay at or under `goal`."""
    return _target(target, at, ratio, goal, "<=", "{:.3f}")


def packed_targets(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Issue 19's goal for a large packed sweep (none in results without it)."""
    return [
        _ratio_target(
            f"packed sweep / plain loop <= {row['goal']} (issue 19)",
            f"{row['n']:,} alphas",
            row.get("ratio"),
            row["goal"],
        )
        for row in rows
    ]


def asha_targets(row: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Issue 16's goal for the random search with ASHA (none in results without it)."""
    if not row:
        return []
    target = f"random search with ASHA: sweep / Tune alone <= {row['goal']:.2f}"
    return [_ratio_target(target, f"{row['samples']:,} samples", row.get("ratio"), row["goal"])]


def heavy_targets(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Issue 19's goal for heavy trials, on each place measured (none in results without)."""
    return [
        _ratio_target(
            f"heavy trials: sweep / plain loop <= {row['goal']}",
            f"{row['cells']} cells, {row['on']}",
            row.get("ratio"),
            row["goal"],
        )
        for row in rows
    ]


def portal_load_targets(figures: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Issue 19's portal goals, per worker count, at the largest size measured."""
    if not figures:
        return []
    last = max(figures, key=lambda f: f["runs"])
    goals, at = last["goals"], f"{last['runs']:,} runs"
    out = []
    for row in last["rows"]:
        errors = row["one"]["errors"] + row["many"]["errors"] + row["many"]["unfinished"]
        workers = f"--workers {row['workers']}"
        out += [
            _target(
                f"portal {workers}: a kept-alive connection's second request <= its first + "
                f"{goals['reuse_ms']:g} ms (p50s)",
                at,
                row["reuse"]["slower_ms"],
                goals["reuse_ms"],
                "<=",
                "{:+.1f} ms",
            ),
            _target(
                f"portal {workers}: {last['clients']} clients' req/s >= {goals['scaling']}x "
                "one client's",
                at,
                row["scaling"],
                goals["scaling"],
                ">=",
                "{:.2f}x",
            ),
            _target(
                f"portal {workers}: {last['clients']} clients' p99 <= "
                f"{goals['p99_over_one_p50']:g}x one client's p50",
                at,
                row["p99_over_one_p50"],
                goals["p99_over_one_p50"],
                "<=",
                "{:.1f}x" + f" (Little's bound {row['little_bound']:.1f}x)",
            ),
            _target(
                f"portal {workers}: no errors under load", at, errors, 0, "<=", "{:.0f} errors"
            ),
        ]
    return out


# --- markdown -------------------------------------------------------------------------------


def machine_line(machine: dict[str, Any]) -> str:
    return (
        f"{machine['cpu']}, {machine['cores']} cores, {machine['ram_gib']:.0f} GiB RAM, "
        f"{machine['os']}; Python {machine['python']}, Ray {machine['ray']}, "
        f"MLflow {machine['mlflow']}, scikit-learn {machine['sklearn']}; {machine['date']}"
    )


def _fmt(value: float | None, shape: str) -> str:
    return (
        "-"
        if value is None or (isinstance(value, float) and math.isnan(value))
        else shape.format(value)
    )


def sweep_tables(rows: list[dict[str, Any]]) -> list[str]:
    keys = list(SWEEP_LABELS)
    head = "| alphas | " + " | ".join(SWEEP_LABELS.values()) + " |"
    rule = "|---:|" + "---:|" * len(keys)
    lines = ["### Seconds (whole run of n trials)", "", head, rule]
    lines += [
        f"| {r['n']:,} | " + " | ".join(_fmt(r[k], "{:.2f}") for k in keys) + " |" for r in rows
    ]
    lines += ["", "### Per trial (ms: seconds / n)", "", head, rule]
    lines += [
        f"| {r['n']:,} | "
        + " | ".join(_fmt(None if r[k] is None else 1000 * r[k] / r["n"], "{:.1f}") for k in keys)
        + " |"
        for r in rows
    ]
    lines += ["", "| alphas | sweep / bare Tune | sweep / Tune + MLflow | packed / plain loop |"]
    lines += ["|---:|---:|---:|---:|"]
    for r in rows:
        ratios = (
            _ratio(r["sweep_s"], r["bare_tune_s"]),
            _ratio(r["sweep_s"], r["tune_mlflow_s"]),
            _ratio(r["sweep_packed_s"], r["plain_loop_s"]),
        )
        lines.append(f"| {r['n']:,} | " + " | ".join(_fmt(v, "{:.3f}") for v in ratios) + " |")
    return lines


STORE_ROWS = (
    # label, ours, MLflow's, format, which way is better ("rate": higher, "time": lower)
    (
        "writes, one run at a time (runs/s)",
        "write_runs_per_s",
        "mlflow_write_runs_per_s",
        "{:,.0f}",
        "rate",
    ),
    ("best run by rmse (ms)", "best_run_ms", "mlflow_best_run_ms", "{:,.2f}", "time"),
    ("first page of 50 by rmse (ms)", "first_page_ms", "mlflow_first_page_ms", "{:,.2f}", "time"),
    ("page of 50 at 50% by rmse (ms)", "deep_page_ms", None, "{:.2f}", "time"),
    ("chart data rmse vs alpha (ms)", "chart_data_ms", None, "{:.1f}", "time"),
    ("to_dataframe (s)", "to_dataframe_s", None, "{:.2f}", "time"),
    ("bulk writes, record_runs (runs/s)", "write_bulk_runs_per_s", None, "{:,.0f}", "rate"),
)


def store_table(rows: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| runs | what | raysweep | MLflow (SQLite) | raysweep's lead |",
        "|---:|---|---:|---:|---:|",
    ]
    for r in rows:
        for label, ours, theirs, shape, better in STORE_ROWS:
            peer, over = peer_ms(r, theirs) if theirs else (None, False)
            lead = _ratio(r[ours], peer) if better == "rate" else _ratio(peer, r[ours])
            bound = "> " if over else ""
            lines.append(
                f"| {r['runs']:,} | {label} | {_fmt(r[ours], shape)} | "
                f"{bound}{_fmt(peer, shape)} | {bound}{_fmt(lead, '{:,.1f}x')} |"
            )
    return lines


def portal_table(rows: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| runs | first runs page (ms) | first page by rmse (ms) | chart data, first request (ms) "
        "| chart data, kept (ms) |",
        "|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['runs']:,} | {r['first_page_ms']:.1f} | {r['first_page_by_rmse_ms']:.1f} | "
            f"{r['chart_data_ms']:.1f} | {r['chart_data_kept_ms']:.1f} |"
        )
    return lines


def portal_load_section(figures: list[dict[str, Any]]) -> list[str]:
    """The portal under 1 and 50 concurrent clients (issue 19), one table per size."""
    from tests.bench.portal_load import kinds_table, reuse_table, table

    lines: list[str] = []
    for f in figures:
        lines += [
            f"## Portal under load: {f['runs']:,} runs, 1 client x {f['one_client_requests']} "
            f"requests, then {f['clients']} clients x {f['requests_per_client']}",
            "",
            *reuse_table(f),
            "",
            *table(f),
            "",
            *kinds_table(f),
            "",
        ]
    return lines


def packed_section(rows: list[dict[str, Any]]) -> list[str]:
    """Issue 19's large packed sweeps: `--pack auto` against the plain loop."""
    if not rows:
        return []
    lines = [
        "## Large packed sweeps: `--pack auto` / plain loop",
        "",
        "| alphas | plain loop (s) | packed sweep (s) | packed / plain loop | goal |",
        "|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        ratio = _fmt(row.get("ratio"), "{:.3f}")
        lines.append(
            f"| {row['n']:,} | {row['plain_loop_s']:.2f} | {row['sweep_packed_s']:.2f} "
            f"| {ratio} | <= {row['goal']} |"
        )
    return [*lines, ""]


def asha_section(row: dict[str, Any] | None) -> list[str]:
    """Issue 16's row: the random search with ASHA, the sweep against Tune alone."""
    if not row:
        return []
    from tests.bench.asha_bench import table

    return [
        f"## Random search, {row['samples']:,} samples, ASHA: sweep / Tune alone",
        "",
        "An SGDClassifier trained epoch by epoch (`partial_fit`, up to 20), the validation "
        "log-loss reported after each; ASHA grace 2, max_t 20, reduction 3; the same configs "
        "on both sides.",
        "",
        *table(row),
        "",
    ]


def heavy_section(rows: list[dict[str, Any]]) -> list[str]:
    """Issue 19's heavy trials: the sweep against the same fits in a plain loop."""
    if not rows:
        return []
    from tests.bench.heavy_bench import table

    return [
        f"## Heavy trials, {rows[0]['cells']} cells: sweep / plain loop",
        "",
        "A GradientBoostingRegressor (20 trees; learning_rate x max_depth x subsample) on a "
        "20,000-row make_regression set from a CSV, one cell per trial, against the same fits "
        "in a loop in one process, and in a pool of as many fresh processes as the sweep has "
        "CPUs (no Ray, no records: how near a sweep on these cores could come).",
        "",
        *table(rows),
        "",
    ]


def targets_table(rows: list[dict[str, Any]]) -> list[str]:
    lines = ["| target | at | measured | met |", "|---|---:|---:|:---:|"]
    for t in rows:
        met = "n/a" if t["met"] is None else ("met" if t["met"] else "**missed**")
        lines.append(f"| {t['target']} | {t['at']} | {t['shown']} | {met} |")
    return lines


def render(result: dict[str, Any], out: Path) -> None:
    """The plots and the markdown page of a run whose JSON is (or goes) at `out`."""
    trials, goals = out.with_suffix(".png"), out.with_name(f"{out.stem}-goals.png")
    plot(result, trials)
    plot_goals(result["targets"], goals)
    out.with_suffix(".md").write_text(markdown(result, trials.name, goals.name))


def markdown(result: dict[str, Any], plot_name: str, goals_name: str) -> str:
    lines = [
        "# raysweep side by side with its peers",
        "",
        f"Machine: {machine_line(result['machine'])}",
        "",
        f"Command: `{result['command']}`",
        "",
        f"Ray start-up: {result['ray_startup_s']:.1f} s (once, shared by the Ray contenders, in "
        f"none of their times). `import tracking`: {result['import_tracking_s']:.3f} s "
        "(median of 5 fresh interpreters).",
        "",
        "## Sweep: Ridge on the diabetes data, one trial per alpha",
        "",
        *sweep_tables(result["sweep"]),
        "",
        f"![per-trial cost]({plot_name})",
        "",
        *packed_section(result.get("packed", [])),
        *asha_section(result.get("asha")),
        *heavy_section(result.get("heavy", [])),
        "## Record store: 3 metrics and 2 params per run",
        "",
        *store_table(result["store"]),
        "",
        "## Portal: server time",
        "",
        *portal_table(result["portal"]),
        "",
        *portal_load_section(result.get("portal_load", [])),
        "## Targets",
        "",
        *targets_table(result["targets"]),
        "",
        f"![each target's measure against its goal]({goals_name})",
        "",
        "## How it was measured",
        "",
        *[f"- {note}" for note in result["notes"]],
        "",
    ]
    return "\n".join(lines)


# --- plot -----------------------------------------------------------------------------------


def plot(result: dict[str, Any], path: Path) -> None:
    """Per-trial cost (ms) against the number of trials, log-log, one line per contender."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 6))
    rows = result["sweep"]
    ends = []  # (x, y, label, colour) of each line's last point
    for key, label in SWEEP_LABELS.items():
        points = [(r["n"], 1000 * r[key] / r["n"]) for r in rows if r[key] is not None]
        if not points:
            continue
        xs, ys = zip(*points, strict=True)
        (line,) = ax.plot(xs, ys, LINE_STYLES.get(key, "-"), marker="o", label=label)
        ends.append((xs[-1], ys[-1], label, line.get_color()))
    # End labels of lines that finish close together are moved apart, not drawn over each other.
    ends.sort(key=lambda end: end[1])
    for (x, y, label, colour), at in zip(ends, _spread([e[1] for e in ends]), strict=True):
        ax.annotate(
            label, (x, y), xytext=(x * 1.15, at), textcoords="data", va="center", fontsize=8,
            color=colour,
        )  # fmt: skip
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("number of trials (alphas)")
    ax.set_ylabel("cost per trial (ms) = total time / trials")
    machine = result["machine"]
    ax.set_title(
        f"Per-trial cost, Ridge on diabetes data\n{machine['cpu']}, {machine['cores']} cores, "
        f"Ray {machine['ray']}, MLflow {machine['mlflow']}, {machine['date']}",
        fontsize=10,
    )
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    ax.set_xlim(right=max(r["n"] for r in rows) * 5)  # room for the end labels
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def goal_distance(target: dict[str, Any]) -> float | None:
    """How a measure stands to its goal, as a factor: under 1 is met (the value under a
    ceiling, or a floor under the value), over 1 missed by that factor. None when it has no
    such factor (no measure, or a value or goal of zero or less)."""
    value, goal = target["measured"], target["goal"]
    if value is None or value <= 0 or goal <= 0:
        return None
    return goal / value if target["sense"] == ">=" else value / goal


def plot_goals(rows: list[dict[str, Any]], path: Path) -> None:
    """Every target as a factor of its goal on a log axis, met in green, missed in red; the
    targets without such a factor (zero errors, a negative slow-down) are left to the table."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    drawn = [(t, d) for t in rows if (d := goal_distance(t)) is not None]
    fig, ax = plt.subplots(figsize=(13, 0.42 * len(drawn) + 1.6))
    for y, (target, distance) in enumerate(drawn):
        colour = "tab:green" if target["met"] else "tab:red"
        ax.hlines(y, 1, distance, color=colour, linewidth=3)
        ax.plot([distance], [y], "o", color=colour)
        ax.annotate(
            f" {target['shown']}", (distance, y), va="center", fontsize=8,
            ha="left" if distance >= 1 else "right",
            xytext=(4 if distance >= 1 else -4, 0), textcoords="offset points",
        )  # fmt: skip
    ax.axvline(1, color="black", linewidth=1)
    ax.set_yticks(range(len(drawn)), [f"{t['target']} ({t['at']})" for t, _ in drawn], fontsize=8)
    ax.invert_yaxis()  # the table's order, top down
    ax.set_xscale("log")
    low, high = min(d for _, d in drawn), max(d for _, d in drawn)
    ax.set_xlim(min(low, 0.5) / 30, max(high, 2) * 30)  # room for the values' labels
    ax.set_xlabel("measure / goal (for a floor: goal / measure): left of 1 met, right missed")
    ax.grid(True, axis="x", which="major", alpha=0.3)
    ax.set_title("Each target against its goal", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path, help="a run's JSON file")
    args = parser.parse_args()
    result = json.loads(args.results.read_text())
    result["targets"] = targets(result)
    render(result, args.results)
    print(f"wrote {args.results.with_suffix('.md')} and its plots")


def _spread(values: list[float], gap_decades: float = 0.05) -> list[float]:
    """Label heights for ascending `values` on a log axis, at least `gap_decades` apart."""
    heights: list[float] = []
    for value in values:
        low = math.log10(value)
        heights.append(max(low, heights[-1] + gap_decades) if heights else low)
    return [10**h for h in heights]


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the tables' own modules
    main()
