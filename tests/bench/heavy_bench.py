"""Heavy trials (issue 19, item 3): a sweep of slow fits against the same fits in a loop.

    python tests/bench/heavy_bench.py [--repeat 3] [--cpus 2 | --cluster]

24 cells of a `GradientBoostingRegressor` (learning_rate x max_depth x subsample, 20
trees) on a 20,000-row `make_regression` set (20 features, seed 0) written once to a CSV,
each fit taking one to two seconds here, three ways, in turn, after an untimed warm-up
of each:
- loop_s: a plain loop in this process: each cell fitted and scored by the sweep's own
  `fit_cell` on the same train/test split, its model dumped with joblib;
- pool_s: the same cells over a pool of fresh processes, one per CPU
  (`ProcessPoolExecutor`, spawned inside the clock, each loading the CSV once; a cell goes
  to whichever process is free): no Ray, no records, so the nearest a sweep on these cores
  can come, start-up included;
- sweep_s: `run_sweep(estimator=..., params=..., data=the CSV)`, one cell per trial
  (the default `pack=1`), recorded in a fresh SQLite workspace, on a local Ray instance of
  `--cpus` CPUs (started once, not timed), or with `--cluster` on the test cluster of
  `tests/test_cluster.py` (`tests.helpers.cluster`: a head without CPUs and two worker
  nodes of 1 CPU on this machine, token authentication on; started once, not timed).
Goal (issue 19): sweep / loop <= 0.6 on 2 cores. Figures are medians over `--repeat`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench.asha_bench import start_ray
from tests.bench.common import median, progress

ESTIMATOR = "sklearn.ensemble.GradientBoostingRegressor"
PARAMS = {
    "learning_rate": "0.05,0.1,0.2",
    "max_depth": "2,3",
    "subsample": "0.6,0.7,0.8,1.0",
    "n_estimators": "20",
}
SEED = 0
GOAL = 0.6
CLUSTER = "the test cluster: 2 worker nodes of 1 CPU"


def write_data(folder: Path) -> Path:
    """The 20,000-row regression set as a CSV with a `y` column."""
    import pandas as pd
    from sklearn.datasets import make_regression

    x, y = make_regression(n_samples=20_000, n_features=20, noise=10.0, random_state=SEED)
    frame = pd.DataFrame(x, columns=[f"x{i}" for i in range(x.shape[1])])
    frame["y"] = y
    path = folder / "regression.csv"
    frame.to_csv(path, index=False)
    return path


def cells() -> list[dict[str, Any]]:
    from sweep.spec import SweepSpec

    spec = SweepSpec.create(estimator=ESTIMATOR, params=PARAMS)
    return [dict(cell) for cell in spec.cells()]


def loop(csv: Path, folder: Path) -> float:
    """The plain loop's seconds (the data loaded and split inside the clock, as the sweep)."""
    import joblib

    from sweep.data import load_dataset
    from sweep.spec import DataSpec, model_file_name
    from sweep.trainable import fit_cell

    started = time.perf_counter()
    data = load_dataset(DataSpec(path=str(csv), target="y"), seed=SEED)
    for cell in cells():
        model, _ = fit_cell(cell, data, ESTIMATOR, SEED)
        joblib.dump(model, folder / model_file_name(cell))
    return time.perf_counter() - started


_POOL_DATA: Any = None  # a pool process's dataset, loaded once by `_load_pool_data`


def _load_pool_data(csv: str) -> None:
    from sweep.data import load_dataset
    from sweep.spec import DataSpec

    global _POOL_DATA
    _POOL_DATA = load_dataset(DataSpec(path=csv, target="y"), seed=SEED)


def _pool_cell(cell: dict[str, Any], folder: str) -> None:
    import joblib

    from sweep.spec import model_file_name
    from sweep.trainable import fit_cell

    model, _ = fit_cell(cell, _POOL_DATA, ESTIMATOR, SEED)
    joblib.dump(model, Path(folder) / model_file_name(cell))


def pool(csv: Path, folder: Path, processes: int) -> float:
    """The seconds of the same fits over a pool of `processes` fresh processes."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    started = time.perf_counter()
    with ProcessPoolExecutor(
        processes,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_load_pool_data,
        initargs=(str(csv),),
    ) as executor:
        for done in [executor.submit(_pool_cell, cell, str(folder)) for cell in cells()]:
            done.result()
    return time.perf_counter() - started


def sweep(csv: Path, folder: Path) -> float:
    """The sweep's seconds, its workspace made before the clock starts."""
    from sweep import run_sweep
    from sweep.spec import DataSpec
    from tracking import Workspace

    ws = Workspace(
        "w", tracking_uri=f"sqlite:///{folder}/records.db", storage_uri=str(folder / "storage")
    )
    ws.records  # noqa: B018 - the database and its schema, outside the clock
    started = time.perf_counter()
    result = run_sweep(
        estimator=ESTIMATOR,
        params=PARAMS,
        data=DataSpec(path=str(csv), target="y"),
        seed=SEED,
        workspace=ws,
        progress=False,
        experiment="heavy",
    )
    took = time.perf_counter() - started
    if result.failed or len(result.runs) != len(cells()):
        raise RuntimeError(f"the sweep did not train every cell: {result}")
    return took


def measure(
    repeat: int = 3, *, cpus: int = 2, cluster: bool = False, base: Path | None = None
) -> dict[str, Any]:
    """Issue 19's heavy-trials row, on the Ray this process is connected to (a local one of
    `cpus` CPUs, or the test cluster), the pool having as many processes: where it ran
    (`on`), medians `loop_s`, `pool_s` and `sweep_s`, the pool's and the sweep's ratios to
    the loop (`pool_ratio`, `ratio`), the `goal`, and every repetition (`reps`)."""
    contenders = (
        ("loop_s", loop),
        ("pool_s", lambda csv, folder: pool(csv, folder, cpus)),
        ("sweep_s", sweep),
    )
    times: dict[str, list[float]] = {name: [] for name, _ in contenders}
    with tempfile.TemporaryDirectory(dir=base) as folder:
        csv = write_data(Path(folder))
        for rep in range(repeat + 1):  # round 0: the untimed warm-up
            for name, contender in contenders:
                with tempfile.TemporaryDirectory(dir=folder) as work:
                    took = contender(csv, Path(work))
                if rep:
                    times[name].append(took)
                label = f"round {rep}/{repeat}" if rep else "warm-up (not counted)"
                progress(f"  heavy trials, {name:<8} {label}: {took:6.2f} s")
    loop_s, pool_s, sweep_s = (median(times[name]) for name, _ in contenders)
    return {
        "cells": len(cells()),
        "repeat": repeat,
        "on": CLUSTER if cluster else f"a local Ray of {cpus} CPUs",
        "loop_s": loop_s,
        "pool_s": pool_s,
        "sweep_s": sweep_s,
        "pool_ratio": pool_s / loop_s if loop_s and pool_s else None,
        "ratio": sweep_s / loop_s if loop_s and sweep_s else None,
        "goal": GOAL,
        "reps": times,
    }


def table(rows: list[dict[str, Any]]) -> list[str]:
    """The rows (one per place the sweep ran) as a markdown table."""

    def shown(value: float | None, digits: int) -> str:
        return "-" if value is None else f"{value:.{digits}f}"

    lines = [
        "| sweep on | cells | plain loop (s) | process pool (s) | sweep (s) "
        "| pool / loop | sweep / loop | goal |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row['on']} | {row['cells']} | {shown(row['loop_s'], 2)} "
            f"| {shown(row.get('pool_s'), 2)} | {shown(row['sweep_s'], 2)} "
            f"| {shown(row.get('pool_ratio'), 3)} | {shown(row['ratio'], 3)} "
            f"| ≤ {row['goal']} |"
        )
    return lines


@contextmanager
def test_cluster() -> Iterator[None]:
    """The three-node test cluster in a helper process, this process connected to it
    (token authentication on, as `ray start` has it: the helper and this process share
    the token through the environment)."""
    os.environ.update({"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32)})
    import ray

    from tests.bench.asha_bench import workers_import_repository
    from tests.helpers.cluster import running

    workers_import_repository()
    with running(os.environ) as started:
        ray.init(address=started["address"], logging_level=logging.ERROR)
        try:
            yield
        finally:
            ray.shutdown()


def measure_on_cluster(repeat: int = 3) -> dict[str, Any]:
    """`measure` on the test cluster, run by this script in a process of its own: a process
    that has used Ray without a token keeps that, and the cluster asks for one."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "heavy.json"
        command = [sys.executable, __file__, "--cluster", "--repeat", str(repeat)]
        subprocess.run([*command, "--json", str(out)], check=True, stdout=subprocess.DEVNULL)
        return dict(json.loads(out.read_text()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--cpus", type=int, default=2, help="CPUs of the local Ray instance")
    where.add_argument(
        "--cluster", action="store_true", help="on the three-node test cluster (2 x 1 CPU)"
    )
    parser.add_argument("--json", type=Path, default=None, help="write the row here too")
    args = parser.parse_args()
    progress(f"heavy trials: {len(cells())} cells, {args.repeat} repetition(s); starting Ray")
    started = time.perf_counter()
    with test_cluster() if args.cluster else contextlib.nullcontext():
        if not args.cluster:
            start_ray(args.cpus)
        progress(f"Ray start-up (not counted): {time.perf_counter() - started:.1f} s")
        row = measure(args.repeat, cpus=2 if args.cluster else args.cpus, cluster=args.cluster)
    print(f"\n{row['cells']} cells, one per trial; medians of {args.repeat}\n")
    print("\n".join(table([row])))
    if args.json:
        args.json.write_text(json.dumps(row, indent=2) + "\n")


if __name__ == "__main__":
    main()
