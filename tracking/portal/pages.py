"""The HTML pages: experiments, one experiment (runs table, charts, best run), one run,
and the registered models.

Pages are drawn on the server from the same content as the JSON API (`views`); the
experiment page's script then keeps its table, tiles and charts up to date by polling the API.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from tracking.portal import views
from tracking.portal.api import workspace_of
from tracking.portal.encode import experiment_json, jsonable
from tracking.portal.query import STATUSES, RunQuery

FIELD_COLUMNS = (
    ("Run", "number"),
    ("Run ID", "run_id"),
    ("Status", "status"),
    ("Started (UTC)", "start_time"),
    ("Duration", None),  # not a stored column: the store cannot sort by it
)


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
    return _render(request, "run.html", {"run": run, "page_data": page_data})


def models_page(request: Request) -> Response:
    """Every registered model; with ?name=, that model's versions."""
    name = request.query_params.get("name") or None
    body = views.models(workspace_of(request).records, name)
    return _render(request, "models.html", {"name": name, **body})


def experiments_redirect(request: Request) -> Response:
    return RedirectResponse("/", status_code=307)


ROUTES = [
    Route("/", experiments_page, methods=["GET"]),
    Route("/experiments", experiments_redirect, methods=["GET"]),
    Route("/experiments/{name}", experiment_page, methods=["GET"]),
    Route("/runs/{run_id}", run_page, methods=["GET"]),
    Route("/models", models_page, methods=["GET"]),
]
