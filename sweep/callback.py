"""`TrackingCallback`: Ray Tune trials become runs of a tracking experiment.

It runs in the driver process only (the single writer of a sweep's records: no database
credentials on workers). Its hooks return at once: the record writes go, in order, to one
background thread, so the database never holds up Tune's event loop. A trial's run id is
chosen when the trial starts and kept in Tune's callback state, so the callback is
idempotent per trial: a restored sweep re-attaches each trial to the run it already had
(or, if that state was lost, finds it by its `ray.trial_id` property).
"""

from __future__ import annotations

import contextlib
import logging
import numbers
import queue
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ray import tune
from ray.tune.result import AUTO_RESULT_KEYS

from tracking import Experiment, NotFoundError, TrackingError
from tracking.records import FileRecord, NewRun, RunStatus, utcnow

if TYPE_CHECKING:
    from ray.tune.experiment import Trial

    from tracking.stores.base import RecordStore

log = logging.getLogger(__name__)

TRIAL_ID = "ray.trial_id"
# The writer gathers what arrives within this time into one transaction (at most MAX_BATCH
# writes): records lag trials by a fraction of a second, and cost a fraction of the work.
BATCH_WINDOW_S = 0.25
MAX_BATCH = 2000
_SKIPPED_KEYS = {*AUTO_RESULT_KEYS, "trial_id", "experiment_tag", "done", "should_checkpoint"}


def checkpoint_uri(path: str, filesystem: Any) -> str:
    """The URI of a checkpoint path on its pyarrow filesystem (local or S3)."""
    if type(filesystem).__name__ == "S3FileSystem":
        return f"s3://{path.lstrip('/')}"
    return Path(path).absolute().as_uri()


@dataclass
class _Op:
    """One record write of a trial, queued by a hook for the writer thread."""

    kind: str  # "create", "metrics", "finish" or "call"
    trial: Trial
    what: str
    config: Mapping[str, Any] = field(default_factory=dict)
    metrics: list[tuple[str, float]] = field(default_factory=list)
    status: RunStatus = RunStatus.COMPLETED
    result: Mapping[str, Any] = field(default_factory=dict)
    error: str | None = None
    call: Callable[[], object] | None = None


class _Writer:
    """Applies queued writes in order on one daemon thread, a batch at a time.

    It gathers what arrives within `window` seconds into one batch, so that many short
    trials are recorded in one transaction; failures are reported, never raised.
    """

    def __init__(
        self, apply: Callable[[list[_Op]], None], on_error: Callable[[str], None], window: float
    ) -> None:
        self._queue: queue.Queue[_Op | None] = queue.Queue()
        self._apply = apply
        self._on_error = on_error
        self._window = window
        self._thread = threading.Thread(target=self._work, name="tracking-writer", daemon=True)
        self._thread.start()

    def submit(self, op: _Op) -> None:
        self._queue.put(op)

    def flush(self) -> None:
        """Wait until every write submitted so far is done."""
        self._queue.join()

    def _batch(self) -> tuple[list[_Op], bool]:
        first = self._queue.get()
        items = [first]
        deadline = time.monotonic() + self._window
        while first is not None and len(items) < MAX_BATCH:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                items.append(self._queue.get(timeout=remaining))
            except queue.Empty:
                break
            if items[-1] is None:
                break
        ops = [op for op in items if op is not None]
        return ops, len(ops) < len(items)

    def _work(self) -> None:
        stop = False
        while not stop:
            ops, stop = self._batch()
            try:
                self._apply(ops)
            except Exception as err:  # a bug must not silently stop every later write
                self._on_error(f"could not record {len(ops)} writes: {type(err).__name__}: {err}")
            finally:
                for _ in range(len(ops) + (1 if stop else 0)):
                    self._queue.task_done()

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()


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
        self._params = params or dict
        self._properties = properties
        self._file_info = file_info
        self._run_ids: dict[str, str] = {}  # trial id -> run id: the state Tune saves
        self._logged: dict[str, int] = {}  # trial id -> last training iteration logged
        self._finished: set[str] = set()  # trials whose run has finished (writer thread)
        self._fresh = True  # False once unpickled: a restored sweep may know its trials
        self._job_id: str | None = None
        self._writer: _Writer | None = None
        self.errors: list[str] = []

    # -- Tune's state, saved with the experiment checkpoint ------------------------------
    def get_state(self) -> dict[str, Any]:
        return {"run_ids": dict(self._run_ids), "logged": dict(self._logged)}

    def set_state(self, state: dict[str, Any]) -> None:
        self._run_ids = dict(state.get("run_ids", {}))
        self._logged = dict(state.get("logged", {}))
        self._fresh = False

    def __getstate__(self) -> dict[str, Any]:
        # Tune pickles its callbacks with the experiment: no thread, no lock, no queue.
        return {**self.__dict__, "_writer": None, "_finished": set()}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._fresh = False

    @property
    def _records(self) -> RecordStore:
        return self._experiment.workspace.records

    def _submit(self, op: _Op) -> None:
        if self._writer is None:
            self._writer = _Writer(self._apply, self._report, BATCH_WINDOW_S)
        self._writer.submit(op)

    def _call(self, trial: Trial, what: str, write: Callable[[], object]) -> None:
        self._submit(_Op("call", trial, what, call=write))

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
    def _start_properties(self, trial: Trial) -> dict[str, str]:
        extra = self._properties(trial) if callable(self._properties) else self._properties
        return {TRIAL_ID: trial.trial_id, **{k: str(v) for k, v in (extra or {}).items()}}

    def _create(self, trial: Trial, run_id: str, config: Mapping[str, Any]) -> None:
        self._records.create_run(
            self._experiment.id,
            run_id,
            display_name=str(trial),
            properties=self._start_properties(trial),
            params=self._params(config) or None,
        )

    def _reattach(self, trial: Trial, run_id: str | None, config: Mapping[str, Any]) -> None:
        """A restored trial: find its run (by id, else by trial id) or create it."""
        record = None
        if run_id is not None:
            # NotFound: the driver stopped before this run's creation was written.
            with contextlib.suppress(NotFoundError):
                record = self._records.get_run(run_id)
        else:
            found = self._records.find_runs_by_property(
                self._experiment.id, TRIAL_ID, trial.trial_id
            )
            record = found[-1] if found else None
        if record is None:
            run_id = run_id or str(uuid.uuid4())
            self._create(trial, run_id, config)
        else:
            run_id = record.run_id
            if record.status.is_terminal:
                self._finished.add(trial.trial_id)  # a re-run of a trial already recorded
        self._run_ids[trial.trial_id] = run_id

    def _finish(
        self, trial: Trial, status: RunStatus, result: Mapping[str, Any], error: str | None
    ) -> None:
        if trial.trial_id in self._finished:
            return
        run_id = self._run_ids[trial.trial_id]
        files = self._files(run_id, trial, result) if status is RunStatus.COMPLETED else []
        self._records.set_status(
            run_id,
            status,
            error=error,
            properties=_where(result, self._job_id),
            files=files,
        )
        self._finished.add(trial.trial_id)

    def _files(self, run_id: str, trial: Trial, result: Mapping[str, Any]) -> list[FileRecord]:
        checkpoint = trial.checkpoint
        if checkpoint is None:
            return []
        artifacts = self._experiment.workspace.artifacts
        root = checkpoint_uri(checkpoint.path, checkpoint.filesystem)
        info = self._file_info(result) if self._file_info else None
        if info is not None:
            name, sha256, size = info
            uri = f"{root}/{name}"
            artifacts.check_inside(uri)
            return [FileRecord(run_id, name, uri, size, sha256, utcnow())]
        from pyarrow import fs

        if checkpoint.filesystem is None:
            return []
        records = []
        selector = fs.FileSelector(checkpoint.path, recursive=True)
        for entry in checkpoint.filesystem.get_file_info(selector):
            if entry.type == fs.FileType.File:
                name = entry.path[len(checkpoint.path) :].lstrip("/")
                stored = artifacts.describe(f"{root}/{name}")
                records.append(
                    FileRecord(run_id, name, stored.uri, stored.size, stored.sha256, utcnow())
                )
        return records

    def _apply(self, ops: list[_Op]) -> None:
        """Record a batch: trials that started in it in one bulk write, the rest one by one."""
        started: dict[str, list[_Op]] = {}
        rest: list[_Op] = []
        for op in ops:
            ops_of_trial = started.get(op.trial.trial_id)
            if op.kind == "create":
                started[op.trial.trial_id] = [op]
            elif ops_of_trial is not None and op.kind in ("metrics", "finish"):
                ops_of_trial.append(op)
            else:
                rest.append(op)
        if started:
            self._record_new(list(started.values()))
        for op in rest:
            self._apply_one(op)

    def _record_new(self, trials: list[list[_Op]]) -> None:
        runs, finished = [], []
        for ops in trials:
            try:
                runs.append(self._new_run(ops))
            except TrackingError as err:
                self._report(f"could not start the run of trial {ops[0].trial.trial_id}: {err}")
                continue
            if ops[-1].kind == "finish":
                finished.append(ops[0].trial.trial_id)
        try:
            self._records.record_runs(self._experiment.id, runs)
        except TrackingError:
            # One bad run must not cost the others: record them one at a time.
            for ops in trials:
                for op in ops:
                    self._apply_one(op)
            return
        self._finished.update(finished)

    def _new_run(self, ops: list[_Op]) -> NewRun:
        create, trial = ops[0], ops[0].trial
        run_id = self._run_ids[trial.trial_id]
        properties = self._start_properties(trial)
        metrics = [m for op in ops if op.kind == "metrics" for m in op.metrics]
        end = ops[-1] if ops[-1].kind == "finish" else None
        now = utcnow()
        if end is None:
            return NewRun(run_id, now, str(trial), properties, self._params(create.config),
                          tuple(metrics))  # fmt: skip
        files = self._files(run_id, trial, end.result) if end.status is RunStatus.COMPLETED else []
        return NewRun(
            run_id,
            now,
            str(trial),
            {**_where(end.result, self._job_id), **properties},
            self._params(create.config),
            tuple(metrics),
            end.status,
            end.error,
            now,
            tuple(files),
        )

    def _apply_one(self, op: _Op) -> None:
        trial = op.trial
        try:
            if op.kind == "create":
                self._create(trial, self._run_ids[trial.trial_id], op.config)
            elif op.kind == "metrics":
                if trial.trial_id not in self._finished:
                    self._records.log_batch(self._run_ids[trial.trial_id], metrics=op.metrics)
            elif op.kind == "finish":
                self._finish(trial, op.status, op.result, op.error)
            elif op.call is not None:
                op.call()
        except TrackingError as err:
            self._report(f"could not {op.what} of trial {trial.trial_id}: {err}")

    # -- hooks (on Tune's event loop: they only queue writes) ----------------------------
    def setup(self, *args: Any, **info: Any) -> None:
        import ray

        self._job_id = ray.get_runtime_context().get_job_id()

    def on_trial_start(
        self, iteration: int, trials: list[Trial], trial: Trial, **info: Any
    ) -> None:
        config = dict(trial.config)
        known = self._run_ids.get(trial.trial_id)
        if known is None and self._fresh:
            self._run_ids[trial.trial_id] = str(uuid.uuid4())
            self._submit(_Op("create", trial, "start its run", config=config))
        else:
            self._call(trial, "re-attach its run", lambda: self._reattach(trial, known, config))

    def on_trial_result(
        self, iteration: int, trials: list[Trial], trial: Trial, result: dict[str, Any], **info: Any
    ) -> None:
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

    def on_trial_recover(
        self, iteration: int, trials: list[Trial], trial: Trial, **info: Any
    ) -> None:
        def write() -> None:
            run_id = self._run_ids[trial.trial_id]
            retries = int(self._records.get_run(run_id).tags.get("ray.retries", "0")) + 1
            self._records.log_batch(run_id, tags={"ray.retries": str(retries)})

        self._call(trial, "note its retry", write)

    def on_trial_complete(
        self, iteration: int, trials: list[Trial], trial: Trial, **info: Any
    ) -> None:
        result = dict(trial.last_result or {})
        self._submit(_Op("finish", trial, "complete its run", result=result))

    def on_trial_error(
        self, iteration: int, trials: list[Trial], trial: Trial, **info: Any
    ) -> None:
        result = dict(trial.last_result or {})
        error = _error_text(trial)
        self._submit(
            _Op(
                "finish",
                trial,
                "record its failure",
                status=RunStatus.FAILED,
                result=result,
                error=error,
            )
        )

    def on_experiment_end(self, trials: list[Trial], **info: Any) -> None:
        self.flush()


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
