"""`SweepResult`: what a sweep left in the workspace, read back from its records."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sweep.cellruns import cells_frame
from tracking import Experiment, Run, TrackingError

if TYPE_CHECKING:
    import pandas as pd
    from ray.tune import ResultGrid

    from sweep.spec import SweepSpec


@dataclass(frozen=True)
class SweepResult:
    """What a sweep left in the workspace."""

    experiment: Experiment
    best_run: Run | None
    # Every run of the experiment but sweeps' parents (so: the cells, this sweep's and
    # earlier ones'), one row each, in `Experiment.to_dataframe`'s MLflow-style columns.
    runs: pd.DataFrame
    trained: int  # cells trained by this call (a resumed sweep: by its Tune run)
    failed: int  # of those, cells whose run did not complete (nor was canceled)
    reused: int  # cells skipped because a completed run already had them
    tracking_errors: tuple[str, ...] = ()
    result_grid: ResultGrid | None = None  # Ray Tune's results of the sweep's last Tune run
    # The sweep's `hyperdrive` run, whose children are the cells it trained (see
    # sweep.parent); None when it trained nothing (every cell was done already).
    parent_run: Run | None = None
    # Stopped early (Ctrl+C): the runs in flight were canceled; `--resume` finishes it.
    interrupted: bool = False
    canceled: int = 0  # of the cells trained, those whose run was canceled

    @property
    def ok(self) -> bool:
        return self.failed == 0 and not self.tracking_errors and not self.interrupted

    def __repr__(self) -> str:  # short: never the runs' whole table
        best = None if self.best_run is None else self.best_run.id
        counts = f"trained={self.trained}, failed={self.failed}, reused={self.reused}"
        return f"SweepResult(experiment={self.experiment.name!r}, {counts}, best_run={best!r})"

    def _repr_html_(self) -> str:
        from sweep.notebook import sweep_html

        return sweep_html(self)


def read_result(spec: SweepSpec, experiment: Experiment, **counts: Any) -> SweepResult:
    """A sweep's result, read back from the records: its best run and its cells' table;
    `counts` are the result's other fields."""
    try:
        best: Run | None = experiment.get_best_run(spec.metric, mode=spec.mode)
    except TrackingError:
        best = None
    return SweepResult(experiment=experiment, best_run=best, runs=cells_frame(experiment), **counts)
