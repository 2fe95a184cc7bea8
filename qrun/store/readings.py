"""The numbers a stored job holds, one row each: value, standard error, exact value, deviation in σ and unit."""

from __future__ import annotations

from pathlib import Path

from ..jobs.registry import kind_of, known
from ..model.jobfile import JobFile
from ..model.readings import Reading, number
from .records import stored_points


def job_readings(
    run_dir: Path | None, body: JobFile | None, exact: object = None, limit: int | None = None
) -> list[Reading]:
    """The values of one job body (estimator values, sweep points, a minimize optimum); a sampler's counts are not
    values. `exact` is the spec's stated exact value for the job, where it states one; `limit` stops a long
    sweep after that many points (a streamed sweep's file is read only that far)."""
    if not body or body.get("status") not in ("done", "stopped: deadline"):
        return []
    job = str(body.get("job", "?"))
    stated = number(exact)
    if "points" in body or "points_file" in body:
        if "points" in body:
            points = body["points"]
        elif run_dir is not None:
            points = stored_points(run_dir, body)
        else:  # a streamed sweep's points live in its run folder only
            return []
        variables = [v for v in (body.get("sweep") or {}).get("variables", []) if v != "observable"]
        units = body.get("units") or {}
        out = []
        for i, p in enumerate(points[:limit] if limit is not None else points):
            value = number(p.get("value"))
            if value is None:
                continue
            observable = str(p.get("observable", ""))
            at = ", ".join(f"{v}={p.get(v)}" for v in variables)
            exact_p = number(p.get("exact"))
            out.append(
                Reading(
                    job,
                    f"<{observable}>",
                    i,
                    value,
                    number(p.get("stderr")),
                    exact_p if exact_p is not None else stated,
                    units.get(observable) if isinstance(units, dict) else None,
                    at,
                )
            )
        return out
    kind = body.get("primitive")
    return kind_of(kind).readings(job, body, stated, limit) if isinstance(kind, str) and known(kind) else []


def stated_exact(spec: object) -> dict[str, object]:
    """Each job's `exact:` as the stored spec states it (a number, or "statevector")."""
    jobs = spec.get("jobs") if isinstance(spec, dict) else None
    return {str(j.get("name")): j.get("exact") for j in jobs if isinstance(j, dict)} if isinstance(jobs, list) else {}
