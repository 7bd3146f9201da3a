"""The trial: fit one grid cell, score it, save the model as the trial's checkpoint, report."""

from __future__ import annotations

import hashlib
import math
import os
import socket
import tempfile
from collections.abc import Mapping
from typing import Any

import joblib

from sweep.data import Dataset
from sweep.spec import model_file_name, resolve_estimator

# Result keys that carry bookkeeping for the tracking callback, not metrics to log.
MODEL_FILE = "tracking.model_file"
MODEL_SHA256 = "tracking.model_sha256"
MODEL_SIZE = "tracking.model_size"
NODE_ID = "tracking.node_id"


def score(y_true: Any, y_pred: Any) -> dict[str, float]:
    from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

    return {
        "rmse": math.sqrt(mean_squared_error(y_true, y_pred)),
        "mae": float(mean_absolute_error(y_true, y_pred)),
        "r2": float(r2_score(y_true, y_pred)),
    }


def fit_cell(
    cell: Mapping[str, Any], data: Dataset, estimator: str, seed: int
) -> tuple[Any, dict[str, float]]:
    """Fit the estimator with the cell's params on the train part; score it on the test part."""
    cls = resolve_estimator(estimator)
    params = dict(cell)
    if "random_state" in cls().get_params() and "random_state" not in params:
        params["random_state"] = seed
    model = cls(**params).fit(data.X_train, data.y_train)
    metrics = score(data.y_test, model.predict(data.X_test))
    if "alpha" in cell:
        metrics = {"alpha_value": float(cell["alpha"]), **metrics}
    return model, metrics


def save_model(model: Any, folder: str, name: str) -> dict[str, Any]:
    """joblib-dump the model into `folder`; return its file name, size and SHA-256."""
    path = os.path.join(folder, name)
    joblib.dump(model, path)
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return {MODEL_FILE: name, MODEL_SHA256: digest.hexdigest(), MODEL_SIZE: os.path.getsize(path)}


def train_cell(config: dict[str, Any], *, data: Dataset, estimator: str, seed: int) -> None:
    """A Ray Tune function trainable: one grid cell, reported once with its checkpoint.

    `data` arrives through `tune.with_parameters`, so it is put into Ray's object store
    once for the whole sweep.
    """
    import ray
    from ray import tune

    cell = config["cell"]
    model, metrics = fit_cell(cell, data, estimator, seed)
    with tempfile.TemporaryDirectory() as folder:
        saved = save_model(model, folder, model_file_name(cell))
        node = ray.get_runtime_context().get_node_id()
        tune.report(
            {**metrics, **saved, NODE_ID: node, "hostname": socket.gethostname()},
            checkpoint=tune.Checkpoint.from_directory(folder),
        )
