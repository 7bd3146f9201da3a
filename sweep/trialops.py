"""What `TrackingCallback`'s hooks queue for its writer, and what they read off a trial.

The hooks run on Tune's event loop and only queue an `Op`; the writer thread folds a batch
of them into one `Change` per run. No Tune import: these are plain data and text.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pyarrow import fs

from tracking import TrackingError
from tracking.records import FileRecord, RunStatus

if TYPE_CHECKING:
    from ray.tune.experiment import Trial

NODE_ID = "tracking.node_id"  # result key: the Ray node the trial ran on
REFUSED = "the tracking database refused this run's record"
MAX_ERROR = 500


@dataclass
class Op:
    """One record write of a trial, queued by a hook for the writer thread."""

    kind: str  # "start", "metrics", "cells", "end" or "call"
    trial: Trial
    what: str
    metrics: list[tuple[str, float]] = field(default_factory=list)
    entries: Sequence[Mapping[str, Any]] = ()  # "cells": the finished cells
    root: str | None = None  # "cells": the checkpoint their files are in
    checkpoint: Any = None  # "end": the trial's last checkpoint
    status: RunStatus = RunStatus.COMPLETED
    error: str | None = None
    where: Mapping[str, str] = field(default_factory=dict)
    call: Callable[[], object] | None = None


@dataclass
class Change:
    """What one batch writes for one run."""

    trial: Trial
    index: int
    create: bool = False
    metrics: list[tuple[str, float]] = field(default_factory=list)
    status: RunStatus | None = None
    error: str | None = None
    properties: dict[str, str] = field(default_factory=dict)
    files: list[FileRecord] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)


def checkpoint_uri(path: str, filesystem: Any) -> str:
    """The URI of a checkpoint path on its pyarrow filesystem (local or S3)."""
    if isinstance(filesystem, fs.S3FileSystem):
        return f"s3://{path.lstrip('/')}"
    return Path(path).absolute().as_uri()


def one_run(config: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The default cells of a trial: one, whose params are the trial's config."""
    return [dict(config)]


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
