"""`TrackingCallback`: Ray Tune trials become runs of a tracking experiment.

Each grid cell of a trial becomes one run. A trial's config holds one cell, or several
when the sweep packs cells into trials; a trainable that speaks this callback's protocol
reports finished cells under the result key `tracking.cells`, one entry each:
`{"index", "metrics", "file", "sha256", "size", "attempts"}`, or `{"index", "error",
"attempts"}` for a cell that failed, with a checkpoint holding those cells' model files.
Any other trainable is one run per trial: its numeric results are the run's metrics and its
last checkpoint's files are the run's files.

The callback runs in the driver process only (the single writer of a sweep's records: no
database credentials on workers). Its hooks return at once: the record writes go, in
order, to one background thread, so the database never holds up Tune's event loop. A
trial's run ids are chosen when the trial starts and kept in Tune's callback state, so the
callback is idempotent per trial: a restored sweep re-attaches each trial to the runs it
already had (or, if that state was lost, finds them by their `ray.trial_id` property).
Pickled (into Tune's `tuner.pkl`), it keeps no workspace: a restoring driver attaches its
own (`sweep.attach`). A run whose record the database refuses is recorded Failed, saying so;
the other runs of its batch are recorded one at a time.
"""

from __future__ import annotations

import logging
import numbers
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pyarrow import fs
from ray import tune
from ray.tune.result import AUTO_RESULT_KEYS

from sweep import attach
from sweep.trialops import NODE_ID, REFUSED, checkpoint_uri, one_run, why
from sweep.trialops import Change as _Change
from sweep.trialops import Op as _Op
from sweep.trialops import error_text as _error_text
from sweep.trialops import where_of as _where
from sweep.writer import Writer
from tracking import Experiment, TrackingError
from tracking.errors import ValidationError
from tracking.heartbeat import LOST
from tracking.records import FileRecord, NewRun, RunStatus, utcnow

if TYPE_CHECKING:
    from ray.tune.experiment import Trial

    from tracking.stores.base import RecordStore

log = logging.getLogger(__name__)

TRIAL_ID = "ray.trial_id"
TRIAL_CELL = "ray.trial_cell"  # the run's place among its trial's cells
RETRIES = "ray.retries"
CELLS = "tracking.cells"  # result key: the cells a trial finished since its last report
# The writer gathers what arrives within this time into one transaction: records lag
# trials by up to a second, and a sweep of short trials writes a few dozen transactions a
# minute instead of several per trial (Tune saving its state ends a window early).
BATCH_WINDOW_S = 1.0
_SKIPPED_KEYS = {*AUTO_RESULT_KEYS, "trial_id", "experiment_tag", "done", "should_checkpoint"}

CellParams = Callable[[Mapping[str, Any]], Sequence[Mapping[str, Any]]]
Properties = Mapping[str, Any] | Callable[["Trial", int], Mapping[str, Any]]
__all__ = ["CELLS", "NODE_ID", "TrackingCallback", "checkpoint_uri", "one_run"]


class TrackingCallback(tune.Callback):
    """Record each grid cell of each trial as a run of `experiment`, from the driver.

    Args:
        experiment: the tracking experiment that receives the runs.
        cells: the params of each run of a trial, from its config (default: one run whose
            params are the config).
        properties: extra properties set on every run (for example the sweep's name), or a
            function of the trial and the cell's index that gives them.
    """

    def __init__(
        self,
        experiment: Experiment,
        *,
        cells: CellParams = one_run,
        properties: Properties | None = None,
    ) -> None:
        self._bound: Experiment | None = experiment
        self._experiment_name = experiment.name
        self._token = attach.token_for(experiment)
        self._cells = cells
        self._properties = properties
        self._runs: dict[str, list[str]] = {}  # trial id -> its runs' ids: the state Tune saves
        self._logged: dict[str, int] = {}  # trial id -> last training iteration logged
        # Known on the writer thread only:
        self._created: set[str] = set()  # runs written to the store
        self._finished: set[str] = set()  # runs whose end is written
        self._retries: dict[str, int] = {}  # trial id -> times Tune restarted it
        self._fresh = True  # False once unpickled: a restored sweep may know its trials
        self._job_id: str | None = None
        self._writer: Writer[_Op] | None = None
        self.errors: list[str] = []

    # -- Tune's state, saved with the experiment checkpoint ------------------------------
    def get_state(self) -> dict[str, Any]:
        # Written records first: a restored sweep never believes in a run it has not got.
        self.flush()
        return {"runs": {k: list(v) for k, v in self._runs.items()}, "logged": dict(self._logged)}

    def set_state(self, state: dict[str, Any]) -> None:
        self._runs = {k: list(v) for k, v in state.get("runs", {}).items()}
        self._logged = dict(state.get("logged", {}))
        self._fresh = False

    def __getstate__(self) -> dict[str, Any]:
        # Tune pickles its callbacks into storage: no thread, lock or queue, and no
        # workspace (its database URL may hold a password): the restoring driver attaches
        # its own (sweep.attach).
        empty: dict[str, Any] = {"_writer": None, "_created": set(), "_finished": set()}
        return {**self.__dict__, **empty, "_retries": {}, "_bound": None}

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
    def _records(self) -> RecordStore:
        return self._experiment.workspace.records

    def _submit(self, op: _Op) -> None:
        if self._writer is None:
            self._writer = Writer(self._apply, self._report, BATCH_WINDOW_S)
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

    # -- writes (on the writer thread) ---------------------------------------------------
    def _apply(self, ops: list[_Op]) -> None:
        """Record a batch in order; the runs it creates go in one bulk write."""
        segment: list[_Op] = []
        for op in ops:
            if op.kind != "call":
                segment.append(op)
                continue
            self._write(segment)
            segment = []
            try:
                op.call()  # type: ignore[misc]
            except Exception as err:  # a refused write costs this op, not the batch
                self._report(f"could not {op.what} of trial {op.trial.trial_id}: {why(err)}")
        self._write(segment)

    def _write(self, ops: list[_Op]) -> None:
        changes: dict[str, _Change] = {}
        for op in ops:
            try:
                self._fold(op, changes)
            except Exception as err:  # one op's failure costs that op only
                self._report(f"could not {op.what} of trial {op.trial.trial_id}: {why(err)}")
        new = {run_id: c for run_id, c in changes.items() if c.create}
        if new:
            try:
                self._records.record_runs(
                    self._experiment.id, [self._new_run(r, c) for r, c in new.items()]
                )
                self._mark_written(new)
            except Exception:  # one refused run must not cost the others: one at a time
                for run_id, change in new.items():
                    self._write_one(run_id, change)
        for run_id, change in changes.items():
            if not change.create:
                self._write_one(run_id, change)

    def _mark_written(self, changes: Mapping[str, _Change]) -> None:
        running, finished = [], []
        for run_id, change in changes.items():
            self._created.add(run_id)
            if change.status is None:
                running.append(run_id)
            else:
                self._finished.add(run_id)
                finished.append(run_id)
        heartbeat = self._experiment.workspace.heartbeat
        heartbeat.add(running)
        heartbeat.discard(finished)

    def _write_one(self, run_id: str, change: _Change) -> None:
        try:
            if change.create:
                self._records.record_runs(self._experiment.id, [self._new_run(run_id, change)])
            else:
                if change.metrics or change.tags:
                    self._records.log_batch(run_id, metrics=change.metrics, tags=change.tags)
                if change.status is not None:
                    self._records.set_status(
                        run_id,
                        change.status,
                        error=change.error,
                        properties=change.properties,
                        files=change.files,
                    )
            self._mark_written({run_id: change})
        except Exception as err:  # say, a value the database refuses: this run only
            trial_id = change.trial.trial_id
            self._report(f"could not record run {run_id} of trial {trial_id}: {why(err)}")
            if isinstance(err, ValidationError) or not isinstance(err, TrackingError):
                self._end_refused(run_id, change, why(err))

    def _end_refused(self, run_id: str, change: _Change, reason: str) -> None:
        """A run whose record was refused ends Failed, saying why, not Running or missing;
        what the trial writes for it afterwards is dropped."""
        ended = _Change(change.trial, change.index, run_id not in self._created)
        ended.status, ended.error = RunStatus.FAILED, f"{REFUSED}: {reason}"
        try:
            if ended.create:
                self._records.record_runs(self._experiment.id, [self._new_run(run_id, ended)])
            else:
                self._records.set_status(run_id, RunStatus.FAILED, error=ended.error)
        except Exception as err:  # left to the heartbeat check: failed once this driver ends
            log.warning("could not record run %s as refused: %s", run_id, why(err))
        self._mark_written({run_id: ended})

    def _new_run(self, run_id: str, change: _Change) -> NewRun:
        trial, now = change.trial, utcnow()
        params = self._cells(trial.config)[change.index]
        name = str(trial) if len(self._runs[trial.trial_id]) == 1 else f"{trial}/{change.index}"
        return NewRun(
            run_id,
            now,
            name,
            {**change.properties, **self._start_properties(trial, change.index)},
            dict(params),
            tuple(change.metrics),
            change.status or RunStatus.RUNNING,
            change.error,
            now if change.status is not None else None,
            tuple(change.files),
            change.tags,
        )

    def _start_properties(self, trial: Trial, index: int) -> dict[str, str]:
        extra = self._properties
        if callable(extra):
            extra = extra(trial, index)
        return {
            TRIAL_ID: trial.trial_id,
            TRIAL_CELL: str(index),
            **{k: str(v) for k, v in (extra or {}).items()},
        }

    def _fold(self, op: _Op, changes: dict[str, _Change]) -> None:
        """Add what `op` writes to each run's change in this batch."""
        trial = op.trial
        run_ids = self._runs[trial.trial_id]

        def change(index: int) -> _Change | None:
            run_id = run_ids[index]
            found = changes.get(run_id)
            if found is None:
                if run_id in self._finished:
                    return None  # a retried trial reporting a cell already recorded
                found = changes[run_id] = _Change(trial, index, create=run_id not in self._created)
            return None if found.status is not None else found

        if op.kind == "start":
            change(0)
        elif op.kind == "metrics":
            if (c := change(0)) is not None:
                c.metrics.extend(op.metrics)
        elif op.kind == "cells":
            for entry in op.entries:
                if (c := change(int(entry["index"]))) is not None:
                    self._finish_cell(c, run_ids[c.index], entry, op)
        elif op.kind == "end":
            for index in range(len(run_ids)):
                if (c := change(index)) is None:
                    continue
                c.status, c.error, c.properties = op.status, op.error, dict(op.where)
                if op.status is RunStatus.COMPLETED and len(run_ids) == 1:
                    c.files = self._checkpoint_files(run_ids[index], op.checkpoint)
                self._count_retries(c, 1)

    def _finish_cell(self, c: _Change, run_id: str, entry: Mapping[str, Any], op: _Op) -> None:
        c.properties = dict(op.where)
        self._count_retries(c, int(entry.get("attempts", 1)))
        if "error" in entry:
            c.status, c.error = RunStatus.FAILED, str(entry["error"])
            return
        c.status = RunStatus.COMPLETED
        c.metrics.extend((str(k), float(v)) for k, v in entry["metrics"].items())
        artifacts = self._experiment.workspace.artifacts
        uri = f"{op.root}/{entry['file']}"
        artifacts.check_inside(uri)
        size, sha256 = int(entry["size"]), entry["sha256"]
        c.files = [
            FileRecord(run_id, entry["file"], artifacts.relative(uri), size, sha256, utcnow())
        ]

    def _count_retries(self, c: _Change, attempts: int) -> None:
        retries = self._retries.get(c.trial.trial_id, 0) + attempts - 1
        if retries:
            c.tags[RETRIES] = str(retries)

    def _checkpoint_files(self, run_id: str, checkpoint: Any) -> list[FileRecord]:
        """Every file of a trial's last checkpoint, each read once for its hash."""
        if checkpoint is None or checkpoint.filesystem is None:
            return []
        root = checkpoint_uri(checkpoint.path, checkpoint.filesystem)
        records = []
        selector = fs.FileSelector(checkpoint.path, recursive=True)
        for entry in checkpoint.filesystem.get_file_info(selector):
            if entry.type == fs.FileType.File:
                name = entry.path[len(checkpoint.path) :].lstrip("/")
                artifacts = self._experiment.workspace.artifacts
                stored = artifacts.describe(f"{root}/{name}")
                key = artifacts.relative(stored.uri)
                records.append(FileRecord(run_id, name, key, stored.size, stored.sha256, utcnow()))
        return records

    def _reattach(self, trial: Trial, known: list[str] | None) -> None:
        """A restored trial: find its runs (by id, else by trial id); create a lone one."""
        found = self._records.find_runs_by_property(self._experiment.id, TRIAL_ID, trial.trial_id)
        if known is None:
            by_index = {int(r.properties.get(TRIAL_CELL, "0")): r.run_id for r in found}
            count = len(self._cells(trial.config))
            known = [by_index.get(i) or str(uuid.uuid4()) for i in range(count)]
        for record in found:
            if record.run_id not in known:
                continue
            if record.status is RunStatus.FAILED and (record.error or "").startswith(LOST):
                # Failed while this sweep was down: the cell gets a new run this time.
                known[known.index(record.run_id)] = str(uuid.uuid4())
                continue
            self._created.add(record.run_id)
            if record.status.is_terminal:
                self._finished.add(record.run_id)  # a re-run of a cell already recorded
            else:
                self._experiment.workspace.heartbeat.add([record.run_id])
        self._runs[trial.trial_id] = known
        if len(known) == 1:
            self._write([_Op("start", trial, "start its run")])

    def _note_retry(self, trial: Trial) -> None:
        self._retries[trial.trial_id] = self._retries.get(trial.trial_id, 0) + 1
        for run_id in self._runs[trial.trial_id]:
            if run_id in self._created and run_id not in self._finished:
                tags = {RETRIES: str(self._retries[trial.trial_id])}
                self._records.log_batch(run_id, tags=tags)

    # -- hooks (on Tune's event loop: they only queue writes) ----------------------------
    def setup(self, *args: Any, **info: Any) -> None:
        import ray

        if self._bound is None:  # restored: re-attach now, not mid-sweep in the writer
            self._bound = attach.require(self._experiment_name, self._token, self)
        self._job_id = ray.get_runtime_context().get_job_id()

    def on_trial_start(
        self, iteration: int, trials: list[Trial], trial: Trial, **info: Any
    ) -> None:
        known = self._runs.get(trial.trial_id)
        if known is None and self._fresh:
            count = len(self._cells(trial.config))
            self._runs[trial.trial_id] = [str(uuid.uuid4()) for _ in range(count)]
            # A lone cell's run shows as Running while it trains; packed cells are
            # recorded as they finish.
            if count == 1:
                self._submit(_Op("start", trial, "start its run"))
        else:
            self._submit(
                _Op("call", trial, "re-attach its runs", call=lambda: self._reattach(trial, known))
            )

    def on_trial_result(
        self, iteration: int, trials: list[Trial], trial: Trial, result: dict[str, Any], **info: Any
    ) -> None:
        if CELLS in result:
            return  # recorded with their checkpoint, in on_checkpoint
        step = int(result.get("training_iteration", 0))
        if step <= self._logged.get(trial.trial_id, 0):
            return  # a retried trial reporting a result that is already logged
        self._logged[trial.trial_id] = step
        metrics: list[tuple[str, float]] = [
            (key, float(value))
            for key, value in result.items()
            if key not in _SKIPPED_KEYS
            and not key.startswith("tracking.")
            and isinstance(value, numbers.Real)
            and not isinstance(value, bool)
        ]
        if metrics:
            self._submit(_Op("metrics", trial, "log its metrics", metrics=metrics))

    def on_checkpoint(
        self, iteration: int, trials: list[Trial], trial: Trial, checkpoint: Any, **info: Any
    ) -> None:
        # Tune saves a result's checkpoint after the result's hooks, and holds the trial
        # until it has: the trial's last result is the one this checkpoint came with.
        result = trial.last_result or {}
        if result.get(CELLS):
            self._submit(
                _Op(
                    "cells",
                    trial,
                    "record its finished cells",
                    entries=list(result[CELLS]),
                    root=checkpoint_uri(checkpoint.path, checkpoint.filesystem),
                    where=_where(result, self._job_id),
                )
            )

    def on_trial_recover(
        self, iteration: int, trials: list[Trial], trial: Trial, **info: Any
    ) -> None:
        self._submit(_Op("call", trial, "note its retry", call=lambda: self._note_retry(trial)))

    def on_trial_complete(
        self, iteration: int, trials: list[Trial], trial: Trial, **info: Any
    ) -> None:
        result = dict(trial.last_result or {})
        self._submit(
            _Op(
                "end",
                trial,
                "complete its run",
                checkpoint=trial.checkpoint,
                where=_where(result, self._job_id),
            )
        )

    def on_trial_error(
        self, iteration: int, trials: list[Trial], trial: Trial, **info: Any
    ) -> None:
        result = dict(trial.last_result or {})
        self._submit(
            _Op(
                "end",
                trial,
                "record its failure",
                status=RunStatus.FAILED,
                error=_error_text(trial),
                where=_where(result, self._job_id),
            )
        )

    def on_experiment_end(self, trials: list[Trial], **info: Any) -> None:
        self.flush()
