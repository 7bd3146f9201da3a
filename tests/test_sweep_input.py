"""Bad sweep input: one line on stderr, exit code 2, before Ray starts, nothing written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from sweep import SweepInputError, SweepSpec
from sweep.launch import options_from
from sweep.spec import model_file_name, parse_values


def _launch(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sweep.launch", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "HOME": str(cwd), "RAY_ADDRESS": ""},
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "config.json").write_text(json.dumps({"name": "t"}))
    pd.DataFrame({"x": range(20), "y": range(20)}).to_csv(tmp_path / "good.csv", index=False)
    pd.DataFrame({"x": ["a", "b"] * 10, "y": range(20)}).to_csv(tmp_path / "text.csv", index=False)
    pd.DataFrame({"x": [1, 2, 3], "y": [1, 2, 3]}).to_csv(tmp_path / "tiny.csv", index=False)
    (tmp_path / "blocker").write_text("a file where a folder should be")
    return tmp_path


BAD_INPUT = [
    (["--alphas", ""], "grid of 'alpha' is empty"),
    (["--alphas", "0.1,0.1"], "appears more than once"),
    (["--alphas=-1"], "alpha value -1 is not accepted"),
    (["--alphas", "nan"], "alpha value 'nan' is not accepted"),
    (["--alphas", "abc"], "alpha value 'abc' is not accepted"),
    (["--alphas", "1:0:0.1"], "start <= stop"),
    (["--estimator", "NoSuchRegressor"], "estimator 'NoSuchRegressor' was not found"),
    (["--estimator", "sklearn.cluster.KMeans"], "is not a scikit-learn regressor"),
    (["--param", "nope=1,2"], "Ridge has no parameter 'nope'"),
    (["--param", "solver=magic"], "Ridge refuses solver='magic'"),
    (["--data", "missing.csv", "--target", "y"], "data file 'missing.csv' does not exist"),
    (["--data", "good.csv", "--target", "label"], "target column 'label' is not in good.csv"),
    (["--data", "text.csv", "--target", "y"], "feature column(s) x of text.csv are not numeric"),
    (["--data", "tiny.csv", "--target", "y"], "too few to split"),
    (["--storage", "blocker/storage"], "cannot be written"),
    (["--address", "127.0.0.1:1"], "does not answer"),
    (["--max-concurrent", "0"], "max_concurrent 0 is not accepted"),
    (["--pack", "0"], "pack 0 is not accepted: use an integer >= 1"),
    (["--pack", "many"], "pack 'many' is not accepted"),
    (["--experiment", "bad name!"], "experiment name 'bad name!' is not accepted"),
    (["--sweep-file", "nope.yaml"], "sweep file 'nope.yaml' cannot be read"),
    (["--no-such-flag"], "unrecognized arguments"),
]


@pytest.mark.reliability(
    case=11,
    fault=(
        "bad sweep input: empty, duplicate, negative, NaN grids; unknown estimators and params; "
        "missing or unusable data; unwritable storage; dead address; bad flags"
    ),
    expected="exit 2, one 'sweep:' line naming the value, no traceback, nothing written",
)
@pytest.mark.parametrize(("args", "message"), BAD_INPUT, ids=[" ".join(a) for a, _ in BAD_INPUT])
def test_bad_input_exits_2_with_one_line(project: Path, args: list[str], message: str) -> None:
    result = _launch(args, project)
    assert result.returncode == 2, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("sweep:")]
    assert len(errors) == 1 and message in errors[0], result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert not (project / "workspace" / "records.db").exists() or _no_experiments(project)


def _no_experiments(project: Path) -> bool:
    from tracking import Workspace

    return Workspace.from_config(project).experiments == {}


@pytest.mark.reliability(
    case=11,
    fault="--storage s3://no-such-bucket on the loopback S3 endpoint",
    expected="exit 2 naming bucket and endpoint, no traceback",
)
def test_missing_s3_bucket_exits_2_naming_bucket_and_endpoint(
    project: Path, s3_endpoint: str
) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sweep.launch", "--storage", "s3://no-such-bucket/team"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "AWS_ENDPOINT_URL": s3_endpoint, "RAY_ADDRESS": ""},
    )
    assert result.returncode == 2
    assert "'no-such-bucket' does not exist at endpoint " + s3_endpoint in result.stderr
    assert "Traceback" not in result.stderr


def test_refused_postgresql_connection_exits_2(tmp_path: Path) -> None:
    from tests.helpers.net import free_port

    url = f"postgresql://tracking:secret@127.0.0.1:{free_port()}/db"
    (tmp_path / "config.json").write_text(json.dumps({"tracking_uri": url}))
    result = _launch([], tmp_path)
    assert result.returncode == 2
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("sweep:")]
    assert "cannot open the tracking database postgresql+psycopg://tracking:***@" in line
    assert "secret" not in result.stderr


def test_a_ray_job_without_a_workspace_config_exits_2(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sweep.launch"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "RAY_JOB_CONFIG_JSON_ENV_VAR": "{}", "RAY_ADDRESS": ""},
    )
    assert result.returncode == 2
    assert "this Ray job has no workspace config" in result.stderr
    assert not (tmp_path / "workspace").exists()


@pytest.mark.reliability(
    case=11,
    fault="a config.json whose tracking_uri is a number",
    expected="exit 2 naming the field",
)
def test_malformed_workspace_config_exits_2(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text('{"tracking_uri": 3}')
    result = _launch([], tmp_path)
    assert result.returncode == 2
    assert "'tracking_uri' must be a string" in result.stderr


def test_sweep_file_options_are_overridden_by_flags(tmp_path: Path) -> None:
    (tmp_path / "sweep.yaml").write_text(
        "experiment: from-file\nalphas: [0.5, 1.0]\nparams:\n  fit_intercept: [true, false]\n"
    )
    options = options_from(["--sweep-file", str(tmp_path / "sweep.yaml"), "--alphas", "2"], {})
    spec = SweepSpec.create(**options)
    assert spec.experiment == "from-file"
    assert spec.grid == (("alpha", (2,)), ("fit_intercept", (True, False)))
    (tmp_path / "sweep.toml").write_text('experiment = "toml"\nalphas = "0.1:0.3:0.1"\n')
    spec = SweepSpec.create(**options_from(["--sweep-file", str(tmp_path / "sweep.toml")], {}))
    assert spec.grid == (("alpha", (0.1, 0.2, 0.3)),)
    (tmp_path / "bad.yaml").write_text("alphas: [0.1\n")
    with pytest.raises(SweepInputError, match="is malformed"):
        options_from(["--sweep-file", str(tmp_path / "bad.yaml")], {})
    (tmp_path / "odd.yaml").write_text("colour: blue\n")
    with pytest.raises(SweepInputError, match="unknown sweep option.*colour"):
        SweepSpec.create(**options_from(["--sweep-file", str(tmp_path / "odd.yaml")], {}))


def test_ray_address_comes_from_flag_or_environment() -> None:
    assert options_from([], {"RAY_ADDRESS": "10.0.0.1:6379"})["address"] == "10.0.0.1:6379"
    assert options_from(["--address", "auto"], {"RAY_ADDRESS": "x:1"})["address"] == "auto"


def test_grids_and_model_names() -> None:
    assert parse_values("alpha", "0.1:1.0:0.1") == tuple(round(0.1 * i, 1) for i in range(1, 11))
    assert parse_values("alpha", "0.1, 0.5,1") == (0.1, 0.5, 1)
    assert parse_values("solver", "auto,svd") == ("auto", "svd")
    spec = SweepSpec.create(alphas="0.1,0.2", params={"fit_intercept": "true,false"})
    assert spec.cells() == [
        {"alpha": 0.1, "fit_intercept": True},
        {"alpha": 0.1, "fit_intercept": False},
        {"alpha": 0.2, "fit_intercept": True},
        {"alpha": 0.2, "fit_intercept": False},
    ]
    assert SweepSpec.create().cells()[0] == {"alpha": 0.1}
    assert model_file_name({"alpha": 0.1}) == "model_alpha_0.1.pkl"
    assert model_file_name({"alpha": 1.0, "solver": "a/b"}) == "model_alpha_1.0_solver_a-b.pkl"


def test_each_value_is_checked_against_its_parameters_constraint() -> None:
    from sweep.spec import check_estimator_params

    alphas = [0.1 * i for i in range(1, 10_001)]
    check_estimator_params("sklearn.linear_model.Ridge", [("alpha", alphas)])  # all accepted
    with pytest.raises(SweepInputError, match=r"^Ridge refuses alpha=-0.5: The 'alpha' param"):
        check_estimator_params("sklearn.linear_model.Ridge", [("alpha", [*alphas, -0.5])])
    # An estimator that declares no constraints is asked to check itself, with the value.
    own = "tests.helpers.estimators.SelfCheckedRidge"
    check_estimator_params(own, [("alpha", [0.0, 2.0])])
    with pytest.raises(SweepInputError, match=r"^SelfCheckedRidge refuses alpha=-1.0: alpha must"):
        check_estimator_params(own, [("alpha", [1.0, -1.0])])
