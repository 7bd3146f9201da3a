"""The tutorial's notebook code, unchanged but for its imports, gives the tutorial's answers."""

from __future__ import annotations

import json
import math
import runpy
from pathlib import Path

import joblib
import pytest
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Ridge
from sklearn.metrics import mean_squared_error
from sklearn.model_selection import train_test_split

from tracking import Experiment, Workspace

TUTORIAL = Path(__file__).resolve().parents[1] / "examples" / "tutorial.py"


def _expected_rmse() -> dict[float, float]:
    X, y = load_diabetes(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=66)
    return {
        alpha: math.sqrt(
            mean_squared_error(y_test, Ridge(alpha=alpha).fit(X_train, y_train).predict(X_test))
        )
        for alpha in [0.1 * i for i in range(1, 11)]
    }


@pytest.mark.parametrize("storage", ["local", "s3"])
def test_tutorial_notebook_end_to_end(
    storage: str, in_tmp: Path, request: pytest.FixtureRequest, capsys: pytest.CaptureFixture[str]
) -> None:
    if storage == "s3":
        bucket = request.getfixturevalue("s3_bucket")
        endpoint = request.getfixturevalue("s3_endpoint")
        config = {"storage_uri": f"s3://{bucket}/ws", "s3_endpoint_url": endpoint}
        (in_tmp / "config.json").write_text(json.dumps(config))

    runpy.run_path(str(TUTORIAL), run_name="__main__")
    printed = capsys.readouterr().out

    ws = Workspace.from_config()
    # Its own experiment: the quick start's sweep records into "diabetes-experiment".
    assert list(ws.experiments) == ["diabetes-tutorial"]
    experiment = Experiment(workspace=ws, name="diabetes-tutorial")
    runs = list(experiment.get_runs())
    assert [r.number for r in runs] == list(range(10, 0, -1))  # newest first
    assert all(r.status == "Completed" for r in runs)

    expected = _expected_rmse()
    logged = {r.get_metrics()["alpha_value"]: r.get_metrics()["rmse"] for r in runs}
    assert sorted(logged) == pytest.approx(sorted(expected))
    for alpha, rmse in logged.items():
        assert rmse == pytest.approx(expected[min(expected, key=lambda a: abs(a - alpha))])

    best = experiment.get_best_run("rmse")
    assert f"Best run_id: {best.id}" in printed
    # The upload, and ./outputs's new file as v1 uploads it at complete(): one stored copy.
    assert best.get_file_names() == ["model_alpha_0.1.pkl", "outputs/model_alpha_0.1.pkl"]
    uploaded, kept = best.get_files()
    assert uploaded.uri == kept.uri and uploaded.sha256 == kept.sha256
    # What the tutorial downloaded, in a folder of its experiment's name: not where the
    # sweep's download command writes its own model_alpha_0.1.pkl.
    assert not (in_tmp / "model_alpha_0.1.pkl").exists()
    model = joblib.load(in_tmp / "diabetes-tutorial" / "model_alpha_0.1.pkl")
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    _, X_test, _, y_test = train_test_split(X, y, test_size=0.2, random_state=66)
    assert math.sqrt(mean_squared_error(y_test, model.predict(X_test))) == pytest.approx(
        best.get_metrics()["rmse"]
    )

    frame = experiment.to_dataframe()
    assert len(frame) == 10
    assert {"run_id", "number", "status", "metrics.alpha_value", "metrics.rmse"} <= set(
        frame.columns
    )
    assert frame.loc[frame["metrics.rmse"].idxmin(), "run_id"] == best.id
    assert experiment.portal_url in experiment._repr_html_()


def test_tutorial_after_the_quick_start_leaves_the_sweep_alone(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The README's steps in order: the quick start's sweep (its runs in
    "diabetes-experiment", stood in for by one run here, and its best model downloaded to
    ./model_alpha_0.1.pkl), then the tutorial: neither's runs nor files touch the other's."""
    ws = Workspace.from_config()
    sweep = Experiment(workspace=ws, name="diabetes-experiment")
    with sweep.start_logging(outputs=str(in_tmp / "sweep-outputs")) as run:
        run.log("rmse", 57.0)
    (in_tmp / "model_alpha_0.1.pkl").write_bytes(b"the sweep's model")
    ws.close()

    runpy.run_path(str(TUTORIAL), run_name="__main__")
    capsys.readouterr()

    ws = Workspace.from_config()
    assert sorted(ws.experiments) == ["diabetes-experiment", "diabetes-tutorial"]
    assert [r.id for r in Experiment(ws, "diabetes-experiment").get_runs()] == [run.id]
    assert len(list(Experiment(ws, "diabetes-tutorial").get_runs())) == 10
    assert (in_tmp / "model_alpha_0.1.pkl").read_bytes() == b"the sweep's model"
    assert (in_tmp / "diabetes-tutorial" / "model_alpha_0.1.pkl").exists()
    ws.close()
