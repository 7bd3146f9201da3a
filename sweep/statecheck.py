"""Tune's saved state of a sweep, checked before the driver restores it: pickle is code.

Tune keeps a sweep's state in its storage folder: `tuner.pkl`, written once by
`Tuner(...)`, and at each experiment checkpoint `experiment_state-*.json` (with cloudpickled
parts), the searcher's and the callbacks' state files. `--resume` unpickles them in the
driver, which holds the database credentials, and every trial node can write that storage.
So the driver records the SHA-256 of each such file as it writes it, in the record store's
key-value table (namespace `tune-state`, keyed by the Tune run: the database, which no trial
node can write), and refuses to restore a folder holding any
state file whose bytes it did not record.

A SHA-256 proves the bytes are those the driver wrote, not that what it wrote was safe; and
Tune reads the files again after the check, so a writer racing the check by milliseconds
is not stopped.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pyarrow import fs
from ray import tune

from sweep import attach
from sweep.errors import SweepRefusedError
from tracking import Experiment, TrackingError

if TYPE_CHECKING:
    from ray.tune.experiment import Trial

log = logging.getLogger(__name__)

NAMESPACE = "tune-state"  # key: a Tune run; value: JSON {file name: SHA-256} of its state files
TUNER_FILE = "tuner.pkl"


def is_state_file(name: str) -> bool:
    """Whether Tune reads this top-level file of a sweep's folder on restore (it fetches
    every .json and .pkl there)."""
    return name.endswith((".json", ".pkl"))


def recorded(experiment: Experiment, tune_run: str) -> dict[str, str] | None:
    """The recorded digests of a Tune run's state files (None: none were recorded)."""
    value = experiment.workspace.records.get_value(NAMESPACE, tune_run)
    return None if value is None else dict(json.loads(value))


def record(experiment: Experiment, tune_run: str, digests: dict[str, str]) -> None:
    """Record the digests of a Tune run's state files (all of them, replacing the last).

    Raises:
        TrackingError: the database failed.
    """
    value = json.dumps(digests, sort_keys=True)
    experiment.workspace.records.set_value(NAMESPACE, tune_run, value)


def stored_digests(path: str, filesystem: Any) -> dict[str, str]:
    """The SHA-256 of each state file in a sweep's folder in storage."""
    filesystem = filesystem or fs.LocalFileSystem()
    digests = {}
    for info in filesystem.get_file_info(fs.FileSelector(path, allow_not_found=True)):
        name = info.path.rstrip("/").rsplit("/", 1)[-1]
        if info.type == fs.FileType.File and is_state_file(name):
            digest = hashlib.sha256()
            with filesystem.open_input_stream(info.path) as stream:
                while chunk := stream.read(1 << 20):
                    digest.update(chunk)
            digests[name] = digest.hexdigest()
    return digests


def record_tuner_file(experiment: Experiment, tune_run: str, path: str, filesystem: Any) -> None:
    """Record the digest of the `tuner.pkl` that `Tuner(...)` has just written.

    Raises:
        TrackingError: the database failed.
    """
    digests = recorded(experiment, tune_run) or {}
    stored = stored_digests(path, filesystem)
    if TUNER_FILE in stored:
        record(experiment, tune_run, {**digests, TUNER_FILE: stored[TUNER_FILE]})


def verify(experiment: Experiment, tune_run: str, path: str, filesystem: Any) -> None:
    """Check a sweep's folder in storage before Tune restores it.

    Raises:
        SweepRefusedError: a state file there is not what this sweep's driver recorded.
    """
    digests = recorded(experiment, tune_run)
    if digests is None:
        raise SweepRefusedError(
            f"cannot resume sweep {tune_run!r}: the SHA-256 of its saved state was never "
            "recorded, so that state cannot be told from one planted in storage; run "
            "without --resume to train the cells it left"
        )
    for name, digest in sorted(stored_digests(path, filesystem).items()):
        if digests.get(name) != digest:
            raise SweepRefusedError(
                f"refusing to resume sweep {tune_run!r}: its state file {name} in storage "
                "is not what the sweep's driver wrote (its SHA-256 differs from the "
                "recorded one) and unpickling it could run any code; run without --resume "
                "to train the cells it left"
            )


class StateRecorder(tune.Callback):
    """Records the digest of each state file Tune writes for a sweep, as it writes it.

    Tune writes its state into a staging folder on the driver, then copies it to storage.
    The experiment state and the searcher's state are written before the callbacks are asked
    for theirs (`get_state`), and so are recorded before they are copied; the callbacks'
    state file is recorded at the end of the same step.
    """

    _saving = False  # Tune is saving its state: its last file is still to come

    def __init__(self, experiment: Experiment, tune_run: str) -> None:
        self._bound: Experiment | None = experiment
        self._experiment_name = experiment.name
        self._token = attach.token_for(experiment)
        self._tune_run = tune_run
        self._staging: str | None = None
        self._seen: dict[str, tuple[int, int, str]] = {}  # file -> (mtime_ns, size, sha256)
        self._digests: dict[str, str] | None = None  # what the store holds

    def __getstate__(self) -> dict[str, Any]:
        # Pickled into tuner.pkl: no workspace (see sweep.attach).
        return {**self.__dict__, "_bound": None, "_seen": {}, "_digests": None}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._bound = attach.experiment_for(self._experiment_name, self._token, self)

    @property
    def _experiment(self) -> Experiment:
        if self._bound is None:
            self._bound = attach.require(self._experiment_name, self._token, self)
        return self._bound

    def setup(self, *args: Any, **info: Any) -> None:
        self._digests = recorded(self._experiment, self._tune_run) or {}

    def _learn(self, trials: list[Trial]) -> None:
        storage = trials[0].storage if trials else None
        if self._staging is None and storage is not None:
            self._staging = storage.experiment_driver_staging_path

    def _record(self) -> None:
        if self._staging is None or not os.path.isdir(self._staging):
            return
        for entry in os.scandir(self._staging):
            if not (entry.is_file() and is_state_file(entry.name)):
                continue
            stat = entry.stat()
            seen = self._seen.get(entry.name)
            if seen is None or seen[:2] != (stat.st_mtime_ns, stat.st_size):
                digest = hashlib.sha256(Path(entry.path).read_bytes()).hexdigest()
                self._seen[entry.name] = (stat.st_mtime_ns, stat.st_size, digest)
        digests = {**(self._digests or {}), **{n: s[2] for n, s in self._seen.items()}}
        if digests != self._digests:
            try:
                record(self._experiment, self._tune_run, digests)
                self._digests = digests
            except TrackingError as err:  # a resume will be refused, not run unchecked
                log.warning("could not record the digests of the sweep's state: %s", err)

    def on_step_begin(self, iteration: int, trials: list[Trial], **info: Any) -> None:
        self._learn(trials)

    def get_state(self) -> dict[str, Any] | None:
        self._record()  # the experiment and searcher state, before Tune copies them
        self._saving = True  # the callbacks' state file comes next: recorded at step end
        return None

    def on_step_end(self, iteration: int, trials: list[Trial], **info: Any) -> None:
        # Only after Tune saved its state: the staging folder holds a folder per trial, so
        # listing it at every step would cost more than the sweep's tracking.
        self._learn(trials)
        if self._saving:
            self._saving = False
            self._record()

    def on_experiment_end(self, trials: list[Trial], **info: Any) -> None:
        self._learn(trials)
        self._record()
