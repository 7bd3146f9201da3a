"""Query strings of the runs table and the charts: parsed and checked, or refused with a message.

Every refusal is a `ValidationError` naming the value and what would be accepted; the app
answers it with 400.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tracking.errors import ValidationError
from tracking.experiment import parse_status
from tracking.records import RUN_FIELDS, RunOrder, RunStatus

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
HISTORY_POINTS = 10_000  # points of one metric's history a run's page or JSON carries
MAX_HISTORY_POINTS = 100_000  # the most one history request may ask for
MAX_STEP = 2**63 - 1
STATUSES = tuple(s.value for s in RunStatus)


@dataclass(frozen=True)
class RunQuery:
    """One page of an experiment's runs table: its sort, filter and window."""

    sort: str  # canonical: 'number', 'metrics.rmse', 'params.alpha'
    descending: bool
    status: RunStatus | None
    limit: int
    offset: int

    @property
    def order(self) -> RunOrder:
        return RunOrder.parse(self.sort, descending=self.descending)

    def as_params(self, **changes: object) -> dict[str, str]:
        """The query string of this page (with `changes`), for links."""
        values: dict[str, object] = {
            "sort": self.sort,
            "order": "desc" if self.descending else "asc",
            "status": self.status.value if self.status else None,
            "limit": self.limit,
            "offset": self.offset,
        }
        values.update(changes)
        return {k: str(v) for k, v in values.items() if v not in (None, "")}


@dataclass(frozen=True)
class ChartQuery:
    """A chart's metric (y) and what it is drawn against: a param, another metric, or none."""

    metric: str
    param: str | None = None
    xmetric: str | None = None
    goal: str | None = None  # 'min' or 'max'; None: the experiment's, for its primary metric
    max_points: int = 10_000  # more runs than this are sampled: every k-th run by number


def _integer(params: Mapping[str, str], key: str, default: int, low: int, high: int) -> int:
    text = params.get(key)
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        raise ValidationError(
            f"{key} {text!r} is not accepted: use a whole number from {low} to {high}"
        )
    return value


def _canonical_sort(text: str, metrics: Sequence[str], params: Sequence[str]) -> str:
    prefix, _, rest = text.partition(".")
    if text in RUN_FIELDS:
        return text
    if prefix == "metrics" and rest in metrics:
        return text
    if prefix == "params" and rest in params:
        return text
    # A bare name, as the issue's `sort=<metric or field>`: metrics first.
    if text in metrics:
        return f"metrics.{text}"
    if text in params:
        return f"params.{text}"
    accepted = [*RUN_FIELDS, *(f"metrics.{m}" for m in metrics), *(f"params.{p}" for p in params)]
    raise ValidationError(f"sort {text!r} is not accepted: use one of {', '.join(accepted)}")


def parse_run_query(
    params: Mapping[str, str], *, metrics: Sequence[str], param_names: Sequence[str]
) -> RunQuery:
    """The runs-table query of `params`; by default newest first, 50 rows.

    Args:
        metrics: the metric names logged in the experiment (sortable).
        param_names: the param names logged in the experiment (sortable).

    Raises:
        ValidationError: an unknown sort or status, an order other than asc/desc, or a
            limit or offset out of range.
    """
    sort_text = params.get("sort") or ""
    sort = _canonical_sort(sort_text, metrics, param_names) if sort_text else "number"
    order = params.get("order") or ("asc" if sort_text else "desc")
    if order not in ("asc", "desc"):
        raise ValidationError(f"order {order!r} is not accepted: use 'asc' or 'desc'")
    status_text = params.get("status") or None
    try:
        status = parse_status(status_text)
    except ValidationError:
        raise ValidationError(
            f"status {status_text!r} is not accepted: use one of {', '.join(STATUSES)}"
        ) from None
    return RunQuery(
        sort=sort,
        descending=order == "desc",
        status=status,
        limit=_integer(params, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT),
        offset=_integer(params, "offset", 0, 0, 2**31 - 1),
    )


def _choices(names: Sequence[str], kind: str) -> str:
    if not names:
        return f"no {kind} has been logged in this experiment yet"
    return f"use one of {', '.join(names)}"


def parse_chart_query(
    params: Mapping[str, str], *, metrics: Sequence[str], param_names: Sequence[str]
) -> ChartQuery:
    """The chart query of `params`: `metric` (required), `param` or `xmetric`, and `goal`.

    Raises:
        ValidationError: a missing or unknown metric, an unknown param, both x choices, or
            a goal other than min/max.
    """
    metric = params.get("metric") or ""
    if metric not in metrics:
        raise ValidationError(f"metric {metric!r} is not accepted: {_choices(metrics, 'metric')}")
    param = params.get("param") or None
    xmetric = params.get("xmetric") or None
    if param is not None and xmetric is not None:
        raise ValidationError("give param or xmetric, not both: a chart has one x axis")
    if param is not None and param not in param_names:
        raise ValidationError(f"param {param!r} is not accepted: {_choices(param_names, 'param')}")
    if xmetric is not None and xmetric not in metrics:
        raise ValidationError(f"xmetric {xmetric!r} is not accepted: {_choices(metrics, 'metric')}")
    goal = params.get("goal") or None
    if goal not in (None, "min", "max"):
        raise ValidationError(f"goal {goal!r} is not accepted: use 'min' or 'max'")
    max_points = _integer(params, "max_points", ChartQuery.max_points, 1, 1_000_000)
    return ChartQuery(metric, param, xmetric, goal, max_points)


@dataclass(frozen=True)
class HistoryQuery:
    """A range of a run's histories: steps `start` to `end` (inclusive; None: open), of one
    metric or (None) of all."""

    metric: str | None = None
    start: int | None = None
    end: int | None = None
    max_points: int = HISTORY_POINTS


def parse_history_query(params: Mapping[str, str], *, metrics: Sequence[str]) -> HistoryQuery:
    """The history query of `params`: `metric`, `start`, `end` and `max_points`.

    Raises:
        ValidationError: an unknown metric, a step out of range, `start` after `end`, or
            `max_points` outside 4 to `MAX_HISTORY_POINTS`.
    """
    metric = params.get("metric") or None
    if metric is not None and metric not in metrics:
        accepted = f"use one of {', '.join(metrics)}" if metrics else "this run has no metric"
        raise ValidationError(f"metric {metric!r} is not accepted: {accepted}")
    start = _integer(params, "start", -1, 0, MAX_STEP)
    end = _integer(params, "end", -1, 0, MAX_STEP)
    if start >= 0 and end >= 0 and start > end:
        raise ValidationError(f"start {start} is after end {end}: give start <= end")
    max_points = _integer(params, "max_points", HISTORY_POINTS, 4, MAX_HISTORY_POINTS)
    return HistoryQuery(
        metric, start if start >= 0 else None, end if end >= 0 else None, max_points
    )
