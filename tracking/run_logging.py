"""What a run logs: metrics (numbers, text, lists, rows, tables, images), params, tags and
properties, and `get_metrics` in Azure ML v1's shapes. A mixin of `tracking.run.Run`."""

from __future__ import annotations

import numbers
import tempfile
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tracking import azure
from tracking.errors import NotFoundError, ValidationError
from tracking.names import check_key
from tracking.pending import PendingValues
from tracking.records import LoggedValue, RunStatus, utcnow

if TYPE_CHECKING:
    from tracking.experiment import Experiment
    from tracking.records import RunRecord
    from tracking.stores.base import RecordStore


def _is_number(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _text(name: str, value: object) -> str | bool:
    """A value v1 logs as text: a string or a boolean."""
    if isinstance(value, (str, bool)):
        return value
    raise ValidationError(
        f"metric {name!r}: value {value!r} ({type(value).__name__}) is not accepted: "
        "log a number, a string or a boolean"
    )


def _cell(name: str, value: object) -> float | str | bool | None:
    """A value inside a row or a table: a number, a string, a boolean or None."""
    if value is None or isinstance(value, (str, bool)):
        return value
    if _is_number(value):
        return int(value) if isinstance(value, numbers.Integral) else float(value)  # type: ignore[arg-type]
    raise ValidationError(
        f"metric {name!r}: value {value!r} ({type(value).__name__}) is not accepted in a "
        "row or table: use numbers, strings, booleans or None"
    )


class RunLogging:
    """The logging calls of a run (see `tracking.run.Run`)."""

    if TYPE_CHECKING:

        @property
        def id(self) -> str: ...

        @property
        def _records(self) -> RecordStore: ...

        _record: RunRecord
        _experiment: Experiment

    def _log(self, name: str, values: list[object], *, as_list: bool = False) -> None:
        check_key("metric", name)
        numbers_ = [(name, float(v)) for v in values if _is_number(v)]  # type: ignore[arg-type]
        others = [LoggedValue(name, "text", _text(name, v)) for v in values if not _is_number(v)]
        if as_list:
            others.insert(0, LoggedValue(name, "list", len(values)))
        if numbers_:
            self._keep(numbers_)
        if others:
            self._records.log_values(self.id, others)

    def _keep(self, values: list[tuple[str, float]]) -> None:
        """Keep numbers to be written in a batch (see `tracking.pending`); a run that is
        not running (as this object knows it) writes them at once, to be refused."""
        if self._record.status is not RunStatus.RUNNING:
            self._records.log_batch(self.id, metrics=values)
            return
        pending = self._pending_values()
        now = utcnow()
        first, full = pending.add([(name, value, now) for name, value in values])
        if first:
            self._experiment.workspace.flusher.watch(pending)
        if full:
            pending.flush()

    def _pending_values(self) -> PendingValues:
        pending: PendingValues | None = getattr(self, "_pending", None)
        if pending is None:
            run_id, records = self.id, self._records
            pending = PendingValues(lambda items: records.log_batch(run_id, metrics=items))
            self._pending = pending
        return pending

    def flush(self, timeout_seconds: float = 300) -> None:
        """Write the values logged and not yet written (a thread writes them within a
        second anyway; the run's end writes them too), as v1's `Run.flush`.
        `timeout_seconds` is accepted for v1's sake: the write is made here, now."""
        self._flush()

    def _flush(self) -> None:
        """Write the values this process still keeps, before reading the run back."""
        self._experiment.workspace.flusher.flush()

    def log(self, name: str, value: Any, description: str = "", **azure_only: Any) -> None:
        """Log a number, a string or a boolean; a name logged again reads back as a list.

        Numbers are metrics (ranked, charted); strings and booleans are kept as text and are
        never a candidate for the best run. `description` is not stored.
        """
        azure.take("Run.log", azure_only)
        self._log(name, [value])

    def log_list(self, name: str, value: Iterable[Any], description: str = "") -> None:
        """Log a list of values in one write; it reads back as a list, even of one."""
        self._log(name, list(value), as_list=True)

    def log_metrics(self, metrics: Mapping[str, float]) -> None:
        """Log one value of each of several numeric metrics in one write."""
        values = [(check_key("metric", k), v) for k, v in metrics.items()]
        for key, value in values:
            if not _is_number(value):
                raise ValidationError(
                    f"metric {key!r}: value {value!r} is not accepted: log_metrics takes numbers"
                )
        if values:
            self._keep([(k, float(v)) for k, v in values])

    def log_row(self, name: str, description: str | None = None, **row: Any) -> None:
        """Log one row of a table metric: `run.log_row("Y over X", x=1, y=0.4)`."""
        check_key("metric", name)
        if not row:
            raise ValidationError(f"metric {name!r}: log_row needs at least one column")
        cells = {str(k): _cell(name, v) for k, v in row.items()}
        self._records.log_values(self.id, [LoggedValue(name, "row", cells)])

    def log_table(
        self, name: str, value: Mapping[str, Iterable[Any]], description: str = ""
    ) -> None:
        """Log a table metric: a dict of columns of equal length."""
        check_key("metric", name)
        if not isinstance(value, Mapping) or not value:
            raise ValidationError(
                f"metric {name!r}: log_table takes a dict of columns, e.g. {{'x': [1, 2]}}"
            )
        columns = {str(k): [_cell(name, v) for v in column] for k, column in value.items()}
        if len({len(c) for c in columns.values()}) > 1:
            sizes = {k: len(c) for k, c in columns.items()}
            raise ValidationError(f"metric {name!r}: columns differ in length: {sizes}")
        self._records.log_values(self.id, [LoggedValue(name, "table", columns)])

    def log_image(
        self,
        name: str,
        path: str | Path | None = None,
        plot: Any = None,
        description: str = "",
    ) -> None:
        """Log an image: a PNG file (`path`) or a matplotlib figure or pyplot (`plot`).

        The PNG becomes the run's file `images/<name>_<n>.png`, and the metric reads back
        as that file's name (`run.download_file(...)` fetches it).
        """
        check_key("metric", name)
        if (path is None) == (plot is None):
            raise ValidationError(f"image {name!r}: give exactly one of path and plot")
        if path is not None and not Path(path).is_file():
            raise NotFoundError(f"image {name!r}: no such file {str(path)!r}")
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
        file_name = f"images/{safe}_{uuid.uuid4().hex[:8]}.png"
        if plot is not None:
            with tempfile.TemporaryDirectory() as folder:
                target = Path(folder) / "image.png"
                plot.savefig(target, format="png")
                self.upload_file(file_name, target)  # type: ignore[attr-defined]
        else:
            self.upload_file(file_name, path)  # type: ignore[attr-defined]
        self._records.log_values(self.id, [LoggedValue(name, "image", file_name)])

    def log_params(self, params: Mapping[str, Any]) -> None:
        """Record the run's hyperparameters (set once; JSON-serialisable values)."""
        for key in params:
            check_key("param", key)
        self._records.log_batch(self.id, params=params)

    def get_params(self) -> dict[str, Any]:
        return self._records.get_params(self.id)

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        """Set or change tags (allowed after the run has finished)."""
        clean = {check_key("tag", k): "" if v is None else str(v) for k, v in tags.items()}
        self._records.log_batch(self.id, tags=clean)
        self._refresh()  # type: ignore[attr-defined]

    def tag(self, key: str, value: Any = None) -> None:
        self.set_tags({key: value})

    def get_tags(self) -> dict[str, str]:
        self._refresh()  # type: ignore[attr-defined]
        return self.tags  # type: ignore[attr-defined]

    def add_properties(self, properties: Mapping[str, Any]) -> None:
        """Add properties: set once, never changed (tags are the mutable kind)."""
        clean = {check_key("property", k): str(v) for k, v in properties.items()}
        self._records.log_batch(self.id, properties=clean)
        self._refresh()  # type: ignore[attr-defined]

    def get_properties(self) -> dict[str, str]:
        self._refresh()  # type: ignore[attr-defined]
        return self.properties  # type: ignore[attr-defined]

    def get_metrics(self, name: str | None = None, recursive: bool = False) -> dict[str, Any]:
        """Each metric in v1's shapes: a value logged once is the value, more often a
        list (a `log_list` always a list); a row metric is a dict of columns (lists when
        several rows were logged), a table a dict of columns, an image its file's name.

        Args:
            recursive: also the metrics of every descendant run, keyed by run id.
        """
        found = self._own_metrics(name)
        if not recursive:
            return found
        every = {self.id: found}
        for child in self.get_children(recursive=True):  # type: ignore[attr-defined]
            every[child.id] = child._own_metrics(name)
        return every

    def _own_metrics(self, name: str | None) -> dict[str, Any]:
        self._flush()
        values: dict[str, list[Any]] = {}
        lists: set[str] = set()
        rows: dict[str, list[dict[str, Any]]] = {}
        single: dict[str, Any] = {}
        for metric in self._records.get_metric_history(self.id):
            values.setdefault(metric.name, []).append(metric.value)
        for logged in self._records.get_values(self.id):
            if logged.kind == "text":
                values.setdefault(logged.name, []).append(logged.value)
            elif logged.kind == "list":
                lists.add(logged.name)
            elif logged.kind == "row":
                rows.setdefault(logged.name, []).append(logged.value)
            else:  # a table or an image: the last one logged
                single[logged.name] = logged.value
        found: dict[str, Any] = {
            k: v if k in lists or len(v) > 1 else v[0] for k, v in values.items()
        }
        for key, logged_rows in rows.items():
            found[key] = logged_rows[0] if len(logged_rows) == 1 else _columns(logged_rows)
        found.update(single)
        if name is not None:
            return {name: found[name]} if name in found else {}
        return found


def _columns(rows: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """Rows as columns; a column a row lacks holds None there."""
    names = list(dict.fromkeys(k for row in rows for k in row))
    return {k: [row.get(k) for row in rows] for k in names}
