"""Experiment tracking with Azure Machine Learning's names, on your own database and storage.

    from tracking import Workspace, Experiment, Run

    ws = Workspace.from_config()
    experiment = Experiment(workspace=ws, name="diabetes-experiment")
    run = experiment.start_logging()
    run.log("rmse", 55.2)
    run.complete()

This package never imports Ray.
"""

from tracking.errors import (
    ConfigError,
    ConflictError,
    IntegrityError,
    NotFoundError,
    RunFinishedError,
    StorageError,
    TrackingError,
    ValidationError,
)
from tracking.experiment import Experiment
from tracking.model import Model
from tracking.records import RunStatus
from tracking.run import Run
from tracking.workspace import Workspace

__all__ = [
    "ConfigError",
    "ConflictError",
    "Experiment",
    "IntegrityError",
    "Model",
    "NotFoundError",
    "Run",
    "RunFinishedError",
    "RunStatus",
    "StorageError",
    "TrackingError",
    "ValidationError",
    "Workspace",
]
