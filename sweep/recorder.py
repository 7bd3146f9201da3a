"""`Recorder`: trial events in, record writes out, on the writer thread.

The Tune adapter (`sweep.callback`) turns Tune's hooks into `Op`s; the writer thread hands
them here a batch at a time. Each batch is folded into one `Change` per run; the runs it
creates go to the store in one bulk write (`record_runs`), the others one at a time. A run
whose record the database refuses is recorded Failed, saying so; the other runs of its
batch are recorded one at a time. Re-attaching a restored trial to its runs happens here
too. The runs it creates are children of its `parent_run_id`, if it has one (a sweep's
parent run, `sweep.parent`). No Tune import: a trial is anything with `trial_id`, `config`
and a `str()`.

Files: a trial that speaks the cell protocol (`sweep.cells`) names its cells' model files;
any other trial's checkpoints are its run's files (`sweep.checkpoints`), and those Tune
deleted are listed, by file name, in the run's tag `REMOVED_FILES` (a JSON list).
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from sweep.cells import flatten
from sweep.checkpoints import CheckpointFiles
from sweep.trialops import INTERRUPTED, REFUSED, STOPPED_BY, TRIAL_ID, why
from sweep.trialops import Change as _Change
from sweep.trialops import Op as _Op
from tracking import Experiment, NotFoundError, TrackingError
from tracking.errors import ValidationError
from tracking.heartbeat import is_lost
from tracking.records import FileRecord, LoggedValue, NewRun, RunStatus, utcnow

if TYPE_CHECKING:
    from tracking.stores.base import RecordStore

log = logging.getLogger(__name__)

TRIAL_CELL = "ray.trial_cell"  # the run's place among its trial's cells
RETRIES = "ray.retries"
REMOVED_FILES = "removed_files"  # tag: JSON list of the run's files whose bytes Tune deleted

CellParams = Callable[[Mapping[str, Any]], Sequence[Mapping[str, Any]]]
QueuedIds = Callable[[Mapping[str, Any]], Sequence[str | None]]
Properties = Mapping[str, Any] | Callable[[Any, int], Mapping[str, Any]]


class Recorder:
    """Applies batches of trial events to a record store (used by one writer thread).

    Args:
        experiment: the experiment that receives the runs (called when needed).
        runs: trial id -> its runs' ids (shared with the adapter, which saves it in Tune's
            state; the adapter adds new trials, re-attaching here sets restored ones).
        cells: the params of each run of a trial, from its config.
        properties: extra properties of every run, or a function of (trial, cell index).
        report: where a write that failed is said (never raised).
        parent_run_id: the run whose children the runs it creates are (a sweep's parent),
            or None: top-level runs. Settable: a restored sweep may have a new parent.
    """

    def __init__(
        self,
        experiment: Callable[[], Experiment],
        runs: dict[str, list[str]],
        cells: CellParams,
        properties: Properties | None,
        report: Callable[[str], None],
        parent_run_id: str | None = None,
    ) -> None:
        self._experiment = experiment
        self.parent_run_id = parent_run_id
        # Trial id -> its runs' ids: this recorder's own, on the writer's thread (a new
        # trial's ids arrive in its first op; a restored trial's from `reattach`).
        self._runs = {trial_id: list(ids) for trial_id, ids in runs.items()}
        self._cells = cells
        self._properties = properties
        self._report = report
        self._created: set[str] = set()  # runs written to the store
        self._finished: set[str] = set()  # runs whose end is written
        self._retries: dict[str, int] = {}  # trial id -> times Tune restarted it
        self.files = CheckpointFiles(lambda: self._experiment().workspace.artifacts)

    @property
    def _records(self) -> RecordStore:
        return self._experiment().workspace.records

    def apply(self, ops: list[_Op]) -> None:
        """Record a batch in order; the runs it creates go in one bulk write."""
        segment: list[_Op] = []
        for op in ops:
            if op.kind != "call":
                segment.append(op)
                continue
            self.write(segment)
            segment = []
            try:
                op.call()  # type: ignore[misc]
            except Exception as err:  # a refused write costs this op, not the batch
                self._report(f"could not {op.what} of trial {op.trial.trial_id}: {why(err)}")
        self.write(segment)

    def write(self, ops: list[_Op]) -> None:
        changes: dict[str, _Change] = {}
        for op in ops:
            try:
                self._fold(op, changes)
            except Exception as err:  # one op's failure costs that op only
                self._report(f"could not {op.what} of trial {op.trial.trial_id}: {why(err)}")
        new = {run_id: c for run_id, c in changes.items() if c.create}
        if new:
            experiment_id = self._experiment().id
            try:
                self._records.record_runs(
                    experiment_id, [self._new_run(r, c) for r, c in new.items()]
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
        heartbeat = self._experiment().workspace.heartbeat
        heartbeat.add(running)
        heartbeat.discard(finished)

    def _write_one(self, run_id: str, change: _Change) -> None:
        records = self._records
        try:
            if change.create:
                records.record_runs(self._experiment().id, [self._new_run(run_id, change)])
            else:
                if change.metrics or change.tags:
                    records.log_batch(run_id, metrics=change.metrics, tags=change.tags)
                if change.status is not None:
                    records.set_status(
                        run_id,
                        change.status,
                        error=change.error,
                        end_time=change.end_time,
                        properties=change.properties,
                        files=change.files,
                    )
                else:
                    for record in change.files:
                        records.add_file(record)
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
        ended.start_time, ended.end_time = change.start_time, change.end_time or utcnow()
        ended.status, ended.error = RunStatus.FAILED, f"{REFUSED}: {reason}"
        try:
            if ended.create:
                self._records.record_runs(self._experiment().id, [self._new_run(run_id, ended)])
            else:
                self._records.set_status(
                    run_id, RunStatus.FAILED, error=ended.error, end_time=ended.end_time
                )
        except Exception as err:  # left to the heartbeat check: failed once this driver ends
            log.warning("could not record run %s as refused: %s", run_id, why(err))
        self._mark_written({run_id: ended})

    def _new_run(self, run_id: str, change: _Change) -> NewRun:
        trial = change.trial
        start = change.start_time or change.end_time or utcnow()
        params = flatten(self._cells(trial.config)[change.index])
        name = str(trial) if len(self._runs[trial.trial_id]) == 1 else f"{trial}/{change.index}"
        return NewRun(
            run_id,
            start,
            name,
            {**change.properties, **self._start_properties(trial, change.index)},
            params,
            tuple(change.metrics),
            change.status or RunStatus.RUNNING,
            change.error,
            (change.end_time or utcnow()) if change.status is not None else None,
            tuple(change.files),
            change.tags,
            parent_run_id=self.parent_run_id,
        )

    def _start_properties(self, trial: Any, index: int) -> dict[str, str]:
        extra = self._properties
        if callable(extra):
            extra = extra(trial, index)
        return {
            TRIAL_ID: trial.trial_id,
            TRIAL_CELL: str(index),
            **{k: str(v) for k, v in (extra or {}).items()},
        }

    def runs(self) -> dict[str, list[str]]:
        """A copy of the trial -> run ids map; read it only while no batch is being
        written (after the writer's `flush`)."""
        return {trial_id: list(ids) for trial_id, ids in self._runs.items()}

    def _fold(self, op: _Op, changes: dict[str, _Change]) -> None:
        """Add what `op` writes to each run's change in this batch."""
        trial = op.trial
        if op.run_ids:
            self._runs.setdefault(trial.trial_id, list(op.run_ids))
        if op.kind == "assign":
            return
        run_ids = self._runs[trial.trial_id]

        def change(index: int) -> _Change | None:
            run_id = run_ids[index]
            found = changes.get(run_id)
            if found is None:
                if run_id in self._finished:
                    return None  # a retried trial reporting a cell already recorded
                create = run_id not in self._created
                found = changes[run_id] = _Change(trial, index, create, op.started or op.at)
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
        elif op.kind == "checkpoint":
            if len(run_ids) == 1 and (c := change(0)) is not None:
                if op.keep is not None:
                    self._note_removed(c, run_ids[0])
                c.files.extend(self.files.register(run_ids[0], op.path, op.filesystem, op.at))
        elif op.kind == "end":
            for index in range(len(run_ids)):
                if (c := change(index)) is None:
                    continue
                c.status, c.error, c.end_time = op.status, op.error, op.at
                c.properties = dict(op.where)
                self._note_removed(c, run_ids[index])
                self.files.forget(run_ids[index])
                self._count_retries(c, 1)

    def _note_removed(self, c: _Change, run_id: str) -> None:
        if self.files.check_removed(run_id):
            c.tags[REMOVED_FILES] = json.dumps(sorted(self.files.removed[run_id]))

    def _finish_cell(self, c: _Change, run_id: str, entry: Mapping[str, Any], op: _Op) -> None:
        c.properties = dict(op.where)
        c.end_time = op.at
        if "started" in entry and "ended" in entry:  # a packed cell's own times
            if c.create:
                c.start_time = _moment(entry["started"])
            c.end_time = _moment(entry["ended"])
        self._count_retries(c, int(entry.get("attempts", 1)))
        if "error" in entry:
            c.status, c.error = RunStatus.FAILED, str(entry["error"])
            return
        c.status = RunStatus.COMPLETED
        c.metrics.extend((str(k), float(v)) for k, v in flatten(entry["metrics"]).items())
        artifacts = self._experiment().workspace.artifacts
        uri = f"{op.root}/{entry['file']}"
        artifacts.check_inside(uri)
        size, sha256 = int(entry["size"]), entry["sha256"]
        c.files = [FileRecord(run_id, entry["file"], artifacts.relative(uri), size, sha256, op.at)]

    def _count_retries(self, c: _Change, attempts: int) -> None:
        retries = self._retries.get(c.trial.trial_id, 0) + attempts - 1
        if retries:
            c.tags[RETRIES] = str(retries)

    def reattach(
        self,
        trial: Any,
        known: list[str] | None,
        started: Any = None,
        queued: Sequence[str | None] = (),
    ) -> None:
        """A restored trial: find its runs (by id, else by trial id); create a lone one.
        A cell without a run, or whose run was lost, takes its queued run if it has one."""
        experiment = self._experiment()
        found = self._records.find_runs_by_property(experiment.id, TRIAL_ID, trial.trial_id)
        count = len(self._cells(trial.config))
        waiting = [*queued, *[None] * count][:count]
        if known is not None:
            known = self._renewed(known, waiting)
        else:
            by_index = {int(r.properties.get(TRIAL_CELL, "0")): r.run_id for r in found}
            known = [by_index.get(i) or another(None, waiting[i]) for i in range(count)]
        for record in found:
            if record.run_id not in known:
                continue
            if is_lost(record):
                # Failed while this sweep was down: the cell gets a new run this time.
                index = known.index(record.run_id)
                known[index] = another(record.run_id, waiting[index])
                continue
            self._created.add(record.run_id)
            if record.status.is_terminal:
                self._finished.add(record.run_id)  # a re-run of a cell already recorded
            else:
                experiment.workspace.heartbeat.add([record.run_id])
                names = [f.name for f in self._records.list_files(record.run_id)]
                self.files.known(record.run_id, names)
        self._runs[trial.trial_id] = known
        if len(known) == 1:
            self.write([_Op("start", trial, "start its run", started=started)])

    def _renewed(self, known: list[str], queued: list[str | None]) -> list[str]:
        """A restored trial's run ids, each run canceled by an interrupted sweep replaced
        by its cell's queued run, or a new id: the cell gets a new run, and the canceled
        one stays as it ended."""
        renewed = []
        for run_id, waiting in zip(known, queued, strict=False):
            try:
                record = self._records.get_run(run_id)
            except NotFoundError:
                renewed.append(run_id)
                continue
            interrupted = record.properties.get(STOPPED_BY) == INTERRUPTED
            canceled = record.status is RunStatus.CANCELED and interrupted
            renewed.append(another(run_id, waiting) if canceled else run_id)
        return renewed

    def log_values(self, trial: Any, events: Sequence[Mapping[str, Any]]) -> None:
        """Write what a trial's run logged besides its step metrics (`sweep.script`'s
        `LOGGED` events of `tracking.context.TrialRun`): text, lists, rows, tables, tags
        and properties, as `Run`'s own logging calls record them."""
        ids = self._runs.get(trial.trial_id, [])
        if len(ids) != 1 or ids[0] not in self._created or ids[0] in self._finished:
            return
        metrics: list[tuple[str, float]] = []
        values: list[LoggedValue] = []
        tags: dict[str, str] = {}
        properties: dict[str, str] = {}
        for event in events:
            kind, name = event.get("kind"), str(event.get("name", ""))
            value: Any = event.get("value")
            if kind in ("log", "list"):
                items = value if kind == "list" else [value]
                if kind == "list":
                    values.append(LoggedValue(name, "list", len(items)))
                for item in items:
                    if isinstance(item, (int, float)) and not isinstance(item, bool):
                        metrics.append((name, float(item)))
                    else:
                        values.append(LoggedValue(name, "text", item))
            elif kind in ("row", "table"):
                values.append(LoggedValue(name, kind, value))
            elif kind == "tags":
                tags.update(value)
            elif kind == "properties":
                properties.update(value)
        if metrics or tags or properties:
            self._records.log_batch(
                ids[0], metrics=metrics, tags=tags or None, properties=properties or None
            )
        if values:
            self._records.log_values(ids[0], values)

    def note_retry(self, trial: Any) -> None:
        self._retries[trial.trial_id] = self._retries.get(trial.trial_id, 0) + 1
        for run_id in self._runs[trial.trial_id]:
            if run_id in self._created and run_id not in self._finished:
                tags = {RETRIES: str(self._retries[trial.trial_id])}
                self._records.log_batch(run_id, tags=tags)


def another(run_id: str | None, queued: str | None) -> str:
    """The id of the run a cell takes instead of `run_id`: its queued run, else a new one."""
    return queued if queued is not None and queued != run_id else str(uuid.uuid4())


def _moment(seconds: Any) -> datetime:
    """A time a trainable reported, in seconds since the epoch, as a UTC datetime."""
    return datetime.fromtimestamp(float(seconds), tz=timezone.utc)
