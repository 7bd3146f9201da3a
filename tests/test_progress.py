"""Sweep progress: a live bar on a terminal, plain lines elsewhere."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

import pytest

from sweep.progress import ProgressCallback


@dataclass
class StandInTrial:
    trial_id: str
    config: dict[str, Any] = field(default_factory=dict)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _run(stream: io.StringIO) -> str:
    progress = ProgressCallback(3, "rmse", "min", stream=stream, interval=0)
    for i, rmse in enumerate([5.0, 3.0, 4.0]):
        trial = StandInTrial(f"t{i}")
        progress.on_trial_start(0, [], trial)
        progress.on_trial_result(0, [], trial, {"rmse": rmse})
        if i == 2:
            progress.on_trial_error(0, [], trial)
        else:
            progress.on_trial_complete(0, [], trial)
    progress.on_experiment_end([])
    return stream.getvalue()


def test_plain_lines_when_not_a_terminal() -> None:
    lines = _run(io.StringIO()).splitlines()
    assert lines[-1] == "runs 3/3: running 0, failed 1, best rmse 3"


def test_a_bar_on_a_terminal_even_one_that_reports_no_size() -> None:
    shown = _run(Terminal())
    assert "3/3" in shown and "failed 1, best rmse 3" in shown and "\r" in shown


@pytest.mark.parametrize("as_text", [True, False])  # as sweep.trainable reports, or a list
def test_packed_trials_count_each_cell(as_text: bool) -> None:
    from sweep.cells import encode_entries

    stream = io.StringIO()
    progress = ProgressCallback(5, "rmse", "min", stream=stream, interval=0)
    trial = StandInTrial("p", {"cells": [{}] * 5})
    progress.on_trial_start(0, [], trial)
    entries: list[Any] = [{"index": 0, "metrics": {"rmse": 2.0}}, {"index": 1, "error": "x"}]
    cells = encode_entries(entries) if as_text else entries
    progress.on_trial_result(0, [], trial, {"tracking.cells": cells})
    assert stream.getvalue().splitlines()[-1] == "runs 2/5: running 1, failed 1, best rmse 2"
    progress.on_trial_error(0, [], trial)  # the three cells it never reported failed with it
    assert stream.getvalue().splitlines()[-1] == "runs 5/5: running 0, failed 4, best rmse 2"


def test_a_trial_whose_cells_are_all_in_is_not_counted_running() -> None:
    stream = io.StringIO()
    progress = ProgressCallback(2, "rmse", "min", stream=stream, interval=0)
    trial = StandInTrial("p", {"cells": [{}] * 2})
    progress.on_trial_start(0, [], trial)
    ok = {"index": 0, "metrics": {"rmse": 2.0}}
    progress.on_trial_result(0, [], trial, {"tracking.cells": [ok, {**ok, "index": 1}]})
    # Tune ends the trial a moment later; the line says 2/2 done and none running already.
    assert stream.getvalue().splitlines()[-1] == "runs 2/2: running 0, failed 0, best rmse 2"
    progress.on_trial_complete(0, [], trial)
    assert stream.getvalue().splitlines()[-1] == "runs 2/2: running 0, failed 0, best rmse 2"
