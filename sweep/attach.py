"""The driver's own experiment, for the callbacks that Tune unpickles when it restores a sweep.

Tune pickles its callbacks into the sweep's `tuner.pkl` in storage, which every trial node
can read. So a callback pickles no workspace (no database URL, no credential): only its
experiment's name. Unpickled by `Tuner.restore`, it takes the experiment that the restoring
driver attached under that name, from the workspace the driver opened from its own config:
never one that came out of storage. (A callback unpickled in the process that pickled it,
with no experiment attached, takes back the experiment it was made with.)

    with attached(experiment) as restored:
        Tuner.restore(path, trainable).fit()
    # `restored`: the callbacks that re-attached, to close and read errors from
"""

from __future__ import annotations

import threading
import uuid
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tracking import Experiment

_lock = threading.Lock()
_attached: dict[str, tuple[Experiment, list[Any]]] = {}  # experiment name -> (it, callbacks)
_made: weakref.WeakValueDictionary[str, Experiment] = weakref.WeakValueDictionary()


def token_for(experiment: Experiment) -> str:
    """A random key, safe to pickle, under which this process finds `experiment` again."""
    token = uuid.uuid4().hex
    with _lock:
        _made[token] = experiment
    return token


@contextmanager
def attached(experiment: Experiment) -> Iterator[list[Any]]:
    """While inside, callbacks unpickled for `experiment`'s name record into it.

    Yields the list of the callbacks that attached, filled as they do.
    """
    restored: list[Any] = []
    with _lock:
        _attached[experiment.name] = (experiment, restored)
    try:
        yield restored
    finally:
        with _lock:
            if _attached.get(experiment.name, (None, None))[1] is restored:
                del _attached[experiment.name]


def experiment_for(name: str, token: str, callback: object) -> Experiment | None:
    """The experiment attached under `name`, noting `callback` as restored; else the one
    this process made `token` for; else None."""
    with _lock:
        found = _attached.get(name)
        if found is None:
            return _made.get(token)
        found[1].append(callback)
        return found[0]


def require(name: str, token: str, callback: object) -> Experiment:
    """The experiment for a restored callback (see `experiment_for`).

    Raises:
        RuntimeError: there is none: the callback was restored outside `attached`.
    """
    experiment = experiment_for(name, token, callback)
    if experiment is None:
        raise RuntimeError(
            f"a restored {type(callback).__name__} of experiment {name!r} has no workspace "
            "(none is pickled): restore the Tuner inside `with sweep.attach.attached("
            "experiment):`, with the experiment opened from your own workspace config"
        )
    return experiment
