"""What `TrackingCallback`'s hooks queue for its writer, and what they read off a trial.

The hooks run on Tune's event loop and only queue an `Op`; the writer thread folds a batch
of them into one `Change` per run. No Tune import: these are plain data and text.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sweep.cells import NODE_ID
from tracking import TrackingError
from tracking.records import FileRecord, RunStatus, utcnow

if TYPE_CHECKING:
    from ray.tune.experiment import Trial

REFUSED = "the tracking database refused this run's record"
# Run properties: the Tune trial a run recorded, and what stopped it early (and when).
TRIAL_ID = "ray.trial_id"
STOPPED_BY = "stopped_by"
STOPPED_AT = "stopped_at_iteration"
INTERRUPTED = "interrupted"  # `stopped_by` of a run canceled because its sweep was (Ctrl+C)
MAX_ERROR = 500


@dataclass
class Op:
    """One record write of a trial, queued by a hook for the writer thread."""

    kind: str  # "start", "assign", "metrics", "cells", "checkpoint", "end" or "call"
    trial: Trial
    what: str
    at: datetime = field(default_factory=utcnow)  # when Tune said so: a run's start or end
    started: datetime | None = None  # when the trial started (this driver saw it start)
    metrics: list[tuple[str, float]] = field(default_factory=list)
    entries: Sequence[Mapping[str, Any]] = ()  # "cells": the finished cells
    root: str | None = None  # "cells": the checkpoint their files are in
    path: str = ""  # "checkpoint": the checkpoint's folder on `filesystem`
    filesystem: Any = None  # "checkpoint": a pyarrow filesystem (None: local)
    keep: int | None = None  # "checkpoint": how many Tune keeps (None: all)
    status: RunStatus = RunStatus.COMPLETED
    error: str | None = None
    where: Mapping[str, str] = field(default_factory=dict)
    call: Callable[[], object] | None = None
    run_ids: Sequence[str] = ()  # "start" or "assign": the ids a new trial's runs get


@dataclass
class Change:
    """What one batch writes for one run."""

    trial: Trial
    index: int
    create: bool = False
    start_time: datetime | None = None  # a run this batch creates: when its trial started
    end_time: datetime | None = None
    metrics: list[tuple[str, float]] = field(default_factory=list)
    status: RunStatus | None = None
    error: str | None = None
    properties: dict[str, str] = field(default_factory=dict)
    files: list[FileRecord] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)


def where_of(result: Mapping[str, Any], job_id: str | None) -> dict[str, str]:
    """The properties that say where a trial ran: its driver's job, and its node and host."""
    where = {"ray.job_id": job_id} if job_id else {}
    if result.get(NODE_ID):
        where["ray.node_id"] = str(result[NODE_ID])
    if result.get("hostname"):
        where["host"] = str(result["hostname"])
    return where


def error_text(trial: Trial) -> str:
    """The last line of the trial's latest error: the exception that ended it."""
    text = ""
    # Tune writes the error file in the driver's trial folder first and syncs it to
    # storage later, so the local copy is the one that exists now.
    if trial.error_file and Path(trial.error_file).is_file():
        text = Path(trial.error_file).read_text(errors="replace")
    else:
        text = str(trial.get_error() or "")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "the trial failed without an error message"


def why(err: Exception) -> str:
    """One printable line saying why a write failed (a database's own error when wrapped,
    never the statement and values that a driver's wrapper adds)."""
    cause: BaseException = err
    if not isinstance(err, TrackingError):
        cause = getattr(err, "orig", None) or err
    lines = str(cause).strip().splitlines()
    text = f"{type(cause).__name__}: {lines[0] if lines else ''}".strip().rstrip(":")
    text = "".join(c for c in text if unicodedata.category(c)[0] != "C" or c == " ")
    return text[:MAX_ERROR]
