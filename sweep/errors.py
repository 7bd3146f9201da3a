"""The errors that `sweep` raises for input it cannot use."""

from __future__ import annotations


class SweepInputError(ValueError):
    """A sweep option, grid, estimator, data set or address that cannot be used.

    Raised before Ray starts; the message names the value and what would be accepted.
    """
