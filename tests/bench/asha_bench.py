"""ASHA benchmark (issue 16): a random search with early stopping, the sweep against Tune alone.

    python tests/bench/asha_bench.py [--samples 200] [--repeat 3] [--only NAME ...]

The same random search of `--samples` configs of an `SGDClassifier` trained epoch by epoch
(`partial_fit`, up to 20 epochs, validation log-loss reported after each), stopped early by
ASHA (grace 2, max_t 20, reduction 3), in one process and one local Ray instance (started
once, not timed), two ways:
- tune_asha_s: Tune alone: the function reports `tune.report({"val_loss": ...})` per epoch,
  in a `tune.Tuner` with `ASHAScheduler`, the configs given as `BasicVariantGenerator`'s
  `points_to_evaluate`;
- sweep_asha_s: `run_sweep(train=..., search="random", early_stop="asha:...")`, the function
  logging `Run.get_context().log("val_loss", ...)` per epoch, recorded in a fresh SQLite
  workspace (its database made before the clock starts).
Both train the same configs (`sweep.space.sample_configs`, the sweep's own draw), with the
same scheduler settings, 1 CPU per trial, reused actors, Tune's own result files off, and
the same concurrency: by default no `max_concurrent_trials` on either side, so Ray's CPUs
(`--cpus`, 1 per trial) bound both; `--max-concurrent N` sets it on both. Both read the data
from a module-level cache in the worker (`dataset()`). The two alternate in each repetition
(tune, sweep, tune, sweep...), after an untimed warm-up round of `--warm-up` samples each
(imports, Ray's worker pool). Figures are medians over --repeat runs; each run also counts
the trials ASHA stopped early (Tune: last training_iteration < max_t; the sweep: runs
Canceled by asha) and those that failed or never ran (Tune's errors; the sweep's runs
neither Completed nor Canceled by asha), which should be about equal, and none.
Target: sweep / Tune alone <= 1.05. `tests/bench/run.py` runs this too (`measure`).
"""

from __future__ import annotations

import argparse
import functools
import logging
import math
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
os.environ.setdefault("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", "1")

from tests.bench.common import median, progress

ROOT = Path(__file__).resolve().parents[2]
SPACE = {"alpha": "loguniform(1e-5,1e-1)", "eta0": "loguniform(1e-3,1)"}
SEED = 1
METRIC, MODE = "val_loss", "min"
GRACE, MAX_T, REDUCTION = 2, 20, 3
EARLY_STOP = f"asha:grace={GRACE},max_t={MAX_T},reduction={REDUCTION}"
GOAL = 1.05
WORST_LOSS = 100.0  # what a diverged model (non-finite log-loss) reports


# --- the training, identical on both sides (run in the Ray workers) -------------------------


@functools.cache
def dataset() -> tuple[Any, Any, Any, Any]:
    """A fixed binary classification problem, split 80/20: (X_train, X_val, y_train, y_val).

    Made once per worker process (reused actors keep it across trials)."""
    from sklearn.datasets import make_classification
    from sklearn.model_selection import train_test_split

    x, y = make_classification(n_samples=5000, n_features=20, random_state=0)
    return tuple(train_test_split(x, y, test_size=0.2, random_state=0))


def epochs(config: dict[str, Any]) -> Iterator[float]:
    """Train one epoch of SGD at a time, up to `MAX_T`; yield the validation log-loss."""
    import numpy as np
    from sklearn.linear_model import SGDClassifier
    from sklearn.metrics import log_loss

    x_train, x_val, y_train, y_val = dataset()
    classes = np.array([0, 1])
    model = SGDClassifier(
        alpha=config["alpha"],
        eta0=config["eta0"],
        learning_rate="constant",
        loss="log_loss",
        random_state=0,
    )
    for _ in range(MAX_T):
        model.partial_fit(x_train, y_train, classes=classes)
        proba = model.predict_proba(x_val)
        loss = log_loss(y_val, proba, labels=classes) if np.isfinite(proba).all() else WORST_LOSS
        yield float(loss) if math.isfinite(loss) else WORST_LOSS


def train_tune(config: dict[str, Any]) -> None:
    """Tune alone: one `tune.report` per epoch."""
    from ray import tune

    for loss in epochs(config):
        tune.report({METRIC: loss})


def train_sweep(config: dict[str, Any]) -> None:
    """The sweep's user code: one `run.log` per epoch (each a step reported to Tune)."""
    from tracking import Run

    run = Run.get_context()
    for loss in epochs(config):
        run.log(METRIC, loss)


# --- the contenders ------------------------------------------------------------------------


class Outcome(NamedTuple):
    """What one call of a contender left: its trials stopped early by ASHA, and its trials
    that failed or never ran (Tune: errors; the sweep: runs neither completed nor canceled
    by ASHA)."""

    stopped: int
    failed: int


# A contender gets the number of samples, the most trials at once (None: as many as Ray's
# CPUs hold) and an empty folder, does its untimed set-up, and returns the call to time.
Contender = Callable[[int, int | None, Path], Callable[[], Outcome]]


def configs(samples: int) -> list[dict[str, Any]]:
    """The configs the sweep's random search draws (`sweep.space.sample_configs`)."""
    from sweep.space import parse_distribution, sample_configs

    space = {name: parse_distribution(name, text) for name, text in SPACE.items()}
    return sample_configs(space, seed=SEED, samples=samples)  # type: ignore[arg-type]


def tune_alone(samples: int, concurrent: int | None, folder: Path) -> Callable[[], Outcome]:
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler
    from ray.tune.search.basic_variant import BasicVariantGenerator

    points = configs(samples)

    def call() -> Outcome:
        tuner = tune.Tuner(
            tune.with_resources(_this().train_tune, {"cpu": 1}),
            param_space={
                "alpha": tune.loguniform(1e-5, 1e-1),
                "eta0": tune.loguniform(1e-3, 1),
            },
            tune_config=tune.TuneConfig(
                num_samples=samples,
                scheduler=ASHAScheduler(
                    metric=METRIC,
                    mode=MODE,
                    grace_period=GRACE,
                    max_t=MAX_T,
                    reduction_factor=REDUCTION,
                ),
                search_alg=BasicVariantGenerator(points_to_evaluate=points),
                max_concurrent_trials=concurrent,
                reuse_actors=True,
            ),
            run_config=tune.RunConfig(storage_path=str(folder / "tune"), verbose=0),
        )
        results = tuner.fit()
        if len(results) != samples:
            raise RuntimeError(f"Tune alone ran {len(results)} trials, not {samples}")
        stopped = sum(
            r.error is None and r.metrics.get("training_iteration", 0) < MAX_T for r in results
        )
        return Outcome(stopped, results.num_errors)

    return call


def sweep(samples: int, concurrent: int | None, folder: Path) -> Callable[[], Outcome]:
    from sweep import run_sweep
    from tracking import Workspace

    ws = Workspace(
        "w", tracking_uri=f"sqlite:///{folder}/records.db", storage_uri=str(folder / "storage")
    )
    ws.records  # noqa: B018 - the database and its schema, made before the clock starts

    def call() -> Outcome:
        import pandas as pd

        result = run_sweep(
            train=_this().train_sweep,
            params=SPACE,
            search="random",
            samples=samples,
            seed=SEED,
            early_stop=EARLY_STOP,
            metric=METRIC,
            mode=MODE,
            max_concurrent=concurrent,
            workspace=ws,
            progress=False,
            experiment="asha-bench",
        )
        if len(result.runs) != samples or result.interrupted:
            raise RuntimeError(f"the sweep of {samples} samples did not complete: {result}")
        for problem in result.tracking_errors:
            progress(f"  sweep: tracking error: {problem}")
        runs = result.runs
        stopped_by = runs.get("properties.stopped_by", pd.Series(index=runs.index, dtype=object))
        stopped = int(((runs["status"] == "Canceled") & (stopped_by == "asha")).sum())
        # Failed, or Canceled by anything but ASHA (a cell whose trial never ran).
        lost = len(runs) - int((runs["status"] == "Completed").sum()) - stopped
        return Outcome(stopped, lost)

    return call


def _this() -> Any:
    """This module imported by name (not `__main__`): Ray's workers import the training
    functions from it, and share its `dataset()` cache, instead of unpickling copies."""
    import tests.bench.asha_bench

    return tests.bench.asha_bench


CONTENDERS: dict[str, Contender] = {"tune_asha_s": tune_alone, "sweep_asha_s": sweep}


# --- measuring ------------------------------------------------------------------------------


def workers_import_repository() -> None:
    """Ray workers started from now on import this repository (this module's training
    functions): call before `ray.init`, whose processes inherit the environment."""
    paths = os.environ.get("PYTHONPATH", "").split(os.pathsep)
    if str(ROOT) not in paths:
        os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), *paths) if p)


def start_ray(cpus: int = 2) -> float:
    """Start the local Ray instance both contenders share; return its seconds."""
    workers_import_repository()
    import ray

    started = time.perf_counter()
    ray.init(
        address="local",
        num_cpus=cpus,
        include_dashboard=False,
        logging_level=logging.ERROR,
        log_to_driver=False,
    )
    return time.perf_counter() - started


@contextmanager
def heartbeat(label: str, every_s: float = 15.0) -> Iterator[None]:
    """A progress line every `every_s` seconds while the block runs."""
    done = threading.Event()
    started = time.perf_counter()

    def beat() -> None:
        while not done.wait(every_s):
            progress(f"  {label}: running, {time.perf_counter() - started:.0f} s so far")

    thread = threading.Thread(target=beat, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


def timed(
    contender: Contender, samples: int, concurrent: int | None, base: Path | None = None
) -> tuple[float, Outcome]:
    """(seconds, outcome) of one call of the contender, in a fresh folder (set-up not
    counted)."""
    with tempfile.TemporaryDirectory(dir=base) as folder:
        call = contender(samples, concurrent, Path(folder))
        started = time.perf_counter()
        outcome = call()
        return time.perf_counter() - started, outcome


def measure(
    samples: int = 200,
    repeat: int = 3,
    *,
    concurrent: int | None = None,
    warm_up: int = 10,
    names: list[str] | None = None,
    base: Path | None = None,
) -> dict[str, Any]:
    """The figures of issue 16's ASHA row, on the Ray this process is connected to.

    Returns medians `tune_asha_s` and `sweep_asha_s`, their `ratio` (sweep / Tune alone),
    the `goal`, the trials stopped early and failed (`*_stopped`, `*_failed`: medians), and
    every repetition's figures (`reps`).
    """
    names = names or list(CONTENDERS)
    if warm_up:
        for name in names:
            took, _ = timed(CONTENDERS[name], warm_up, concurrent, base)
            progress(f"  warm-up, {name:<13} {warm_up} samples (not counted): {took:6.2f} s")
    times: dict[str, list[float]] = {name: [] for name in names}
    outcomes: dict[str, list[Outcome]] = {name: [] for name in names}
    for rep in range(1, repeat + 1):
        for name in names:  # alternated: tune, sweep, tune, sweep...
            label = f"{samples} samples, {name:<13} round {rep}/{repeat}"
            with heartbeat(label):
                took, outcome = timed(CONTENDERS[name], samples, concurrent, base)
            times[name].append(took)
            outcomes[name].append(outcome)
            failed = f", {outcome.failed} FAILED" if outcome.failed else ""
            progress(
                f"  {label}: {took:7.2f} s, {outcome.stopped} of {samples} stopped early by "
                f"ASHA{failed}"
            )
    row: dict[str, Any] = {"samples": samples, "repeat": repeat, "max_concurrent": concurrent}
    for name in names:
        key = name.removesuffix("_s")
        row[name] = median(times[name])
        row[f"{key}_stopped"] = median([o.stopped for o in outcomes[name]])
        row[f"{key}_failed"] = median([o.failed for o in outcomes[name]])
    tune_s, sweep_s = row.get("tune_asha_s"), row.get("sweep_asha_s")
    row["ratio"] = sweep_s / tune_s if tune_s and sweep_s else None
    row["goal"] = GOAL
    row["reps"] = {
        "seconds": times,
        "stopped": {k: [o.stopped for o in v] for k, v in outcomes.items()},
        "failed": {k: [o.failed for o in v] for k, v in outcomes.items()},
    }
    return row


def table(row: dict[str, Any]) -> list[str]:
    """The row as a markdown table."""

    def cell(key: str, shape: str) -> str:
        value = row.get(key)
        return "-" if value is None else shape.format(value)

    def pair(suffix: str) -> str:
        return f"{cell('tune_asha_' + suffix, '{:g}')} / {cell('sweep_asha_' + suffix, '{:g}')}"

    return [
        "| samples | Tune alone (s) | sweep (s) | sweep / Tune alone | goal "
        "| stopped early (Tune / sweep) | failed (Tune / sweep) |",
        "|---:|---:|---:|---:|---:|---:|---:|",
        f"| {row['samples']:,} | {cell('tune_asha_s', '{:.2f}')} | "
        f"{cell('sweep_asha_s', '{:.2f}')} | {cell('ratio', '{:.3f}')} | ≤ {row['goal']:.2f} "
        f"| {pair('stopped')} | {pair('failed')} |",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cpus", type=int, default=2, help="CPUs of the local Ray instance")
    parser.add_argument(
        "--max-concurrent",
        type=int,
        default=0,
        help="most trials at once, both sides (default 0: no limit but Ray's CPUs)",
    )
    parser.add_argument("--warm-up", type=int, default=10, help="samples of the untimed round")
    parser.add_argument(
        "--only", nargs="+", choices=list(CONTENDERS), help="these contenders (default: both)"
    )
    args = parser.parse_args()
    progress(f"ASHA benchmark: {args.samples} samples, {args.repeat} repetition(s); starting Ray")
    progress(f"Ray start-up (not counted): {start_ray(args.cpus):.1f} s")
    row = measure(
        args.samples,
        args.repeat,
        concurrent=args.max_concurrent or None,
        warm_up=args.warm_up,
        names=args.only,
    )
    at_once = args.max_concurrent or f"{args.cpus} (Ray's CPUs, 1 per trial)"
    print(
        f"\nCPUs: {os.cpu_count()} (Ray: {args.cpus}); at most {at_once} trials at once; "
        f"medians of {args.repeat} run(s); ASHA grace {GRACE}, max_t {MAX_T}, reduction "
        f"{REDUCTION}\n"
    )
    print("\n".join(table(row)))


if __name__ == "__main__":
    main()
