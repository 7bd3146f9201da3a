"""Sweep benchmark: what tracking costs over bare Ray Tune, and what Tune costs over a loop.

    python tests/bench/sweep_bench.py [--sizes 10 100 1000] [--repeat 1] [--only NAME ...]

For each number of alphas, in one process and one Ray instance (started once, not timed):
- plain loop: fit, score, joblib.dump per alpha, sequentially (the floor);
- tracking loop: the tutorial's loop logging each alpha as a run through `tracking`;
- bare Tune: the sweep's trainable and checkpoints in a Tuner with no callbacks;
- sweep: `run_sweep`, all of it (checks, Tune, the tracking callback, the result table);
- packed sweep: the same with `pack="auto"`.
Both Tune runs use the same Tune settings: reused trial actors, and Tune's own per-trial
result files off, as the sweep has them. The workspace's database is created before the
clock starts. Figures are medians over --repeat runs. `tests/bench/run.py` runs these side
by side with the MLflow peers. Target: sweep / bare Tune <= 1.05 at 1,000 alphas.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
os.environ.setdefault("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", "1")

import joblib

from sweep import SweepSpec, run_sweep
from sweep.data import load_dataset
from sweep.spec import model_file_name
from sweep.trainable import fit_cell
from tests.bench.common import EXPERIMENT, alphas, median, progress, seconds
from tracking import Experiment, Workspace

ESTIMATOR = "sklearn.linear_model.Ridge"
SEED = 66

# A contender gets the number of alphas and an empty folder, does its untimed set-up (a
# database to log to) and returns the call to time.
Contender = Callable[[int, Path], Callable[[], None]]


def diabetes() -> Any:
    return load_dataset(SweepSpec().data, seed=SEED)


def workspace(folder: Path) -> Workspace:
    """A workspace in `folder` with its database created (outside the timed part)."""
    ws = Workspace(
        "bench", tracking_uri=f"sqlite:///{folder}/records.db", storage_uri=str(folder / "s")
    )
    ws.records.get_or_create_experiment(EXPERIMENT)
    return ws


def plain_loop(n: int, folder: Path) -> Callable[[], None]:
    def call() -> None:
        data = diabetes()
        for alpha in alphas(n):
            model, _ = fit_cell({"alpha": alpha}, data, ESTIMATOR, SEED)
            joblib.dump(model, folder / model_file_name({"alpha": alpha}))

    return call


def tracking_loop(n: int, folder: Path) -> Callable[[], None]:
    """The tutorial's loop: a run per alpha, its values logged, its model uploaded."""
    experiment = Experiment(workspace=workspace(folder), name=EXPERIMENT)
    outputs = folder / "outputs"
    outputs.mkdir()

    def call() -> None:
        data = diabetes()
        for alpha in alphas(n):
            run = experiment.start_logging()
            run.log("alpha_value", alpha)
            model, metrics = fit_cell({"alpha": alpha}, data, ESTIMATOR, SEED)
            for name in ("rmse", "mae", "r2"):
                run.log(name, metrics[name])
            model_name = model_file_name({"alpha": alpha})
            joblib.dump(value=model, filename=outputs / model_name)
            run.upload_file(name=model_name, path_or_stream=str(outputs / model_name))
            run.complete()

    return call


def tuner(n: int, folder: Path, callbacks: list[Any] | None = None) -> Any:
    """Ray Tune with the sweep's trainable, checkpoints and settings, and no tracking."""
    from ray import tune

    from sweep.trainable import train_cells

    trainable = tune.with_resources(
        tune.with_parameters(train_cells, data=diabetes(), estimator=ESTIMATOR, seed=SEED),
        {"cpu": 1},
    )
    return tune.Tuner(
        trainable,
        param_space={"cells": tune.grid_search([[{"alpha": a}] for a in alphas(n)])},
        tune_config=tune.TuneConfig(reuse_actors=True),
        run_config=tune.RunConfig(
            storage_path=str(folder / "tune"), callbacks=callbacks or [], verbose=0
        ),
    )


def bare_tune(n: int, folder: Path) -> Callable[[], None]:
    def call() -> None:
        results = tuner(n, folder).fit()
        if results.num_errors or len(results) != n:
            raise RuntimeError(f"bare Tune of {n} alphas: {results.num_errors} failed")

    return call


def sweep(n: int, folder: Path, **options: Any) -> Callable[[], None]:
    ws = workspace(folder)

    def call() -> None:
        result = run_sweep(
            workspace=ws, alphas=alphas(n), experiment=f"sweep-{n}", progress=False, **options
        )
        if not result.ok or len(result.runs) != n:
            raise RuntimeError(f"the sweep of {n} alphas did not complete: {result}")

    return call


def packed_sweep(n: int, folder: Path) -> Callable[[], None]:
    return sweep(n, folder, pack="auto")


CONTENDERS: dict[str, Contender] = {
    "plain_loop_s": plain_loop,
    "tracking_loop_s": tracking_loop,
    "bare_tune_s": bare_tune,
    "sweep_s": sweep,
    "sweep_packed_s": packed_sweep,
}


def start_ray() -> float:
    """Start the one local Ray instance the Tune contenders share; return its seconds."""
    import ray

    return seconds(
        lambda: ray.init(include_dashboard=False, logging_level=logging.ERROR, log_to_driver=False)
    )


def timed(contender: Contender, n: int, base: Path | None = None) -> float:
    """Seconds of one call of the contender, in a fresh folder (set-up not counted)."""
    with tempfile.TemporaryDirectory(dir=base) as folder:
        call = contender(n, Path(folder))
        started = time.perf_counter()
        call()
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument(
        "--only", nargs="+", choices=list(CONTENDERS), help="these contenders (default: all)"
    )
    args = parser.parse_args()
    names = args.only or list(CONTENDERS)
    progress(f"Ray start-up (not counted): {start_ray():.1f} s")
    rows = []
    for n in args.sizes:
        # Interleaved (one run of each contender per round): a machine that slows down
        # midway weighs on every contender alike, not on whichever ran last.
        times: dict[str, list[float]] = {name: [] for name in names}
        for round_ in range(1, args.repeat + 1):
            for name in names:
                times[name].append(timed(CONTENDERS[name], n))
                progress(f"  {n:>5} alphas, {name:<16} round {round_}: {times[name][-1]:7.2f} s")
        rows.append({"n": n, **{name: median(values) for name, values in times.items()}})
    print(f"\nCPUs: {os.cpu_count()}; medians of {args.repeat} run(s)\n")
    print("| alphas | " + " | ".join(names) + " | sweep / bare Tune |")
    print("|---:|" + "---:|" * (len(names) + 1))
    for r in rows:
        cells = [f"{r[k]:.2f}" if r[k] is not None else "-" for k in names]
        ratio = r["sweep_s"] / r["bare_tune_s"] if {"sweep_s", "bare_tune_s"} <= set(r) else None
        shown = "-" if ratio is None else f"{ratio:.3f}"
        print(f"| {r['n']:,} | " + " | ".join(cells) + f" | {shown} |")


if __name__ == "__main__":
    main()
