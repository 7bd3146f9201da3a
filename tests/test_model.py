"""`Model` as Azure ML v1 code uses it: register a run's model, find it, download it."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from tracking import (
    ConflictError,
    Experiment,
    IntegrityError,
    Model,
    NotFoundError,
    Run,
    ValidationError,
    Workspace,
)
from tracking.azure import ACCEPTED
from tracking.model import register_run_model
from tracking.records import ModelFile

MODEL_BYTES = b"a ridge model, pickled" * 50


@pytest.fixture
def ws(tracking_uri: str, tmp_path: Path) -> Iterator[Workspace]:
    """A workspace on each backend, its files in a local folder."""
    workspace = Workspace("test", tracking_uri=tracking_uri, storage_uri=str(tmp_path / "storage"))
    yield workspace
    workspace.close()


def _trained_run(ws: Workspace, files: dict[str, bytes] | None = None) -> Run:
    run = Experiment(ws, "diabetes-experiment").start_logging()
    run.log("rmse", 55.4)
    for name, content in (files or {"outputs/model.pkl": MODEL_BYTES}).items():
        run.upload_file(name, io.BytesIO(content))
    run.complete()
    return run


def _stored_path(ws: Workspace, uri: str) -> Path:
    """The local file holding a stored key or URI."""
    return Path(ws.artifacts.resolve(uri).removeprefix("file://"))


def _objects(ws: Workspace, prefix: str) -> list[str]:
    return [o.key for o in ws.artifacts.list_objects(prefix)]


# -- from a run ----------------------------------------------------------------------------
def test_a_runs_model_is_registered_by_reference_in_new_versions(ws: Workspace) -> None:
    run = _trained_run(ws)
    first = register_run_model(run, "diabetes", "outputs/model.pkl", tags={"area": "diabetes"})
    second = register_run_model(run, "diabetes", "outputs/model.pkl", description="again")
    assert (first.version, second.version) == (1, 2)
    assert (first.id, second.id) == ("diabetes:1", "diabetes:2")
    assert Model(ws, "diabetes") == second
    assert Model(ws, "diabetes").description == "again"
    assert Model(ws, "diabetes", version=1).tags == {"area": "diabetes"}
    assert Model(ws, id="diabetes:1") == first
    assert Model(ws, "diabetes", version="1") == first
    assert second.run_id == run.id
    assert second.created_time >= first.created_time
    # The model points at the run's file as recorded: nothing was copied.
    (recorded,) = ws.records.list_files(run.id)
    assert [(f.path, f.uri, f.sha256) for f in second.files] == [
        ("model.pkl", recorded.uri, recorded.sha256)
    ]
    assert _objects(ws, "models/") == []


def test_run_register_model_is_the_v1_call(ws: Workspace) -> None:
    run = _trained_run(ws)
    model = run.register_model(model_name="diabetes", model_path="outputs/model.pkl")
    assert isinstance(model, Model) and model.version == 1 and model.run_id == run.id


def test_a_runs_folder_is_registered_with_the_files_under_it(ws: Workspace, tmp_path: Path) -> None:
    files = {
        "outputs/model.pkl": MODEL_BYTES,
        "outputs/scaler/scaler.pkl": b"scaler",
        "outputs.txt": b"not under the folder",
        "logs/train.log": b"log",
    }
    run = _trained_run(ws, files)
    model = register_run_model(run, "bundle", "outputs/")
    assert [f.path for f in model.files] == ["outputs/model.pkl", "outputs/scaler/scaler.pkl"]
    folder = Path(model.download(tmp_path / "out"))
    assert folder == tmp_path / "out" / "outputs"
    assert (folder / "model.pkl").read_bytes() == MODEL_BYTES
    assert (folder / "scaler" / "scaler.pkl").read_bytes() == b"scaler"
    nested = register_run_model(run, "scaler", "outputs/scaler")
    assert [f.path for f in nested.files] == ["scaler/scaler.pkl"]


def test_a_path_the_run_does_not_have_is_not_found_with_the_runs_files(ws: Workspace) -> None:
    run = _trained_run(ws)
    with pytest.raises(NotFoundError, match=r"'outputs/nope.pkl'.*outputs/model.pkl") as caught:
        register_run_model(run, "diabetes", "outputs/nope.pkl")
    assert "\n" not in str(caught.value)
    with pytest.raises(NotFoundError, match="'outputs/model'"):  # a prefix is not a folder
        register_run_model(run, "diabetes", "outputs/model")
    assert Model.list(ws) == []


def test_unknown_models_and_versions_are_not_found_in_one_line(ws: Workspace) -> None:
    run = _trained_run(ws)
    register_run_model(run, "diabetes", "outputs/model.pkl")
    for call in (
        lambda: Model(ws, "nope"),
        lambda: Model(ws, "diabetes", version=5),
        lambda: Model(ws, id="diabetes:5"),
        lambda: Model(ws, "diabetes", tags=[["area", "other"]]),
    ):
        with pytest.raises(NotFoundError) as caught:
            call()
        assert "\n" not in str(caught.value)
    with pytest.raises(ValidationError):
        Model(ws)
    with pytest.raises(ValidationError):
        Model(ws, "diabetes", version=0)
    with pytest.raises(ValidationError, match="disagree"):
        Model(ws, "other", id="diabetes:1")


# -- listing and labels ----------------------------------------------------------------------
def test_models_are_listed_by_name_run_tags_and_properties(ws: Workspace) -> None:
    run, other = _trained_run(ws), _trained_run(ws)
    register_run_model(run, "diabetes", "outputs/model.pkl", tags={"stage": "dev"})
    register_run_model(
        other, "diabetes", "outputs/model.pkl", tags={"stage": "prod"}, properties={"rmse": "55"}
    )
    register_run_model(other, "churn", "outputs/model.pkl")

    def ids(**filters: object) -> list[str]:
        return [m.id for m in Model.list(ws, **filters)]  # type: ignore[arg-type]

    assert ids() == ["churn:1", "diabetes:2", "diabetes:1"]
    assert ids(name="diabetes") == ["diabetes:2", "diabetes:1"]
    assert ids(run_id=other.id) == ["churn:1", "diabetes:2"]
    assert ids(tags=["stage"]) == ["diabetes:2", "diabetes:1"]  # v1: a key, any value
    assert ids(tags=[["stage", "dev"]]) == ["diabetes:1"]  # v1: [key, value]
    assert ids(tags={"stage": "prod"}) == ["diabetes:2"]
    assert ids(properties=["rmse"]) == ["diabetes:2"]
    assert ids(latest=True) == ["churn:1", "diabetes:2"]
    assert ids(latest=True, tags=[["stage", "dev"]]) == ["diabetes:1"]
    assert Model(ws, "diabetes", tags=[["stage", "dev"]]).version == 1
    assert Model(ws, "diabetes", run_id=run.id).version == 1
    with pytest.raises(ValidationError, match="filter"):
        Model.list(ws, tags=[["a", "b", "c"]])


def test_tags_change_and_properties_are_set_once(ws: Workspace) -> None:
    model = register_run_model(_trained_run(ws), "diabetes", "outputs/model.pkl")
    model.add_tags({"stage": "dev"})
    model.add_tags({"stage": "prod", "owner": "ana"})
    model.add_properties({"rmse": 55.4})
    model.add_properties({"rmse": "55.4"})  # the same value again
    assert model.tags == {"stage": "prod", "owner": "ana"}
    assert Model(ws, "diabetes").properties == {"rmse": "55.4"}
    with pytest.raises(ConflictError, match="rmse"):
        model.add_properties({"rmse": 1})


# -- downloads -------------------------------------------------------------------------------
def test_download_checks_each_files_sha256(ws: Workspace, tmp_path: Path) -> None:
    model = register_run_model(_trained_run(ws), "diabetes", "outputs/model.pkl")
    path = model.download(tmp_path / "a")
    assert path == str(tmp_path / "a" / "model.pkl")
    assert Path(path).read_bytes() == MODEL_BYTES
    _stored_path(ws, model.files[0].uri).write_bytes(b"changed in storage")
    with pytest.raises(IntegrityError, match="model.pkl"):
        model.download(tmp_path / "b")
    assert not (tmp_path / "b" / "model.pkl").exists()  # a refused file never appears


def test_download_refuses_to_replace_unless_told(ws: Workspace, tmp_path: Path) -> None:
    model = register_run_model(_trained_run(ws), "diabetes", "outputs/model.pkl")
    model.download(tmp_path)
    (tmp_path / "model.pkl").write_bytes(b"stale")
    with pytest.raises(ConflictError, match="exist_ok"):
        model.download(tmp_path)
    assert (tmp_path / "model.pkl").read_bytes() == b"stale"
    model.download(tmp_path, exist_ok=True)
    assert (tmp_path / "model.pkl").read_bytes() == MODEL_BYTES
    model.download(tmp_path, exists_ok=True)  # v1's older spelling


def test_get_model_path_downloads_once_into_azureml_models(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = Workspace()  # the embedded workspace: what Workspace.from_config() opens here
    try:
        run = _trained_run(ws)
        register_run_model(run, "diabetes", "outputs/model.pkl")
        register_run_model(run, "diabetes", "outputs/model.pkl")
        path = Model.get_model_path("diabetes")
        assert path == str(in_tmp / "azureml-models" / "diabetes" / "2" / "model.pkl")
        assert Path(path).read_bytes() == MODEL_BYTES
        first = Model.get_model_path("diabetes", version=1, _workspace=ws)
        assert first == str(in_tmp / "azureml-models" / "diabetes" / "1" / "model.pkl")
        fetched: list[str] = []
        original = Model._fetch

        def counted(self: Model, file: ModelFile, target: Path) -> None:
            fetched.append(file.path)
            original(self, file, target)

        monkeypatch.setattr(Model, "_fetch", counted)
        assert Model.get_model_path("diabetes", _workspace=ws) == path
        assert fetched == []  # there already, with its SHA-256
        Path(path).write_bytes(b"edited locally")
        assert Path(Model.get_model_path("diabetes", _workspace=ws)).read_bytes() == MODEL_BYTES
        assert fetched == ["model.pkl"]
    finally:
        ws.close()


# -- from a local file or folder --------------------------------------------------------------
def test_a_local_file_is_uploaded_once_and_downloads_the_same(
    ws: Workspace, tmp_path: Path
) -> None:
    local = tmp_path / "ridge.pkl"
    local.write_bytes(MODEL_BYTES)
    model = Model.register(ws, str(local), "ridge", tags={"k": "v"}, description="local")
    assert (model.version, model.run_id, model.description) == (1, None, "local")
    (file,) = model.files
    assert file.path == "ridge.pkl" and file.sha256 == hashlib.sha256(MODEL_BYTES).hexdigest()
    assert file.uri.startswith("models/ridge/") and file.uri.endswith("/ridge.pkl")
    assert _objects(ws, "models/") == [file.uri]
    assert Path(model.download(tmp_path / "out")).read_bytes() == MODEL_BYTES
    again = Model.register(ws, local, "ridge")
    assert again.version == 2 and again.files[0].uri != file.uri  # a key of its own


def test_a_local_folder_is_registered_whole_or_by_child_paths(
    ws: Workspace, tmp_path: Path
) -> None:
    folder = tmp_path / "model_dir"
    (folder / "sub").mkdir(parents=True)
    (folder / "model.pkl").write_bytes(MODEL_BYTES)
    (folder / "sub" / "vocab.txt").write_bytes(b"words")
    model = Model.register(ws, folder, "bundle")
    assert [f.path for f in model.files] == ["model_dir/model.pkl", "model_dir/sub/vocab.txt"]
    out = Path(model.download(tmp_path / "out"))
    assert out == tmp_path / "out" / "model_dir"
    assert (out / "sub" / "vocab.txt").read_bytes() == b"words"
    some = Model.register(ws, folder, "bundle", child_paths=["sub/vocab.txt"])
    assert [f.path for f in some.files] == ["model_dir/sub/vocab.txt"]
    with pytest.raises(NotFoundError, match="absent"):
        Model.register(ws, folder, "bundle", child_paths=["absent"])
    with pytest.raises(NotFoundError, match="no such file"):
        Model.register(ws, tmp_path / "missing.pkl", "bundle")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValidationError, match="without files"):
        Model.register(ws, tmp_path / "empty", "bundle")


def test_a_failed_registration_deletes_what_it_uploaded(ws: Workspace, tmp_path: Path) -> None:
    local = tmp_path / "m.pkl"
    local.write_bytes(MODEL_BYTES)
    with pytest.raises(ValidationError):
        Model.register(ws, local, "m", tags={"k": "nul\x00"})  # refused by the store
    assert _objects(ws, "models/") == []
    with pytest.raises(ValidationError, match="model name"):
        Model.register(ws, local, "../escape")  # refused before any upload
    assert Model.list(ws) == []


# -- Azure's other keywords, and how a model shows ---------------------------------------------
def test_azure_keywords_are_listed_and_any_other_is_a_type_error(
    ws: Workspace, tmp_path: Path
) -> None:
    local = tmp_path / "m.pkl"
    local.write_bytes(MODEL_BYTES)
    model = Model.register(
        ws, local, "m", model_framework="ScikitLearn", model_framework_version="1.5",
        resource_configuration=None, sample_input_dataset=None,
    )  # fmt: skip
    assert model.properties == {"model_framework": "ScikitLearn", "model_framework_version": "1.5"}
    assert model.framework == "ScikitLearn"
    assert [m.id for m in Model.list(ws, model_framework="ScikitLearn", expand=False)] == ["m:1"]
    assert Model.list(ws, model_framework="Onnx") == []
    assert set(ACCEPTED["Model.list"]) == {"model_framework", "dataset_id", "expand", "page_count"}
    run = _trained_run(ws)
    for call, named in (
        (lambda: Model.register(ws, local, "m", bogus=1), "bogus"),
        (lambda: Model.list(ws, bogus=1), "bogus"),
        (lambda: Model.list(ws, datasets=[]), "datasets"),  # register's keyword, not list's
        (lambda: Model(ws, "m", bogus=1), "bogus"),
        (lambda: register_run_model(run, "m", "outputs/model.pkl", bogus=1), "bogus"),
    ):
        with pytest.raises(TypeError, match=f"'{named}'"):
            call()
    with pytest.raises(ValidationError, match="datasets"):
        Model.register(ws, local, "m", datasets=[("training", object())])
    with pytest.raises(ValidationError, match="dataset_id"):
        Model.list(ws, dataset_id="abc")
    assert _objects(ws, "models/") == [f.uri for f in model.files]


def test_a_model_shows_as_v1_shows_it(ws: Workspace) -> None:
    run = _trained_run(ws)
    model = register_run_model(
        run, "diabetes", "outputs/model.pkl", tags={"<b>": "x"}, properties={"p": "1"}
    )
    text = repr(model)
    assert text.startswith("Model(workspace=Workspace.create(name='test'")
    assert (
        "name=diabetes, id=diabetes:1, version=1, tags={'<b>': 'x'}, properties={'p': '1'})" in text
    )
    page = model._repr_html_()
    assert f"/runs/{run.id}" in page and "/models?name=diabetes#version-1" in page
    assert model.get_portal_url() == f"{ws.portal_url}/models?name=diabetes#version-1"
    body = model.serialize()
    assert body["id"] == "diabetes:1" and body["runId"] == run.id
    assert body["createdTime"].endswith("Z")
    assert body["files"] == [
        {"path": "model.pkl", "size": len(MODEL_BYTES), "sha256": model.files[0].sha256}
    ]
