"""Record store benchmark: write throughput and read latency at 10,000 and 100,000 runs.

    python tests/bench/store_bench.py [--runs 10000 100000] [--repeat 20]

Each run gets 2 params and 3 metrics, written as a notebook loop writes them: create the
run, one batch of params and metrics, complete it (`write_runs`). `--sample` runs are
written that way (in 3 timed chunks; the write rate is their median) and the rest of each
size is filled with `record_runs` batches, the bulk write a sweep's callback uses (its rate
is shown too). Reads are the medians of --repeat calls: the best run by rmse, the first page
of 50 runs sorted by rmse, a page deep inside the table, the chart data and `to_dataframe`.
Target: best run and first page under 10 ms at 100,000 runs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench.common import EXPERIMENT, chunks, median_ms, progress, run_values
from tracking import Experiment, Workspace
from tracking.records import NewRun, RunOrder, RunStatus, utcnow
from tracking.stores.base import RecordStore

BULK_BATCH = 1000
BY_RMSE = RunOrder.parse("metrics.rmse")


def run_id(number: int) -> str:
    return f"run-{number:07d}"


def write_runs(store: RecordStore, experiment_id: int, first: int, last: int) -> float:
    """Write runs number `first` to `last - 1` one at a time, as a notebook loop would:
    create the run, one batch of 2 params and 3 metrics, complete it. Returns the seconds.
    """
    started = time.perf_counter()
    for i in range(first, last):
        params, metrics = run_values(i)
        store.create_run(experiment_id, run_id(i))
        store.log_batch(run_id(i), params=params, metrics=list(metrics.items()))
        store.set_status(run_id(i), RunStatus.COMPLETED)
        done = i + 1 - first
        if done % max(1, (last - first) // 4) == 0 and last - first >= 10_000:
            rate = done / (time.perf_counter() - started)
            progress(f"  wrote {i + 1:>7,} runs ({rate:,.0f} runs/s)")
    return time.perf_counter() - started


def bulk_write_runs(store: RecordStore, experiment_id: int, first: int, last: int) -> float:
    """Write runs number `first` to `last - 1` whole, `BULK_BATCH` per `record_runs` call
    (the same values as `write_runs`). Returns the seconds.
    """
    started = time.perf_counter()
    for start in range(first, last, BULK_BATCH):
        now = utcnow()
        batch = []
        for i in range(start, min(last, start + BULK_BATCH)):
            params, metrics = run_values(i)
            batch.append(
                NewRun(
                    run_id=run_id(i),
                    start_time=now,
                    params=params,
                    metrics=tuple(metrics.items()),
                    status=RunStatus.COMPLETED,
                    end_time=now,
                )
            )
        store.record_runs(experiment_id, batch)
    return time.perf_counter() - started


def open_workspace(folder: Path) -> Workspace:
    """A workspace in `folder` (records.db and storage/), its schema created."""
    workspace = Workspace(
        "bench",
        tracking_uri=f"sqlite:///{folder.absolute() / 'records.db'}",
        storage_uri=str(folder.absolute() / "storage"),
    )
    workspace.records.get_or_create_experiment(EXPERIMENT)
    return workspace


def query_calls(workspace: Workspace, runs: int) -> dict[str, Callable[[], object]]:
    """The reads to time, by result key: each as a user (or the portal) makes it."""
    experiment = Experiment(workspace, EXPERIMENT)
    store, eid = workspace.records, experiment.id
    return {
        "best_run_ms": lambda: experiment.get_best_run("rmse"),
        "first_page_ms": lambda: store.search_runs(eid, order=BY_RMSE, limit=50),
        "deep_page_ms": lambda: store.search_runs(eid, order=BY_RMSE, limit=50, offset=runs // 2),
        "chart_data_ms": lambda: store.chart_series(eid, "rmse", x_param="alpha"),
    }


def bench(runs: int, repeat: int, sample: int) -> dict[str, float]:
    """One size, alone: bulk fill, a timed one-by-one sample in 3 chunks, then the reads."""
    with tempfile.TemporaryDirectory() as folder:
        workspace = open_workspace(Path(folder))
        store = workspace.records
        eid = store.get_experiment(EXPERIMENT).id
        sample = min(sample, runs)
        bulk = bulk_write_runs(store, eid, 0, runs - sample)
        rates = [
            (last - first) / write_runs(store, eid, first, last)
            for first, last in chunks(runs - sample, runs)
        ]
        result: dict[str, float] = {
            "runs": runs,
            "write_sample_runs": sample,
            "write_runs_per_s": statistics.median(rates),
            "write_bulk_runs_per_s": (runs - sample) / bulk if runs > sample else float("nan"),
        }
        for key, call in query_calls(workspace, runs).items():
            result[key] = median_ms(call, repeat)
        frame = Experiment(workspace, EXPERIMENT).to_dataframe
        result["to_dataframe_s"] = median_ms(frame, 3) / 1000
        workspace.close()
        return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--sample", type=int, default=3000)
    args = parser.parse_args()
    rows = []
    for runs in args.runs:
        progress(f"{runs:,} runs")
        rows.append(bench(runs, args.repeat, args.sample))
    header = (
        "runs",
        "runs/s (one by one)",
        "runs/s (record_runs)",
        "best run ms",
        "first page ms",
        "page at 50% ms",
        "chart data ms",
        "to_dataframe s",
    )
    print("| " + " | ".join(header) + " |")
    print("|" + "---:|" * len(header))
    for r in rows:
        print(
            f"| {r['runs']:,} | {r['write_runs_per_s']:,.0f} | {r['write_bulk_runs_per_s']:,.0f} | "
            f"{r['best_run_ms']:.2f} | {r['first_page_ms']:.2f} | {r['deep_page_ms']:.1f} | "
            f"{r['chart_data_ms']:.0f} | {r['to_dataframe_s']:.2f} |"
        )


if __name__ == "__main__":
    main()
