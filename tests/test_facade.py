"""The Workspace / Experiment / Run facade: Azure ML's behaviour where the tutorial relies on it."""

from __future__ import annotations

import getpass
import io
import math
import pickle
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from tracking import (
    ConflictError,
    Experiment,
    IntegrityError,
    NotFoundError,
    Run,
    RunFinishedError,
    ValidationError,
    Workspace,
)


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace(
        "test", tracking_uri=f"sqlite:///{tmp_path / 'r.db'}", storage_uri=str(tmp_path / "files")
    )


@pytest.fixture
def experiment(ws: Workspace) -> Experiment:
    return Experiment(workspace=ws, name="exp")


def test_logging_a_name_again_makes_a_list(experiment: Experiment) -> None:
    run = experiment.start_logging()
    run.log("once", 1)
    run.log("twice", 1.5)
    run.log("twice", 2.5)
    run.log_list("curve", [3, 2, 1])
    assert run.get_metrics() == {"once": 1.0, "twice": [1.5, 2.5], "curve": [3.0, 2.0, 1.0]}
    assert run.get_metrics("once") == {"once": 1.0}


def test_metric_values_must_be_numbers_strings_or_booleans(experiment: Experiment) -> None:
    run = experiment.start_logging()
    with pytest.raises(
        ValidationError, match=r"\{'a': 1\} \(dict\).*number, a string or a boolean"
    ):
        run.log("m", {"a": 1})
    with pytest.raises(ValidationError, match="metric name"):
        run.log("", 1.0)
    assert run.get_metrics() == {}


def test_get_details_speaks_azure(experiment: Experiment) -> None:
    run = experiment.start_logging(properties={"host": "h"})
    run.set_tags({"team": "ml"})
    details = run.get_details()
    assert details["runId"] == run.id
    assert details["status"] == "Running"
    assert details["startTimeUtc"].endswith("Z") and details["endTimeUtc"] is None
    assert details["properties"] == {"host": "h", "user": getpass.getuser()}
    assert details["tags"] == {"team": "ml"}
    run.complete()
    details = run.get_details()
    assert details["status"] == "Completed" and details["endTimeUtc"].endswith("Z")


def test_run_numbers_and_lookup(experiment: Experiment, ws: Workspace) -> None:
    runs = [experiment.start_logging() for _ in range(3)]
    assert [r.number for r in runs] == [1, 2, 3]
    assert Run(experiment=experiment, run_id=runs[1].id).number == 2
    with pytest.raises(NotFoundError, match="'nope'"):
        Run(experiment=experiment, run_id="nope")
    other = Experiment(ws, "other")
    with pytest.raises(NotFoundError, match="not a run of experiment 'other'"):
        Run(experiment=other, run_id=runs[0].id)
    assert set(ws.experiments) == {"exp", "other"}


def test_context_manager_completes_or_fails_with_the_exception(experiment: Experiment) -> None:
    with experiment.start_logging() as good:
        good.log("m", 1)
    assert good.get_status() == "Completed"
    with pytest.raises(ZeroDivisionError), experiment.start_logging() as bad:
        1 / 0  # noqa: B018
    assert bad.get_status() == "Failed"
    assert "ZeroDivisionError" in bad.get_details()["error"]["error"]["message"]


def test_finished_runs_refuse_logging_and_uploads(experiment: Experiment, tmp_path: Path) -> None:
    run = experiment.start_logging()
    run.fail(error_details="diverged")
    assert run.get_details()["error"]["error"]["message"] == "diverged"
    with pytest.raises(RunFinishedError, match="Failed"):
        run.log("m", 1)
    with pytest.raises(RunFinishedError):
        run.upload_file("f.txt", io.BytesIO(b"x"))
    with pytest.raises(RunFinishedError):
        run.complete()
    assert not (tmp_path / "files" / "runs" / run.id).exists()  # nothing was uploaded
    run.set_tags({"reviewed": "yes"})  # tags stay editable
    assert run.get_tags() == {"reviewed": "yes"}


def test_runs_newest_first_and_filtered_by_status(experiment: Experiment) -> None:
    a, b, c = (experiment.start_logging() for _ in range(3))
    a.complete()
    c.cancel()
    assert [r.id for r in experiment.get_runs()] == [c.id, b.id, a.id]
    assert [r.id for r in experiment.get_runs(status="Running")] == [b.id]
    with pytest.raises(ValidationError, match="Completed"):
        list(experiment.get_runs(status="done"))


def test_best_run_ignores_nan_and_infinity(experiment: Experiment) -> None:
    for value in (math.nan, 5.0, -math.inf, 3.0, math.inf):
        with experiment.start_logging() as run:
            run.log("rmse", value)
    assert experiment.get_best_run("rmse").get_metrics()["rmse"] == 3.0
    assert experiment.get_best_run("rmse", mode="max").get_metrics()["rmse"] == 5.0
    with pytest.raises(NotFoundError, match="'mae'"):
        experiment.get_best_run("mae")
    with pytest.raises(ValidationError, match="'best'"):
        experiment.get_best_run("rmse", mode="best")


def test_upload_and_download_files(experiment: Experiment, tmp_path: Path) -> None:
    source = tmp_path / "model.bin"
    source.write_bytes(b"weights")
    run = experiment.start_logging()
    record = run.upload_file("outputs/model.bin", str(source))
    run.upload_file("outputs/notes.txt", io.BytesIO(b"notes"))
    run.upload_file("summary.txt", io.BytesIO(b"summary"))
    with pytest.raises(ConflictError, match="outputs/model.bin"):
        run.upload_file("outputs/model.bin", io.BytesIO(b"other"))
    assert record.size == 7
    assert run.get_file_names() == ["outputs/model.bin", "outputs/notes.txt", "summary.txt"]

    out = tmp_path / "out"
    out.mkdir()
    assert run.download_file("outputs/model.bin", out) == out / "model.bin"
    assert (out / "model.bin").read_bytes() == b"weights"
    assert run.download_file("summary.txt", out / "renamed.txt").read_text() == "summary"

    everything = tmp_path / "all"
    written = run.download_files(prefix="outputs/", output_directory=everything)
    assert sorted(p.relative_to(everything).as_posix() for p in written) == [
        "outputs/model.bin",
        "outputs/notes.txt",
    ]
    stripped = run.download_files("outputs/", tmp_path / "flat", append_prefix=False)
    assert sorted(p.name for p in stripped) == ["model.bin", "notes.txt"]
    with pytest.raises(NotFoundError, match="'missing.txt'"):
        run.download_file("missing.txt", out)


@pytest.mark.parametrize(
    "segment",
    ["a" * 236 + ".pkl", "a" * 251 + ".pkl", "\u00e9" * 125 + ".pkl"],  # 240, 255, 254 bytes
    ids=["240-bytes", "255-bytes", "254-bytes-utf8"],
)
def test_a_file_name_up_to_the_file_systems_255_bytes_uploads_and_downloads_whole(
    experiment: Experiment, tmp_path: Path, segment: str
) -> None:
    run = experiment.start_logging()
    name = f"outputs/{segment}"
    run.upload_file(name, io.BytesIO(b"model bytes"))
    assert run.get_file_names() == [name]
    target = tmp_path / "back" / segment
    target.parent.mkdir()
    run.download_file(name, str(target))
    assert target.read_bytes() == b"model bytes"
    assert [p.name for p in target.parent.iterdir()] == [segment]  # no part left behind


@pytest.mark.reliability(
    case=7,
    fault="../, ..%2f, absolute and C:\\ names given to upload_file, download_file, download_files",
    expected="ValidationError before any I/O; nothing written",
)
@pytest.mark.parametrize("name", ["../evil.txt", "..%2fevil.txt", "/tmp/evil.txt", "C:\\evil"])
def test_unsafe_file_names_are_refused_before_any_io(
    experiment: Experiment, tmp_path: Path, name: str
) -> None:
    run = experiment.start_logging()
    with pytest.raises(ValidationError, match="not accepted"):
        run.upload_file(name, io.BytesIO(b"x"))
    with pytest.raises(ValidationError, match="not accepted"):
        run.download_file(name, tmp_path)
    with pytest.raises(ValidationError, match="not accepted"):
        run.download_files(prefix=name, output_directory=tmp_path)
    assert not (tmp_path / "evil.txt").exists()


@pytest.mark.reliability(
    case=5,
    fault="a run's stored model.pkl rewritten in the storage folder after upload",
    expected="download_file and load_model raise IntegrityError naming the file; no copy appears",
)
def test_altered_files_are_refused_on_download_and_load(
    experiment: Experiment, tmp_path: Path
) -> None:
    run = experiment.start_logging()
    run.upload_file("model.pkl", io.BytesIO(pickle.dumps({"weights": [1, 2]})))
    assert run.load_model("model.pkl") == {"weights": [1, 2]}
    stored = Path(unquote(urlsplit(run.get_files()[0].uri).path))
    stored.write_bytes(pickle.dumps({"weights": [6, 6, 6]}))
    with pytest.raises(IntegrityError, match="'model.pkl' of run"):
        run.download_file("model.pkl", tmp_path / "copy.pkl")
    assert not (tmp_path / "copy.pkl").exists()
    with pytest.raises(IntegrityError):
        run.load_model("model.pkl")


def test_registered_files_are_not_copied(experiment: Experiment, ws: Workspace) -> None:
    stored = ws.artifacts.put("sweeps/exp/trial/checkpoint/model.pkl", io.BytesIO(b"model"))
    run = experiment.start_logging()
    record = run.register_file("model.pkl", stored.uri)
    assert (record.uri, record.sha256) == (stored.uri, stored.sha256)
    assert run.get_file_names() == ["model.pkl"]
    with pytest.raises(ValidationError, match="outside"):
        run.register_file("passwd", "file:///etc/passwd")
    with pytest.raises(ValidationError, match="outside"):
        run.register_file("passwd", "file:///etc/passwd", size=1, sha256="0" * 64)
    assert run.get_file_names() == ["model.pkl"]


def test_params_are_recorded_and_shown_in_the_dataframe(experiment: Experiment) -> None:
    with experiment.start_logging() as run:
        run.log_params({"alpha": 0.5, "solver": "auto"})
        run.log("rmse", 2.0)
    assert run.get_params() == {"alpha": 0.5, "solver": "auto"}
    frame = experiment.to_dataframe()
    assert frame.loc[0, "params.alpha"] == 0.5 and frame.loc[0, "metrics.rmse"] == 2.0


def test_a_workspace_survives_pickling(ws: Workspace, experiment: Experiment) -> None:
    clone = pickle.loads(pickle.dumps(ws))
    assert Experiment(clone, "exp").id == experiment.id


def test_a_run_id_is_checked_like_a_file_name(experiment: Experiment) -> None:
    victim = experiment.start_logging()
    for hostile in (f"../runs/{victim.id}", "..", "", "a/b", "r" * 65):
        with pytest.raises(ValidationError, match="run id"):
            experiment.start_logging(run_id=hostile)
        with pytest.raises(ValidationError, match="run id"):
            Run(experiment, hostile)
    assert experiment.start_logging(run_id="HD_5e1b7c_0").id == "HD_5e1b7c_0"
    assert len(list(experiment.get_runs())) == 2


def test_text_a_database_refuses_is_refused_or_cleaned(experiment: Experiment) -> None:
    run = experiment.start_logging()
    with pytest.raises(ValidationError, match="tag 'note' value"):
        run.set_tags({"note": "a\x00b"})
    with pytest.raises(ValidationError, match="display name"):
        experiment.start_logging(display_name="d" * 256)
    run.fail(ValueError("bad\x00value"))  # an error's text is cleaned, not refused
    assert run.get_status() == "Failed"
    assert run.get_details()["error"]["error"]["message"] == "ValueError: bad\ufffdvalue"
