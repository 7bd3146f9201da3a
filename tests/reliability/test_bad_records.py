"""Case 14: values a database refuses (a NUL byte, a string longer than its column) cost
only the call that gave them, with the same error on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tracking import Experiment, Run, TrackingError, ValidationError, Workspace
from tracking.errors import StorageError
from tracking.records import NewRun, utcnow


@pytest.fixture
def workspace(tracking_uri: str, tmp_path: Path) -> Iterator[Workspace]:
    ws = Workspace("t", tracking_uri=tracking_uri, storage_uri=str(tmp_path / "storage"))
    yield ws
    ws.close()


Attempt = Callable[[Experiment, Run], Any]
# (what is wrong, the field the error must name, the call)
REFUSED: list[tuple[str, str, Attempt]] = [
    ("a tag value with NUL", "tag", lambda e, r: r.set_tags({"note": "bad\x00tag"})),
    ("a property value with NUL", "property", lambda e, r: r.add_properties({"p": "a\x00"})),
    ("a tag with NUL at start", "tag", lambda e, r: e.start_logging(tags={"k": "v\x00"})),
    ("a run id of 65 characters", "run id", lambda e, r: e.start_logging(run_id="r" * 65)),
    ("a display name of 256 characters", "display name",
     lambda e, r: e.start_logging(display_name="d" * 256)),
    ("a display name with NUL", "display name",
     lambda e, r: e.start_logging(display_name="bad\x00name")),
    ("a sha256 of 65 characters", "sha256",
     lambda e, r: r.register_file("m.pkl", _inside(e, r), size=1, sha256="a" * 65)),
]  # fmt: skip


def _inside(experiment: Experiment, run: Run) -> str:
    return f"{experiment.workspace.storage_uri}/runs/{run.id}/m.pkl"


def _backend(ws: Workspace) -> str:
    return ws.tracking_uri.partition(":")[0]


@pytest.mark.reliability(
    case=14,
    fault="a NUL byte in a tag, property, display name or error text; a run id over 64, a "
    "display name over 255 or a sha256 over 64 characters (facade, and the sweep's bulk write)",
    expected="each refused with a ValidationError naming the field, the run left usable, the "
    "same on SQLite and PostgreSQL; fail() with NUL in its text fails the run (NUL replaced)",
)
def test_a_value_the_database_refuses_costs_only_its_call(
    workspace: Workspace, record_property: pytest.RecordProperty
) -> None:
    experiment = Experiment(workspace, "bad-records")
    run = experiment.start_logging()
    seen: list[str] = []
    for what, field, attempt in REFUSED:
        try:
            attempt(experiment, run)
        except ValidationError as err:
            assert field in str(err) and "\n" not in str(err), (what, str(err))
            seen.append("refused")
        except Exception as err:
            seen.append(f"{type(err).__module__}.{type(err).__name__}")
        else:
            seen.append("accepted")
    outcomes = dict(zip([w for w, _, _ in REFUSED], seen, strict=True))
    # The sweep writer's bulk write: a bad value refuses its batch, with the field named.
    try:
        workspace.records.record_runs(experiment.id, [NewRun("bulk", utcnow(), tags={"k": "\x00"})])
        outcomes["a tag with NUL in a bulk write"] = "accepted"
    except ValidationError as err:
        outcomes["a tag with NUL in a bulk write"] = "refused" if "tag" in str(err) else str(err)
    except Exception as err:
        outcomes["a tag with NUL in a bulk write"] = type(err).__name__

    # The run is still usable, and an error text with NUL fails its run instead of raising.
    run.log("rmse", 1.0)
    failing = experiment.start_logging()
    failing.fail("bad\x00thing")
    raised = experiment.start_logging()
    raised.fail(ValueError("bad\x00value"))
    failed = [workspace.records.get_run(r.id) for r in (failing, raised)]
    statuses = [r.status.value for r in failed]
    errors = [r.error for r in failed]
    record_property(
        "observed",
        f"{_backend(workspace)}: "
        + ", ".join(f"{what}: {outcome}" for what, outcome in outcomes.items())
        + f"; fail() with NUL left the runs {statuses} with errors {errors}",
    )
    assert all(outcome == "refused" for outcome in outcomes.values()), outcomes
    assert run.get_status() == "Running" and run.get_metrics() == {"rmse": 1.0}
    assert [r.number for r in experiment.get_runs()] == [3, 2, 1]  # nothing half-made
    assert statuses == ["Failed", "Failed"]
    assert errors == ["bad\ufffdthing", "ValueError: bad\ufffdvalue"]


@pytest.mark.reliability(
    case=14,
    fault="a statement the database itself refuses, run in the record store's transaction "
    "helper (PostgreSQL: text where a number goes; both: a missing table)",
    expected="a TrackingError (ValidationError for refused data, StorageError otherwise), "
    "never a sqlalchemy exception",
)
def test_every_database_error_reaches_the_caller_as_a_tracking_error(
    workspace: Workspace, record_property: pytest.RecordProperty
) -> None:
    statements = {"missing table": ("SELECT * FROM no_such_table", StorageError)}
    if _backend(workspace).startswith("postgres"):
        statements["text as a number"] = ("SELECT CAST('x' AS INTEGER)", ValidationError)
    got = {}
    for what, (sql, expected) in statements.items():
        try:
            with workspace.records._tx(write=False) as conn:  # type: ignore[attr-defined]
                conn.execute(sa.text(sql))
        except TrackingError as err:
            got[what] = type(err).__name__
            assert isinstance(err, expected), (what, err)
            assert "\n" not in str(err)
        except Exception as err:
            got[what] = f"{type(err).__module__}.{type(err).__name__}"
    record_property("observed", f"{_backend(workspace)}: {got}")
    assert set(got) == set(statements)
    assert all(not name.startswith("sqlalchemy") for name in got.values()), got
