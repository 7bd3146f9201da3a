"""`python -m tracking export EXPERIMENT --to mlflow --tracking-uri URI`: take records elsewhere."""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from tracking.cli import EXIT_OK, add_config
from tracking.workspace import Workspace


def add_commands(commands: Any) -> None:
    export = commands.add_parser(
        "export",
        help="copy an experiment's runs and files into MLflow",
        description="Copy every run of an experiment (params, metric histories in order, "
        "tags, properties as raysweep.property.<key> tags, status, times) and its files into "
        "an MLflow tracking store, in an experiment of the same name. Exporting again skips "
        "the runs already exported finished. Needs pip install 'raysweep[mlflow]'.",
    )
    export.add_argument("experiment", help="the experiment's name")
    export.add_argument("--to", choices=["mlflow"], required=True, help="where to (mlflow)")
    export.add_argument(
        "--tracking-uri",
        required=True,
        metavar="URI",
        help="MLflow's tracking URI: sqlite:///mlflow.db, postgresql://..., http://host:5000",
    )
    export.add_argument(
        "--artifact-location",
        metavar="URI",
        help="where a new MLflow experiment keeps its files (default: MLflow's choice)",
    )
    add_config(export)
    export.set_defaults(run=_export)


def _export(args: argparse.Namespace, out: TextIO) -> int:
    from tqdm import tqdm

    from tracking.config import redact
    from tracking.export.mlflow import export_to_mlflow

    ws = Workspace.from_config(args.config, read_only=True)
    bar: Any = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, unit="run", desc="export", file=sys.stderr, leave=False)
        bar.update(done - bar.n)

    try:
        result = export_to_mlflow(
            ws,
            args.experiment,
            args.tracking_uri,
            artifact_location=args.artifact_location,
            progress=progress,
        )
    finally:
        if bar is not None:
            bar.close()
        ws.close()
    print(
        f"exported {result.exported} run(s) and {result.files} file(s) of "
        f"{args.experiment!r} to MLflow experiment {result.experiment_id} at "
        f"{redact(args.tracking_uri)}; {result.skipped} already there",
        file=out,
    )
    return EXIT_OK
