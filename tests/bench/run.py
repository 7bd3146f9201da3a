"""Side-by-side benchmark of issue 6: raysweep's sweep, store and portal against MLflow and Tune.

    python tests/bench/run.py [--quick] --out FILE.json

Writes FILE.json, FILE.md (tables, targets, method), FILE.png (per-trial cost against
trials) and FILE-goals.png (every target against its goal). Everything runs in this one
process tree, in the same minutes: the sweep's seven contenders in round robin per
repetition on one shared Ray instance, then on the same Ray
issue 19's large packed sweep, `--pack auto` against the plain loop, alternating; issue 16's
random search with ASHA, the sweep against Tune alone (tests/bench/asha_bench.py), and
issue 19's heavy trials, the sweep against a plain loop and a process pool
(tests/bench/heavy_bench.py), then (full only) those heavy trials again on the three-node
test cluster, then the two record stores side by side, then the portal over the same
records. Progress goes to stderr. Full: 10/100/1,000 alphas, packed at 10,000, ASHA over
200 samples, stores at 10,000 and 100,000 runs, portal at 100,000 (~30 min on 2 cores).
--quick: 10/100 alphas, no large packed sweep, ASHA over 20 samples, heavy trials on the
local Ray only, stores at 1,000 and 10,000, portal at 10,000.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
os.environ.setdefault("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", "1")

from tests.bench import asha_bench, heavy_bench, peers, report, store_bench, sweep_bench
from tests.bench.common import EXPERIMENT, chunks, median, progress, seconds

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Plan:
    sizes: tuple[int, ...]  # alphas per sweep
    stores: tuple[int, ...]  # runs in the stores, ascending
    portals: tuple[int, ...]  # store sizes at which the portal is measured
    reps: int  # repetitions of each sweep figure
    write_chunk: int  # runs per timed write chunk (3 chunks per size and store)
    query_reps: int
    mlflow_cap_s: float  # one MLflow search is interrupted after this long
    portal_reps: int
    asha_samples: int  # configs of the random search with ASHA (issue 16), `reps` times
    packed: tuple[int, ...]  # alphas of the large packed sweeps against the loop (issue 19)
    heavy_cluster: bool  # heavy trials on the three-node test cluster too (issue 19)


PLANS = {
    "full": Plan(
        (10, 100, 1000), (10_000, 100_000), (100_000,), 3, 400, 5, 60.0, 5, 200, (10_000,), True
    ),
    "quick": Plan((10, 100), (1_000, 10_000), (10_000,), 2, 100, 3, 5.0, 3, 20, (), False),
}
WARM_UP_ALPHAS = 10
PACKED_GOAL = 0.7  # issue 19: a large packed sweep / the plain loop, on 2 cores


# --- the machine and start-up costs -------------------------------------------------------


def machine() -> dict[str, Any]:
    import mlflow
    import ray
    import sklearn

    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown CPU",
    )
    mem_kib = int(Path("/proc/meminfo").read_text().split()[1])
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gib": mem_kib / 2**20,
        "os": platform.platform(),
        "python": platform.python_version(),
        "ray": ray.__version__,
        "mlflow": mlflow.__version__,
        "sklearn": sklearn.__version__,
        "sqlite": sqlite3.sqlite_version,
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


def import_tracking_s(repeat: int = 5) -> float:
    """Median seconds of `import tracking` in a fresh interpreter, timed inside it."""
    code = "import time; s = time.perf_counter(); import tracking; print(time.perf_counter() - s)"
    times = [
        float(
            subprocess.run(
                [sys.executable, "-c", code], cwd=ROOT, check=True, capture_output=True, text=True
            ).stdout
        )
        for _ in range(repeat)
    ]
    return float(median(times) or 0.0)


# --- sweep ----------------------------------------------------------------------------------


def sweep_contenders(databases: peers.MlflowDatabases) -> dict[str, sweep_bench.Contender]:
    """All seven, by result key, in the order of the report."""
    found = {
        **sweep_bench.CONTENDERS,
        "mlflow_loop_s": peers.mlflow_loop(databases),
        "tune_mlflow_s": peers.tune_mlflow(databases),
    }
    return {key: found[key] for key in report.SWEEP_LABELS}


def warm_up(contenders: dict[str, sweep_bench.Contender], base: Path) -> None:
    """One untimed call of each at 10 alphas (imports, Ray's worker pool)."""
    for contender in contenders.values():
        sweep_bench.timed(contender, WARM_UP_ALPHAS, base)


def sweep_phase(plan: Plan, base: Path, databases: peers.MlflowDatabases) -> dict[str, Any]:
    asha_bench.workers_import_repository()  # the ASHA rows' training functions
    ray_s = sweep_bench.start_ray()
    progress(f"Ray start-up: {ray_s:.1f} s (not counted in any contender)")
    contenders = sweep_contenders(databases)
    progress(f"warm-up: every contender once at {WARM_UP_ALPHAS} alphas, untimed")
    warm_up(contenders, base)
    keys = list(contenders)
    rows = []
    for n in plan.sizes:
        times: dict[str, list[float]] = {k: [] for k in keys}
        for rep in range(plan.reps):
            for key in keys[rep % len(keys) :] + keys[: rep % len(keys)]:  # rotating start
                times[key].append(sweep_bench.timed(contenders[key], n, base))
                progress(f"sweep n={n:,} rep {rep + 1}/{plan.reps} {key}: {times[key][-1]:.2f} s")
        row: dict[str, Any] = {"n": n, **{k: median(times[k]) for k in keys}}
        row["reps"] = times
        rows.append(row)
    packed = []
    for n in plan.packed:  # the loop and `--pack auto` alone, alternating
        pair = {k: contenders[k] for k in ("plain_loop_s", "sweep_packed_s")}
        times = {k: [] for k in pair}
        for rep in range(plan.reps):
            for key, contender in pair.items():
                times[key].append(sweep_bench.timed(contender, n, base))
                progress(f"packed n={n:,} rep {rep + 1}/{plan.reps} {key}: {times[key][-1]:.2f} s")
        loop_s, packed_s = median(times["plain_loop_s"]), median(times["sweep_packed_s"])
        packed.append(
            {
                "n": n,
                "plain_loop_s": loop_s,
                "sweep_packed_s": packed_s,
                "ratio": packed_s / loop_s if loop_s and packed_s else None,
                "goal": PACKED_GOAL,
                "reps": times,
            }
        )
    progress(f"random search with ASHA, {plan.asha_samples} samples: sweep and Tune alone")
    asha = asha_bench.measure(plan.asha_samples, plan.reps, base=base)
    progress("heavy trials: the sweep against the same fits in a loop and a process pool")
    heavy = [heavy_bench.measure(plan.reps, base=base)]
    import ray

    ray.shutdown()  # its processes stay out of the rest of the timings
    if plan.heavy_cluster:
        progress("heavy trials on the test cluster (2 worker nodes of 1 CPU), in a process")
        heavy.append(heavy_bench.measure_on_cluster(plan.reps))
    return {"ray_startup_s": ray_s, "sweep": rows, "packed": packed, "asha": asha, "heavy": heavy}


# --- record stores and portal -------------------------------------------------------------


class Stores:
    """Our workspace and MLflow's store, grown side by side to each size of the plan."""

    def __init__(self, plan: Plan, base: Path, databases: peers.MlflowDatabases) -> None:
        self.plan = plan
        (base / "ours").mkdir()
        (base / "mlflow").mkdir()
        self.workspace = store_bench.open_workspace(base / "ours")
        self.store = self.workspace.records
        self.eid = self.store.get_experiment(EXPERIMENT).id
        self.mlflow = peers.MlflowStore(databases, base / "mlflow")
        # Run 0 through both APIs: MLflow's rows of it are the template of its bulk fill.
        store_bench.write_runs(self.store, self.eid, 0, 1)
        self.mlflow.write_runs(0, 1)
        self.runs = 1

    def grow(self, size: int) -> dict[str, Any]:
        """Fill both to `size` runs, the last 3 chunks through the APIs, timed."""
        sample = min(3 * self.plan.write_chunk, size - self.runs)
        fill_to = size - sample
        progress(f"store {size:,}: filling runs {self.runs:,}..{fill_to:,} in bulk")
        bulk_s = store_bench.bulk_write_runs(self.store, self.eid, self.runs, fill_to)
        mlflow_fill_s = self.mlflow.fill(self.runs, fill_to)
        progress(
            f"store {size:,}: filled (ours {bulk_s:.1f} s, MLflow's SQL {mlflow_fill_s:.1f} s)"
        )
        ours, theirs = [], []
        for first, last in chunks(fill_to, size):
            ours.append((last - first) / store_bench.write_runs(self.store, self.eid, first, last))
            theirs.append((last - first) / self.mlflow.write_runs(first, last))
            progress(
                f"store {size:,}: runs {first:,}..{last:,} one by one: ours {ours[-1]:,.0f} "
                f"runs/s, MLflow {theirs[-1]:,.0f} runs/s"
            )
        filled = fill_to - self.runs
        self.runs = size
        if self.mlflow.count() != size or self.store.search_runs(self.eid, limit=0).total != size:
            raise RuntimeError(f"the stores do not hold {size:,} runs each")
        return {
            "runs": size,
            "write_runs_per_s": median(ours),
            "mlflow_write_runs_per_s": median(theirs),
            "write_sample_runs": sample,
            "mlflow_write_sample_runs": sample,
            "bulk_filled_runs": filled,
            "write_bulk_runs_per_s": filled / bulk_s if filled else None,
        }

    def queries(self, size: int) -> dict[str, Any]:
        """Medians of the reads, ours and MLflow's alternating in each repetition."""
        ours = store_bench.query_calls(self.workspace, size)
        theirs = self.mlflow.query_calls()
        cap = self.plan.mlflow_cap_s
        times: dict[str, list[float]] = {k: [] for k in [*ours, *theirs]}
        over: dict[str, float] = {}
        for rep in range(self.plan.query_reps + 1):  # the first is the warm-up
            for key, call in ours.items():
                took = 1000 * seconds(call)
                if rep:
                    times[key].append(took)
            for key, call in theirs.items():
                if key in over:
                    continue
                took = self.mlflow.capped_ms(call, cap)
                if took is None:
                    over[key] = 1000 * cap
                    progress(f"store {size:,}: {key} stopped after {cap:.0f} s")
                elif rep:
                    times[key].append(took)
            progress(f"store {size:,}: queries, repetition {rep}/{self.plan.query_reps}")
        result: dict[str, Any] = {k: None if k in over else median(v) for k, v in times.items()}
        result.update({f"{k}_over": v for k, v in over.items()})
        result["query_reps"] = self.plan.query_reps
        if "mlflow_best_run_ms" not in over:
            self._check_same_best(theirs["mlflow_best_run_ms"]())
        frame = self.workspace_experiment().to_dataframe
        result["to_dataframe_s"] = median([seconds(frame) for _ in range(3)])
        return result

    def workspace_experiment(self) -> Any:
        from tracking import Experiment

        return Experiment(self.workspace, EXPERIMENT)

    def _check_same_best(self, mlflow_best: list[Any]) -> None:
        ours = self.workspace_experiment().get_best_run("rmse").id
        if mlflow_best[0].info.run_name != ours:
            raise RuntimeError(f"best runs differ: ours {ours}, MLflow's {mlflow_best}")


def portal_row(workspace: Any, runs: int, repeat: int) -> dict[str, Any]:
    from tests.bench.portal_bench import server_times, serving

    progress(f"portal {runs:,}: serving on 127.0.0.1 (uvicorn, in a thread)")
    with serving(workspace) as url:
        rows = server_times(url, runs, repeat, experiment=EXPERIMENT)
    return {"runs": runs, **{key: ms for key, (_, ms) in rows.items()}, "reps": repeat}


def portal_load_row(base: Path, runs: int) -> dict[str, Any]:
    """Issue 19's figures: `python -m tracking.portal --workers N` (1 and 2) under 1 and 50
    clients, over the store's own database (see tests/bench/portal_load.py)."""
    from tests.bench import portal_load

    folder = base / f"portal-load-{runs}"
    folder.mkdir()
    config = portal_load.write_config(
        folder, base / "ours" / "records.db", base / "ours" / "storage"
    )
    rows = [
        portal_load.measure(config, runs, n, EXPERIMENT, folder / f"portal-{n}.log")
        for n in portal_load.WORKER_COUNTS
    ]
    return portal_load.result(rows, runs)


def store_phase(plan: Plan, base: Path, databases: peers.MlflowDatabases) -> dict[str, Any]:
    stores = Stores(plan, base, databases)
    store_rows, portal_rows, load_rows = [], [], []
    for size in plan.stores:
        row = stores.grow(size)
        row.update(stores.queries(size))
        store_rows.append(row)
        if size in plan.portals:
            portal_rows.append(portal_row(stores.workspace, size, plan.portal_reps))
            load_rows.append(portal_load_row(base, size))
    stores.workspace.close()
    return {"store": store_rows, "portal": portal_rows, "portal_load": load_rows}


# --- output ---------------------------------------------------------------------------------


def notes(plan: Plan, quick: bool) -> list[str]:
    out = [
        f"Sweep: each time is the median of {plan.reps} runs. In each repetition the seven "
        "contenders run one after another (round robin, the first one rotating), in one "
        "process and one Ray instance, after an untimed warm-up round at 10 alphas. The "
        "data loading is timed; each contender's database is made before the clock starts "
        "(our workspace's schema; a copy of an MLflow database migrated once, with its "
        "experiment).",
        "Loops log per alpha: ours `run.log` of alpha_value, rmse, mae, r2, `upload_file`, "
        "`complete`; MLflow's `log_param` alpha, `log_metric` rmse, mae, r2, `log_artifact`, "
        "`end_run`. Tune contenders: the sweep's trainable and checkpoints, reused actors, "
        "1 CPU per trial, Tune's own result files off; MLflowLoggerCallback with a SQLite "
        "tracking URI and its defaults (no artifact upload).",
        "Large packed sweep (issue 19): the plain loop and `--pack auto` alone, alternating, "
        f"{plan.reps} times each after the round robin, on the same Ray; medians.",
        f"Random search with ASHA (issue 16): {plan.asha_samples} configs of an SGDClassifier "
        "(log loss, constant learning rate) drawn from loguniform alpha and eta0 with the "
        "sweep's seed, each trained by `partial_fit` up to 20 epochs on a fixed "
        "make_classification set (5,000 rows, 20 features, 80/20 split) and reporting its "
        "validation log-loss per epoch; ASHA grace 2, max_t 20, reduction 3. Tune alone: "
        "`tune.report` per epoch, the configs as BasicVariantGenerator's points_to_evaluate. "
        "The sweep: `run_sweep(train=..., search='random', early_stop='asha:...')`, "
        "`Run.get_context().log` per epoch, a fresh SQLite workspace (made before the clock "
        "starts). Same Ray, 1 CPU per trial, reused actors; the two alternate in each "
        f"repetition after an untimed warm-up of 10 samples each; medians of {plan.reps}. "
        "'Stopped early': trials ASHA ended before max_t (the sweep: runs Canceled by asha); "
        "'failed': trials that errored or never ran.",
        f"Stores: the write rate is the median of 3 chunks of {plan.write_chunk} runs written "
        "one at a time through each API (ours: create_run, log_batch, set_status; MLflow: "
        "create_run, log_batch, set_terminated), the two stores' chunks alternating, when "
        "each store already held all but those runs. The rest of each size was filled in "
        "bulk: ours with `record_runs` batches of 1,000 (its rate is the bulk-writes row); "
        "MLflow's by SQL inserts into its runs, params, metrics, latest_metrics and tags "
        "tables, each row a copy of what MLflow's API wrote for run 0 with the run's own "
        "id, name, times and values. Both stores hold the same values for the same run "
        "(checked: the same best run, wherever MLflow's search finished).",
        f"Queries: median of {plan.query_reps} calls after a warm-up, ours and MLflow's "
        f"alternating. An MLflow search still running after {plan.mlflow_cap_s:.0f} s is "
        "interrupted (SQLite interrupt) and shown as '> that'; its lead is then a lower "
        "bound. MLflow's search on SQLite grows with the square of the runs: SQLite plans "
        "its LEFT JOIN on the latest_metrics subquery as a scan per run.",
        "Portal: uvicorn on 127.0.0.1 in a thread of this process over the store's own "
        f"workspace, urllib requests; median of {plan.portal_reps} after a warm-up. The "
        "chart data's first request (the portal keeps it once read) is the median over 6 "
        "different charts.",
        "Portal under load (issue 19): `python -m tracking.portal --workers N` (N = 1, 2) "
        "in its own processes over the same database; one asyncio client process, each "
        "client one kept-alive connection with no think time, cycling through the "
        "experiment page, runs page 1 by rmse, the page at 50% by rmse and /api/experiments; "
        "after a warm-up, 40 new connections one at a time, each asking one of those pages "
        "twice (the second answer's p50 against the first's: Nagle's algorithm once held "
        "every answer after a connection's first ~40 ms), then 1 client x 200 requests, then "
        "50 clients x 40 (a phase stops after 120 s). Little's bound: with no think time, 50 "
        "clients' mean latency is 50 / their throughput, so p99 / one-client p50 cannot be "
        "below it.",
    ]
    if quick:
        out.append(
            "--quick: 10 and 100 alphas, 2 repetitions (not 3) of each sweep figure, stores "
            "at 1,000 and 10,000 runs, portal at 10,000, MLflow's searches stopped after 5 s; "
            "targets are checked at the largest sizes run, not those of the issue."
        )
    return out


def write_outputs(result: dict[str, Any], out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, default=str) + "\n")
    report.render(result, out)
    progress(f"wrote {out}, {out.with_suffix('.md')} and its plots")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke check (~6 minutes)")
    parser.add_argument("--out", type=Path, required=True, help="the JSON file to write")
    args = parser.parse_args()
    plan = PLANS["quick" if args.quick else "full"]
    peers.quiet_mlflow()
    result: dict[str, Any] = {
        "machine": machine(),
        "command": "python tests/bench/run.py"
        + (" --quick" if args.quick else "")
        + f" --out {args.out}",
        "plan": plan.__dict__,
    }
    result["import_tracking_s"] = import_tracking_s()
    progress(f"import tracking: {result['import_tracking_s']:.3f} s (median of 5)")
    with tempfile.TemporaryDirectory(prefix="raysweep-bench-") as folder:
        base = Path(folder)
        databases = peers.MlflowDatabases(base)
        sweep = sweep_phase(plan, base, databases)
        result.update(sweep)  # ray_startup_s, sweep, packed, asha, heavy
        result.update(store_phase(plan, base, databases))
    result["targets"] = report.targets(result)
    result["notes"] = notes(plan, args.quick)
    write_outputs(result, args.out)
    print(args.out.with_suffix(".md").read_text())


if __name__ == "__main__":
    main()
