"""Exporting an experiment to MLflow, read back with MLflow's own client from a real store."""

from __future__ import annotations

import io
import math
import shutil
import sys
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest

from tracking import (
    ConfigError,
    Experiment,
    IntegrityError,
    Run,
    StorageError,
    ValidationError,
    Workspace,
)
from tracking.export.mlflow import ExportResult, export_to_mlflow

mlflow = pytest.importorskip("mlflow")


@pytest.fixture(scope="module")
def mlflow_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty MLflow SQLite database, made once: creating its tables takes seconds."""
    path = tmp_path_factory.mktemp("mlflow") / "template.db"
    mlflow.MlflowClient(tracking_uri=f"sqlite:///{path}").search_experiments()
    return path


@pytest.fixture
def mlflow_uri(mlflow_template: Path, tmp_path: Path) -> str:
    shutil.copy(mlflow_template, tmp_path / "mlflow.db")
    return f"sqlite:///{tmp_path / 'mlflow.db'}"


@pytest.fixture
def client(mlflow_uri: str) -> Any:
    return mlflow.MlflowClient(tracking_uri=mlflow_uri)


def _workspace(tmp_path: Path, tracking_uri: str) -> Iterator[Workspace]:
    ws = Workspace(tracking_uri=tracking_uri, storage_uri=str(tmp_path / "storage"))
    yield ws
    ws.close()


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    yield from _workspace(tmp_path, f"sqlite:///{tmp_path / 'records.db'}")


@pytest.fixture
def any_ws(tmp_path: Path, tracking_uri: str) -> Iterator[Workspace]:
    """A workspace on each record store backend (SQLite, PostgreSQL)."""
    yield from _workspace(tmp_path, tracking_uri)


def _export(ws: Workspace, uri: str, tmp_path: Path, **kwargs: Any) -> ExportResult:
    location = str(tmp_path / "mlartifacts")
    return export_to_mlflow(ws, "diabetes", uri, artifact_location=location, **kwargs)


def _sweep(ws: Workspace) -> dict[str, Run]:
    """Four runs, one of each status, with params, metrics, tags, properties and files."""
    experiment = Experiment(workspace=ws, name="diabetes")
    done = experiment.start_logging(
        display_name="alpha 0.5", properties={"host": "n1", "user": "u1"}
    )
    done.log_params(
        {"alpha": 0.5, "solver": "svd", "layers": [64, 32], "opts": {"fit": True}, "none": None}
    )
    done.log_params({"depth": 3, "shuffle": False})
    done.log_list("rmse", [3.0, 2.0, 1.5])
    done.log("rmse", 1.25)
    for value in (math.nan, math.inf, -math.inf, 0.5):
        done.log("odd", value)
    done.set_tags({"team": "ml", "note": "first try"})
    done.add_properties({"azureml.git": "abc123"})
    done.upload_file("outputs/model.pkl", io.BytesIO(b"\x00weights\xff" * 100))
    done.upload_file("notes.txt", io.BytesIO(b"hello"))
    done.complete()
    failed = experiment.start_logging()
    failed.log("rmse", 9.0)
    failed.fail("boom")
    canceled = experiment.start_logging()
    canceled.cancel()
    running = experiment.start_logging()
    running.log("rmse", 4.0)
    return {"done": done, "failed": failed, "canceled": canceled, "running": running}


def _ms(moment: datetime | None) -> int | None:
    return None if moment is None else round(moment.timestamp() * 1_000_000) // 1000


def _copies(client: Any, experiment_id: str) -> dict[str, Any]:
    runs = client.search_runs([experiment_id])
    return {r.data.tags["raysweep.run_id"]: r for r in runs}


def _as_mlflow(value: float) -> float:
    """How MLflow's SQL store keeps a value: infinities become the greatest finite floats."""
    return math.copysign(sys.float_info.max, value) if math.isinf(value) else value


def test_every_field_reads_back_from_mlflow(
    any_ws: Workspace, mlflow_uri: str, client: Any, tmp_path: Path
) -> None:
    runs = _sweep(any_ws)
    calls: list[tuple[int, int]] = []
    result = _export(any_ws, mlflow_uri, tmp_path, progress=lambda *a: calls.append(a))
    assert result == ExportResult(result.experiment_id, exported=4, skipped=0, files=2)
    assert calls == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert client.get_experiment(result.experiment_id).name == "diabetes"

    copies = _copies(client, result.experiment_id)
    assert set(copies) == {run.id for run in runs.values()}
    expected = {"done": "FINISHED", "failed": "FAILED", "canceled": "KILLED", "running": "RUNNING"}
    for key, run in runs.items():
        record = any_ws.records.get_run(run.id)
        copy = client.get_run(copies[run.id].info.run_id)
        assert copy.info.status == expected[key]
        assert copy.info.start_time == _ms(record.start_time)
        assert copy.info.end_time == _ms(record.end_time)
        assert copy.data.tags["mlflow.runName"] == run.display_name
        assert copy.data.tags["raysweep.run_number"] == str(run.number)
        assert copy.data.tags["raysweep.status"] == record.status.value
        history: dict[str, list[tuple[int, float, int | None]]] = {}
        for value in any_ws.records.get_metric_history(run.id):
            point = (value.step, _as_mlflow(value.value), _ms(value.timestamp))
            history.setdefault(value.name, []).append(point)
        for name, points in history.items():
            got = [
                (m.step, m.value, m.timestamp)
                for m in client.get_metric_history(copy.info.run_id, name)
            ]
            assert [(s, "nan" if math.isnan(v) else v, t) for s, v, t in got] == [
                (s, "nan" if math.isnan(v) else v, t) for s, v, t in points
            ]

    done = client.get_run(copies[runs["done"].id].info.run_id)
    assert done.data.params == {
        "alpha": "0.5",
        "solver": "svd",
        "layers": "[64, 32]",
        "opts": '{"fit": true}',
        "none": "null",
        "depth": "3",
        "shuffle": "False",
    }
    assert {k: v for k, v in done.data.tags.items() if not k.startswith("mlflow.")} == {
        "team": "ml",
        "note": "first try",
        "raysweep.property.host": "n1",
        "raysweep.property.user": "u1",
        "raysweep.property.azureml.git": "abc123",
        "raysweep.run_id": runs["done"].id,
        "raysweep.run_number": "1",
        "raysweep.status": "Completed",
    }
    rmse = client.get_metric_history(done.info.run_id, "rmse")
    assert [m.value for m in rmse] == [3.0, 2.0, 1.5, 1.25]
    assert [m.step for m in rmse] == [0, 1, 2, 3]
    odd = [m.value for m in client.get_metric_history(done.info.run_id, "odd")]
    assert math.isnan(odd[0]) and odd[1:] == [sys.float_info.max, -sys.float_info.max, 0.5]

    failed = client.get_run(copies[runs["failed"].id].info.run_id)
    assert failed.data.tags["raysweep.error"] == "boom"
    assert "raysweep.error" not in done.data.tags

    artifacts = done.info.run_id
    assert sorted(a.path for a in client.list_artifacts(artifacts)) == ["notes.txt", "outputs"]
    assert [a.path for a in client.list_artifacts(artifacts, "outputs")] == ["outputs/model.pkl"]
    local = Path(client.download_artifacts(artifacts, "outputs/model.pkl", str(tmp_path)))
    assert local.read_bytes() == b"\x00weights\xff" * 100
    assert str(tmp_path / "mlartifacts") in done.info.artifact_uri


def test_exporting_again_skips_finished_runs_and_refreshes_running_ones(
    ws: Workspace, mlflow_uri: str, client: Any, tmp_path: Path
) -> None:
    runs = _sweep(ws)
    first = _export(ws, mlflow_uri, tmp_path)
    again = _export(ws, mlflow_uri, tmp_path)
    assert (again.experiment_id, again.exported, again.skipped) == (first.experiment_id, 1, 3)
    assert len(client.search_runs([first.experiment_id])) == 4

    runs["running"].log("rmse", 3.0)
    runs["running"].complete()
    last = _export(ws, mlflow_uri, tmp_path)
    assert (last.exported, last.skipped, last.files) == (1, 3, 0)
    copy = _copies(client, first.experiment_id)[runs["running"].id]
    assert copy.info.status == "FINISHED"
    assert [m.value for m in client.get_metric_history(copy.info.run_id, "rmse")] == [4.0, 3.0]
    assert len(client.search_runs([first.experiment_id])) == 4


def test_large_runs_are_written_in_batches_within_mlflows_limits(
    ws: Workspace, mlflow_uri: str, tmp_path: Path
) -> None:
    from mlflow import MlflowClient

    calls: list[tuple[int, int, int]] = []

    class CountingClient(MlflowClient):
        def log_batch(
            self,
            run_id: str,
            metrics: Sequence[Any] = (),
            params: Sequence[Any] = (),
            tags: Sequence[Any] = (),
            synchronous: bool | None = None,
        ) -> Any:
            calls.append((len(metrics), len(params), len(tags)))
            return super().log_batch(run_id, metrics, params, tags, synchronous)

    run = Experiment(workspace=ws, name="diabetes").start_logging()
    run.log_params({f"p{i}": i for i in range(250)})
    run.set_tags({f"t{i}": str(i) for i in range(150)})
    run.log_list("loss", [float(i) for i in range(2500)])
    run.complete()
    client = CountingClient(tracking_uri=mlflow_uri)
    result = _export(ws, mlflow_uri, tmp_path, client=client)
    assert all(m <= 1000 and p <= 100 and t <= 100 and m + p + t <= 1000 for m, p, t in calls)
    properties = len(run.get_properties())  # each a tag too (the run's host and user)
    assert [sum(c[i] for c in calls) for i in range(3)] == [2500, 250, 150 + properties]
    assert len(calls) == 3  # 3000 values: no fewer calls can hold them
    (copy,) = client.search_runs([result.experiment_id])
    assert copy.data.params == {f"p{i}": str(i) for i in range(250)}
    assert {k for k in copy.data.tags if not k.startswith(("t", "raysweep."))} == {"mlflow.runName"}
    assert sum(k.startswith("t") for k in copy.data.tags) == 150
    loss = client.get_metric_history(copy.info.run_id, "loss")
    assert [m.step for m in loss] == list(range(2500))


def test_a_copy_left_half_way_is_replaced(
    ws: Workspace, mlflow_uri: str, client: Any, tmp_path: Path
) -> None:
    run = Experiment(workspace=ws, name="diabetes").start_logging()
    run.log("rmse", 2.0)
    run.complete()
    experiment_id = client.create_experiment("diabetes", str(tmp_path / "mlartifacts"))
    client.create_run(experiment_id, tags={"raysweep.run_id": run.id})  # no raysweep.status
    result = _export(ws, mlflow_uri, tmp_path)
    assert (result.experiment_id, result.exported, result.skipped) == (experiment_id, 1, 0)
    (copy,) = client.search_runs([experiment_id])
    assert copy.data.tags["raysweep.status"] == "Completed"
    assert copy.data.metrics == {"rmse": 2.0}


def test_a_long_error_text_is_cut_to_mlflows_tag_limit(
    ws: Workspace, mlflow_uri: str, client: Any, tmp_path: Path
) -> None:
    run = Experiment(workspace=ws, name="diabetes").start_logging()
    run.fail("Traceback: " + "x" * 9000)
    result = _export(ws, mlflow_uri, tmp_path)
    (copy,) = client.search_runs([result.experiment_id])
    error = copy.data.tags["raysweep.error"]
    assert len(error) == 8000 and error.startswith("Traceback: xxx") and error.endswith("...")


def test_a_tampered_file_is_refused(
    ws: Workspace, mlflow_uri: str, client: Any, tmp_path: Path
) -> None:
    run = Experiment(workspace=ws, name="diabetes").start_logging()
    record = run.upload_file("model.pkl", io.BytesIO(b"weights"))
    run.complete()
    stored = Path(unquote(urlsplit(run.get_files()[0].uri).path))
    assert stored.read_bytes() == b"weights" and record.size == 7
    stored.write_bytes(b"WEIGHTS")
    with pytest.raises(IntegrityError, match=f"'model.pkl' of run {run.id}"):
        _export(ws, mlflow_uri, tmp_path)
    (experiment,) = client.search_experiments(filter_string="name = 'diabetes'")
    assert client.search_runs([experiment.experiment_id]) == []


@pytest.mark.parametrize(
    ("logged", "error"),
    [
        ({"params": {"prompt": "x" * 6001}}, "param 'prompt'.*6001 characters.*6000"),
        ({"params": {"k" * 251: 1}}, "param 'kkk.*at most 250"),
        ({"metrics": {"acc@1": 0.9}}, "metric 'acc@1'.*letters, digits"),
        ({"tags": {"note": "y" * 8001}}, "tag 'note'.*8001 characters"),
        ({"tags": {"raysweep.run_id": "x"}}, "tag 'raysweep.run_id' is reserved"),
    ],
)
def test_values_mlflow_cannot_hold_are_refused_before_writing(
    ws: Workspace,
    mlflow_uri: str,
    client: Any,
    tmp_path: Path,
    logged: dict[str, dict[str, Any]],
    error: str,
) -> None:
    experiment = Experiment(workspace=ws, name="diabetes")
    fine = experiment.start_logging()
    fine.log("rmse", 1.0)
    fine.complete()
    run = experiment.start_logging()
    run.log_params(logged.get("params", {}))
    run.log_metrics(logged.get("metrics", {}))
    run.set_tags(logged.get("tags", {}))
    with pytest.raises(ValidationError, match=f"run 2 \\({run.id}\\): {error}"):
        _export(ws, mlflow_uri, tmp_path)
    assert client.get_experiment_by_name("diabetes") is None


@pytest.mark.parametrize("uri", ["foo://user:s3cret@host/db", "sqlite:///{tmp}/not-a-database.db"])
def test_an_unusable_mlflow_store_is_one_line(ws: Workspace, tmp_path: Path, uri: str) -> None:
    (tmp_path / "not-a-database.db").write_bytes(b"garbage " * 100)
    run = Experiment(workspace=ws, name="diabetes").start_logging()
    run.complete()
    with pytest.raises(StorageError) as caught:
        export_to_mlflow(ws, "diabetes", uri.format(tmp=tmp_path))
    message = str(caught.value)
    assert message.startswith("MLflow at ") and "\n" not in message
    assert "s3cret" not in message


def test_without_mlflow_the_error_says_what_to_install(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "mlflow", None)
    with pytest.raises(ConfigError, match=r"pip install 'raysweep\[mlflow\]'"):
        export_to_mlflow(ws, "diabetes", "sqlite:///unused.db")
