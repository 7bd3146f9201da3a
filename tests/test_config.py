"""Workspace.from_config: where it looks, what it accepts, and what it refuses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import tracking.config
from tracking import ConfigError, Experiment, Workspace


def _write(folder: Path, data: object, name: str = "config.json") -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return path


def test_no_config_means_the_embedded_workspace_announced_once(
    in_tmp: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tracking.config, "_announced", False)
    ws = Workspace.from_config()
    Workspace.from_config()
    assert caplog.text.count("using the local workspace") == 1
    assert ws.tracking_uri == f"sqlite:///{in_tmp / 'workspace' / 'records.db'}"
    assert ws.storage_uri == (in_tmp / "workspace" / "storage").as_uri()
    Experiment(ws, "e")
    assert (in_tmp / "workspace" / "records.db").exists()


def test_config_paths_resolve_against_the_config_folder(in_tmp: Path) -> None:
    folder = in_tmp / "project"
    _write(folder, {"name": "team", "tracking_uri": "sqlite:///db/r.db", "storage_uri": "files"})
    ws = Workspace.from_config(folder)
    assert ws.name == "team"
    assert ws.storage_uri == (folder / "files").as_uri()
    Experiment(ws, "e")
    assert (folder / "db" / "r.db").exists()
    assert Workspace.from_config(folder / "config.json").name == "team"


def test_current_folder_and_azureml_subfolder_are_searched(in_tmp: Path) -> None:
    _write(in_tmp, {"workspace_name": "from-azure", "subscription_id": "x"}, ".azureml/config.json")
    assert Workspace.from_config().name == "from-azure"
    _write(in_tmp, {"name": "plain"})
    assert Workspace.from_config().name == "plain"


def test_s3_storage_and_endpoint_come_from_the_config(in_tmp: Path, s3_endpoint: str) -> None:
    _write(in_tmp, {"storage_uri": "s3://bucket/prefix", "s3_endpoint_url": s3_endpoint})
    ws = Workspace.from_config()
    assert ws.storage_uri == "s3://bucket/prefix"
    assert ws.artifacts.endpoint == s3_endpoint  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not readable JSON"),
        ("[1, 2]", "must hold a JSON object"),
        (json.dumps({"tracking_uri": 5}), "'tracking_uri' must be a string"),
        (
            json.dumps({"trackinguri": "sqlite:///x"}),
            "unknown field.*'trackinguri'.*accepted: name",
        ),
        (json.dumps({"tracking_uri": "mysql://h/db"}), "unsupported scheme 'mysql'.*sqlite://"),
        (json.dumps({"storage_uri": "gs://b/p"}), "unsupported scheme 'gs'.*s3://"),
        (json.dumps({"tracking_uri": "sqlite://"}), "names no database file"),
        (json.dumps({"heartbeat_timeout_s": "60"}), "'heartbeat_timeout_s' must be a number"),
        (json.dumps({"heartbeat_timeout_s": 0.5}), "seconds >= 1, not 0.5"),
        (json.dumps({"heartbeat_timeout_s": True}), "seconds >= 1, not True"),
    ],
)
def test_malformed_configs_are_refused_with_the_reason(
    in_tmp: Path, content: str, message: str
) -> None:
    (in_tmp / "config.json").write_text(content)
    with pytest.raises(ConfigError, match=message):
        Workspace.from_config()


def test_a_named_path_without_config_is_an_error(in_tmp: Path) -> None:
    with pytest.raises(ConfigError, match="no workspace config"):
        Workspace.from_config(in_tmp / "missing")


def test_workspace_without_config_file(tmp_path: Path) -> None:
    ws = Workspace(
        "mine", tracking_uri=f"sqlite:///{tmp_path}/r.db", storage_uri=str(tmp_path / "s")
    )
    assert ws.get_details()["storageUri"] == (tmp_path / "s").as_uri()
    assert "password" not in repr(
        Workspace("x", tracking_uri="sqlite:///" + str(tmp_path / "p.db"))
    )
