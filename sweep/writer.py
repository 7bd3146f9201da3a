"""`Writer`: record writes applied in order on one background thread, a batch at a time."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

Op = TypeVar("Op")
MAX_BATCH = 2000


class Writer(Generic[Op]):
    """Applies submitted writes in order on one daemon thread, a batch at a time.

    A batch is what arrives within `window` seconds of its first write (or `MAX_BATCH`
    writes), so that many short trials are recorded in one transaction. `flush` and `close`
    end the window at once. Failures are reported, never raised.

    Submitting only appends to a list under a lock: the thread that submits (Tune's event
    loop) is woken or held up by the writer once per batch, not once per write.
    """

    def __init__(
        self, apply: Callable[[list[Op]], None], on_error: Callable[[str], None], window: float
    ) -> None:
        self._apply = apply
        self._on_error = on_error
        self._window = window
        self._changed = threading.Condition()
        # Guarded by _changed:
        self._pending: list[Op] = []
        self._submitted = 0  # writes submitted so far
        self._applied = 0  # writes applied (or reported failed) so far
        self._hurry = False  # a flush or close waits: no window
        self._stopping = False
        self._thread = threading.Thread(target=self._work, name="tracking-writer", daemon=True)
        self._thread.start()

    def submit(self, op: Op) -> None:
        with self._changed:
            self._pending.append(op)
            self._submitted += 1
            if len(self._pending) in (1, MAX_BATCH):  # a batch opens, or is full
                self._changed.notify_all()

    def flush(self) -> None:
        """Wait until every write submitted so far is applied (without waiting out the window)."""
        with self._changed:
            target = self._submitted
            self._hurry = True
            self._changed.notify_all()
            self._changed.wait_for(lambda: self._applied >= target)

    def close(self) -> None:
        """Apply what is pending, then stop the thread."""
        with self._changed:
            self._stopping = self._hurry = True
            self._changed.notify_all()
        self._thread.join()

    def _batch(self) -> tuple[list[Op], bool]:
        """Wait for the next batch; return it and whether the writer should stop after it."""
        with self._changed:
            self._changed.wait_for(lambda: self._pending or self._stopping)
            self._changed.wait_for(
                lambda: self._hurry or len(self._pending) >= MAX_BATCH, timeout=self._window
            )
            batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
            if not self._pending:
                self._hurry = self._stopping
            return batch, self._stopping and not self._pending

    def _work(self) -> None:
        stop = False
        while not stop:
            batch, stop = self._batch()
            try:
                if batch:
                    self._apply(batch)
            except Exception as err:  # a bug must not silently stop every later write
                self._on_error(f"could not record {len(batch)} writes: {type(err).__name__}: {err}")
            finally:
                with self._changed:
                    self._applied += len(batch)
                    self._changed.notify_all()
