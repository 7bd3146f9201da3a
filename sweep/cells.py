"""The trainable <-> recorder protocol: the result keys a trial reports, and their shapes.

A trainable that packs grid cells reports the cells it finished since its last report under
`CELLS`, one `CellDone` or `CellFailed` each, with a checkpoint holding their model files
(or naming, under `FILES_AT`, the folder they were saved in). The entries travel as JSON
text (`encode_entries`; a list is read too), and so do a trial's cells in its config
(`pack_value`): Tune copies, formats and saves every config and result on its event loop,
where one string costs far less than a thousand small dicts. `NODE_ID` says which Ray
node the trial ran on. No Ray import: Ray workers import this module, and so does the
recorder, which is tested without Ray.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from typing import Any, TypedDict

CELLS = "tracking.cells"  # result key: the cells a trial finished since its last report
NODE_ID = "tracking.node_id"  # result key: the Ray node the trial ran on
# Result key: the folder (URI) the report's model files are in, when not in its checkpoint.
FILES_AT = "tracking.files_at"
# Result key present only in a trial's last report (its code has ended): the names of the
# metrics it repeats from the step before (maybe none), so that a scheduler finds its
# metric in every result; they are not new values. `sweep.policies` never stops a trial on
# this report.
REPEATED = "tracking.repeated"
DELIMITER = "/"  # nested params and metrics, as Ray Tune's own logger callbacks flatten them


class _Times(TypedDict, total=False):
    """A cell's own times, in seconds since the epoch (on its worker's clock)."""

    started: float  # when its first attempt began
    ended: float  # when its model was saved, or its last attempt failed


class CellDone(_Times):
    """A cell that trained: its metrics and its model file in the report's checkpoint."""

    index: int
    attempts: int
    metrics: dict[str, float]
    file: str
    sha256: str
    size: int


class CellFailed(_Times):
    """A cell whose fit raised (after its retries): the last line of the exception."""

    index: int
    attempts: int
    error: str


CellEntry = CellDone | CellFailed


def encode_entries(entries: Sequence[Mapping[str, Any]]) -> str:
    """The value of `CELLS` in a report: the entries as JSON text."""
    return json.dumps(entries, separators=(",", ":"))


def entries_of(value: str | Sequence[CellEntry]) -> list[CellEntry]:
    """The entries of a report's `CELLS` value (JSON text, or the entries themselves)."""
    return json.loads(value) if isinstance(value, str) else list(value)


def pack_value(cells: Sequence[Mapping[str, Any]]) -> str | list[dict[str, Any]]:
    """A packed trial's cells as its config holds them (`config["cells"]`): JSON text,
    since Tune deep-copies and JSON-encodes every trial's config on its loop, or the cells
    themselves when JSON would not give the same values back (a tuple, NaN)."""
    listed = [dict(cell) for cell in cells]
    text = json.dumps(listed, separators=(",", ":"))
    return text if json.loads(text) == listed else listed


def cells_of(value: str | Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The cells of a packed trial's `config["cells"]` (see `pack_value`): not to be
    changed, since a trial's decoded cells are shared."""
    return list(_decoded(value)) if isinstance(value, str) else list(value)


@functools.lru_cache(maxsize=256)
def _decoded(text: str) -> tuple[Mapping[str, Any], ...]:
    return tuple(json.loads(text))


def flatten(mapping: Mapping[str, Any], delimiter: str = DELIMITER) -> dict[str, Any]:
    """Nested mappings flattened into one level, keys joined by `delimiter`.

    `{"model": {"alpha": 0.1}}` -> `{"model/alpha": 0.1}`, as `ray.tune.utils.flatten_dict`
    does (lists are left as they are).
    """
    flat: dict[str, Any] = {}
    for key, value in mapping.items():
        if isinstance(value, Mapping):
            for inner, item in flatten(value, delimiter).items():
                flat[f"{key}{delimiter}{inner}"] = item
        else:
            flat[str(key)] = value
    return flat


def one_run(config: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The default cells of a trial: one, whose params are the trial's config, flattened."""
    return [flatten(config)]
