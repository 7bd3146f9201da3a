"""Record store benchmark: write throughput and read latency at 10,000 and 100,000 runs.

    python tests/bench/store_bench.py [--runs 10000 100000] [--repeat 20]

Each run gets 2 params and 3 metrics, written as the sweep's callback writes them: create
the run, one batch of params and metrics, complete it. Reads are the medians of --repeat
calls: the best run by rmse, the first page of 50 runs sorted by rmse, a page deep inside
the table, and the chart data. Target: best run and first page under 10 ms at 100,000 runs.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tracking.records import RunOrder, RunStatus
from tracking.stores.base import RecordStore
from tracking.stores.sql import SqlRecordStore


def write_runs(store: RecordStore, experiment_id: int, first: int, last: int) -> float:
    """Write runs number `first` to `last - 1` one at a time, as a notebook loop would:
    create the run, one batch of 2 params and 3 metrics, complete it. Returns the seconds.
    """
    rng = random.Random(first)
    started = time.perf_counter()
    for i in range(first, last):
        run_id = f"run-{i:07d}"
        store.create_run(experiment_id, run_id)
        alpha = rng.uniform(0, 10)
        store.log_batch(
            run_id,
            params={"alpha": round(alpha, 4), "l1_ratio": round(rng.random(), 3)},
            metrics=[
                ("rmse", 50 + (alpha - 4) ** 2 + rng.random() * 5),
                ("mae", 40 + rng.random() * 5),
                ("r2", rng.random()),
            ],
        )
        store.set_status(run_id, RunStatus.COMPLETED)
        done = i + 1 - first
        if done % max(1, (last - first) // 10) == 0:
            rate = done / (time.perf_counter() - started)
            print(f"  wrote {i + 1:>7,} runs ({rate:,.0f} runs/s)", file=sys.stderr, flush=True)
    return time.perf_counter() - started


def fill(store: RecordStore, runs: int) -> tuple[int, float]:
    """Write `runs` runs into a new experiment; return its id and the seconds it took."""
    experiment = store.get_or_create_experiment("bench").id
    return experiment, write_runs(store, experiment, 0, runs)


def median_ms(call: Callable[[], object], repeat: int) -> float:
    call()  # warm the cache once, as a portal or notebook would have
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def bench(runs: int, repeat: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        store = SqlRecordStore.from_uri(f"sqlite:///{folder}/records.db")
        experiment, seconds = fill(store, runs)
        by_rmse = RunOrder.parse("metrics.rmse")
        result = {
            "runs": runs,
            "write_runs_per_s": runs / seconds,
            "metric_values_per_s": 3 * runs / seconds,
            "best_run_ms": median_ms(
                lambda: store.best_run(experiment, "rmse", maximize=False), repeat
            ),
            "first_page_ms": median_ms(
                lambda: store.search_runs(experiment, order=by_rmse, limit=50), repeat
            ),
            "deep_page_ms": median_ms(
                lambda: store.search_runs(experiment, order=by_rmse, limit=50, offset=runs // 2),
                repeat,
            ),
            "chart_data_ms": median_ms(
                lambda: store.chart_series(experiment, "rmse", x_param="alpha"), max(3, repeat // 5)
            ),
        }
        store.close()
        return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    rows = []
    for runs in args.runs:
        print(f"{runs:,} runs:", file=sys.stderr)
        rows.append(bench(runs, args.repeat))
    header = (
        "runs",
        "runs/s",
        "metric values/s",
        "best run ms",
        "first page ms",
        "page at 50% ms",
        "chart data ms",
    )
    print("| " + " | ".join(header) + " |")
    print("|" + "---:|" * len(header))
    for r in rows:
        print(
            f"| {r['runs']:,} | {r['write_runs_per_s']:,.0f} | {r['metric_values_per_s']:,.0f} | "
            f"{r['best_run_ms']:.2f} | {r['first_page_ms']:.2f} | {r['deep_page_ms']:.1f} | "
            f"{r['chart_data_ms']:.0f} |"
        )


if __name__ == "__main__":
    main()
