"""What the records say about a sweep's grid cells: their runs, which are done, and counts;
and the queued runs a sweep makes for its cells before training them.

A sweep queues a run for each cell it is about to train, in grid order and in one write,
so that run numbers follow the grid and the whole sweep shows from its first second; a
trial takes its cells' queued runs (`QueuedCells`, kept in Tune's state with the callback).
Cells a sweep never got to (stopped by Ctrl+C) end `Canceled` without having run; a
resumed sweep queues the cells it still has to train again, in grid order.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sweep.cells import cells_of, flatten
from sweep.trialops import INTERRUPTED, STOPPED_BY, TRIAL_ID
from tracking import Experiment, Run
from tracking.heartbeat import is_lost
from tracking.records import SWEEP_RUN as HYPERDRIVE
from tracking.records import NewRun, RunRecord, RunStatus, utcnow

if TYPE_CHECKING:
    import pandas as pd

    from sweep.spec import SweepSpec

SWEEP_RUN = "sweep.tune_run"  # property: the Tune run that recorded a cell's run
SWEEP_CELL = "sweep.cell"  # property: the grid cell a run trained, as `SweepSpec.cell_key`


def cell_runs(experiment: Experiment, status: str | None = None) -> Iterator[Run]:
    """The runs of the experiment's sweep cells, newest first: children of the sweeps'
    parent runs (and top-level ones, recorded before sweeps had parents)."""
    return experiment.get_runs(properties=SWEEP_CELL, include_children=True, status=status)


def completed_cells(experiment: Experiment) -> set[str]:
    """The cell keys of the experiment's sweep runs that completed, or that an early
    stopping policy stopped (its verdict on the cell stands; Ctrl+C's does not)."""
    done = {run.properties[SWEEP_CELL] for run in cell_runs(experiment, "Completed")}
    return done | {run.properties[SWEEP_CELL] for run in _stopped_by_policy(experiment)}


def _stopped_by_policy(experiment: Experiment) -> Iterator[Run]:
    for run in cell_runs(experiment, "Canceled"):
        if run.properties.get(STOPPED_BY, INTERRUPTED) != INTERRUPTED:
            yield run


def finished_results(experiment: Experiment, spec: SweepSpec) -> list[tuple[dict[str, Any], float]]:
    """Each cell of this sweep's trainer and seed that a run completed (or a policy
    stopped), oldest first: (its params, the last value of its primary metric), as a
    Bayesian search's warm start takes them. A run without a finite value is left out."""
    found: dict[str, tuple[dict[str, Any], float]] = {}
    runs = [*cell_runs(experiment, "Completed"), *_stopped_by_policy(experiment)]
    for run in sorted(runs, key=lambda run: run.number):
        key = run.properties[SWEEP_CELL]
        if key in found or not spec.owns_key(key):
            continue
        value = run.get_metrics().get(spec.metric)
        value = value[-1] if isinstance(value, list) and value else value
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value == value:
            found[key] = (json.loads(key)["params"], float(value))
    return list(found.values())


def runs_of(experiment: Experiment, tune_run: str) -> list[RunRecord]:
    """The runs that one Tune run of a sweep recorded."""
    return experiment.workspace.records.find_runs_by_property(experiment.id, SWEEP_RUN, tune_run)


def last_tune_run(experiment: Experiment) -> str | None:
    for run in cell_runs(experiment):
        if SWEEP_RUN in run.properties:
            return run.properties[SWEEP_RUN]
    return None


def cell_counts(runs: Iterable[RunRecord]) -> tuple[int, int, int]:
    """How many cells the runs of a sweep's Tune runs (`runs_of`) trained; of those, how
    many failed (none of their runs completed; a resumed cell has a lost one too) and how
    many were canceled (their latest run, when the sweep was interrupted). A run that never
    started (still queued, or canceled in the queue) trained nothing."""
    ran = [run for run in runs if TRIAL_ID in run.properties or run.status is RunStatus.COMPLETED]
    latest: dict[str | None, RunRecord] = {}
    for run in sorted(ran, key=lambda run: run.number):
        latest[run.properties.get(SWEEP_CELL)] = run
    completed = {run.properties.get(SWEEP_CELL) for run in ran if run.status is RunStatus.COMPLETED}
    canceled = {
        cell
        for cell, run in latest.items()
        if run.status is RunStatus.CANCELED and cell not in completed
    }
    return len(latest), len(set(latest) - completed - canceled), len(canceled)


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


@dataclass(frozen=True)
class QueuedCells:
    """The queued run each grid cell of a trial takes, by the cell's key (picklable: Tune
    keeps it in its state with the callback)."""

    spec: SweepSpec
    ids: Mapping[str, str]  # cell key -> its queued run's id

    def __call__(self, config: Mapping[str, Any]) -> list[str | None]:
        return [self.ids.get(self.spec.cell_key(cell)) for cell in cells_of(config["cells"])]


def queue_cells(
    experiment: Experiment,
    spec: SweepSpec,
    cells: Sequence[Mapping[str, Any]],
    tune_run: str,
    parent_run_id: str | None,
) -> QueuedCells:
    """Queue a run for each cell, numbered in the cells' order, in one write; this process
    beats for them until they end."""
    keyed = [(spec.cell_key(cell), flatten(cell)) for cell in cells]
    return QueuedCells(spec, _queue(experiment, keyed, tune_run, parent_run_id))


def _queue(
    experiment: Experiment,
    keyed: Sequence[tuple[str, Mapping[str, Any]]],
    tune_run: str,
    parent_run_id: str | None,
) -> dict[str, str]:
    now = utcnow()
    runs = [
        NewRun(
            str(uuid.uuid4()),
            now,
            params=params,
            properties={SWEEP_RUN: tune_run, SWEEP_CELL: key},
            status=RunStatus.QUEUED,
            parent_run_id=parent_run_id,
        )
        for key, params in keyed
    ]
    ws = experiment.workspace
    ws.records.record_runs(experiment.id, runs)
    ws.heartbeat.add(run.run_id for run in runs)
    return {run.properties[SWEEP_CELL]: run.run_id for run in runs}


def cancel_queued(experiment: Experiment, runs: Iterable[RunRecord]) -> list[RunRecord]:
    """End those of a Tune run's runs (`runs_of`) that are still queued `Canceled` (property
    `stopped_by`: `interrupted`) in one write, with no time spent running; returns them as
    they were."""
    ws = experiment.workspace
    left = [run for run in runs if run.status is RunStatus.QUEUED]
    if not left:
        return []
    ended = [
        NewRun(
            run.run_id,
            run.start_time,
            run.display_name,
            {**run.properties, STOPPED_BY: INTERRUPTED},
            ws.records.get_params(run.run_id),
            status=RunStatus.CANCELED,
            end_time=run.start_time,
            tags=run.tags,
            parent_run_id=run.parent_run_id,
        )
        for run in left
    ]
    ws.records.record_runs(experiment.id, ended)
    ws.heartbeat.discard(run.run_id for run in left)
    return left


def requeue(
    experiment: Experiment, spec: SweepSpec, tune_run: str, parent_run_id: str | None
) -> QueuedCells:
    """The queued runs of the cells a Tune run being restored has still to train: a run
    still queued (its driver was killed) is kept, with its number; a cell whose run was
    canceled when its sweep was stopped, or lost with its driver, is queued again, in grid
    order (its old run stays as it ended)."""
    latest = latest_runs(experiment, tune_run)
    done = completed_cells(experiment)
    waiting = still_queued(experiment, tune_run)
    experiment.workspace.heartbeat.add(waiting.values())

    def again(run: RunRecord) -> bool:
        stopped = run.status is RunStatus.CANCELED and run.properties.get(STOPPED_BY) == INTERRUPTED
        return stopped or is_lost(run)

    redo = [run for key, run in latest.items() if key not in done and again(run)]
    records = experiment.workspace.records
    keyed = [(run.properties[SWEEP_CELL], records.get_params(run.run_id)) for run in redo]
    return QueuedCells(spec, {**waiting, **_queue(experiment, keyed, tune_run, parent_run_id)})


def latest_runs(experiment: Experiment, tune_run: str) -> dict[str, RunRecord]:
    """Each cell's latest run (by number) of a Tune run, by the cell's key, in the order the
    cells were first numbered (the grid's)."""
    latest: dict[str, RunRecord] = {}
    for run in sorted(runs_of(experiment, tune_run), key=lambda run: run.number):
        if SWEEP_CELL in run.properties:
            latest[run.properties[SWEEP_CELL]] = run
    return latest


def still_queued(experiment: Experiment, tune_run: str) -> dict[str, str]:
    """The cells of a Tune run whose latest run is still queued: key -> run id."""
    latest = latest_runs(experiment, tune_run).items()
    return {key: run.run_id for key, run in latest if run.status is RunStatus.QUEUED}


def failed_cells(experiment: Experiment, tune_run: str) -> set[str]:
    """The cells whose latest run of a Tune run failed (not lost with its driver): a resume
    does not train them again (a plain rerun does)."""
    latest = latest_runs(experiment, tune_run).items()
    return {key for key, run in latest if run.status is RunStatus.FAILED and not is_lost(run)}
