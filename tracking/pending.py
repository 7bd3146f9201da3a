"""Metric values a run has logged and not written yet.

`run.log(name, number)` keeps the value, with the time it was logged, instead of writing a
transaction for each one, as Azure ML v1's client sends its values in the background. The
values are written:
- with the run's end (`complete`, `fail`, `cancel`), in the transaction that ends it: a
  finished run has every value it logged;
- before this process reads runs back through the facade (`run.get_metrics()`,
  `experiment.get_runs()`, `get_best_run`, `to_dataframe`), or on `run.flush()`;
- by a daemon thread within `FLUSH_S` of being logged, so the portal shows a live run's
  values as it logs them, and at the latest when the process exits normally;
- at once when `MAX_PENDING` values are waiting.
A process killed between a `log` and the next write loses those values (at most `FLUSH_S`
of them), as it would with v1; its run is then failed by the heartbeat check.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections.abc import Callable, Sequence
from functools import partial

from tracking.errors import RunFinishedError, TrackingError
from tracking.records import MetricItem

log = logging.getLogger(__name__)

FLUSH_S = 1.0  # the longest a logged value waits before the thread writes it
MAX_PENDING = 1000  # values kept before the logging call writes them itself


class PendingValues:
    """One run's values waiting to be written; `write` records a batch of them."""

    def __init__(self, write: Callable[[Sequence[MetricItem]], None]) -> None:
        self._write = write
        self._items: list[MetricItem] = []
        self._since: float | None = None  # when the oldest waiting value was logged
        self._items_lock = threading.Lock()  # held for a list operation only
        self._write_lock = threading.Lock()  # batches are written one at a time, in order

    def add(self, items: Sequence[MetricItem]) -> tuple[bool, bool]:
        """Keep the values; returns whether they are the first waiting (the run is to be
        watched) and whether as many wait as should be written now."""
        with self._items_lock:
            first = not self._items
            self._items.extend(items)
            if self._since is None:
                self._since = time.monotonic()
            return first, len(self._items) >= MAX_PENDING

    def due(self, now: float) -> bool:
        with self._items_lock:
            return self._since is not None and now - self._since >= FLUSH_S

    @property
    def empty(self) -> bool:
        with self._items_lock:
            return not self._items

    def flush(self) -> None:
        """Write what is waiting (nothing to do if nothing is). Values that could not be
        written wait for the next try, unless their run has ended (then they are dropped:
        the error says so)."""
        with self._write_lock:
            items = self._take()
            if items:
                self._written_or_kept(self._write, items)

    def finish(self, end: Callable[[Sequence[MetricItem]], None]) -> None:
        """End the run with `end`, handing it what is waiting (after any batch being
        written), so that the values and the end are one transaction."""
        with self._write_lock:
            self._written_or_kept(end, self._take())

    def _written_or_kept(
        self, write: Callable[[Sequence[MetricItem]], None], items: list[MetricItem]
    ) -> None:
        try:
            write(items)
        except RunFinishedError:
            raise
        except TrackingError:
            with self._items_lock:
                self._items[:0] = items
                self._since = self._since or time.monotonic()
            raise

    def _take(self) -> list[MetricItem]:
        with self._items_lock:
            items, self._items, self._since = self._items, [], None
            return items


class Flusher:
    """The daemon thread that writes the waiting values of a workspace's runs; started by
    the first run that keeps values, it also writes them when the process exits."""

    def __init__(self) -> None:
        self._pending: set[PendingValues] = set()  # held until written, even if the run is not
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def watch(self, pending: PendingValues) -> None:
        with self._lock:
            self._pending.add(pending)
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name="flusher", daemon=True)
                self._thread.start()
                atexit.register(self.close)

    def _work(self) -> None:
        while not self._stop.wait(FLUSH_S / 4):
            self._flush(partial(PendingValues.due, now=time.monotonic()))

    def _flush(self, which: Callable[[PendingValues], bool]) -> None:
        with self._lock:
            chosen = [pending for pending in self._pending if which(pending)]
        for pending in chosen:
            try:
                pending.flush()
            except RunFinishedError as err:  # ended by another process: they cannot be kept
                log.warning("a run's logged values were dropped: %s", err)
            except TrackingError as err:  # the database is away: tried again next time
                log.warning("could not record a run's logged values yet: %s", err)
        with self._lock:  # a run that logs again is watched again
            self._pending = {pending for pending in self._pending if not pending.empty}

    def flush(self) -> None:
        """Write every value waiting now: before this process reads runs back, so that it
        reads what it logged."""
        if self._pending:  # most reads find nothing waiting: no lock taken
            self._flush(lambda pending: True)

    def close(self) -> None:
        """Stop the thread, then write every value still waiting."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._flush(lambda pending: True)
        atexit.unregister(self.close)
