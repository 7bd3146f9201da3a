"""A trainable whose result the tracking database refuses (imported by Ray workers)."""

from __future__ import annotations

from typing import Any

REFUSED_ALPHA = 0.3
REFUSED_METRIC = "score\x00"  # a NUL character: no database stores it in a name


def report_metrics(config: dict[str, Any]) -> None:
    """A Tune function trainable: reports rmse, and for alpha 0.3 also a metric whose name
    no record store accepts."""
    from ray import tune

    metrics = {"rmse": float(config["alpha"])}
    if config["alpha"] == REFUSED_ALPHA:
        metrics[REFUSED_METRIC] = 1.0
    tune.report(metrics)
