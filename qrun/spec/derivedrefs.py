"""What a spec's `derived:` block reads, checked against its jobs: each name a job (and an observable, a rung or a
register and outcome of it) or another derived value."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import DerivedError
from ..jobs.kind import values_of
from ..jobs.registry import kind_of
from ..model.findings import Finding, unknown_ref

if TYPE_CHECKING:
    from ..model.fit import Fit
    from ..model.raw import Yaml
    from ..sources.facts import CircuitFacts


def reading_only(data: dict[str, Yaml], jobs: set[str]) -> dict[str, Yaml]:
    """The derived values that read only these jobs, directly or through the derived values they name (one that
    cannot be read is kept: that is its finding)."""
    block = data.get("derived") or {}
    if not block:
        return {}
    from ..store import derived  # expressions and their functions: only a spec with derived values

    found = derived.block_references(block, {str(j.get("name")) for j in data["jobs"] if isinstance(j, dict)})
    return {
        k: v for k, v in block.items() if isinstance(refs := found[k], DerivedError) or all(r[0] in jobs for r in refs)
    }


def findings(data: dict[str, Yaml], facts: dict[str, CircuitFacts]) -> list[Finding]:
    """Each `derived:` expression reads, and every result it names, itself or through the derived values it names, is
    a job (and observable) of the spec."""
    block = data.get("derived") or {}
    if not block:
        return []
    from ..store import derived  # as in reading_only

    jobs = {j["name"]: j for j in data["jobs"]}
    out: list[Finding] = []
    for name, refs in derived.block_references(block, jobs, own=True).items():
        where = ("derived", name)
        if isinstance(refs, DerivedError):
            out.append((where, str(refs), False))
            continue
        for ref in refs:
            job = jobs.get(ref[0])
            if job is None:  # a bare name is a minimize job's optimum or another derived value
                bare = len(ref) == 1 and len(block) > 1
                others = [*jobs, *(n for n in block if n != name)] if bare else jobs
                out.append((where, unknown_ref("job or derived value" if bare else "job", ref[0], others), False))
            else:
                circuit = facts.get(job["circuit"]) if isinstance(job.get("circuit"), str) else None
                error = kind_of(job["primitive"]).reference_error(tuple(ref), job, circuit)
                out += [(where, error, False)] if error else []
    out += _x_findings(block, jobs, facts)
    return list(dict.fromkeys(out))  # a fit's thousand y values reading one missing result: said once


def _x_findings(
    block: dict[str, Yaml], jobs: dict[str, dict[str, Yaml]], facts: dict[str, CircuitFacts]
) -> list[Finding]:
    """A fit's `x: job.parameter`: the job is the spec's, and sets or sweeps that parameter."""
    from ..store.fits import as_fit  # as in reading_only

    out: list[Finding] = []
    for name, entry in block.items():
        try:
            fit = as_fit(entry)
        except DerivedError:
            continue  # said at its entry
        if fit is None or not fit.x_from:
            continue
        job_name, parameter = fit.x_job
        job = jobs.get(job_name)
        if job is None:
            out.append((("derived", name, "x"), unknown_ref("job", job_name, jobs), False))
            continue
        sweep = job.get("sweep")
        swept = [str(v) for v in sweep.get("values") or {} if v != "observable"] if isinstance(sweep, dict) else None
        circuit = facts.get(job["circuit"]) if isinstance(job.get("circuit"), str) else None
        names = list(circuit.parameter_names) if circuit is not None else None
        error: str | None = None
        if job.get("primitive") not in ("estimator", "sampler"):
            error = f"job '{job_name}' is a {job.get('primitive')} job: x reads an estimator's or a sampler's parameter"
        elif swept is not None and parameter not in swept:
            error = f"job '{job_name}' sweeps no '{parameter}' (it sweeps {', '.join(swept) or 'no number'})"
        elif swept is None and names is not None and parameter not in names:
            error = f"job '{job_name}' has no parameter '{parameter}' (its parameters: {', '.join(names) or 'none'})"
        error = error or _count_error(fit, job)
        out += [(("derived", name, "x"), error, False)] if error else []
    return out


def _count_error(fit: Fit, job: dict[str, Yaml]) -> str | None:
    """Whether the job has as many sets (or points, of its first observable) as a fit takes, and as its y has."""
    from ..model.fit import MAX_POINTS  # only a spec with a fit imports its module

    sweep = job.get("sweep")
    values = sweep.get("values") if isinstance(sweep, dict) else None
    observables = values.get("observable") if isinstance(values, dict) else None
    n, what = values_of(job, str(observables[0]) if isinstance(observables, list) and observables else None)
    if n is None:
        return None  # rows from a file: the run reads them
    said = f"job '{fit.x_job[0]}' has {n:,} {what}{'s' if n != 1 else ''}"
    if n < 2:
        return f"{said}; a fit needs at least 2 points"
    if n < len(fit.start):
        return f"{said}; a fit of {len(fit.start)} parameters ({', '.join(fit.start)}) needs at least {len(fit.start)}"
    if n > MAX_POINTS:
        return f"{said}; a fit takes at most {MAX_POINTS:,} points"
    if not fit.each and n != len(fit.y):
        return f"{said} and y {len(fit.y)} values; they pair one to one"
    return None
