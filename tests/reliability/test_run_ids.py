"""Case 15: run ids become folder names in storage, so they are checked like file names
wherever one enters: the facade, the record store and the portal's routes.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.helpers.asgi import raw_get
from tracking import Experiment, Run, ValidationError, Workspace
from tracking.portal import create_app
from tracking.records import NewRun, utcnow

GOOD = [str(uuid.uuid4()), "HD_5e1b7c_0", "a1b2c_00001", "run.1", "exp_1700000000_abcdef12"]


def _hostile(victim: str) -> list[str]:
    return [
        f"../runs/{victim}",
        f"..%2fruns%2f{victim}",
        "..",
        ".",
        "",
        "../..",
        "a/b",
        "a\\b",
        "/tmp/elsewhere",
        "C:x",
        ".hidden",
        "-rf",
        "run\x00",
        "run\n",
        "a b",
        "r\u00fcn",
        "r" * 65,
    ]


@pytest.fixture
def workspace(tracking_uri: str, tmp_path: Path) -> Iterator[Workspace]:
    ws = Workspace("t", tracking_uri=tracking_uri, storage_uri=str(tmp_path / "storage"))
    yield ws
    ws.close()


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _refused(attempt: Callable[[], Any]) -> str:
    try:
        attempt()
    except ValidationError as err:
        return "refused" if "run id" in str(err) else f"refused without naming it: {err}"
    except Exception as err:
        return type(err).__name__
    return "accepted"


@pytest.mark.reliability(
    case=15,
    fault="hostile run ids ('../runs/<another run>', '..', '.', '', '/abs', 'a\\b', NUL, "
    "65 characters, ...) given to start_logging, Run(), the record store and the portal routes",
    expected="each refused with a ValidationError naming the run id before anything is "
    "written (the portal: 400, or 404 for an id its routes cannot hold); UUIDs and Tune-style "
    "ids still work",
)
def test_a_run_id_is_checked_like_a_file_name_everywhere_it_enters(
    workspace: Workspace, tmp_path: Path, record_property: pytest.RecordProperty
) -> None:
    experiment = Experiment(workspace, "ids")
    victim = experiment.start_logging()
    victim.upload_file("model.pkl", io.BytesIO(b"the victim's model"))
    storage = tmp_path / "storage"
    before = _files(storage)
    store = workspace.records
    outcomes: dict[str, list[str]] = {}
    for run_id in _hostile(victim.id):
        attempts: list[Callable[[], Any]] = [
            lambda r=run_id: experiment.start_logging(run_id=r).upload_file(
                "model.pkl", io.BytesIO(b"evil")
            ),
            lambda r=run_id: Run(experiment, r),
            lambda r=run_id: store.create_run(experiment.id, r),
            lambda r=run_id: store.record_runs(experiment.id, [NewRun(r, utcnow())]),
            lambda r=run_id: store.get_run(r),
        ]
        outcomes[run_id] = [_refused(attempt) for attempt in attempts]

    app = create_app(workspace)
    statuses: dict[str, list[int]] = {}
    served: list[str] = []
    for run_id in _hostile(victim.id):
        segment = quote(run_id, safe="")
        for route in ("/runs/{}", "/api/runs/{}", "/api/runs/{}/files/model.pkl"):
            status, _ = raw_get(app, route.format(segment).encode("latin-1"))
            statuses.setdefault(run_id, []).append(status)
            if status == 200:
                served.append(run_id)

    good = [experiment.start_logging(run_id=run_id).id for run_id in GOOD]
    not_refused = {k: v for k, v in outcomes.items() if set(v) != {"refused"}}
    # The portal's routes hold one path segment: an id with '/' never reaches them (404);
    # any other bad id is refused by name (400), not looked up.
    wrong_status = {
        k: v
        for k, v in statuses.items()
        if not (set(v) == {400} or (("/" in k or not k) and set(v) <= {400, 404}))
    }
    record_property(
        "observed",
        f"{workspace.tracking_uri.partition(':')[0]}: {len(outcomes)} ids x 5 entries: "
        f"{sum(v.count('refused') for v in outcomes.values())} refused"
        + (f"; not refused: {not_refused}" if not_refused else "")
        + f"; portal: {sorted({s for v in statuses.values() for s in v})}"
        + (f", unexpected {wrong_status}" if wrong_status else "")
        + (f", {len(served)} answers 200 for ids {sorted(set(served))}" if served else "")
        + f"; storage {'unchanged' if _files(storage) == before else 'CHANGED'}; "
        f"{len(good)} good ids accepted",
    )
    assert not_refused == {}
    assert wrong_status == {} and served == []
    assert _files(storage) == before
    assert victim.get_file_names() == ["model.pkl"]
    assert [r.id for r in experiment.get_runs()] == [*reversed(good), victim.id]
