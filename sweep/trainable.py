"""The trial: fit its grid cells, score them, save the models as checkpoints, report."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import joblib

from sweep import quietexit
from sweep.cells import CELLS, FILES_AT, NODE_ID, cells_of, encode_entries
from sweep.data import Dataset
from sweep.scoring import cross_validate, score
from sweep.spec import model_file_name, resolve_estimator
from tracking.artifacts.base import temporary_beside

PACK_STATE = "pack.json"  # in each checkpoint: how many of the trial's cells are done
REPORT_EVERY_S = 2.0


def fit_cell(
    cell: Mapping[str, Any], data: Dataset, estimator: str, seed: int, cv: int | None = None
) -> tuple[Any, dict[str, float]]:
    """Fit the estimator with the cell's params on the train part, and score it.

    Without `cv` it is scored on the test part; with `cv` by `cv`-fold cross-validation
    over the train part (see `sweep.scoring.cross_validate`), then fitted on the whole
    train part: the checkpoint holds the same model either way, and the test part stays
    unseen by the sweep's choice of its best run. A cell with an `alpha` also reports it
    as `alpha_value`, as the tutorial logs it.
    """
    cls = resolve_estimator(estimator)
    params = dict(cell)
    if "random_state" in cls().get_params() and "random_state" not in params:
        params["random_state"] = seed
    model = cls(**params)
    if cv is None:
        metrics = score(model.fit(data.X_train, data.y_train), data.X_test, data.y_test)
    else:
        metrics = cross_validate(model, data.X_train, data.y_train, folds=cv, seed=seed)
        model.fit(data.X_train, data.y_train)
    if "alpha" in cell:
        metrics = {"alpha_value": float(cell["alpha"]), **metrics}
    return model, metrics


def save_model(model: Any, folder: str, name: str) -> dict[str, Any]:
    """joblib-dump the model into `folder`; return its file name, size and SHA-256. A
    file cut short (the worker killed midway) is left as a temporary part that the
    workspace's `gc` removes, never under `name`."""
    path = os.path.join(folder, name)
    with temporary_beside(Path(path)) as (part, handle):
        joblib.dump(model, handle)
        handle.close()
        os.replace(part, path)
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return {"file": name, "sha256": digest.hexdigest(), "size": os.path.getsize(path)}


def attempt_cell(
    index: int, cell: Mapping[str, Any], folder: str, fit: Any, retries: int
) -> dict[str, Any]:
    """Fit, score and save one cell; its outcome as one entry of `CELLS`.

    A cell whose fit raises is tried again, up to `retries` more times (-1: until it
    succeeds); then its entry carries the exception's last line instead of a model.
    """
    attempts, started = 0, time.time()  # the cell's own times, for its run
    while True:
        attempts += 1
        try:
            model, metrics = fit(cell)
            saved = save_model(model, folder, model_file_name(cell))
        except Exception as err:  # the cell's run records it; the trial goes on
            if retries < 0 or attempts <= retries:
                continue
            text = f"{type(err).__name__}: {err}".strip().splitlines()
            error = text[-1] if text else ""
            times = {"started": started, "ended": time.time()}
            return {"index": index, "attempts": attempts, "error": error, **times}
        times = {"started": started, "ended": time.time()}
        return {"index": index, "attempts": attempts, "metrics": metrics, **saved, **times}


def restored_progress() -> int:
    """How many of its cells a retried or resumed trial already reported (0 when new)."""
    from ray import tune

    checkpoint = tune.get_checkpoint()
    if checkpoint is None:
        return 0
    with checkpoint.as_directory() as folder:
        state = json.loads((Path(folder) / PACK_STATE).read_text())
    return int(state["done"])


def model_folder() -> str | None:
    """The folder in the sweep's storage where this trial saves its cells' models, when
    that storage is a folder (local, or mounted on every node): each model is written
    once, there. None for S3: the models travel in each report's checkpoint, which Tune
    uploads in one go."""
    from ray import tune

    storage = tune.get_context().get_storage()
    if getattr(storage.storage_filesystem, "type_name", None) != "local":
        return None
    folder = os.path.join(storage.trial_fs_path, "models")
    os.makedirs(folder, exist_ok=True)
    return folder


def train_cells(
    config: dict[str, Any],
    *,
    data: Dataset,
    estimator: str,
    seed: int,
    retries: int = 0,
    cv: int | None = None,
) -> None:
    """A Ray Tune function trainable: the grid cells in `config["cells"]`, in order.

    Every `REPORT_EVERY_S` seconds, and at the end, it reports the cells finished since
    the last report under `CELLS`, with a checkpoint holding the count done so far (a
    trial retried after its worker was lost resumes after that count) and their model
    files, or, when the storage is a folder, the folder they were saved in (`FILES_AT`).
    `data` arrives through `tune.with_parameters`, so it is put into Ray's object store
    once for the whole sweep. With `cv`, each cell is scored by `cv`-fold cross-validation.
    """
    import ray
    from ray import tune

    # Ray Train logs a line per checkpoint at INFO, which reaches the user's terminal now
    # that worker output does: its records say the same, quietly.
    logging.getLogger("ray.train").setLevel(logging.WARNING)
    quietexit.install()  # Ray stopping this worker prints no stray traceback
    cells = cells_of(config["cells"])
    where = {NODE_ID: ray.get_runtime_context().get_node_id(), "hostname": socket.gethostname()}

    def fit(cell: Mapping[str, Any]) -> tuple[Any, dict[str, float]]:
        return fit_cell(cell, data, estimator, seed, cv)

    done = restored_progress()
    models = model_folder()
    at = {FILES_AT: Path(models).absolute().as_uri()} if models else {}
    while done < len(cells):
        with tempfile.TemporaryDirectory() as folder:
            entries: list[dict[str, Any]] = []
            since = time.monotonic()
            while done < len(cells) and (not entries or time.monotonic() - since < REPORT_EVERY_S):
                entries.append(attempt_cell(done, cells[done], models or folder, fit, retries))
                done += 1
            Path(folder, PACK_STATE).write_text(json.dumps({"done": done}))
            # A lone cell's metrics are also the trial's own: a searcher or scheduler reads
            # them there (the tracking callback records them from `CELLS`).
            own = entries[0].get("metrics", {}) if len(cells) == 1 else {}
            tune.report(
                {**own, "cells_done": done, CELLS: encode_entries(entries), **at, **where},
                checkpoint=tune.Checkpoint.from_directory(folder),
            )


def train_drawn(config: dict[str, Any], **options: Any) -> None:
    """`train_cells` for a trial whose config is its one cell (a Bayesian search's draw)."""
    train_cells({"cells": [config]}, **options)
