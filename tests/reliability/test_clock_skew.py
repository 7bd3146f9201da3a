"""Case 23: a process whose clock is off opens the workspace while a writer beats.

The writer is a real process on the real clock; each reader is a process whose own clock
(`utcnow`, as every module of `tracking` reads it) runs 11 minutes fast, or slow.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tracking import Workspace
from tracking.records import RunStatus

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_S = 3  # the workspace's heartbeat timeout: the writer beats every 0.3 s
SKEW_MIN = 11

WRITER = """
import sys, time
from tracking import Experiment, Workspace
ws = Workspace("t", tracking_uri=sys.argv[1], storage_uri=sys.argv[2], heartbeat_timeout_s={t})
runs = [Experiment(ws, "skew").start_logging() for _ in range(3)]
print(" ".join(run.id for run in runs), flush=True)
time.sleep(600)
"""

READER = """
import json, sys
from datetime import timedelta
import tracking.heartbeat, tracking.records, tracking.stores.sql, tracking.workspace
real = tracking.records.utcnow
def skewed():
    return real() + timedelta(minutes=float(sys.argv[3]))
for name, module in list(sys.modules.items()):  # this process's clock, wherever it is read
    if name.startswith("tracking") and getattr(module, "utcnow", None) is real:
        module.utcnow = skewed
ws = tracking.workspace.Workspace(
    "t", tracking_uri=sys.argv[1], storage_uri=sys.argv[2], heartbeat_timeout_s={t}
)
print(json.dumps(list(ws.lost_runs)))
ws.close()
"""


def _python(code: str, *args: str) -> list[str]:
    return [sys.executable, "-c", textwrap.dedent(code).format(t=TIMEOUT_S), *args]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def _open_with_clock(uri: str, storage: str, minutes: float) -> list[str]:
    """The runs a process whose clock is `minutes` off fails as lost by opening the workspace."""
    done = subprocess.run(
        _python(READER, uri, storage, str(minutes)),
        env=_env(), capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    failed: list[str] = json.loads(done.stdout)
    return failed


@pytest.mark.reliability(
    case=23,
    fault=f"a reader whose clock runs {SKEW_MIN} min fast opens the workspace (which fails "
    "lost runs) while a writer process beats; then the writer is SIGKILLed and a reader "
    f"{SKEW_MIN} min slow opens it after the timeout",
    expected="heartbeats are judged on the database's clock: the fast reader fails none "
    "of the beating runs; the slow one fails all of the dead writer's runs, once",
)
def test_a_reader_with_a_skewed_clock_judges_heartbeats_on_the_databases_clock(
    tracking_uri: str, tmp_path: Path, record_property: pytest.RecordProperty
) -> None:
    storage = str(tmp_path / "storage")
    writer = subprocess.Popen(
        _python(WRITER, tracking_uri, storage),
        env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert writer.stdout is not None
        runs = writer.stdout.readline().split()
        assert len(runs) == 3, writer.stderr.read() if writer.stderr else ""
        # Until well past the timeout since the runs began: only their beats keep them.
        fast, opens, began = [], 0, time.monotonic()
        while opens < 2 or time.monotonic() - began < 2 * TIMEOUT_S:
            fast += _open_with_clock(tracking_uri, storage, SKEW_MIN)
            opens += 1
        alive = writer.poll() is None
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=30)
    ws = Workspace("t", tracking_uri=tracking_uri, storage_uri=storage, heartbeat_timeout_s=3600)
    statuses = [ws.records.get_run(run_id).status for run_id in runs]

    time.sleep(TIMEOUT_S + 1.5)
    slow = _open_with_clock(tracking_uri, storage, -SKEW_MIN)
    again = _open_with_clock(tracking_uri, storage, -SKEW_MIN)
    ended = [ws.records.get_run(run_id) for run_id in runs]
    ws.close()
    backend = tracking_uri.partition(":")[0]
    record_property(
        "observed",
        f"{backend}: {opens} opens {SKEW_MIN} min fast while the writer beat failed {len(fast)} of "
        f"its 3 runs ({[s.value for s in statuses]} after); after its kill, {SKEW_MIN} min "
        f"slow: failed {len(slow)}, then {len(again)} more",
    )
    assert alive and fast == [] and statuses == [RunStatus.RUNNING] * 3
    assert sorted(slow) == sorted(runs) and again == []
    assert all(r.status is RunStatus.FAILED and (r.error or "").startswith("lost") for r in ended)
