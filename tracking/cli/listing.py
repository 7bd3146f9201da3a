"""`python -m tracking experiments` and `runs EXPERIMENT`: the portal's tables, for terminals."""

from __future__ import annotations

import argparse
import csv
import json
import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TextIO

from tracking.cli import EXIT_OK, add_config
from tracking.workspace import Workspace

FORMATS = ("table", "csv", "json")
PAGE = 1000


def add_commands(commands: Any) -> None:
    experiments = commands.add_parser(
        "experiments",
        help="every experiment: its runs, last activity and best value",
        description="Every experiment of the workspace, by name.",
    )
    runs = commands.add_parser(
        "runs",
        help="an experiment's runs with their params and final metrics",
        description="An experiment's runs, one per line, with params as params.<name> and "
        "final metric values as metrics.<name> (MLflow's column names). In json, values "
        "that are not finite numbers are the strings 'nan', 'inf' and '-inf'.",
    )
    runs.add_argument("experiment", help="the experiment's name")
    runs.add_argument(
        "--sort",
        default="number",
        metavar="KEY",
        help="number, start_time, end_time, status, run_id, metrics.<name> or params.<name> "
        "(default: number); runs without the value come last",
    )
    runs.add_argument("--desc", action="store_true", help="sort in descending order")
    runs.add_argument("--status", help="only runs with this status (e.g. Completed, Failed)")
    runs.add_argument(
        "--limit", type=_limit, default=0, metavar="N", help="at most N runs (default: all)"
    )
    for parser in (experiments, runs):
        add_config(parser)
        parser.add_argument("--format", choices=FORMATS, default="table", help="(table)")
    experiments.set_defaults(run=_experiments)
    runs.set_defaults(run=_runs)


def _limit(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of runs (0: all)")
    return value


def _experiments(args: argparse.Namespace, out: TextIO) -> int:
    ws = Workspace.from_config(args.config, read_only=True)
    try:
        summaries = ws.records.list_experiments()
    finally:
        ws.close()
    columns = ["name", "runs", "last_activity", "primary_metric", "best"]
    rows = [
        {
            "name": s.experiment.name,
            "runs": s.run_count,
            "last_activity": s.last_activity,
            "primary_metric": s.experiment.primary_metric,
            "best": s.best_value,
        }
        for s in summaries
    ]
    _write(out, args.format, columns, rows)
    return EXIT_OK


def _runs(args: argparse.Namespace, out: TextIO) -> int:
    from tracking.experiment import Experiment, parse_status
    from tracking.records import RunOrder, RunRow

    order = RunOrder.parse(args.sort, descending=args.desc)
    status = parse_status(args.status)
    ws = Workspace.from_config(args.config, read_only=True)
    try:
        experiment = Experiment._of(ws, ws.records.get_experiment(args.experiment))
        metric_names, param_names = ws.records.list_columns(experiment.id)
        rows: list[RunRow] = []
        while args.limit == 0 or len(rows) < args.limit:
            want = PAGE if args.limit == 0 else min(PAGE, args.limit - len(rows))
            page = experiment.search_runs(order=order, status=status, limit=want, offset=len(rows))
            rows.extend(page.rows)
            if len(page.rows) < want:
                break
    finally:
        ws.close()
    columns = ["number", "run_id", "status", "display_name", "start_time", "end_time"]
    columns += [f"params.{n}" for n in param_names] + [f"metrics.{n}" for n in metric_names]
    records = []
    for row in rows:
        run = row.run
        record: dict[str, Any] = {
            "number": run.number,
            "run_id": run.run_id,
            "status": run.status.value,
            "display_name": run.display_name,
            "start_time": run.start_time,
            "end_time": run.end_time,
        }
        if args.format == "json":
            record["params"] = dict(row.params)
            record["metrics"] = {k: _finite(v) for k, v in row.metrics.items()}
        else:
            record.update({f"params.{k}": v for k, v in row.params.items()})
            record.update({f"metrics.{k}": v for k, v in row.metrics.items()})
        records.append(record)
    if args.format == "json":
        columns = [*columns[:6], "params", "metrics"]
    _write(out, args.format, columns, records)
    return EXIT_OK


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    return value


def _write(out: TextIO, fmt: str, columns: Sequence[str], rows: list[dict[str, Any]]) -> None:
    if fmt == "json":
        json.dump([{c: _json(r.get(c)) for c in columns} for r in rows], out, indent=1)
        out.write("\n")
    elif fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([[_text(r.get(c)) for c in columns] for r in rows])
    else:
        _table(out, columns, [[_text(r.get(c)) for c in columns] for r in rows])


def _json(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    return _finite(value)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value)
    return str(value)


def _table(out: TextIO, columns: Sequence[str], cells: list[list[str]]) -> None:
    widths = [max([len(c), *(len(row[i]) for row in cells)]) for i, c in enumerate(columns)]
    for line in [list(columns), *cells]:
        out.write(
            "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        )
        out.write("\n")
