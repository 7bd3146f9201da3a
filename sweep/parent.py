"""A sweep's parent run: one `hyperdrive` run per sweep, whose children are its cells' runs.

As HyperDrive does in Azure ML v1, a sweep shows as one top-level run of its experiment
(`experiment.get_runs()`), and its cells as that run's children (`parent.get_children()`,
`parent.get_best_run_by_primary_metric()`). The parent is created by the driver before any
cell's run, beats with the sweep's other running runs, and ends with the sweep:

- `Completed` when the Tune run ends by itself, even with failed cells (property
  `failed_cells` counts them, `trained_cells` the cells the sweep trained);
- `Canceled` when the sweep is interrupted (Ctrl+C: Tune stops early, or KeyboardInterrupt);
- `Failed`, with the error, when the driver raises.

Which parent a Tune run's cells belong to is kept in the record store's key-value table
(namespace `sweep-parent`, keyed by the Tune run's name). `--resume` re-uses the parent of
the Tune run it restores while that parent is still `Running` (its driver was killed and its
heartbeat has not yet timed out); a parent that has ended (interrupted, failed, or failed as
lost) stays as it ended, and the resumed sweep gets a new parent, as v1's `resume_from` gives
a new HyperDrive run. A rerun without `--resume` (one that extends a grid, say) is a new
sweep with a new parent. Either way, cells re-used from an earlier sweep keep their old parent.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import socket
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sweep.space import Distribution
from tracking import Experiment, NotFoundError, Run, TrackingError
from tracking.errors import RunFinishedError
from tracking.records import SWEEP_RUN as HYPERDRIVE
from tracking.records import RunStatus, utcnow

if TYPE_CHECKING:
    from sweep.spec import SweepSpec

log = logging.getLogger(__name__)

NAMESPACE = "sweep-parent"  # key: a Tune run's name; value: the id of its sweep's parent run
FAILED_CELLS = "failed_cells"
TRAINED_CELLS = "trained_cells"
GOALS = {"min": "minimize", "max": "maximize"}  # HyperDrive's PrimaryMetricGoal names


def spec_digest(spec: SweepSpec) -> str:
    """SHA-256 of what decides a sweep's cells and results: grid (or random search),
    estimator, data, seed and the folds of CV (named only when set, as in cell keys)."""
    what = {
        "grid": [[name, _values(values)] for name, values in spec.grid],
        "estimator": spec.trainer,
        "data": [spec.data.path, spec.data.target, spec.data.test_size],
        "seed": spec.seed,
        "metric": spec.metric,
        **({"cv": spec.cv} if spec.cv is not None else {}),
        **({"search": spec.search, "samples": spec.samples} if spec.search != "grid" else {}),
        **({"early_stop": repr(spec.early_stop)} if spec.early_stop is not None else {}),
    }
    text = json.dumps(what, sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()


def _values(values: Any) -> Any:
    """A grid parameter's values, or its distribution's text (a random search)."""
    return str(values) if isinstance(values, Distribution) else list(values)


def cells_of(spec: SweepSpec) -> int:
    """How many cells the sweep has in all."""
    if spec.search != "grid":
        return spec.samples or 0
    return math.prod(len(values) for _, values in spec.grid)


def parent_properties(spec: SweepSpec, name: str, cells: int) -> dict[str, str]:
    """A new parent's properties: its primary metric as HyperDrive names it, and its grid."""
    return {
        "primary_metric_name": spec.metric,
        "primary_metric_goal": GOALS[spec.mode],
        "sweep.name": name,
        "sweep.estimator": spec.trainer,
        "sweep.grid_sha256": spec_digest(spec),
        "sweep.grid_cells": str(cells_of(spec)),
        "sweep.cells_to_train": str(cells),
        "host": socket.gethostname(),
    }


@dataclass
class SweepParent:
    """The parent run of the sweep that this driver runs (see the module's docstring)."""

    experiment: Experiment
    run_id: str
    reused: bool = False  # an earlier driver's parent, still Running, taken over

    @classmethod
    def open(
        cls, experiment: Experiment, spec: SweepSpec, *, name: str, cells: int, resumes: str | None
    ) -> SweepParent:
        """The parent of a sweep that starts training now: the one of the Tune run it
        `resumes` if that is still running, else a new one (before any cell's run).

        Args:
            name: the sweep's name (its first Tune run's), shown in the parent's name.
            cells: how many grid cells the sweep is to train.
            resumes: the Tune run that the sweep restores, if any.

        Raises:
            TrackingError: the database failed.
        """
        records = experiment.workspace.records
        if resumes is not None:
            found = records.get_value(NAMESPACE, resumes)
            if found is not None and _take_over(experiment, found):
                experiment.workspace.heartbeat.add([found])
                return cls(experiment, found, reused=True)
        record = records.create_run(
            experiment.id,
            str(uuid.uuid4()),
            display_name=f"sweep {name}",
            properties=parent_properties(spec, name, cells),
            run_type=HYPERDRIVE,
        )
        experiment.workspace.heartbeat.add([record.run_id])
        return cls(experiment, record.run_id)

    def adopt(self, tune_run: str) -> None:
        """Note that `tune_run`'s cells are this parent's children (for a later resume).

        Raises:
            TrackingError: the database failed.
        """
        self.experiment.workspace.records.set_value(NAMESPACE, tune_run, self.run_id)

    def finish(
        self,
        status: RunStatus,
        *,
        error: str | None = None,
        properties: dict[str, str] | None = None,
    ) -> str | None:
        """End the parent run; returns what went wrong doing so (never raises)."""
        workspace = self.experiment.workspace
        try:
            workspace.records.set_status(
                self.run_id, status, error=error, end_time=utcnow(), properties=properties
            )
        except RunFinishedError:  # ended elsewhere first (canceled, say): it stays as it is
            return None
        except TrackingError as err:  # the heartbeat check fails it once this driver ends
            message = f"could not end the sweep's parent run {self.run_id}: {err}"
            log.warning(message)
            return message
        finally:
            workspace.heartbeat.discard([self.run_id])
        return None

    @property
    def run(self) -> Run:
        """The parent, as a `tracking.Run` read now."""
        return Run(self.experiment, self.run_id)


def _take_over(experiment: Experiment, run_id: str) -> bool:
    """Whether the parent `run_id` is still running, so this driver can take it over.

    It beats first: from then on, a check for lost runs spares it for a full timeout.
    """
    records = experiment.workspace.records
    try:
        records.heartbeat([run_id])
        record = records.get_run(run_id)
    except NotFoundError:
        return False
    return (
        record.experiment_id == experiment.id
        and record.run_type == HYPERDRIVE
        and record.status is RunStatus.RUNNING
    )
