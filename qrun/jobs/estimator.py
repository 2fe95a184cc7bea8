"""The estimator job: expectation values of observables, with standard errors, per parameter set."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from ..model.jobfile import Headline, JobFile, ObservableValues
from ..model.outcomes import primitive_result
from ..model.readings import Reading, number
from ..sources import exact
from .kind import (
    NO_MEASURE,
    Facts,
    Finding,
    JobContext,
    Pair,
    Planning,
    Submitter,
    against,
    control_flow_findings,
    nth,
    observable_ref_error,
    shots_or_precision,
    shown,
)

if TYPE_CHECKING:
    from types import ModuleType

    import numpy as np
    from matplotlib.figure import Figure

    from ..backends.kind import OpenSession
    from ..model.experiment import Job
    from ..model.outcomes import JobResult
    from ..model.plan import JobPlan, Planned


class Estimator:
    """primitive: estimator."""

    name = "estimator"
    runs = "estimator"
    swept: tuple[str, ...] = ("precision", "observable")
    optimizes = False
    hints = {"shots": "; an estimator takes precision", "measure_all": "; an estimator needs no measurements"}

    def findings(self, job: Mapping[str, object], at: JobContext) -> list[Finding]:
        """Observables listed or swept, one way only."""
        out = shots_or_precision(job, at)
        sweep = job.get("sweep")
        swept = sweep.get("values", {}) if isinstance(sweep, dict) else {}
        if not job.get("observables") and "observable" not in swept:
            out.append((at.here, "missing required key 'observables' (or a sweep over observable)", False))
        if job.get("observables") and "observable" in swept:
            where = at.here + ("sweep", "values", "observable")
            out.append((where, "sweeps observable and also lists observables; keep one", True))
        return out + control_flow_findings(at, self.runs, at.options)

    def reference_error(self, ref: tuple[str, ...], job: Mapping[str, object], circuit: Facts | None) -> str | None:
        if len(ref) == 1:
            return f"job '{ref[0]}' is an estimator: name its observable ({ref[0]}.OBSERVABLE)"
        return observable_ref_error(ref, job)

    def session_reason(self, job: Job) -> str | None:
        return None

    def evaluations(self, job: Job, num_parameters: int) -> int:
        return 1

    def planned(self, job: Job, num_parameters: int, planning: Planning) -> Planned:
        return {"precision": job.target_precision()}

    def variant(self, job: Job) -> str:
        return NO_MEASURE

    def run(self, submitter: Submitter, job: JobPlan, session: OpenSession) -> JobResult:
        from ..running.engines import estimator_pub  # numpy and qiskit: only a run needs them

        return submitter.submit(
            job,
            lambda: submitter.engines.estimator(job, session, submitter.next_seed(job)),
            estimator_pub(job),
            precision=job.precision,
        )

    def payload(self, job: JobPlan, result: JobResult) -> JobFile:
        """Values and standard errors per observable (rows) and parameter set (columns)."""
        data = primitive_result(result)[0].data
        return self.values_payload(job, data.evs, data.stds)

    def values_payload(self, job: JobPlan, values: np.ndarray, stderrs: np.ndarray) -> JobFile:
        """payload(), from the job's values and standard errors as they are: its PUB's, or its row of a stacked batch
        (model.outcomes.StackedResults), which makes no PrimitiveResult for the job."""
        import numpy as np

        evs = np.asarray(values, dtype=float).reshape(len(job.observables), -1)  # (observables, parameter sets)
        stds = np.asarray(stderrs, dtype=float).reshape(len(job.observables), -1)
        return self._lists_payload(job, evs.tolist(), stds.tolist())

    def values_payloads(self, jobs: Sequence[JobPlan], values: np.ndarray, stderrs: np.ndarray) -> list[JobFile]:
        """values_payload() of each of a stacked batch's jobs, whose row k of `values` and `stderrs` is job k's: the
        batch's arrays become lists in one call each, not two calls per job."""
        import numpy as np

        counts = {len(job.observables) for job in jobs}
        if len(counts) != 1:  # jobs of other observable counts: each its own
            return [self.values_payload(job, values[k], stderrs[k]) for k, job in enumerate(jobs)]
        shape = (len(jobs), counts.pop(), -1)  # (jobs, observables, parameter sets)
        evs = np.asarray(values, dtype=float).reshape(shape).tolist()
        stds = np.asarray(stderrs, dtype=float).reshape(shape).tolist()
        return [self._lists_payload(job, evs[k], stds[k]) for k, job in enumerate(jobs)]

    def _lists_payload(self, job: JobPlan, evs: list[list[float]], stds: list[list[float]]) -> JobFile:
        observables: dict[str, ObservableValues] = {
            name: {"values": evs[i], "stderrs": stds[i]} for i, (name, _) in enumerate(job.observables)
        }
        if job.reference_circuit is not None:
            rows: np.ndarray | list[list[float]] = job.parameter_values if job.parameter_values is not None else [[]]
            for name, entry in observables.items():
                op = job.reference_observables[name]
                how = str(job.job.exact)  # statevector or stabilizer
                entry["exact"] = [
                    exact.expectation(job.reference_circuit, op, job.parameter_names, r, how) for r in rows
                ]
        stated = job.job.exact
        if isinstance(stated, (int, float)) and len(observables) == 1:  # a stated value belongs to the one observable
            (entry,) = observables.values()
            entry.setdefault("exact", [float(stated)] * len(entry["values"]))
        for name, unit in job.observable_units.items():
            observables[name]["unit"] = unit
        return {"status": "done", "precision": job.precision, "observables": observables}

    def text(self, body: JobFile) -> str:
        parts = []
        for obs, v in body["observables"].items():
            refs = v.get("exact") or [None] * len(v["values"])
            unit = f" {v['unit']}" if v.get("unit") else ""
            pairs = ", ".join(
                f"{shown(x)} ± {shown(s, '.2g')}{unit}{against(x, s, nth(refs, i))}"
                for i, x in enumerate(v["values"][:3])
                for s in [nth(v["stderrs"], i)]
            )
            more = f" ... ({len(v['values'])} sets)" if len(v["values"]) > 3 else ""
            parts.append(f"<{obs}> = {pairs}{more}")
        return "; ".join(parts)

    def readings(self, job: str, body: JobFile, stated: float | None, limit: int | None) -> list[Reading]:
        return observable_readings(job, body.get("observables") or {}, stated, limit)

    def headline(self, name: str, body: JobFile) -> dict[str, Headline]:
        return observable_headline(name, body["observables"])

    def paired(self, name: str, a: JobFile, b: JobFile) -> list[Pair]:
        if "observables" not in a or "observables" not in b:
            return []
        return observable_pairs(name, a["observables"], b["observables"])

    def rows(self, body: JobFile) -> list[list[object]]:
        return observable_rows(body.get("job"), self.name, body.get("observables") or {})

    def figure(self, plt: ModuleType, body: JobFile, exact: float | None) -> Figure | None:
        return None  # one value per observable: `qrun show` says it; a swept estimator job has its curve


# What an estimator's values are read as, in every view; the ladder reads each rung's the same way.
Observables = Mapping[str, ObservableValues]


def observable_readings(job: str, observables: Observables, stated: float | None, limit: int | None) -> list[Reading]:
    out = []
    for observable, v in observables.items():
        refs = v.get("exact") or []
        for i, (x, s) in enumerate(zip(v.get("values", []), v.get("stderrs", []))):
            value = number(x)
            if value is None:
                continue
            ref = number(refs[i]) if i < len(refs) else None
            unit = v.get("unit")
            out.append(Reading(job, f"<{observable}>", i, value, number(s), ref if ref is not None else stated, unit))
            if limit is not None and len(out) >= limit:
                return out
    return out


def observable_headline(name: str, observables: Observables) -> dict[str, Headline]:
    """Each observable's value at the first parameter set; `sets` says how many there are, where more than one."""
    out: dict[str, Headline] = {}
    for obs, v in observables.items():
        if v["values"]:
            out[f"{name}.{obs}"] = {
                "value": v["values"][0],
                "stderr": nth(v["stderrs"], 0),
                "exact": nth(v.get("exact"), 0),
            }
            if len(v["values"]) > 1:
                out[f"{name}.{obs}"]["sets"] = len(v["values"])
    return out


def observable_pairs(name: str, a: Observables, b: Observables) -> list[Pair]:
    out: list[Pair] = []
    for obs, va in a.items():
        vb = b.get(obs)
        if vb is None:
            continue
        for k, (x, s, y, t) in enumerate(zip(va["values"], va["stderrs"], vb["values"], vb["stderrs"])):
            suffix = f"[{k}]" if len(va["values"]) > 1 else ""
            out.append((f"{name}.{obs}{suffix}", (x, s), (y, t)))
    return out


def observable_rows(job: str | None, kind: str, observables: Observables) -> list[list[object]]:
    return [
        [job, kind, obs, i, x, s, nth(v.get("exact"), i) if v.get("exact") else ""]
        for obs, v in observables.items()
        for i, (x, s) in enumerate(zip(v["values"], v["stderrs"]))
    ]
