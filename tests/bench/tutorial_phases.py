"""Where the tutorial loop's time goes, phase by phase: the profile behind issue 19's item 4.

    python tests/bench/tutorial_phases.py [--alphas 1000] [--repeat 3]

Runs `sweep_bench`'s tracking loop (per alpha: `start_logging`, a `log`, the fit, three
`log`s, `joblib.dump`, `upload_file`, `complete`) with a clock around each call, and prints
milliseconds per run for each phase, medians over --repeat rounds in fresh workspaces. The
upload's `fsync`, folders and rename are timed inside it, by wrapping those `os` functions
while it runs. "tracking" is everything but the fit and the dump, and
the last line compares it with them: the loop with tracking costs 1 + tracking / (fit +
dump) times the plain loop, which is what `sweep_bench`'s tracking_loop_s / plain_loop_s
measures (without the clocks' own cost).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import joblib

from sweep.spec import model_file_name
from sweep.trainable import fit_cell
from tests.bench.common import EXPERIMENT, alphas, median
from tests.bench.sweep_bench import ESTIMATOR, SEED, diabetes, workspace
from tracking import Experiment

PHASES = ("start_logging", "log", "fit", "dump", "upload_file", "complete")
KERNEL = ("fsync", "mkdir", "replace")  # what an upload asks of the file system
TRACKING = ("start_logging", "log", "upload_file", "complete")


@contextmanager
def timing_os(spent: dict[str, float], counting: list[bool]) -> Iterator[None]:
    """Add the seconds spent in `os.fsync`, `os.mkdir` and `os.replace` to `spent`, while
    `counting[0]` is true."""
    originals = {name: getattr(os, name) for name in KERNEL}

    def timed(name: str, call: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return call(*args, **kwargs)
            finally:
                if counting[0]:
                    spent[name] += time.perf_counter() - started

        return wrapper

    for name, call in originals.items():
        setattr(os, name, timed(name, call))
    try:
        yield
    finally:
        for name, call in originals.items():
            setattr(os, name, call)


def one_round(n: int) -> dict[str, float]:
    """Milliseconds per run of each phase (and of the upload's `os` calls) over n alphas."""
    spent: dict[str, float] = defaultdict(float)
    in_upload = [False]
    clock = time.perf_counter
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        experiment = Experiment(workspace=workspace(folder), name=EXPERIMENT)
        outputs = folder / "outputs"
        outputs.mkdir()
        data = diabetes()
        with timing_os(spent, in_upload):
            for alpha in alphas(n):
                t0 = clock()
                run = experiment.start_logging()
                t1 = clock()
                run.log("alpha_value", alpha)
                t2 = clock()
                model, metrics = fit_cell({"alpha": alpha}, data, ESTIMATOR, SEED)
                t3 = clock()
                for name in ("rmse", "mae", "r2"):
                    run.log(name, metrics[name])
                t4 = clock()
                path = outputs / model_file_name({"alpha": alpha})
                joblib.dump(value=model, filename=path)
                t5 = clock()
                in_upload[0] = True
                run.upload_file(name=path.name, path_or_stream=str(path))
                in_upload[0] = False
                t6 = clock()
                run.complete()
                t7 = clock()
                for phase, took in zip(
                    PHASES,
                    (t1 - t0, (t2 - t1) + (t4 - t3), t3 - t2, t5 - t4, t6 - t5, t7 - t6),
                    strict=True,
                ):
                    spent[phase] += took
        experiment.workspace.close()
    return {name: 1000 * total / n for name, total in spent.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alphas", type=int, default=1000, help="runs per round")
    parser.add_argument("--repeat", type=int, default=3, help="rounds (medians are shown)")
    args = parser.parse_args(argv)
    if args.alphas < 1 or args.repeat < 1:
        parser.error("--alphas and --repeat take a whole number of at least 1")
    rounds = []
    for number in range(1, args.repeat + 1):
        rounds.append(one_round(args.alphas))
        print(f"round {number}/{args.repeat}: {sum(rounds[-1][p] for p in PHASES):.2f} ms a run")
    ms = {name: median([r.get(name, 0.0) for r in rounds]) for name in (*PHASES, *KERNEL)}
    print(f"\n{args.alphas} alphas; medians of {args.repeat} round(s); ms per run\n")
    print("| phase | ms per run |\n|---|---:|")
    for phase in PHASES:
        print(f"| {phase} | {ms[phase]:.3f} |")
        if phase == "upload_file":
            for name in KERNEL:
                print(f"| - of which os.{name} | {ms[name]:.3f} |")
    tracking = sum(ms[p] for p in TRACKING)
    plain = ms["fit"] + ms["dump"]
    print(f"\ntracking adds {tracking:.2f} ms a run to {plain:.2f} ms of fit and dump: about")
    print(f"{1 + tracking / plain:.2f}x the plain loop, as these phases have it (sweep_bench's")
    print("tracking_loop_s / plain_loop_s is the measured ratio; issue 19's goal is 2)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
