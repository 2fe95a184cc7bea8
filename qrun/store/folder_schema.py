"""What a run folder's metadata.json and job files must hold before any reader indexes them: the JSON Schemas.

A run folder is untrusted input (it can be edited, damaged, or written by another qrun). Every key a reader reads
without a check of its own is typed here, so that a wrong value is one line naming it (exit 2), never an internal
error. Numbers may be null: qrun writes a NaN as null (strict JSON), so readers show null as "nan" or "-"."""

from __future__ import annotations

_STR = {"type": "string"}
_OPT_STR = {"type": ["string", "null"]}
_NUM = {"type": ["number", "null"]}
_INT = {"type": "integer"}
_COUNT = {"type": "integer", "minimum": 0, "maximum": 2**53}  # a float as large as 1e308 passes as an integer else
_SESSION = {
    "type": ["object", "null"],
    "properties": {
        "backend": _OPT_STR,
        "mode": _OPT_STR,
        "engine": _OPT_STR,
        "session_id": _OPT_STR,
        "max_time": _NUM,
        "started": _OPT_STR,
        "closed": _OPT_STR,
        "requested": _OPT_STR,
        "deadline": _OPT_STR,
        "jobs": {"type": "array", "items": _COUNT},
    },
}
METADATA_SCHEMA: dict[str, object] = {
    "type": "object",
    "required": ["name", "status", "jobs", "attempts"],
    "properties": {
        "format": _INT,
        "name": _STR,
        "status": _STR,
        "error": _OPT_STR,
        "journal": _COUNT,
        "session": _SESSION,
        "spec": {
            "type": "object",
            "properties": {
                "file": _OPT_STR,
                "sha256": _STR,
                "variables": {"type": "object"},
                "overrides": {"type": "object"},
                "git": {
                    "type": ["object", "null"],
                    "required": ["commit"],
                    "properties": {"commit": _STR, "dirty": {"type": "boolean"}, "path": _OPT_STR},
                },
            },
        },
        "versions": {"type": "object", "additionalProperties": _OPT_STR},
        "attempts": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["status"],
                "properties": {
                    "status": _STR,
                    "started": _OPT_STR,
                    "session": _SESSION,
                    "sessions": {"type": "array", "items": _SESSION},
                    "submissions": {
                        "type": "array",
                        "items": {"type": "object", "properties": {"job": _STR, "id": _STR}},
                    },
                },
            },
        },
        "jobs": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "status", "file", "index"],
                "properties": {
                    "index": _COUNT,
                    "name": _STR,
                    "primitive": _STR,
                    "status": _STR,
                    "file": {"type": "string", "pattern": r"^jobs/[^/\\]+\.(json|batch\.npz)$"},
                    "row": _COUNT,
                    "job_ids": {"type": "array", "items": _STR},
                    "estimate": _NUM,
                    "actual": _NUM,
                    "units": _NUM,
                    "content_hash": _OPT_STR,
                    "error": _OPT_STR,
                    "warnings": {"type": "array", "items": _STR},
                    "usage": {"type": ["array", "null"], "items": {"type": "object"}},
                    "batched": {
                        "type": ["object", "null"],
                        "required": ["id", "pub"],
                        "properties": {"id": _STR, "pub": _COUNT},
                    },
                },
            },
        },
    },
}

_VALUES = {"type": "array", "items": _NUM}
# An estimator-like job's values per observable: one per parameter set, each with its standard error.
_OBSERVABLES = {
    "type": "object",
    "additionalProperties": {
        "type": "object",
        "required": ["values", "stderrs"],
        "properties": {"values": _VALUES, "stderrs": _VALUES, "exact": _VALUES, "unit": _STR},
    },
}
_COUNTS = {"type": "object", "additionalProperties": _COUNT}  # outcome -> shots
# A sweep point: its swept values (numbers, or an observable's name), and its result beside them.
_POINT = {
    "type": "object",
    "properties": {
        "observable": _STR,
        "value": _NUM,
        "stderr": _NUM,
        "exact": _NUM,
        "counts": {"type": "object", "additionalProperties": _COUNTS},
        "ideal": {"type": "object", "additionalProperties": {"type": "object", "additionalProperties": _NUM}},
    },
    "additionalProperties": {"type": ["number", "string", "null"]},
}
POINTS_SCHEMA: dict[str, object] = {"type": "array", "items": _POINT}  # a long sweep's points file, one per line
JOB_SCHEMA: dict[str, object] = {
    "type": "object",
    "required": ["job", "primitive", "status"],
    "properties": {
        "job": _STR,
        "status": _STR,
        "primitive": _STR,
        "shots": {"type": ["integer", "null"]},
        "precision": _NUM,
        "seconds": _NUM,
        "exact": _NUM,  # a minimize job's reference
        "observable": _STR,
        "observables": _OBSERVABLES,
        "counts": {"type": "object", "additionalProperties": {"type": "array", "items": _COUNTS}},
        "ideal": {  # the exact distribution beside the counts: outcome -> probability
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "object", "additionalProperties": _NUM}},
        },
        "trace": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["evaluation", "value"],
                "properties": {"evaluation": _COUNT, "value": _NUM, "stderr": _NUM, "parameters": _VALUES},
            },
        },
        "optimum": {
            "type": ["object", "null"],
            "required": ["value", "stderr"],
            "properties": {"value": _NUM, "stderr": _NUM, "parameters": _VALUES},
        },
        "nfev": {"type": ["integer", "null"]},
        "optimizer": {"type": "object", "properties": {"method": _STR}},
        "rungs": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["rung", "observables"],
                "properties": {
                    "rung": _STR,
                    "engine": _STR,
                    "error": _NUM,
                    "estimated_qpu_seconds": _NUM,
                    "observables": _OBSERVABLES,
                },
            },
        },
        "cheapest": _OPT_STR,
        "target_error": _NUM,
        "sweep": {
            "type": "object",
            "required": ["variables"],
            "properties": {"mode": _STR, "variables": {"type": "array", "items": _STR}},
        },
        "groups": {"type": "array", "items": {"type": "object"}},
        "runtime_jobs": _COUNT,
        "points": {"type": "array", "items": _POINT},
        "point_count": _COUNT,
        "units": {"type": "object", "additionalProperties": _STR},
        "points_file": {"type": "string", "pattern": r"^[^/\\]+\.points\.jsonl$"},
        "lowest": {"type": "object", "additionalProperties": _POINT},
        "primitive_result": {"type": "object"},
    },
}
