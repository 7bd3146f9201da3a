"""Estimators with planted faults, for sweep tests (imported by Ray workers)."""

from __future__ import annotations

from typing import Any, ClassVar

from sklearn.linear_model import Ridge


class FailingRidge(Ridge):
    """A Ridge whose fit raises for alpha == 0.2."""

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> FailingRidge:
        if self.alpha == 0.2:
            raise ValueError("planted failure for alpha 0.2")
        return super().fit(X, y, sample_weight)


class FlakyRidge(Ridge):
    """A Ridge whose first fit of each alpha fails, as a worker lost mid-trial would.

    The attempts are counted in files under $FLAKY_MARKERS, which the test sets.
    """

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> FlakyRidge:
        import os
        from pathlib import Path

        marker = Path(os.environ["FLAKY_MARKERS"]) / f"alpha-{self.alpha}"
        if not marker.exists():
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.write_text("failed once")
            raise RuntimeError(f"planted first-attempt failure for alpha {self.alpha}")
        return super().fit(X, y, sample_weight)


class SlowRidge(Ridge):
    """A Ridge that takes half a second to fit, so that a test can stop a sweep midway."""

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> SlowRidge:
        import time

        time.sleep(0.5)
        return super().fit(X, y, sample_weight)


class CountedRidge(Ridge):
    """A Ridge that takes 1.2 s to fit, counts its fits in $FLAKY_MARKERS/<folder>, and
    kills its worker process on the first fit of alpha == 0.4 (as a lost node would)."""

    folder = "counted"

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> CountedRidge:
        import os
        import time
        from pathlib import Path

        markers = Path(os.environ["FLAKY_MARKERS"]) / self.folder
        markers.mkdir(parents=True, exist_ok=True)
        fits = len(list(markers.glob(f"alpha-{self.alpha}-*")))
        (markers / f"alpha-{self.alpha}-{fits}").touch()
        time.sleep(1.2)
        if self.alpha == 0.4 and fits == 0:
            os._exit(1)
        return super().fit(X, y, sample_weight)


class SluggishRidge(Ridge):
    """A Ridge that takes three seconds to fit: its run stays Running long enough to watch."""

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> SluggishRidge:
        import time

        time.sleep(3)
        return super().fit(X, y, sample_weight)


class SelfCheckedRidge(Ridge):
    """Declares no parameter constraints: checks its alpha in its own `_validate_params`."""

    _parameter_constraints: ClassVar[dict[str, Any]] = {}

    def _validate_params(self) -> None:
        if self.alpha < 0:
            raise ValueError(f"alpha must be >= 0, got {self.alpha}")
