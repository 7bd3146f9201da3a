"""What the records say about a sweep's grid cells: their runs, which are done, and counts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from tracking import Experiment, Run
from tracking.records import SWEEP_RUN as HYPERDRIVE
from tracking.records import RunRecord, RunStatus

if TYPE_CHECKING:
    import pandas as pd

SWEEP_RUN = "sweep.tune_run"  # property: the Tune run that recorded a cell's run
SWEEP_CELL = "sweep.cell"  # property: the grid cell a run trained, as `SweepSpec.cell_key`


def cell_runs(experiment: Experiment, status: str | None = None) -> Iterator[Run]:
    """The runs of the experiment's sweep cells, newest first: children of the sweeps'
    parent runs (and top-level ones, recorded before sweeps had parents)."""
    return experiment.get_runs(properties=SWEEP_CELL, include_children=True, status=status)


def completed_cells(experiment: Experiment) -> set[str]:
    """The cell keys of the experiment's completed sweep runs."""
    return {run.properties[SWEEP_CELL] for run in cell_runs(experiment, "Completed")}


def runs_of(experiment: Experiment, tune_run: str) -> list[RunRecord]:
    """The runs that one Tune run of a sweep recorded."""
    return experiment.workspace.records.find_runs_by_property(experiment.id, SWEEP_RUN, tune_run)


def last_tune_run(experiment: Experiment) -> str | None:
    for run in cell_runs(experiment):
        if SWEEP_RUN in run.properties:
            return run.properties[SWEEP_RUN]
    return None


def cell_counts(experiment: Experiment, tune_runs: list[str]) -> tuple[int, int, int]:
    """How many cells the sweep's Tune runs trained; of those, how many failed (none of
    their runs completed; a resumed cell has a lost one too) and how many were canceled
    (their latest run, when the sweep was interrupted)."""
    ran = [run for name in tune_runs for run in runs_of(experiment, name)]
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
