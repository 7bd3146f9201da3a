"""Progress of a sweep: a live bar on a terminal, plain lines otherwise; and, when Ctrl+C
stops it, a line that says so at once."""

from __future__ import annotations

import contextlib
import math
import os
import shutil
import signal
import sys
import threading
import time
from typing import TYPE_CHECKING, Any, TextIO

from ray import tune

from sweep.cells import CELLS, cells_of, entries_of

if TYPE_CHECKING:
    from ray.tune.experiment import Trial


class ProgressCallback(tune.Callback):
    """Runs done/total, trials running, runs failed, and the best value so far.

    A trial that reports its grid cells under `tracking.cells` counts one run per cell;
    any other trial counts one.

    Args:
        total: the number of runs the sweep will record.
        metric: the metric to show the best value of; `mode` is 'min' or 'max'.
        stream: where to write (stderr by default).
        interval: seconds between plain lines when `stream` is not a terminal.
        started: when the sweep began (`time.time()`): the bar's clock counts from there,
            Ray's start-up included (default: when the bar appears).
    """

    def __init__(
        self,
        total: int,
        metric: str,
        mode: str,
        *,
        stream: TextIO | None = None,
        interval: float = 5.0,
        started: float | None = None,
    ) -> None:
        self.total = total
        self.metric = metric
        self.mode = mode
        self.done = 0
        self.failed = 0
        self.running: set[str] = set()
        self._reported: dict[str, int] = {}  # trial id -> cells it reported
        self.best: float | None = None
        self._stream = stream
        self._interval = interval
        self._last_line = 0.0
        self._bar: Any = None
        self._started = started
        self._stopping = False  # Ctrl+C: the bar is closed and stays so

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_bar": None, "_stream": None}

    @property
    def stream(self) -> TextIO:
        return self._stream or sys.stderr

    def _show(self, *, force: bool = False) -> None:
        if self._stopping:
            self._close_bar()  # here, on Tune's loop: never from the signal handler
            return
        best = "-" if self.best is None else f"{self.best:.6g}"
        status = f"running {len(self.running)}, failed {self.failed}, best {self.metric} {best}"
        if self.stream.isatty():
            if self._bar is None:
                from tqdm import tqdm

                # A terminal that reports no size (a bare pty) would get no bar at all.
                size = shutil.get_terminal_size((100, 20))
                self._bar = tqdm(
                    total=self.total,
                    file=self.stream,
                    unit="run",
                    leave=True,
                    ncols=size.columns,
                    nrows=size.lines,
                )
                if self._started is not None:
                    self._bar.start_t = self._bar.last_print_t = self._started
            self._bar.n = self.done + self.failed
            self._bar.set_postfix_str(status, refresh=True)
            return
        now = time.monotonic()
        if force or now - self._last_line >= self._interval:
            self._last_line = now
            print(f"runs {self.done + self.failed}/{self.total}: {status}", file=self.stream)

    def setup(self, *args: Any, **info: Any) -> None:
        # Tune has just put in its Ctrl+C handler, which stops the sweep after its current
        # step and then gives Ctrl+C back: say so as it happens, not seconds later.
        self._show(force=True)  # the bar (its clock running since the sweep began) now
        if threading.current_thread() is not threading.main_thread():
            return
        tune_handler = signal.getsignal(signal.SIGINT)
        if not callable(tune_handler):
            return

        def announce(signum: int, frame: Any) -> None:
            # A signal handler runs between two bytecodes of whatever the loop was doing,
            # say writing the bar to this stream: writing through the stream's buffer here
            # would raise "reentrant call". The line goes to its file descriptor directly,
            # and the bar is closed on Tune's loop (`_show`, `on_experiment_end`).
            self._stopping = True
            elapsed = f"[{time.time() - self._started:.1f}s] " if self._started else ""
            line = (
                f"\n{elapsed}stopping: the runs in flight will be canceled; "
                "Ctrl-C again to stop at once\n"
            )
            with contextlib.suppress(OSError, ValueError, AttributeError):
                os.write(self.stream.fileno(), line.encode())
            tune_handler(signum, frame)

        signal.signal(signal.SIGINT, announce)

    def _close_bar(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def on_trial_start(
        self, iteration: int, trials: list[Trial], trial: Trial, **info: Any
    ) -> None:
        self.running.add(trial.trial_id)
        self._show()

    def _consider(self, value: Any) -> None:
        if isinstance(value, (int, float)) and math.isfinite(value):
            better = self.best is None or (
                value < self.best if self.mode == "min" else value > self.best
            )
            if better:
                self.best = float(value)

    def on_trial_result(
        self, iteration: int, trials: list[Trial], trial: Trial, result: dict[str, Any], **info: Any
    ) -> None:
        if CELLS not in result:
            self._consider(result.get(self.metric))
            return
        entries = entries_of(result[CELLS])
        for entry in entries:
            if "error" in entry:
                self.failed += 1
            else:
                self.done += 1
                self._consider(entry["metrics"].get(self.metric))
        self._reported[trial.trial_id] = self._reported.get(trial.trial_id, 0) + len(entries)
        if not self._unreported(trial):  # every cell in: not running, though Tune ends it later
            self.running.discard(trial.trial_id)
        self._show()

    def _unreported(self, trial: Trial) -> int:
        if trial.trial_id not in self._reported:
            return 1
        return max(0, len(cells_of(trial.config.get("cells", ()))) - self._reported[trial.trial_id])

    def on_trial_complete(
        self, iteration: int, trials: list[Trial], trial: Trial, **info: Any
    ) -> None:
        self.running.discard(trial.trial_id)
        self.done += self._unreported(trial)
        self._show()

    def on_trial_error(
        self, iteration: int, trials: list[Trial], trial: Trial, **info: Any
    ) -> None:
        self.running.discard(trial.trial_id)
        self.failed += self._unreported(trial)
        self._show()

    def on_experiment_end(self, trials: list[Trial], **info: Any) -> None:
        self._show(force=True)
        self._close_bar()
