"""The JSON API under /api: experiments, runs, charts, histories, file downloads and
registered models. Read-only.

Endpoints are plain functions run in the app's page threads (`tracking.portal.threads`),
as the stores block; a file download runs in Starlette's own pool. Errors are raised as
`tracking` errors and answered by the app's handlers.
"""

from __future__ import annotations

import json
from importlib.metadata import PackageNotFoundError, version

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tracking.portal import views
from tracking.portal.charts import chart_json
from tracking.portal.downloads import file_response
from tracking.portal.encode import PortalJSONResponse, experiment_json
from tracking.portal.history import metric_history
from tracking.portal.openapi import openapi_document
from tracking.portal.threads import in_page_threads
from tracking.workspace import Workspace


def workspace_of(request: Request) -> Workspace:
    workspace: Workspace = request.app.state.workspace
    return workspace


def list_experiments(request: Request) -> Response:
    summaries = workspace_of(request).records.list_experiments()
    return PortalJSONResponse({"experiments": [experiment_json(s) for s in summaries]})


def get_experiment(request: Request) -> Response:
    store = workspace_of(request).records
    return PortalJSONResponse(views.experiment_detail(store, request.path_params["name"]))


def search_runs(request: Request) -> Response:
    store = workspace_of(request).records
    experiment = store.get_experiment(request.path_params["name"])
    query = views.run_query(store, experiment.id, request.query_params)
    return PortalJSONResponse(views.runs_page(store, experiment.id, query))


def chart(request: Request) -> Response:
    body = chart_json(
        workspace_of(request).records,
        request.path_params["name"],
        request.query_params,
        request.app.state.chart_cache,
    )
    return Response(body, media_type="application/json", headers={"Cache-Control": "no-store"})


def get_run(request: Request) -> Response:
    store = workspace_of(request).records
    cache = request.app.state.history_cache
    return PortalJSONResponse(views.run_detail(store, request.path_params["run_id"], cache))


def run_history(request: Request) -> Response:
    store = workspace_of(request).records
    cache = request.app.state.history_cache
    body = metric_history(store, request.path_params["run_id"], request.query_params, cache)
    # Its values are JSON-safe already: up to 100,000 points need no second walk.
    encoded = json.dumps(body, allow_nan=False, separators=(",", ":")).encode()
    return Response(encoded, media_type="application/json", headers={"Cache-Control": "no-store"})


def download_file(request: Request) -> Response:
    workspace = workspace_of(request)
    return file_response(
        workspace.records,
        workspace.artifacts,
        request.path_params["run_id"],
        request.path_params["name"],
        request.app.state.download_slots,
    )


def list_models(request: Request) -> Response:
    store = workspace_of(request).records
    return PortalJSONResponse(views.models(store, request.query_params.get("name")))


def openapi(request: Request) -> Response:
    try:
        release = version("raysweep")
    except PackageNotFoundError:
        release = "0"
    return PortalJSONResponse(openapi_document(release))


ROUTES = [
    Route("/api/openapi.json", in_page_threads(openapi), methods=["GET"]),
    Route("/api/experiments", in_page_threads(list_experiments), methods=["GET"]),
    Route("/api/experiments/{name}", in_page_threads(get_experiment), methods=["GET"]),
    Route("/api/experiments/{name}/runs", in_page_threads(search_runs), methods=["GET"]),
    Route("/api/experiments/{name}/chart", in_page_threads(chart), methods=["GET"]),
    Route("/api/runs/{run_id}", in_page_threads(get_run), methods=["GET"]),
    Route("/api/runs/{run_id}/history", in_page_threads(run_history), methods=["GET"]),
    Route("/api/runs/{run_id}/files/{name:path}", download_file, methods=["GET"]),
    Route("/api/models", in_page_threads(list_models), methods=["GET"]),
]
