"""Hyperparameter sweeps on Ray Tune whose trials become tracked runs.

    from sweep import run_sweep
    result = run_sweep(alphas=[0.1, 0.5, 1.0])
    result.best_run.download_file("model_alpha_0.1.pkl")

Importing this package does not start Ray.
"""

from sweep.driver import run_sweep
from sweep.errors import SweepInputError
from sweep.hyperdrive import ComputeTarget, Environment, ScriptRunConfig
from sweep.result import SweepResult
from sweep.spec import DataSpec, SweepSpec

__all__ = [
    "ComputeTarget",
    "DataSpec",
    "Environment",
    "ScriptRunConfig",
    "SweepInputError",
    "SweepResult",
    "SweepSpec",
    "run_sweep",
]
