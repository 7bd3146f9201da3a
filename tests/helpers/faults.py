"""Estimators and files with planted faults for the reliability suite (imported by Ray workers).

The estimators leave marker files under `$FLAKY_MARKERS/<folder>/`, the folder that the test
session's Ray workers inherit (tests/conftest.py sets it before Ray starts).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from sklearn.linear_model import Ridge

PIDS_FOLDER = "worker-pids"


def markers(folder: str) -> Path:
    """The marker folder `folder` under $FLAKY_MARKERS."""
    return Path(os.environ["FLAKY_MARKERS"]) / folder


class PidRidge(Ridge):
    """A Ridge that announces its worker's pid, then takes two seconds to fit.

    Each fit writes `alpha-<alpha>.<pid>` under $FLAKY_MARKERS/worker-pids, so that a test
    can kill the worker process in the middle of a trial.
    """

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> PidRidge:
        folder = markers(PIDS_FOLDER)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"alpha-{self.alpha}.{os.getpid()}").write_text(str(time.time()))
        time.sleep(2.0)
        return super().fit(X, y, sample_weight)


class PacedRidge(Ridge):
    """A Ridge that takes a second to fit: a sweep of it is still going when a fault starts."""

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> PacedRidge:
        time.sleep(1.0)
        return super().fit(X, y, sample_weight)


class WritesMarker:
    """Unpickling an instance of this class writes `path` (a stand-in for a malicious model).

    `pickle.dumps(WritesMarker(path))` gives bytes whose `pickle.loads` calls
    `pathlib.Path(path).write_text("pwned")`: code runs on load, as in any hostile pickle.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path.write_text, (Path(self.path), "pwned"))
