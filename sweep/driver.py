"""`run_sweep`: check a sweep, run its grid on Ray Tune, and record every trial as a run."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from sweep.claim import Claim, acquire
from sweep.data import Dataset, load_dataset
from sweep.errors import SweepInputError
from sweep.parent import FAILED_CELLS, TRAINED_CELLS
from sweep.spec import SweepSpec
from tracking import Experiment, Run, TrackingError, Workspace
from tracking.records import SWEEP_RUN as HYPERDRIVE
from tracking.records import RunRecord, RunStatus

if TYPE_CHECKING:
    import pandas as pd
    from ray.tune import ResultGrid
    from ray.tune.experiment import Trial

SWEEP_RUN = "sweep.tune_run"
SWEEP_CELL = "sweep.cell"


@dataclass(frozen=True)
class SweepResult:
    """What a sweep left in the workspace."""

    experiment: Experiment
    best_run: Run | None
    # Every run of the experiment but sweeps' parents (so: the cells, this sweep's and
    # earlier ones'), one row each, in `Experiment.to_dataframe`'s MLflow-style columns.
    runs: pd.DataFrame
    trained: int  # cells trained by this call (a resumed sweep: by its Tune run)
    failed: int  # of those, cells whose run did not complete
    reused: int  # cells skipped because a completed run already had them
    tracking_errors: tuple[str, ...] = ()
    result_grid: ResultGrid | None = None  # Ray Tune's results of the sweep's last Tune run
    # The sweep's `hyperdrive` run, whose children are the cells it trained (see
    # sweep.parent); None when it trained nothing (every cell was done already).
    parent_run: Run | None = None

    @property
    def ok(self) -> bool:
        return self.failed == 0 and not self.tracking_errors


@dataclass(frozen=True)
class PreparedSweep:
    """A sweep whose inputs have all been checked: nothing here can fail for bad input."""

    spec: SweepSpec
    workspace: Workspace
    experiment: Experiment
    data: Dataset
    todo: list[dict[str, Any]] = field(default_factory=list)
    reused: int = 0
    claim: Claim | None = None  # the experiment is this sweep's until `execute` ends
    name: str = ""  # the sweep's name: its new Tune run's


def sweep_name(experiment: str) -> str:
    """A new sweep's name (its Tune run's, and its folder's in storage)."""
    return f"{experiment}-{datetime.now(timezone.utc):%Y%m%d-%H%M%S-%f}"


def prepare(
    spec: SweepSpec,
    workspace: Workspace | None = None,
    *,
    runtime_env: Mapping[str, Any] | None = None,
) -> PreparedSweep:
    """Check everything a sweep needs before Ray starts, then claim its experiment.

    While another sweep of the experiment runs (from any driver), this waits for it to end,
    saying so on stderr, so that it trains only what that sweep left (see `sweep.claim`).

    Args:
        runtime_env: Ray's runtime environment for the sweep's job (passed to `ray.init`).

    Raises:
        SweepInputError: bad data, grid or estimator; a `runtime_env` for a Ray already
            connected in this process.
        TrackingError: the workspace config, database or storage is unusable.
    """
    ws = workspace or Workspace.from_config(spec.config)
    if spec.storage:
        ws = ws.with_storage(spec.storage)
    if spec.address and spec.address != "auto":
        _check_reachable(spec.address)
    data = load_dataset(spec.data, seed=spec.seed, s3_endpoint_url=ws.config.s3_endpoint_url)
    ws.artifacts.check_writable()
    # Last: a refused connection (say, no token) writes nothing.
    connect_ray(spec.address, runtime_env)
    # Every check has passed: only now is anything written to the workspace.
    experiment = Experiment(ws, spec.experiment)
    experiment.set_primary_metric(spec.metric, spec.mode)
    name = sweep_name(spec.experiment)
    claim = acquire(experiment, name)
    try:  # the cells done are read under the claim: no other sweep adds to them now
        done = completed_cells(experiment)
    except BaseException:
        claim.release()
        raise
    cells = spec.cells()
    todo = [cell for cell in cells if spec.cell_key(cell) not in done]
    return PreparedSweep(spec, ws, experiment, data, todo, len(cells) - len(todo), claim, name)


def cell_runs(experiment: Experiment, status: str | None = None) -> Iterator[Run]:
    """The runs of the experiment's sweep cells, newest first: children of the sweeps'
    parent runs (and top-level ones, recorded before sweeps had parents)."""
    return experiment.get_runs(properties=SWEEP_CELL, include_children=True, status=status)


def completed_cells(experiment: Experiment) -> set[str]:
    """The cell keys of the experiment's completed sweep runs."""
    return {run.properties[SWEEP_CELL] for run in cell_runs(experiment, "Completed")}


def run_sweep(
    spec: SweepSpec | None = None,
    *,
    workspace: Workspace | None = None,
    progress: bool = True,
    runtime_env: Mapping[str, Any] | None = None,
    **options: Any,
) -> SweepResult:
    """Run a sweep from Python (a notebook), as `python -m sweep.launch` does.

    Args:
        spec: the sweep; or give its fields as keyword options, e.g.
            `run_sweep(alphas=[0.1, 0.5, 1.0], experiment="diabetes-experiment")`.
        workspace: where runs are recorded (default: `Workspace.from_config(spec.config)`).
        progress: show progress on stderr.
        runtime_env: Ray's runtime environment for the sweep's job, as `ray.init` takes it
            (say `{"working_dir": "."}`, so that a cluster's workers import your code);
            only when this call connects to Ray.

    Returns:
        The experiment, its best run, the sweep's parent run (a `hyperdrive` run whose
        children are the cells it trained; see `sweep.parent`), a DataFrame of the
        experiment's cells (every run but sweeps' parents), counts, and Tune's `ResultGrid`.
    """
    if spec is None:
        spec = SweepSpec.create(**options)
    elif options:
        raise SweepInputError(f"give either a spec or options, not both: {sorted(options)}")
    return execute(prepare(spec, workspace, runtime_env=runtime_env), progress=progress)


def connect_ray(address: str | None, runtime_env: Mapping[str, Any] | None = None) -> None:
    """Start a local Ray instance, or connect to the cluster at `address`.

    The workers' output (a trainable's prints, its tracebacks) reaches this process's
    console, as Ray shows it by default.

    Raises:
        SweepInputError: nothing answers at `address`; a `runtime_env` for a Ray already
            connected in this process (it cannot change).
    """
    import ray

    if ray.is_initialized():
        if runtime_env:
            raise SweepInputError(
                "Ray is already connected in this process, so run_sweep cannot give it a "
                "runtime_env: pass runtime_env to your own ray.init(...) instead"
            )
        return
    try:
        ray.init(
            address=address,
            runtime_env=dict(runtime_env) if runtime_env else None,
            logging_level=logging.ERROR,  # Ray's own driver-side logs; not the workers'
            include_dashboard=False if address is None else None,
        )
    except Exception as err:  # Ray raises several kinds: refused, no token, wrong version
        text = str(err).strip()
        # Ray's messages run to several sentences of advice: the first says what is wrong.
        message = text.split(". ")[0].splitlines()[0] if text else type(err).__name__
        where = f"the Ray cluster at {address}" if address else "a local Ray instance"
        raise SweepInputError(f"cannot connect to {where}: {message}") from None


def _check_reachable(address: str) -> None:
    parsed = urlparse(address if "://" in address else f"gcs://{address}")
    default_port = 10001 if parsed.scheme == "ray" else 6379
    host, port = parsed.hostname or "127.0.0.1", parsed.port or default_port
    try:
        socket.create_connection((host, port), timeout=5).close()
    except OSError as err:
        raise SweepInputError(
            f"the Ray cluster address {address!r} does not answer "
            f"({host}:{port}: {err.strerror or err})"
        ) from None


def trial_cells(config: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The grid cells a sweep trial trains: each becomes a run with these params."""
    return list(config["cells"])


@dataclass(frozen=True)
class _CellProperties:
    """The properties that tie a run to its sweep and grid cell (picklable, for Tune)."""

    spec: SweepSpec
    tune_run: str

    def __call__(self, trial: Trial, index: int) -> dict[str, str]:
        cell = trial.config["cells"][index]
        return {SWEEP_RUN: self.tune_run, SWEEP_CELL: self.spec.cell_key(cell)}


def trial_slots(spec: SweepSpec) -> int:
    """How many trials the cluster can run at once (for `pack="auto"`)."""
    import ray

    cpus = float(ray.cluster_resources().get("CPU", 1))
    slots = max(1, int(cpus // spec.cpus_per_trial))
    return min(slots, spec.max_concurrent) if spec.max_concurrent else slots


def packs(cells: list[dict[str, Any]], size: int) -> list[list[dict[str, Any]]]:
    """The cells in consecutive groups of `size`: one Tune trial each."""
    return [cells[i : i + size] for i in range(0, len(cells), size)]


def _runs_of(experiment: Experiment, tune_run: str) -> list[RunRecord]:
    """The runs that one Tune run of a sweep recorded."""
    return experiment.workspace.records.find_runs_by_property(experiment.id, SWEEP_RUN, tune_run)


def _last_tune_run(experiment: Experiment) -> str | None:
    for run in cell_runs(experiment):
        if SWEEP_RUN in run.properties:
            return run.properties[SWEEP_RUN]
    return None


def execute(prepared: PreparedSweep, *, progress: bool = True) -> SweepResult:
    """Run a prepared sweep on Ray Tune (resuming its last Tune run if asked); then end its
    claim on the experiment.

    Raises:
        SweepRefusedError: asked to resume, the sweep's saved state in storage is not what
            its driver wrote (nothing of it was unpickled).
    """
    try:
        return _execute(prepared, progress)
    finally:
        if prepared.claim is not None:
            prepared.claim.release()


def _execute(prepared: PreparedSweep, progress: bool) -> SweepResult:
    from ray import tune

    from sweep import attach, statecheck
    from sweep.callback import TrackingCallback
    from sweep.parent import SweepParent
    from sweep.progress import ProgressCallback
    from sweep.trainable import train_cells

    spec, experiment = prepared.spec, prepared.experiment
    connect_ray(spec.address)  # already connected by prepare(), unless called alone
    from sweep.storage import tune_storage

    storage_path, filesystem = tune_storage(prepared.workspace)
    trainable = tune.with_resources(
        tune.with_parameters(
            train_cells,
            data=prepared.data,
            estimator=spec.estimator,
            seed=spec.seed,
            retries=spec.max_failures,
        ),
        {"cpu": spec.cpus_per_trial},
    )
    name = prepared.name or sweep_name(spec.experiment)
    tracker_errors: list[str] = []
    tune_runs: list[str] = []
    grids: list[ResultGrid] = []
    parent: SweepParent | None = None

    def open_parent(resumes: str | None) -> SweepParent:
        """The sweep's parent run, before any cell's (see `sweep.parent`)."""
        cells = len(prepared.todo)
        return parent or SweepParent.open(experiment, spec, name=name, cells=cells, resumes=resumes)

    def fit(tuner: tune.Tuner, callbacks: list[Any]) -> bool:
        """Run a Tune run; returns whether Tune stopped it early (Ctrl+C)."""
        trackers = [c for c in callbacks if isinstance(c, TrackingCallback)]
        try:
            with _tune_quiet():
                grids.append(tuner.fit())
        finally:
            for tracker in trackers:
                tracker.close()  # every record written before the results are read
        for tracker in trackers:
            tracker_errors.extend(tracker.errors)
        return any(tracker.interrupted for tracker in trackers)

    todo = prepared.todo
    interrupted = False
    previous = _last_tune_run(experiment) if spec.resume else None
    try:
        if previous is not None:
            path = f"{storage_path}/{previous}"
            if tune.Tuner.can_restore(path, storage_filesystem=filesystem):
                statecheck.verify(experiment, previous, path, filesystem)  # before any unpickling
                parent = open_parent(previous)
                parent.adopt(previous)
                tune_runs.append(previous)
                # Its callbacks come out of storage without a workspace: they take this one.
                with attach.attached(experiment) as restored:
                    tuner = tune.Tuner.restore(
                        path, trainable, resume_unfinished=True, storage_filesystem=filesystem
                    )
                    for callback in restored:  # its cells' new runs: this sweep's children
                        if isinstance(callback, TrackingCallback):
                            callback.parent_run_id = parent.run_id
                    interrupted = fit(tuner, restored)
                done = completed_cells(experiment)
                ran = _runs_of(experiment, previous)
                attempted = {run.properties.get(SWEEP_CELL) for run in ran}
                todo = [c for c in todo if spec.cell_key(c) not in done | attempted]

        if todo and not interrupted:
            parent = open_parent(None)
            parent.adopt(name)
            tracker = TrackingCallback(
                experiment,
                cells=trial_cells,
                properties=_CellProperties(spec, name),
                parent_run=parent.run_id,
            )
            callbacks: list[tune.Callback] = [tracker, statecheck.StateRecorder(experiment, name)]
            if progress:
                callbacks.append(ProgressCallback(len(todo), spec.metric, spec.mode))
            size = spec.pack_size(len(todo), trial_slots(spec))
            tune_runs.append(name)
            tuner = tune.Tuner(
                trainable,
                param_space={"cells": tune.grid_search(packs(todo, size))},
                # Reused trial actors: a small model trains in milliseconds, while starting a
                # fresh worker process for each trial costs seconds.
                tune_config=tune.TuneConfig(
                    max_concurrent_trials=spec.max_concurrent, reuse_actors=True
                ),
                run_config=tune.RunConfig(
                    name=name,
                    storage_path=storage_path,
                    storage_filesystem=filesystem,
                    callbacks=callbacks,
                    failure_config=tune.FailureConfig(max_failures=spec.max_failures),
                    verbose=0,
                ),
            )
            # Tuner() has just written tuner.pkl: its digest goes on record before any trial
            # runs.
            statecheck.record_tuner_file(experiment, name, f"{storage_path}/{name}", filesystem)
            interrupted = fit(tuner, [tracker])
        trained, failed = _cell_counts(experiment, tune_runs)
    except BaseException as err:
        if parent is not None:
            if isinstance(err, KeyboardInterrupt):
                parent.finish(RunStatus.CANCELED)
            else:
                parent.finish(RunStatus.FAILED, error=f"{type(err).__name__}: {err}")
        raise
    if parent is not None:
        ended = RunStatus.CANCELED if interrupted else RunStatus.COMPLETED
        counts = {FAILED_CELLS: str(failed), TRAINED_CELLS: str(trained)}
        if problem := parent.finish(ended, properties=counts):
            tracker_errors.append(problem)
    try:
        best: Run | None = experiment.get_best_run(spec.metric, mode=spec.mode)
    except TrackingError:
        best = None
    return SweepResult(
        experiment=experiment,
        best_run=best,
        runs=cells_frame(experiment),
        trained=trained,
        failed=failed,
        reused=prepared.reused,
        tracking_errors=tuple(tracker_errors),
        result_grid=grids[-1] if grids else None,
        parent_run=None if parent is None else parent.run,
    )


def _cell_counts(experiment: Experiment, tune_runs: list[str]) -> tuple[int, int]:
    """How many cells the sweep's Tune runs trained, and how many of those failed: none of
    their runs completed (a resumed cell has a lost one too)."""
    ran = [run for name in tune_runs for run in _runs_of(experiment, name)]
    cells = {run.properties.get(SWEEP_CELL) for run in ran}
    completed = {run.properties.get(SWEEP_CELL) for run in ran if run.status is RunStatus.COMPLETED}
    return len(cells), len(cells - completed)


def cells_frame(experiment: Experiment) -> pd.DataFrame:
    """The experiment's runs but sweeps' parents, in `Experiment.to_dataframe`'s columns;
    columns only parents had values in are left out."""
    frame = experiment.to_dataframe()
    cells = frame[frame["type"] != HYPERDRIVE].reset_index(drop=True)
    empty = [
        column
        for column in cells.columns
        if column.startswith(("params.", "metrics.", "tags.", "properties."))
        and cells[column].isna().all()
    ]
    return cells.drop(columns=empty)


# Ray Tune's own console tables and per-trial result files: the tracking records and our
# progress line replace them. Tune reads these in the driver while it runs a sweep.
_TUNE_QUIET = {"RAY_AIR_NEW_OUTPUT": "0", "TUNE_DISABLE_AUTO_CALLBACK_LOGGERS": "1"}


@contextmanager
def _tune_quiet() -> Iterator[None]:
    """While inside, Tune keeps quiet (unless the caller's environment says otherwise);
    after, the environment is as it was: a notebook's later Tuners keep their loggers."""
    before = {name: os.environ.get(name) for name in _TUNE_QUIET}
    for name, value in _TUNE_QUIET.items():
        os.environ.setdefault(name, value)
    try:
        yield
    finally:
        for name, old in before.items():
            if old is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = old
