"""`TrackingCallback`: Ray Tune trials become runs of a tracking experiment.

The Tune adapter: its hooks turn Tune's events into `Op`s for one writer thread, where a
`sweep.recorder.Recorder` writes them. What a run gets:

- params: the trial's config (or, with `cells`, each cell's), nested keys flattened with
  '/' as Ray's logger callbacks do (`{"model": {"alpha": 1}}` -> `model/alpha`);
- metrics: each result's numeric values, flattened the same way (`val/rmse`), less Tune's
  own bookkeeping (`training_iteration`, `time_total_s`, ...);
- files: every checkpoint Tune reports, each file named `<checkpoint folder>/<path>`
  (`checkpoint_000001/model.pkl`). In the workspace's storage it is recorded where it lies,
  by key, size and SHA-256; outside it (Tune's default `~/ray_results`) it is copied in
  once. A checkpoint Tune deletes (`CheckpointConfig(num_to_keep=...)`) keeps its records:
  its file names are added to the run's tag `removed_files`, a JSON list, and a copy made
  of it is deleted as Tune deleted the original (`json.loads(run.get_tags()["removed_files"])`);
- status: `Completed` when the trainable finished (or a scheduler stopped it at its own
  `max_t`), `Failed` with the last line of its error, or `Canceled` when a scheduler
  (ASHA, say) or a stopper ended it early, with properties `stopped_by` (the scheduler's
  or stopper's class name, or `RunConfig.stop` for a stop dict) and `stopped_at_iteration`;
- times: the trial's own start and end, as this driver saw them;
- properties `ray.trial_id`, `ray.node_id`, `ray.job_id` and `host`;
- parent: none by default (the runs are top-level, as `start_logging` runs are); with
  `parent_run`, the runs are its children (`run_sweep` passes its sweep's `hyperdrive` run);
- number: the next of the experiment when the run is first recorded, or, with `queued`,
  that of the queued run its cell takes (`run_sweep` queues its cells in grid order).

A trainable that speaks the cell protocol (`sweep.cells`) reports several grid cells per
trial, each its own run with its own model file. To tell a trial that Tune stopped from
one that ended by itself, `setup` finds Tune's controller among its callers and watches its
stopper: the stopper sees each result before Tune marks it done.

The callback runs in the driver process only (the single writer of a sweep's records: no
database credentials on workers). Its hooks return at once (except that a trial whose
checkpoints Tune deletes has each recorded before Tune may delete it). A trial's run ids
are chosen when the trial starts and kept in Tune's callback state, so the callback is
idempotent per trial: a restored sweep re-attaches each trial to the runs it already had
(or, if that state was lost, finds them by their `ray.trial_id` property). Pickled (into
Tune's `tuner.pkl`), it keeps no workspace: a restoring driver attaches its own
(`sweep.attach`).
"""

from __future__ import annotations

import logging
import numbers
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ray import tune
from ray.tune.result import AUTO_RESULT_KEYS

from sweep import attach
from sweep.cells import CELLS, FILES_AT, NODE_ID, REPEATED, entries_of, flatten, one_run
from sweep.recorder import REMOVED_FILES, CellParams, Properties, QueuedIds, Recorder
from sweep.script import LOGGED, RUN_FILES
from sweep.stops import StopWatch as _StopWatch
from sweep.stops import stopped_by as _stopped_by
from sweep.stops import tune_controller as _tune_controller
from sweep.storage import uri_of
from sweep.trialops import INTERRUPTED, STOPPED_AT, STOPPED_BY, TRIAL_ID
from sweep.trialops import Op as _Op
from sweep.trialops import error_text as _error_text
from sweep.trialops import where_of as _where
from sweep.writer import Writer
from tracking import Experiment, Run
from tracking.records import RunStatus, utcnow

if TYPE_CHECKING:
    from ray.tune.experiment import Trial

log = logging.getLogger(__name__)

# The writer gathers what arrives within this time into one transaction: records lag
# trials by up to a second, and a sweep of short trials writes a few dozen transactions a
# minute instead of several per trial (Tune saving its state ends a window early).
BATCH_WINDOW_S = 1.0
_UNFINISHED = {"PENDING", "PAUSED"}  # Tune's statuses of trials it has not run to the end
_SKIPPED_KEYS = {*AUTO_RESULT_KEYS, "trial_id", "experiment_tag", "done", "should_checkpoint"}

__all__ = ["CELLS", "NODE_ID", "REMOVED_FILES", "TRIAL_ID", "TrackingCallback", "one_run"]


class TrackingCallback(tune.Callback):
    """Record each grid cell of each trial as a run of `experiment`, from the driver.

    Args:
        experiment: the tracking experiment that receives the runs.
        cells: the params of each run of a trial, from its config (default: one run whose
            params are the config).
        properties: extra properties set on every run (for example the sweep's name), or a
            function of the trial and the cell's index that gives them.
        parent_run: a run of `experiment` (or its id) whose children the runs are, say
            `experiment.start_logging()` for your own Tuner; default: none, top-level runs.
            The callback creates no parent itself, and leaves the parent's status to you.
        queued: the ids of the queued runs (`RunStatus.QUEUED`) a trial's runs take, one
            per cell (None: a new run), from the trial's config (`sweep.cellruns`).

    After `Tuner.fit()` returns, `interrupted` says whether Tune stopped early, leaving
    trials unfinished (Ctrl+C: Tune's own handler ends the run and `fit` returns), and
    `unretried` holds the configs of the trials Tune failed while they waited to start or
    to restart (an actor lost as Tune placed or reused it): Ray Tune 2.60 retries only a
    running trial, so these had none of `FailureConfig.max_failures` (`run_sweep` trains
    their cells again).

    Raises:
        NotFoundError: `parent_run` is not a run of `experiment`.
    """

    _parent_run_id: str | None = None  # (a callback pickled before parents existed has none)
    queued: QueuedIds | None = None  # settable: a restored sweep queues its cells anew
    interrupted: bool = False
    unretried: tuple[dict[str, Any], ...] = ()
    _waiting: frozenset[str] = frozenset()  # trial ids retried and not started again

    def __init__(
        self,
        experiment: Experiment,
        *,
        cells: CellParams = one_run,
        properties: Properties | None = None,
        parent_run: Run | str | None = None,
        queued: QueuedIds | None = None,
    ) -> None:
        self.queued = queued
        if parent_run is not None:
            parent_run = Run(
                experiment, parent_run if isinstance(parent_run, str) else parent_run.id
            )
            self._parent_run_id = parent_run.id
        self._bound: Experiment | None = experiment
        self._experiment_name = experiment.name
        self._token = attach.token_for(experiment)
        self._cells = cells
        self._properties = properties
        # Trial id -> its runs' ids, as this callback gave them (Tune's loop); `get_state`
        # adds the recorder's (re-attached trials), read after a flush.
        self._runs: dict[str, list[str]] = {}
        self._logged: dict[str, int] = {}  # trial id -> last training iteration logged
        # Known on Tune's event loop only:
        self._started: dict[str, datetime] = {}  # trial id -> when it started
        self._live: dict[str, Trial] = {}  # trial id -> the trial, started and not ended
        self._stops: dict[str, dict[str, str]] = {}  # trial id -> what stopped it, and when
        self._watch: _StopWatch | None = None
        self._scheduler: Any = None
        self._fresh = True  # False once unpickled: a restored sweep may know its trials
        self._job_id: str | None = None
        self._writer: Writer[_Op] | None = None
        self._recorder: Recorder | None = None
        self.errors: list[str] = []

    # -- Tune's state, saved with the experiment checkpoint ------------------------------
    def get_state(self) -> dict[str, Any]:
        # Written records first: a restored sweep never believes in a run it has not got.
        self.flush()
        if self._recorder is not None:  # its map has the re-attached trials' ids too
            self._runs.update(self._recorder.runs())
        return {"runs": {k: list(v) for k, v in self._runs.items()}, "logged": dict(self._logged)}

    def set_state(self, state: dict[str, Any]) -> None:
        # Before any trial starts: the recorder, made at the first one, copies this map.
        self._runs = {k: list(v) for k, v in state.get("runs", {}).items()}
        self._logged = dict(state.get("logged", {}))
        self._fresh = False

    def __getstate__(self) -> dict[str, Any]:
        # Tune pickles its callbacks into storage: no thread, lock or queue, and no
        # workspace (its database URL may hold a password): the restoring driver attaches
        # its own (sweep.attach). Nor Tune's scheduler or stopper: they are found again.
        empty: dict[str, Any] = {"_writer": None, "_recorder": None, "_watch": None}
        empty.update(_scheduler=None, _live={})
        return {**self.__dict__, **empty, "_bound": None}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._fresh = False
        self._bound = attach.experiment_for(self._experiment_name, self._token, self)

    @property
    def _experiment(self) -> Experiment:
        if self._bound is None:
            self._bound = attach.require(self._experiment_name, self._token, self)
        return self._bound

    @property
    def parent_run_id(self) -> str | None:
        """The run whose children the runs this callback creates are (None: top-level)."""
        return self._parent_run_id

    @parent_run_id.setter
    def parent_run_id(self, run_id: str | None) -> None:
        # Set by a driver that restores a sweep whose parent ended: runs created from now on
        # go to its new parent; those already recorded keep theirs.
        self._parent_run_id = run_id
        if self._recorder is not None:
            self._recorder.parent_run_id = run_id

    def _record(self) -> Recorder:
        if self._recorder is None:
            self._recorder = Recorder(
                lambda: self._experiment,
                self._runs,
                self._cells,
                self._properties,
                self._report,
                self._parent_run_id,
            )
        return self._recorder

    def _submit(self, op: _Op) -> None:
        if self._writer is None:
            recorder = self._record()
            self._writer = Writer(recorder.apply, self._report, BATCH_WINDOW_S)
        self._writer.submit(op)

    def _report(self, message: str) -> None:
        log.warning(message)
        self.errors.append(message)

    def flush(self) -> None:
        """Wait until every record write so far is done (Tune's end of experiment does)."""
        if self._writer is not None:
            self._writer.flush()

    def close(self) -> None:
        """Finish the writes and stop the writer thread."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def cancel_unfinished(self) -> None:
        """End the runs of every trial that started and has not ended `Canceled` (property
        `stopped_by`: `interrupted`), and wait until that is written: the sweep was stopped
        (Ctrl+C). Cells a packed trial finished keep their runs; the others get one each."""
        for trial_id, trial in list(self._live.items()):
            where = {STOPPED_BY: INTERRUPTED}
            self._submit(
                _Op(
                    "end",
                    trial,
                    "cancel its run",
                    started=self._started.pop(trial_id, None),
                    status=RunStatus.CANCELED,
                    where=where,
                )
            )
        self._live.clear()
        self.flush()

    # -- hooks (on Tune's event loop: they only queue writes) ----------------------------
    def setup(self, *args: Any, **info: Any) -> None:
        import ray

        if self._bound is None:  # restored: re-attach now, not mid-sweep in the writer
            self._bound = attach.require(self._experiment_name, self._token, self)
        self._job_id = ray.get_runtime_context().get_job_id()
        controller = _tune_controller()
        if controller is not None:
            self._scheduler = controller.scheduler_alg
            self._watch = _StopWatch.install(controller)

    def on_trial_start(
        self, iteration: int, trials: list[Trial], trial: Trial, **info: Any
    ) -> None:
        now = self._started[trial.trial_id] = utcnow()
        self._live[trial.trial_id] = trial
        self._waiting -= {trial.trial_id}
        known = self._runs.get(trial.trial_id)
        count = len(self._cells(trial.config))
        queued = self._queued(trial, count)
        if known is None and self._fresh:
            ids = self._runs[trial.trial_id] = self._new_ids(queued)
            # The ids travel in the op: the recorder's map is its own, on the writer's
            # thread. A lone cell's run shows as Running while it trains; packed cells are
            # recorded as they finish.
            if count == 1:
                self._submit(_Op("start", trial, "start its run", at=now, started=now, run_ids=ids))
            else:
                self._submit(_Op("assign", trial, "note its runs", run_ids=ids))
        else:
            recorder = self._record()
            self._submit(
                _Op(
                    "call",
                    trial,
                    "re-attach its runs",
                    call=lambda: recorder.reattach(trial, known, now, queued),
                )
            )

    def on_trial_result(
        self, iteration: int, trials: list[Trial], trial: Trial, result: dict[str, Any], **info: Any
    ) -> None:
        if result.get("done"):
            self._note_stop(trial, result)
        if CELLS in result:
            return  # recorded with their checkpoint, in on_checkpoint
        step = int(result.get("training_iteration", 0))
        if step <= self._logged.get(trial.trial_id, 0):
            return  # a retried trial reporting a result that is already logged
        self._logged[trial.trial_id] = step
        repeated = set(result.get(REPEATED, ()))  # a `sweep.script` trial's last report
        values = {k: v for k, v in result.items() if k not in _SKIPPED_KEYS | repeated}
        metrics: list[tuple[str, float]] = [
            (key, float(value))
            for key, value in flatten(values).items()
            if not key.startswith("tracking.")
            and isinstance(value, numbers.Real)
            and not isinstance(value, bool)
        ]
        if metrics:
            self._submit(_Op("metrics", trial, "log its metrics", metrics=metrics))
        if result.get(LOGGED):  # a `sweep.script` trial's run: text, lists, rows, tags...
            events, recorder = list(result[LOGGED]), self._record()
            call = lambda: recorder.log_values(trial, events)  # noqa: E731
            self._submit(_Op("call", trial, "log its values", call=call))

    def _note_stop(self, trial: Trial, result: Mapping[str, Any]) -> None:
        """Tune marks a result done when it decided to stop the trial on it: say who did."""
        verdict = self._watch.verdicts.pop(trial.trial_id, None) if self._watch else None
        who = _stopped_by(trial, result, verdict, self._scheduler)
        if who is not None:
            step = str(result.get("training_iteration", ""))
            self._stops[trial.trial_id] = {STOPPED_BY: who, STOPPED_AT: step}

    def on_checkpoint(
        self, iteration: int, trials: list[Trial], trial: Trial, checkpoint: Any, **info: Any
    ) -> None:
        # Tune saves a result's checkpoint after the result's hooks, and holds the trial
        # until it has: the trial's last result is the one this checkpoint came with.
        result = trial.last_result or {}
        started = self._started.get(trial.trial_id)
        if CELLS in result:
            if entries := entries_of(result[CELLS]):
                self._submit(
                    _Op(
                        "cells",
                        trial,
                        "record its finished cells",
                        started=started,
                        entries=entries,
                        root=result.get(FILES_AT) or uri_of(checkpoint.path, checkpoint.filesystem),
                        where=_where(result, self._job_id),
                    )
                )
            return
        keep = getattr(getattr(trial, "checkpoint_config", None), "num_to_keep", None)
        # A `sweep.script` trial's last checkpoint holds run files (`outputs/...`,
        # `logs/std_log.txt`): each of its folders is recorded under its own name.
        folders = result.get(RUN_FILES)
        for path in [f"{checkpoint.path}/{f}" for f in folders] if folders else [checkpoint.path]:
            self._submit(
                _Op(
                    "checkpoint",
                    trial,
                    "record its checkpoint",
                    started=started,
                    path=path,
                    filesystem=checkpoint.filesystem,
                    keep=keep,
                )
            )
        if keep is not None:
            # Tune deletes the checkpoints beyond `num_to_keep` as this hook returns: the
            # ones it may delete are read (hashed or copied) first.
            self.flush()

    def _queued(self, trial: Trial, count: int) -> list[str | None]:
        """The queued run of each of the trial's `count` cells (None: it has none)."""
        return [*(self.queued(trial.config) if self.queued else ()), *[None] * count][:count]

    @staticmethod
    def _new_ids(queued: list[str | None]) -> list[str]:
        """The run id of each cell: its queued run's, else a new one."""
        return [q or str(uuid.uuid4()) for q in queued]

    def _assign_unstarted(self, trial: Trial) -> None:
        """A trial Tune retries or fails before it ever started (its actor never ran: its
        node was lost, say) gets its cells' runs now, so that they end as it does."""
        if trial.trial_id in self._runs or not self._fresh:
            return
        queued = self._queued(trial, len(self._cells(trial.config)))
        ids = self._runs[trial.trial_id] = self._new_ids(queued)
        self._submit(_Op("assign", trial, "note its runs", run_ids=ids))

    def on_trial_recover(
        self, iteration: int, trials: list[Trial], trial: Trial, **info: Any
    ) -> None:
        self._assign_unstarted(trial)
        self._waiting |= {trial.trial_id}
        self._stops.pop(trial.trial_id, None)
        recorder = self._record()
        self._submit(_Op("call", trial, "note its retry", call=lambda: recorder.note_retry(trial)))

    def on_trial_complete(
        self, iteration: int, trials: list[Trial], trial: Trial, **info: Any
    ) -> None:
        where = _where(dict(trial.last_result or {}), self._job_id)
        self._live.pop(trial.trial_id, None)
        stop = self._stops.pop(trial.trial_id, None)
        if self._watch is not None:
            self._watch.verdicts.pop(trial.trial_id, None)
        self._submit(
            _Op(
                "end",
                trial,
                "complete its run",
                started=self._started.pop(trial.trial_id, None),
                status=RunStatus.CANCELED if stop else RunStatus.COMPLETED,
                where={**where, **(stop or {})},
            )
        )

    def on_trial_error(
        self, iteration: int, trials: list[Trial], trial: Trial, **info: Any
    ) -> None:
        self._assign_unstarted(trial)
        if trial.trial_id in self._waiting or trial.trial_id not in self._live:
            self.unretried = (*self.unretried, dict(trial.config))
        self._waiting -= {trial.trial_id}
        result = dict(trial.last_result or {})
        self._live.pop(trial.trial_id, None)
        self._stops.pop(trial.trial_id, None)
        self._submit(
            _Op(
                "end",
                trial,
                "record its failure",
                started=self._started.pop(trial.trial_id, None),
                status=RunStatus.FAILED,
                error=_error_text(trial),
                where=_where(result, self._job_id),
            )
        )

    def on_experiment_end(self, trials: list[Trial], **info: Any) -> None:
        # Tune also ends the experiment when it is interrupted (Ctrl+C), and then marks the
        # running trials terminated without their hooks: a trial this callback saw start
        # and not end, or one never started, is left unfinished.
        self.interrupted = bool(self._started) or any(
            getattr(trial, "status", None) in _UNFINISHED for trial in trials
        )
        if self.interrupted:
            self.cancel_unfinished()  # not left Running until a heartbeat check fails them
        self.flush()
