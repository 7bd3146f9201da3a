"""One sweep of an experiment at a time: a claim on it in the record store, held with a lease.

A driver claims its experiment before it reads which grid cells are done, and holds the
claim until its last run is recorded. A second driver of the same experiment waits,
saying once which sweep holds it, and goes on when that sweep ends: it then trains only
the cells still to do (none, if both ran the same grid). Two drivers that start together
both ask the store for the same key (`RecordStore.claim`): exactly one gets it.

A claim whose driver died does not block the experiment for ever: it is taken over at once
when that driver ran on this host and its process is gone, else when its lease runs out
(the workspace's `heartbeat_timeout_s`, renewed ten times per timeout).
"""

from __future__ import annotations

import logging
import os
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from tracking import Experiment, TrackingError
from tracking.heartbeat import interval_for
from tracking.records import ClaimRecord, utcnow
from tracking.stores.base import RecordStore

log = logging.getLogger(__name__)

POLL_S = 1.0
_MARK = " | "  # between a holder's description and what tells its driver process


def _say(message: str) -> None:
    print(f"sweep: {message}", file=sys.stderr, flush=True)


def _process_start(pid: int) -> str | None:
    """What tells process `pid` of this host from a later one with its pid ('?': unknown);
    None if there is no such process."""
    if os.name == "nt":  # os.kill would end the process: take it as alive
        return "?"
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # another user's
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):  # no /proc here, or hidden
        return "?"
    return None if fields[0] in ("Z", "X") else fields[19]  # a zombie is gone too


def _host() -> str:
    """This host, and its pid namespace: where a pid names one process (two containers on
    one machine may share a host name, not their pids)."""
    try:
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        return socket.gethostname()
    return f"{socket.gethostname()}/{namespace}"


def this_process() -> str:
    """What tells this driver process from any other: host, pid and process start."""
    pid = os.getpid()
    return f"{_host()} {pid} {_process_start(pid) or '?'}"


def claim_key(experiment: Experiment) -> str:
    """The key of an experiment's claim in the record store."""
    return f"experiment:{experiment.id}"


def holder_for(sweep: str, process: str | None = None) -> str:
    """The holder of a claim made by this process for `sweep`: one line saying which sweep
    and driver hold it, then what tells that process (and this claim) from any other."""
    host, pid, start = (process or this_process()).split()
    return (
        f"sweep {sweep!r} (driver pid {pid} on {host.partition('/')[0]}, since "
        f"{utcnow():%Y-%m-%d %H:%M:%S} UTC){_MARK}{host} {pid} {start} {uuid.uuid4().hex[:8]}"
    )


def describe(holder: str) -> str:
    """The sweep that holds a claim, and where its driver runs, for one line."""
    return holder.rpartition(_MARK)[0] or holder


def driver_gone(holder: str) -> bool:
    """Whether a claim's driver ran on this host and its process is gone."""
    host, pid, start, *_ = [*holder.rpartition(_MARK)[2].split(), "", "", ""]
    if host != _host() or not pid.isdigit():
        return False
    alive = _process_start(int(pid))
    return alive is None or ("?" not in (alive, start) and alive != start)


class Claim:
    """This process's claim on an experiment; a daemon thread renews its lease until
    `release`."""

    def __init__(self, records: RecordStore, key: str, holder: str, lease_s: float) -> None:
        self.key = key
        self.holder = holder
        self._records = records
        self._lease_s = lease_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._renew, name="sweep-claim", daemon=True)
        self._thread.start()

    def _renew(self) -> None:
        while not self._stop.wait(interval_for(self._lease_s)):
            try:
                if not self._records.renew_claim(self.key, self.holder, self._lease_s):
                    log.warning("the sweep's claim %s was taken over: its lease ran out", self.key)
            except TrackingError as err:  # retried at the next beat
                log.warning("could not renew the sweep's claim %s: %s", self.key, err)

    def release(self) -> None:
        """End the claim: a waiting driver goes on at once."""
        if self._stop.is_set():
            return
        self._stop.set()
        self._thread.join()
        try:
            self._records.release_claim(self.key, self.holder)
        except TrackingError as err:
            log.warning("could not release the sweep's claim (it lapses by itself): %s", err)


def acquire(
    experiment: Experiment,
    sweep: str,
    *,
    notify: Callable[[str], None] = _say,
    poll_s: float = POLL_S,
) -> Claim:
    """Claim `experiment` for the sweep named `sweep`, waiting while another sweep holds it.

    Args:
        notify: told once, on one line, of each sweep that this one waits for.
        poll_s: how often to look again while waiting.

    Raises:
        TrackingError: the database failed.
    """
    ws = experiment.workspace
    records, lease_s = ws.records, ws.config.heartbeat_timeout_s
    key, holder = claim_key(experiment), holder_for(sweep)
    waited_for: str | None = None
    while records.claim(key, holder, lease_s) is None:
        held: ClaimRecord | None = records.get_claim(key)
        if held is None:
            continue  # released in the meantime: claim again
        if driver_gone(held.holder):
            records.release_claim(key, held.holder)  # only if still that dead driver's
            continue
        if held.holder != waited_for:
            waited_for = held.holder
            notify(
                f"experiment {experiment.name!r} is held by {describe(held.holder)}: waiting "
                "for it to end, then training what it left (Ctrl-C to stop)"
            )
        time.sleep(poll_s)
    return Claim(records, key, holder, lease_s)
