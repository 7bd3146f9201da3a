"""Sweep benchmark: what tracking costs over bare Ray Tune, and what Tune costs over a loop.

    python tests/bench/sweep_bench.py [--sizes 10 100 1000] [--repeat 1]

For each number of alphas, in one process and one Ray instance (started once, not timed):
- plain loop: fit, score, joblib.dump per alpha, sequentially (the floor);
- bare Tune: the sweep's trainable and checkpoints in a Tuner with no callbacks;
- sweep: `run_sweep`, all of it (checks, Tune, the tracking callback, the result table).
Both Tune runs use the same Tune settings: reused trial actors, and Tune's own per-trial
result files off, as the sweep has them. Figures are medians over --repeat runs.
Target: sweep / bare Tune <= 1.05 at 1,000 alphas.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
os.environ.setdefault("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", "1")

import joblib
import ray
from ray import tune

from sweep import SweepSpec, run_sweep
from sweep.data import load_dataset
from sweep.spec import model_file_name
from sweep.trainable import fit_cell, train_cell
from tracking import Workspace


def alphas(n: int) -> list[float]:
    return [round(0.001 * (i + 1), 6) for i in range(n)]


def plain_loop(n: int, folder: Path) -> None:
    data = load_dataset(SweepSpec().data, seed=66)
    for alpha in alphas(n):
        model, _ = fit_cell({"alpha": alpha}, data, "sklearn.linear_model.Ridge", 66)
        joblib.dump(model, folder / model_file_name({"alpha": alpha}))


def bare_tune(n: int, folder: Path) -> None:
    data = load_dataset(SweepSpec().data, seed=66)
    trainable = tune.with_resources(
        tune.with_parameters(
            train_cell, data=data, estimator="sklearn.linear_model.Ridge", seed=66
        ),
        {"cpu": 1},
    )
    tune.Tuner(
        trainable,
        param_space={"cell": tune.grid_search([{"alpha": a} for a in alphas(n)])},
        tune_config=tune.TuneConfig(reuse_actors=True),
        run_config=tune.RunConfig(storage_path=str(folder / "tune"), verbose=0),
    ).fit()


def sweep(n: int, folder: Path) -> None:
    ws = Workspace(
        "bench", tracking_uri=f"sqlite:///{folder}/records.db", storage_uri=str(folder / "s")
    )
    result = run_sweep(workspace=ws, alphas=alphas(n), experiment=f"bench-{n}", progress=False)
    if not result.ok or result.trained != n:
        raise RuntimeError(f"the sweep of {n} alphas did not complete: {result}")


def timed(call: Callable[[int, Path], None], n: int, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as folder:
            started = time.perf_counter()
            call(n, Path(folder))
            times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    started = time.perf_counter()
    ray.init(include_dashboard=False, logging_level=logging.ERROR, log_to_driver=False)
    print(f"Ray start-up (not counted): {time.perf_counter() - started:.1f} s", file=sys.stderr)
    contenders = {"plain loop": plain_loop, "bare Tune": bare_tune, "sweep": sweep}
    rows = []
    for n in args.sizes:
        row = {"n": n}
        for name, call in contenders.items():
            row[name] = timed(call, n, args.repeat)
            print(f"  {n:>5} alphas, {name:<10}: {row[name]:7.2f} s", file=sys.stderr, flush=True)
        rows.append(row)
    print(f"\nCPUs: {os.cpu_count()}; medians of {args.repeat} run(s)\n")
    print(
        "| alphas | plain loop s | bare Tune s | sweep s | sweep / bare Tune | "
        "per trial: loop ms | bare Tune ms | sweep ms |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        n = r["n"]
        print(
            f"| {n:,} | {r['plain loop']:.2f} | {r['bare Tune']:.2f} | {r['sweep']:.2f} | "
            f"{r['sweep'] / r['bare Tune']:.3f} | {1000 * r['plain loop'] / n:.1f} | "
            f"{1000 * r['bare Tune'] / n:.1f} | {1000 * r['sweep'] / n:.1f} |"
        )


if __name__ == "__main__":
    main()
