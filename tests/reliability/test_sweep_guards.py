"""Cases 13, 14, 17 and 19: what the sweep driver guards: one sweep of an experiment at a
time, a refused record costing only its own run, no credential in storage, and no restore
of state that is not what the driver wrote."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from sweep import run_sweep
from sweep.callback import TrackingCallback
from sweep.launch import main
from tests.helpers.refused import REFUSED_ALPHA, report_metrics
from tracking import Experiment, Workspace

pytestmark = pytest.mark.ray

SECRET = "SeCrEt-pw-123"


def _config(folder: Path, **fields: str) -> Path:
    data = {"tracking_uri": "sqlite:///records.db", "storage_uri": "storage", **fields}
    (folder / "config.json").write_text(json.dumps(data))
    return folder


def _launch(folder: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "sweep.launch", *args],
        cwd=folder,
        env={k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.reliability(
    case=13,
    fault="two `python -m sweep.launch` drivers started at once on the same experiment and "
    "30-alpha grid, both attached to one running Ray instance by --address (SQLite)",
    expected="each alpha ends with exactly one Completed run; the second driver waits, "
    "saying on one line which sweep holds the experiment, then trains only what is left; "
    "both exit 0",
)
def test_two_drivers_of_one_sweep_at_once_record_each_cell_once(
    ray_address: str, tmp_path: Path, record_property: pytest.RecordProperty
) -> None:
    _config(tmp_path)
    args = ["--address", ray_address, "--alphas", "0.1:3.0:0.1", "--experiment", "twice"]
    started = time.monotonic()
    drivers = [_launch(tmp_path, *args) for _ in range(2)]
    outcomes = [(d.wait(timeout=600), *d.communicate()) for d in drivers]
    elapsed = time.monotonic() - started
    ws = Workspace.from_config(tmp_path)
    runs = list(Experiment(ws, "twice").get_runs(include_children=True, type="azureml.scriptrun"))
    completed = Counter(r.get_params()["alpha"] for r in runs if r.status == "Completed")
    sweeps = {r.properties.get("sweep.tune_run") for r in runs}
    waited = [
        line for _, _, err in outcomes for line in err.splitlines() if "held by sweep" in line
    ]
    record_property(
        "observed",
        f"exit codes {[code for code, _, _ in outcomes]} after {elapsed:.0f} s; {len(runs)} runs "
        f"for {len(completed)} alphas, {sum(n == 1 for n in completed.values())} with exactly "
        f"one Completed run, by {len(sweeps)} sweep(s); waiting lines: {waited}",
    )
    assert [code for code, _, _ in outcomes] == [0, 0], [err for _, _, err in outcomes]
    assert sorted(completed) == pytest.approx([round(0.1 * i, 1) for i in range(1, 31)])
    assert set(completed.values()) == {1} and len(runs) == 30
    (holder,) = sweeps
    assert len(waited) == 1 and holder in waited[0], waited
    assert set(ws.experiments) == {"twice"}  # the claims and state digests are no experiment


@pytest.mark.reliability(
    case=14,
    fault="a user's own Tuner with TrackingCallback over a 6-cell grid on PostgreSQL, in which "
    "one trial reports a metric whose name holds a NUL byte, which no record store accepts",
    expected="the 5 other runs are recorded Completed with their metrics; the refused run is "
    "recorded Failed saying its record was refused (not lost, not left Running); the "
    "callback reports that one run's error",
)
def test_a_refused_record_costs_only_its_own_run(
    ray_address: str,
    tmp_path: Path,
    pg_url: str,
    monkeypatch: pytest.MonkeyPatch,
    record_property: pytest.RecordProperty,
) -> None:
    from ray import tune

    monkeypatch.setenv("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", "1")
    ws = Workspace("t", tracking_uri=pg_url, storage_uri=str(tmp_path / "storage"))
    experiment = Experiment(ws, "refused")
    callback = TrackingCallback(experiment)
    alphas = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]
    tuner = tune.Tuner(
        report_metrics,
        param_space={"alpha": tune.grid_search(alphas)},
        tune_config=tune.TuneConfig(max_concurrent_trials=2),
        run_config=tune.RunConfig(
            storage_path=str(tmp_path / "tune"), callbacks=[callback], verbose=0
        ),
    )
    try:
        tuner.fit()
    finally:
        callback.close()
    runs = {
        r.get_params()["alpha"]: r
        for r in experiment.get_runs(include_children=True, type="azureml.scriptrun")
    }
    statuses = {alpha: run.status for alpha, run in runs.items()}
    refused = runs.get(REFUSED_ALPHA)
    details = refused.get_details() if refused else {}
    error = str((details.get("error") or {}).get("error", {}).get("message", ""))
    record_property(
        "observed",
        f"{len(runs)} of {len(alphas)} runs recorded: {statuses}; refused run's error "
        f"{error!r}; callback errors: {callback.errors}",
    )
    assert sorted(runs) == alphas
    assert statuses == {a: "Failed" if a == REFUSED_ALPHA else "Completed" for a in alphas}
    assert all(runs[a].get_metrics() == {"rmse": a} for a in alphas if a != REFUSED_ALPHA)
    assert refused is not None and "refused" in error
    assert len(callback.errors) == 1 and refused.id in callback.errors[0]


@pytest.mark.reliability(
    case=17,
    fault="a sweep recorded in PostgreSQL through a URL with a password; every byte the "
    "sweep left in storage (Tune's tuner.pkl, experiment state, checkpoints) grepped for it",
    expected="no stored file holds the password or the database URL",
)
def test_no_credential_reaches_storage(
    ray_address: str, tmp_path: Path, pg_url: str, record_property: pytest.RecordProperty
) -> None:
    with_password = pg_url.replace("://tracking@", f"://tracking:{SECRET}@")
    assert SECRET in with_password
    storage = tmp_path / "storage"
    ws = Workspace("t", tracking_uri=with_password, storage_uri=str(storage))
    result = run_sweep(workspace=ws, progress=False, alphas=[0.1, 0.2], experiment="secret")
    files = [p for p in storage.rglob("*") if p.is_file()]
    holding = sorted(
        str(p.relative_to(storage))
        for p in files
        if SECRET.encode() in p.read_bytes() or b"postgresql://" in p.read_bytes()
    )
    record_property(
        "observed",
        f"sweep ok={result.ok}; {len(files)} stored files, "
        f"{len(holding)} holding the password or URL: {holding}",
    )
    assert result.ok and result.trained == 2
    assert any(p.name == "tuner.pkl" for p in files)
    assert holding == []


class _Planted:
    """Unpickled, it creates `marker`: what a node that can write the bucket could plant."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return open, (self.marker, "w")


@pytest.mark.reliability(
    case=19,
    fault="after a sweep, its tuner.pkl (then its experiment_state JSON) in storage replaced "
    "by a pickle that creates a marker file when unpickled; then `--resume`",
    expected="--resume refuses with one line and exit code 2; the marker is never created; "
    "with the files put back, --resume restores (exit 0)",
)
def test_resume_refuses_state_that_is_not_what_the_driver_wrote(
    ray_address: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    record_property: pytest.RecordProperty,
) -> None:
    monkeypatch.delenv("RAY_ADDRESS", raising=False)  # the session's Ray, already connected
    _config(tmp_path)
    args = ["--config", str(tmp_path), "--alphas", "0.1,0.2", "--experiment", "tamper"]
    assert main(args) == 0
    (folder,) = (tmp_path / "storage" / "sweeps").iterdir()
    (state,) = folder.glob("experiment_state-*.json")
    marker = tmp_path / "planted-code-ran"
    planted = pickle.dumps(_Planted(marker))
    fallback = {"_type": "CLOUDPICKLE_FALLBACK", "value": planted.hex()}
    observed: list[str] = []
    try:
        for target, payload in (
            (folder / "tuner.pkl", planted),
            (state, json.dumps(fallback).encode()),
        ):
            original = target.read_bytes()
            target.write_bytes(payload)
            capsys.readouterr()
            code = main([*args, "--resume"])
            err = capsys.readouterr().err
            lines = [line for line in err.splitlines() if line.startswith("sweep:")]
            target.write_bytes(original)
            observed.append(
                f"{target.name} tampered: exit {code}, marker created={marker.exists()}, {lines}"
            )
            assert not marker.exists(), "the planted pickle ran in the driver"
            assert code == 2 and len(lines) == 1 and target.name in lines[0], lines
        code = main([*args, "--resume"])
        observed.append(f"files put back: --resume exit {code}")
        assert code == 0
        assert set(Workspace.from_config(tmp_path).experiments) == {"tamper"}
    finally:
        record_property("observed", "; ".join(observed))
