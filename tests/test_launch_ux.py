"""What `python -m sweep.launch` tells a new user in the terminal (issue 18, items 3, 7, 8)."""

from __future__ import annotations

import io
import json
import os
import shlex
import stat
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from sweep import summary
from sweep.launch import options_from
from sweep.summary import download_command, failure_lines
from tracking import Experiment, Run, Workspace
from tracking.artifacts import open_artifact_store
from tracking.artifacts.base import ArtifactStore

ROOT = Path(__file__).resolve().parents[1]


def _env(**extra: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(ROOT),
        "RAY_ADDRESS": "",
        "COLUMNS": "200",
        **extra,
    }


def _launch(
    args: list[str], cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sweep.launch", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env=env or _env(HOME=str(cwd)),
    )


SCRIPT = str(Path(__file__))  # a script that exists, outside the test's folder
LOSS = ["--metric", "loss", "--mode", "min"]


# -- item 8: negative values, one line for a missing data file, the portal's defaults --------
@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["--alphas", "-1,0.5"], "sweep: error: alpha value -1 is not accepted: it must be >= 0"),
        (
            ["--alphas", "-1:1:0.5"],
            "sweep: error: alpha value -1.0 is not accepted: it must be >= 0",
        ),
        (["--alph", "-.5"], "sweep: error: alpha value -0.5 is not accepted: it must be >= 0"),
        (["--alphas"], "sweep: error: argument --alphas: expected one argument"),
    ],
    ids=["list", "range", "abbreviated", "no value"],
)
def test_negative_grid_values_parse_and_the_grid_refuses_them(
    tmp_path: Path, args: list[str], line: str
) -> None:
    result = _launch(args, tmp_path)
    assert (result.returncode, result.stderr, result.stdout) == (2, line + "\n", "")


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["--samples", "3"], "samples 3 is not accepted with the grid search"),
        (["--param", "C=gauss(0,1)"], "C 'gauss(0,1)' is not accepted: 'gauss' is not a"),
        (["--search", "random"], "the random search needs samples"),
        (["--cv", "1"], "cv 1 is not accepted: use an integer >= 2"),
        (["--metric", "accuracy"], "metric 'accuracy' does not apply to Ridge, a regressor"),
        (["--script", "train.py", *LOSS], "script 'train.py' does not exist (or is not a file)"),
        (["--script", SCRIPT, *LOSS, "--early-stop", "asha", "--pack", "2"],
         "pack 2 is not accepted with early stopping, which needs one cell per trial"),
        (["--early-stop", "median"], "early stop 'median' needs metrics reported step by step"),
        (["--script", SCRIPT, "--metric", "loss"], "mode (none) is not accepted for metric"),
        (["--script", SCRIPT, *LOSS, "--cv", "3"], "cv is not accepted with a script"),
        (["--script", SCRIPT, *LOSS, "--early-stop", "asha:grace=0"], "asha grace '0' is not"),
    ],
    ids=["samples-with-grid", "unknown-distribution", "random-without-samples", "cv", "metric",
         "missing-script", "early-stop-with-pack", "early-stop-built-in", "script-without-mode",
         "cv-with-script", "bad-policy"],
)  # fmt: skip
def test_bad_search_and_scoring_input_is_one_line_and_writes_nothing(
    tmp_path: Path, args: list[str], line: str
) -> None:
    result = _launch(args, tmp_path)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith("sweep: error: " + line) and result.stderr.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_more_folds_than_rows_is_one_line_and_records_nothing(tmp_path: Path) -> None:
    """Checked once the data is loaded, after the (embedded) workspace is open."""
    result = _launch(["--data", "sklearn:iris", "--cv", "500"], tmp_path)
    assert (result.returncode, result.stdout) == (2, "")
    line = "sweep: error: cv 500 is more folds than the 120 rows of the train part"
    assert result.stderr == line + "\n"
    records = tmp_path / "workspace" / "records.db"
    ws = Workspace("w", tracking_uri=f"sqlite:///{records}", storage_uri=str(tmp_path / "s"))
    assert ws.experiments == {}
    ws.close()


def test_values_beginning_with_a_dash_reach_the_spec_as_given() -> None:
    options = options_from(["--alphas", "-1,0.5", "--seed", "-3", "--experiment", "e"], {})
    assert (options["alphas"], options["seed"], options["experiment"]) == ("-1,0.5", -3, "e")
    assert options_from(["--param", "l1_ratio=-1,0.5"], {})["params"] == {"l1_ratio": "-1,0.5"}


def test_a_missing_data_file_is_one_line_even_without_a_config(tmp_path: Path) -> None:
    """Without config.json the embedded workspace's notice would come first: it is held
    until the input has passed its checks."""
    result = _launch(["--data", "missing.csv", "--target", "y"], tmp_path)
    assert result.returncode == 2
    assert result.stderr == "sweep: error: data file 'missing.csv' does not exist\n"
    assert result.stdout == ""


def test_portal_help_shows_its_default_host_and_port() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tracking.portal", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        env=_env(),
    )
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert any("--host" in line and "(default: 127.0.0.1)" in line for line in lines)
    assert any("--port" in line and "(default: 8080; 0: any free)" in line for line in lines)


# -- item 3: failed cells say why ----------------------------------------------------------
def test_failures_are_grouped_by_error_most_common_first() -> None:
    failures = [
        ("alpha=0.1", "ValueError: bad solver"),
        ("alpha=0.2", "RuntimeError: out of memory"),
        ("alpha=0.5", "ValueError: bad solver"),
    ]
    assert failure_lines(failures) == [
        "2 cells failed with ValueError: bad solver: alpha=0.1, alpha=0.5",
        "1 cell failed with RuntimeError: out of memory: alpha=0.2",
    ]


def test_failure_lines_are_capped() -> None:
    many = [(f"alpha={i}", "ValueError: same") for i in range(12)]
    distinct = [(f"alpha={i}", f"ValueError: number {i}") for i in range(9)]
    assert failure_lines(many) == [
        "12 cells failed with ValueError: same: "
        "alpha=0, alpha=1, alpha=2, alpha=3, alpha=4 and 7 more"
    ]
    lines = failure_lines(distinct)
    assert len(lines) == summary.MAX_ERROR_LINES
    assert lines[-1] == "5 cells failed with 5 other errors (see each run's page)"


# -- item 7: the download command works from any folder; downloads get the usual mode ------
@pytest.fixture
def umask_022() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def _run_with_model(ws: Workspace, tmp_path: Path) -> Run:
    source = tmp_path / "model.pkl"
    source.write_bytes(b"model bytes")
    with Experiment(ws, "diabetes-experiment").start_logging() as run:
        run.upload_file("model_alpha_0.1.pkl", str(source))
    return run


WEIRD = 'a folder\'s "project" $HOME'


@pytest.mark.parametrize(
    ("kind", "folder"),
    [
        ("config", "project"),
        ("config", WEIRD),
        ("embedded", WEIRD),
        ("storage override", "project"),
    ],
)
def test_the_download_command_works_from_any_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str, folder: str
) -> None:
    project = tmp_path / folder
    project.mkdir()
    monkeypatch.chdir(project)
    if kind == "config":
        config = {"tracking_uri": "sqlite:///records.db", "storage_uri": "storage"}
        (project / "config.json").write_text(json.dumps(config))
        ws = Workspace.from_config(project)
    else:
        ws = Workspace(base_dir=project)
    if kind == "storage override":
        ws = ws.with_storage(str(tmp_path / "elsewhere"))
    run = _run_with_model(ws, tmp_path)
    command = download_command(run, "model_alpha_0.1.pkl", storage_overridden=kind != "config")
    # Double-quoted for the shell as before, unless a path holds what is special in them.
    assert command.startswith("python -c '" if folder == WEIRD else 'python -c "')

    other = tmp_path / "other"
    other.mkdir()
    shell = f"umask 022 && {command.replace('python', shlex.quote(sys.executable), 1)}"
    result = subprocess.run(
        ["/bin/sh", "-c", shell], cwd=other, capture_output=True, text=True, env=_env(), timeout=60
    )
    assert result.returncode == 0, result.stderr
    downloaded = other / "model_alpha_0.1.pkl"
    assert downloaded.read_bytes() == b"model bytes"
    assert stat.S_IMODE(downloaded.stat().st_mode) == 0o644
    assert sorted(p.name for p in other.iterdir()) == ["model_alpha_0.1.pkl"]  # no ./workspace


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ArtifactStore:
    if request.param == "local":
        return open_artifact_store(str(tmp_path / "storage"))
    client = request.getfixturevalue("s3_client")
    bucket = request.getfixturevalue("s3_bucket")
    return open_artifact_store(f"s3://{bucket}/team", s3_client=client)


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600)])
def test_downloaded_files_get_the_mode_the_umask_gives(
    store: ArtifactStore, tmp_path: Path, umask: int, mode: int
) -> None:
    stored = store.put("runs/r/model.pkl", io.BytesIO(b"bytes"))
    previous = os.umask(umask)
    try:
        out = store.download(
            stored.uri, tmp_path / "out" / "m.pkl", sha256=stored.sha256, label="m"
        )
    finally:
        os.umask(previous)
    assert stat.S_IMODE(out.stat().st_mode) == mode


# -- one sweep on Ray: the summary, the counts and the printed command, end to end ----------
@pytest.mark.ray
def test_a_sweep_with_failed_cells_says_why_and_its_download_command_works_elsewhere(
    ray_address: str, tmp_path: Path, umask_022: None
) -> None:
    project, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    project.mkdir()
    elsewhere.mkdir()
    name = f"ux-{uuid.uuid4().hex[:8]}"
    args = ["--alphas", "0.1,0.5", "--param", "solver=auto,lbfgs", "--experiment", name]
    # The session's Ray instance (its token, the workers' PYTHONPATH) through the environment.
    result = _launch(args, project, {**os.environ, "RAY_ADDRESS": ray_address})
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert f"{name}: 2 trained, 2 failed, 0 already done" in lines
    assert (
        "2 cells failed with ValueError: 'lbfgs' solver can be used only when positive=True. "
        "Please use another solver: alpha=0.1 solver=lbfgs, alpha=0.5 solver=lbfgs"
    ) in lines
    # No config.json: the embedded workspace is announced once, after the input's checks.
    assert result.stderr.count("no config.json found; using the local workspace in") == 1
    assert "Traceback" not in result.stderr

    (model,) = [line.removeprefix("Model file: ") for line in lines if "Model file:" in line]
    assert model == "model_alpha_0.1_solver_auto.pkl"
    (command,) = [line.removeprefix("Download it: ") for line in lines if "Download it:" in line]
    done = subprocess.run(
        ["/bin/sh", "-c", command.replace("python", shlex.quote(sys.executable), 1)],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        env=_env(),
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert [p.name for p in elsewhere.iterdir()] == [model]  # and no ./workspace there
    assert stat.S_IMODE((elsewhere / model).stat().st_mode) == 0o644
