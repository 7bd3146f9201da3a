"""The OpenAPI schemas of the portal's JSON answers (see `tracking.portal.openapi`)."""

from __future__ import annotations

from typing import Any

from tracking.portal.query import HISTORY_POINTS, STATUSES

NUMBER = {
    "description": "a number; NaN and infinities as the strings 'NaN', 'Infinity', '-Infinity'",
    "oneOf": [{"type": "number"}, {"type": "string", "enum": ["NaN", "Infinity", "-Infinity"]}],
}
TIME = {"type": ["string", "null"], "format": "date-time"}

SCHEMAS: dict[str, Any] = {
    "Experiment": {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "runCount": {"type": "integer"},
            "createdUtc": TIME,
            "lastActivityUtc": TIME,
            "primaryMetric": {"type": ["string", "null"]},
            "primaryGoal": {"type": "string", "enum": ["min", "max"]},
            "bestValue": {"oneOf": [NUMBER, {"type": "null"}]},
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
                    "queuedCount": {"type": "integer"},
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
            "runType": {
                "type": "string",
                "description": "azureml.scriptrun, or hyperdrive for a sweep's parent run",
            },
            "startTimeUtc": TIME,
            "endTimeUtc": TIME,
            "durationSeconds": {"type": ["number", "null"]},
            "params": {"type": "object", "additionalProperties": True},
            "metrics": {"type": "object", "additionalProperties": NUMBER},
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
            "y": {"type": "array", "items": NUMBER},
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
    "History": {
        "type": "object",
        "description": "a run's metrics over a range of steps",
        "properties": {
            "runId": {"type": "string"},
            "start": {"type": ["integer", "null"]},
            "end": {"type": ["integer", "null"]},
            "metrics": {
                "type": "object",
                "additionalProperties": {
                    "type": "object",
                    "properties": {
                        "count": {"type": "integer", "description": "values in the run"},
                        "inRange": {"type": "integer", "description": "values in the range"},
                        "sampled": {
                            "type": "boolean",
                            "description": "true if the range has more values than given: "
                            "the first, the last, and each stretch's least and greatest are",
                        },
                        "points": {
                            "type": "array",
                            "description": "[step, value] pairs, by step",
                            "items": {
                                "type": "array",
                                "prefixItems": [{"type": "integer"}, NUMBER],
                            },
                        },
                    },
                    "required": ["count", "inRange", "sampled", "points"],
                },
            },
        },
        "required": ["runId", "start", "end", "metrics"],
    },
    "Run": {
        "type": "object",
        "properties": {
            "runId": {"type": "string"},
            "number": {"type": "integer"},
            "displayName": {"type": "string"},
            "experimentName": {"type": "string"},
            "status": {"type": "string", "enum": list(STATUSES)},
            "startTimeUtc": TIME,
            "endTimeUtc": TIME,
            "durationSeconds": {"type": ["number", "null"]},
            "error": {"type": ["string", "null"]},
            "properties": {"type": "object", "additionalProperties": {"type": "string"}},
            "tags": {"type": "object", "additionalProperties": {"type": "string"}},
            "params": {"type": "object", "additionalProperties": True},
            "metrics": {
                "type": "object",
                "additionalProperties": {
                    "type": "object",
                    "properties": {
                        "last": NUMBER,
                        "min": {"type": ["number", "null"]},
                        "max": {"type": ["number", "null"]},
                        "count": {"type": "integer"},
                    },
                },
            },
            "metricHistory": {
                "type": "object",
                "description": "[step, value] pairs of each metric logged more than once, at "
                f"most {HISTORY_POINTS} per metric (see metricHistorySampled)",
                "additionalProperties": {"type": "array", "items": {"type": "array"}},
            },
            "metricHistorySampled": {
                "type": "array",
                "items": {"type": "string"},
                "description": "the metrics with more values than their history carries: "
                "sampled evenly, keeping the first, the last, and each stretch's least and "
                "greatest value; /api/runs/{run_id}/history gives ranges of them in full",
            },
            "values": {
                "type": "object",
                "description": "what the run logged that is not a number, by name: text "
                "and booleans (a list when logged more than once), rows, tables, and images "
                "(the name of the run's PNG file)",
                "additionalProperties": {},
            },
            "files": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string"},
                        "size": {"type": "integer"},
                        "sha256": {"type": "string"},
                        "createdUtc": TIME,
                        "url": {"type": "string"},
                    },
                },
            },
        },
        "required": ["runId", "number", "status", "metrics", "params", "files"],
    },
    "ModelSummary": {
        "type": "object",
        "description": "a registered model: its latest version, and how many it has",
        "properties": {
            "name": {"type": "string"},
            "latestVersion": {"type": "integer"},
            "versionCount": {"type": "integer"},
            "runId": {"type": ["string", "null"], "description": "the latest version's run"},
            "description": {"type": ["string", "null"]},
            "createdUtc": TIME,
        },
        "required": ["name", "latestVersion", "versionCount", "runId", "createdUtc"],
    },
    "ModelVersion": {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "version": {"type": "integer"},
            "runId": {"type": ["string", "null"], "description": "null: uploaded, not a run's"},
            "path": {"type": "string", "description": "what was registered: a file or folder"},
            "description": {"type": ["string", "null"]},
            "createdUtc": TIME,
            "tags": {"type": "object", "additionalProperties": {"type": "string"}},
            "properties": {"type": "object", "additionalProperties": {"type": "string"}},
            "files": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "path": {"type": "string"},
                        "size": {"type": "integer"},
                        "sha256": {"type": "string"},
                    },
                },
            },
        },
        "required": ["name", "version", "runId", "createdUtc", "tags", "properties", "files"],
    },
    "ModelList": {
        "type": "object",
        "properties": {
            "models": {"type": "array", "items": {"$ref": "#/components/schemas/ModelSummary"}},
            "versions": {
                "type": "array",
                "items": {"$ref": "#/components/schemas/ModelVersion"},
                "description": "with name=: each version of that model, newest first",
            },
        },
        "required": ["models"],
    },
}
