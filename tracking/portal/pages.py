"""The HTML pages: experiments, one experiment (runs table, charts, best run), one run,
and the registered models.

Pages are drawn on the server from the same content as the JSON API (`views`); the
experiment page's script then keeps its table, tiles and charts up to date by polling the API.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from tracking.portal import views
from tracking.portal.api import workspace_of
from tracking.portal.encode import experiment_json, jsonable
from tracking.portal.query import STATUSES, RunQuery
from tracking.portal.templating import fmt_param
from tracking.portal.threads import in_page_threads

FIELD_COLUMNS = (
    ("Run", "number"),
    ("Run ID", "run_id"),
    ("Status", "status"),
    ("Started (UTC)", "start_time"),
    ("Duration", None),  # not a stored column: the store cannot sort by it
)

# Properties a sweep gives its runs (named in sweep.driver and sweep.recorder, which the
# portal does not import: the portal runs without Ray).
SWEEP_CELL = "sweep.cell"  # JSON: estimator, data, seed and the cell's params
TRIAL_ID = "ray.trial_id"  # a run made from a Ray Tune trial: its name is the trial's
CELL_PARAMS = 6  # at most this many params name a run in its title; more end in '…'
JSON_LINE = 60  # a JSON value or part that fits in this many characters stays on one line
JSON_DEPTHS = 6  # deeper JSON is indented as this deep (portal.css has a rule per depth)


def _render(request: Request, template: str, context: dict[str, Any]) -> Response:
    templates = request.app.state.templates
    workspace = workspace_of(request)
    base = {"workspace_name": workspace.name}
    response: Response = templates.TemplateResponse(request, template, {**base, **context})
    response.headers["Cache-Control"] = "no-store"
    return response


def experiments_page(request: Request) -> Response:
    summaries = workspace_of(request).records.list_experiments()
    return _render(
        request, "experiments.html", {"experiments": [experiment_json(s) for s in summaries]}
    )


def table_columns(metrics: list[str], params: list[str]) -> list[dict[str, Any]]:
    """The runs table's columns: run fields, then every param, then every metric."""
    return [
        *({"label": label, "sort": sort, "kind": "field"} for label, sort in FIELD_COLUMNS),
        *({"label": p, "sort": f"params.{p}", "kind": "param", "name": p} for p in params),
        *({"label": m, "sort": f"metrics.{m}", "kind": "metric", "name": m} for m in metrics),
    ]


def _sort_link(query: RunQuery, sort: str) -> str:
    descending = not query.descending if sort == query.sort else False
    return "?" + urlencode(
        query.as_params(sort=sort, order="desc" if descending else "asc", offset=0)
    )


def experiment_page(request: Request) -> Response:
    store = workspace_of(request).records
    detail = views.experiment_detail(store, request.path_params["name"])
    experiment = store.get_experiment(detail["name"])
    query = views.run_query(store, experiment.id, request.query_params)
    page = views.runs_page(store, experiment.id, query)
    metrics, params = detail["metrics"], detail["params"]
    metric = views.default_chart_metric(experiment, metrics)
    columns = table_columns(metrics, params)
    for column in columns:
        column["link"] = _sort_link(query, column["sort"]) if column["sort"] else None
    previous = max(0, query.offset - query.limit)
    following = query.offset + query.limit
    context = {
        "experiment": detail,
        "query": query,
        "page": page,
        "columns": columns,
        "statuses": STATUSES,
        "chart_metric": metric,
        "best": views.best_run(store, experiment, metric) if metric else None,
        "goal": views.default_goal(experiment, metric) if metric else "min",
        "previous_link": "?" + urlencode(query.as_params(offset=previous))
        if query.offset > 0
        else None,
        "next_link": "?" + urlencode(query.as_params(offset=following))
        if following < page["total"]
        else None,
        "page_data": jsonable(
            {
                "name": detail["name"],
                "query": query.as_params(),
                "metrics": metrics,
                "params": params,
                "chartMetric": metric,
                "primaryMetric": experiment.primary_metric,
                "primaryGoal": experiment.primary_goal,
                "goal": views.default_goal(experiment, metric) if metric else "min",
                "refreshMs": int(request.app.state.refresh_seconds * 1000),
            }
        ),
    }
    return _render(request, "experiment.html", context)


def run_page(request: Request) -> Response:
    store = workspace_of(request).records
    run = views.run_detail(store, request.path_params["run_id"], request.app.state.history_cache)
    page_data = jsonable({"runId": run["runId"], "history": run["metricHistory"]})
    context = {
        "run": run,
        "heading": run_heading(run),
        "properties": shown_values(run["properties"]),
        "tags": shown_values(run["tags"]),
        "params": shown_params(run["params"]),
        "page_data": page_data,
    }
    return _render(request, "run.html", context)


def run_heading(run: Mapping[str, Any]) -> dict[str, str | None]:
    """What names a run on its page: `Run 3`, what sets it apart (its sweep cell,
    `alpha=0.1`, or a name given to it), and the Ray Tune trial it came from.

    A sweep's runs are named after their Tune trial (`train_cells_09e79_00000`): the same
    for every cell a trial trains, and saying nothing of the cell, so the title shows the
    cell's params and the trial name is shown as a property ("Trial").
    """
    number = f"Run {run['number']}"
    properties = run["properties"]
    name = run["displayName"] if run["displayName"] != number else None
    from_tune = TRIAL_ID in properties or SWEEP_CELL in properties
    cell = cell_label(_cell_params(properties, run["params"])) if from_tune else ""
    trial = name if TRIAL_ID in properties and name != cell else None
    subtitle = cell or (name if not trial else None)
    return {"number": number, "subtitle": subtitle or None, "trial": trial}


def _cell_params(properties: Mapping[str, str], params: Mapping[str, Any]) -> Mapping[str, Any]:
    """The params of a sweep's cell, as its `sweep.cell` property records them; the run's
    params for a trial of someone else's Tuner (its flattened config)."""
    try:
        cell = json.loads(properties.get(SWEEP_CELL, ""))
    except ValueError:
        return params
    found = cell.get("params") if isinstance(cell, dict) else None
    return found if isinstance(found, dict) else params


def cell_label(params: Mapping[str, Any]) -> str:
    """`alpha=0.1, fit_intercept=true`: a cell's params as the params table shows them."""
    parts = [f"{name}={fmt_param(value)}" for name, value in params.items()]
    if len(parts) > CELL_PARAMS:
        parts = [*parts[:CELL_PARAMS], "…"]
    return ", ".join(parts)


def shown_values(values: Mapping[str, str]) -> list[dict[str, Any]]:
    """Properties or tags by name, each with its text laid out to read: other text as it
    is, a JSON object or array formatted (`format_json`) in `lines`, each `(depth, text)`:
    the page indents a line by its depth and a wrapped line's rest one step further."""
    return [{"name": name, **_laid_out(text)} for name, text in sorted(values.items())]


def shown_params(params: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Params by name, as the params table shows them: an object or array formatted."""
    return [
        {"name": name, "lines": json_lines(value)}
        if isinstance(value, (dict, list))
        else {"name": name, "text": fmt_param(value)}
        for name, value in sorted(params.items())
    ]


def _laid_out(text: str) -> dict[str, Any]:
    if not text.lstrip().startswith(("{", "[")):
        return {"text": text}
    try:
        value = json.loads(text)
    except ValueError:
        return {"text": text}
    return {"lines": json_lines(value)}


def json_lines(value: Any) -> list[tuple[int, str]]:
    """`format_json`'s lines, each as (its depth, its text without the indent)."""
    lines = format_json(value).splitlines()
    return [(min(JSON_DEPTHS, (len(t) - len(t.lstrip(" "))) // 2), t.lstrip(" ")) for t in lines]


def format_json(value: Any, indent: str = "") -> str:
    """JSON on one line where it fits in `JSON_LINE` characters, else one member a line,
    each nested part on one line where it fits: `{"alpha": 0.1, "fit_intercept": true}`
    inside a longer object stays whole."""
    flat = json.dumps(value, ensure_ascii=False, default=str)
    if len(indent) + len(flat) <= JSON_LINE or not isinstance(value, (dict, list)) or not value:
        return flat
    inner = indent + "  "
    if isinstance(value, dict):
        members = [
            f"{inner}{json.dumps(str(k), ensure_ascii=False)}: {format_json(v, inner)}"
            for k, v in value.items()
        ]
        opening, closing = "{", "}"
    else:
        members = [f"{inner}{format_json(v, inner)}" for v in value]
        opening, closing = "[", "]"
    return opening + "\n" + ",\n".join(members) + "\n" + indent + closing


def models_page(request: Request) -> Response:
    """Every registered model; with ?name=, that model's versions."""
    name = request.query_params.get("name") or None
    body = views.models(workspace_of(request).records, name)
    return _render(request, "models.html", {"name": name, **body})


def experiments_redirect(request: Request) -> Response:
    return RedirectResponse("/", status_code=307)


ROUTES = [
    Route("/", in_page_threads(experiments_page), methods=["GET"]),
    Route("/experiments", experiments_redirect, methods=["GET"]),
    Route("/experiments/{name}", in_page_threads(experiment_page), methods=["GET"]),
    Route("/runs/{run_id}", in_page_threads(run_page), methods=["GET"]),
    Route("/models", in_page_threads(models_page), methods=["GET"]),
]
