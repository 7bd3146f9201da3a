"""Estimators with planted faults, for sweep tests (imported by Ray workers)."""

from __future__ import annotations

from typing import Any

from sklearn.linear_model import Ridge


class FailingRidge(Ridge):
    """A Ridge whose fit raises for alpha == 0.2."""

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> FailingRidge:
        if self.alpha == 0.2:
            raise ValueError("planted failure for alpha 0.2")
        return super().fit(X, y, sample_weight)
