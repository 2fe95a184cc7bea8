"""What a spec's `derived:` block reads, checked against its jobs: each name a job (and an observable, a rung or a
register and outcome of it) or another derived value."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import DerivedError
from ..jobs.registry import kind_of
from ..model.findings import Finding, unknown_ref

if TYPE_CHECKING:
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
    return list(dict.fromkeys(out))  # a fit's thousand y values reading one missing result: said once
