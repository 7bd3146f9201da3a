"""A sweep's claim on its experiment: one holder at a time, and none that died holds it long."""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path

import pytest

from sweep.claim import acquire, claim_key, holder_for, this_process
from tracking import Experiment, Workspace


@pytest.fixture
def experiment(tmp_path: Path) -> Experiment:
    ws = Workspace("t", tracking_uri=f"sqlite:///{tmp_path}/r.db", storage_uri=str(tmp_path / "s"))
    return Experiment(ws, "claimed")


def _plant(experiment: Experiment, process: str, lease_s: float) -> str:
    """A claim on the experiment, as another driver (`process`: "host pid start") makes it;
    returns its holder."""
    holder = holder_for("other-sweep", process)
    assert experiment.workspace.records.claim(claim_key(experiment), holder, lease_s)
    return holder


def test_a_second_sweep_waits_for_the_first_to_release_the_experiment(
    experiment: Experiment,
) -> None:
    first = acquire(experiment, "first")
    told: list[str] = []
    second = []
    waiter = threading.Thread(
        target=lambda: second.append(acquire(experiment, "second", notify=told.append, poll_s=0.05))
    )
    waiter.start()
    waiter.join(timeout=1.0)
    assert waiter.is_alive() and not second  # held: it waits
    assert len(told) == 1 and "held by sweep 'first'" in told[0]
    first.release()
    waiter.join(timeout=10)
    assert second, "the second sweep did not go on once the first released the experiment"
    records = experiment.workspace.records
    held = records.get_claim(claim_key(experiment))
    assert held is not None and held.holder == second[0].holder
    assert held.holder.startswith("sweep 'second' (driver pid ")
    second[0].release()
    assert records.get_claim(claim_key(experiment)) is None


def test_a_claim_whose_driver_died_here_is_taken_over_at_once(experiment: Experiment) -> None:
    gone = subprocess.Popen(["true"])
    gone.wait()
    _plant(experiment, f"{this_process().split()[0]} {gone.pid} 12345", lease_s=3600)
    claim = acquire(experiment, "mine", notify=pytest.fail)
    claim.release()


def test_a_claim_from_another_host_is_taken_over_when_its_lease_runs_out(
    experiment: Experiment,
) -> None:
    _plant(experiment, "elsewhere 1 1", lease_s=0.05)
    time.sleep(0.2)
    claim = acquire(experiment, "mine", notify=pytest.fail)
    claim.release()


def test_a_live_claim_from_another_host_is_waited_for(experiment: Experiment) -> None:
    other = _plant(experiment, "elsewhere 1 1", lease_s=3600)
    told: list[str] = []
    mine = []
    waiter = threading.Thread(
        target=lambda: mine.append(acquire(experiment, "mine", notify=told.append, poll_s=0.05)),
        daemon=True,
    )
    waiter.start()
    waiter.join(timeout=0.5)
    assert waiter.is_alive()
    assert told == [
        f"experiment 'claimed' is held by sweep 'other-sweep' (driver pid 1 on elsewhere, since "
        f"{told[0].split('since ')[1].split(')')[0]}): waiting for it to end, then training "
        "what it left (Ctrl-C to stop)"
    ]
    experiment.workspace.records.release_claim(claim_key(experiment), other)
    waiter.join(timeout=10)
    assert mine, "the sweep did not go on once the other released the experiment"
    held = experiment.workspace.records.get_claim(claim_key(experiment))
    assert held is not None and held.holder == mine[0].holder
    mine[0].release()


def test_the_claims_live_in_no_experiment(experiment: Experiment) -> None:
    acquire(experiment, "mine").release()
    assert set(experiment.workspace.experiments) == {"claimed"}
