"""Make, and read back, the stored workspaces that pin each past schema version.

`python -m tests.schemas.fixture make FOLDER [--tracking-uri URI]` is run by
`tests/schemas/make.sh` with an old release's code first on `PYTHONPATH`: it records a small
workspace through that release's facade (calls that every version has) and writes what the
facade reads back to `FOLDER/expected.json`. The upgrade tests open the stored database with
today's code, upgrade it, and compare `dump()` of it with that file.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import sys
from pathlib import Path
from typing import Any

RUNNING_RUN = "still-running"


def make(folder: Path, tracking_uri: str | None) -> None:
    """Record the fixture's experiments and runs into a workspace under `folder`."""
    from tracking import Experiment, Workspace

    folder.mkdir(parents=True, exist_ok=True)
    ws = Workspace(
        "fixture",
        tracking_uri=tracking_uri or f"sqlite:///{folder / 'records.db'}",
        storage_uri=str(folder / "storage"),
    )
    diabetes = Experiment(workspace=ws, name="diabetes-experiment")
    diabetes.set_primary_metric("rmse", "min")
    for i, alpha in enumerate((0.1, 0.5, 1.0)):
        run = diabetes.start_logging(
            display_name=f"alpha {alpha}", tags={"team": "ml"}, properties={"host": "fixture"}
        )
        run.log("alpha_value", alpha)
        run.log("rmse", 57.0 + i * 0.5)
        run.log_list("loss", [3.0 - i, 2.5 - i, float("nan"), 1.0])
        run.log("ratio", float("inf") if i == 1 else 0.25 * i)
        run.log_params({"alpha": alpha, "solver": "auto", "grid": {"fold": i, "keep": [1, 2]}})
        run.set_tags({"cell": str(i)})
        run.tag("flagged")
        run.add_properties({"ray.trial_id": f"trial_{i:05d}"})
        run.upload_file(f"model_alpha_{alpha}.pkl", io.BytesIO(f"model {alpha}".encode()))
        run.upload_file("outputs/notes.txt", io.BytesIO(b"fixture notes\n"))
        run.complete()
    failed = diabetes.start_logging(display_name="broken")
    failed.log("rmse", float("nan"))
    failed.fail("ValueError: 'lbfgs' solver can be used only when positive=True")
    canceled = diabetes.start_logging(display_name="stopped")
    canceled.log("rmse", 80.0)
    canceled.cancel()
    running = diabetes.start_logging(display_name=RUNNING_RUN)
    running.log("rmse", 70.0)

    iris = Experiment(workspace=ws, name="iris")
    iris.set_primary_metric("accuracy", "max")
    for accuracy in (0.9, 0.96):
        with iris.start_logging() as run:
            run.log("accuracy", accuracy)
            run.log_params({"kernel": "rbf", "C": accuracy * 10})
    ws.close()
    expected = dump(Workspace("fixture", tracking_uri=ws.tracking_uri, storage_uri=ws.storage_uri))
    (folder / "expected.json").write_text(json.dumps(expected, indent=1, sort_keys=True) + "\n")


def dump(ws: Any) -> dict[str, Any]:
    """Everything the facade reads back from `ws`, as JSON-ready values."""
    experiments = {}
    for name, experiment in sorted(ws.experiments.items()):
        runs = []
        for run in experiment.get_runs():
            details = run.get_details()
            runs.append(
                {
                    "id": run.id,
                    "number": run.number,
                    "status": run.get_status(),
                    "display_name": run.display_name,
                    "start": details["startTimeUtc"],
                    "end": details["endTimeUtc"],
                    "error": details.get("error"),
                    "metrics": _plain(run.get_metrics()),
                    "params": run.get_params(),
                    "tags": run.get_tags(),
                    "properties": run.get_properties(),
                    "files": [
                        [f.name, f.uri, f.size, f.sha256]
                        for f in sorted(run.get_files(), key=lambda f: f.name)
                    ],
                }
            )
        metric = experiment.primary_metric
        best = experiment.get_best_run(metric[0], metric[1]).id if metric else None
        experiments[name] = {"primary_metric": list(metric or ()), "best_run": best, "runs": runs}
    return experiments


def _plain(value: Any) -> Any:
    """Floats that JSON and == can both carry: non-finite ones as their repr."""
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.schemas.fixture")
    parser.add_argument("command", choices=["make"])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--tracking-uri")
    args = parser.parse_args(argv)
    make(args.folder.absolute(), args.tracking_uri)


if __name__ == "__main__":
    main(sys.argv[1:])
