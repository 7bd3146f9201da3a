"""A trial's Ray worker ends, quietly, when Ray stops it.

Ray stops an actor (a trial Tune ended or gave up on, a sweep whose driver left) with
SIGTERM, and the worker's handler raises `SystemExit` wherever the worker happens to be.
Raised inside a callback Python cannot propagate from (a weakref's callback, a `__del__`),
the exit is swallowed: its traceback is printed, Ray forwards it to the sweep's terminal,
and the worker lives on until Ray's SIGKILL. `install` makes such a swallowed exit end the
worker at once, with its streams flushed and nothing printed.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Any

_MARK = "_sweep_quiet_exit"


def install() -> None:
    """In this process, an exit swallowed by a callback ends the process (idempotent)."""
    previous = sys.unraisablehook
    if getattr(previous, _MARK, False):
        return

    def hook(unraisable: Any) -> None:
        if isinstance(unraisable.exc_value, SystemExit):
            _exit(unraisable.exc_value.code)
        previous(unraisable)

    setattr(hook, _MARK, True)
    sys.unraisablehook = hook


def _exit(code: object) -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # closed, or its reader gone
            stream.flush()
    # As Python exits on SystemExit: None is success, a number is the status, else 1.
    os._exit(0 if code is None else code if isinstance(code, int) else 1)
