"""Case 22: a workspace at rest (records.db alone, no -wal/-shm) on a read-only mount is
read by the facade, the command line and the portal; writes fail in one line.

The mount is a real read-only bind mount (root cannot write through it either), made in
the test's folder and taken down after it.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tracking import Experiment, Run, StorageError, Workspace
from tracking.portal import create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

ROOT = Path(__file__).resolve().parents[2]


def _mount_read_only(source: Path, target: Path) -> None:
    for args in (["--bind", source, target], ["-o", "remount,ro,bind", target]):
        done = subprocess.run(["mount", *map(str, args)], capture_output=True, text=True)
        if done.returncode != 0:
            if os.path.ismount(target):
                subprocess.run(["umount", str(target)], check=False)
            pytest.skip(f"cannot make a read-only bind mount here: {done.stderr.strip()}")


@pytest.fixture
def mounted(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A workspace at rest, seen through a read-only mount; yields its folder and a run id."""
    source, target = tmp_path / "src", tmp_path / "ro"
    source.mkdir()
    target.mkdir()
    config = {"tracking_uri": "sqlite:///records.db", "storage_uri": "storage"}
    (source / "config.json").write_text(json.dumps(config))
    ws = Workspace.from_config(source)
    with Experiment(ws, "e").start_logging() as run:
        run.log_params({"alpha": 0.1})
        run.log("rmse", 0.5)
        run.upload_file("model.pkl", io.BytesIO(b"the model"))
    ws.close()
    assert sorted(p.name for p in source.iterdir()) == ["config.json", "records.db", "storage"]
    _mount_read_only(source, target)
    try:
        yield target, run.id
    finally:
        subprocess.run(["umount", str(target)], check=True)


def _refusal(write: Callable[[], Any]) -> str:
    try:
        write()
    except StorageError as err:
        return str(err)
    except Exception as err:  # what the caller got instead is the finding
        return f"{type(err).__name__}: {err}"
    return "accepted"


@pytest.mark.reliability(
    case=22,
    fault="a workspace at rest (records.db alone, no -wal/-shm) on a read-only bind mount, "
    "opened by the facade, `python -m tracking runs` and the portal; then writes",
    expected="it opens read-only: runs, metrics, params, files and pages are served; each "
    "write fails with one StorageError line saying the workspace is read-only",
)
def test_a_read_only_workspace_serves_reads_and_refuses_writes_in_one_line(
    mounted: tuple[Path, str], tmp_path: Path, record_property: pytest.RecordProperty
) -> None:
    folder, run_id = mounted
    observed = []
    try:
        ws = Workspace.from_config(folder)
    except Exception as err:
        record_property("observed", f"opening failed: {type(err).__name__}: {err}")
        raise
    experiment = Experiment(ws, "e")
    run = Run(experiment, run_id)
    out = tmp_path / "out"
    out.mkdir()
    reads = {
        "status": run.get_status(),
        "metrics": run.get_metrics(),
        "params": run.get_params(),
        "file": run.download_file("model.pkl", out).read_bytes(),
        "runs": len(experiment.to_dataframe()),
    }
    assert reads == {
        "status": "Completed",
        "metrics": {"rmse": 0.5},
        "params": {"alpha": 0.1},
        "file": b"the model",
        "runs": 1,
    }
    observed.append("facade reads held")

    with TestClient(create_app(ws), base_url="http://127.0.0.1:8080") as client:
        paths = ["/", "/experiments/e", f"/runs/{run_id}", f"/api/runs/{run_id}/files/model.pkl"]
        statuses = {path: client.get(path).status_code for path in paths}
    observed.append(f"portal {sorted(set(statuses.values()))}")

    cli = subprocess.run(
        [sys.executable, "-m", "tracking", "runs", "e", "--config", str(folder)],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    observed.append(f"`runs e` exit {cli.returncode}")

    refusals = {
        "new experiment": _refusal(lambda: Experiment(ws, "new")),
        "new run": _refusal(lambda: experiment.start_logging()),
        "tag": _refusal(lambda: run.set_tags({"k": "v"})),
    }
    ws.close()
    said = sorted({message.replace(str(folder), "<mount>") for message in refusals.values()})
    observed.append(f"{len(refusals)} writes ({', '.join(refusals)}) refused: {said}")
    record_property("observed", "; ".join(observed))
    assert all(status == 200 for status in statuses.values()), statuses
    assert cli.returncode == 0 and run_id in cli.stdout, cli.stderr
    for message in refusals.values():
        assert "read-only" in message and "\n" not in message, message
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "records.db", "storage"]
