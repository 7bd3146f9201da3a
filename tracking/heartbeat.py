"""Heartbeats: a process says its running runs are alive, so that runs left behind by a
process that died (killed, crashed, cut off) are failed instead of running forever.

Beats are dated, and silence measured, by the database's clock (see
`RecordStore.heartbeat` and `fail_lost_runs`): processes whose clocks disagree still agree
on which runs are lost.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING

from tracking.errors import TrackingError
from tracking.records import RunStatus

if TYPE_CHECKING:
    from tracking.records import RunRecord
    from tracking.stores.base import RecordStore

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 600.0  # a run silent this long is lost
LOST = "lost: "  # how the error of a run failed for a stopped heartbeat begins


def is_lost(run: RunRecord) -> bool:
    """Whether the run was failed because the process recording it stopped beating."""
    return run.status is RunStatus.FAILED and (run.error or "").startswith(LOST)


def lost_error(timeout_s: float) -> str:
    return (
        f"{LOST}no heartbeat for {timeout_s:g} s: the process recording this run stopped "
        "(killed, crashed or cut off) before finishing it"
    )


def interval_for(timeout_s: float) -> float:
    """How often to beat: ten beats per timeout, at most every 30 s."""
    return min(30.0, timeout_s / 10)


class Heartbeat:
    """Beats for this process's running runs from a daemon thread, every `interval` s.

    The thread starts with the first run added; a failed beat is logged and retried at
    the next one.
    """

    def __init__(self, records: RecordStore, interval: float) -> None:
        self._records = records
        self._interval = interval
        self._runs: set[str] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, run_ids: Iterable[str]) -> None:
        with self._lock:
            self._runs.update(run_ids)
            if self._thread is None and self._runs:
                self._thread = threading.Thread(target=self._work, name="heartbeat", daemon=True)
                self._thread.start()

    def discard(self, run_ids: Iterable[str]) -> None:
        with self._lock:
            self._runs.difference_update(run_ids)

    @property
    def runs(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._runs)

    def _work(self) -> None:
        while not self._stop.wait(self._interval):
            runs = sorted(self.runs)
            try:
                self._records.heartbeat(runs)
            except TrackingError as err:
                log.warning("could not record the heartbeat of %d runs: %s", len(runs), err)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
