"""Random search and classification on the command line's engine (`run_sweep`): cells drawn
by seed and extended, a classifier scored by cross-validated accuracy."""

from __future__ import annotations

from pathlib import Path

import pytest

from sweep import run_sweep
from sweep.space import parse_distribution, sample_configs
from sweep.spec import DataSpec
from tracking import Experiment, Workspace

pytestmark = pytest.mark.ray


def _workspace(tmp_path: Path) -> Workspace:
    return Workspace(
        "w", tracking_uri=f"sqlite:///{tmp_path / 'records.db'}", storage_uri=str(tmp_path / "s")
    )


def _cells(experiment: Experiment) -> list:  # type: ignore[type-arg]
    return list(experiment.get_runs(include_children=True, type="azureml.scriptrun"))


def test_a_random_search_draws_its_cells_by_seed_and_grows_by_new_cells_only(
    ray_address: str, tmp_path: Path
) -> None:
    ws = _workspace(tmp_path)
    space = {"alpha": "loguniform(0.01,10)", "solver": "choice(auto,svd)"}
    options = {"workspace": ws, "progress": False, "experiment": "random", "params": space}
    first = run_sweep(**options, search="random", samples=3, seed=5)
    assert (first.trained, first.reused) == (3, 0)
    more = run_sweep(**options, search="random", samples=5, seed=5)
    assert (more.trained, more.reused) == (2, 3)
    drawn = sample_configs(
        {name: parse_distribution(name, text) for name, text in space.items()}, seed=5, samples=5
    )
    runs = _cells(Experiment(ws, "random"))
    assert sorted(r.get_params()["alpha"] for r in runs) == sorted(c["alpha"] for c in drawn)
    assert all(0.01 <= c["alpha"] <= 10 and c["solver"] in ("auto", "svd") for c in drawn)
    parent = Experiment(ws, "random").get_runs(type="hyperdrive")
    assert next(parent).get_properties()["sweep.grid_cells"] == "5"


def test_a_classifier_is_swept_by_cross_validated_accuracy(
    ray_address: str, tmp_path: Path
) -> None:
    ws = _workspace(tmp_path)
    result = run_sweep(
        workspace=ws,
        progress=False,
        experiment="iris",
        estimator="sklearn.linear_model.LogisticRegression",
        data=DataSpec(path="sklearn:iris"),
        params={"C": "0.001,1"},
        cv=5,
    )
    assert (result.trained, result.failed) == (2, 0)
    experiment = Experiment(ws, "iris")
    assert experiment.primary_metric == ("accuracy", "max")  # maximised without being told
    by_c = {r.get_params()["C"]: r.get_metrics() for r in _cells(experiment)}
    for metrics in by_c.values():
        assert {"accuracy", "accuracy_std", "f1_macro", "log_loss", "roc_auc"} <= set(metrics)
        assert 0 <= metrics["accuracy"] <= 1 and metrics["accuracy_std"] >= 0
    assert by_c[1]["accuracy"] > by_c[0.001]["accuracy"]
    assert result.best_run is not None and result.best_run.get_params()["C"] == 1
