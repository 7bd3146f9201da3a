"""What stopped a Tune trial early: its stopper (watched), `RunConfig.stop`, or its
scheduler; part of the Tune adapter (`sweep.callback`)."""

from __future__ import annotations

import numbers
import sys
import time
from collections.abc import Mapping
from typing import Any

from ray import tune

from sweep.cells import flatten


class StopWatch(tune.Stopper):
    """Tune's stopper, watched: what each trial's latest result said before Tune saw it.

    Tune asks its stopper about every result before its scheduler, and marks the result
    done (for every callback) once either says stop: only here is the trainable's own
    `done` told apart from Tune's decision, and the stopper's from the scheduler's.
    """

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.verdicts: dict[str, tuple[bool, str | None]] = {}  # trial id -> (own done, stopper)

    @classmethod
    def install(cls, controller: Any) -> StopWatch | None:
        inner = getattr(controller, "_stopper", None)
        if inner is None:
            return None
        watch = inner if isinstance(inner, cls) else cls(inner)
        controller._stopper = watch
        return watch

    def __call__(self, trial_id: str, result: dict[str, Any]) -> bool:
        stop = bool(self.inner(trial_id, result))
        name = type(self.inner).__name__ if stop else None
        self.verdicts[trial_id] = (bool(result.get("done")), name)
        return stop

    def stop_all(self) -> bool:
        return bool(self.inner.stop_all())


def tune_controller() -> Any:
    """Tune's controller, which calls `setup` (two frames up in Ray 2.x), or None."""
    frame = sys._getframe(1)
    for _ in range(8):
        if frame is None:
            return None
        owner = frame.f_locals.get("self")
        if owner is not None and hasattr(owner, "scheduler_alg") and hasattr(owner, "_stopper"):
            return owner
        frame = frame.f_back  # type: ignore[assignment]
    return None


def stopped_by(
    trial: Any, result: Mapping[str, Any], verdict: tuple[bool, str | None] | None, scheduler: Any
) -> str | None:
    """What stopped a trial on a result Tune marked done; None: the trial ended itself (or
    used its scheduler's whole budget, `max_t`)."""
    own_done, stopper = verdict if verdict is not None else (False, None)
    if own_done:
        return None
    if stopper is not None:
        return stopper
    flat = flatten(result)
    for key, limit in (getattr(trial, "stopping_criterion", None) or {}).items():
        value = flat.get(key)
        if isinstance(value, numbers.Real) and value >= limit:
            return "RunConfig.stop"
    if scheduler is None:
        return "Tune"
    policy = getattr(scheduler, "stopped_by", None)  # a `sweep.policies.StopLog`
    if callable(policy) and (found := policy(trial.trial_id)) is not None:
        return str(found[0])
    max_t = getattr(scheduler, "_max_t", None) or getattr(scheduler, "_max_t_attr", None)
    time_attr = getattr(scheduler, "_time_attr", "training_iteration")
    if isinstance(max_t, numbers.Real) and flat.get(time_attr, 0) >= max_t:
        return None  # the scheduler's budget for every trial: used in full
    return type(scheduler).__name__


CANCEL_REQUESTS = "sweep-cancel"  # key-values: a parent run's id -> its cancel was asked


def request_cancel(experiment: Any, run_id: str) -> None:
    """Ask the driver of the sweep whose parent is `run_id` to stop it (from any process);
    the driver then ends the trials' runs and the parent `Canceled`."""
    experiment.workspace.records.set_value(CANCEL_REQUESTS, run_id, "requested")


class ParentCanceled(tune.Stopper):
    """Stops the whole sweep once its parent run's cancel is asked (`request_cancel`) or it
    is `Canceled` (`run.cancel()`, from any process), read from the records at most once a
    second."""

    EVERY_S = 1.0

    def __init__(self, experiment: Any, run_id: str) -> None:
        self._experiment_name = experiment.name
        self._run_id = run_id
        self._bound: Any = experiment
        self._checked = 0.0
        self._canceled = False

    def __getstate__(self) -> dict[str, Any]:  # pickled with Tune's state: no workspace
        return {**self.__dict__, "_bound": None}

    def __call__(self, trial_id: str, result: dict[str, Any]) -> bool:
        return False

    def stop_all(self) -> bool:
        if self._canceled or self._bound is None:
            return self._canceled
        now = time.monotonic()
        if now - self._checked >= self.EVERY_S:
            self._checked = now
            records = self._bound.workspace.records
            try:
                asked = records.get_value(CANCEL_REQUESTS, self._run_id) is not None
                self._canceled = asked or records.get_run(self._run_id).status.value == "Canceled"
            except Exception:  # the records are unreachable now: the next look may succeed
                return False
        return self._canceled
