"""The numbers a stored job holds, one row each: value, standard error, exact value, deviation in σ and unit."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .records import stored_points


@dataclass(frozen=True)
class Reading:
    """One value of a finished job. `key` names it within its job: an observable, the optimum, a sweep point."""

    job: str
    key: str
    index: int  # the parameter set or sweep point (0 for an optimum)
    value: float
    stderr: float | None
    exact: float | None
    unit: str | None = None
    at: str = ""  # a sweep point's variables, "theta=0.1, observable=zz"

    @property
    def deviation(self) -> float | None:
        """(value - exact) / stderr: how many standard errors the value lies from the exact one."""
        if self.exact is None or self.stderr is None or not self.stderr > 0:
            return None
        return (self.value - self.exact) / self.stderr


def _number(value: Any) -> float | None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    return float(value) if ok else None


def job_readings(
    run_dir: Path, body: dict[str, Any] | None, exact: Any = None, limit: int | None = None
) -> list[Reading]:
    """The values of one job body (estimator values, sweep points, a minimize optimum); a sampler's counts are not
    values. `exact` is the spec's stated exact value for the job, where it states one; `limit` stops a long
    sweep after that many points (a streamed sweep's file is read only that far)."""
    if not body or body.get("status") not in ("done", "stopped: deadline"):
        return []
    job = str(body.get("job", "?"))
    stated = _number(exact)
    if "points" in body or "points_file" in body:
        points = body["points"] if "points" in body else stored_points(run_dir, body)
        variables = [v for v in (body.get("sweep") or {}).get("variables", []) if v != "observable"]
        units = body.get("units") or {}
        out = []
        for i, p in enumerate(points[:limit] if limit is not None else points):
            value = _number(p.get("value"))
            if value is None:
                continue
            observable = str(p.get("observable", ""))
            at = ", ".join(f"{v}={p.get(v)}" for v in variables)
            exact_p = _number(p.get("exact"))
            out.append(
                Reading(
                    job,
                    f"<{observable}>",
                    i,
                    value,
                    _number(p.get("stderr")),
                    exact_p if exact_p is not None else stated,
                    units.get(observable) if isinstance(units, dict) else None,
                    at,
                )
            )
        return out
    if body.get("primitive") == "minimize" and isinstance(body.get("optimum"), dict):
        opt = body["optimum"]
        value = _number(opt.get("value"))
        exact_m = _number(body.get("exact"))
        if value is None:
            return []
        return [
            Reading(
                job,
                f"min <{body.get('observable')}>",
                0,
                value,
                _number(opt.get("stderr")),
                exact_m if exact_m is not None else stated,
                body.get("unit"),
            )
        ]
    out = []
    for observable, v in (body.get("observables") or {}).items():
        refs = v.get("exact") or []
        for i, (x, s) in enumerate(zip(v.get("values", []), v.get("stderrs", []))):
            value = _number(x)
            if value is None:
                continue
            ref = _number(refs[i]) if i < len(refs) else None
            out.append(
                Reading(job, f"<{observable}>", i, value, _number(s), ref if ref is not None else stated, v.get("unit"))
            )
            if limit is not None and len(out) >= limit:
                return out
    return out


def stated_exact(spec: Any) -> dict[str, Any]:
    """Each job's `exact:` as the stored spec states it (a number, or "statevector")."""
    jobs = spec.get("jobs") if isinstance(spec, dict) else None
    return {str(j.get("name")): j.get("exact") for j in jobs if isinstance(j, dict)} if isinstance(jobs, list) else {}
