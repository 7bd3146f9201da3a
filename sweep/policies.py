"""Early stopping for a sweep: `--early-stop` text -> `EarlyStop` -> a Ray Tune scheduler.

HyperDrive's three policies (azureml.train.hyperdrive: BanditPolicy, MedianStoppingPolicy,
TruncationSelectionPolicy) and ASHA. A step is Tune's `training_iteration`: each
`tune.report` is one step, as each logged value of the primary metric is one interval in
HyperDrive. A policy is evaluated at every step that is a multiple of `interval` and at
least `delay` (HyperDrive's `evaluation_interval` and `delay_evaluation`). At step N:

- bandit: a trial whose best value up to N is outside the slack of the best value any trial
  reported up to N is stopped: worse than best * (1 + slack) when minimizing, best / (1 +
  slack) when maximizing; or, with `slack_amount`, worse than best +/- slack_amount.
- median: Tune's `MedianStoppingRule`: a trial whose best value up to N is worse than the
  median of the other trials' running averages over steps 1..N is stopped (once three other
  trials have reached N; Tune's `min_samples_required`).
- truncation: among the trials that have reached N, each ranked by its best value up to N
  (later values of trials that ran further do not count), the lowest `percent` % are
  stopped: floor(count * percent / 100) of them, so that no more than `percent` % are ever
  cut, which means nothing is cut until 100 / percent trials have reached N. Ties go on.
- asha: Tune's `ASHAScheduler` (`grace_period`, `max_t`, `reduction_factor`).

Each scheduler built here is a `StopLog`: `stopped_by(trial_id)` says which policy stopped
a trial at which step (a trial that used ASHA's whole `max_t` was not stopped early).

Importing this module does not import Ray (seconds): `parse_early_stop` runs while the
command line is read. The Tune scheduler classes are defined on first use, in
`_tune_classes`.
"""

from __future__ import annotations

import functools
import math
import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from sweep.cells import REPEATED
from sweep.errors import SweepInputError

if TYPE_CHECKING:
    from ray.tune.execution.tune_controller import TuneController
    from ray.tune.experiment import Trial
    from ray.tune.schedulers import TrialScheduler

STEP = "training_iteration"  # ray.tune.result.TRAINING_ITERATION
_STOP = "STOP"  # TrialScheduler.STOP

FORMS = {
    "bandit": "bandit:slack=F|slack_amount=F[,interval=N][,delay=N]",
    "median": "median[:delay=N][,interval=N]",
    "truncation": "truncation:percent=P[,interval=N][,delay=N]",
    "asha": "asha[:grace=N][,max_t=N][,reduction=F]",
}
_OPTIONS = {
    "bandit": ("slack", "slack_amount", "interval", "delay"),
    "median": ("delay", "interval"),
    "truncation": ("percent", "interval", "delay"),
    "asha": ("grace", "max_t", "reduction"),
}
# option -> (conversion of its text, check of its value, what is accepted)
_VALUES: dict[str, tuple[Callable[[str], float], Callable[[float], bool], str]] = {
    "slack": (float, lambda v: 0 < v < math.inf, "a number > 0"),
    "slack_amount": (float, lambda v: 0 < v < math.inf, "a number > 0"),
    "interval": (int, lambda v: v >= 1, "an integer >= 1"),
    "delay": (int, lambda v: v >= 0, "an integer >= 0"),
    "percent": (int, lambda v: 1 <= v <= 99, "an integer from 1 to 99"),
    "grace": (int, lambda v: v >= 1, "an integer >= 1"),
    "max_t": (int, lambda v: v >= 1, "an integer >= 1"),
    "reduction": (float, lambda v: 1 < v < math.inf, "a number > 1"),
}


@dataclass(frozen=True)
class EarlyStop:
    """An early stopping policy and its options, as `parse_early_stop` read and checked them.

    Options of the other policies keep their defaults. The defaults are HyperDrive's
    (interval 1, delay 0) and Tune's ASHA's (grace 1, max_t 100, reduction 4).
    """

    policy: str  # one of FORMS
    slack: float | None = None  # bandit: HyperDrive's slack_factor
    slack_amount: float | None = None  # bandit
    percent: int | None = None  # truncation: HyperDrive's truncation_percentage
    interval: int = 1
    delay: int = 0
    grace: int = 1
    max_t: int = 100
    reduction: float = 4.0

    def scheduler(self, metric: str, mode: str) -> TrialScheduler:
        """A new Tune scheduler for this policy, on `metric` ('min' or 'max' by `mode`).

        It is a `StopLog`. Give `metric` and `mode` here, not to `tune.TuneConfig` as well
        (Tune refuses a scheduler built with its own).

        Raises:
            SweepInputError: `mode` is neither 'min' nor 'max'.
        """
        if mode not in ("min", "max"):
            raise SweepInputError(f"mode {mode!r} is not accepted: use 'min' or 'max'")
        return _tune_classes()[self.policy](self, metric, mode)


def parse_early_stop(text: str) -> EarlyStop:
    """`bandit:slack=0.1,interval=1,delay=5`, say, as an `EarlyStop`; see `FORMS`.

    Raises:
        SweepInputError: an unknown policy or option, an option given twice, a value of the
            wrong type or range, or a required option missing; one line naming the value.
    """
    name, _, rest = (part.strip() for part in text.partition(":"))
    if name not in _OPTIONS:
        raise SweepInputError(
            f"early stop policy {name!r} is not accepted: use one of {'; '.join(FORMS.values())}"
        )
    options: dict[str, Any] = {}
    for item in rest.split(",") if rest.strip() else []:
        key, equals, value = (part.strip() for part in item.partition("="))
        if not equals:
            raise SweepInputError(
                f"{name} option {item.strip()!r} is not accepted: write name=value, as in "
                f"{FORMS[name]}"
            )
        if key not in _OPTIONS[name]:
            raise SweepInputError(
                f"{name} has no option {key!r}; it takes {', '.join(_OPTIONS[name])}: {FORMS[name]}"
            )
        if key in options:
            raise SweepInputError(f"{name} option {key!r} is given twice")
        options[key] = _value(name, key, value)
    _check_required(name, options)
    return EarlyStop(policy=name, **options)


def _value(policy: str, option: str, text: str) -> float:
    convert, check, accepted = _VALUES[option]
    try:
        value = convert(text)
    except ValueError:
        value = math.nan  # fails the check below
    if not check(value):
        raise SweepInputError(f"{policy} {option} {text!r} is not accepted: use {accepted}")
    return value


def _check_required(policy: str, options: Mapping[str, Any]) -> None:
    if policy == "bandit" and ("slack" in options) == ("slack_amount" in options):
        raise SweepInputError(
            "bandit takes exactly one of slack=F (a ratio of the best value) and "
            f"slack_amount=F (a distance from it): {FORMS['bandit']}"
        )
    if policy == "truncation" and "percent" not in options:
        raise SweepInputError(
            f"truncation needs percent=P, an integer from 1 to 99: {FORMS['truncation']}"
        )
    grace, max_t = options.get("grace", EarlyStop.grace), options.get("max_t", EarlyStop.max_t)
    if policy == "asha" and max_t < grace:
        raise SweepInputError(f"asha max_t {max_t} is not accepted: it must be >= grace ({grace})")


class StopLog:
    """A scheduler that remembers which trials it stopped early, and at which step.

    Tune's schedulers say STOP without keeping a record of it; a tracking callback, which
    sees only that the trial ended, asks here what stopped it.
    """

    policy: ClassVar[str]  # the name in FORMS
    _stopped: dict[str, int]  # trial id -> step

    def stopped_by(self, trial_id: str) -> tuple[str, int] | None:
        """(policy, step) if this scheduler stopped the trial early; otherwise None."""
        step = self._stopped.get(trial_id)
        return None if step is None else (self.policy, step)

    def _logged(self, trial: Trial, result: Mapping[str, Any], decision: str) -> str:
        """`decision`, noted when it stops the trial."""
        if decision == _STOP:
            self._stopped[trial.trial_id] = int(result[STEP])
        return decision


@functools.cache
def _tune_classes() -> dict[str, Callable[[EarlyStop, str, str], TrialScheduler]]:
    """The four schedulers, by policy; defined here so that Ray is imported on first use."""
    import numpy as np
    from ray.tune.schedulers import AsyncHyperBandScheduler, FIFOScheduler, MedianStoppingRule

    class HyperDriveScheduler(StopLog, FIFOScheduler):
        """What Bandit and truncation share: each trial's best value up to every step it
        reported, and the steps at which the policy is evaluated."""

        _metric: str

        def __init__(self, options: EarlyStop, metric: str, mode: str) -> None:
            super().__init__()
            self._metric = metric
            self._minimize = mode == "min"
            self._options = options
            self._best: dict[str, list[float]] = {}  # trial id -> best value up to step i + 1
            self._stopped = {}

        def on_trial_result(
            self, tune_controller: TuneController, trial: Trial, result: dict[str, Any]
        ) -> str:
            if REPEATED in result:  # the trial's code has ended: nothing left to stop
                if self._metric not in result[REPEATED]:
                    self._record(trial.trial_id, result)
                return self.CONTINUE
            step = self._record(trial.trial_id, result)
            if step is None or step < self._options.delay or step % self._options.interval:
                return self.CONTINUE
            return self._logged(
                trial, result, _STOP if self._stops(trial.trial_id, step) else self.CONTINUE
            )

        def on_trial_complete(
            self, tune_controller: TuneController, trial: Trial, result: dict[str, Any]
        ) -> None:
            if self._metric not in result.get(REPEATED, ()):  # not a value seen before
                self._record(trial.trial_id, result)  # a last result Tune did not pass above

        def _better(self, a: float, b: float) -> bool:
            return a < b if self._minimize else a > b

        def _record(self, trial_id: str, result: Mapping[str, Any]) -> int | None:
            """The result's step, once its value is recorded; None if it has none."""
            step, reported = result.get(STEP), result.get(self._metric)
            if not isinstance(step, int) or not isinstance(reported, numbers.Real):
                return None
            value = float(reported)
            if math.isnan(value):
                return None
            best = self._best.setdefault(trial_id, [])
            del best[step - 1 :]  # a restarted trial reports its steps again
            prior = best[-1] if best else (math.inf if self._minimize else -math.inf)
            best.extend([prior] * (step - 1 - len(best)))  # steps that had no value
            best.append(value if self._better(value, prior) else prior)
            return step

        def _best_at(self, trial_id: str, step: int) -> float:
            best = self._best[trial_id]
            return best[min(step, len(best)) - 1]

        def _stops(self, trial_id: str, step: int) -> bool:
            raise NotImplementedError

    class BanditScheduler(HyperDriveScheduler):
        """HyperDrive's BanditPolicy (see the module's docstring)."""

        policy = "bandit"

        def _stops(self, trial_id: str, step: int) -> bool:
            values = [self._best_at(other, step) for other in self._best]
            best = min(values) if self._minimize else max(values)
            slack, amount = self._options.slack, self._options.slack_amount
            if amount is not None:
                limit = best + amount if self._minimize else best - amount
            else:  # a ratio, as HyperDrive's slack_factor: meant for values > 0
                ratio = 1 + (slack or 0.0)
                limit = best * ratio if self._minimize else best / ratio
            return self._better(limit, self._best_at(trial_id, step))

        def debug_string(self) -> str:
            return f"Using HyperDrive's Bandit policy: {len(self._stopped)} stopped."

    class TruncationScheduler(HyperDriveScheduler):
        """HyperDrive's TruncationSelectionPolicy (see the module's docstring)."""

        policy = "truncation"

        def _stops(self, trial_id: str, step: int) -> bool:
            reached = [best[step - 1] for best in self._best.values() if len(best) >= step]
            cut = len(reached) * (self._options.percent or 0) // 100
            mine = self._best[trial_id][step - 1]
            better = sum(self._better(other, mine) for other in reached)
            return cut > 0 and better >= len(reached) - cut

        def debug_string(self) -> str:
            return f"Using HyperDrive's truncation selection: {len(self._stopped)} stopped."

    class MedianStopScheduler(StopLog, MedianStoppingRule):
        """Tune's median stopping rule, made HyperDrive's MedianStoppingPolicy: evaluated
        every `interval` steps from `delay` on, running averages over steps 1..N (Tune's
        start at its grace period), and a trial with too few others to compare goes on
        (Tune's would pause it, and a paused function trial starts again from scratch)."""

        policy = "median"

        def __init__(self, options: EarlyStop, metric: str, mode: str) -> None:
            super().__init__(time_attr=STEP, metric=metric, mode=mode, grace_period=options.delay)
            self._interval = options.interval
            self._stopped = {}

        def on_trial_result(
            self, tune_controller: TuneController, trial: Trial, result: dict[str, Any]
        ) -> str:
            step = result.get(STEP)
            if REPEATED in result:  # the trial's code has ended: nothing left to stop
                if self._metric in result and self._metric not in result[REPEATED]:
                    self._results[trial].append(result)
                return self.CONTINUE
            if self._metric in result and isinstance(step, int) and step % self._interval:
                self._results[trial].append(result)  # kept for the averages, not evaluated
                return self.CONTINUE
            decision = super().on_trial_result(tune_controller, trial, result)
            return self._logged(trial, result, decision)

        def _running_mean(self, trial: Trial, time: float) -> Any:
            values = [r[self._metric] for r in self._results[trial] if r[self._time_attr] <= time]
            return np.mean(values) if values else np.nan

        def _on_insufficient_samples(
            self, tune_controller: TuneController, trial: Trial, time: float
        ) -> str:
            return self.CONTINUE

    class ASHAStopScheduler(StopLog, AsyncHyperBandScheduler):
        """Tune's ASHA on `training_iteration`. At `max_t` a trial goes on to its end (its
        code may save outputs after its last step) or is stopped at its next step; either
        way it used its whole budget, so it is not logged as stopped early."""

        policy = "asha"

        def __init__(self, options: EarlyStop, metric: str, mode: str) -> None:
            super().__init__(
                time_attr=STEP,
                metric=metric,
                mode=mode,
                max_t=options.max_t,
                grace_period=options.grace,
                reduction_factor=options.reduction,
            )
            self._budget = options.max_t
            self._stopped = {}

        def on_trial_result(
            self, tune_controller: TuneController, trial: Trial, result: dict[str, Any]
        ) -> str:
            if REPEATED in result:  # the trial's code has ended: nothing left to stop
                return self.CONTINUE
            step = result.get(STEP, 0)
            if step == self._budget:
                # Its whole budget, reported as soon as logged: the code may end here and
                # save its outputs (a longer one is stopped at its next step).
                return self.CONTINUE
            decision = super().on_trial_result(tune_controller, trial, result)
            if step >= self._budget:
                return decision  # its whole budget: not an early stop
            return self._logged(trial, result, decision)

    return {
        "bandit": BanditScheduler,
        "median": MedianStopScheduler,
        "truncation": TruncationScheduler,
        "asha": ASHAStopScheduler,
    }
