"""`Writer`: record writes applied in order on one background thread, a batch at a time."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

Op = TypeVar("Op")
MAX_BATCH = 2000


class _Signal:
    """A queue item that is not a write: it ends the batch being gathered."""

    def __init__(self, name: str) -> None:
        self.name = name


_FLUSH, _STOP = _Signal("flush"), _Signal("stop")


class Writer(Generic[Op]):
    """Applies queued writes in order on one daemon thread, a batch at a time.

    It gathers what arrives within `window` seconds into one batch, so that many short
    trials are recorded in one transaction; failures are reported, never raised.
    """

    def __init__(
        self, apply: Callable[[list[Op]], None], on_error: Callable[[str], None], window: float
    ) -> None:
        self._queue: queue.Queue[Op | _Signal] = queue.Queue()
        self._apply = apply
        self._on_error = on_error
        self._window = window
        self._thread = threading.Thread(target=self._work, name="tracking-writer", daemon=True)
        self._thread.start()

    def submit(self, op: Op) -> None:
        self._queue.put(op)

    def flush(self) -> None:
        """Wait until every write submitted so far is done (without waiting out the window)."""
        self._queue.put(_FLUSH)
        self._queue.join()

    def _batch(self) -> list[Op | _Signal]:
        """The next batch: what arrives within the window, up to a signal or MAX_BATCH."""
        items = [self._queue.get()]
        deadline = time.monotonic() + self._window
        while not isinstance(items[-1], _Signal) and len(items) < MAX_BATCH:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                items.append(self._queue.get(timeout=remaining))
            except queue.Empty:
                break
        return items

    def _work(self) -> None:
        stop = False
        while not stop:
            items = self._batch()
            stop = items[-1] is _STOP
            ops = [item for item in items if not isinstance(item, _Signal)]
            try:
                if ops:
                    self._apply(ops)
            except Exception as err:  # a bug must not silently stop every later write
                self._on_error(f"could not record {len(ops)} writes: {type(err).__name__}: {err}")
            finally:
                for _ in items:
                    self._queue.task_done()

    def close(self) -> None:
        self._queue.put(_STOP)
        self._thread.join()
