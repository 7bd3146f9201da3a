"""Case 21: a damaged records.db (random bytes, a zeroed header, a page scribbled mid-file)
is named in one line with exit code 2 by the command line and the sweep launcher, and the
portal answers an error page saying so.
"""

from __future__ import annotations

import os
import pickle
import random
import shutil
import sqlite3
import subprocess
import sys
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest

from tracking import Experiment, Workspace
from tracking.portal import create_app
from tracking.records import NewRun, RunStatus, utcnow

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

ROOT = Path(__file__).resolve().parents[2]
SAYS = "is not a readable SQLite database"
RUNS = 300


@pytest.fixture(scope="module")
def good_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A healthy records.db at rest: one experiment of 300 finished runs."""
    folder = tmp_path_factory.mktemp("good")
    ws = Workspace(
        "t",
        tracking_uri=f"sqlite:///{folder / 'records.db'}",
        storage_uri=str(folder / "storage"),
    )
    experiment = Experiment(ws, "e")
    now = utcnow()
    ws.records.record_runs(
        experiment.id,
        [
            NewRun(f"run-{i}", now, display_name="d" * 200, params={"alpha": i / 10},
                   metrics=(("rmse", float(i)),), status=RunStatus.COMPLETED, end_time=now)
            for i in range(RUNS)
        ],
    )  # fmt: skip
    ws.close()
    return folder / "records.db"


def _random_bytes(data: bytes, _: Path) -> bytes:
    return random.Random(21).randbytes(len(data))


def _zeroed_header(data: bytes, _: Path) -> bytes:
    return bytes(100) + data[100:]


def _scribbled_page(data: bytes, path: Path) -> bytes:
    """Random bytes over the page of the runs table nearest the middle of the file."""
    with sqlite3.connect(path) as db:
        size = db.execute("PRAGMA page_size").fetchone()[0]
        pages = [p for (p,) in db.execute("SELECT pageno FROM dbstat WHERE name = 'runs'")]
    db.close()
    middle = len(data) // size // 2
    page = min(pages, key=lambda p: abs(p - middle))
    start = (page - 1) * size
    return data[:start] + random.Random(page).randbytes(size) + data[start + size :]


DAMAGE: dict[str, Callable[[bytes, Path], bytes]] = {
    "random bytes": _random_bytes,
    "zeroed header": _zeroed_header,
    "scribbled page": _scribbled_page,
}


def _damage(path: Path, good: Path, how: str) -> None:
    """Write the damaged copy of `good` over `path` in place (its inode kept, as a disk
    error or a stray writer would)."""
    with path.open("r+b") as out:
        out.write(DAMAGE[how](good.read_bytes(), good))


def _project(tmp_path: Path, good: Path, how: str) -> Path:
    """A project folder whose embedded workspace (./workspace/records.db) is damaged."""
    (tmp_path / "workspace").mkdir()
    shutil.copy(good, tmp_path / "workspace" / "records.db")
    _damage(tmp_path / "workspace" / "records.db", good, how)
    return tmp_path


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RAY_ADDRESS": ""}
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=cwd, env=env, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip


def _errors(stderr: str) -> list[str]:
    """stderr without the announcement of the embedded workspace."""
    return [line for line in stderr.splitlines() if not line.startswith("tracking: no config")]


@pytest.mark.reliability(
    case=21,
    fault="records.db damaged at rest: random bytes, its header zeroed, or a page of the "
    "runs table scribbled mid-file; then `python -m tracking experiments` / `runs e` and "
    "`python -m sweep.launch --alphas 0.1` in its project",
    expected="one line naming the file and saying it is not a readable database, exit code "
    "2, no traceback; the sweep stops before Ray starts",
)
@pytest.mark.parametrize("how", list(DAMAGE))
def test_the_command_line_names_a_damaged_database_in_one_line(
    how: str, good_db: Path, tmp_path: Path, record_property: pytest.RecordProperty
) -> None:
    project = _project(tmp_path, good_db, how)
    path = project / "workspace" / "records.db"
    # The scribbled page holds runs: `experiments` never reads it, `runs e` reads them all.
    commands = [["tracking", "runs", "e"]]
    if how != "scribbled page":
        commands += [["tracking", "experiments"], ["sweep.launch", "--alphas", "0.1"]]
    results = [(args, _run(args, project)) for args in commands]
    summary = [
        f"{' '.join(args[:2])}: exit {done.returncode}, {len(_errors(done.stderr))} line(s)"
        for args, done in results
    ]
    sample = (_errors(results[0][1].stderr) or [""])[-1].replace(str(path), "<file>")
    record_property("observed", f"{how}: {'; '.join(summary)}: {sample[:160]!r}")
    for _, done in results:
        lines = _errors(done.stderr)
        assert done.returncode == 2, done.stderr
        assert len(lines) == 1 and str(path) in lines[0] and SAYS in lines[0], done.stderr
        assert "Traceback" not in done.stderr and "Ray" not in done.stderr + done.stdout


def _pages(app: object, paths: list[str]) -> dict[str, tuple[int, str, str]]:
    answers = {}
    with TestClient(app, base_url="http://127.0.0.1:8080", raise_server_exceptions=False) as c:  # type: ignore[arg-type]
        for path in paths:
            response = c.get(path)
            answers[path] = (response.status_code, response.headers["content-type"], response.text)
    return answers


@pytest.mark.reliability(
    case=21,
    fault="the portal's records.db damaged while it serves (random bytes, or a page of the "
    "runs table scribbled), or before a workspace handed over unopened first opens it "
    "(zeroed header)",
    expected="pages answer the portal's error page (503) and the API a JSON error, each "
    "saying the file is not a readable database; never a plain-text 500",
)
@pytest.mark.parametrize("how", list(DAMAGE))
def test_the_portal_answers_an_error_page_for_a_damaged_database(
    how: str, good_db: Path, tmp_path: Path, record_property: pytest.RecordProperty
) -> None:
    path = tmp_path / "records.db"
    shutil.copy(good_db, path)
    ws = Workspace("t", tracking_uri=f"sqlite:///{path}", storage_uri=str(tmp_path / "s"))
    if how == "zeroed header":
        # A workspace handed over unopened, as Ray unpickles one: the first page opens it.
        # (An open one keeps reading the intact pages it has cached, which is right.)
        ws = pickle.loads(pickle.dumps(ws))
    app = create_app(ws)
    _damage(path, good_db, how)
    answers = _pages(app, ["/experiments/e?limit=500", "/api/experiments/e/runs?limit=500"])
    ws.close()
    record_property(
        "observed",
        f"{how}: "
        + ", ".join(f"{p.split('?')[0]} {s} {t.split(';')[0]}" for p, (s, t, _) in answers.items()),
    )
    (page_status, page_type, page), (api_status, api_type, api) = answers.values()
    assert (page_status, page_type.split(";")[0]) == (503, "text/html"), page[:300]
    assert SAYS in page and 'class="error-message"' in page
    assert (api_status, api_type) == (503, "application/json") and SAYS in api
