"""`run_sweep`: check a sweep, run its grid on Ray Tune, and record every trial as a run."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from sweep.cellruns import (
    SWEEP_CELL,
    SWEEP_RUN,
    QueuedCells,
    cancel_queued,
    cell_counts,
    completed_cells,
    failed_cells,
    finished_results,
    last_tune_run,
    queue_cells,
    requeue,
    runs_of,
    still_queued,
)
from sweep.cells import cells_of, pack_value
from sweep.claim import Claim, acquire
from sweep.data import Dataset, load_dataset
from sweep.errors import SweepInputError
from sweep.parent import FAILED_CELLS, TRAINED_CELLS
from sweep.raystart import check_reachable, connect_ray, trials_ended, tune_quiet
from sweep.result import SweepResult, read_result
from sweep.spec import SweepSpec
from sweep.status import Status
from tracking import Experiment, TrackingError, Workspace
from tracking.records import ARGUMENTS, SCRIPT, RunRecord, RunStatus

if TYPE_CHECKING:
    from ray.tune import ResultGrid
    from ray.tune.experiment import Trial


@dataclass(frozen=True)
class PreparedSweep:
    """A sweep whose inputs have all been checked: nothing here can fail for bad input."""

    spec: SweepSpec
    workspace: Workspace
    experiment: Experiment
    data: Dataset | None  # None: the user's code trains the cells, with its own data
    todo: list[dict[str, Any]] = field(default_factory=list)
    reused: int = 0
    claim: Claim | None = None  # the experiment is this sweep's until `execute` ends
    name: str = ""  # the sweep's name: its new Tune run's
    status: Status | None = None  # told what the sweep does, as it does it
    # A Bayesian search, whose cells are chosen as it runs: how many it has left to draw,
    # and the (params, metric value) of those done, which warm-start its searcher.
    left: int = 0
    warm: tuple[tuple[dict[str, Any], float], ...] = ()


def sweep_name(experiment: str) -> str:
    """A new sweep's name (its Tune run's, and its folder's in storage)."""
    return f"{experiment}-{datetime.now(timezone.utc):%Y%m%d-%H%M%S-%f}"


@dataclass(frozen=True)
class CheckedSweep:
    """A sweep whose inputs have all passed their checks; nothing written, no Ray."""

    spec: SweepSpec
    workspace: Workspace
    data: Dataset | None
    done: frozenset[str]  # cell keys with a completed run, as read before any claim


def check(spec: SweepSpec, workspace: Workspace | None = None) -> CheckedSweep:
    """Every check of a sweep's inputs, before Ray starts and before anything is written.

    Raises:
        SweepInputError: bad data, grid or estimator; a cluster address nothing answers at.
        TrackingError: the workspace config, database or storage is unusable.
    """
    ws = workspace or Workspace.from_config(spec.config)
    if spec.storage:
        ws = ws.with_storage(spec.storage)
    if spec.address and spec.address != "auto":
        check_reachable(spec.address)
    data = None
    if not spec.user_code:
        data = load_dataset(spec.data, seed=spec.seed, s3_endpoint_url=ws.config.s3_endpoint_url)
    if data is not None and spec.cv is not None and spec.cv > len(data.y_train):
        raise SweepInputError(
            f"cv {spec.cv} is more folds than the {len(data.y_train)} rows of the train part"
        )
    ws.artifacts.check_writable()
    known = ws.experiments.get(spec.experiment)  # read only: a new experiment is made later
    done = completed_cells(known) if known is not None else set()
    return CheckedSweep(spec, ws, data, frozenset(done))


def prepare(
    spec: SweepSpec | CheckedSweep,
    workspace: Workspace | None = None,
    *,
    runtime_env: Mapping[str, Any] | None = None,
    status: Status | None = None,
) -> PreparedSweep:
    """Check everything a sweep needs (see `check`), start or join Ray, then claim its
    experiment. When every cell of the grid already has a completed run, Ray is not
    started and nothing is claimed: the prepared sweep has nothing to do.

    While another sweep of the experiment runs (from any driver), this waits for it to end,
    saying so on stderr, so that it trains only what that sweep left (see `sweep.claim`).

    Args:
        spec: the sweep, or one that `check` has passed.
        runtime_env: Ray's runtime environment for the sweep's job (passed to `ray.init`).
        status: told what happens, as it happens (Ray starting, say).

    Raises:
        SweepInputError: bad data, grid or estimator; Ray cannot be started or joined; a
            `runtime_env` for a Ray already connected in this process.
        TrackingError: the workspace config, database or storage is unusable.
    """
    checked = spec if isinstance(spec, CheckedSweep) else check(spec, workspace)
    spec, ws, data = checked.spec, checked.workspace, checked.data
    status = status or Status(quiet=True)
    if spec.adaptive:
        return _prepare_adaptive(checked, runtime_env, status)
    cells = spec.cells()
    name = sweep_name(spec.experiment)
    if not spec.fresh and all(spec.cell_key(cell) in checked.done for cell in cells):
        experiment = Experiment(ws, spec.experiment)  # it exists: only its metric is set
        experiment.set_primary_metric(spec.metric, spec.mode)
        return PreparedSweep(spec, ws, experiment, data, [], len(cells), None, name, status)
    # Last: a refused connection (say, no token) writes nothing.
    connect_ray(spec.address, runtime_env, status)
    # Every check has passed: only now is anything written to the workspace.
    experiment = Experiment(ws, spec.experiment)
    experiment.set_primary_metric(spec.metric, spec.mode)
    claim = acquire(experiment, name)
    try:  # the cells done are read under the claim: no other sweep adds to them now
        done = set() if spec.fresh else completed_cells(experiment)
    except BaseException:
        claim.release()
        raise
    todo = [cell for cell in cells if spec.cell_key(cell) not in done]
    return PreparedSweep(
        spec, ws, experiment, data, todo, len(cells) - len(todo), claim, name, status
    )


def _prepare_adaptive(
    checked: CheckedSweep, runtime_env: Mapping[str, Any] | None, status: Status
) -> PreparedSweep:
    """`prepare` for a Bayesian search: its cells are drawn as it runs, so what is left is
    a count (`samples` less the cells of this trainer and seed done before, which also
    warm-start its searcher)."""
    spec, ws, data = checked.spec, checked.workspace, checked.data
    name = sweep_name(spec.experiment)
    samples = int(spec.samples or 0)
    if not spec.fresh and ws.experiments.get(spec.experiment) is not None:  # read only
        experiment = Experiment(ws, spec.experiment)
        if len(finished_results(experiment, spec)) >= samples:  # nothing left to draw
            experiment.set_primary_metric(spec.metric, spec.mode)
            return PreparedSweep(spec, ws, experiment, data, [], samples, None, name, status)
    connect_ray(spec.address, runtime_env, status)
    experiment = Experiment(ws, spec.experiment)
    experiment.set_primary_metric(spec.metric, spec.mode)
    claim = acquire(experiment, name)
    try:
        warm = () if spec.fresh else tuple(finished_results(experiment, spec))[:samples]
    except BaseException:
        claim.release()
        raise
    left = samples - len(warm)
    return PreparedSweep(spec, ws, experiment, data, [], len(warm), claim, name, status, left, warm)


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
            `run_sweep(alphas=[0.1, 0.5, 1.0], experiment="diabetes-experiment")`, or, for
            your own training function, `run_sweep(train=fn, params={"lr": "0.1,0.01"},
            metric="loss", mode="min")`, where `fn(config)` logs to `Run.get_context()`.
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
    from sweep.notebook import in_notebook

    # In a notebook, the phases are the cell's own text, not a pink box of warnings.
    status = Status(quiet=not progress, stream=sys.stdout if in_notebook() else None)
    prepared = prepare(spec, workspace, runtime_env=runtime_env, status=status)
    return execute(prepared, progress=progress)


def trial_cells(config: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The grid cells a sweep trial trains: each becomes a run with these params."""
    return cells_of(config["cells"])


@dataclass(frozen=True)
class _CellProperties:
    """The properties that tie a run to its sweep and grid cell (picklable, for Tune)."""

    spec: SweepSpec
    tune_run: str

    def __call__(self, trial: Trial, index: int) -> dict[str, str]:
        cell = cells_of(trial.config["cells"])[index]
        keys = {SWEEP_RUN: self.tune_run, SWEEP_CELL: self.spec.cell_key(cell)}
        return {**keys, **script_properties(self.spec, cell)}


@dataclass(frozen=True)
class _DrawnProperties:
    """A Bayesian search's cell properties: the cell is the trial's config, as drawn."""

    spec: SweepSpec
    tune_run: str

    def __call__(self, trial: Trial, index: int) -> dict[str, str]:
        keys = {SWEEP_RUN: self.tune_run, SWEEP_CELL: self.spec.cell_key(trial.config)}
        return {**keys, **script_properties(self.spec, trial.config)}


def script_properties(spec: SweepSpec, cell: Mapping[str, Any]) -> dict[str, str]:
    """A script cell's script and arguments, as `get_details()["runDefinition"]` shows them."""
    if spec.script is None:
        return {}
    from sweep.script import arguments

    return {SCRIPT: spec.script, ARGUMENTS: json.dumps([*spec.script_args, *arguments(cell)])}


def make_trainable(spec: SweepSpec, data: Dataset | None) -> Any:
    """The sweep's Tune trainable: the built-in one (`sweep.trainable`) or the user's script
    or function (`sweep.script`), taking the grid cells of `config["cells"]`, or, for a
    Bayesian search, the config itself as its one cell."""
    from ray import tune

    from sweep import script, trainable

    if spec.user_code:
        if spec.script is not None:
            own = script.script_trainable(spec.script, spec.script_args)
        else:
            assert spec.train is not None
            own = script.function_trainable(spec.train)
        chosen = own if spec.adaptive else script.first_cell(own)
    else:
        chosen = tune.with_parameters(
            trainable.train_drawn if spec.adaptive else trainable.train_cells,
            data=data,
            estimator=spec.estimator,
            seed=spec.seed,
            retries=spec.max_failures,
            cv=spec.cv,
        )
    return tune.with_resources(chosen, {"cpu": spec.cpus_per_trial})


def trial_slots(spec: SweepSpec) -> int:
    """How many trials the cluster can run at once (for `pack="auto"`)."""
    import ray

    cpus = float(ray.cluster_resources().get("CPU", 1))
    slots = max(1, int(cpus // spec.cpus_per_trial))
    return min(slots, spec.max_concurrent) if spec.max_concurrent else slots


def packs(cells: list[dict[str, Any]], size: int) -> list[str | list[dict[str, Any]]]:
    """The cells in consecutive groups of `size`: one Tune trial each (see `pack_value`)."""
    return [pack_value(cells[i : i + size]) for i in range(0, len(cells), size)]


def execute(
    prepared: PreparedSweep,
    *,
    progress: bool = True,
    on_parent: Callable[[str], None] | None = None,
) -> SweepResult:
    """Run a prepared sweep on Ray Tune (resuming its last Tune run if asked); then end its
    claim on the experiment.

    Raises:
        SweepRefusedError: asked to resume, the sweep's saved state in storage is not what
            its driver wrote (nothing of it was unpickled).
    """
    try:
        return _execute(prepared, progress, on_parent)
    finally:
        if prepared.claim is not None:
            prepared.claim.release()


def _verify_saved_state(prepared: PreparedSweep) -> None:
    """Check the last Tune run's saved state, as a resume would before restoring it."""
    from sweep import statecheck
    from sweep.storage import tune_storage

    previous = last_tune_run(prepared.experiment)
    if previous is None:
        return
    storage_path, filesystem = tune_storage(prepared.workspace)
    statecheck.verify(prepared.experiment, previous, f"{storage_path}/{previous}", filesystem)


def _execute(
    prepared: PreparedSweep, progress: bool, on_parent: Callable[[str], None] | None
) -> SweepResult:
    spec, experiment = prepared.spec, prepared.experiment
    if not prepared.todo and not prepared.left:  # all done: no Ray, no Tune run, no parent
        if spec.resume:
            _verify_saved_state(prepared)  # asked to resume: tampered state still says so
        return _result(prepared, trained=0, failed=0)
    from ray import tune

    from sweep import attach, notebook, statecheck, stops
    from sweep.callback import TrackingCallback
    from sweep.parent import SweepParent

    status = prepared.status or Status(quiet=not progress)
    connect_ray(spec.address, status=status)  # connected by prepare(), unless called alone
    from sweep.storage import tune_storage

    storage_path, filesystem = tune_storage(prepared.workspace)
    trainable = make_trainable(spec, prepared.data)
    name = prepared.name or sweep_name(spec.experiment)
    tracker_errors: list[str] = []
    tune_runs: list[str] = []
    grids: list[ResultGrid] = []
    parent: SweepParent | None = None

    def open_parent(resumes: str | None) -> SweepParent:
        """The sweep's parent run, before any cell's (see `sweep.parent`)."""
        cells = prepared.left if spec.adaptive else len(prepared.todo)
        if parent is not None:
            return parent
        opened = SweepParent.open(experiment, spec, name=name, cells=cells, resumes=resumes)
        if on_parent is not None:
            on_parent(opened.run_id)
        return opened

    def unqueue(tune_run: str, runs: list[RunRecord] | None = None) -> None:
        """Cancel the Tune run's cells still queued (of `runs`, its runs as read): they
        will not start."""
        try:
            cancel_queued(experiment, runs_of(experiment, tune_run) if runs is None else runs)
        except TrackingError as err:  # a heartbeat check fails them once this driver ends
            tracker_errors.append(f"could not cancel the cells never started: {err}")

    def fit(tuner: tune.Tuner, callbacks: list[Any]) -> bool:
        """Run a Tune run; returns whether Tune stopped it early (Ctrl+C)."""
        trackers = [c for c in callbacks if isinstance(c, TrackingCallback)]
        try:
            with tune_quiet():
                grids.append(tuner.fit())
        except BaseException:  # a second Ctrl+C, say: the runs in flight end Canceled
            for tracker in trackers:
                tracker.cancel_unfinished()
            raise
        finally:
            trials_ended()  # their last output reaches this console before it exits
            for tracker in trackers:
                tracker.close()  # every record written before the results are read
        for tracker in trackers:
            tracker_errors.extend(tracker.errors)
        return any(tracker.interrupted for tracker in trackers)

    def new_tune_run(
        cells: list[dict[str, Any]], run_name: str, waiting: Mapping[str, str], again: bool
    ) -> tuple[bool, TrackingCallback]:
        """Train `cells` (a Bayesian search: its draws) in a new Tune run of the parent;
        returns whether it was stopped early, and the run's tracker. `waiting`: cell key ->
        the run a restored Tune run left queued for it."""
        assert parent is not None
        parent.adopt(run_name)
        search: dict[str, Any] = {}
        if spec.adaptive:
            from sweep.space import searcher

            search["search_alg"], param_space, count = searcher(
                spec.search,
                dict(spec.grid),
                metric=spec.metric,
                mode=spec.mode,
                seed=spec.seed,
                samples=int(spec.samples or 0),
                done=prepared.warm,
            )
            search["num_samples"], size = count, 1
            tracker = TrackingCallback(
                experiment,
                properties=_DrawnProperties(spec, run_name),
                parent_run=parent.run_id,
            )
        else:
            fresh = [c for c in cells if spec.cell_key(c) not in waiting]
            new = queue_cells(experiment, spec, fresh, run_name, parent.run_id).ids
            tracker = TrackingCallback(
                experiment,
                cells=trial_cells,
                properties=_CellProperties(spec, run_name),
                parent_run=parent.run_id,
                # Every cell's run, queued in grid order: numbers follow the grid.
                queued=QueuedCells(spec, {**waiting, **new}),
            )
            count = len(cells)
            size = spec.pack_size(count, trial_slots(spec))
            param_space = {"cells": tune.grid_search(packs(cells, size))}
        if spec.early_stop is not None:
            search["scheduler"] = spec.early_stop.scheduler(spec.metric, spec.mode)
        callbacks: list[tune.Callback] = [tracker, statecheck.StateRecorder(experiment, run_name)]
        if again:
            status.say(f"training again {_n_cells(count)} whose trial was lost before it ran")
        else:
            status.say(_training(count, prepared.reused, size))
        if progress:
            ws, started = prepared.workspace, status.wall_started
            callbacks.append(notebook.progress_callback(count, spec, ws, started=started))
        tune_runs.append(run_name)
        canceled = stops.ParentCanceled(experiment, parent.run_id)
        tuner = tune.Tuner(
            trainable,
            param_space=param_space,
            # Reused trial actors: a small model trains in milliseconds, while starting a
            # fresh worker process for each trial costs seconds.
            tune_config=tune.TuneConfig(
                max_concurrent_trials=spec.max_concurrent,
                reuse_actors=True,
                time_budget_s=spec.time_budget_s,
                **search,
            ),
            run_config=tune.RunConfig(
                name=run_name,
                storage_path=storage_path,
                storage_filesystem=filesystem,
                callbacks=callbacks,
                failure_config=tune.FailureConfig(max_failures=spec.max_failures),
                # The parent canceled (`run.cancel()`, from anywhere) stops the sweep.
                stop=canceled,
                verbose=0,
                progress_reporter=notebook.silent_tune_reporter(),  # keeps a cell's output
            ),
        )
        # Tuner() has just written tuner.pkl: its digest goes on record before any trial
        # runs.
        statecheck.record_tuner_file(experiment, run_name, f"{storage_path}/{run_name}", filesystem)
        return fit(tuner, [tracker]) or canceled.stop_all(), tracker

    todo = prepared.todo
    waiting: dict[str, str] = {}  # cell key -> its run, queued by a restored Tune run
    interrupted = False
    # A Bayesian search resumes by running again: its cells done are kept, and warm-start it.
    previous = last_tune_run(experiment) if spec.resume and not spec.adaptive else None
    try:
        if previous is not None:
            path = f"{storage_path}/{previous}"
            if tune.Tuner.can_restore(path, storage_filesystem=filesystem):
                statecheck.verify(experiment, previous, path, filesystem)  # before any unpickling
                status.say(f"restoring sweep {previous} from storage")
                parent = open_parent(previous)
                parent.adopt(previous)
                tune_runs.append(previous)
                # Its callbacks come out of storage without a workspace: they take this one.
                with attach.attached(experiment) as restored:
                    tuner = tune.Tuner.restore(
                        path, trainable, resume_unfinished=True, storage_filesystem=filesystem
                    )
                    # Its cells' new runs: this sweep's children, queued in grid order.
                    queued = requeue(experiment, spec, previous, parent.run_id)
                    for callback in restored:
                        if isinstance(callback, TrackingCallback):
                            callback.parent_run_id = parent.run_id
                            callback.queued = queued
                    interrupted = fit(tuner, restored)
                # What the restored trials did not train (Tune restores only the trials it
                # had not ended) gets a new Tune run, in the runs still queued for it.
                skipped = completed_cells(experiment) | failed_cells(experiment, previous)
                todo = [c for c in todo if spec.cell_key(c) not in skipped]
                waiting = still_queued(experiment, previous)

        if (todo or prepared.left) and not interrupted:
            parent = open_parent(None)
            interrupted, tracker = new_tune_run(todo, name, waiting, again=False)
            # Cells whose trial Tune failed as it waited to (re)start get a Tune run of their
            # own, once for each retry `max_failures` allows (Tune has used none of them).
            retries = spec.max_failures
            while not interrupted and not spec.adaptive and retries != 0 and tracker.unretried:
                finished = completed_cells(experiment)
                lost = [
                    dict(cell)
                    for config in tracker.unretried
                    for cell in trial_cells(config)
                    if spec.cell_key(cell) not in finished
                ]
                if not lost:
                    break
                retries -= 1
                rerun = sweep_name(spec.experiment)
                interrupted, tracker = new_tune_run(lost, rerun, {}, again=True)
        ran: list[RunRecord] = []
        for tune_run in tune_runs:  # cells never started (stopped early) are not left waiting
            runs = runs_of(experiment, tune_run)
            unqueue(tune_run, runs)
            ran.extend(runs)
        trained, failed, canceled = cell_counts(ran)
    except BaseException as err:
        for tune_run in {name, *tune_runs}:
            unqueue(tune_run)
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
    return _result(
        prepared,
        trained=trained,
        failed=failed,
        canceled=canceled,
        interrupted=interrupted,
        tracking_errors=tuple(tracker_errors),
        result_grid=grids[-1] if grids else None,
        parent_run=None if parent is None else parent.run,
    )


def _n_cells(count: int) -> str:
    """`1 cell`, `3 cells`."""
    return f"{count} cell{'s' if count != 1 else ''}"


def _training(cells: int, reused: int, size: int) -> str:
    """`training 10 cells (2 already done), 5 per trial`: what a new Tune run does."""
    text = f"training {_n_cells(cells)}"
    if reused:
        text += f" ({reused} already done)"
    return text + (f", {size} per trial" if size > 1 else "")


def _result(prepared: PreparedSweep, **counts: Any) -> SweepResult:
    """The sweep's result, read back from the records."""
    return read_result(prepared.spec, prepared.experiment, reused=prepared.reused, **counts)
