"""A finished job's file: its header, its kind's payload, and the runtime's own encoding of its result."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..jobs.registry import kind_of
from ..model.jobfile import JobFile, Point
from ..model.outcomes import MinimizeOutcome, SweepOutcome
from . import records

if TYPE_CHECKING:
    from ..model.plan import JobPlan


def job_file(
    job: JobPlan,
    result: Any,
    actual: float,
    points: list[Point] | None,
    backend: str,
    job_ids: list[str],
) -> tuple[JobFile, dict[str, str]]:
    """A finished job's JSON body, and its runtime encoding as JSON text (the file's last key)."""
    if job.points is not None:
        body = records.sweep_payload(job, result, points)
    else:
        body = kind_of(job.primitive).payload(job, result)
    payload: JobFile = {**header(job, backend, job_ids), **body, "seconds": round(actual, 3)}
    if isinstance(result, SweepOutcome) and not result.results:  # a long sweep: its points file holds it
        return payload, {}
    whole = result.result if isinstance(result, (MinimizeOutcome, SweepOutcome)) else result
    return payload, {"primitive_result": records.runtime_json_text(whole)}


def header(job: JobPlan, backend: str, job_ids: list[str]) -> JobFile:
    """What every job file starts with: which job, circuit, backend and runtime jobs, and its parameter values."""
    return {
        "job": job.name,
        "index": job.index,
        "primitive": job.primitive,
        "circuit": job.circuit_name,
        "backend": backend,
        "job_ids": job_ids,
        "parameters": job.parameter_names,
        **(
            {"parameter_values": job.parameter_values.tolist() if job.parameter_values is not None else [[]]}
            if job.initial_point is None  # a minimize job's values are its optimizer's: its trace holds them
            else {}
        ),
        **({"parameter_values_from": job.parameter_source} if job.parameter_source else {}),
    }
