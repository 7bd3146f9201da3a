"""Cases 18 and 20: passwords in error messages, and who recorded a model.

Every way in that reads a tracking URI (the facade, `python -m tracking`, the portal's and
the sweep's command lines) is given URIs whose passwords must never be printed.
"""

from __future__ import annotations

import getpass
import io
import json
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.helpers.net import free_port
from tracking import Experiment, TrackingError, Workspace

PASSWORD = "pw-Zq9@x"  # holds an '@', as real passwords do


def _uris(pg_url: str) -> list[str]:
    unreachable = f"127.0.0.1:{free_port()}"
    return [
        f"mysql://team:{PASSWORD}@{unreachable}/records",
        f"postgres://team:{PASSWORD}@{unreachable}/records",
        f"postgresql+nosuchdriver://team:{PASSWORD}@{unreachable}/records",
        f"oracle://team:{PASSWORD}@{unreachable}/records",
        f"postgresql://team:{PASSWORD}@{unreachable}/records",
    ]


def _commands(config: Path) -> list[list[str]]:
    return [
        [sys.executable, "-m", "tracking", "experiments", "--config", str(config)],
        [sys.executable, "-m", "tracking", "db", "upgrade", "--config", str(config)],
        [sys.executable, "-m", "tracking.portal", "--config", str(config), "--port", "0"],
        [sys.executable, "-m", "sweep.launch", "--config", str(config), "--alphas", "0.1"],
    ]


@pytest.mark.reliability(
    case=18,
    fault="tracking URIs with a password (holding '@') in the spellings people use: mysql://, "
    "postgres://, an unknown driver, an unreachable server; through the facade, "
    "python -m tracking, the portal and the sweep's command line",
    expected="every error is one line with the password shown as ***; postgres:// is "
    "accepted as postgresql:// and connects",
)
def test_no_error_prints_a_password(
    pg_url: str, tmp_path: Path, record_property: pytest.RecordProperty
) -> None:
    seen = 0
    uris = _uris(pg_url)
    for uri in uris:
        with pytest.raises(TrackingError) as refused:
            Workspace(tracking_uri=uri, storage_uri=str(tmp_path / "s"))
        message = str(refused.value)
        assert "\n" not in message and "Zq9" not in message and "team:***@" in message, message
        seen += 1
    config = tmp_path / "config.json"
    for i, command in enumerate(_commands(config)):  # each command meets another spelling
        uri = uris[(i + 1) % len(uris)]
        config.write_text(json.dumps({"tracking_uri": uri, "storage_uri": str(tmp_path / "s")}))
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=tmp_path)
        said = done.stdout + done.stderr
        assert done.returncode != 0 and "Zq9" not in said, (command, said)
        assert said.strip().count("\n") == 0 and "***" in said, (command, said)
        seen += 1
    with_password = pg_url.replace(  # percent-encoded, as a URL must carry it to connect
        "postgresql://tracking@", f"postgres://tracking:{quote(PASSWORD, safe='')}@"
    )
    ws = Workspace(tracking_uri=with_password, storage_uri=str(tmp_path / "s"))
    Experiment(ws, "spelled").start_logging().complete()
    assert "Zq9" not in repr(ws) and "Zq9" not in json.dumps(ws.get_details())
    assert ws.records.get_experiment("spelled").name == "spelled"
    record_property(
        "observed",
        f"{seen} errors, each one line with the password as ***; postgres:// connected",
    )


@pytest.mark.reliability(
    case=20,
    fault="a model file whose writer a reader cannot judge (loading a pickle runs its code)",
    expected="each run records its host and user; load_model and the README say the SHA-256 "
    "proves the bytes unchanged, not their writer trusted",
)
def test_a_run_says_who_recorded_it(tmp_path: Path, record_property: pytest.RecordProperty) -> None:
    ws = Workspace(tracking_uri=f"sqlite:///{tmp_path / 'r.db'}", storage_uri=str(tmp_path / "s"))
    run = Experiment(ws, "who").start_logging()
    run.upload_file("model.pkl", io.BytesIO(b"bytes"))
    run.complete()
    properties = run.get_details()["properties"]
    assert properties["host"] == socket.gethostname()
    assert properties["user"] == getpass.getuser()
    doc = " ".join((run.load_model.__doc__ or "").split())
    assert "runs whatever code" in doc and "not against a writer you should not trust" in doc
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    assert "proves the bytes are unchanged, not that their writer is trusted" in readme
    record_property("observed", f"host={properties['host']}, user={properties['user']}")
