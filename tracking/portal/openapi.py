"""The OpenAPI 3.1 description of the portal's JSON API, served at /api/openapi.json."""

from __future__ import annotations

from typing import Any

from tracking.portal.query import (
    DEFAULT_LIMIT,
    HISTORY_POINTS,
    MAX_HISTORY_POINTS,
    MAX_LIMIT,
    STATUSES,
)
from tracking.portal.schemas import SCHEMAS

_ERROR = {
    "description": "the error",
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {"error": {"type": "string"}},
                "required": ["error"],
            }
        }
    },
}


def _json(schema_name: str, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {
            "application/json": {"schema": {"$ref": f"#/components/schemas/{schema_name}"}}
        },
    }


def _path_param(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
        "description": description,
    }


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


_EXPERIMENT = _path_param("name", "the experiment's name")
_RUN = _path_param("run_id", "the run's id")

_PATHS: dict[str, Any] = {
    "/api/openapi.json": {
        "get": {
            "operationId": "openapi",
            "summary": "This document",
            "responses": {"200": {"description": "the OpenAPI document"}},
        }
    },
    "/api/experiments": {
        "get": {
            "operationId": "listExperiments",
            "summary": "Every experiment, with its run count, last activity and best value",
            "responses": {"200": _json("ExperimentList", "the experiments, by name")},
        }
    },
    "/api/experiments/{name}": {
        "get": {
            "operationId": "getExperiment",
            "summary": "One experiment, its columns and how many runs are running",
            "parameters": [_EXPERIMENT],
            "responses": {"200": _json("ExperimentDetail", "the experiment"), "404": _ERROR},
        }
    },
    "/api/experiments/{name}/runs": {
        "get": {
            "operationId": "searchRuns",
            "summary": "One page of the experiment's runs, sorted and filtered on the server",
            "parameters": [
                _EXPERIMENT,
                _query(
                    "sort",
                    {"type": "string"},
                    "number, start_time, end_time, status, run_id, metrics.<name>, "
                    "params.<name>, or a bare metric or param name (default: number)",
                ),
                _query(
                    "order",
                    {"type": "string", "enum": ["asc", "desc"]},
                    "default: desc without sort, asc with one",
                ),
                _query(
                    "limit",
                    {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": MAX_LIMIT,
                        "default": DEFAULT_LIMIT,
                    },
                    "rows per page",
                ),
                _query("offset", {"type": "integer", "minimum": 0, "default": 0}, "rows to skip"),
                _query("status", {"type": "string", "enum": list(STATUSES)}, "only these runs"),
            ],
            "responses": {
                "200": _json("RunPage", "the page and the number of matching runs"),
                "400": _ERROR,
                "404": _ERROR,
            },
        }
    },
    "/api/experiments/{name}/chart": {
        "get": {
            "operationId": "chartData",
            "summary": "Each run's last value of a metric, against a param or another metric",
            "parameters": [
                _EXPERIMENT,
                {
                    "name": "metric",
                    "in": "query",
                    "required": True,
                    "schema": {"type": "string"},
                    "description": "the metric drawn (y)",
                },
                _query("param", {"type": "string"}, "the param drawn as x"),
                _query("xmetric", {"type": "string"}, "or a metric drawn as x"),
                _query(
                    "goal",
                    {"type": "string", "enum": ["min", "max"]},
                    "which value wins for 'best' (default: the experiment's goal for its "
                    "primary metric, else min)",
                ),
                _query(
                    "max_points",
                    {"type": "integer", "minimum": 1, "maximum": 1000000, "default": 10000},
                    "with more runs than this, only every k-th run (and the best) is returned",
                ),
            ],
            "responses": {"200": _json("Chart", "the chart's data"), "400": _ERROR, "404": _ERROR},
        }
    },
    "/api/runs/{run_id}": {
        "get": {
            "operationId": "getRun",
            "summary": "A run's details, params, metrics, tags and files",
            "parameters": [_RUN],
            "responses": {"200": _json("Run", "the run"), "404": _ERROR},
        }
    },
    "/api/runs/{run_id}/history": {
        "get": {
            "operationId": "getRunHistory",
            "summary": "A run's metrics by step, over a range of steps, sampled beyond max_points",
            "parameters": [
                _RUN,
                _query("metric", {"type": "string"}, "only this metric (default: every one)"),
                _query("start", {"type": "integer", "minimum": 0}, "the first step (default: 0)"),
                _query(
                    "end", {"type": "integer", "minimum": 0}, "the last step (default: the last)"
                ),
                _query(
                    "max_points",
                    {
                        "type": "integer",
                        "minimum": 4,
                        "maximum": MAX_HISTORY_POINTS,
                        "default": HISTORY_POINTS,
                    },
                    "values per metric; with more in the range, they are sampled (and "
                    f"{MAX_HISTORY_POINTS} in all: shared when several metrics are given)",
                ),
            ],
            "responses": {"200": _json("History", "the values"), "400": _ERROR, "404": _ERROR},
        }
    },
    "/api/runs/{run_id}/files/{name}": {
        "get": {
            "operationId": "downloadFile",
            "summary": "A run's file, as an attachment, once its SHA-256 matches the record",
            "description": "Checked before the first byte is sent (409 if it differs) and again "
            "while it is sent: if it changes meanwhile, the connection ends short of "
            "Content-Length. A client that reads nothing for a minute is cut off.",
            "parameters": [
                _RUN,
                _path_param("name", "the file's name; may contain '/' (not percent-encoded)"),
            ],
            "responses": {
                "200": {
                    "description": "the file's bytes",
                    "headers": {
                        "Repr-Digest": {
                            "description": "sha-256 of the file (RFC 9530)",
                            "schema": {"type": "string"},
                        }
                    },
                    "content": {
                        "application/octet-stream": {
                            "schema": {"type": "string", "format": "binary"}
                        }
                    },
                },
                "400": _ERROR,
                "404": _ERROR,
                "409": _ERROR,
                "503": {
                    **_ERROR,
                    "description": "as many downloads as the portal serves at once are in "
                    "progress; try again after Retry-After seconds",
                    "headers": {"Retry-After": {"schema": {"type": "integer"}}},
                },
            },
        }
    },
    "/api/models": {
        "get": {
            "operationId": "listModels",
            "summary": "Every registered model, by name, with its latest version",
            "parameters": [
                _query("name", {"type": "string"}, "only this model, with each of its versions")
            ],
            "responses": {"200": _json("ModelList", "the models"), "400": _ERROR},
        }
    },
}


def openapi_document(version: str) -> dict[str, Any]:
    """The API's description; `version` is the package's."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "raysweep tracking portal",
            "version": version,
            "description": "Read-only: no request changes the records. With an access token, "
            "every request needs 'Authorization: Bearer <token>'.",
        },
        "paths": _PATHS,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{}, {"bearer": []}],
    }
