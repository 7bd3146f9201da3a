"""What a sweep is doing now, one line per phase on stderr, with the seconds since it began.

`[0.9s] starting Ray: local, 2 CPUs ...` while Ray starts (on a terminal the line counts the
seconds as they pass), then `[14.2s] Ray ready: 2 CPUs; training 10 cells`. No Ray import:
the status is said before Ray is imported.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

TICK_S = 1.0  # how often a live line is redrawn on a terminal


class Status:
    """Says a sweep's phases, each with the seconds since `started`.

    Args:
        started: `time.monotonic()` when the sweep began (default: now); the launcher
            passes its own start, so that every clock the user sees counts from there.
        stream: where to write (default: stderr, looked up when written).
        quiet: say nothing (a caller that shows progress its own way).
    """

    def __init__(
        self, started: float | None = None, *, stream: TextIO | None = None, quiet: bool = False
    ) -> None:
        self.started = time.monotonic() if started is None else started
        self._stream = stream
        self.quiet = quiet
        self._lock = threading.Lock()

    @property
    def stream(self) -> TextIO:
        return self._stream or sys.stderr

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    @property
    def wall_started(self) -> float:
        """When the sweep began, on `time.time()`'s clock (tqdm's)."""
        return time.time() - self.elapsed

    def _line(self, text: str, at: float | None = None) -> str:
        return f"[{self.elapsed if at is None else at:.1f}s] {text}"

    def say(self, text: str) -> None:
        """One line: `[elapsed] text`."""
        if self.quiet:
            return
        with self._lock:
            print(self._line(text), file=self.stream, flush=True)

    @contextmanager
    def during(self, text: str) -> Iterator[None]:
        """Say `text ...` while the block runs. On a terminal the line is redrawn every
        second with the time so far; elsewhere it is said once, as the block begins."""
        if self.quiet:
            yield
            return
        begun = self.elapsed
        if not _is_terminal(self.stream):
            self.say(f"{text} ...")
            yield
            return
        done = threading.Event()

        def redraw() -> None:
            while not done.wait(TICK_S):
                waited = self.elapsed - begun
                with self._lock:
                    live = self._line(f"{text} ... {waited:.0f}s", begun)
                    self.stream.write(f"\r\x1b[K{live}")
                    self.stream.flush()

        with self._lock:
            self.stream.write(self._line(f"{text} ...", begun))
            self.stream.flush()
        ticker = threading.Thread(target=redraw, name="sweep-status", daemon=True)
        ticker.start()
        try:
            yield
        finally:
            done.set()
            ticker.join()
            with self._lock:  # the line as a plain stream would have it, ended
                self.stream.write(f"\r\x1b[K{self._line(f'{text} ...', begun)}\n")
                self.stream.flush()


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or stand-in stream
        return False
