"""`--early-stop`: the parser, and HyperDrive's Bandit, median and truncation policies and ASHA as
Tune schedulers, fed real `Trial`s step by step (each in a real sweep: test_sweep_user_code).
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from sweep.errors import SweepInputError
from sweep.policies import STEP, EarlyStop, StopLog, parse_early_stop

CONTINUE, STOP = "CONTINUE", "STOP"

# --- the parser ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "bandit:slack=0.1,interval=1,delay=5",
            EarlyStop("bandit", slack=0.1, interval=1, delay=5),
        ),
        ("bandit:slack_amount=0.2", EarlyStop("bandit", slack_amount=0.2)),
        (" bandit: delay = 3 , slack = 1e-1 ", EarlyStop("bandit", slack=0.1, delay=3)),
        ("median:delay=5", EarlyStop("median", delay=5)),
        ("median", EarlyStop("median", interval=1, delay=0)),
        ("median:delay=5,interval=2", EarlyStop("median", delay=5, interval=2)),
        ("truncation:percent=20", EarlyStop("truncation", percent=20)),
        (
            "truncation:percent=99,interval=2,delay=4",
            EarlyStop("truncation", percent=99, interval=2, delay=4),
        ),
        ("asha:grace=2", EarlyStop("asha", grace=2, max_t=100, reduction=4.0)),
        ("asha:grace=2,max_t=20,reduction=3", EarlyStop("asha", grace=2, max_t=20, reduction=3)),
    ],
)
def test_accepted_forms_and_hyperdrives_defaults(text: str, expected: EarlyStop) -> None:
    assert parse_early_stop(text) == expected


@pytest.mark.parametrize(
    ("text", "named", "accepted"),
    [
        ("", "''", "use one of bandit:"),
        ("hyperband:grace=2", "'hyperband'", "truncation:percent=P"),
        ("Bandit:slack=0.1", "'Bandit'", "median[:delay=N]"),
        ("bandit", "slack=F", "exactly one of"),
        ("bandit:slack=0.1,slack_amount=0.2", "slack_amount=F", "exactly one of"),
        ("bandit:slack=0", "slack '0'", "a number > 0"),
        ("bandit:slack=-0.1", "slack '-0.1'", "a number > 0"),
        ("bandit:slack=nan", "slack 'nan'", "a number > 0"),
        ("bandit:slack=inf", "slack 'inf'", "a number > 0"),
        ("bandit:slack_amount=much", "slack_amount 'much'", "a number > 0"),
        ("bandit:slack=0.1,delay=-1", "delay '-1'", "an integer >= 0"),
        ("bandit:slack=0.1,interval=0", "interval '0'", "an integer >= 1"),
        ("bandit:slack=0.1,interval=1.5", "interval '1.5'", "an integer >= 1"),
        ("bandit:slack=0.1,percent=20", "'percent'", "it takes slack, slack_amount"),
        ("bandit:slack=0.1,slack=0.2", "'slack' is given twice", "bandit option"),
        ("bandit:slack", "'slack'", "write name=value"),
        ("bandit:slack=0.1,,delay=5", "''", "write name=value"),
        ("bandit:slack=0.1\ndelay=5", "slack '0.1\\ndelay=5'", "a number > 0"),
        ("median:grace=5", "'grace'", "it takes delay, interval"),
        ("truncation", "percent=P", "an integer from 1 to 99"),
        ("truncation:percent=0", "percent '0'", "an integer from 1 to 99"),
        ("truncation:percent=100", "percent '100'", "an integer from 1 to 99"),
        ("truncation:percent=20.5", "percent '20.5'", "an integer from 1 to 99"),
        ("asha:grace=0", "grace '0'", "an integer >= 1"),
        ("asha:grace=5,max_t=2", "max_t 2", "must be >= grace (5)"),
        ("asha:reduction=1", "reduction '1'", "a number > 1"),
    ],
)
def test_bad_input_fails_in_one_line_naming_the_value_and_what_is_accepted(
    text: str, named: str, accepted: str
) -> None:
    with pytest.raises(SweepInputError) as raised:
        parse_early_stop(text)
    message = str(raised.value)
    assert "\n" not in message
    assert named in message and accepted in message


def test_a_scheduler_needs_min_or_max() -> None:
    with pytest.raises(SweepInputError, match="mode 'lowest' is not accepted: use 'min' or 'max'"):
        parse_early_stop("median").scheduler("loss", "lowest")


def test_importing_the_policies_imports_no_ray() -> None:
    code = "import sys, sweep.policies; assert 'ray' not in sys.modules, 'ray'"
    subprocess.run([sys.executable, "-c", code], check=True)


# --- decisions, fed real Trials --------------------------------------------------------------


def _trial(trial_id: str) -> Any:
    from ray.tune.experiment import Trial

    return Trial("climb", trial_id=trial_id, stub=True)


class Feed:
    """A scheduler fed results the way Tune's controller feeds them, one trial step by step."""

    def __init__(self, early_stop: str, metric: str = "loss", mode: str = "min") -> None:
        self.scheduler = parse_early_stop(early_stop).scheduler(metric, mode)
        self.metric = metric
        self.trials: dict[str, Any] = {}

    def __call__(self, trial_id: str, *values: float, start: int = 1) -> list[str]:
        """The decisions on the trial's `values` from step `start` on, up to its first STOP."""
        trial = self.trials.get(trial_id)
        if trial is None:
            trial = self.trials[trial_id] = _trial(trial_id)
            self.scheduler.on_trial_add(None, trial)
        decisions = []
        for step, value in enumerate(values, start):
            result = {STEP: step, self.metric: value, "trial_id": trial_id}
            decisions.append(self.scheduler.on_trial_result(None, trial, result))
            if decisions[-1] == STOP:
                break
        return decisions

    def stopped_by(self, trial_id: str) -> tuple[str, int] | None:
        assert isinstance(self.scheduler, StopLog)
        return self.scheduler.stopped_by(trial_id)


def test_bandit_slack_factor_as_hyperdrive_documents_it_when_maximizing() -> None:
    """Best AUC 0.8, slack_factor 0.2: a run whose best is below 0.8 / 1.2 (0.667) is cut."""
    feed = Feed("bandit:slack=0.2", metric="auc", mode="max")
    assert feed("best", 0.8) == [CONTINUE]
    assert feed("within", 0.67) == [CONTINUE]
    assert feed("outside", 0.66) == [STOP]
    assert feed.stopped_by("outside") == ("bandit", 1)
    assert feed.stopped_by("within") is None and feed.stopped_by("best") is None


def test_bandit_slack_amount_when_maximizing_and_slack_factor_when_minimizing() -> None:
    amount = Feed("bandit:slack_amount=0.25", metric="auc", mode="max")
    assert amount("best", 0.75) + amount("edge", 0.5) == [CONTINUE, CONTINUE]
    assert amount("outside", 0.49) == [STOP]
    factor = Feed("bandit:slack=0.5")  # loss: within best * 1.5
    assert factor("best", 1.0) + factor("edge", 1.5) == [CONTINUE, CONTINUE]
    assert factor("outside", 1.51) == [STOP]


def test_bandit_compares_best_values_up_to_the_same_step() -> None:
    """A trial that ran ahead counts with what it had reported by the step evaluated; the
    trial evaluated counts with its best so far, not its latest value."""
    feed = Feed("bandit:slack=0.5")
    assert feed("ahead", 1.0, 0.5, 0.25, 0.1) == [CONTINUE] * 4
    assert feed("late", 1.4, 1.4) == [CONTINUE, STOP]  # 1.4 <= 1.0 * 1.5, then > 0.5 * 1.5
    assert feed.stopped_by("late") == ("bandit", 2)
    relapsing = Feed("bandit:slack=0.5")
    assert relapsing("steady", 1.0, 1.0, 1.0) == [CONTINUE] * 3
    assert relapsing("relapse", 0.9, 9.0, 9.0) == [CONTINUE] * 3  # its best, 0.9, leads


def test_a_policy_is_evaluated_at_multiples_of_interval_from_delay_on() -> None:
    feed = Feed("bandit:slack=0.1,delay=3,interval=2")
    assert feed("good", *[1.0] * 6) == [CONTINUE] * 6
    assert feed("bad", *[9.0] * 6) == [CONTINUE, CONTINUE, CONTINUE, STOP]
    assert feed.stopped_by("bad") == ("bandit", 4)


def test_truncation_cuts_the_lowest_percent_rounded_down() -> None:
    """20 % of 4 trials is none; of 5, one: the worst; of 6, still one."""
    feed = Feed("truncation:percent=20")
    assert [feed(t, v)[0] for t, v in (("a", 1), ("b", 2), ("c", 3), ("d", 4))] == [CONTINUE] * 4
    assert feed("worst", 5) == [STOP]
    assert feed.stopped_by("worst") == ("truncation", 1)
    assert feed("middle", 3.5) == [CONTINUE]  # 4 and 5 are below it


def test_truncation_ranks_a_young_trial_against_older_ones_at_the_same_step() -> None:
    feed = Feed("truncation:percent=20")
    for old in "abcd":
        assert feed(old, 10.0, 1.0, 1.0) == [CONTINUE] * 3
    assert feed("young", 5.0, 5.0) == [CONTINUE, STOP]  # best at step 1; worst at step 2
    assert feed.stopped_by("young") == ("truncation", 2)


def test_truncation_lets_ties_go_on() -> None:
    feed = Feed("truncation:percent=40")
    assert [feed(t, 1.0)[0] for t in "abcde"] == [CONTINUE] * 5


def test_median_averages_from_step_one_as_hyperdrive_and_never_pauses() -> None:
    """At step 2 the others' running averages over steps 1..2 are 5.5 (Tune's, from its
    grace period, would be 1.0); too few others to compare with: the trial goes on."""
    feed = Feed("median:delay=2")
    for other in "abc":
        assert feed(other, 10.0, 1.0) == [CONTINUE, CONTINUE]
    assert feed("fair", 4.0, 3.0) == [CONTINUE, CONTINUE]
    assert feed("poor", 9.0, 8.0) == [CONTINUE, STOP]
    assert feed.stopped_by("poor") == ("median", 2) and feed.stopped_by("fair") is None


def test_median_is_evaluated_every_interval_steps() -> None:
    feed = Feed("median:interval=2")
    for other in "abc":
        feed(other, 1.0, 1.0)
    assert feed("poor", 9.0, 9.0) == [CONTINUE, STOP]
    assert feed.stopped_by("poor") == ("median", 2)


def test_asha_logs_its_early_stops_but_not_the_end_of_a_trials_budget() -> None:
    feed = Feed("asha:grace=1,max_t=3,reduction=2")
    # At max_t the trial's code may still save its outputs; a step beyond it is stopped.
    assert feed("good", 1.0, 0.5, 0.2, 0.1) == [CONTINUE, CONTINUE, CONTINUE, STOP]
    assert feed("bad", 9.0) == [STOP]
    assert feed.stopped_by("good") is None
    assert feed.stopped_by("bad") == ("asha", 1)


@pytest.mark.parametrize(
    "early_stop",
    ["bandit:slack=0.1", "truncation:percent=50", "median", "asha:grace=1,max_t=3,reduction=2"],
)
def test_no_policy_stops_a_trial_on_the_last_report_of_its_ended_code(early_stop: str) -> None:
    """A script trial's last report (files, `REPEATED` metrics) comes after its code ended."""
    from sweep.cells import REPEATED

    feed = Feed(early_stop)
    for other in "abcd":
        feed(other, 1.0, 1.0, 1.0)
    poor = feed.trials.setdefault("poor", _trial("poor"))
    feed.scheduler.on_trial_add(None, poor)
    last = {STEP: 1, "loss": 50.0, REPEATED: [], "trial_id": "poor"}  # its one step, unsent
    assert feed.scheduler.on_trial_result(None, poor, last) == CONTINUE
    again = {STEP: 2, "loss": 50.0, REPEATED: ["loss"], "trial_id": "poor"}
    assert feed.scheduler.on_trial_result(None, poor, again) == CONTINUE
    assert feed.stopped_by("poor") is None
    # The same values as steps of a running trial are stopped: the report made the difference.
    assert STOP in feed("poorer", 50.0, 50.0, 50.0)


def test_a_finished_trials_repeated_last_report_is_not_a_step_it_reached() -> None:
    """Truncation ranks the trials that reached a step: a trial whose code ended after step
    1 does not reach step 2 by its last report (nor by Tune passing it again at its end)."""
    from sweep.cells import REPEATED

    feed = Feed("truncation:percent=50,delay=2")
    feed("a", 1.0, 1.0)
    assert feed("done", 5.0) == [CONTINUE]
    done = feed.trials["done"]
    last = {STEP: 2, "loss": 5.0, REPEATED: ["loss"], "trial_id": "done"}
    assert feed.scheduler.on_trial_result(None, done, last) == CONTINUE
    feed.scheduler.on_trial_complete(None, done, last)
    # At step 2 only a and x have reached it: x is the worse half, and is cut.
    assert feed("x", 4.0, 4.0) == [CONTINUE, STOP]
