"""The OpenAPI 3.1 description of the portal's JSON API, served at /api/openapi.json."""

from __future__ import annotations

from typing import Any

from tracking.portal.query import DEFAULT_LIMIT, MAX_LIMIT, STATUSES

_NUMBER = {
    "description": "a number; NaN and infinities as the strings 'NaN', 'Infinity', '-Infinity'",
    "oneOf": [{"type": "number"}, {"type": "string", "enum": ["NaN", "Infinity", "-Infinity"]}],
}
_TIME = {"type": ["string", "null"], "format": "date-time"}
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

_SCHEMAS: dict[str, Any] = {
    "Experiment": {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "runCount": {"type": "integer"},
            "createdUtc": _TIME,
            "lastActivityUtc": _TIME,
            "primaryMetric": {"type": ["string", "null"]},
            "primaryGoal": {"type": "string", "enum": ["min", "max"]},
            "bestValue": {"oneOf": [_NUMBER, {"type": "null"}]},
        },
        "required": ["name", "runCount", "lastActivityUtc", "bestValue"],
    },
    "ExperimentList": {
        "type": "object",
        "properties": {
            "experiments": {"type": "array", "items": {"$ref": "#/components/schemas/Experiment"}}
        },
        "required": ["experiments"],
    },
    "ExperimentDetail": {
        "allOf": [
            {"$ref": "#/components/schemas/Experiment"},
            {
                "type": "object",
                "properties": {
                    "runningCount": {"type": "integer"},
                    "metrics": {"type": "array", "items": {"type": "string"}},
                    "params": {"type": "array", "items": {"type": "string"}},
                },
            },
        ]
    },
    "RunRow": {
        "type": "object",
        "properties": {
            "runId": {"type": "string"},
            "number": {"type": "integer"},
            "displayName": {"type": ["string", "null"]},
            "status": {"type": "string", "enum": list(STATUSES)},
            "startTimeUtc": _TIME,
            "endTimeUtc": _TIME,
            "durationSeconds": {"type": "number"},
            "params": {"type": "object", "additionalProperties": True},
            "metrics": {"type": "object", "additionalProperties": _NUMBER},
        },
        "required": ["runId", "number", "status", "metrics", "params"],
    },
    "RunPage": {
        "type": "object",
        "properties": {
            "total": {"type": "integer", "description": "runs that match, on all pages"},
            "runs": {"type": "array", "items": {"$ref": "#/components/schemas/RunRow"}},
        },
        "required": ["total", "runs"],
    },
    "Chart": {
        "type": "object",
        "description": "one entry per run that logged the metric, by run number, in columns",
        "properties": {
            "metric": {"type": "string"},
            "param": {"type": ["string", "null"]},
            "xmetric": {"type": ["string", "null"]},
            "goal": {"type": "string", "enum": ["min", "max"]},
            "every": {
                "type": "integer",
                "description": "1, or k when only every k-th run (and the best) is drawn",
            },
            "runs": {"type": "integer", "description": "runs in the experiment"},
            "number": {"type": "array", "items": {"type": "integer"}},
            "x": {"type": "array", "items": {"type": ["number", "null"]}},
            "y": {"type": "array", "items": _NUMBER},
            "best": {
                "type": ["object", "null"],
                "properties": {
                    "runId": {"type": "string"},
                    "number": {"type": "integer"},
                    "value": {"type": "number"},
                },
            },
        },
        "required": ["metric", "number", "x", "y", "best"],
    },
    "Run": {
        "type": "object",
        "properties": {
            "runId": {"type": "string"},
            "number": {"type": "integer"},
            "displayName": {"type": "string"},
            "experimentName": {"type": "string"},
            "status": {"type": "string", "enum": list(STATUSES)},
            "startTimeUtc": _TIME,
            "endTimeUtc": _TIME,
            "durationSeconds": {"type": "number"},
            "error": {"type": ["string", "null"]},
            "properties": {"type": "object", "additionalProperties": {"type": "string"}},
            "tags": {"type": "object", "additionalProperties": {"type": "string"}},
            "params": {"type": "object", "additionalProperties": True},
            "metrics": {
                "type": "object",
                "additionalProperties": {
                    "type": "object",
                    "properties": {
                        "last": _NUMBER,
                        "min": {"type": ["number", "null"]},
                        "max": {"type": ["number", "null"]},
                        "count": {"type": "integer"},
                    },
                },
            },
            "metricHistory": {
                "type": "object",
                "description": "[step, value] pairs of each metric logged more than once",
                "additionalProperties": {"type": "array", "items": {"type": "array"}},
            },
            "files": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string"},
                        "size": {"type": "integer"},
                        "sha256": {"type": "string"},
                        "createdUtc": _TIME,
                        "url": {"type": "string"},
                    },
                },
            },
        },
        "required": ["runId", "number", "status", "metrics", "params", "files"],
    },
}

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
    "/api/runs/{run_id}/files/{name}": {
        "get": {
            "operationId": "downloadFile",
            "summary": "A run's file, as an attachment, once its SHA-256 matches the record",
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
            },
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
            "schemas": _SCHEMAS,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{}, {"bearer": []}],
    }
