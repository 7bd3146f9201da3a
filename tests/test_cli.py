"""`python -m tracking`: the workspace's command line, as a terminal and a script use it."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from tests.helpers.net import free_port
from tracking import Experiment, Workspace
from tracking.cli import main


@pytest.fixture
def workspace(in_tmp: Path) -> Workspace:
    """A config.json in the current folder, and an experiment of four runs."""
    (in_tmp / "config.json").write_text(
        json.dumps({"tracking_uri": "sqlite:///records.db", "storage_uri": "storage"})
    )
    ws = Workspace.from_config()
    experiment = Experiment(ws, "diabetes")
    for alpha, rmse in ((0.1, 57.0), (0.5, 55.5), (1.0, float("nan"))):
        with experiment.start_logging() as run:
            run.log_params({"alpha": alpha})
            run.log("rmse", rmse)
    experiment.start_logging().fail("ValueError: bad alpha")
    Experiment(ws, "empty")
    return ws


def _run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), out=out)
    return code, out.getvalue()


def test_experiments_lists_each_with_its_runs(workspace: Workspace) -> None:
    code, out = _run("experiments", "--format", "json")
    assert code == 0
    assert [(e["name"], e["runs"]) for e in json.loads(out)] == [("diabetes", 4), ("empty", 0)]


def test_runs_sorted_by_a_metric_with_missing_values_last(workspace: Workspace) -> None:
    code, out = _run("runs", "diabetes", "--sort", "metrics.rmse", "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["metrics.rmse"] for r in rows] == ["55.5", "57", "nan", ""]
    assert [r["params.alpha"] for r in rows] == ["0.5", "0.1", "1", ""]
    assert rows[3]["status"] == "Failed"
    assert list(rows[0])[:6] == [
        "number",
        "run_id",
        "status",
        "display_name",
        "start_time",
        "end_time",
    ]


def test_runs_as_json_keep_params_and_metrics_apart(workspace: Workspace) -> None:
    code, out = _run("runs", "diabetes", "--desc", "--limit", "2", "--format", "json")
    assert code == 0
    runs = json.loads(out)
    assert [r["number"] for r in runs] == [4, 3]
    assert runs[1]["params"] == {"alpha": 1.0} and runs[1]["metrics"] == {"rmse": "nan"}


def test_runs_as_a_table_align_their_columns(workspace: Workspace) -> None:
    code, out = _run("runs", "diabetes", "--status", "Completed")
    lines = out.splitlines()
    assert code == 0 and len(lines) == 4
    start = lines[0].index("metrics.rmse")
    assert [line[start:].strip() for line in lines[1:]] == ["57", "55.5", "nan"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["runs", "nope"], "no experiment named 'nope'"),
        (["runs", "diabetes", "--sort", "rmse"], "cannot sort runs by 'rmse'"),
        (["runs", "diabetes", "--limit", "-1"], "'-1' is not a number of runs"),
        (["runs", "diabetes", "--status", "Done"], "'Done'"),
        (["runs", "diabetes", "--format", "xml"], "invalid choice: 'xml'"),
        (["experiments", "--config", "missing.json"], "no workspace config at"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(
    workspace: Workspace, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err


def test_an_unreachable_database_is_exit_code_1_with_its_password_hidden(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"postgresql://team:s3cret-pw@127.0.0.1:{free_port()}/records"
    (in_tmp / "config.json").write_text(json.dumps({"tracking_uri": url}))
    for argv in (["experiments"], ["db", "current"], ["db", "upgrade"]):
        assert main(argv) == 1, argv
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "s3cret-pw" not in err and "team:***@" in err, err


def test_db_current_and_history(workspace: Workspace) -> None:
    from tracking.stores import migrate

    code, out = _run("db", "current")
    assert code == 0 and f"schema version {migrate.HEAD} (current)" in out
    code, out = _run("db", "history")
    assert code == 0
    assert [line.split()[0] for line in out.splitlines()] == [
        str(v) for v in range(1, int(migrate.HEAD) + 1)
    ]
    assert out.splitlines()[-1].endswith("(this release)")


def test_db_current_of_a_missing_sqlite_file_creates_nothing(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["db", "current"]) == 2
    assert "there is no tracking database at" in capsys.readouterr().err
    assert not (in_tmp / "workspace").exists()


def test_python_dash_m_tracking_runs_in_a_fresh_process(workspace: Workspace) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tracking", "runs", "diabetes", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert len(json.loads(done.stdout)) == 4
    helped = subprocess.run(
        [sys.executable, "-m", "tracking", "--help"], capture_output=True, text=True, timeout=60
    )
    assert helped.returncode == 0
    for command in ("db", "experiments", "runs"):
        assert command in helped.stdout


def test_gc_lists_then_removes_what_killed_uploads_left(workspace: Workspace) -> None:
    import os
    import time

    kept = Experiment(workspace, "diabetes").start_logging()
    kept.upload_file("model.pkl", io.BytesIO(b"recorded model"))
    kept.complete()
    storage = Path(workspace.config.base_dir or ".") / "storage" / "runs"
    part = storage / kept.id / ".model2.pkl.abc123.part"
    stray = storage / "no-such-run" / "orphan.pkl"
    recorded = Path(unquote(urlsplit(kept.get_files()[0].uri).path))
    fresh = storage / "no-such-run" / "fresh.pkl"
    for path in (part, stray, fresh):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x" * 2048)
    for path in (part, stray, recorded):
        os.utime(path, (time.time() - 2 * 86400,) * 2)

    code, out = _run("gc")
    assert code == 0, out
    assert "part" in out and str(part.name) in out and "unrecorded" in out and "orphan.pkl" in out
    assert "fresh.pkl" not in out and "/model.pkl" not in out
    assert "2 item(s), 4.0 KiB: run again with --yes" in out
    assert part.exists() and stray.exists()

    code, out = _run("gc", "--yes")
    assert code == 0 and "freed 4.0 KiB" in out, out
    assert not part.exists() and not stray.exists() and fresh.exists()
    assert kept.download_file("model.pkl", output_file_path=str(storage.parent.parent / "m"))
    assert _run("gc") == (0, "nothing to collect\n")


def test_gc_refuses_a_bad_grace_period(
    workspace: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["gc", "--older-than", "soon"]) == 2
    assert "'soon' is not a number of hours" in capsys.readouterr().err


def test_export_to_mlflow_reads_back_with_mlflows_client(
    workspace: Workspace, in_tmp: Path
) -> None:
    from mlflow import MlflowClient

    uri = f"sqlite:///{in_tmp / 'mlflow.db'}"
    argv = ["export", "diabetes", "--to", "mlflow", "--tracking-uri", uri]
    argv += ["--artifact-location", str(in_tmp / "mlruns")]
    code, out = _run(*argv)
    assert code == 0 and "exported 4 run(s)" in out and "0 already there" in out, out
    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("diabetes")
    runs = client.search_runs([experiment.experiment_id])
    assert sorted(r.info.status for r in runs) == ["FAILED", "FINISHED", "FINISHED", "FINISHED"]
    assert sorted(r.data.params.get("alpha", "") for r in runs) == ["", "0.1", "0.5", "1.0"]
    code, out = _run(*argv)
    assert code == 0 and "exported 0 run(s)" in out and "4 already there" in out, out


def test_export_names_what_it_can_export_to(
    workspace: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["export", "diabetes", "--to", "wandb", "--tracking-uri", "x"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'wandb'" in err and "mlflow" in err
