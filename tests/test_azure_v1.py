"""Azure ML v1 code with only its imports changed: the behaviours of the samples beyond the
tutorial (logging-api, manage-runs, train-within-notebook), on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import joblib
import pytest

from tracking import Experiment, NotFoundError, Run, ValidationError, Workspace
from tracking.context import OfflineRun, started_for
from tracking.errors import ConfigError, UnsupportedError
from tracking.snapshot import restore_snapshot


@pytest.fixture
def ws(tracking_uri: str, in_tmp: Path) -> Iterator[Workspace]:
    workspace = Workspace("v1", tracking_uri=tracking_uri, storage_uri=str(in_tmp / "files"))
    yield workspace
    workspace.close()  # its heartbeat stops before the database does


@pytest.fixture
def experiment(ws: Workspace) -> Experiment:
    return Experiment(workspace=ws, name="samples")


# -- workspace ---------------------------------------------------------------------------
def test_the_first_cell_prints_the_workspace_as_v1_does(in_tmp: Path) -> None:
    azure = {"subscription_id": "sub-1", "resource_group": "rg", "workspace_name": "mlws"}
    (in_tmp / "config.json").write_text(json.dumps(azure))
    ws = Workspace.from_config()
    line = f"{ws.name}\t{ws.location}\t{ws.resource_group}\t{ws.subscription_id}"
    assert line == "mlws\tlocal\trg\tsub-1"
    assert Workspace.get("mlws").name == "mlws"
    assert Workspace("sub-1", "rg", "mlws").tracking_uri == ws.tracking_uri
    with pytest.raises(ConfigError, match="no workspace with workspace_name 'other'"):
        Workspace.get("other")
    with pytest.raises(ConfigError, match="resource_group 'rg2'"):
        Workspace("sub-1", "rg2", "mlws")


def test_without_an_azure_config_the_names_are_local_strings(in_tmp: Path) -> None:
    ws = Workspace.from_config()
    assert (ws.name, ws.location, ws.subscription_id, ws.resource_group) == (
        "local",
        "local",
        "",
        "",
    )


def test_provisioning_calls_are_refused_in_one_line(in_tmp: Path) -> None:
    with pytest.raises(UnsupportedError, match="config.json") as raised:
        Workspace.create("ws", subscription_id="s", resource_group="r", create_resource_group=True)
    assert "\n" not in str(raised.value)


def test_unknown_keywords_are_a_type_error_naming_them(experiment: Experiment) -> None:
    with pytest.raises(TypeError, match="'colour'"):
        experiment.start_logging(colour="red")
    with pytest.raises(TypeError, match="'verbose'"):
        Workspace.from_config(verbose=True)
    run = experiment.start_logging()
    with pytest.raises(TypeError, match="'unit'"):
        run.log("m", 1, unit="s")
    run.log("m", 1, description="accepted, not stored")
    with pytest.raises(TypeError, match="'force'"):
        run.complete(force=True)
    run.complete(_set_status=True)
    assert run.get_status() == "Completed"


# -- outputs and snapshots ---------------------------------------------------------------
def test_start_logging_uploads_what_the_run_wrote_to_outputs(
    experiment: Experiment, in_tmp: Path
) -> None:
    (in_tmp / "outputs").mkdir()
    (in_tmp / "outputs" / "old.txt").write_text("from before the run")
    run = experiment.start_logging()
    assert (in_tmp / "outputs").is_dir()
    joblib.dump({"w": [1, 2]}, "outputs/model.pkl")
    (in_tmp / "outputs" / "plots").mkdir()
    (in_tmp / "outputs" / "plots" / "curve.csv").write_text("x,y\n1,2\n")
    run.complete()
    assert run.get_file_names() == ["outputs/model.pkl", "outputs/plots/curve.csv"]
    back = run.download_file("outputs/model.pkl", in_tmp / "back.pkl")
    assert joblib.load(back) == {"w": [1, 2]}


def test_a_failed_run_and_a_with_block_upload_outputs_too(
    experiment: Experiment, in_tmp: Path
) -> None:
    with pytest.raises(RuntimeError), experiment.start_logging() as run:
        (in_tmp / "outputs" / "partial.txt").write_text("half")
        raise RuntimeError("diverged")
    assert run.get_status() == "Failed"
    assert run.get_file_names() == ["outputs/partial.txt"]
    assert "diverged" in run.get_details()["error"]["error"]["message"]


def test_a_snapshot_is_stored_with_the_run_and_restored_byte_for_byte(
    experiment: Experiment, in_tmp: Path
) -> None:
    code = in_tmp / "project"
    (code / "pkg").mkdir(parents=True)
    (code / "train.py").write_text("print('train')\n")
    (code / "pkg" / "data.bin").write_bytes(bytes(range(256)))
    (code / ".git").mkdir()
    (code / ".git" / "HEAD").write_text("ref")
    run = experiment.start_logging(snapshot_directory=str(code))
    snapshot_id = run.take_snapshot(str(code / "train.py"))
    zip_path = run.restore_snapshot(path=str(in_tmp))
    assert Path(zip_path).name == f"{snapshot_id}.zip"
    with zipfile.ZipFile(zip_path) as archive:
        assert archive.namelist() == ["train.py"]  # the latest snapshot
    ids = [f[len("snapshots/") : -len(".zip")] for f in run.get_file_names()]
    (folder_id,) = [i for i in ids if i != snapshot_id]
    whole = run.restore_snapshot(folder_id, path=str(in_tmp))
    with zipfile.ZipFile(whole) as archive:
        assert sorted(archive.namelist()) == ["pkg/data.bin", "train.py"]
    restored = restore_snapshot(whole, in_tmp / "restored")
    assert (in_tmp / "restored" / "pkg" / "data.bin").read_bytes() == bytes(range(256))
    assert len(restored) == 2
    with pytest.raises(NotFoundError, match="no snapshot 'nope'"):
        run.restore_snapshot("nope")


# -- logging types -----------------------------------------------------------------------
def test_every_logging_call_reads_back_in_v1_shapes(experiment: Experiment, in_tmp: Path) -> None:
    run = experiment.start_logging()
    run.log("solver", "lbfgs")
    run.log("converged", True)
    run.log("rmse", 3.5)
    run.log_list("one", [0.5])
    run.log_list("labels", ["a", "b"])
    run.log_row("Y over X", x=1, y=0.4)
    run.log_row("Y over X", x=2, y=0.8)
    run.log_row("single", a=1)
    run.log_table("table", {"k": [1, 2, 3], "v": [0.1, 0.2, 0.3]})
    png = in_tmp / "plot.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 16)
    run.log_image("chart", path=str(png))
    metrics = run.get_metrics()
    assert metrics["solver"] == "lbfgs" and metrics["converged"] is True
    assert metrics["rmse"] == 3.5
    assert metrics["one"] == [0.5]
    assert metrics["labels"] == ["a", "b"]
    assert metrics["Y over X"] == {"x": [1, 2], "y": [0.4, 0.8]}
    assert metrics["single"] == {"a": 1}
    assert metrics["table"] == {"k": [1, 2, 3], "v": [0.1, 0.2, 0.3]}
    image = metrics["chart"]
    assert image in run.get_file_names() and image.endswith(".png")
    assert run.download_file(image, in_tmp / "got.png").read_bytes() == png.read_bytes()


def test_text_metrics_are_never_the_best_run(experiment: Experiment) -> None:
    with experiment.start_logging() as text_run:
        text_run.log("score", "high")
    with experiment.start_logging() as number_run:
        number_run.log("score", 0.3)
    assert experiment.get_best_run("score", "max") == number_run


def test_a_plot_is_logged_as_a_png(experiment: Experiment) -> None:
    import matplotlib  # in the test extra

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.plot([1, 2, 3], [1, 4, 9])
    run = experiment.start_logging()
    run.log_image("curve", plot=plt)
    name = run.get_metrics()["curve"]
    stored = run.get_files()[0]
    assert stored.name == name and stored.size > 100
    plt.close("all")


def test_values_that_are_not_json_are_refused(experiment: Experiment) -> None:
    run = experiment.start_logging()
    with pytest.raises(ValidationError, match="columns differ in length"):
        run.log_table("t", {"a": [1, 2], "b": [1]})
    with pytest.raises(ValidationError, match="row or table"):
        run.log_row("r", x=object())
    with pytest.raises(ValidationError, match="exactly one of path and plot"):
        run.log_image("i")


# -- child runs and filters --------------------------------------------------------------
def test_child_runs_and_every_get_runs_filter(experiment: Experiment) -> None:
    parent = experiment.start_logging(tags={"team": "a"}, properties={"kind": "parent"})
    parent.add_properties({"primary_metric_name": "rmse", "primary_metric_goal": "minimize"})
    children = parent.create_children(tag_key="fold", tag_values=["1", "2", "3"])
    for value, child in zip([3.0, 1.0, 2.0], children, strict=True):
        child.log("rmse", value)
        child.complete()
    grandchild = children[0].child_run(name="inner")
    grandchild.complete()
    other = experiment.start_logging(tags={"team": "b"})
    other.complete()
    parent.complete()

    assert [r.id for r in experiment.get_runs()] == [other.id, parent.id]
    assert len(list(experiment.get_runs(include_children=True))) == 6
    assert [r.id for r in experiment.get_runs(tags={"team": "a"})] == [parent.id]
    assert [r.id for r in experiment.get_runs(tags="team")] == [other.id, parent.id]
    assert [r.id for r in experiment.get_runs(properties={"kind": "parent"})] == [parent.id]
    assert list(experiment.get_runs(type="hyperdrive")) == []
    assert len(list(experiment.get_runs(type="azureml.scriptrun"))) == 2
    with pytest.raises(ValidationError, match="run type 'pipeline'"):
        list(experiment.get_runs(type="pipeline"))

    assert [c.id for c in parent.get_children()] == [c.id for c in children]
    assert len(list(parent.get_children(recursive=True))) == 4
    assert [c.id for c in parent.get_children(tags={"fold": "2"})] == [children[1].id]
    assert children[1].parent == parent and parent.parent is None
    assert grandchild.display_name == "inner"
    assert parent.get_best_run_by_primary_metric() == children[1]
    assert parent.get_details()["parentRunId"] is None
    assert children[0].get_details()["parentRunId"] == parent.id
    recursive = parent.get_metrics(recursive=True)
    assert recursive[children[1].id] == {"rmse": 1.0} and recursive[parent.id] == {}


def test_a_child_needs_a_parent_in_the_same_experiment(ws: Workspace) -> None:
    run = Experiment(ws, "one").start_logging()
    with pytest.raises(NotFoundError, match="parent run"):
        ws.records.create_run(Experiment(ws, "two").id, "c-1", parent_run_id=run.id)


# -- get_context -------------------------------------------------------------------------
def test_get_context_outside_a_run_is_offline_and_prints(
    capsys: pytest.CaptureFixture[str],
) -> None:
    run = Run.get_context()
    assert isinstance(run, OfflineRun) and run.id.startswith("OfflineRun_")
    run.log("accuracy", 0.9)
    assert "accuracy" in capsys.readouterr().out
    assert run.get_metrics() == {"accuracy": 0.9}
    with pytest.raises(NotFoundError, match="not started for a run"):
        Run.get_context(allow_offline=False)


def test_get_context_inside_a_run_is_that_run(experiment: Experiment) -> None:
    run = experiment.start_logging()
    with started_for(run):
        Run.get_context().log("loss", 0.5)
    assert run.get_metrics() == {"loss": 0.5}
    assert isinstance(Run.get_context(), OfflineRun)


def test_a_script_started_for_a_run_logs_to_it(tracking_uri: str, in_tmp: Path) -> None:
    (in_tmp / "config.json").write_text(
        json.dumps({"tracking_uri": tracking_uri, "storage_uri": str(in_tmp / "files")})
    )
    workspace = Workspace.from_config()
    experiment = Experiment(workspace, "scripted")
    run = experiment.start_logging()
    script = in_tmp / "train.py"
    script.write_text(
        "from tracking import Run\n"
        "run = Run.get_context()\n"
        "run.log('accuracy', 0.75)\n"
        "run.log('note', 'from a script')\n"
        "open('outputs/model.txt', 'w').write('m')\n"
        "run.complete()\n"
    )
    env = {
        **os.environ,
        "RAYSWEEP_RUN_ID": run.id,
        "RAYSWEEP_EXPERIMENT": "scripted",
        "RAYSWEEP_CONFIG": str(in_tmp / "config.json"),
    }
    done = subprocess.run(
        [sys.executable, str(script)], env=env, cwd=in_tmp, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert run.get_metrics() == {"accuracy": 0.75, "note": "from a script"}
    assert run.get_status() == "Completed"
    assert run.get_file_names() == ["outputs/model.txt"]
    workspace.close()  # its heartbeat stops before the database does


# -- display and data frames -------------------------------------------------------------
def test_a_run_displays_with_its_portal_link(experiment: Experiment) -> None:
    run = experiment.start_logging(display_name="<b>bold</b>")
    page = run._repr_html_()
    assert run.get_portal_url() in page and run.id in page and "<b>bold" not in page


def test_to_dataframe_takes_mlflow_columns_and_names_never_collide(
    experiment: Experiment,
) -> None:
    parent = experiment.start_logging()
    with parent.child_run() as child:
        child.log_params({"status": "weird", "number": 7})
        child.log("rmse", 1.5)
        child.set_tags({"team": "ml"})
    parent.complete()
    frame = experiment.to_dataframe()
    assert list(frame.columns[:7]) == [
        "run_id",
        "number",
        "status",
        "start_time",
        "end_time",
        "parent_run_id",
        "type",
    ]
    row = frame.set_index("run_id").loc[child.id]
    assert row["status"] == "Completed" and row["number"] == 2
    assert row["params.status"] == "weird" and row["params.number"] == 7
    assert row["metrics.rmse"] == 1.5 and row["tags.team"] == "ml"
    assert row["parent_run_id"] == parent.id and row["properties.host"]
    assert str(frame["start_time"].dtype).startswith("datetime64")
    assert len(experiment.to_dataframe(include_children=False)) == 1


def test_the_v1_samples_flow_example_runs(in_tmp: Path) -> None:
    """examples/azure_v1_flow.py: child runs, the best child, a registered model, a snapshot."""
    example = Path(__file__).resolve().parents[1] / "examples" / "azure_v1_flow.py"
    done = subprocess.run(
        [sys.executable, str(example)], cwd=in_tmp, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "registered: diabetes-ridge:1" in done.stdout
    assert "downloaded: model.pkl alpha 0.1" in done.stdout
    experiment = Experiment(Workspace.from_config(), "v1-samples")
    (parent,) = experiment.get_runs()
    assert parent.get_best_run_by_primary_metric().get_tags()["best"] == "yes"


def test_the_portal_shows_what_is_not_a_number(experiment: Experiment) -> None:
    from starlette.testclient import TestClient

    from tracking.portal import create_app

    run = experiment.start_logging()
    run.log("solver", "<lbfgs>")
    run.log_row("Y over X", x=1, y=0.4)
    run.log("rmse", 1.0)
    run.flush()  # numbers are written in batches (within a second); v1's flush waits for them
    with TestClient(create_app(experiment.workspace), base_url="http://127.0.0.1") as client:
        detail = client.get(f"/api/runs/{run.id}").json()
        page = client.get(f"/runs/{run.id}").text
    assert detail["values"] == {"solver": "<lbfgs>", "Y over X": {"x": 1, "y": 0.4}}
    assert "rmse" in detail["metrics"] and "solver" not in detail["metrics"]
    assert "\\u003clbfgs\\u003e" in page and "<lbfgs>" not in page
