"""`TrackingCallback`: Ray Tune trials become runs of a tracking experiment.

It runs in the driver process only (the single writer of a sweep's records: no database
credentials on workers). It is idempotent per trial: a restored sweep re-attaches each trial
to the run it already had, through the trial-to-run map kept in Tune's callback state or,
if that state was lost, through the run's `ray.trial_id` property.
"""

from __future__ import annotations

import logging
import numbers
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ray import tune
from ray.tune.result import AUTO_RESULT_KEYS

from tracking import Experiment, Run, TrackingError

if TYPE_CHECKING:
    from ray.tune.experiment import Trial

log = logging.getLogger(__name__)

TRIAL_ID = "ray.trial_id"
_SKIPPED_KEYS = {*AUTO_RESULT_KEYS, "trial_id", "experiment_tag", "done", "should_checkpoint"}


def checkpoint_uri(path: str, filesystem: Any) -> str:
    """The URI of a checkpoint path on its pyarrow filesystem (local or S3)."""
    if type(filesystem).__name__ == "S3FileSystem":
        return f"s3://{path.lstrip('/')}"
    return Path(path).absolute().as_uri()


class TrackingCallback(tune.Callback):
    """Record each trial as a run of `experiment`, from the driver.

    Args:
        experiment: the tracking experiment that receives one run per trial.
        params: how to get a trial's params from its config (default: the config itself).
        properties: extra properties set on every run (for example the sweep's name).
        file_info: how to get the model file of a finished trial from its last result, as
            (file name, SHA-256, size); None makes the callback record every file of the
            trial's last checkpoint, reading each once for its hash.
    """

    def __init__(
        self,
        experiment: Experiment,
        *,
        params: Callable[[Mapping[str, Any]], Mapping[str, Any]] | None = None,
        properties: Mapping[str, Any] | Callable[[Trial], Mapping[str, Any]] | None = None,
        file_info: Callable[[Mapping[str, Any]], tuple[str, str, int] | None] | None = None,
    ) -> None:
        self._experiment = experiment
        self._params = params or (lambda config: config)
        self._properties = properties
        self._file_info = file_info
        self._run_ids: dict[str, str] = {}  # trial id -> run id: the state Tune saves
        self._logged: dict[str, int] = {}  # trial id -> last training iteration logged
        self._runs: dict[str, Run] = {}
        self._finished: set[str] = set()
        self.errors: list[str] = []
        self._job_id: str | None = None

    # -- Tune's state, saved with the experiment checkpoint ------------------------------
    def get_state(self) -> dict[str, Any]:
        return {"run_ids": dict(self._run_ids), "logged": dict(self._logged)}

    def set_state(self, state: dict[str, Any]) -> None:
        self._run_ids = dict(state.get("run_ids", {}))
        self._logged = dict(state.get("logged", {}))

    def __getstate__(self) -> dict[str, Any]:
        # Tune pickles its callbacks with the experiment: keep the ids, not the live runs.
        return {**self.__dict__, "_runs": {}}

    @property
    def run_ids(self) -> dict[str, str]:
        """Trial id -> run id, for every trial seen."""
        return dict(self._run_ids)

    def _guard(self, trial: Trial, what: str, action: Callable[[], object]) -> None:
        """Run a write; a tracking failure is reported, and never fails the trial."""
        try:
            action()
        except TrackingError as err:
            message = f"trial {trial.trial_id}: could not {what}: {err}"
            log.warning(message)
            self.errors.append(message)

    def _run(self, trial: Trial) -> Run:
        run = self._runs.get(trial.trial_id)
        if run is None:
            run = self._attach(trial)
            self._runs[trial.trial_id] = run
            if run.get_status() != "Running":
                self._finished.add(trial.trial_id)  # a re-run of a trial already recorded
        return run

    def _attach(self, trial: Trial) -> Run:
        run_id = self._run_ids.get(trial.trial_id)
        if run_id is not None:
            return Run(self._experiment, run_id)
        records = self._experiment.workspace.records
        found = records.find_runs_by_property(self._experiment.id, TRIAL_ID, trial.trial_id)
        if found:
            run = Run._of(self._experiment, found[-1])
        else:
            extra = self._properties(trial) if callable(self._properties) else self._properties
            run = self._experiment.start_logging(
                display_name=str(trial),
                properties={TRIAL_ID: trial.trial_id, **(extra or {})},
            )
            params = self._params(trial.config)
            if params:
                run.log_params(params)
        self._run_ids[trial.trial_id] = run.id
        return run

    # -- hooks -------------------------------------------------------------------------
    def setup(self, *args: Any, **info: Any) -> None:
        import ray

        self._job_id = ray.get_runtime_context().get_job_id()

    def on_trial_start(
        self, iteration: int, trials: list[Trial], trial: Trial, **info: Any
    ) -> None:
        self._guard(trial, "start its run", lambda: self._run(trial))

    def on_trial_result(
        self, iteration: int, trials: list[Trial], trial: Trial, result: dict[str, Any], **info: Any
    ) -> None:
        def write() -> None:
            run = self._run(trial)
            step = int(result.get("training_iteration", 0))
            if trial.trial_id in self._finished or step <= self._logged.get(trial.trial_id, 0):
                return  # a retried trial reporting a result that is already logged
            metrics = {
                key: float(value)
                for key, value in result.items()
                if key not in _SKIPPED_KEYS
                and not key.startswith("tracking.")
                and isinstance(value, numbers.Real)
                and not isinstance(value, bool)
            }
            if metrics:
                run.log_metrics(metrics)
            self._logged[trial.trial_id] = step

        self._guard(trial, "log its metrics", write)

    def on_trial_recover(
        self, iteration: int, trials: list[Trial], trial: Trial, **info: Any
    ) -> None:
        def write() -> None:
            attempts = int(self._run(trial).tags.get("ray.retries", "0")) + 1
            self._run(trial).set_tags({"ray.retries": attempts})

        self._guard(trial, "note its retry", write)

    def on_trial_complete(
        self, iteration: int, trials: list[Trial], trial: Trial, **info: Any
    ) -> None:
        def write() -> None:
            run = self._run(trial)
            if trial.trial_id in self._finished:
                return
            result = trial.last_result or {}
            run.add_properties(_where(result, self._job_id))
            self._register_files(run, trial, result)
            run.complete()
            self._finished.add(trial.trial_id)

        self._guard(trial, "complete its run", write)

    def on_trial_error(
        self, iteration: int, trials: list[Trial], trial: Trial, **info: Any
    ) -> None:
        def write() -> None:
            run = self._run(trial)
            if trial.trial_id in self._finished:
                return
            run.add_properties(_where(trial.last_result or {}, self._job_id))
            run.fail(error_details=_error_text(trial))
            self._finished.add(trial.trial_id)

        self._guard(trial, "record its failure", write)

    def _register_files(self, run: Run, trial: Trial, result: Mapping[str, Any]) -> None:
        checkpoint = trial.checkpoint
        if checkpoint is None:
            return
        root = checkpoint_uri(checkpoint.path, checkpoint.filesystem)
        info = self._file_info(result) if self._file_info else None
        if info is not None:
            name, sha256, size = info
            run.register_file(name, f"{root}/{name}", size=size, sha256=sha256)
            return
        from pyarrow import fs

        if checkpoint.filesystem is None:
            return
        selector = fs.FileSelector(checkpoint.path, recursive=True)
        for entry in checkpoint.filesystem.get_file_info(selector):
            if entry.type == fs.FileType.File:
                name = entry.path[len(checkpoint.path) :].lstrip("/")
                run.register_file(name, f"{root}/{name}")


def _where(result: Mapping[str, Any], job_id: str | None) -> dict[str, str]:
    """The properties that say where a trial ran: its driver's job, and its node and host."""
    where = {"ray.job_id": job_id} if job_id else {}
    if result.get("tracking.node_id"):
        where["ray.node_id"] = str(result["tracking.node_id"])
    if result.get("hostname"):
        where["host"] = str(result["hostname"])
    return where


def _error_text(trial: Trial) -> str:
    """The last line of the trial's latest error: the exception that ended it."""
    text = ""
    # Tune writes the error file in the driver's trial folder first and syncs it to
    # storage later, so the local copy is the one that exists now.
    if trial.error_file and Path(trial.error_file).is_file():
        text = Path(trial.error_file).read_text(errors="replace")
    else:
        text = str(trial.get_error() or "")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "the trial failed without an error message"
