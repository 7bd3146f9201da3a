"""The callback's background writer: order, batches, flush, close and failures."""

from __future__ import annotations

import threading
import time

from sweep.writer import MAX_BATCH, Writer


class Recorder:
    def __init__(self, fail_on: int | None = None, delay_s: float = 0.0) -> None:
        self.batches: list[list[int]] = []
        self.errors: list[str] = []
        self.fail_on = fail_on
        self.delay_s = delay_s

    def apply(self, ops: list[int]) -> None:
        time.sleep(self.delay_s)
        self.batches.append(list(ops))
        if self.fail_on in ops:
            raise RuntimeError(f"bad op {self.fail_on}")

    @property
    def applied(self) -> list[int]:
        return [op for batch in self.batches for op in batch]


def test_writes_within_the_window_are_applied_in_order_as_one_batch() -> None:
    recorder = Recorder()
    writer: Writer[int] = Writer(recorder.apply, recorder.errors.append, window=0.5)
    for op in range(100):
        writer.submit(op)
    writer.close()
    assert recorder.batches == [list(range(100))]


def test_flush_returns_once_earlier_writes_are_applied_without_waiting_out_the_window() -> None:
    recorder = Recorder()
    writer: Writer[int] = Writer(recorder.apply, recorder.errors.append, window=30.0)
    for op in range(5):
        writer.submit(op)
    started = time.monotonic()
    writer.flush()
    assert recorder.applied == [0, 1, 2, 3, 4]
    assert time.monotonic() - started < 10  # the 30 s window was cut short
    writer.submit(5)
    writer.close()
    assert recorder.applied == [0, 1, 2, 3, 4, 5]


def test_flush_from_several_threads_while_writes_keep_coming_loses_and_reorders_nothing() -> None:
    recorder = Recorder(delay_s=0.001)
    writer: Writer[int] = Writer(recorder.apply, recorder.errors.append, window=0.01)
    seen_after_flush: list[bool] = []

    def submit_and_flush(first: int) -> None:
        for op in range(first, first + 300):
            writer.submit(op)
            if op % 50 == 0:
                writer.flush()
                seen_after_flush.append(op in recorder.applied)

    threads = [threading.Thread(target=submit_and_flush, args=(k * 1000,)) for k in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    writer.close()
    applied = recorder.applied
    assert sorted(applied) == sorted(k * 1000 + i for k in range(3) for i in range(300))
    for k in range(3):  # each thread's writes stay in its order
        mine = [op for op in applied if k * 1000 <= op < (k + 1) * 1000]
        assert mine == sorted(mine)
    assert seen_after_flush and all(seen_after_flush)


def test_a_batch_holds_at_most_max_batch_writes() -> None:
    recorder = Recorder()
    writer: Writer[int] = Writer(recorder.apply, recorder.errors.append, window=5.0)
    for op in range(MAX_BATCH * 2 + 1):
        writer.submit(op)
    writer.close()
    assert max(len(batch) for batch in recorder.batches) <= MAX_BATCH
    assert recorder.applied == list(range(MAX_BATCH * 2 + 1))


def test_a_failing_batch_is_reported_and_later_writes_still_applied() -> None:
    recorder = Recorder(fail_on=1)
    writer: Writer[int] = Writer(recorder.apply, recorder.errors.append, window=0.0)
    writer.submit(1)
    writer.flush()
    writer.submit(2)
    writer.close()
    assert recorder.errors == ["could not record 1 writes: RuntimeError: bad op 1"]
    assert recorder.applied == [1, 2]


def test_close_with_nothing_pending_stops_the_thread() -> None:
    recorder = Recorder()
    writer: Writer[int] = Writer(recorder.apply, recorder.errors.append, window=30.0)
    writer.close()
    assert recorder.batches == []
    assert not writer._thread.is_alive()
