"""The errors that `sweep` raises for input it cannot use."""

from __future__ import annotations


class SweepInputError(ValueError):
    """A sweep option, grid, estimator, data set or address that cannot be used.

    Raised before Ray starts; the message names the value and what would be accepted.
    """


class SweepRefusedError(RuntimeError):
    """A sweep that the driver refuses to run as asked: for example a `--resume` whose saved
    state in storage is not what the sweep's driver wrote.

    Raised before any trial runs; `python -m sweep.launch` reports it on one line and exits 2.
    """
