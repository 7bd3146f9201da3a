"""Cases 12, 16 and 24: racing uploads, uploads and model dumps cut off, and a moved workspace.

Each fault is real: two processes upload one file name to one run at once; a process is
SIGKILLed in the middle of an upload; a workspace folder is moved to another path.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from tracking import ConflictError, Experiment, Workspace
from tracking.cli import main as cli

NAME = "outputs/model.pkl"
WINNER, LOSER = b"W" * 300_000, b"L" * 300_000

# One upload of a test's racing pair: `winner` uploads at once when told to; `loser` starts
# first, passes every check made before its bytes move, and holds its last bytes back until
# the winner's record exists, so it finishes storing after the winner has won.
_UPLOAD = r"""
import io, json, sys, time
from pathlib import Path
from tracking import ConflictError, Experiment, Run, Workspace

config, run_id, role, flags = sys.argv[1], sys.argv[2], sys.argv[3], Path(sys.argv[4])
ws = Workspace.from_config(config)
run = Run(Experiment(ws, "race"), run_id)
payload = (b"W" if role == "winner" else b"L") * 300_000

class Held(io.BytesIO):
    def read(self, size=-1):
        (flags / "loser-storing").touch()
        data = super().read(size)
        while not data and not ws.records.list_files(run_id):
            time.sleep(0.02)  # the loser's end of stream waits for the winner's record
        return data

if role == "winner":
    while not (flags / "loser-storing").exists():
        time.sleep(0.02)
    source = io.BytesIO(payload)
else:
    source = Held(payload)
try:
    run.upload_file("outputs/model.pkl", source)
    print("won")
except ConflictError as err:
    print("conflict:", err)
"""


def _wait_for(check: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _config(folder: Path, storage: str, endpoint: str | None = None) -> Path:
    config = folder / "config.json"
    fields = {"tracking_uri": f"sqlite:///{folder / 'records.db'}", "storage_uri": storage}
    if endpoint:
        fields["s3_endpoint_url"] = endpoint
    config.write_text(json.dumps(fields))
    return config


def _storage(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str | None]:
    if request.param == "s3":
        bucket = request.getfixturevalue("s3_bucket")
        return f"s3://{bucket}/team", request.getfixturevalue("s3_endpoint")
    return str(tmp_path / "storage"), None


@pytest.fixture(params=["local", "s3"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str | None]:
    return _storage(request, tmp_path)


def _stored_bytes(ws: Workspace) -> list[bytes]:
    """The bytes of every object under the storage's runs/."""
    found = []
    for info in ws.artifacts.list_objects("runs/"):
        with ws.artifacts.open(info.uri) as stream:
            found.append(stream.read())
    return found


@pytest.mark.reliability(
    case=12,
    fault="two processes upload one file name to one run at once; the loser finishes storing "
    "its bytes after the winner has recorded its file (local folder and S3)",
    expected="one upload wins and the stored bytes are its own; the other gets ConflictError "
    "and its bytes are never visible under the name, nor left in storage",
)
def test_two_uploads_of_one_name_at_once(
    storage: tuple[str, str | None], tmp_path: Path, record_property: pytest.RecordProperty
) -> None:
    config = _config(tmp_path, *storage)
    ws = Workspace.from_config(config)
    run = Experiment(ws, "race").start_logging()
    flags = tmp_path / "flags"
    flags.mkdir()

    def upload(role: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-c", _UPLOAD, str(config), run.id, role, str(flags)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    loser = upload("loser")
    winner = upload("winner")
    said = {role: p.communicate(timeout=120) for role, p in (("winner", winner), ("loser", loser))}
    assert said["winner"][0].strip() == "won", said
    assert said["loser"][0].startswith("conflict:") and "already has a file" in said["loser"][0]
    (record,) = run.get_files()
    downloaded = run.download_file(NAME, tmp_path / "model.pkl").read_bytes()
    assert downloaded == WINNER and record.sha256 == hashlib.sha256(WINNER).hexdigest()
    stored = _stored_bytes(ws)
    assert stored == [WINNER], [s[:1] for s in stored]
    record_property(
        "observed",
        f"{len(stored)} object under runs/ (the winner's); loser: {said['loser'][0][:40]}...",
    )


_KILLED_UPLOAD = r"""
import io, sys, time
from pathlib import Path
from tracking import Experiment, Workspace

ws = Workspace.from_config(sys.argv[1])
run = Experiment(ws, "cut").start_logging()

class Endless(io.RawIOBase):
    def readable(self):
        return True
    def readinto(self, buffer):
        Path(sys.argv[2]).touch()
        time.sleep(0.05)
        buffer[:4096] = b"x" * 4096
        return 4096

run.upload_file("outputs/big.bin", io.BufferedReader(Endless()))
"""


@pytest.mark.reliability(
    case=16,
    fault="an upload that fails while its process lives (the source raises midway), and a "
    "process SIGKILLed midway through an upload to a local folder",
    expected="the failed upload leaves no temporary part; the killed one's part is listed by "
    "'python -m tracking gc' and removed by 'gc --yes'; recorded files stay",
)
def test_uploads_cut_off_midway_leave_nothing_for_long(
    tmp_path: Path, record_property: pytest.RecordProperty, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path, str(tmp_path / "storage"))
    ws = Workspace.from_config(config)
    run = Experiment(ws, "cut").start_logging()
    kept = run.upload_file("outputs/kept.txt", io.BytesIO(b"kept"))

    class Broken(io.RawIOBase):
        sent = 0

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
            if self.sent > 1 << 20:
                raise OSError("the source went away")
            buffer[:4096] = b"y" * 4096
            self.sent += 4096
            return 4096

    with pytest.raises(Exception, match="the source went away"):
        run.upload_file("outputs/broken.bin", io.BufferedReader(Broken()))
    parts = sorted((tmp_path / "storage").rglob("*.part"))
    assert parts == [], parts

    started = tmp_path / "started"
    process = subprocess.Popen([sys.executable, "-c", _KILLED_UPLOAD, str(config), str(started)])
    _wait_for(lambda: started.exists() and any((tmp_path / "storage").rglob("*.part")), "a part")
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    (part,) = sorted((tmp_path / "storage").rglob("*.part"))
    capsys.readouterr()
    assert cli(["gc", "--config", str(config), "--older-than", "0"]) == 0
    listed = capsys.readouterr().out
    assert part.name in listed
    assert cli(["gc", "--config", str(config), "--older-than", "0", "--yes"]) == 0
    assert not part.exists()
    assert run.download_file("outputs/kept.txt", tmp_path / "kept.txt").read_bytes() == b"kept"
    assert kept.sha256 == hashlib.sha256(b"kept").hexdigest()
    record_property(
        "observed",
        "no part after the failed upload; the killed upload's part listed by gc, then removed",
    )


# A sweep worker's model dump (`sweep.trainable.save_model`) SIGKILLed midway: the object
# after a large array kills its own process while it is pickled.
_KILLED_MODEL_DUMP = """
import os, signal, sys
import numpy as np
from sweep.trainable import save_model

class KilledWhilePickled:
    def __reduce__(self):
        os.kill(os.getpid(), signal.SIGKILL)

save_model([np.ones(200_000), KilledWhilePickled()], sys.argv[1], "model_alpha_0.1.joblib")
"""


@pytest.mark.reliability(
    case=16,
    fault="a sweep worker SIGKILLed while it dumps a packed cell's model straight into the "
    "sweep's storage folder (its trial's models/)",
    expected="no file under the model's name; the cut-off dump is a temporary part that "
    "'python -m tracking gc' lists and 'gc --yes' removes",
)
def test_a_model_dump_cut_off_midway_is_a_part_gc_removes(
    tmp_path: Path, record_property: pytest.RecordProperty, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path, str(tmp_path / "storage"))
    models = tmp_path / "storage" / "sweeps" / "exp" / "trial_0" / "models"
    models.mkdir(parents=True)
    root = Path(__file__).resolve().parents[2]
    killed = subprocess.run(
        [sys.executable, "-c", _KILLED_MODEL_DUMP, str(models)],
        env={**os.environ, "PYTHONPATH": str(root)},
        capture_output=True,
        timeout=120,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    (part,) = models.iterdir()
    size = part.stat().st_size
    assert part.name != "model_alpha_0.1.joblib" and size > 0
    capsys.readouterr()
    assert cli(["gc", "--config", str(config), "--older-than", "0"]) == 0
    assert part.name in capsys.readouterr().out
    assert cli(["gc", "--config", str(config), "--older-than", "0", "--yes"]) == 0
    assert list(models.iterdir()) == []
    record_property("observed", f"{part.name} ({size:,} B) listed by gc, then removed")


@pytest.mark.reliability(
    case=24,
    fault="a workspace folder (config.json, records.db, storage) moved to another path, as a "
    "restore from backup or another mount point does",
    expected="every file downloads from the new place, its SHA-256 checked; files outside "
    "the storage keep their absolute URI",
)
def test_a_workspace_that_moved_keeps_its_files(
    tmp_path: Path, record_property: pytest.RecordProperty
) -> None:
    before = tmp_path / "before"
    before.mkdir()
    (before / "config.json").write_text(
        json.dumps({"tracking_uri": "sqlite:///records.db", "storage_uri": "storage"})
    )
    ws = Workspace.from_config(before)
    with Experiment(ws, "moved").start_logging() as run:
        run.upload_file("model.pkl", io.BytesIO(b"a model"))
        run.upload_file("outputs/notes.txt", io.BytesIO(b"notes"))
        stored = run.upload_file("outputs/extra.bin", io.BytesIO(b"extra"))
    registered_uri = ws.artifacts.uri_for("elsewhere/registered.bin")
    Path(unquote(urlsplit(registered_uri).path)).parent.mkdir(parents=True)
    Path(unquote(urlsplit(registered_uri).path)).write_bytes(b"registered")
    other = Experiment(ws, "moved").start_logging()
    other.register_file("registered.bin", registered_uri)
    other.complete()
    assert stored.uri.startswith((before / "storage").as_uri())
    ws.close()

    after = tmp_path / "elsewhere" / "after"
    after.parent.mkdir()
    shutil.move(before, after)
    moved = Workspace.from_config(after)
    downloaded = {}
    for each in moved.experiments["moved"].get_runs():
        for record in each.get_files():
            assert record.uri.startswith((after / "storage").as_uri()), record.uri
            target = each.download_file(record.name, tmp_path / f"got-{len(downloaded)}")
            downloaded[record.name] = target.read_bytes()
    assert downloaded == {
        "model.pkl": b"a model",
        "outputs/notes.txt": b"notes",
        "outputs/extra.bin": b"extra",
        "registered.bin": b"registered",
    }
    record_property("observed", f"{len(downloaded)} of 4 files downloaded after the move")


def test_a_file_recorded_by_uri_outside_the_storage_keeps_that_uri(tmp_path: Path) -> None:
    """The records keep an absolute URI for what lies outside the root (not moved with it)."""
    ws = Workspace(tracking_uri=f"sqlite:///{tmp_path / 'r.db'}", storage_uri=str(tmp_path / "s"))
    run = Experiment(ws, "outside").start_logging()
    assert ws.artifacts.relative("s3://elsewhere/key") == "s3://elsewhere/key"
    assert ws.artifacts.relative(ws.artifacts.uri_for("runs/a/b.txt")) == "runs/a/b.txt"
    with pytest.raises(ConflictError):
        run.upload_file("x.txt", io.BytesIO(b"1"))
        run.upload_file("x.txt", io.BytesIO(b"2"))
    assert [f.name for f in run.get_files()] == ["x.txt"]
