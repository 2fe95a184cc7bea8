"""A finished job's file: its header, its kind's payload, and the runtime's own encoding of its result."""

from __future__ import annotations

from typing import TYPE_CHECKING

import orjson

from ..errors import RunFolderError
from ..jobs.estimator import Estimator
from ..jobs.registry import kind_of
from ..jobs.sampler import Sampler
from ..model.jobfile import JobFile, Point
from ..model.outcomes import MinimizeOutcome, StackedResults, SweepOutcome
from . import fsio, records

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from qiskit.primitives import PrimitiveResult

    from ..model.outcomes import JobResult
    from ..model.plan import JobPlan
    from .fsio import Raw


def job_file(
    job: JobPlan,
    result: JobResult,
    actual: float,
    points: Sequence[bytes] | None,
    backend: str,
    job_ids: list[str],
) -> tuple[JobFile, Raw]:
    """A finished job's JSON body, and the parts of it already JSON (write_json's `raw`): a short sweep's points,
    its chunks' fsio.json_items, where they alone put the file past READABLE_BYTES (written on one line, as orjson
    writes them: each chunk's text is a Fragment of the list; a smaller file is indented, so they are values there),
    and the runtime encoding of the result (the file's last key)."""
    values: list[Point] | None = None
    encoded: dict[str, orjson.Fragment | list[orjson.Fragment]] = {}
    if points is not None:
        parts = [part for part in points if part]  # a chunk of no points has no text
        if sum(map(len, parts)) + len(parts) + 1 > fsio.READABLE_BYTES:  # the list's text, commas and brackets
            values, encoded["points"] = [], [orjson.Fragment(part) for part in parts]
        else:
            values = orjson.loads(b"[" + b",".join(parts) + b"]")
    payload = job_body(job, result, actual, values, backend, job_ids)
    if isinstance(result, SweepOutcome) and not result.results:  # a long sweep: its points file holds it
        return payload, encoded
    whole = result.result if isinstance(result, (MinimizeOutcome, SweepOutcome)) else result
    return payload, {**encoded, "primitive_result": orjson.Fragment(records.runtime_json_text(whole))}


def batch_bodies(
    jobs: list[JobPlan], results: Sequence[PrimitiveResult], actual: float, backend: str, job_ids: list[list[str]]
) -> list[JobFile]:
    """Each of a batch's jobs' JSON bodies. A stacked batch (model.outcomes.StackedResults) gives each job its values
    or counts from its rows, with no PrimitiveResult made per job; another batch of samplers, its counts counted
    for every job at once (jobs.sampler.Sampler.payloads)."""
    kind = kind_of(jobs[0].primitive)
    payloads: list[JobFile] | None = None
    if isinstance(results, StackedResults) and isinstance(kind, Estimator):
        payloads = kind.values_payloads(jobs, results.fields["evs"], results.fields["stds"])
    elif isinstance(results, StackedResults) and isinstance(kind, Sampler):
        payloads = kind.stacked_payloads(jobs, results)
    elif isinstance(kind, Sampler) and len(jobs) > 1:  # None where the jobs' registers do not stack
        payloads = kind.payloads(jobs, results)
    if payloads is None:
        return [job_body(j, r, actual, None, backend, ids) for j, r, ids in zip(jobs, results, job_ids, strict=True)]
    seconds = round(actual, 3)
    return [  # job_body's keys, in its order
        {**header(job, backend, ids), **payload, "seconds": seconds}
        for job, payload, ids in zip(jobs, payloads, job_ids, strict=True)
    ]


def job_body(
    job: JobPlan, result: JobResult, actual: float, points: list[Point] | None, backend: str, job_ids: list[str]
) -> JobFile:
    """A finished job's JSON body: its header, its kind's payload, and its seconds."""
    if isinstance(result, SweepOutcome):
        body = records.sweep_payload(job, result, points)
    else:
        body = kind_of(job.primitive).payload(job, result)
    return {**header(job, backend, job_ids), **body, "seconds": round(actual, 3)}


def header(job: JobPlan, backend: str, job_ids: list[str]) -> JobFile:
    """What every job file starts with: which job, circuit, backend and runtime jobs, and its parameter values."""
    out: JobFile = {
        "job": job.name,
        "index": job.index,
        "primitive": job.primitive,
        "circuit": job.circuit_name,
        "backend": backend,
        "job_ids": job_ids,
        "parameters": job.parameter_names,
    }
    if job.physical_qubits is not None:
        out["physical_qubits"] = list(job.physical_qubits)
    if job.initial_point is None:  # a minimize job's values are its optimizer's: its trace holds them
        out["parameter_values"] = job.parameter_values.tolist() if job.parameter_values is not None else [[]]
    if job.parameter_source:
        out["parameter_values_from"] = job.parameter_source
    return out


def stored_optimum(path: Path, job: JobPlan, body: JobFile) -> list[float] | None:
    """A finished job's optimum, which a later job may start `from:` on resume; it must fit the job's circuit."""
    optimum = (body.get("optimum") or {}).get("parameters")
    if optimum is None:
        return None
    values = [float(x) for x in optimum if isinstance(x, int | float)]
    if len(optimum) != len(job.parameter_names) or len(values) != len(optimum):
        raise RunFolderError(
            f"{path}: optimum.parameters: {len(optimum)} values, not the {len(job.parameter_names)} numbers of "
            f"circuit '{job.circuit_name}'; the run folder is damaged"
        )
    return values
